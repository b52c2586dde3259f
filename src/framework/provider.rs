//! The `Provider` trait: the provider's own configuration and the list of what it offers.

use std::sync::Arc;

use async_trait::async_trait;

use super::action::Action;
use super::context::{Context, ProviderData};
use super::data_source::DataSource;
use super::diag::Diagnostics;
use super::ephemeral::EphemeralResource;
use super::function::Function;
use super::list_resource::ListResource;
use super::resource::{Resource, opaque_debug};
use super::schema::Schema;
use super::value::Value;

/// Inputs of `configure`.
#[derive(Clone)]
pub struct ConfigureRequest {
    /// May contain unknown values when the configuration depends on resources not yet created.
    pub config: Value,
    pub terraform_version: String,
}

opaque_debug!(ConfigureRequest);

#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Provider type name (the `example` of `example_thing` and `provider::example::f`).
    fn type_name(&self) -> &str;

    fn schema(&self) -> Schema;

    async fn validate_config(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Builds what resources need (clients); made available through `Context::provider_data`.
    async fn configure(
        &self,
        ctx: &Context,
        request: ConfigureRequest,
    ) -> Result<ProviderData, Diagnostics>;

    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        Vec::new()
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }

    /// List resources for `terraform query`; each `type_name` is one of `resources()`.
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        Vec::new()
    }

    fn actions(&self) -> Vec<Arc<dyn Action>> {
        Vec::new()
    }
}
