//! Provider-defined functions (`provider::idbridge::<name>(...)`), one module each. See src/lib.rs for the
//! layer overview.

pub mod parse_aws_saml_metadata;
