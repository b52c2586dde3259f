//! Access tokens for Microsoft Graph: OAuth 2.0 client credentials against `{login}/{tenant}/oauth2/v2.0/token`
//! with a client secret, a certificate-signed client assertion, or a federated (OIDC) token; or the Azure CLI.
//! Tokens are cached and refreshed ahead of expiry; concurrent callers share one refresh.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde::Deserialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use super::settings::{ClientCertificate, EntraSettings, SettingsError, env};
use crate::saml::certificate::{CertificateError, der_from_pem, pem_block};

const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Audience GitHub Actions (and azuread) request for federated tokens exchanged with Entra.
const FEDERATED_TOKEN_AUDIENCE: &str = "api://AzureADTokenExchange";
const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);
const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);
const TOKEN_ATTEMPTS: u32 = 3;
const AZURE_CLI_TIMEOUT: Duration = Duration::from_secs(60);
const TOKEN_RETRY_DELAY: Duration = Duration::from_millis(300);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("the client certificate cannot be used: {0}")]
    Certificate(String),
    /// Entra answered with an OAuth error; `description` carries the AADSTS code and message.
    #[error("Entra ID rejected the token request ({status} {error}): {description}")]
    Rejected {
        status: u16,
        error: String,
        description: String,
    },
    #[error("the token request to {url} failed: {message}")]
    Transport { url: String, message: String },
    #[error("the token response from {url} is not understood: {message}")]
    InvalidResponse { url: String, message: String },
    #[error("cannot read the OIDC token: {0}")]
    FederatedToken(String),
    #[error("the Azure CLI failed: {0}")]
    AzureCli(String),
    /// Nothing configured and the Azure CLI, the last method tried, is not installed.
    #[error(
        "no Microsoft Entra ID credentials were found. Tried, in order: a client certificate \
         (`entra.client_certificate_path` or {cert}), a client secret (`entra.client_secret` or {secret}), an OIDC \
         token (`entra.oidc_token`, {oidc}, {oidc_file}, or {oidc_url} with `entra.use_oidc`), and the Azure CLI \
         ({executable} is not installed or not on PATH). Set {tenant}, {client} and {secret} (or another method \
         above) in the environment or the provider's `entra` block, or install the Azure CLI and run `az login`",
        cert = env::CLIENT_CERTIFICATE_PATH,
        secret = env::CLIENT_SECRET,
        oidc = env::OIDC_TOKEN,
        oidc_file = env::OIDC_TOKEN_FILE_PATH,
        oidc_url = env::OIDC_REQUEST_URL,
        tenant = env::TENANT_ID,
        client = env::CLIENT_ID,
    )]
    NoCredentialFound { executable: String },
}

impl AuthError {
    /// Worth another try: the endpoint was unreachable, throttled us or failed on its side.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Rejected { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// A bearer token. `Debug` never shows it.
#[derive(Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_at: Instant,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The signing half of a certificate credential.
#[derive(Clone)]
pub struct CertificateKey {
    key: SigningKey<Sha256>,
    /// base64url SHA-1 of the certificate DER (`x5t`).
    x5t: String,
    /// base64url SHA-256 of the certificate DER (`x5t#S256`).
    x5t_s256: String,
}

impl fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateKey")
            .field("x5t", &self.x5t)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl CertificateKey {
    pub fn from_client_certificate(certificate: &ClientCertificate) -> Result<Self, AuthError> {
        let (certificate_der, private_key) = match certificate {
            ClientCertificate::Pkcs12 { der, password } => {
                let store = p12_keystore::KeyStore::from_pkcs12(
                    der,
                    password.as_deref().unwrap_or_default(),
                    p12_keystore::Pkcs12ImportPolicy::Strict,
                )
                .map_err(|error| {
                    AuthError::Certificate(format!("cannot open the PKCS#12 file: {error}"))
                })?;
                let (_, chain) = store.private_key_chain().ok_or_else(|| {
                    AuthError::Certificate(
                        "the PKCS#12 file has no private key with its certificate".into(),
                    )
                })?;
                let certificate = chain.certs().first().ok_or_else(|| {
                    AuthError::Certificate("the PKCS#12 file has no certificate".into())
                })?;
                let key = RsaPrivateKey::from_pkcs8_der(chain.key().as_der()).map_err(|error| {
                    AuthError::Certificate(format!("the private key is not an RSA key: {error}"))
                })?;
                (certificate.as_der().to_vec(), key)
            }
            ClientCertificate::Pem {
                certificate_pem,
                private_key_pem,
            } => {
                let certificate = der_from_pem(certificate_pem).map_err(|error| {
                    AuthError::Certificate(format!("the certificate PEM: {error}"))
                })?;
                (certificate, rsa_key_from_pem(private_key_pem)?)
            }
        };
        Ok(Self::new(&certificate_der, private_key))
    }

    pub fn new(certificate_der: &[u8], private_key: RsaPrivateKey) -> Self {
        Self {
            key: SigningKey::<Sha256>::new(private_key),
            x5t: URL_SAFE_NO_PAD.encode(Sha1::digest(certificate_der)),
            x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(certificate_der)),
        }
    }

