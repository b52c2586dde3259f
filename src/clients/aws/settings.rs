//! Provider-level AWS settings and the lazily built, process-wide SDK configuration.

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::Region;
use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_http_client::tls::{Provider as TlsProvider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_types::timeout::TimeoutConfig;
use tokio::sync::OnceCell;

use super::error::Error;
use super::identity_center::IdentityCenter;
use super::limits::ServiceLimits;
use super::retry::RetryPolicy;
use crate::clients::error_chain;

/// STS AssumeRole on top of the base credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumeRoleSettings {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration: Option<Duration>,
}

/// The `aws` block of the provider configuration, in plain Rust.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub assume_role: Option<AssumeRoleSettings>,
    /// Wins over `AWS_ENDPOINT_URL` and the profile's `endpoint_url`.
    pub endpoint_url: Option<String>,
    /// Attempts per API call (first included); by default unbounded: calls are retried until the caller's deadline.
    pub max_attempts: Option<u32>,
}

/// AssumeRole session limits (STS API reference: DurationSeconds 900..=43200).
const MIN_SESSION: Duration = Duration::from_secs(900);
const MAX_SESSION: Duration = Duration::from_secs(43_200);

impl AwsSettings {
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_attempts == Some(0) {
            return Err(Error::InvalidSettings(
                "max_attempts must be at least 1".into(),
            ));
        }
        if let Some(role) = &self.assume_role {
            if !role.role_arn.starts_with("arn:") {
                return Err(Error::InvalidSettings(format!(
                    "assume_role.role_arn {:?} is not an ARN (expected arn:aws:iam::<account>:role/<name>)",
                    role.role_arn
                )));
            }
            if let Some(d) = role.duration
                && !(MIN_SESSION..=MAX_SESSION).contains(&d)
            {
                return Err(Error::InvalidSettings(format!(
                    "assume_role.duration {d:?} is outside STS's 15 minutes to 12 hours"
                )));
            }
        }
        if let Some(url) = &self.endpoint_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(Error::InvalidSettings(format!(
                "endpoint_url {url:?} must start with https:// or http://"
            )));
        }
        Ok(())
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        if let Some(n) = self.max_attempts {
            policy.max_attempts = n;
        }
        policy
    }

    /// Resolves the standard credential chain (environment, profile, SSO, web identity, ECS/IMDS) and
    /// region; no request is sent here, credentials are fetched on the first call.
    pub async fn load_sdk_config(&self) -> Result<SdkConfig, Error> {
        self.validate()?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let base = loader.load().await;
        let Some(role) = &self.assume_role else {
            return Ok(base);
        };
        let mut builder = AssumeRoleProvider::builder(role.role_arn.clone()).session_name(
            role.session_name
                .clone()
                .unwrap_or_else(|| "terraform-provider-idbridge".into()),
        );
        if let Some(id) = &role.external_id {
            builder = builder.external_id(id.clone());
        }
        if let Some(d) = role.duration {
            builder = builder.session_length(d);
        }
        // STS must not be sent to a custom Identity Center endpoint (e.g. an emulator), so it gets the base
        // config without the endpoint override.
        let mut sts_config = base.clone().into_builder();
        if self.endpoint_url.is_some() {
            sts_config.set_endpoint_url(None);
        }
        let provider = builder.configure(&sts_config.build()).build().await;
        Ok(base
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build())
    }
}

/// Longest wait for the credential chain: its last link, EC2 instance metadata, times out after a few seconds
/// off EC2; an assumed role adds one STS call.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(20);

impl AwsSettings {
    /// Resolves the region and the credentials once, up front, so that a missing credential is one clear
    /// error within seconds instead of every call failing after its retries with the SDK's dispatch error.
    pub async fn check_region_and_credentials(&self, config: &SdkConfig) -> Result<(), Error> {
        if config
            .region()
            .is_none_or(|region| region.as_ref().is_empty())
        {
            return Err(Error::NoRegion);
        }
        let no_credentials = |detail: String| Error::NoCredentials {
            profile: match &self.profile {
                Some(profile) => format!("profile `{profile}` of the provider's `aws` block"),
                None => "profile `default`, or the one AWS_PROFILE names".into(),
            },
            detail,
        };
        let Some(provider) = config.credentials_provider() else {
            return Err(no_credentials(String::new()));
        };
        match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(CredentialsError::CredentialsNotLoaded(_))) => {
                Err(no_credentials(String::new()))
            }
            Ok(Err(error)) => Err(no_credentials(error_chain(&error))),
            Err(_) => Err(no_credentials(format!(
                "the credential chain did not answer within {} s",
                CREDENTIALS_TIMEOUT.as_secs()
            ))),
        }
    }
}

