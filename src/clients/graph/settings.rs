//! Entra ID connection settings: explicit values (from the provider block) first, then the environment variables
//! the azuread provider reads, so a pipeline already set up for azuread works unchanged.

use std::fmt;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Environment variables read by [`EntraSettings::from_env_and`].
pub mod env {
    pub const TENANT_ID: &str = "ARM_TENANT_ID";
    pub const CLIENT_ID: &str = "ARM_CLIENT_ID";
    pub const CLIENT_ID_FILE_PATH: &str = "ARM_CLIENT_ID_FILE_PATH";
    pub const CLIENT_SECRET: &str = "ARM_CLIENT_SECRET";
    pub const CLIENT_SECRET_FILE_PATH: &str = "ARM_CLIENT_SECRET_FILE_PATH";
    pub const CLIENT_CERTIFICATE_PATH: &str = "ARM_CLIENT_CERTIFICATE_PATH";
    pub const CLIENT_CERTIFICATE: &str = "ARM_CLIENT_CERTIFICATE";
    pub const CLIENT_CERTIFICATE_PASSWORD: &str = "ARM_CLIENT_CERTIFICATE_PASSWORD";
    pub const OIDC_TOKEN: &str = "ARM_OIDC_TOKEN";
    pub const OIDC_TOKEN_FILE_PATH: &str = "ARM_OIDC_TOKEN_FILE_PATH";
    pub const OIDC_REQUEST_TOKEN: &str = "ARM_OIDC_REQUEST_TOKEN";
    pub const OIDC_REQUEST_URL: &str = "ARM_OIDC_REQUEST_URL";
    /// Set by GitHub Actions for jobs with `id-token: write`; azuread falls back to them too.
    pub const ACTIONS_ID_TOKEN_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
    pub const ACTIONS_ID_TOKEN_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
    pub const USE_OIDC: &str = "ARM_USE_OIDC";
    pub const USE_CLI: &str = "ARM_USE_CLI";
    pub const ENVIRONMENT: &str = "ARM_ENVIRONMENT";
    /// Test-only endpoint overrides (our Graph emulator); not part of the azuread set.
    pub const GRAPH_ENDPOINT: &str = "IDBRIDGE_GRAPH_ENDPOINT";
    pub const LOGIN_ENDPOINT: &str = "IDBRIDGE_LOGIN_ENDPOINT";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CloudEnvironment {
    #[default]
    Public,
    UsGovernment,
    UsGovernmentL5,
    China,
}

impl CloudEnvironment {
    /// Accepts the azuread spellings: `global`/`public`, `usgovernment`/`usgovernmentl4`, `usgovernmentl5`/`dod`,
    /// `china`.
    pub fn parse(value: &str) -> Result<Self, SettingsError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "global" | "public" => Ok(Self::Public),
            "usgovernment" | "usgovernmentl4" => Ok(Self::UsGovernment),
            "usgovernmentl5" | "dod" => Ok(Self::UsGovernmentL5),
            "china" => Ok(Self::China),
            other => Err(SettingsError::UnknownEnvironment(other.to_string())),
        }
    }

    pub fn login_endpoint(self) -> &'static str {
        match self {
            Self::Public => "https://login.microsoftonline.com",
            Self::UsGovernment | Self::UsGovernmentL5 => "https://login.microsoftonline.us",
            Self::China => "https://login.chinacloudapi.cn",
        }
    }

    /// The Graph resource: base of the API URL and of the token scope.
    pub fn graph_resource(self) -> &'static str {
        match self {
            Self::Public => "https://graph.microsoft.com",
            Self::UsGovernment => "https://graph.microsoft.us",
            Self::UsGovernmentL5 => "https://dod-graph.microsoft.us",
            Self::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }
}

