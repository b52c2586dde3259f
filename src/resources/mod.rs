//! See src/lib.rs for the layer overview.

pub mod group_assignment;
