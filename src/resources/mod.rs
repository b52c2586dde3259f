//! See src/lib.rs for the layer overview.

pub mod entra_application;
pub mod saml_trust;