    /// An RS256 client assertion for `audience` (the token endpoint), valid for ten minutes.
    pub fn client_assertion(&self, client_id: &str, audience: &str) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let header = serde_json::json!({ "alg": "RS256", "typ": "JWT", "x5t": self.x5t, "x5t#S256": self.x5t_s256 });
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now,
            "nbf": now,
            "exp": now + ASSERTION_LIFETIME.as_secs(),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }
}

fn rsa_key_from_pem(text: &str) -> Result<RsaPrivateKey, AuthError> {
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return Err(AuthError::Certificate(
            "encrypted PEM private keys are not supported; use a PKCS#12 file with a password"
                .into(),
        ));
    }
    let block = |label: &str| match pem_block(text, label) {
        Ok(der) => Ok(Some(der)),
        Err(CertificateError::NotPem { .. }) => Ok(None),
        Err(error) => Err(AuthError::Certificate(format!(
            "the {label} block: {error}"
        ))),
    };
    if let Some(der) = block("PRIVATE KEY")? {
        return RsaPrivateKey::from_pkcs8_der(&der).map_err(|error| {
            AuthError::Certificate(format!("the PKCS#8 private key is not an RSA key: {error}"))
        });
    }
    if let Some(der) = block("RSA PRIVATE KEY")? {
        return RsaPrivateKey::from_pkcs1_der(&der).map_err(|error| {
            AuthError::Certificate(format!("the PKCS#1 private key is invalid: {error}"))
        });
    }
    Err(AuthError::Certificate(
        "no PEM private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY) found".into(),
    ))
}

/// Where a federated (OIDC) token comes from.
#[derive(Clone)]
pub enum FederatedTokenSource {
    Value(String),
    /// Re-read at every request: Kubernetes projected tokens rotate.
    File(PathBuf),
    /// GitHub Actions style: GET `{url}&audience=…` with the request token as bearer, answer `{"value": …}`.
    RequestUrl {
        url: String,
        request_token: String,
    },
}

impl fmt::Debug for FederatedTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(_) => f.write_str("Value(<redacted>)"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::RequestUrl { url, .. } => f
                .debug_struct("RequestUrl")
                .field("url", url)
                .field("request_token", &"<redacted>")
                .finish(),
        }
    }
}

#[derive(Clone)]
pub enum Credential {
    ClientSecret {
        tenant_id: String,
        client_id: String,
        secret: String,
    },
    ClientCertificate {
        tenant_id: String,
        client_id: String,
        key: Box<CertificateKey>,
    },
    Federated {
        tenant_id: String,
        client_id: String,
        source: FederatedTokenSource,
    },
    AzureCli {
        tenant_id: Option<String>,
        executable: PathBuf,
    },
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientSecret {
                tenant_id,
                client_id,
                ..
            } => f
                .debug_struct("ClientSecret")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("secret", &"<redacted>")
                .finish(),
            Self::ClientCertificate {
                tenant_id,
                client_id,
                key,
            } => f
                .debug_struct("ClientCertificate")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("key", key)
                .finish(),
            Self::Federated {
                tenant_id,
                client_id,
                source,
            } => f
                .debug_struct("Federated")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("source", source)
                .finish(),
            Self::AzureCli {
                tenant_id,
                executable,
            } => f
                .debug_struct("AzureCli")
                .field("tenant_id", tenant_id)
                .field("executable", executable)
                .finish(),
        }
    }
}

