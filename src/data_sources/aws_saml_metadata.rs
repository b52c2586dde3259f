//! `idbridge_aws_saml_metadata`: reads the service provider metadata file of IAM Identity Center (the one the
//! console offers under "Change identity source > External identity provider > Download metadata file") into
//! the values the Entra ID SAML configuration needs. Pure parsing: no credentials, no network.
//!
//! The attribute set is shared with the `parse_aws_saml_metadata` provider function, so both always agree.

use async_trait::async_trait;

use crate::framework::{
    Attribute, AttributePath, Context, DataSource, Diagnostic, Diagnostics, Schema, Value,
};
use crate::helpers::saml_metadata::{
    metadata_attributes, metadata_error_text, metadata_warnings, outputs,
};
use crate::saml::{self, AwsSpMetadata};

pub const TYPE_NAME: &str = "idbridge_aws_saml_metadata";

const XML: &str = "xml";

pub struct AwsSamlMetadataDataSource;

impl AwsSamlMetadataDataSource {
    fn parse(config: &Value) -> Result<Option<AwsSpMetadata>, Diagnostic> {
        let Some(xml) = config.get(XML).as_str() else {
            return Ok(None);
        };
        saml::parse_aws_sp_metadata(xml).map(Some).map_err(|error| {
            Diagnostic::error("Invalid AWS SAML metadata", metadata_error_text(&error))
                .at(AttributePath::new(XML))
        })
    }
}

