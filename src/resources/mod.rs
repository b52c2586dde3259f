//! See src/lib.rs for the layer overview.

pub mod scim_provisioning;
