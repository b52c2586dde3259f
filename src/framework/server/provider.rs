//! Provider-level RPCs: schemas and metadata, provider configuration, StopProvider.

use std::sync::PoisonError;

use tokio_util::sync::CancellationToken;

use super::{DEFAULT_TIMEOUT, EncodedValue, Server};
use crate::framework::diag::Diagnostics;
use crate::framework::function::FunctionDefinition;
use crate::framework::provider::{ConfigureRequest, Provider};
use crate::framework::schema::{self, Schema};

/// Optional protocol features this server implements.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ServerCapabilities {
    pub plan_destroy: bool,
    pub get_provider_schema_optional: bool,
    pub move_resource_state: bool,
    pub generate_resource_config: bool,
}

const CAPABILITIES: ServerCapabilities = ServerCapabilities {
    plan_destroy: true,
    get_provider_schema_optional: true,
    move_resource_state: true,
    generate_resource_config: false,
};

/// Everything GetProviderSchema reports.
pub(crate) struct ProviderSchemas<'a> {
    pub provider: &'a Schema,
    pub resources: Vec<(&'a str, &'a Schema)>,
    pub data_sources: Vec<(&'a str, &'a Schema)>,
    pub ephemeral_resources: Vec<(&'a str, &'a Schema)>,
    pub list_resources: Vec<(&'a str, &'a Schema)>,
    pub actions: Vec<(&'a str, &'a Schema)>,
    pub functions: Vec<&'a FunctionDefinition>,
    pub diagnostics: &'a Diagnostics,
    pub capabilities: ServerCapabilities,
}

/// Everything GetMetadata reports: type names, sorted.
pub(crate) struct Metadata<'a> {
    pub resources: Vec<&'a str>,
    pub data_sources: Vec<&'a str>,
    pub ephemeral_resources: Vec<&'a str>,
    pub list_resources: Vec<&'a str>,
    pub actions: Vec<&'a str>,
    pub functions: Vec<&'a str>,
    pub diagnostics: &'a Diagnostics,
    pub capabilities: ServerCapabilities,
}

#[derive(Debug)]
pub(crate) struct ConfigureProviderRequest {
    pub terraform_version: String,
    pub config: EncodedValue,
}

fn sorted<'a>(names: impl Iterator<Item = &'a String>) -> Vec<&'a str> {
    let mut names: Vec<&str> = names.map(String::as_str).collect();
    names.sort_unstable();
    names
}

impl<P: Provider> Server<P> {
    pub(crate) fn provider_schemas(&self) -> ProviderSchemas<'_> {
        ProviderSchemas {
            provider: &self.provider_schema,
            resources: self
                .resources
                .iter()
                .map(|(n, r)| (n.as_str(), &r.schema))
                .collect(),
            data_sources: self
                .data_sources
                .iter()
                .map(|(n, d)| (n.as_str(), &d.schema))
                .collect(),
            ephemeral_resources: self
                .ephemerals
                .iter()
                .map(|(n, e)| (n.as_str(), &e.schema))
                .collect(),
            list_resources: self
                .list_resources
                .iter()
                .map(|(n, l)| (n.as_str(), &l.schema))
                .collect(),
            actions: self
                .actions
                .iter()
                .map(|(n, a)| (n.as_str(), &a.schema))
                .collect(),
            functions: self
                .functions
                .values()
                .map(|(_, definition)| definition)
                .collect(),
            diagnostics: &self.startup,
            capabilities: CAPABILITIES,
        }
    }

    pub(crate) fn metadata(&self) -> Metadata<'_> {
        Metadata {
            resources: sorted(self.resources.keys()),
            data_sources: sorted(self.data_sources.keys()),
            ephemeral_resources: sorted(self.ephemerals.keys()),
            list_resources: sorted(self.list_resources.keys()),
            actions: sorted(self.actions.keys()),
            functions: sorted(self.functions.keys()),
            diagnostics: &self.startup,
            capabilities: CAPABILITIES,
        }
    }

    pub(crate) fn provider_type_name(&self) -> &str {
        self.provider.type_name()
    }

    pub(crate) async fn validate_provider_config(&self, config: &EncodedValue) -> Diagnostics {
        match config.decode(&self.provider_type) {
            Ok(config) => {
                let mut diags = schema::validate_config(&self.provider_schema, &config);
                let ctx = self.context(self.provider.type_name(), DEFAULT_TIMEOUT, Vec::new());
                diags.extend(self.provider.validate_config(&ctx, &config).await);
                diags.extend(ctx.take_diagnostics());
                diags
            }
            Err(diags) => diags,
        }
    }

    /// Configures the provider; what it returns is handed to every later call through its [`Context`].
    ///
    /// [`Context`]: crate::framework::Context
    pub(crate) async fn configure_provider(
        &self,
        request: ConfigureProviderRequest,
    ) -> Diagnostics {
        let mut diags = Diagnostics::new();
        match request.config.decode(&self.provider_type) {
            Ok(config) => {
                let ctx = self.context(self.provider.type_name(), DEFAULT_TIMEOUT, Vec::new());
                let configure = self.provider.configure(
                    &ctx,
                    ConfigureRequest {
                        config,
                        terraform_version: request.terraform_version,
                    },
                );
                let result = self.supervise(&ctx, configure, Diagnostics::from).await;
                diags.extend(ctx.take_diagnostics());
                match result {
                    Ok(data) => {
                        *self
                            .provider_data
                            .write()
                            .unwrap_or_else(PoisonError::into_inner) = Some(data)
                    }
                    Err(e) => diags.extend(e),
                }
            }
            Err(e) => diags.extend(e),
        }
        diags
    }

    /// Cancels what is running; later requests get a fresh token, the server itself keeps serving.
    pub(crate) fn stop_provider(&self) {
        let previous = std::mem::replace(
            &mut *self.stop.lock().unwrap_or_else(PoisonError::into_inner),
            CancellationToken::new(),
        );
        previous.cancel();
    }
}
