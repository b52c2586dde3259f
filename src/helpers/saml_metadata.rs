//! The SAML metadata outputs shared by the `idbridge_aws_saml_metadata` data source and the
//! `parse_aws_saml_metadata` function, so both always agree: the attribute set, its values and the error texts.

use crate::framework::{Type, Value};
use crate::saml::{self, AwsSpMetadata, MetadataError};

/// Where users find the file; repeated in every parse error because the usual mistake is the wrong file.
pub(crate) const WHERE_TO_GET_IT: &str = "Use the service provider metadata file of IAM Identity Center: in the AWS console \
     open IAM Identity Center > Settings > Identity source > Actions > Change identity source > External \
     identity provider, and download the \"IAM Identity Center SAML metadata\" file.";

/// Output attributes: name, type, description.
pub(crate) fn outputs() -> Vec<(&'static str, Type, &'static str)> {
    vec![
        (
            "entity_id",
            Type::String,
            "The service provider entity ID (Entra ID's \"Identifier\"), e.g. \
             `https://eu-west-1.signin.aws.amazon.com/platform/saml/d-1234567890`.",
        ),
        (
            "acs_url",
            Type::String,
            "The Assertion Consumer Service URL Entra ID posts assertions to (Entra ID's \"Reply URL\"): the \
             default endpoint of the file.",
        ),
        (
            "acs_binding",
            Type::String,
            "The SAML binding of `acs_url`, normally `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST`.",
        ),
        (
            "acs_urls",
            Type::list(acs_endpoint_type()),
            "Every Assertion Consumer Service endpoint of the file, in document order, each with `url`, \
             `binding`, `index` (null when not declared) and `is_default`.",
        ),
        (
            "nameid_format",
            Type::String,
            "The NameID format the service provider prefers (the first declared), normally \
             `urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress`; null when the file declares none.",
        ),
        (
            "want_assertions_signed",
            Type::Bool,
            "Whether the service provider requires signed assertions (`WantAssertionsSigned`).",
        ),
        (
            "sign_on_url",
            Type::String,
            "The SP-initiated sign-on URL when the file declares one (request-initiation extension); IAM \
             Identity Center files normally have none, so this is usually null. Use your AWS access portal URL \
             as Entra ID's \"Sign on URL\" instead.",
        ),
    ]
}

fn acs_endpoint_type() -> Type {
    Type::object([
        ("url", Type::String),
        ("binding", Type::String),
        ("index", Type::Number),
        ("is_default", Type::Bool),
    ])
}

/// The object type `parse_aws_saml_metadata` returns.
pub(crate) fn metadata_object_type() -> Type {
    Type::object(outputs().into_iter().map(|(name, ty, _)| (name, ty)))
}

/// The output attributes of parsed metadata, by name.
pub(crate) fn metadata_attributes(metadata: &AwsSpMetadata) -> Vec<(&'static str, Value)> {
    let acs_urls = metadata.acs_urls.iter().map(|endpoint| {
        Value::object([
            ("url", Value::from(endpoint.url.as_str())),
            ("binding", Value::from(endpoint.binding.as_str())),
            ("index", Value::from(endpoint.index)),
            ("is_default", Value::from(endpoint.is_default)),
        ])
    });
    vec![
        ("entity_id", metadata.entity_id.as_str().into()),
        ("acs_url", metadata.acs_url.as_str().into()),
        ("acs_binding", metadata.acs_binding.as_str().into()),
        ("acs_urls", Value::list(acs_urls)),
        ("nameid_format", metadata.nameid_format.clone().into()),
        (
            "want_assertions_signed",
            metadata.want_assertions_signed.into(),
        ),
        ("sign_on_url", metadata.sign_on_url.clone().into()),
    ]
}

/// The text of a parse failure as users read it: what is wrong, then where the right file comes from.
pub(crate) fn metadata_error_text(error: &MetadataError) -> String {
    let text = error.to_string();
    let mut chars = text.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{first}{}. {WHERE_TO_GET_IT}", chars.as_str())
}

/// Warnings for metadata that parses but points at the wrong AWS service.
pub(crate) fn metadata_warnings(metadata: &AwsSpMetadata) -> Vec<String> {
    let mut warnings = Vec::new();
    for (what, value) in [
        ("entity ID", &metadata.entity_id),
        ("ACS URL", &metadata.acs_url),
    ] {
        if saml::looks_like_single_account_iam_endpoint(value) {
            warnings.push(format!(
                "The {what} {value:?} is the single-account IAM SAML endpoint, not IAM Identity Center. Sign-in \
                 through IAM Identity Center needs the instance's own metadata file, whose URLs look like \
                 https://<region>.signin.aws.amazon.com/platform/saml/... {WHERE_TO_GET_IT}"
            ));
        }
    }
    warnings
}