#[async_trait]
impl DataSource for AwsSamlMetadataDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let mut schema = Schema::new()
            .description(
                "Parses the SAML service provider metadata of an AWS IAM Identity Center instance into the \
                 values the Entra ID side of the SAML trust needs. Works offline: no credentials are used.",
            )
            .attribute(Attribute::string(XML).required().description(
                "The metadata XML, typically `file(\"aws-sso-metadata.xml\")`. It must describe exactly one \
                 entity with an `SPSSODescriptor` and https Assertion Consumer Service URLs.",
            ));
        for (name, ty, description) in outputs() {
            schema = schema.attribute(Attribute::new(name, ty).computed().description(description));
        }
        schema
    }

    /// Parses at plan time when the XML is already known, so a wrong file fails `terraform validate`/`plan`
    /// before anything is applied.
    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        match Self::parse(config) {
            Err(diagnostic) => diags.push(diagnostic),
            Ok(Some(metadata)) => {
                for warning in metadata_warnings(&metadata) {
                    diags.warning_at(
                        AttributePath::new(XML),
                        "Not IAM Identity Center metadata",
                        warning,
                    );
                }
            }
            Ok(None) => {}
        }
        diags
    }

    /// Terraform validates the final configuration right before reading, so warnings were already shown;
    /// only errors are repeated here as a safeguard.
    async fn read(&self, _ctx: &Context, config: Value) -> Result<Value, Diagnostics> {
        let metadata = Self::parse(&config)?.ok_or_else(|| {
            Diagnostic::error(
                "Missing SAML metadata",
                "The `xml` argument is null; pass the metadata file, e.g. `file(\"aws-sso-metadata.xml\")`.",
            )
            .at(AttributePath::new(XML))
        })?;
        let mut state = config;
        for (name, value) in metadata_attributes(&metadata) {
            state.set_attr(name, value);
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Severity;
    use crate::framework::Type;

    const CLASSIC: &str = include_str!("../saml/testdata/aws_sp_metadata_classic.xml");

    fn config(xml: impl Into<Value>) -> Value {
        let mut config = Value::object([(XML, xml.into())]);
        for (name, _, _) in outputs() {
            config.set_attr(name, Value::Null);
        }
        config
    }

    fn ctx() -> Context {
        Context::for_tests(TYPE_NAME, None)
    }

    #[test]
    fn schema_is_consistent_and_outputs_are_computed() {
        let schema = AwsSamlMetadataDataSource.schema();
        assert!(schema.check(TYPE_NAME).is_empty());
        let xml = schema
            .block
            .attributes
            .iter()
            .find(|a| a.name == XML)
            .unwrap();
        assert!(xml.required);
        assert!(
            schema
                .block
                .attributes
                .iter()
                .filter(|a| a.name != XML)
                .all(|a| a.computed && !a.optional && !a.required)
        );
        let expected = Type::object(
            outputs()
                .into_iter()
                .map(|(name, ty, _)| (name, ty))
                .chain([(XML, Type::String)]),
        );
        assert_eq!(schema.value_type(), expected);
    }

    #[tokio::test]
    async fn read_fills_every_output_from_the_file() {
        let state = AwsSamlMetadataDataSource
            .read(&ctx(), config(CLASSIC))
            .await
            .unwrap();
        assert_eq!(
            state.get_str("entity_id"),
            Some("https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067a1b2c3")
        );
        assert_eq!(
            state.get_str("acs_url"),
            Some(
                "https://us-east-1.signin.aws.amazon.com/platform/saml/acs/3f1c2a9e-5b7d-4e8a-9c61-0d2e4f6a8b10"
            )
        );
        assert_eq!(
            state.get_str("acs_binding"),
            Some(saml::bindings::HTTP_POST)
        );
        assert_eq!(
            state.get_str("nameid_format"),
            Some(saml::nameid_formats::EMAIL_ADDRESS)
        );
        assert_eq!(state.get("want_assertions_signed").as_bool(), Some(true));
        assert!(state.get("sign_on_url").is_null());
        let acs = state.get("acs_urls").elements().unwrap();
        assert_eq!(acs.len(), 1);
        assert_eq!(acs[0].get("index").as_i64(), Some(0));
        assert_eq!(acs[0].get("is_default").as_bool(), Some(true));
        assert_eq!(state.get_str(XML), Some(CLASSIC));
    }

    #[tokio::test]
    async fn bad_files_fail_validation_at_the_xml_attribute() {
        for (file, expected) in [
            (
                include_str!("../saml/testdata/bad_not_xml.xml"),
                "not well-formed XML",
            ),
            (
                include_str!("../saml/testdata/bad_missing_sp_descriptor.xml"),
                "no <SPSSODescriptor>",
            ),
            (
                include_str!("../saml/testdata/bad_http_acs.xml"),
                "only https:// is accepted",
            ),
            (
                include_str!("../saml/testdata/bad_several_entities.xml"),
                "describes 2 entities",
            ),
        ] {
            let diags = AwsSamlMetadataDataSource
                .validate_config(&ctx(), &config(file))
                .await;
            let [diag] = diags.iter().collect::<Vec<_>>()[..] else {
                panic!("one diagnostic expected, got {diags:?}");
            };
            assert_eq!(diag.severity, Severity::Error);
            assert_eq!(diag.path, Some(AttributePath::new(XML)));
            assert!(
                diag.detail.contains(expected),
                "{expected}: {}",
                diag.detail
            );
            assert!(diag.detail.contains("Download") || diag.detail.contains("download"));
            let read = AwsSamlMetadataDataSource.read(&ctx(), config(file)).await;
            assert!(read.unwrap_err().has_errors());
        }
    }

    #[tokio::test]
    async fn unknown_xml_is_left_for_later_and_good_xml_passes_quietly() {
        let diags = AwsSamlMetadataDataSource
            .validate_config(&ctx(), &config(Value::unknown()))
            .await;
        assert!(diags.is_empty());
        let diags = AwsSamlMetadataDataSource
            .validate_config(&ctx(), &config(CLASSIC))
            .await;
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[tokio::test]
    async fn single_account_iam_metadata_warns() {
        let iam = CLASSIC
            .replace(
                "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067a1b2c3",
                "https://signin.aws.amazon.com/saml",
            )
            .replace(
                "https://us-east-1.signin.aws.amazon.com/platform/saml/acs/3f1c2a9e-5b7d-4e8a-9c61-0d2e4f6a8b10",
                "https://signin.aws.amazon.com/saml",
            );
        let diags = AwsSamlMetadataDataSource
            .validate_config(&ctx(), &config(iam.as_str()))
            .await;
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags.iter().all(|d| d.severity == Severity::Warning
            && d.path == Some(AttributePath::new(XML))
            && d.detail.contains("single-account IAM")));
    }
}
