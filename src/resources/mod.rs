//! See src/lib.rs for the layer overview.

pub mod permission_set;
pub mod scim_provisioning;
