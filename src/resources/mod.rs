//! See src/lib.rs for the layer overview.

pub mod access_control_attributes;
pub mod conditional_access_policy;
pub mod entra_application;
pub mod group_assignment;
pub mod permission_set;
pub mod saml_trust;
pub mod scim_provisioning;
pub mod user_assignment;
