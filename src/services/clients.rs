//! What `configure` hands to resources: the resolved settings of both clouds and their clients, each client
//! built on first use and only once. A plan that touches neither cloud (the SAML metadata data source, the
//! provider function) therefore needs no credentials, and an Entra-only plan never resolves AWS credentials.

use std::fmt;
use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::clients::aws::{
    AwsSettings, Error as AwsClientError, IdentityCenter, LazyIdentityCenter,
};
use crate::clients::graph::{AuthError, EntraSettings, GraphClient, RetryPolicy, SettingsError};
use crate::framework::{Context, Diagnostic, Diagnostics};

use crate::helpers::sentence;

use super::cache::ServiceCaches;

const UNKNOWN_AT_PLAN: &str = "depends on values that Terraform only knows after apply (for example attributes \
     of resources not created yet). Configure the provider from values known at plan time, such as variables, \
     locals or data sources.";

enum EntraState {
    Resolved {
        settings: Box<EntraSettings>,
        graph: OnceCell<Arc<GraphClient>>,
    },
    /// Bad environment or unreadable file: reported when a resource needs Entra ID, not before, so that a plan
    /// without Entra resources is not blocked by an unrelated variable.
    Invalid(SettingsError),
    /// Part of the `entra` block was unknown at configure time.
    Deferred,
}

enum AwsState {
    Resolved(Box<LazyIdentityCenter>),
    Deferred,
}

/// The provider data every idbridge resource receives: get it with [`IdbridgeClients::from_context`], then
/// call [`IdbridgeClients::graph`] or [`IdbridgeClients::identity_center`].
pub struct IdbridgeClients {
    entra: EntraState,
    aws: AwsState,
    /// One set per configured provider: its clients may reach another tenant or organization than another's.
    caches: ServiceCaches,
}

impl fmt::Debug for IdbridgeClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entra = match &self.entra {
            EntraState::Resolved { settings, graph } => format!(
                "resolved {settings:?}, graph client {}",
                if graph.initialized() {
                    "built"
                } else {
                    "not built"
                }
            ),
            EntraState::Invalid(error) => format!("invalid: {error}"),
            EntraState::Deferred => "deferred".into(),
        };
        let aws = match &self.aws {
            AwsState::Resolved(lazy) => format!("resolved {:?}", lazy.settings()),
            AwsState::Deferred => "deferred".into(),
        };
        f.debug_struct("IdbridgeClients")
            .field("entra", &entra)
            .field("aws", &aws)
            .finish()
    }
}

impl IdbridgeClients {
    pub(crate) fn new(
        entra: Option<Result<EntraSettings, SettingsError>>,
        aws: Option<AwsSettings>,
    ) -> Self {
        let entra = match entra {
            None => EntraState::Deferred,
            Some(Ok(settings)) => EntraState::Resolved {
                settings: Box::new(settings),
                graph: OnceCell::new(),
            },
            Some(Err(error)) => EntraState::Invalid(error),
        };
        let aws = match aws {
            None => AwsState::Deferred,
            Some(settings) => AwsState::Resolved(Box::new(LazyIdentityCenter::new(settings))),
        };
        IdbridgeClients {
            entra,
            aws,
            caches: ServiceCaches::default(),
        }
    }

    /// What the services remember for this configured provider (instances, permission sets, pacers).
    pub fn caches(&self) -> &ServiceCaches {
        &self.caches
    }

    /// The provider data of a configured provider, or the framework's diagnostic when it is missing.
    pub fn from_context(ctx: &Context) -> Result<Arc<IdbridgeClients>, Diagnostics> {
        ctx.provider_data::<IdbridgeClients>()
    }

    /// The resolved Entra ID settings (provider `entra` block over the `ARM_*` environment).
    pub fn entra_settings(&self) -> Result<&EntraSettings, Diagnostics> {
        match &self.entra {
            EntraState::Resolved { settings, .. } => Ok(settings),
            EntraState::Invalid(error) => Err(invalid_entra(error)),
            EntraState::Deferred => Err(deferred(
                "Microsoft Entra ID configuration not known yet",
                "entra",
            )),
        }
    }

    /// The Microsoft Graph client, built on the first call and shared afterwards. Fails with a diagnostic that
    /// names the missing setting when no usable credential is configured.
    pub async fn graph(&self) -> Result<Arc<GraphClient>, Diagnostics> {
        let EntraState::Resolved { settings, graph } = &self.entra else {
            return Err(self.entra_settings().err().unwrap_or_default());
        };
        graph
            .get_or_try_init(|| async {
                GraphClient::new(settings, RetryPolicy::default())
                    .map(Arc::new)
                    .map_err(|error| {
                        Diagnostic::error(
                            "Cannot set up the Microsoft Graph client",
                            format!(
                                "{} Configure the provider's `entra` block or the ARM_* environment variables \
                                 (see the provider documentation for each authentication method).",
                                sentence(&error.to_string())
                            ),
                        )
                        .into()
                    })
            })
            .await
            .cloned()
    }