/// A certificate credential with its private key.
#[derive(Clone)]
pub enum ClientCertificate {
    /// PKCS#12 (.pfx/.p12) bytes and the password that protects them.
    Pkcs12 {
        der: Vec<u8>,
        password: Option<String>,
    },
    /// PEM text holding the certificate and its (unencrypted PKCS#8 or PKCS#1) RSA private key.
    Pem {
        certificate_pem: String,
        private_key_pem: String,
    },
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pkcs12 { der, password } => f
                .debug_struct("Pkcs12")
                .field("bytes", &der.len())
                .field("password", &password.as_ref().map(|_| "<redacted>"))
                .finish(),
            Self::Pem { .. } => f
                .debug_struct("Pem")
                .field("private_key_pem", &"<redacted>")
                .finish_non_exhaustive(),
        }
    }
}

/// Values set explicitly (provider configuration); each wins over its environment variable.
#[derive(Clone, Default)]
pub struct EntraOverrides {
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_id_file_path: Option<PathBuf>,
    pub client_secret: Option<String>,
    pub client_secret_file_path: Option<PathBuf>,
    pub client_certificate_path: Option<PathBuf>,
    /// Base64 PKCS#12, as azuread's `client_certificate`.
    pub client_certificate: Option<String>,
    pub client_certificate_password: Option<String>,
    /// PEM certificate and its unencrypted RSA private key, given inline (no environment variable).
    pub client_certificate_pem: Option<String>,
    pub client_private_key_pem: Option<String>,
    pub oidc_token: Option<String>,
    pub oidc_token_file_path: Option<PathBuf>,
    pub oidc_request_token: Option<String>,
    pub oidc_request_url: Option<String>,
    pub use_oidc: Option<bool>,
    pub use_cli: Option<bool>,
    pub environment: Option<String>,
    pub graph_endpoint: Option<String>,
    pub login_endpoint: Option<String>,
}

impl fmt::Debug for EntraOverrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("EntraOverrides")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &set(&self.client_secret))
            .field("client_certificate", &set(&self.client_certificate))
            .field(
                "client_certificate_password",
                &set(&self.client_certificate_password),
            )
            .field("client_private_key_pem", &set(&self.client_private_key_pem))
            .field("oidc_token", &set(&self.oidc_token))
            .field("oidc_request_token", &set(&self.oidc_request_token))
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

/// Resolved settings. Build with [`EntraSettings::from_env_and`].
#[derive(Clone)]
pub struct EntraSettings {
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_certificate: Option<ClientCertificate>,
    pub oidc_token: Option<String>,
    /// Read at every token request: projected workload-identity tokens rotate.
    pub oidc_token_file_path: Option<PathBuf>,
    pub oidc_request_token: Option<String>,
    pub oidc_request_url: Option<String>,
    pub use_oidc: bool,
    pub use_cli: bool,
    pub environment: CloudEnvironment,
    /// Graph API base including the version, e.g. `https://graph.microsoft.com/v1.0`.
    pub graph_endpoint: String,
    /// Authority host, e.g. `https://login.microsoftonline.com`.
    pub login_endpoint: String,
    /// `{graph resource}/.default`; stays the real resource even when `graph_endpoint` points at an emulator.
    pub graph_scope: String,
    /// The Azure CLI executable (`az` on PATH unless set).
    pub azure_cli_path: PathBuf,
}

impl fmt::Debug for EntraSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("EntraSettings")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &set(&self.client_secret))
            .field("client_certificate", &self.client_certificate)
            .field("oidc_token", &set(&self.oidc_token))
            .field("oidc_token_file_path", &self.oidc_token_file_path)
            .field("oidc_request_token", &set(&self.oidc_request_token))
            .field("oidc_request_url", &self.oidc_request_url)
            .field("use_oidc", &self.use_oidc)
            .field("use_cli", &self.use_cli)
            .field("environment", &self.environment)
            .field("graph_endpoint", &self.graph_endpoint)
            .field("login_endpoint", &self.login_endpoint)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "unknown environment {0:?}: expected one of global, usgovernment, usgovernmentl5, china"
    )]
    UnknownEnvironment(String),
    #[error("{variable} must be true or false, got {value:?}")]
    InvalidBool { variable: String, value: String },
    #[error("cannot read {what} from {path}: {message}")]
    UnreadableFile {
        what: String,
        path: String,
        message: String,
    },
    #[error(
        "client_certificate (or {}) is not valid base64",
        env::CLIENT_CERTIFICATE
    )]
    CertificateNotBase64,
    #[error(
        "{what} {value:?} must be an https URL (plain http is accepted for 127.0.0.1/localhost only)"
    )]
    InvalidEndpoint { what: String, value: String },
    #[error(
        "no Entra ID credential is configured: set client_secret, client_certificate_path, an OIDC token (with \
         use_oidc) or enable use_cli (or the ARM_* environment variables)"
    )]
    NoCredential,
    #[error("{field} is required to authenticate with {method} (set it or {variable})")]
    Missing {
        field: String,
        method: String,
        variable: String,
    },
}

