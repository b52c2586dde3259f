//! The service provider metadata that IAM Identity Center offers for download ("Download metadata file" in the
//! identity source settings). The file carries the entity ID, the ACS URL(s), the NameID format and the signing
//! flags; it does not carry the AWS access portal URL, which the console shows separately, so `sign_on_url` is
//! only set when the file declares an SP-initiated login URL through the SAML request-initiation extension.

use roxmltree::Node;

use super::certificate::CertificateInfo;
use super::xml::{
    endpoint, entity_id, key_descriptor_certificates, md_children, optional_bool, parse_document,
    single_entity_descriptor,
};
use super::{MetadataError, urls};

const REQUEST_INIT_NS: &str = "urn:oasis:names:tc:SAML:profiles:SSO:request-init";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcsEndpoint {
    pub url: String,
    pub binding: String,
    pub index: Option<u32>,
    pub is_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSpMetadata {
    pub entity_id: String,
    /// The ACS the IdP should post to: the `isDefault="true"` endpoint, else the first one not marked
    /// `isDefault="false"`, else the first (SAML metadata spec, section 2.2.3).
    pub acs_url: String,
    pub acs_binding: String,
    /// Every ACS endpoint in document order.
    pub acs_urls: Vec<AcsEndpoint>,
    /// The first NameIDFormat, the one the SP prefers; `None` when the file declares none.
    pub nameid_format: Option<String>,
    pub nameid_formats: Vec<String>,
    /// `WantAssertionsSigned`; absent means false.
    pub want_assertions_signed: bool,
    /// `AuthnRequestsSigned`; absent means false.
    pub authn_requests_signed: bool,
    pub signing_certificates: Vec<CertificateInfo>,
    pub encryption_certificates: Vec<CertificateInfo>,
    /// SP-initiated sign-on URL (request-initiation extension); AWS's file normally has none.
    pub sign_on_url: Option<String>,
}

/// Parses and validates IAM Identity Center SP metadata. Every URL is kept exactly as written.
pub fn parse_aws_sp_metadata(xml: &str) -> Result<AwsSpMetadata, MetadataError> {
    let document = parse_document(xml)?;
    let entity = single_entity_descriptor(&document)?;
    let entity_id = entity_id(&entity)?;
    urls::validate_entity_id(&entity_id).map_err(|reason| MetadataError::InvalidEntityId {
        entity_id: entity_id.clone(),
        reason,
    })?;

    let Some(sp) = md_children(entity, "SPSSODescriptor").next() else {
        let has_idp_descriptor = md_children(entity, "IDPSSODescriptor").next().is_some();
        return Err(MetadataError::MissingSpSsoDescriptor {
            entity_id,
            has_idp_descriptor,
        });
    };

    let endpoints = acs_endpoints(&sp)?;
    let primary = primary_acs(&endpoints).ok_or_else(|| MetadataError::MissingAcs {
        entity_id: entity_id.clone(),
    })?;
    let (acs_url, acs_binding) = (primary.url.clone(), primary.binding.clone());
    let acs_urls = endpoints
        .into_iter()
        .map(|(endpoint, _)| endpoint)
        .collect();

    let nameid_formats: Vec<String> = md_children(sp, "NameIDFormat")
        .filter_map(|node| node.text())
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty())
        .collect();

    Ok(AwsSpMetadata {
        entity_id,
        acs_url,
        acs_binding,
        acs_urls,
        nameid_format: nameid_formats.first().cloned(),
        nameid_formats,
        want_assertions_signed: optional_bool(&sp, "WantAssertionsSigned")?.unwrap_or(false),
        authn_requests_signed: optional_bool(&sp, "AuthnRequestsSigned")?.unwrap_or(false),
        signing_certificates: key_descriptor_certificates(&sp, "signing")?,
        encryption_certificates: key_descriptor_certificates(&sp, "encryption")?,
        sign_on_url: request_initiator(&sp)?,
    })
}

/// ACS endpoints in document order, each with its declared `isDefault` (absent, true or false).
fn acs_endpoints(sp: &Node<'_, '_>) -> Result<Vec<(AcsEndpoint, Option<bool>)>, MetadataError> {
    md_children(*sp, "AssertionConsumerService")
        .map(|node| {
            let (binding, url) = endpoint(&node)?;
            urls::validate_acs_url(&url).map_err(|reason| MetadataError::InvalidAcsUrl {
                url: url.clone(),
                reason,
            })?;
            let index =
                match node.attribute("index") {
                    None => None,
                    Some(value) => Some(value.trim().parse::<u32>().map_err(|_| {
                        MetadataError::InvalidIndex {
                            value: value.into(),
                        }
                    })?),
                };
            let declared_default = optional_bool(&node, "isDefault")?;
            Ok((
                AcsEndpoint {
                    url,
                    binding,
                    index,
                    is_default: declared_default == Some(true),
                },
                declared_default,
            ))
        })
        .collect()
}