impl Credential {
    /// Picks the credential the way azuread does: certificate, then secret, then OIDC (when `use_oidc` is set or
    /// a token is given explicitly), then the Azure CLI.
    pub fn from_settings(settings: &EntraSettings) -> Result<Self, AuthError> {
        let required = |value: &Option<String>, field: &str, method: &str, variable: &str| {
            value.clone().ok_or_else(|| SettingsError::Missing {
                field: field.into(),
                method: method.into(),
                variable: variable.into(),
            })
        };
        if let Some(certificate) = &settings.client_certificate {
            let method = "a client certificate";
            return Ok(Self::ClientCertificate {
                tenant_id: required(&settings.tenant_id, "tenant_id", method, env::TENANT_ID)?,
                client_id: required(&settings.client_id, "client_id", method, env::CLIENT_ID)?,
                key: Box::new(CertificateKey::from_client_certificate(certificate)?),
            });
        }
        if let Some(secret) = &settings.client_secret {
            let method = "a client secret";
            return Ok(Self::ClientSecret {
                tenant_id: required(&settings.tenant_id, "tenant_id", method, env::TENANT_ID)?,
                client_id: required(&settings.client_id, "client_id", method, env::CLIENT_ID)?,
                secret: secret.clone(),
            });
        }
        let source = if let Some(token) = &settings.oidc_token {
            Some(FederatedTokenSource::Value(token.clone()))
        } else if let Some(path) = &settings.oidc_token_file_path {
            Some(FederatedTokenSource::File(path.clone()))
        } else if let (Some(url), Some(request_token)) =
            (&settings.oidc_request_url, &settings.oidc_request_token)
        {
            settings.use_oidc.then(|| FederatedTokenSource::RequestUrl {
                url: url.clone(),
                request_token: request_token.clone(),
            })
        } else {
            None
        };
        if let Some(source) = source {
            let method = "an OIDC token";
            return Ok(Self::Federated {
                tenant_id: required(&settings.tenant_id, "tenant_id", method, env::TENANT_ID)?,
                client_id: required(&settings.client_id, "client_id", method, env::CLIENT_ID)?,
                source,
            });
        }
        if settings.use_cli {
            return Ok(Self::AzureCli {
                tenant_id: settings.tenant_id.clone(),
                executable: settings.azure_cli_path.clone(),
            });
        }
        Err(SettingsError::NoCredential.into())
    }
}

/// Hands out Graph access tokens; share one per process (e.g. in an `Arc`).
pub struct TokenProvider {
    http: reqwest::Client,
    login_endpoint: String,
    scope: String,
    credential: Credential,
    refresh_margin: Duration,
    cached: Mutex<Option<AccessToken>>,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("login_endpoint", &self.login_endpoint)
            .field("scope", &self.scope)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(deserialize_with = "number_or_string")]
    expires_in: u64,
}

#[derive(Deserialize, Default)]
struct OAuthErrorResponse {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

fn number_or_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(u64),
        Text(String),
    }
    match Either::deserialize(deserializer)? {
        Either::Number(number) => Ok(number),
        Either::Text(text) => text.trim().parse().map_err(serde::de::Error::custom),
    }
}

impl TokenProvider {
    pub fn new(http: reqwest::Client, settings: &EntraSettings) -> Result<Self, AuthError> {
        Ok(Self::with_credential(
            http,
            &settings.login_endpoint,
            &settings.graph_scope,
            Credential::from_settings(settings)?,
        ))
    }

    pub fn with_credential(
        http: reqwest::Client,
        login_endpoint: &str,
        scope: &str,
        credential: Credential,
    ) -> Self {
        Self {
            http,
            login_endpoint: login_endpoint.trim_end_matches('/').to_string(),
            scope: scope.to_string(),
            credential,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            cached: Mutex::new(None),
        }
    }

    /// How long before expiry a cached token is replaced (default five minutes).
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// A valid token, from the cache when it has more than the refresh margin left. Holding the lock while
    /// fetching makes concurrent callers wait for one request instead of each sending their own.
    pub async fn token(&self) -> Result<AccessToken, AuthError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref()
            && token.expires_at > Instant::now() + self.refresh_margin
        {
            return Ok(token.clone());
        }
        let token = self.fetch().await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Drops the cached token, e.g. after Graph answered 401 with a token we believed valid.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    fn token_url(&self, tenant_id: &str) -> String {
        format!("{}/{tenant_id}/oauth2/v2.0/token", self.login_endpoint)
    }

