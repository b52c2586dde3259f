//! X.509 certificate helpers for SAML trust: metadata and Entra both carry certificates as base64 DER; AWS and
//! users want PEM; Entra identifies a signing certificate by its SHA-1 thumbprint in uppercase hex.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("it is not valid base64: {0}")]
    NotBase64(String),
    #[error("it is not a DER-encoded X.509 certificate: {0}")]
    NotX509(String),
    #[error("it is not PEM (expected a -----BEGIN {label}----- block)")]
    NotPem { label: String },
}

/// What the provider needs to know about one certificate.
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    pub der: Vec<u8>,
    /// SHA-1 of the DER bytes, uppercase hex without separators: the "Thumbprint" Entra shows and expects in
    /// `preferredTokenSigningKeyThumbprint`.
    pub thumbprint_sha1: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl std::fmt::Debug for CertificateInfo {
    // The DER bytes are public but long; the thumbprint identifies the certificate in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateInfo")
            .field("thumbprint_sha1", &self.thumbprint_sha1)
            .field("subject", &self.subject)
            .field("not_after", &self.not_after_rfc3339())
            .finish_non_exhaustive()
    }
}

impl CertificateInfo {
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        let (rest, certificate) = x509_parser::parse_x509_certificate(der)
            .map_err(|error| CertificateError::NotX509(error.to_string()))?;
        if !rest.is_empty() {
            return Err(CertificateError::NotX509(format!(
                "{} trailing bytes after the certificate",
                rest.len()
            )));
        }
        let validity = certificate.validity();
        Ok(Self {
            der: der.to_vec(),
            thumbprint_sha1: sha1_thumbprint(der),
            subject: certificate.subject().to_string(),
            issuer: certificate.issuer().to_string(),
            not_before: validity.not_before.to_datetime(),
            not_after: validity.not_after.to_datetime(),
        })
    }

    pub fn to_pem(&self) -> String {
        pem_from_der(&self.der)
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.der)
    }

    /// `notAfter` as RFC 3339 (UTC), the format Graph and Terraform attributes use.
    pub fn not_after_rfc3339(&self) -> String {
        self.not_after
            .format(&Rfc3339)
            .unwrap_or_else(|_| self.not_after.to_string())
    }

    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        now > self.not_after
    }
}

/// Parses base64 DER as found in `<ds:X509Certificate>` or Graph `keyCredentials[].key`; whitespace (metadata
/// files wrap lines) is ignored.
pub fn parse_certificate_base64(text: &str) -> Result<CertificateInfo, CertificateError> {
    CertificateInfo::from_der(&der_from_base64(text)?)
}

pub fn der_from_base64(text: &str) -> Result<Vec<u8>, CertificateError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|error| CertificateError::NotBase64(error.to_string()))
}

/// PEM with 64-character lines and a trailing newline.
pub fn pem_from_der(der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut pem = String::with_capacity(encoded.len() + encoded.len() / 64 + 64);
    pem.push_str(PEM_BEGIN);
    pem.push('\n');
    for line in encoded.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str(PEM_END);
    pem.push('\n');
    pem
}

/// The DER of the first certificate block in a PEM text.
pub fn der_from_pem(pem: &str) -> Result<Vec<u8>, CertificateError> {
    pem_block(pem, "CERTIFICATE")
}

/// The DER of the first `-----BEGIN {label}-----` block (e.g. `CERTIFICATE`, `PRIVATE KEY`).
pub fn pem_block(text: &str, label: &str) -> Result<Vec<u8>, CertificateError> {
    let not_pem = || CertificateError::NotPem {
        label: label.to_string(),
    };
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).ok_or_else(not_pem)? + begin.len();
    let stop = text[start..].find(&end).ok_or_else(not_pem)? + start;
    der_from_base64(&text[start..stop])
}

pub fn parse_certificate_pem(pem: &str) -> Result<CertificateInfo, CertificateError> {
    CertificateInfo::from_der(&der_from_pem(pem)?)
}

/// SHA-1 over the DER bytes in uppercase hex, as Entra displays thumbprints.
pub fn sha1_thumbprint(der: &[u8]) -> String {
    Sha1::digest(der)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRA_PEM: &str = include_str!("testdata/entra_signing_certificate.pem");

    #[test]
    fn thumbprint_matches_openssl_fingerprint() {
        // Expected value from `openssl x509 -noout -fingerprint -sha1` on the same file.
        let info = parse_certificate_pem(ENTRA_PEM).unwrap();
        assert_eq!(
            info.thumbprint_sha1,
            "A65A905D78DFA7028B265BEA9AEDE671572F3BC2"
        );
        assert_eq!(info.subject, "CN=Microsoft Azure Federated SSO Certificate");
    }

    #[test]
    fn not_after_matches_openssl_enddate() {
        // `openssl x509 -noout -enddate`: notAfter=Nov 22 10:19:43 2029 GMT
        let info = parse_certificate_pem(ENTRA_PEM).unwrap();
        assert_eq!(info.not_after_rfc3339(), "2029-11-22T10:19:43Z");
        assert!(info.not_before < info.not_after);
        assert!(info.is_expired_at(info.not_after + time::Duration::seconds(1)));
        assert!(!info.is_expired_at(info.not_after));
    }

    #[test]
    fn pem_round_trips_through_der() {
        let der = der_from_pem(ENTRA_PEM).unwrap();
        let pem = pem_from_der(&der);
        assert_eq!(
            pem, ENTRA_PEM,
            "our PEM layout is the same 64-column layout openssl writes"
        );
        assert!(pem.lines().all(|line| line.len() <= 64));
        assert_eq!(der_from_pem(&pem).unwrap(), der);
    }

    #[test]
    fn base64_with_line_breaks_is_accepted() {
        let der = der_from_pem(ENTRA_PEM).unwrap();
        let wrapped: String = STANDARD
            .encode(&der)
            .as_bytes()
            .chunks(76)
            .map(|chunk| format!("  {}\r\n", std::str::from_utf8(chunk).unwrap()))
            .collect();
        assert_eq!(parse_certificate_base64(&wrapped).unwrap().der, der);
    }

    #[test]
    fn garbage_is_rejected_with_a_reason() {
        assert!(matches!(
            parse_certificate_base64("not base64!"),
            Err(CertificateError::NotBase64(_))
        ));
        assert!(matches!(
            parse_certificate_base64("aGVsbG8="),
            Err(CertificateError::NotX509(_))
        ));
        assert_eq!(
            der_from_pem("hello"),
            Err(CertificateError::NotPem {
                label: "CERTIFICATE".into()
            })
        );
        let mut der = der_from_pem(ENTRA_PEM).unwrap();
        der.push(0);
        assert!(
            matches!(CertificateInfo::from_der(&der), Err(CertificateError::NotX509(message)) if message.contains("trailing"))
        );
    }

    #[test]
    fn debug_is_short() {
        let debug = format!("{:?}", parse_certificate_pem(ENTRA_PEM).unwrap());
        assert!(debug.contains("A65A905D78DFA7028B265BEA9AEDE671572F3BC2"));
        assert!(debug.len() < 300);
    }
}
