//! Microsoft Entra ID federation metadata (`…/federationmetadata/2007-06/federationmetadata.xml?appid=…`). Only
//! the SAML `IDPSSODescriptor` counts: the document's own `<Signature>` and the WS-Federation `RoleDescriptor`s
//! carry certificates too, and picking those up would trust the wrong key during a rollover.

use super::bindings::{HTTP_POST, HTTP_REDIRECT};
use super::certificate::CertificateInfo;
use super::xml::{
    endpoint, entity_id, key_descriptor_certificates, md_children, parse_document,
    single_entity_descriptor,
};
use super::{MetadataError, urls};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlEndpoint {
    pub binding: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpFederationMetadata {
    /// `https://sts.windows.net/{tenant}/` for Entra.
    pub entity_id: String,
    /// The sign-in URL to give the SP: the HTTP-Redirect endpoint, else HTTP-POST, else the first.
    pub sso_url: String,
    pub sso_endpoints: Vec<SamlEndpoint>,
    /// The logout URL (same preference as `sso_url`), when declared.
    pub slo_url: Option<String>,
    pub slo_endpoints: Vec<SamlEndpoint>,
    /// Signing certificates in document order; during a rollover Entra lists more than one.
    pub signing_certificates: Vec<CertificateInfo>,
    pub nameid_formats: Vec<String>,
}

pub fn parse_idp_federation_metadata(xml: &str) -> Result<IdpFederationMetadata, MetadataError> {
    let document = parse_document(xml)?;
    let entity = single_entity_descriptor(&document)?;
    let entity_id = entity_id(&entity)?;
    urls::validate_entity_id(&entity_id).map_err(|reason| MetadataError::InvalidEntityId {
        entity_id: entity_id.clone(),
        reason,
    })?;
    let idp = md_children(entity, "IDPSSODescriptor")
        .next()
        .ok_or_else(|| MetadataError::MissingIdpSsoDescriptor {
            entity_id: entity_id.clone(),
        })?;

    let endpoints = |element: &'static str| -> Result<Vec<SamlEndpoint>, MetadataError> {
        md_children(idp, element)
            .map(|node| {
                let (binding, url) = endpoint(&node)?;
                urls::validate_acs_url(&url).map_err(|reason| {
                    MetadataError::InvalidEndpointUrl {
                        element: element.into(),
                        url: url.clone(),
                        reason,
                    }
                })?;
                Ok(SamlEndpoint { binding, url })
            })
            .collect()
    };
    let sso_endpoints = endpoints("SingleSignOnService")?;
    let slo_endpoints = endpoints("SingleLogoutService")?;
    let sso_url =
        preferred_url(&sso_endpoints).ok_or_else(|| MetadataError::MissingSingleSignOnService {
            entity_id: entity_id.clone(),
        })?;
    let slo_url = preferred_url(&slo_endpoints);

    Ok(IdpFederationMetadata {
        entity_id,
        sso_url,
        sso_endpoints,
        slo_url,
        slo_endpoints,
        signing_certificates: key_descriptor_certificates(&idp, "signing")?,
        nameid_formats: md_children(idp, "NameIDFormat")
            .filter_map(|node| node.text().map(|text| text.trim().to_string()))
            .filter(|text| !text.is_empty())
            .collect(),
    })
}

fn preferred_url(endpoints: &[SamlEndpoint]) -> Option<String> {
    [HTTP_REDIRECT, HTTP_POST]
        .iter()
        .find_map(|binding| {
            endpoints
                .iter()
                .find(|endpoint| endpoint.binding == *binding)
        })
        .or_else(|| endpoints.first())
        .map(|endpoint| endpoint.url.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRA: &str = include_str!("testdata/entra_federation_metadata.xml");
    const TENANT: &str = "8f2c4b1e-7a3d-4e5f-9b0c-1d2e3f4a5b6c";

    #[test]
    fn parses_entra_federation_metadata() {
        let metadata = parse_idp_federation_metadata(ENTRA).unwrap();
        assert_eq!(
            metadata.entity_id,
            format!("https://sts.windows.net/{TENANT}/")
        );
        assert_eq!(
            metadata.sso_url,
            format!("https://login.microsoftonline.com/{TENANT}/saml2")
        );
        assert_eq!(metadata.slo_url.as_deref(), Some(metadata.sso_url.as_str()));
        assert_eq!(metadata.sso_endpoints.len(), 2);
        assert_eq!(metadata.sso_endpoints[1].binding, HTTP_POST);
    }

    #[test]
    fn only_idp_descriptor_signing_certificates_count() {
        // The document signature carries a different certificate (thumbprint 4D096D…); the WS-Fed role carries
        // the same one as the IdP descriptor. Expected thumbprint from openssl.
        let metadata = parse_idp_federation_metadata(ENTRA).unwrap();
        let thumbprints: Vec<_> = metadata
            .signing_certificates
            .iter()
            .map(|c| c.thumbprint_sha1.as_str())
            .collect();
        assert_eq!(thumbprints, ["A65A905D78DFA7028B265BEA9AEDE671572F3BC2"]);
        assert_eq!(
            metadata.signing_certificates[0].not_after_rfc3339(),
            "2029-11-22T10:19:43Z"
        );
    }

    #[test]
    fn sp_metadata_is_not_idp_metadata() {
        let error =
            parse_idp_federation_metadata(include_str!("testdata/aws_sp_metadata_classic.xml"))
                .unwrap_err();
        assert!(
            matches!(error, MetadataError::MissingIdpSsoDescriptor { .. }),
            "{error}"
        );
    }

    #[test]
    fn idp_without_sso_service_is_rejected() {
        let xml = ENTRA.replace("SingleSignOnService", "ArtifactResolutionService");
        let error = parse_idp_federation_metadata(&xml).unwrap_err();
        assert!(
            matches!(error, MetadataError::MissingSingleSignOnService { .. }),
            "{error}"
        );
    }
}