fn read_text_file(what: &str, path: &PathBuf) -> Result<String, SettingsError> {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_string())
        .map_err(|error| SettingsError::UnreadableFile {
            what: what.into(),
            path: path.display().to_string(),
            message: error.to_string(),
        })
}

fn parse_bool(variable: &str, value: &str) -> Result<bool, SettingsError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" | "" => Ok(false),
        _ => Err(SettingsError::InvalidBool {
            variable: variable.into(),
            value: value.into(),
        }),
    }
}

/// https anywhere; plain http only on loopback, where our emulators run: credentials must never cross a
/// network in the clear.
fn check_endpoint(what: &str, value: String) -> Result<String, SettingsError> {
    let invalid = || SettingsError::InvalidEndpoint {
        what: what.into(),
        value: value.clone(),
    };
    let url = url::Url::parse(&value).map_err(|_| invalid())?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => return Err(invalid()),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(invalid()),
    }
    Ok(value.trim_end_matches('/').to_string())
}

impl EntraSettings {
    /// Explicit values first, then the process environment.
    pub fn from_env_and(overrides: &EntraOverrides) -> Result<Self, SettingsError> {
        Self::from_lookup_and(
            |name| std::env::var(name).ok().filter(|value| !value.is_empty()),
            overrides,
        )
    }

