//! See src/lib.rs for the layer overview.
