//! See emulators/src/lib.rs.