    /// As [`Self::from_env_and`] with an injectable environment (tests must not mutate the process environment).
    pub fn from_lookup_and(
        lookup: impl Fn(&str) -> Option<String>,
        overrides: &EntraOverrides,
    ) -> Result<Self, SettingsError> {
        let pick = |explicit: &Option<String>, variable: &str| {
            explicit.clone().or_else(|| lookup(variable))
        };
        let pick_path = |explicit: &Option<PathBuf>, variable: &str| {
            explicit
                .clone()
                .or_else(|| lookup(variable).map(PathBuf::from))
        };
        let pick_bool = |explicit: Option<bool>, variable: &str, default: bool| match explicit {
            Some(value) => Ok(value),
            None => lookup(variable).map_or(Ok(default), |value| parse_bool(variable, &value)),
        };

        let client_id = match pick(&overrides.client_id, env::CLIENT_ID) {
            Some(id) => Some(id),
            None => pick_path(&overrides.client_id_file_path, env::CLIENT_ID_FILE_PATH)
                .map(|path| read_text_file("the client ID", &path))
                .transpose()?,
        };
        let client_secret = match pick(&overrides.client_secret, env::CLIENT_SECRET) {
            Some(secret) => Some(secret),
            None => pick_path(
                &overrides.client_secret_file_path,
                env::CLIENT_SECRET_FILE_PATH,
            )
            .map(|path| read_text_file("the client secret", &path))
            .transpose()?,
        };
        let password = pick(
            &overrides.client_certificate_password,
            env::CLIENT_CERTIFICATE_PASSWORD,
        );
        let inline_pem = overrides
            .client_certificate_pem
            .clone()
            .zip(overrides.client_private_key_pem.clone());
        let client_certificate = if let Some((certificate_pem, private_key_pem)) = inline_pem {
            Some(ClientCertificate::Pem {
                certificate_pem,
                private_key_pem,
            })
        } else if let Some(encoded) = pick(&overrides.client_certificate, env::CLIENT_CERTIFICATE) {
            let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
            let der = STANDARD
                .decode(compact)
                .map_err(|_| SettingsError::CertificateNotBase64)?;
            Some(ClientCertificate::Pkcs12 { der, password })
        } else if let Some(path) = pick_path(
            &overrides.client_certificate_path,
            env::CLIENT_CERTIFICATE_PATH,
        ) {
            Some(load_certificate_file(&path, password)?)
        } else {
            None
        };

        let environment = match pick(&overrides.environment, env::ENVIRONMENT) {
            Some(name) => CloudEnvironment::parse(&name)?,
            None => CloudEnvironment::Public,
        };
        let graph_endpoint = match pick(&overrides.graph_endpoint, env::GRAPH_ENDPOINT) {
            Some(endpoint) => with_default_version(check_endpoint("graph_endpoint", endpoint)?),
            None => format!("{}/v1.0", environment.graph_resource()),
        };
        let login_endpoint = match pick(&overrides.login_endpoint, env::LOGIN_ENDPOINT) {
            Some(endpoint) => check_endpoint("login_endpoint", endpoint)?,
            None => environment.login_endpoint().to_string(),
        };

        Ok(Self {
            tenant_id: pick(&overrides.tenant_id, env::TENANT_ID),
            client_id,
            client_secret,
            client_certificate,
            oidc_token: pick(&overrides.oidc_token, env::OIDC_TOKEN),
            oidc_token_file_path: pick_path(
                &overrides.oidc_token_file_path,
                env::OIDC_TOKEN_FILE_PATH,
            ),
            oidc_request_token: pick(&overrides.oidc_request_token, env::OIDC_REQUEST_TOKEN)
                .or_else(|| lookup(env::ACTIONS_ID_TOKEN_REQUEST_TOKEN)),
            oidc_request_url: pick(&overrides.oidc_request_url, env::OIDC_REQUEST_URL)
                .or_else(|| lookup(env::ACTIONS_ID_TOKEN_REQUEST_URL)),
            use_oidc: pick_bool(overrides.use_oidc, env::USE_OIDC, false)?,
            use_cli: pick_bool(overrides.use_cli, env::USE_CLI, true)?,
            environment,
            graph_endpoint,
            login_endpoint,
            graph_scope: format!("{}/.default", environment.graph_resource()),
            azure_cli_path: PathBuf::from("az"),
        })
    }
}

/// An endpoint given as a bare origin (`http://127.0.0.1:4000`) means its v1.0 API.
fn with_default_version(endpoint: String) -> String {
    let bare_origin = url::Url::parse(&endpoint).is_ok_and(|url| matches!(url.path(), "" | "/"));
    if bare_origin {
        format!("{endpoint}/v1.0")
    } else {
        endpoint
    }
}