    /// Entra's token endpoint has its own transient failures (5xx, throttling, resets): a few quick retries.
    async fn fetch(&self) -> Result<AccessToken, AuthError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.fetch_once().await {
                Err(error) if attempt < TOKEN_ATTEMPTS && error.is_transient() => {
                    tracing::debug!(target: "idbridge::graph::auth", attempt, error = %error, "retrying the token request");
                    tokio::time::sleep(TOKEN_RETRY_DELAY * attempt).await;
                }
                other => return other,
            }
        }
    }

    async fn fetch_once(&self) -> Result<AccessToken, AuthError> {
        let (tenant_id, client_id, secret_fields) = match &self.credential {
            Credential::AzureCli {
                tenant_id,
                executable,
            } => {
                return azure_cli_token(executable, tenant_id.as_deref()).await;
            }
            Credential::ClientSecret {
                tenant_id,
                client_id,
                secret,
            } => (
                tenant_id,
                client_id,
                vec![("client_secret", secret.clone())],
            ),
            Credential::ClientCertificate {
                tenant_id,
                client_id,
                key,
            } => {
                let assertion = key.client_assertion(client_id, &self.token_url(tenant_id));
                (
                    tenant_id,
                    client_id,
                    vec![
                        ("client_assertion_type", CLIENT_ASSERTION_TYPE.to_string()),
                        ("client_assertion", assertion),
                    ],
                )
            }
            Credential::Federated {
                tenant_id,
                client_id,
                source,
            } => {
                let assertion = self.federated_token(source).await?;
                (
                    tenant_id,
                    client_id,
                    vec![
                        ("client_assertion_type", CLIENT_ASSERTION_TYPE.to_string()),
                        ("client_assertion", assertion),
                    ],
                )
            }
        };
        let url = self.token_url(tenant_id);
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", client_id.clone()),
            ("scope", self.scope.clone()),
        ];
        form.extend(secret_fields);
        let requested_at = Instant::now();
        let response = self
            .http
            .post(&url)
            .form(&form)
            .send()
            .await
            .map_err(|error| AuthError::Transport {
                url: url.clone(),
                message: error.to_string(),
            })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|error| AuthError::Transport {
                url: url.clone(),
                message: error.to_string(),
            })?;
        if !status.is_success() {
            let parsed: OAuthErrorResponse = serde_json::from_slice(&body).unwrap_or_default();
            return Err(AuthError::Rejected {
                status: status.as_u16(),
                error: if parsed.error.is_empty() {
                    "unknown_error".into()
                } else {
                    parsed.error
                },
                description: if parsed.error_description.is_empty() {
                    String::from_utf8_lossy(&body).chars().take(500).collect()
                } else {
                    parsed.error_description
                },
            });
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|error| AuthError::InvalidResponse {
                url: url.clone(),
                message: error.to_string(),
            })?;
        tracing::debug!(target: "idbridge::graph::auth", expires_in = parsed.expires_in, "acquired a Graph access token");
        Ok(AccessToken {
            token: parsed.access_token,
            expires_at: requested_at + Duration::from_secs(parsed.expires_in),
        })
    }

    async fn federated_token(&self, source: &FederatedTokenSource) -> Result<String, AuthError> {
        match source {
            FederatedTokenSource::Value(token) => Ok(token.clone()),
            FederatedTokenSource::File(path) => tokio::fs::read_to_string(path)
                .await
                .map(|text| text.trim().to_string())
                .map_err(|error| AuthError::FederatedToken(format!("{}: {error}", path.display()))),
            FederatedTokenSource::RequestUrl { url, request_token } => {
                let mut url = url::Url::parse(url).map_err(|error| {
                    AuthError::FederatedToken(format!("invalid OIDC request URL: {error}"))
                })?;
                url.query_pairs_mut()
                    .append_pair("audience", FEDERATED_TOKEN_AUDIENCE);
                #[derive(Deserialize)]
                struct Answer {
                    value: String,
                }
                let response = self
                    .http
                    .get(url)
                    .bearer_auth(request_token)
                    .send()
                    .await
                    .map_err(|error| AuthError::FederatedToken(error.to_string()))?;
                if !response.status().is_success() {
                    return Err(AuthError::FederatedToken(format!(
                        "the OIDC request URL answered {}",
                        response.status()
                    )));
                }
                let answer: Answer = response
                    .json()
                    .await
                    .map_err(|error| AuthError::FederatedToken(error.to_string()))?;
                Ok(answer.value)
            }
        }
    }
}

