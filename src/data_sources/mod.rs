//! Data sources of the idbridge provider, one module each. See src/lib.rs for the layer overview.

pub mod aws_saml_metadata;
pub mod identity_store_group;
pub mod sign_in_preview;
pub mod sso_instance;