/// A file given as the certificate path is PKCS#12 unless it is PEM text (PEM holding certificate and key).
fn load_certificate_file(
    path: &PathBuf,
    password: Option<String>,
) -> Result<ClientCertificate, SettingsError> {
    let bytes = std::fs::read(path).map_err(|error| SettingsError::UnreadableFile {
        what: "the client certificate".into(),
        path: path.display().to_string(),
        message: error.to_string(),
    })?;
    match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN") => Ok(ClientCertificate::Pem {
            certificate_pem: text.to_string(),
            private_key_pem: text.to_string(),
        }),
        _ => Ok(ClientCertificate::Pkcs12 {
            der: bytes,
            password,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn environment_fills_what_is_not_set_explicitly() {
        let env = lookup(&[
            (env::TENANT_ID, "env-tenant"),
            (env::CLIENT_ID, "env-client"),
            (env::CLIENT_SECRET, "env-secret"),
            (env::USE_CLI, "false"),
        ]);
        let overrides = EntraOverrides {
            tenant_id: Some("explicit-tenant".into()),
            ..Default::default()
        };
        let settings = EntraSettings::from_lookup_and(env, &overrides).unwrap();
        assert_eq!(settings.tenant_id.as_deref(), Some("explicit-tenant"));
        assert_eq!(settings.client_id.as_deref(), Some("env-client"));
        assert_eq!(settings.client_secret.as_deref(), Some("env-secret"));
        assert!(!settings.use_cli);
        assert_eq!(settings.graph_endpoint, "https://graph.microsoft.com/v1.0");
        assert_eq!(settings.login_endpoint, "https://login.microsoftonline.com");
        assert_eq!(settings.graph_scope, "https://graph.microsoft.com/.default");
    }

    #[test]
    fn national_clouds_and_emulator_overrides() {
        let settings = EntraSettings::from_lookup_and(
            lookup(&[(env::ENVIRONMENT, "usgovernment")]),
            &Default::default(),
        )
        .unwrap();
        assert_eq!(settings.graph_endpoint, "https://graph.microsoft.us/v1.0");
        assert_eq!(settings.login_endpoint, "https://login.microsoftonline.us");
        let settings = EntraSettings::from_lookup_and(
            lookup(&[
                (env::ENVIRONMENT, "china"),
                (env::GRAPH_ENDPOINT, "http://127.0.0.1:4000/v1.0/"),
                (env::LOGIN_ENDPOINT, "http://127.0.0.1:4000"),
            ]),
            &Default::default(),
        )
        .unwrap();
        assert_eq!(settings.graph_endpoint, "http://127.0.0.1:4000/v1.0");
        assert_eq!(settings.login_endpoint, "http://127.0.0.1:4000");
        assert_eq!(
            settings.graph_scope,
            "https://microsoftgraph.chinacloudapi.cn/.default"
        );
        assert_eq!(
            EntraSettings::from_lookup_and(
                lookup(&[(env::ENVIRONMENT, "mars")]),
                &Default::default()
            )
            .unwrap_err(),
            SettingsError::UnknownEnvironment("mars".into())
        );
        assert!(matches!(
            EntraSettings::from_lookup_and(
                lookup(&[(env::GRAPH_ENDPOINT, "ftp://x")]),
                &Default::default()
            ),
            Err(SettingsError::InvalidEndpoint { .. })
        ));
    }

    #[test]
    fn invalid_boolean_names_the_variable() {
        let error = EntraSettings::from_lookup_and(
            lookup(&[(env::USE_OIDC, "yes please")]),
            &Default::default(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "ARM_USE_OIDC must be true or false, got \"yes please\""
        );
    }

    #[test]
    fn certificate_from_base64_and_from_path() {
        let p12 = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/clients/graph/testdata/client.p12"
        ))
        .unwrap();
        let env = lookup(&[(env::CLIENT_CERTIFICATE_PASSWORD, "pw")]);
        let overrides = EntraOverrides {
            client_certificate: Some(STANDARD.encode(&p12)),
            ..Default::default()
        };
        let settings = EntraSettings::from_lookup_and(env, &overrides).unwrap();
        assert!(
            matches!(settings.client_certificate, Some(ClientCertificate::Pkcs12 { ref der, ref password })
            if *der == p12 && password.as_deref() == Some("pw"))
        );

        let pem_path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/clients/graph/testdata/client_key.pem"
        );
        let settings = EntraSettings::from_lookup_and(
            lookup(&[(env::CLIENT_CERTIFICATE_PATH, pem_path)]),
            &Default::default(),
        )
        .unwrap();
        assert!(matches!(
            settings.client_certificate,
            Some(ClientCertificate::Pem { .. })
        ));

        let missing = EntraSettings::from_lookup_and(
            lookup(&[(env::CLIENT_CERTIFICATE_PATH, "/nonexistent/cert.pfx")]),
            &Default::default(),
        )
        .unwrap_err();
        assert!(
            missing.to_string().contains("/nonexistent/cert.pfx"),
            "{missing}"
        );
    }

    #[test]
    fn secret_file_is_read_and_trimmed() {
        let dir = std::env::temp_dir().join(format!("idbridge-settings-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        std::fs::write(&path, "from-file\n").unwrap();
        let settings = EntraSettings::from_lookup_and(
            lookup(&[(env::CLIENT_SECRET_FILE_PATH, path.to_str().unwrap())]),
            &Default::default(),
        )
        .unwrap();
        assert_eq!(settings.client_secret.as_deref(), Some("from-file"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn debug_redacts_secrets() {
        let overrides = EntraOverrides {
            client_secret: Some("super-secret-value".into()),
            oidc_token: Some("oidc-token-value".into()),
            client_certificate_password: Some("pfx-password-value".into()),
            client_certificate_pem: Some("-----BEGIN CERTIFICATE-----".into()),
            client_private_key_pem: Some("private-key-pem-value".into()),
            ..Default::default()
        };
        let settings = EntraSettings {
            client_certificate: Some(ClientCertificate::Pkcs12 {
                der: vec![1, 2, 3],
                password: Some("pfx-password-value".into()),
            }),
            ..EntraSettings::from_lookup_and(lookup(&[]), &overrides).unwrap()
        };
        for debug in [format!("{settings:?}"), format!("{overrides:?}")] {
            for secret in [
                "super-secret-value",
                "oidc-token-value",
                "pfx-password-value",
                "private-key-pem-value",
            ] {
                assert!(!debug.contains(secret), "{secret} leaked in {debug}");
            }
            assert!(debug.contains("<redacted>"));
        }
    }

    #[test]
    fn plain_http_endpoints_are_for_loopback_only() {
        for accepted in [
            "http://127.0.0.1:4000",
            "http://localhost:9",
            "http://[::1]:80",
            "https://graph.example",
        ] {
            let settings = EntraSettings::from_lookup_and(
                lookup(&[(env::LOGIN_ENDPOINT, accepted)]),
                &Default::default(),
            );
            assert!(settings.is_ok(), "{accepted}");
        }
        for refused in [
            "http://10.0.0.5:4000",
            "http://graph.example",
            "ftp://127.0.0.1",
            "127.0.0.1:4000",
        ] {
            let error = EntraSettings::from_lookup_and(
                lookup(&[(env::GRAPH_ENDPOINT, refused)]),
                &Default::default(),
            )
            .unwrap_err();
            assert!(
                matches!(error, SettingsError::InvalidEndpoint { .. }),
                "{refused}: {error}"
            );
        }
    }

    #[test]
    fn github_actions_oidc_variables_are_a_fallback() {
        let settings = EntraSettings::from_lookup_and(
            lookup(&[
                (
                    env::ACTIONS_ID_TOKEN_REQUEST_URL,
                    "https://actions.example/token?x=1",
                ),
                (env::ACTIONS_ID_TOKEN_REQUEST_TOKEN, "actions-token"),
                (env::USE_OIDC, "true"),
            ]),
            &Default::default(),
        )
        .unwrap();
        assert_eq!(
            settings.oidc_request_url.as_deref(),
            Some("https://actions.example/token?x=1")
        );
        assert_eq!(
            settings.oidc_request_token.as_deref(),
            Some("actions-token")
        );
        assert!(settings.use_oidc);
    }

    #[test]
    fn bare_graph_origin_means_v1() {
        let settings = EntraSettings::from_lookup_and(
            lookup(&[(env::GRAPH_ENDPOINT, "http://127.0.0.1:4000")]),
            &Default::default(),
        )
        .unwrap();
        assert_eq!(settings.graph_endpoint, "http://127.0.0.1:4000/v1.0");
        let explicit = EntraSettings::from_lookup_and(
            lookup(&[(env::GRAPH_ENDPOINT, "http://127.0.0.1:4000/beta")]),
            &Default::default(),
        )
        .unwrap();
        assert_eq!(explicit.graph_endpoint, "http://127.0.0.1:4000/beta");
    }

    #[test]
    fn inline_pem_certificate_wins() {
        let overrides = EntraOverrides {
            client_certificate_pem: Some("cert".into()),
            client_private_key_pem: Some("key".into()),
            ..Default::default()
        };
        let p12 = "/nonexistent.p12";
        let settings = EntraSettings::from_lookup_and(
            lookup(&[(env::CLIENT_CERTIFICATE_PATH, p12)]),
            &overrides,
        )
        .unwrap();
        assert!(matches!(
            settings.client_certificate,
            Some(ClientCertificate::Pem { ref certificate_pem, ref private_key_pem })
                if certificate_pem == "cert" && private_key_pem == "key"
        ));
    }
}
