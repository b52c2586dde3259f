//! SAML metadata parsing and the certificate and URL checks around it. Pure functions: no I/O, no Terraform types.
//!
//! - [`parse_aws_sp_metadata`]: the service provider metadata file IAM Identity Center offers for download.
//! - [`parse_idp_federation_metadata`]: Microsoft Entra ID's federation metadata (the identity provider side).
//! - [`certificate`]: PEM/DER conversions, SHA-1 thumbprints as Entra displays them, validity dates.
//! - [`urls`]: entity ID / ACS URL validation and the single-account IAM endpoint check.
//!
//! Errors are written for people: they become Terraform diagnostics, so each says what is wrong and names the
//! offending value.

pub mod certificate;
mod error;
mod idp_metadata;
mod sp_metadata;
pub mod urls;
mod xml;

pub use certificate::{CertificateError, CertificateInfo};
pub use error::MetadataError;
pub use idp_metadata::{IdpFederationMetadata, SamlEndpoint, parse_idp_federation_metadata};
pub use sp_metadata::{AcsEndpoint, AwsSpMetadata, parse_aws_sp_metadata};
pub use urls::{
    UrlError, looks_like_single_account_iam_endpoint, validate_acs_url, validate_entity_id,
};

/// SAML 2.0 binding URIs that appear in the metadata we handle.
pub mod bindings {
    pub const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
    pub const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
}

/// NameID format URIs.
pub mod nameid_formats {
    pub const EMAIL_ADDRESS: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    pub const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
}
