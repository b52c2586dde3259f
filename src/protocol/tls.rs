//! go-plugin's AutoMTLS, server side.
//!
//! Terraform generates a throwaway self-signed ECDSA P-521 certificate (marked as a CA) and hands
//! it to us in `PLUGIN_CLIENT_CERT`. We generate our own throwaway certificate of the same kind,
//! announce it in the handshake line, and accept only connections that present exactly
//! Terraform's certificate. Both sides trust nothing but the one certificate they were given.
//!
//! webpki's standard verifiers cannot be used: they reject a CA certificate used as the end entity
//! (`CaUsedAsEndEntity`). The pinned verifier below compares the certificate byte for byte and
//! still checks the handshake signature, so the peer must hold the private key.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, aws_lc_rs};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};

/// gRPC over TLS must negotiate HTTP/2 with ALPN; grpc-go (Terraform's client) refuses
/// connections that do not.
const ALPN_HTTP2: &[u8] = b"h2";

/// The host name go-plugin puts in AutoMTLS certificates and verifies against.
const CERTIFICATE_HOST: &str = "localhost";

/// Long enough to outlive any run; the certificate dies with the process anyway.
const CERTIFICATE_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// Tolerates a small clock difference between us and Terraform.
const CLOCK_SKEW_ALLOWANCE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum AutoMtlsError {
    #[error(
        "PLUGIN_CLIENT_CERT does not hold a PEM certificate, so the connection with Terraform cannot \
be secured: {0}"
    )]
    InvalidClientCertificate(String),
    #[error("could not generate the provider's TLS certificate: {0}")]
    CertificateGeneration(#[from] rcgen::Error),
    #[error("could not set up TLS: {0}")]
    Tls(#[from] rustls::Error),
}

/// A freshly generated certificate and its private key. The key never leaves the process.
pub struct CertifiedKey {
    pub certificate: CertificateDer<'static>,
    private_key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for CertifiedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertifiedKey")
            .field("certificate_len", &self.certificate.len())
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl CertifiedKey {
    /// A certificate shaped like go-plugin's: self-signed ECDSA P-521 with SHA-512, CA flag set,
    /// `localhost` as common name and DNS name, usable for both server and client auth.
    pub fn generate() -> Result<Self, AutoMtlsError> {
        use rcgen::{
            BasicConstraints, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
            PKCS_ECDSA_P521_SHA512, SerialNumber,
        };

        let key_pair = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512)?;
        let mut params = rcgen::CertificateParams::new(vec![CERTIFICATE_HOST.to_owned()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, CERTIFICATE_HOST);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "idbridge");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - CLOCK_SKEW_ALLOWANCE;
        params.not_after = now + CERTIFICATE_LIFETIME;
        params.serial_number = Some(SerialNumber::from_slice(&random_serial()?));

        let certificate = params.self_signed(&key_pair)?;
        Ok(Self {
            certificate: certificate.der().clone(),
            private_key: PrivatePkcs8KeyDer::from(key_pair.serialize_der()),
        })
    }

    /// The certificate in PEM, the form `PLUGIN_CLIENT_CERT` carries.
    pub fn certificate_pem(&self) -> String {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD.encode(self.certificate.as_ref());
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }

    fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.private_key.clone_key())
    }
}

/// A positive 128-bit serial number, random so two runs never issue the same one.
fn random_serial() -> Result<[u8; 16], AutoMtlsError> {
    let mut serial = [0u8; 16];
    aws_lc_rs::default_provider()
        .secure_random
        .fill(&mut serial)
        .map_err(|_| AutoMtlsError::Tls(rustls::Error::FailedToGetRandomBytes))?;
    serial[0] &= 0x7f;
    Ok(serial)
}

/// Reads the first certificate from `PLUGIN_CLIENT_CERT`.
pub fn parse_client_certificate(pem: &str) -> Result<CertificateDer<'static>, AutoMtlsError> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|error| AutoMtlsError::InvalidClientCertificate(error.to_string()))
}

/// The provider's TLS configuration: present `ours`, require the client to present exactly
/// `expected_client`, speak HTTP/2.
pub fn server_config(
    ours: &CertifiedKey,
    expected_client: CertificateDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, AutoMtlsError> {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedCertificateVerifier::new(expected_client, &provider));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![ours.certificate.clone()], ours.private_key())?;
    config.alpn_protocols = vec![ALPN_HTTP2.to_vec()];
    Ok(Arc::new(config))
}

/// The other side of AutoMTLS, as Terraform does it: present `ours`, trust only
/// `expected_server` (the certificate from the handshake line). Used by our tests and benchmarks
/// to talk to the provider like Terraform does.
pub fn client_config(
    ours: &CertifiedKey,
    expected_server: CertificateDer<'static>,
) -> Result<Arc<rustls::ClientConfig>, AutoMtlsError> {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedCertificateVerifier::new(expected_server, &provider));
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(vec![ours.certificate.clone()], ours.private_key())?;
    config.alpn_protocols = vec![ALPN_HTTP2.to_vec()];
    Ok(Arc::new(config))
}

/// Trusts exactly one certificate, compared by its DER bytes, and checks that the peer signed
/// the handshake with that certificate's key.
#[derive(Debug)]
pub struct PinnedCertificateVerifier {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedCertificateVerifier {
    pub fn new(expected: CertificateDer<'static>, provider: &CryptoProvider) -> Self {
        Self {
            expected,
            algorithms: provider.signature_verification_algorithms,
        }
    }

