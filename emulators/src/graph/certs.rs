//! SAML token-signing certificates, made the way Entra makes them for addTokenSigningCertificate:
//! self-signed X.509, RSA 2048, SHA-256 signature, subject from the `CN=` display name.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;

#[derive(Clone, Debug)]
pub struct SigningCert {
    pub der: Vec<u8>,
    /// Upper-case hex SHA-1 of the DER, as Graph reports `thumbprint`.
    pub thumbprint: String,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

impl SigningCert {
    pub fn base64(&self) -> String {
        STANDARD.encode(&self.der)
    }

    /// `customKeyIdentifier` of the keyCredentials: the thumbprint bytes, base64-encoded.
    pub fn custom_key_identifier(&self) -> String {
        STANDARD.encode(sha1(&self.der))
    }
}

fn sha1(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

pub fn thumbprint(der: &[u8]) -> String {
    sha1(der).iter().map(|b| format!("{b:02X}")).collect()
}

/// Creates a certificate whose subject common name is `common_name`, valid from now until `end`.
pub fn self_signed(common_name: &str, end: OffsetDateTime) -> Result<SigningCert, String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
        .map_err(|e| format!("RSA key generation failed: {e}"))?;
    let mut params =
        rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    let mut subject = rcgen::DistinguishedName::new();
    subject.push(rcgen::DnType::CommonName, common_name);
    params.distinguished_name = subject;
    let start = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    params.not_before = start;
    params.not_after = end;
    let cert = params
        .self_signed(&key)
        .map_err(|e| format!("certificate signing failed: {e}"))?;
    let der = cert.der().to_vec();
    Ok(SigningCert {
        thumbprint: thumbprint(&der),
        der,
        start,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_an_rsa_2048_certificate_with_the_requested_subject() {
        let end = OffsetDateTime::now_utc() + time::Duration::days(365);
        let cert = self_signed("AWS Contoso", end).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert.der).unwrap();
        assert_eq!(parsed.subject().to_string(), "CN=AWS Contoso");
        assert_eq!(parsed.issuer().to_string(), "CN=AWS Contoso");
        let x509_parser::public_key::PublicKey::RSA(rsa) = parsed.public_key().parsed().unwrap()
        else {
            panic!("not an RSA key")
        };
        assert_eq!(rsa.key_size(), 2048);
        assert_eq!(cert.thumbprint.len(), 40);
        assert_eq!(
            STANDARD.decode(cert.custom_key_identifier()).unwrap().len(),
            20
        );
    }
}
