//! `/{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid=...`: the IdP metadata Entra publishes for an
//! application, advertising the certificate that currently signs its SAML tokens.
//!
//! The `Signature` element has Entra's shape (enveloped RSA-SHA256 over the document with the signing certificate
//! in KeyInfo) but its digest and signature values are not a real XML-DSig computation.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::certs;
use super::directory::key_thumbprint;
use super::state::{AppState, Kind};

/// The certificate (base64 DER) the app's SAML tokens are signed with: the key credential selected by
/// `preferredTokenSigningKeyThumbprint`, else the tenant's default signing certificate.
pub fn active_signing_certificate(
    state: &AppState,
    service_principal: &Value,
) -> Result<String, String> {
    if let Some(preferred) = service_principal["preferredTokenSigningKeyThumbprint"].as_str() {
        let selected = service_principal["keyCredentials"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|k| {
                k["usage"] == "Verify"
                    && key_thumbprint(k).is_some_and(|t| t.eq_ignore_ascii_case(preferred))
            });
        if let Some(key) = selected.and_then(|k| k["key"].as_str()) {
            return Ok(key.to_string());
        }
    }
    if state.tenant_signing.get().is_none() {
        let end = time::OffsetDateTime::now_utc() + time::Duration::days(5 * 365);
        let cert = certs::self_signed("accounts.accesscontrol.windows.net", end)?;
        let _ = state.tenant_signing.set(cert);
    }
    Ok(state
        .tenant_signing
        .get()
        .map(|c| c.base64())
        .unwrap_or_default())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn metadata_xml(tenant: &str, certificate_b64: &str) -> String {
    let entity_id = format!("https://sts.windows.net/{tenant}/");
    let document_id = format!("_{}", uuid::Uuid::new_v4());
    let endpoint = format!("https://login.microsoftonline.com/{tenant}/saml2");
    let pseudo_digest = STANDARD.encode(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, certificate_b64.as_bytes()).as_ref(),
    );
    let pseudo_signature: String =
        STANDARD.encode((0..256).map(|_| fastrand::u8(..)).collect::<Vec<u8>>());
    let key_descriptor = format!(
        "<KeyDescriptor use=\"signing\"><KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><X509Data><X509Certificate>{certificate_b64}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>"
    );
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<EntityDescriptor ID=\"{document_id}\" entityID=\"{entity}\" xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\">\
<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><SignedInfo>\
<CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\" />\
<SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\" />\
<Reference URI=\"#{document_id}\"><Transforms><Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\" />\
<Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\" /></Transforms>\
<DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\" /><DigestValue>{pseudo_digest}</DigestValue></Reference>\
</SignedInfo><SignatureValue>{pseudo_signature}</SignatureValue>\
<KeyInfo><X509Data><X509Certificate>{certificate_b64}</X509Certificate></X509Data></KeyInfo></Signature>\
<IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">{key_descriptor}\
<SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{endpoint}\" />\
<SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{endpoint}\" />\
<SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{endpoint}\" />\
</IDPSSODescriptor></EntityDescriptor>",
        entity = escape(&entity_id),
    )
}

pub async fn federation_metadata(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let not_found = |text: String| {
        (
            StatusCode::NOT_FOUND,
            [("content-type", "text/plain")],
            text,
        )
            .into_response()
    };
    if !tenant.eq_ignore_ascii_case(&state.config.tenant_id) {
        return not_found(format!("AADSTS90002: Tenant '{tenant}' not found."));
    }
    let app_id = params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("appid"))
        .map(|(_, v)| v.clone());
    let service_principal = app_id.as_deref().and_then(|app_id| {
        state
            .store()
            .collection(Kind::ServicePrincipal)
            .values()
            .find(|sp| {
                sp["appId"]
                    .as_str()
                    .is_some_and(|a| a.eq_ignore_ascii_case(app_id))
            })
            .cloned()
    });
    let Some(service_principal) = service_principal else {
        return not_found(format!(
            "AADSTS700016: Application with identifier '{}' was not found in the directory '{tenant}'.",
            app_id.unwrap_or_default()
        ));
    };
    match active_signing_certificate(&state, &service_principal) {
        Ok(cert) => (
            StatusCode::OK,
            [("content-type", "application/samlmetadata+xml")],
            metadata_xml(&state.config.tenant_id, &cert),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_well_formed_and_names_the_tenant_and_certificate() {
        let xml = metadata_xml("t-1", "QUJD");
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(
            root.attribute("entityID"),
            Some("https://sts.windows.net/t-1/")
        );
        let idp = root
            .children()
            .find(|n| n.has_tag_name("IDPSSODescriptor"))
            .unwrap();
        let cert = idp
            .descendants()
            .find(|n| n.has_tag_name("X509Certificate"))
            .unwrap();
        assert_eq!(cert.text(), Some("QUJD"));
        let sso: Vec<_> = idp
            .children()
            .filter(|n| n.has_tag_name("SingleSignOnService"))
            .collect();
        assert!(sso.iter().all(
            |n| n.attribute("Location") == Some("https://login.microsoftonline.com/t-1/saml2")
        ));
        assert!(root.children().any(|n| n.has_tag_name("Signature")));
    }
}