    /// The resolved AWS settings of the provider's `aws` block (the SDK adds its own environment fallbacks).
    pub fn aws_settings(&self) -> Result<&AwsSettings, Diagnostics> {
        match &self.aws {
            AwsState::Resolved(lazy) => Ok(lazy.settings()),
            AwsState::Deferred => Err(deferred("AWS configuration not known yet", "aws")),
        }
    }

    /// The IAM Identity Center client, built on the first call (credential chain resolution included) and
    /// shared afterwards.
    pub async fn identity_center(&self) -> Result<Arc<IdentityCenter>, Diagnostics> {
        let AwsState::Resolved(lazy) = &self.aws else {
            return Err(deferred("AWS configuration not known yet", "aws"));
        };
        lazy.get().await.map_err(|error| {
            let detail = match error {
                // These say themselves what was tried and what to set.
                AwsClientError::NoCredentials { .. } | AwsClientError::NoRegion => {
                    sentence(&error.to_string())
                }
                _ => format!(
                    "{} Configure the provider's `aws` block or the standard AWS environment (AWS_PROFILE, \
                     AWS_REGION, AWS_ACCESS_KEY_ID, ...).",
                    sentence(&error.to_string())
                ),
            };
            Diagnostic::error("Cannot set up the AWS IAM Identity Center client", detail).into()
        })
    }

    /// Fails within seconds when the credentials of a cloud are missing or rejected, so that a plan stops with
    /// one clear error before anything is created instead of apply failing after the clients' retries. Skipped
    /// while the provider configuration is not known yet (the error would only say so).
    pub async fn check_credentials(&self, clouds: &[Cloud]) -> Result<(), Diagnostics> {
        for cloud in clouds {
            match cloud {
                Cloud::Entra => {
                    if matches!(self.entra, EntraState::Deferred) {
                        continue;
                    }
                    let graph = self.graph().await?;
                    graph.token_provider().token().await.map_err(|error| {
                        let detail = match error {
                            // Says itself what was tried and what to set.
                            AuthError::NoCredentialFound { .. } => sentence(&error.to_string()),
                            _ => format!(
                                "{} Check the provider's `entra` block or the ARM_* environment variables.",
                                sentence(&error.to_string())
                            ),
                        };
                        Diagnostic::error("Cannot sign in to Microsoft Entra ID", detail)
                    })?;
                }
                Cloud::Aws => {
                    if matches!(self.aws, AwsState::Deferred) {
                        continue;
                    }
                    self.identity_center().await?;
                }
            }
        }
        Ok(())
    }

    /// Whether the Graph client has been built; lets tests prove that nothing was built eagerly.
    pub fn graph_is_built(&self) -> bool {
        matches!(&self.entra, EntraState::Resolved { graph, .. } if graph.initialized())
    }

    /// Whether the Identity Center client has been built.
    pub fn identity_center_is_built(&self) -> bool {
        matches!(&self.aws, AwsState::Resolved(lazy) if lazy.is_built())
    }
}

fn invalid_entra(error: &SettingsError) -> Diagnostics {
    Diagnostic::error(
        "Invalid Microsoft Entra ID configuration",
        format!(
            "{} Fix the provider's `entra` block or the ARM_* environment variables.",
            sentence(&error.to_string())
        ),
    )
    .into()
}

fn deferred(summary: &str, block: &str) -> Diagnostics {
    Diagnostic::error(
        summary,
        format!("The provider's `{block}` block {UNKNOWN_AT_PLAN}"),
    )
    .into()
}

/// A cloud a resource talks to, for [`check_credentials_at_plan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cloud {
    Entra,
    Aws,
}

/// The plan-time credential check of a resource: the clouds it needs, checked once per provider process (the
/// clients and the token are cached). Nothing to check before `configure` (validation runs unconfigured).
pub async fn check_credentials_at_plan(ctx: &Context, clouds: &[Cloud]) -> Result<(), Diagnostics> {
    let Ok(clients) = IdbridgeClients::from_context(ctx) else {
        return Ok(());
    };
    clients.check_credentials(clouds).await
}

/// The configured clients and the Graph client built from them (the first call authenticates).
pub async fn graph_clients(
    ctx: &Context,
) -> Result<(Arc<IdbridgeClients>, Arc<GraphClient>), Diagnostics> {
    let clients = IdbridgeClients::from_context(ctx)?;
    let graph = clients.graph().await?;
    Ok((clients, graph))
}