    fn check(&self, presented: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        if presented.as_ref() == self.expected.as_ref() {
            Ok(())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
}

impl ClientCertVerifier for PinnedCertificateVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No hints: Go's TLS client only sends a certificate whose issuer is in a non-empty hint
        // list, and sends its only certificate when the list is empty.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl ServerCertVerifier for PinnedCertificateVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn generated_certificate_is_shaped_like_go_plugins() {
        let key = CertifiedKey::generate().unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(key.certificate.as_ref()).unwrap();
        assert_eq!(
            cert.signature_algorithm.algorithm,
            x509_parser::oid_registry::OID_SIG_ECDSA_WITH_SHA512
        );
        let curve = cert
            .public_key()
            .algorithm
            .parameters
            .as_ref()
            .unwrap()
            .as_oid()
            .unwrap();
        assert_eq!(curve, x509_parser::oid_registry::OID_NIST_EC_P521);
        assert!(cert.is_ca());
        assert_eq!(cert.subject(), cert.issuer());
        let names: Vec<_> = cert
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .map(|name| format!("{name}"))
            .collect();
        assert_eq!(names, ["DNSName(localhost)"]);
        let usage = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(usage.server_auth && usage.client_auth);
        assert!(cert.validity().is_valid());
    }

    #[test]
    fn pem_round_trips_through_the_client_certificate_parser() {
        let key = CertifiedKey::generate().unwrap();
        let parsed = parse_client_certificate(&key.certificate_pem()).unwrap();
        assert_eq!(parsed, key.certificate);
    }

    #[test]
    fn garbage_client_certificate_is_rejected_with_a_clear_error() {
        let error = parse_client_certificate("not a certificate").unwrap_err();
        assert!(error.to_string().contains("PLUGIN_CLIENT_CERT"), "{error}");
    }

    #[test]
    fn private_key_is_not_in_debug_output() {
        let key = CertifiedKey::generate().unwrap();
        assert!(format!("{key:?}").contains("<redacted>"));
    }

    /// Runs one TLS handshake plus a ping over an in-memory pipe.
    async fn handshake(
        server: Arc<rustls::ServerConfig>,
        client: Arc<rustls::ClientConfig>,
    ) -> Result<(), std::io::Error> {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let acceptor = tokio_rustls::TlsAcceptor::from(server);
        let connector = tokio_rustls::TlsConnector::from(client);
        let server_side = tokio::spawn(async move {
            let mut stream = acceptor.accept(server_io).await?;
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await?;
            stream.write_all(&byte).await?;
            stream.flush().await?;
            Ok::<_, std::io::Error>(stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec))
        });
        let name = ServerName::try_from("localhost").unwrap();
        let mut stream = connector.connect(name, client_io).await?;
        stream.write_all(b"x").await?;
        stream.flush().await?;
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await?;
        let alpn = server_side.await.unwrap()?;
        assert_eq!(alpn.as_deref(), Some(ALPN_HTTP2));
        Ok(())
    }

    #[tokio::test]
    async fn mutual_tls_succeeds_with_the_pinned_p521_ca_certificates() {
        let server = CertifiedKey::generate().unwrap();
        let client = CertifiedKey::generate().unwrap();
        let server_config = server_config(&server, client.certificate.clone()).unwrap();
        let client_config = client_config(&client, server.certificate.clone()).unwrap();
        handshake(server_config, client_config).await.unwrap();
    }

    #[tokio::test]
    async fn a_different_client_certificate_is_refused() {
        let server = CertifiedKey::generate().unwrap();
        let expected_client = CertifiedKey::generate().unwrap();
        let intruder = CertifiedKey::generate().unwrap();
        let server_config = server_config(&server, expected_client.certificate.clone()).unwrap();
        let client_config = client_config(&intruder, server.certificate.clone()).unwrap();
        assert!(handshake(server_config, client_config).await.is_err());
    }

    #[tokio::test]
    async fn a_client_presenting_the_right_certificate_without_its_key_is_refused() {
        let server = CertifiedKey::generate().unwrap();
        let expected_client = CertifiedKey::generate().unwrap();
        let impostor = CertifiedKey {
            certificate: expected_client.certificate.clone(),
            private_key: CertifiedKey::generate().unwrap().private_key,
        };
        let server_config = server_config(&server, expected_client.certificate.clone()).unwrap();
        // rustls itself refuses a certificate whose key does not match, so build the client
        // config by hand to get the mismatched pair onto the wire.
        let provider = Arc::new(aws_lc_rs::default_provider());
        let verifier = Arc::new(PinnedCertificateVerifier::new(
            server.certificate.clone(),
            &provider,
        ));
        let signer = provider
            .key_provider
            .load_private_key(impostor.private_key())
            .unwrap();
        let certified = Arc::new(rustls::sign::CertifiedKey::new(
            vec![impostor.certificate.clone()],
            signer,
        ));
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_cert_resolver(Arc::new(AlwaysResolves(certified)));
        client.alpn_protocols = vec![ALPN_HTTP2.to_vec()];
        assert!(handshake(server_config, Arc::new(client)).await.is_err());
    }

    #[derive(Debug)]
    struct AlwaysResolves(Arc<rustls::sign::CertifiedKey>);

    impl rustls::client::ResolvesClientCert for AlwaysResolves {
        fn resolve(
            &self,
            _root_hint_subjects: &[&[u8]],
            _sigschemes: &[SignatureScheme],
        ) -> Option<Arc<rustls::sign::CertifiedKey>> {
            Some(self.0.clone())
        }
        fn has_certs(&self) -> bool {
            true
        }
    }

    #[tokio::test]
    async fn a_server_with_a_different_certificate_is_refused_by_the_client() {
        let server = CertifiedKey::generate().unwrap();
        let announced = CertifiedKey::generate().unwrap();
        let client = CertifiedKey::generate().unwrap();
        let server_config = server_config(&server, client.certificate.clone()).unwrap();
        let client_config = client_config(&client, announced.certificate.clone()).unwrap();
        assert!(handshake(server_config, client_config).await.is_err());
    }
}