/// `az account get-access-token --resource-type ms-graph`: the user's own sign-in, for local use.
async fn azure_cli_token(
    executable: &PathBuf,
    tenant_id: Option<&str>,
) -> Result<AccessToken, AuthError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct CliToken {
        access_token: String,
        /// Unix seconds; newer CLIs only (`expiresOn` is local time without zone, so unusable).
        #[serde(rename = "expires_on")]
        expires_on: Option<i64>,
    }
    let mut command = tokio::process::Command::new(executable);
    command.args([
        "account",
        "get-access-token",
        "--resource-type",
        "ms-graph",
        "--output",
        "json",
    ]);
    if let Some(tenant_id) = tenant_id {
        command.args(["--tenant", tenant_id]);
    }
    command.kill_on_drop(true);
    // kill_on_drop ends a CLI that hangs (e.g. waiting on an interactive prompt) when the timeout fires.
    let output = tokio::time::timeout(AZURE_CLI_TIMEOUT, command.output())
        .await
        .map_err(|_| {
            AuthError::AzureCli(format!(
                "{} did not answer within {}s",
                executable.display(),
                AZURE_CLI_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => AuthError::NoCredentialFound {
                executable: format!("`{}`", executable.display()),
            },
            _ => AuthError::AzureCli(format!("cannot run {}: {error}", executable.display())),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(AuthError::AzureCli(
            stderr.trim().chars().take(1000).collect(),
        ));
    }
    let parsed: CliToken = serde_json::from_slice(&output.stdout)
        .map_err(|error| AuthError::AzureCli(format!("unexpected output of az: {error}")))?;
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    // Without expires_on, assume a short life so the token is re-read soon rather than used past its expiry.
    let lifetime = parsed
        .expires_on
        .map_or(360, |expires_on| (expires_on - now_unix).max(0)) as u64;
    Ok(AccessToken {
        token: parsed.access_token,
        expires_at: Instant::now() + Duration::from_secs(lifetime),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::graph::test_support::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    use std::sync::Arc;

    const KEY_PEM: &str = include_str!("testdata/client_key.pem");
    const CERT_PEM: &str = include_str!("testdata/client_cert.pem");

    fn token_path() -> String {
        format!("/{TENANT}/oauth2/v2.0/token")
    }

    fn provider(server: &MockServer, credential: Credential) -> TokenProvider {
        TokenProvider::with_credential(
            reqwest::Client::new(),
            &server.base,
            "https://graph.microsoft.com/.default",
            credential,
        )
    }

    fn decode_segment(segment: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn client_secret_token_is_cached() {
        let server = MockServer::start().await;
        let tokens = server.token_provider();
        assert_eq!(tokens.token().await.unwrap().token, ACCESS_TOKEN);
        assert_eq!(tokens.token().await.unwrap().token, ACCESS_TOKEN);
        let requests = server.requests_to("POST", &token_path());
        assert_eq!(
            requests.len(),
            1,
            "the second call is served from the cache"
        );
        let form = requests[0].form();
        assert_eq!(form["grant_type"], "client_credentials");
        assert_eq!(form["client_id"], CLIENT_ID);
        assert_eq!(form["client_secret"], CLIENT_SECRET);
        assert_eq!(form["scope"], "https://graph.microsoft.com/.default");
    }

    #[tokio::test]
    async fn token_is_refreshed_ahead_of_expiry() {
        let server = MockServer::start().await;
        // 200 s left is inside the default five-minute margin: every call must fetch a new token.
        server.on(
            "POST",
            &token_path(),
            vec![
                Canned::json(
                    200,
                    serde_json::json!({ "access_token": "first", "expires_in": "200" }),
                ),
                Canned::json(
                    200,
                    serde_json::json!({ "access_token": "second", "expires_in": 3600 }),
                ),
            ],
        );
        let tokens = server.token_provider();
        assert_eq!(tokens.token().await.unwrap().token, "first");
        assert_eq!(tokens.token().await.unwrap().token, "second");
        assert_eq!(tokens.token().await.unwrap().token, "second");
        assert_eq!(server.requests_to("POST", &token_path()).len(), 2);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_token_request() {
        let server = MockServer::start().await;
        server.on(
            "POST",
            &token_path(),
            vec![
                Canned::json(
                    200,
                    serde_json::json!({ "access_token": "shared", "expires_in": 3600 }),
                )
                .delayed(Duration::from_millis(150)),
            ],
        );
        let tokens = Arc::new(server.token_provider());
        let calls = (0..16).map(|_| {
            let tokens = tokens.clone();
            tokio::spawn(async move { tokens.token().await.unwrap().token })
        });
        for call in calls {
            assert_eq!(call.await.unwrap(), "shared");
        }
        assert_eq!(server.requests_to("POST", &token_path()).len(), 1);
    }

    #[tokio::test]
    async fn entra_error_is_surfaced_without_the_secret() {
        let server = MockServer::start().await;
        let description = "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.";
        server.on(
            "POST",
            &token_path(),
            vec![Canned::json(
                401,
                serde_json::json!({ "error": "invalid_client", "error_description": description, "error_codes": [7000215] }),
            )],
        );
        let error = server.token_provider().token().await.unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("AADSTS7000215: Invalid client secret provided"),
            "{message}"
        );
        assert!(message.contains("invalid_client"), "{message}");
        assert!(!message.contains(CLIENT_SECRET), "{message}");
        assert!(matches!(error, AuthError::Rejected { status: 401, .. }));
        assert_eq!(
            server.requests_to("POST", &token_path()).len(),
            1,
            "a rejection is final"
        );
    }

    #[tokio::test]
    async fn client_assertion_is_an_rs256_jwt_signed_by_the_certificate_key() {
        let server = MockServer::start().await;
        let certificate = ClientCertificate::Pem {
            certificate_pem: CERT_PEM.into(),
            private_key_pem: KEY_PEM.into(),
        };
        let key = CertificateKey::from_client_certificate(&certificate).unwrap();
        let tokens = provider(
            &server,
            Credential::ClientCertificate {
                tenant_id: TENANT.into(),
                client_id: CLIENT_ID.into(),
                key: Box::new(key),
            },
        );
        tokens.token().await.unwrap();
        let form = server.requests_to("POST", &token_path())[0].form();
        assert_eq!(form["client_assertion_type"], CLIENT_ASSERTION_TYPE);
        assert!(!form.contains_key("client_secret"));
        let assertion = &form["client_assertion"];
        let parts: Vec<&str> = assertion.split('.').collect();
        assert_eq!(parts.len(), 3);

        let certificate_der = crate::saml::certificate::der_from_pem(CERT_PEM).unwrap();
        let header = decode_segment(parts[0]);
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["typ"], "JWT");
        assert_eq!(
            header["x5t"],
            URL_SAFE_NO_PAD.encode(Sha1::digest(&certificate_der))
        );
        assert_eq!(
            header["x5t#S256"],
            URL_SAFE_NO_PAD.encode(Sha256::digest(&certificate_der))
        );

        let claims = decode_segment(parts[1]);
        assert_eq!(
            claims["aud"],
            format!("{}/{TENANT}/oauth2/v2.0/token", server.base)
        );
        assert_eq!(claims["iss"], CLIENT_ID);
        assert_eq!(claims["sub"], CLIENT_ID);
        assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
        let (nbf, exp) = (
            claims["nbf"].as_u64().unwrap(),
            claims["exp"].as_u64().unwrap(),
        );
        assert_eq!(exp - nbf, 600);

        // Verify with the public key taken from the certificate, as Entra does.
        let (_, parsed) = x509_parser::parse_x509_certificate(&certificate_der).unwrap();
        let public_key = rsa::RsaPublicKey::from_public_key_der(parsed.public_key().raw).unwrap();
        let verifier = VerifyingKey::<Sha256>::new(public_key);
        let signature =
            Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().as_slice()).unwrap();
        let signing_input = format!("{}.{}", parts[0], parts[1]);
        verifier
            .verify(signing_input.as_bytes(), &signature)
            .expect("signature verifies");
        let tampered = format!(
            "{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(b"{\"aud\":\"elsewhere\"}")
        );
        assert!(verifier.verify(tampered.as_bytes(), &signature).is_err());
    }

    #[test]
    fn pkcs12_certificate_is_loaded() {
        let certificate_der = crate::saml::certificate::der_from_pem(CERT_PEM).unwrap();
        let expected_x5t = URL_SAFE_NO_PAD.encode(Sha1::digest(&certificate_der));
        for file in ["client.p12", "client_legacy.p12"] {
            let der = std::fs::read(format!(
                "{}/src/clients/graph/testdata/{file}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let certificate = ClientCertificate::Pkcs12 {
                der,
                password: Some("test-pfx-password".into()),
            };
            let key = CertificateKey::from_client_certificate(&certificate)
                .unwrap_or_else(|error| panic!("{file}: {error}"));
            assert_eq!(key.x5t, expected_x5t, "{file}");
        }
    }

    #[test]
    fn wrong_pkcs12_password_is_reported() {
        let der = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/clients/graph/testdata/client.p12"
        ))
        .unwrap();
        let certificate = ClientCertificate::Pkcs12 {
            der,
            password: Some("wrong".into()),
        };
        let error = CertificateKey::from_client_certificate(&certificate).unwrap_err();
        assert!(
            error.to_string().contains("cannot open the PKCS#12 file"),
            "{error}"
        );
        assert!(!error.to_string().contains("wrong"), "{error}");
    }

    #[test]
    fn pem_key_problems_are_explained() {
        let encrypted = ClientCertificate::Pem {
            certificate_pem: CERT_PEM.into(),
            private_key_pem:
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
                    .into(),
        };
        assert!(
            CertificateKey::from_client_certificate(&encrypted)
                .unwrap_err()
                .to_string()
                .contains("encrypted")
        );
        let missing = ClientCertificate::Pem {
            certificate_pem: CERT_PEM.into(),
            private_key_pem: CERT_PEM.into(),
        };
        assert!(
            CertificateKey::from_client_certificate(&missing)
                .unwrap_err()
                .to_string()
                .contains("no PEM private key")
        );
    }

    #[tokio::test]
    async fn federated_token_file_is_reread_for_each_request() {
        let server = MockServer::start().await;
        server.on(
            "POST",
            &token_path(),
            vec![Canned::json(
                200,
                serde_json::json!({ "access_token": "t", "expires_in": 60 }),
            )],
        );
        let dir = std::env::temp_dir().join(format!("idbridge-oidc-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "first-oidc-token\n").unwrap();
        let tokens = provider(
            &server,
            Credential::Federated {
                tenant_id: TENANT.into(),
                client_id: CLIENT_ID.into(),
                source: FederatedTokenSource::File(path.clone()),
            },
        );
        tokens.token().await.unwrap();
        std::fs::write(&path, "rotated-oidc-token").unwrap();
        tokens.token().await.unwrap();
        let assertions: Vec<String> = server
            .requests_to("POST", &token_path())
            .iter()
            .map(|r| r.form()["client_assertion"].clone())
            .collect();
        assert_eq!(assertions, ["first-oidc-token", "rotated-oidc-token"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn oidc_request_url_is_exchanged_for_a_federated_token() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            "/oidc",
            vec![Canned::json(
                200,
                serde_json::json!({ "value": "github-id-token" }),
            )],
        );
        let tokens = provider(
            &server,
            Credential::Federated {
                tenant_id: TENANT.into(),
                client_id: CLIENT_ID.into(),
                source: FederatedTokenSource::RequestUrl {
                    url: format!("{}/oidc?api-version=2.0", server.base),
                    request_token: "request-token".into(),
                },
            },
        );
        tokens.token().await.unwrap();
        let request = &server.requests_to("GET", "/oidc")[0];
        assert_eq!(request.headers["authorization"], "Bearer request-token");
        assert_eq!(
            request.query_param("audience").as_deref(),
            Some(FEDERATED_TOKEN_AUDIENCE)
        );
        assert_eq!(request.query_param("api-version").as_deref(), Some("2.0"));
        assert_eq!(
            server.requests_to("POST", &token_path())[0].form()["client_assertion"],
            "github-id-token"
        );
    }

    fn fake_az(script_body: &str) -> (PathBuf, PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("idbridge-az-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("az");
        std::fs::write(&path, format!("#!/bin/sh\n{script_body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        (dir, path)
    }

    #[tokio::test]
    async fn azure_cli_token_is_requested_for_graph() {
        let expires_on = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3000;
        let (dir, az) = fake_az(&format!(
            "echo \"$@\" > \"$(dirname \"$0\")/args\"\necho '{{\"accessToken\":\"cli-token\",\"expires_on\":{expires_on},\"tokenType\":\"Bearer\"}}'"
        ));
        let tokens = TokenProvider::with_credential(
            reqwest::Client::new(),
            "https://login.invalid",
            "https://graph.microsoft.com/.default",
            Credential::AzureCli {
                tenant_id: Some(TENANT.into()),
                executable: az,
            },
        );
        let token = tokens.token().await.unwrap();
        assert_eq!(token.token, "cli-token");
        let remaining = token.expires_at.duration_since(Instant::now()).as_secs();
        assert!((2900..=3000).contains(&remaining), "{remaining}");
        let args = std::fs::read_to_string(dir.join("args")).unwrap();
        assert_eq!(
            args.trim(),
            format!(
                "account get-access-token --resource-type ms-graph --output json --tenant {TENANT}"
            )
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn azure_cli_failure_reports_its_message() {
        let (dir, az) =
            fake_az("echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1");
        let error = azure_cli_token(&az, None).await.unwrap_err();
        assert!(
            error.to_string().contains("Please run 'az login'"),
            "{error}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn credential_precedence_follows_azuread() {
        let base = EntraSettings::from_lookup_and(|_| None, &Default::default()).unwrap();
        assert!(matches!(
            Credential::from_settings(&base).unwrap(),
            Credential::AzureCli { .. }
        ));

        let with_secret = EntraSettings {
            tenant_id: Some(TENANT.into()),
            client_id: Some(CLIENT_ID.into()),
            client_secret: Some("s".into()),
            oidc_token: Some("o".into()),
            ..base.clone()
        };
        assert!(matches!(
            Credential::from_settings(&with_secret).unwrap(),
            Credential::ClientSecret { .. }
        ));
        let with_oidc = EntraSettings {
            client_secret: None,
            ..with_secret.clone()
        };
        assert!(matches!(
            Credential::from_settings(&with_oidc).unwrap(),
            Credential::Federated { .. }
        ));

        let no_tenant = EntraSettings {
            tenant_id: None,
            ..with_secret
        };
        let error = Credential::from_settings(&no_tenant).unwrap_err();
        assert_eq!(
            error.to_string(),
            "tenant_id is required to authenticate with a client secret (set it or ARM_TENANT_ID)"
        );
        let nothing = EntraSettings {
            use_cli: false,
            ..base
        };
        assert!(matches!(
            Credential::from_settings(&nothing),
            Err(AuthError::Settings(SettingsError::NoCredential))
        ));
    }

    #[test]
    fn debug_output_hides_credentials() {
        let credential = Credential::ClientSecret {
            tenant_id: TENANT.into(),
            client_id: CLIENT_ID.into(),
            secret: CLIENT_SECRET.into(),
        };
        let provider =
            TokenProvider::with_credential(reqwest::Client::new(), "https://l", "s", credential);
        let token = AccessToken {
            token: ACCESS_TOKEN.into(),
            expires_at: Instant::now(),
        };
        let federated = FederatedTokenSource::Value("oidc-secret".into());
        let debug = format!("{provider:?} {token:?} {federated:?}");
        for secret in [CLIENT_SECRET, ACCESS_TOKEN, "oidc-secret"] {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
    }

    #[tokio::test]
    async fn transient_token_endpoint_failures_are_retried() {
        let server = MockServer::start().await;
        server.on(
            "POST",
            &token_path(),
            vec![
                Canned::json(503, serde_json::json!({ "error": "temporarily_unavailable", "error_description": "AADSTS90033: A transient error has occurred." })),
                Canned::json(200, serde_json::json!({ "access_token": "after-retry", "expires_in": 3600 })),
            ],
        );
        assert_eq!(
            server.token_provider().token().await.unwrap().token,
            "after-retry"
        );
        assert_eq!(server.requests_to("POST", &token_path()).len(), 2);
    }
}