/// The HTTP client of every AWS call: rustls with ring, because the SDK's default HTTPS stack would pull
/// in aws-lc-sys, a long C build. Plain `http://` endpoints (emulators) work too.
pub(crate) fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(TlsProvider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Builds the [`IdentityCenter`] on first use, once per process: a plan that touches only Entra ID never
/// resolves AWS credentials.
pub struct LazyIdentityCenter {
    settings: AwsSettings,
    limits: Arc<ServiceLimits>,
    cell: OnceCell<Arc<IdentityCenter>>,
}

impl LazyIdentityCenter {
    pub fn new(settings: AwsSettings) -> Self {
        Self::with_limits(settings, ServiceLimits::process_wide())
    }

    pub fn with_limits(settings: AwsSettings, limits: Arc<ServiceLimits>) -> Self {
        Self {
            settings,
            limits,
            cell: OnceCell::new(),
        }
    }

    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    pub async fn get(&self) -> Result<Arc<IdentityCenter>, Error> {
        self.cell
            .get_or_try_init(|| async {
                let config = self.settings.load_sdk_config().await?;
                self.settings.check_region_and_credentials(&config).await?;
                Ok(Arc::new(IdentityCenter::new(
                    &config,
                    self.limits.clone(),
                    self.settings.retry_policy(),
                )))
            })
            .await
            .cloned()
    }

    pub fn is_built(&self) -> bool {
        self.cell.initialized()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(duration: Option<Duration>) -> AssumeRoleSettings {
        AssumeRoleSettings {
            role_arn: "arn:aws:iam::123456789012:role/idbridge".into(),
            session_name: None,
            external_id: Some("ext".into()),
            duration,
        }
    }

    #[test]
    fn settings_validation_names_the_bad_field() {
        assert!(AwsSettings::default().validate().is_ok());
        let bad = AwsSettings {
            max_attempts: Some(0),
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("max_attempts")
        );
        let bad = AwsSettings {
            assume_role: Some(role(Some(Duration::from_secs(60)))),
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("assume_role.duration")
        );
        let bad = AwsSettings {
            assume_role: Some(AssumeRoleSettings {
                role_arn: "my-role".into(),
                ..role(None)
            }),
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("assume_role.role_arn")
        );
        let bad = AwsSettings {
            endpoint_url: Some("localhost:5000".into()),
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("endpoint_url")
        );
        assert_eq!(
            AwsSettings {
                max_attempts: Some(4),
                ..Default::default()
            }
            .retry_policy()
            .max_attempts,
            4
        );
    }

    #[tokio::test]
    async fn explicit_region_and_endpoint_reach_the_sdk_config() {
        let settings = AwsSettings {
            region: Some("eu-west-1".into()),
            endpoint_url: Some("http://127.0.0.1:1".into()),
            assume_role: Some(role(Some(Duration::from_secs(3600)))),
            ..Default::default()
        };
        let config = settings.load_sdk_config().await.unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:1"));
        assert!(config.credentials_provider().is_some());
    }

    #[tokio::test]
    async fn lazy_client_is_not_built_until_asked_and_then_built_once() {
        let lazy = LazyIdentityCenter::with_limits(
            AwsSettings {
                region: Some("us-east-1".into()),
                ..Default::default()
            },
            ServiceLimits::new(20.0, 1, 10),
        );
        assert!(!lazy.is_built());
        // Whether this machine has AWS credentials is not the test's to decide: with them the client is built
        // once and shared; without, asking fails with the credential error and builds nothing.
        match lazy.get().await {
            Ok(first) => {
                let second = lazy.get().await.unwrap();
                assert!(lazy.is_built());
                assert!(Arc::ptr_eq(&first, &second));
            }
            Err(error) => {
                assert!(matches!(error, Error::NoCredentials { .. }), "{error}");
                assert!(!lazy.is_built());
            }
        }
    }

    fn sdk_config(
        region: Option<&str>,
        credentials: Option<SharedCredentialsProvider>,
    ) -> SdkConfig {
        let mut builder = SdkConfig::builder().behavior_version(BehaviorVersion::latest());
        if let Some(region) = region {
            builder = builder.region(Region::new(region.to_owned()));
        }
        if let Some(credentials) = credentials {
            builder = builder.credentials_provider(credentials);
        }
        builder.build()
    }

    #[derive(Debug)]
    struct NoCredentialsHere;
    impl ProvideCredentials for NoCredentialsHere {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            aws_credential_types::provider::future::ProvideCredentials::ready(Err(
                CredentialsError::not_loaded("no providers in chain provided credentials"),
            ))
        }
    }

    #[tokio::test]
    async fn region_and_credentials_are_checked_before_the_client_is_built() {
        let settings = AwsSettings::default();
        let working = SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ));
        let missing = SharedCredentialsProvider::new(NoCredentialsHere);
        assert!(
            settings
                .check_region_and_credentials(&sdk_config(Some("eu-west-1"), Some(working.clone())))
                .await
                .is_ok()
        );
        let no_region = settings
            .check_region_and_credentials(&sdk_config(None, Some(working)))
            .await
            .unwrap_err();
        assert!(matches!(no_region, Error::NoRegion), "{no_region}");
        let none = settings
            .check_region_and_credentials(&sdk_config(Some("eu-west-1"), Some(missing)))
            .await
            .unwrap_err()
            .to_string();
        for tried in [
            "AWS_ACCESS_KEY_ID",
            "AWS_PROFILE",
            "web identity",
            "instance metadata",
            "`aws` block",
        ] {
            assert!(none.contains(tried), "{tried:?} missing from: {none}");
        }
        let profile = AwsSettings {
            profile: Some("ops".into()),
            ..Default::default()
        }
        .check_region_and_credentials(&sdk_config(Some("eu-west-1"), None))
        .await
        .unwrap_err()
        .to_string();
        assert!(
            profile.contains("profile `ops` of the provider's `aws` block"),
            "{profile}"
        );
    }
}