fn primary_acs(endpoints: &[(AcsEndpoint, Option<bool>)]) -> Option<&AcsEndpoint> {
    endpoints
        .iter()
        .find(|(_, declared)| *declared == Some(true))
        .or_else(|| endpoints.iter().find(|(_, declared)| declared.is_none()))
        .or_else(|| endpoints.first())
        .map(|(endpoint, _)| endpoint)
}

fn request_initiator(sp: &Node<'_, '_>) -> Result<Option<String>, MetadataError> {
    let Some(extensions) = md_children(*sp, "Extensions").next() else {
        return Ok(None);
    };
    let initiator = extensions.children().find(|node| {
        node.is_element()
            && node.tag_name().name() == "RequestInitiator"
            && node.tag_name().namespace() == Some(REQUEST_INIT_NS)
    });
    let Some(initiator) = initiator else {
        return Ok(None);
    };
    let (_, location) = endpoint(&initiator)?;
    urls::validate_acs_url(&location).map_err(|reason| MetadataError::InvalidEndpointUrl {
        element: "RequestInitiator".into(),
        url: location.clone(),
        reason,
    })?;
    Ok(Some(location))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::bindings::{HTTP_POST, HTTP_REDIRECT};
    use crate::saml::nameid_formats::{EMAIL_ADDRESS, PERSISTENT};
    use crate::saml::urls::UrlError;

    fn parse_testdata(name: &str) -> Result<AwsSpMetadata, MetadataError> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/saml/testdata")
            .join(name);
        parse_aws_sp_metadata(&std::fs::read_to_string(&path).unwrap())
    }

    #[test]
    fn parses_classic_signin_aws_amazon_com_metadata() {
        let metadata = parse_testdata("aws_sp_metadata_classic.xml").unwrap();
        assert_eq!(
            metadata.entity_id,
            "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067a1b2c3"
        );
        assert_eq!(
            metadata.acs_url,
            "https://us-east-1.signin.aws.amazon.com/platform/saml/acs/3f1c2a9e-5b7d-4e8a-9c61-0d2e4f6a8b10"
        );
        assert_eq!(metadata.acs_binding, HTTP_POST);
        assert_eq!(
            metadata.acs_urls,
            [AcsEndpoint {
                url: metadata.acs_url.clone(),
                binding: HTTP_POST.into(),
                index: Some(0),
                is_default: true
            }]
        );
        assert_eq!(metadata.nameid_format.as_deref(), Some(EMAIL_ADDRESS));
        assert!(metadata.want_assertions_signed);
        assert!(!metadata.authn_requests_signed);
        assert_eq!(metadata.signing_certificates.len(), 1);
        // openssl x509 -fingerprint -sha1 of the certificate embedded in the file.
        assert_eq!(
            metadata.signing_certificates[0].thumbprint_sha1,
            "18158451AE0410FB913867EA1EBC2EDCC779DBBB"
        );
        assert!(metadata.encryption_certificates.is_empty());
        assert_eq!(metadata.sign_on_url, None);
    }

    #[test]
    fn parses_newer_sso_signin_aws_metadata_and_picks_the_default_acs() {
        let metadata = parse_testdata("aws_sp_metadata_sso_signin.xml").unwrap();
        assert_eq!(
            metadata.entity_id,
            "https://eu-central-1.sso.signin.aws/platform/saml/d-99671f0e42"
        );
        assert_eq!(
            metadata.acs_url,
            "https://eu-central-1.sso.signin.aws/platform/saml/acs/6a7d3c1e-2f4b-4a9d-8e0f-b1c2d3e4f5a6"
        );
        assert_eq!(metadata.acs_binding, HTTP_POST);
        assert_eq!(metadata.acs_urls.len(), 2);
        assert_eq!(metadata.acs_urls[0].binding, HTTP_REDIRECT);
        assert!(!metadata.acs_urls[0].is_default);
        assert_eq!(metadata.nameid_formats, [EMAIL_ADDRESS, PERSISTENT]);
        assert!(
            metadata.want_assertions_signed,
            "WantAssertionsSigned=\"1\" is an XML Schema true"
        );
        assert!(metadata.signing_certificates.is_empty());
        assert_eq!(
            metadata.sign_on_url.as_deref(),
            Some("https://d-99671f0e42.awsapps.com/start")
        );
    }

    #[test]
    fn primary_acs_falls_back_to_first_not_marked_false() {
        let xml = include_str!("testdata/aws_sp_metadata_sso_signin.xml")
            .replace("isDefault=\"true\"", "isDefault=\"false\"");
        let metadata = parse_aws_sp_metadata(&xml).unwrap();
        assert_eq!(metadata.acs_binding, HTTP_REDIRECT);
        assert!(
            metadata
                .acs_urls
                .iter()
                .all(|endpoint| !endpoint.is_default)
        );
    }

    #[test]
    fn byte_order_mark_is_accepted() {
        let xml = format!(
            "\u{feff}{}",
            include_str!("testdata/aws_sp_metadata_classic.xml")
        );
        assert!(parse_aws_sp_metadata(&xml).is_ok());
    }

    #[test]
    fn malformed_xml_reports_line_and_column() {
        let error = parse_testdata("bad_not_xml.xml").unwrap_err();
        let MetadataError::NotXml { line, column, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(
            (*line, *column),
            (4, 3),
            "the mismatched </md:EntityDescriptor> closing tag"
        );
        assert!(error.to_string().contains("line 4, column 3"), "{error}");
    }

    #[test]
    fn empty_input_is_rejected() {
        assert_eq!(parse_aws_sp_metadata("  \n"), Err(MetadataError::Empty));
    }

    #[test]
    fn non_metadata_document_names_its_root_element() {
        let error = parse_testdata("bad_not_metadata.xml").unwrap_err();
        assert_eq!(
            error,
            MetadataError::NoEntityDescriptor {
                found: "html".into()
            }
        );
        let namespaced =
            parse_aws_sp_metadata(r#"<EntityDescriptor xmlns="urn:other"/>"#).unwrap_err();
        assert!(namespaced.to_string().contains("urn:other"), "{namespaced}");
    }

    #[test]
    fn several_entities_are_rejected_with_their_ids() {
        let error = parse_testdata("bad_several_entities.xml").unwrap_err();
        assert_eq!(
            error,
            MetadataError::SeveralEntityDescriptors {
                entity_ids: vec![
                    "https://us-west-2.signin.aws.amazon.com/platform/saml/d-9267aaaaaa".into(),
                    "https://us-west-2.signin.aws.amazon.com/platform/saml/d-9267bbbbbb".into(),
                ]
            }
        );
        assert!(error.to_string().contains("describes 2 entities"));
    }

    #[test]
    fn entities_descriptor_with_one_entity_is_accepted() {
        let single = include_str!("testdata/aws_sp_metadata_classic.xml")
            .replace(r#"<?xml version="1.0" encoding="UTF-8"?>"#, "");
        let wrapped = format!(
            r#"<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">{single}</EntitiesDescriptor>"#
        );
        assert!(parse_aws_sp_metadata(&wrapped).is_ok());
    }

    #[test]
    fn idp_metadata_in_place_of_sp_metadata_is_explained() {
        let error = parse_testdata("bad_missing_sp_descriptor.xml").unwrap_err();
        assert!(matches!(
            error,
            MetadataError::MissingSpSsoDescriptor {
                has_idp_descriptor: true,
                ..
            }
        ));
        assert!(
            error.to_string().contains("not the Entra ID one"),
            "{error}"
        );
    }

    #[test]
    fn missing_entity_id_is_rejected() {
        assert_eq!(
            parse_testdata("bad_missing_entity_id.xml"),
            Err(MetadataError::MissingEntityId)
        );
    }

    #[test]
    fn missing_acs_is_rejected() {
        let error = parse_testdata("bad_missing_acs.xml").unwrap_err();
        assert!(matches!(error, MetadataError::MissingAcs { .. }), "{error}");
    }

    #[test]
    fn http_acs_url_is_rejected_and_named() {
        let error = parse_testdata("bad_http_acs.xml").unwrap_err();
        assert_eq!(
            error,
            MetadataError::InvalidAcsUrl {
                url: "http://us-west-2.signin.aws.amazon.com/platform/saml/acs/0b1e2d3c-4a5b-6c7d-8e9f-a0b1c2d3e4f5"
                    .into(),
                reason: UrlError::NotHttps("http".into()),
            }
        );
        assert!(
            error
                .to_string()
                .contains("http://us-west-2.signin.aws.amazon.com/platform/saml/acs/")
        );
    }

    #[test]
    fn acs_without_location_is_rejected() {
        let xml =
            include_str!("testdata/aws_sp_metadata_classic.xml").replace("Location=", "Place=");
        assert_eq!(
            parse_aws_sp_metadata(&xml),
            Err(MetadataError::MissingLocation {
                element: "AssertionConsumerService".into()
            })
        );
    }

    #[test]
    fn invalid_certificate_is_rejected() {
        let error = parse_testdata("bad_certificate.xml").unwrap_err();
        assert!(
            matches!(&error, MetadataError::InvalidCertificate { usage, .. } if usage == "signing"),
            "{error}"
        );
    }

    #[test]
    fn invalid_boolean_is_rejected() {
        assert_eq!(
            parse_testdata("bad_want_assertions_signed.xml"),
            Err(MetadataError::InvalidBoolean {
                attribute: "WantAssertionsSigned".into(),
                value: "yes".into()
            })
        );
    }

    #[test]
    fn dtd_is_refused() {
        let xml = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><EntityDescriptor/>"#;
        assert!(matches!(
            parse_aws_sp_metadata(xml),
            Err(MetadataError::NotXml { .. })
        ));
    }
}
