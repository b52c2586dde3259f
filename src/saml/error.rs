use super::certificate::CertificateError;
use super::urls::UrlError;

/// Why a metadata document was rejected. The messages are shown to users as-is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("the SAML metadata is empty")]
    Empty,
    #[error("the SAML metadata is not well-formed XML (line {line}, column {column}): {message}")]
    NotXml {
        line: u32,
        column: u32,
        message: String,
    },
    #[error(
        "the document is not SAML metadata: its root element is <{found}>, expected <EntityDescriptor> in namespace \
         urn:oasis:names:tc:SAML:2.0:metadata"
    )]
    NoEntityDescriptor { found: String },
    #[error(
        "the SAML metadata describes {} entities ({}); use the metadata file of exactly one entity",
        entity_ids.len(),
        entity_ids.join(", ")
    )]
    SeveralEntityDescriptors { entity_ids: Vec<String> },
    #[error("the SAML metadata has an <EntityDescriptor> without an entityID attribute")]
    MissingEntityId,
    #[error("the entityID {entity_id:?} is not valid: {reason}")]
    InvalidEntityId { entity_id: String, reason: UrlError },
    #[error(
        "the SAML metadata of {entity_id:?} has no <SPSSODescriptor>, so it is not service provider metadata{}",
        if *has_idp_descriptor { " (it describes an identity provider: use the metadata file that IAM Identity Center offers, not the Entra ID one)" } else { "" }
    )]
    MissingSpSsoDescriptor {
        entity_id: String,
        has_idp_descriptor: bool,
    },
    #[error(
        "the SAML metadata of {entity_id:?} has no <IDPSSODescriptor>, so it is not identity provider metadata"
    )]
    MissingIdpSsoDescriptor { entity_id: String },
    #[error("the SAML metadata of {entity_id:?} declares no <AssertionConsumerService> (ACS URL)")]
    MissingAcs { entity_id: String },
    #[error("an <{element}> in the SAML metadata has no Location attribute")]
    MissingLocation { element: String },
    #[error("the ACS URL {url:?} is not valid: {reason}")]
    InvalidAcsUrl { url: String, reason: UrlError },
    #[error("the identity provider metadata of {entity_id:?} declares no <SingleSignOnService>")]
    MissingSingleSignOnService { entity_id: String },
    #[error("the {element} URL {url:?} is not valid: {reason}")]
    InvalidEndpointUrl {
        element: String,
        url: String,
        reason: UrlError,
    },
    #[error("attribute {attribute}={value:?} is not a boolean (expected true, false, 1 or 0)")]
    InvalidBoolean { attribute: String, value: String },
    #[error(
        "attribute index={value:?} of an <AssertionConsumerService> is not an unsigned integer"
    )]
    InvalidIndex { value: String },
    #[error("a {usage} certificate in the SAML metadata is not valid: {reason}")]
    InvalidCertificate {
        usage: String,
        reason: CertificateError,
    },
}
