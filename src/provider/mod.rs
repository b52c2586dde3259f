//! The `idbridge` provider: its configuration (the `entra` and `aws` blocks), the lazily built clients it hands
//! to resources, and the list of everything it offers. See src/lib.rs for the layer overview.

mod config;

use std::sync::Arc;

use async_trait::async_trait;

pub use crate::services::IdbridgeClients;

use crate::clients::graph::{EntraSettings, SettingsError};
use crate::data_sources::aws_saml_metadata::AwsSamlMetadataDataSource;
use crate::data_sources::identity_store_group::IdentityStoreGroupDataSource;
use crate::data_sources::sign_in_preview::SignInPreviewDataSource;
use crate::data_sources::sso_instance::SsoInstanceDataSource;
use crate::framework::{
    ConfigureRequest, Context, DataSource, Diagnostics, Function, Provider, ProviderData, Resource,
    Schema, Value,
};
use crate::functions::parse_aws_saml_metadata::ParseAwsSamlMetadata;
use crate::resources::access_control_attributes::AccessControlAttributesResource;
use crate::resources::entra_application::EntraApplicationResource;
use crate::resources::group_assignment::GroupAssignmentResource;
use crate::resources::permission_set::PermissionSetResource;
use crate::resources::saml_trust::SamlTrustResource;
use crate::resources::scim_provisioning::ScimProvisioningResource;
use crate::resources::user_assignment::UserAssignmentResource;
use config::Configured;

/// Environment lookup used to resolve settings; the process environment outside tests.
type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

pub struct IdbridgeProvider {
    env: EnvLookup,
}

impl IdbridgeProvider {
    pub const TYPE_NAME: &str = "idbridge";

    /// The provider reading its fallbacks from the process environment.
    pub fn new() -> Self {
        Self::with_env(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
    }

    /// The provider with an injected environment, for tests that must not touch the process environment.
    pub fn with_env(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        IdbridgeProvider {
            env: Arc::new(lookup),
        }
    }

    fn resolve_entra(
        &self,
        overrides: &crate::clients::graph::EntraOverrides,
    ) -> Result<EntraSettings, SettingsError> {
        let env = self.env.clone();
        EntraSettings::from_lookup_and(move |name| env(name), overrides)
    }
}

impl Default for IdbridgeProvider {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Provider for IdbridgeProvider {
    fn type_name(&self) -> &str {
        Self::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        config::provider_schema()
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        config::validate(config)
    }

    /// Resolves settings only; no client is built and no credential is looked at until a resource asks.
    async fn configure(
        &self,
        _ctx: &Context,
        request: ConfigureRequest,
    ) -> Result<ProviderData, Diagnostics> {
        let entra = match config::entra_overrides(&request.config) {
            Configured::Known(overrides) => Some(self.resolve_entra(&overrides)),
            Configured::Unknown => None,
        };
        let aws = match config::aws_settings(&request.config) {
            Configured::Known(settings) => Some(settings),
            Configured::Unknown => None,
        };
        let clients = IdbridgeClients::new(entra, aws);
        tracing::debug!(?clients, "provider configured");
        Ok(Arc::new(clients))
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(EntraApplicationResource),
            Arc::new(SamlTrustResource),
            Arc::new(GroupAssignmentResource),
            Arc::new(UserAssignmentResource),
            Arc::new(PermissionSetResource),
            Arc::new(ScimProvisioningResource),
            Arc::new(AccessControlAttributesResource),
            Arc::new(crate::resources::conditional_access_policy::ConditionalAccessPolicyResource),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![
            Arc::new(AwsSamlMetadataDataSource),
            Arc::new(SsoInstanceDataSource),
            Arc::new(IdentityStoreGroupDataSource),
            Arc::new(SignInPreviewDataSource),
        ]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![Arc::new(ParseAwsSamlMetadata)]
    }

    fn list_resources(&self) -> Vec<Arc<dyn crate::framework::ListResource>> {
        use crate::resources::*;
        vec![
            Arc::new(entra_application::EntraApplicationList),
            Arc::new(saml_trust::SamlTrustList),
            Arc::new(scim_provisioning::ScimProvisioningList),
            Arc::new(permission_set::PermissionSetList),
            Arc::new(group_assignment::GroupAssignmentList),
            Arc::new(user_assignment::UserAssignmentList),
            Arc::new(conditional_access_policy::ConditionalAccessPolicyList),
            Arc::new(access_control_attributes::AccessControlAttributesList),
        ]
    }

    fn actions(&self) -> Vec<Arc<dyn crate::framework::Action>> {
        use crate::actions::*;
        vec![
            Arc::new(provision_on_demand::ProvisionOnDemandAction),
            Arc::new(restart_provisioning::RestartProvisioningAction),
            Arc::new(rotate_signing_certificate::RotateSigningCertificateAction),
        ]
    }
}

#[cfg(test)]
mod tests;
