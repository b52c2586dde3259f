//! Token signing certificates of a SAML enterprise application: created, activated (Entra does not activate a
//! new certificate by itself) and the previous one removed; their expiry, for planning rotations.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::clients::graph::GraphClient;
use crate::clients::graph::models::{ServicePrincipal, ServicePrincipalPatch};
use crate::framework::{AttributePath, Diagnostic, Diagnostics};
use crate::helpers::graph_error;

/// Creates a signing certificate, activates it, and removes the previously active one (if any). Returns the
/// new thumbprint.
pub async fn rotate_signing_certificate(
    graph: &GraphClient,
    sp: &ServicePrincipal,
    display_name: &str,
    validity_days: i64,
) -> Result<String, Diagnostics> {
    let end = rfc3339(OffsetDateTime::now_utc() + time::Duration::days(validity_days));
    let created = graph
        .read_after_write(|| graph.add_token_signing_certificate(&sp.id, display_name, Some(&end)))
        .await
        .map_err(|e| {
            graph_error("create the token signing certificate", &e)
                .at(AttributePath::new("certificate_display_name"))
        })?;
    let thumbprint = created.thumbprint.clone().ok_or_else(|| {
        Diagnostic::error(
            "Certificate without thumbprint",
            "Entra ID created a signing certificate but did not report its thumbprint; it cannot be activated.",
        )
    })?;
    let activate = ServicePrincipalPatch {
        preferred_token_signing_key_thumbprint: Some(Some(thumbprint.clone())),
        ..Default::default()
    };
    graph
        .read_after_write(|| graph.update_service_principal(&sp.id, &activate))
        .await
        .map_err(|e| graph_error("activate the token signing certificate", &e))?;
    if let Some(old) = sp.preferred_token_signing_key_thumbprint.as_deref()
        && !old.eq_ignore_ascii_case(&thumbprint)
        && let Some(identifier) = custom_key_identifier_of(sp, old)
    {
        graph
            .remove_token_signing_certificate(
                &sp.id,
                &identifier,
                created.custom_key_identifier.as_deref(),
            )
            .await
            .map_err(|e| graph_error("remove the previous signing certificate", &e))?;
    }
    Ok(thumbprint)
}

/// The thumbprint of the signing certificate Entra uses: `preferredTokenSigningKeyThumbprint`, when a key
/// credential with that thumbprint still exists. With the certificate removed, Entra signs with the tenant
/// default, which AWS does not trust, so the trust has no active certificate (`None`).
pub fn active_signing_thumbprint(sp: &ServicePrincipal) -> Option<String> {
    sp.preferred_token_signing_key_thumbprint
        .as_deref()
        .filter(|thumbprint| custom_key_identifier_of(sp, thumbprint).is_some())
        .map(str::to_string)
}

/// Removes every signing certificate of the service principal except the one with `kept_thumbprint`. Only for
/// a trust being created on an application without an active certificate: whatever certificate it has is not
/// in use, most often one an interrupted create added but never activated.
pub async fn remove_unused_signing_certificates(
    graph: &GraphClient,
    sp: &ServicePrincipal,
    kept_thumbprint: &str,
) -> Result<(), Diagnostics> {
    let kept = identifier_of_thumbprint(kept_thumbprint);
    let mut unused: Vec<&str> = sp
        .key_credentials
        .iter()
        .filter_map(|key| key.custom_key_identifier.as_deref())
        .filter(|identifier| Some(*identifier) != kept.as_deref())
        .collect();
    unused.sort_unstable();
    unused.dedup();
    for identifier in unused {
        graph
            .remove_token_signing_certificate(&sp.id, identifier, kept.as_deref())
            .await
            .map_err(|e| graph_error("remove an unused signing certificate", &e))?;
    }
    Ok(())
}

/// Entra's `customKeyIdentifier` of a signing certificate is the base64 of its SHA-1 thumbprint bytes.
fn identifier_of_thumbprint(thumbprint: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..thumbprint.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(thumbprint.get(i..i + 2)?, 16).ok())
        .collect();
    Some(base64_encode(&bytes?))
}

/// The `customKeyIdentifier` of the service principal's certificate with this thumbprint, if it has one.
pub fn custom_key_identifier_of(sp: &ServicePrincipal, thumbprint: &str) -> Option<String> {
    let encoded = identifier_of_thumbprint(thumbprint)?;
    sp.key_credentials
        .iter()
        .filter_map(|key| key.custom_key_identifier.clone())
        .find(|identifier| *identifier == encoded || identifier.eq_ignore_ascii_case(thumbprint))
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Expiry of the active certificate as stored on the service principal (key credentials with their key).
pub fn certificate_expiry(sp: &ServicePrincipal, thumbprint: &str) -> Option<String> {
    let identifier = custom_key_identifier_of(sp, thumbprint)?;
    sp.key_credentials
        .iter()
        .find(|key| key.custom_key_identifier.as_deref() == Some(identifier.as_str()))
        .and_then(|key| key.end_date_time.clone())
        .and_then(|end| OffsetDateTime::parse(&end, &Rfc3339).ok())
        .map(rfc3339)
}

/// Days until `expires_at` (RFC 3339) from `now`; `None` when unparsable.
pub fn days_left(expires_at: &str, now: OffsetDateTime) -> Option<i64> {
    let expiry = OffsetDateTime::parse(expires_at, &Rfc3339).ok()?;
    Some((expiry - now).whole_days())
}

fn rfc3339(moment: OffsetDateTime) -> String {
    moment
        .replace_nanosecond(0)
        .unwrap_or(moment)
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_left_counts_whole_days() {
        let now = OffsetDateTime::parse("2026-01-01T00:00:00Z", &Rfc3339).unwrap();
        assert_eq!(days_left("2026-01-11T12:00:00Z", now), Some(10));
        assert_eq!(days_left("garbage", now), None);
    }

    #[test]
    fn custom_key_identifier_matches_the_thumbprint_bytes() {
        let sp = ServicePrincipal {
            key_credentials: vec![crate::clients::graph::models::KeyCredential {
                custom_key_identifier: Some(base64_encode(&[0xAB, 0xCD])),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            custom_key_identifier_of(&sp, "ABCD"),
            Some(base64_encode(&[0xAB, 0xCD]))
        );
        assert_eq!(custom_key_identifier_of(&sp, "ABCE"), None);
    }
}
