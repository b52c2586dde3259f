//! `provider::idbridge::parse_aws_saml_metadata(xml)`: the `idbridge_aws_saml_metadata` data source as a
//! function, for use in locals and module inputs. Same attributes, same checks, same error texts.

use async_trait::async_trait;

use crate::framework::{Function, FunctionDefinition, FunctionError, Parameter, Type, Value};
use crate::helpers::saml_metadata::{
    metadata_attributes, metadata_error_text, metadata_object_type,
};
use crate::saml;

pub const NAME: &str = "parse_aws_saml_metadata";

pub struct ParseAwsSamlMetadata;

#[async_trait]
impl Function for ParseAwsSamlMetadata {
    fn definition(&self) -> FunctionDefinition {
        FunctionDefinition::new(NAME, metadata_object_type())
            .summary("Parse AWS IAM Identity Center SAML service provider metadata")
            .description(
                "Parses the SAML metadata file of an AWS IAM Identity Center instance and returns an object \
                 with `entity_id`, `acs_url`, `acs_binding`, `acs_urls`, `nameid_format`, \
                 `want_assertions_signed` and `sign_on_url`, exactly as the `idbridge_aws_saml_metadata` data \
                 source does. Fails when the document is not well-formed XML, has no `SPSSODescriptor`, \
                 describes several entities or declares a non-https ACS URL.",
            )
            .parameter(Parameter::new("xml", Type::String).description(
                "The metadata XML, typically `file(\"aws-sso-metadata.xml\")`.",
            ))
    }

    async fn run(&self, arguments: Vec<Value>) -> Result<Value, FunctionError> {
        let xml = arguments
            .first()
            .and_then(Value::as_str)
            .ok_or_else(|| FunctionError::argument(0, "The metadata XML must be a string."))?;
        let metadata = saml::parse_aws_sp_metadata(xml).map_err(|error| {
            // Terraform appends its own full stop to function errors.
            let text = metadata_error_text(&error);
            FunctionError::argument(0, text.trim_end_matches('.'))
        })?;
        Ok(Value::object(metadata_attributes(&metadata)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_the_data_source_attributes() {
        let xml = include_str!("../saml/testdata/aws_sp_metadata_sso_signin.xml");
        let result = ParseAwsSamlMetadata
            .run(vec![Value::from(xml)])
            .await
            .unwrap();
        let expected = saml::parse_aws_sp_metadata(xml).unwrap();
        assert_eq!(
            result.get_str("entity_id"),
            Some(expected.entity_id.as_str())
        );
        assert_eq!(result.get_str("acs_url"), Some(expected.acs_url.as_str()));
        assert_eq!(
            result.get("acs_urls").elements().map(<[Value]>::len),
            Some(expected.acs_urls.len())
        );
        assert_eq!(
            result.get("want_assertions_signed").as_bool(),
            Some(expected.want_assertions_signed)
        );
        let Type::Object(object) = metadata_object_type() else {
            panic!("the function returns an object");
        };
        let returned: Vec<&String> = result.as_map().unwrap().keys().collect();
        let declared: Vec<&String> = object.attributes.keys().collect();
        assert_eq!(returned, declared);
    }

    #[tokio::test]
    async fn bad_metadata_blames_argument_zero() {
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
            let error = ParseAwsSamlMetadata
                .run(vec![Value::from(file)])
                .await
                .unwrap_err();
            assert_eq!(error.argument, Some(0));
            assert!(error.text.contains(expected), "{expected}: {}", error.text);
        }
    }

    #[test]
    fn definition_takes_one_string() {
        let definition = ParseAwsSamlMetadata.definition();
        assert_eq!(definition.name, NAME);
        assert_eq!(definition.parameters.len(), 1);
        assert_eq!(definition.parameters[0].ty, Type::String);
        assert!(!definition.parameters[0].allow_null);
        assert!(definition.variadic.is_none());
    }
}
