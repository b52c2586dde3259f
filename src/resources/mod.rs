//! See src/lib.rs for the layer overview.

pub mod entra_application;
