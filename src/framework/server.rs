//! `FrameworkServer`: serves a [`Provider`] through the generated protocol 6 gRPC trait, doing what
//! terraform-plugin-framework does around the resource code (decoding, plan rules, write-only nulling,
//! timeouts, cancellation, diagnostics).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use super::context::{Context, ProviderData};
use super::data_source::DataSource;
use super::diag::{Diagnostic, Diagnostics};
use super::ephemeral::EphemeralResource;
use super::function::{Function, FunctionDefinition, FunctionError};
use super::json::{self, JsonDecodeOptions};
use super::msgpack;
use super::path::AttributePath;
use super::provider::{ConfigureRequest, Provider};
use super::resource::{
    ApplyError, CreateRequest, MoveSource, PlanChange, RawState, Resource, UpdateRequest,
};
use super::schema::{self, Operation, Schema};
use super::types::Type;
use super::value::Value;
use crate::protocol::tfplugin6::{self as pb, provider_server};

/// How long an operation that was cancelled or timed out may take to return on its own (e.g. with partial
/// state) before the server gives up on it.
const DEFAULT_CANCEL_GRACE: Duration = Duration::from_secs(5);
/// Timeout for calls that have no `timeouts` block entry (plans, data sources, imports).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

struct Registered<T: ?Sized> {
    handler: Arc<T>,
    schema: Schema,
    ty: Type,
}

impl<T: ?Sized> Registered<T> {
    fn new(handler: Arc<T>, schema: Schema) -> Self {
        let ty = schema.value_type();
        Registered {
            handler,
            schema,
            ty,
        }
    }
}

/// Implements `tfplugin6::provider_server::Provider` for any [`Provider`].
pub struct FrameworkServer<P: Provider> {
    provider: Arc<P>,
    provider_schema: Schema,
    provider_type: Type,
    resources: HashMap<String, Registered<dyn Resource>>,
    data_sources: HashMap<String, Registered<dyn DataSource>>,
    ephemerals: HashMap<String, Registered<dyn EphemeralResource>>,
    functions: HashMap<String, (Arc<dyn Function>, FunctionDefinition)>,
    schema_response: pb::get_provider_schema::Response,
    metadata_response: pb::get_metadata::Response,
    functions_response: pb::get_functions::Response,
    provider_data: RwLock<Option<ProviderData>>,
    stop: Mutex<CancellationToken>,
    cancel_grace: Duration,
}

fn server_capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: true,
        move_resource_state: true,
        generate_resource_config: false,
    }
}

impl<P: Provider> FrameworkServer<P> {
    /// Collects schemas and builds the schema, metadata and function responses once.
    pub fn new(provider: P) -> Self {
        let provider = Arc::new(provider);
        let mut startup = Diagnostics::new();
        let provider_schema = provider.schema();
        startup.extend(provider_schema.check(provider.type_name()));

        let prefix = format!("{}_", provider.type_name());
        let resources = register(
            provider.resources(),
            "resource",
            &prefix,
            &mut startup,
            |r| (r.type_name().to_owned(), r.schema()),
        );
        let data_sources = register(
            provider.data_sources(),
            "data source",
            &prefix,
            &mut startup,
            |d| (d.type_name().to_owned(), d.schema()),
        );
        let ephemerals = register(
            provider.ephemeral_resources(),
            "ephemeral resource",
            &prefix,
            &mut startup,
            |e| (e.type_name().to_owned(), e.schema()),
        );
        let mut functions = HashMap::new();
        for f in provider.functions() {
            let definition = f.definition();
            let name = definition.name.clone();
            if functions.insert(name.clone(), (f, definition)).is_some() {
                startup.error(
                    "Duplicate function",
                    format!("{name} is registered twice. This is a bug in the provider."),
                );
            }
        }

        let function_protos: HashMap<String, pb::Function> = functions
            .iter()
            .map(|(name, (_, def))| (name.clone(), function_to_proto(def)))
            .collect();
        let schema_response = pb::get_provider_schema::Response {
            provider: Some(provider_schema.to_proto()),
            resource_schemas: resources
                .iter()
                .map(|(n, r)| (n.clone(), r.schema.to_proto()))
                .collect(),
            data_source_schemas: data_sources
                .iter()
                .map(|(n, d)| (n.clone(), d.schema.to_proto()))
                .collect(),
            ephemeral_resource_schemas: ephemerals
                .iter()
                .map(|(n, e)| (n.clone(), e.schema.to_proto()))
                .collect(),
            functions: function_protos.clone(),
            diagnostics: startup.to_proto(),
            server_capabilities: Some(server_capabilities()),
            ..Default::default()
        };
        let sorted = |names: Vec<&String>| {
            let mut names: Vec<String> = names.into_iter().cloned().collect();
            names.sort();
            names
        };
        let metadata_response = pb::get_metadata::Response {
            server_capabilities: Some(server_capabilities()),
            diagnostics: startup.to_proto(),
            resources: sorted(resources.keys().collect())
                .into_iter()
                .map(|type_name| pb::get_metadata::ResourceMetadata { type_name })
                .collect(),
            data_sources: sorted(data_sources.keys().collect())
                .into_iter()
                .map(|type_name| pb::get_metadata::DataSourceMetadata { type_name })
                .collect(),
            ephemeral_resources: sorted(ephemerals.keys().collect())
                .into_iter()
                .map(|type_name| pb::get_metadata::EphemeralMetadata { type_name })
                .collect(),
            functions: sorted(functions.keys().collect())
                .into_iter()
                .map(|name| pb::get_metadata::FunctionMetadata { name })
                .collect(),
            ..Default::default()
        };
        let functions_response = pb::get_functions::Response {
            functions: function_protos,
            diagnostics: startup.to_proto(),
        };
        let provider_type = provider_schema.value_type();

        FrameworkServer {
            provider,
            provider_schema,
            provider_type,
            resources,
            data_sources,
            ephemerals,
            functions,
            schema_response,
            metadata_response,
            functions_response,
            provider_data: RwLock::new(None),
            stop: Mutex::new(CancellationToken::new()),
            cancel_grace: DEFAULT_CANCEL_GRACE,
        }
    }

    /// How long a cancelled or timed-out operation may take to wind down by itself.
    pub fn with_cancel_grace(mut self, grace: Duration) -> Self {
        self.cancel_grace = grace;
        self
    }

    fn context(&self, type_name: &str, timeout: Duration, private: Vec<u8>) -> Context {
        let token = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let data = self
            .provider_data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Context::new(type_name, token, timeout, data, private)
    }

    /// Runs resource code until done; on StopProvider or timeout it gets `cancel_grace` to return by itself,
    /// then is abandoned with a diagnostic.
    async fn supervise<T, E, F>(
        &self,
        ctx: &Context,
        work: F,
        abort: impl FnOnce(Diagnostic) -> E,
    ) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        // Logs emitted by resource code carry the type name of the request they serve.
        let work = work.instrument(tracing::debug_span!(
            "operation",
            type_name = ctx.type_name()
        ));
        tokio::pin!(work);
        let reason = tokio::select! {
            // Work that is already done wins over a deadline that passed meanwhile.
            biased;
            result = &mut work => return result,
            _ = ctx.cancellation_token().cancelled() => ctx.cancelled_error(),
            _ = tokio::time::sleep_until(ctx.deadline()) => ctx.timeout_error(),
        };
        match tokio::time::timeout(self.cancel_grace, &mut work).await {
            Ok(result) => result,
            Err(_) => Err(abort(reason)),
        }
    }

    /// Decodes a configuration, runs the schema's validators and the handler's own checks. Write-only
    /// arguments are refused when the client cannot handle them.
    async fn validate<T: ?Sized + ValidateConfig>(
        &self,
        registry: &HashMap<String, Registered<T>>,
        kind: &str,
        type_name: &str,
        config: Option<&pb::DynamicValue>,
        client_accepts_write_only: bool,
    ) -> Diagnostics {
        let outcome = async {
            let registered = registry.get(type_name).ok_or_else(|| unknown_type(kind, type_name))?;
            let config = decode(config, &registered.ty)?;
            let mut diags = schema::validate_config(&registered.schema, &config);
            if !client_accepts_write_only {
                for path in schema::write_only_paths_set(&registered.schema, &config) {
                    diags.error_at(
                        path.clone(),
                        "Write-only attribute not supported by this Terraform version",
                        format!(
                            "{path} is write-only, which needs Terraform 1.11 or later. Upgrade Terraform or remove the argument."
                        ),
                    );
                }
            }
            let ctx = self.context(type_name, DEFAULT_TIMEOUT, Vec::new());
            diags.extend(registered.handler.validate(&ctx, &config).await);
            diags.extend(ctx.take_diagnostics());
            Ok::<_, Diagnostics>(diags)
        }
        .await;
        outcome.unwrap_or_else(|diags| diags)
    }

    fn resource(&self, type_name: &str) -> Result<&Registered<dyn Resource>, Diagnostics> {
        self.resources
            .get(type_name)
            .ok_or_else(|| unknown_type("resource", type_name))
    }
}

/// Collects one kind of handler by type name, reporting broken schemas, bad names and duplicates.
fn register<T: ?Sized>(
    handlers: Vec<Arc<T>>,
    kind: &str,
    prefix: &str,
    startup: &mut Diagnostics,
    name_and_schema: impl Fn(&T) -> (String, Schema),
) -> HashMap<String, Registered<T>> {
    let mut registry = HashMap::new();
    for handler in handlers {
        let (name, schema) = name_and_schema(&handler);
        startup.extend(schema.check(&name));
        check_type_name(startup, prefix, kind, &name);
        if registry
            .insert(name.clone(), Registered::new(handler, schema))
            .is_some()
        {
            startup.error(
                format!("Duplicate {kind} type"),
                format!("{name} is registered twice. This is a bug in the provider."),
            );
        }
    }
    registry
}

/// Terraform derives the provider from a type name's prefix, so a mismatched prefix is unusable.
fn check_type_name(diags: &mut Diagnostics, prefix: &str, kind: &str, name: &str) {
    if !name.starts_with(prefix) {
        diags.error(
            format!("Invalid {kind} type name"),
            format!("{name} must start with {prefix:?}. This is a bug in the provider."),
        );
    }
}

/// What validation needs from resources, data sources and ephemeral resources alike.
#[async_trait::async_trait]
trait ValidateConfig: Send + Sync {
    async fn validate(&self, ctx: &Context, config: &Value) -> Diagnostics;
}

#[async_trait::async_trait]
impl ValidateConfig for dyn Resource {
    async fn validate(&self, ctx: &Context, config: &Value) -> Diagnostics {
        self.validate_config(ctx, config).await
    }
}

#[async_trait::async_trait]
impl ValidateConfig for dyn DataSource {
    async fn validate(&self, ctx: &Context, config: &Value) -> Diagnostics {
        self.validate_config(ctx, config).await
    }
}

#[async_trait::async_trait]
impl ValidateConfig for dyn EphemeralResource {
    async fn validate(&self, ctx: &Context, config: &Value) -> Diagnostics {
        self.validate_config(ctx, config).await
    }
}

fn unknown_type(kind: &str, type_name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} type {type_name:?}. Check the spelling, or upgrade the provider if it is newer."),
    )
    .into()
}

fn not_supported(what: &str) -> Vec<pb::Diagnostic> {
    Diagnostics::from(Diagnostic::error(
        format!("{what} not supported"),
        format!("The idbridge provider does not offer {what}."),
    ))
    .to_proto()
}

fn decode(value: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, Diagnostics> {
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    let result = if !value.msgpack.is_empty() {
        msgpack::decode(&value.msgpack, ty).map_err(|e| e.to_string())
    } else if !value.json.is_empty() {
        json::decode(&value.json, ty).map_err(|e| e.to_string())
    } else {
        Ok(Value::Null)
    };
    result.map_err(|e| {
        Diagnostic::error(
            "Invalid value from Terraform",
            format!("The value Terraform sent does not match the schema: {e}. This is a bug in Terraform or the provider."),
        )
        .into()
    })
}

fn encode(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostics> {
    msgpack::encode(value, ty).map(|msgpack| pb::DynamicValue { msgpack, json: Vec::new() }).map_err(|e| {
        Diagnostic::error(
            "Invalid value from provider",
            format!("The provider produced a value that does not match its schema: {e}. This is a bug in the provider."),
        )
        .into()
    })
}

/// Encodes into `out`, turning an encoding failure into diagnostics.
fn encode_into(value: &Value, ty: &Type, diags: &mut Diagnostics) -> Option<pb::DynamicValue> {
    match encode(value, ty) {
        Ok(v) => Some(v),
        Err(e) => {
            diags.extend(e);
            None
        }
    }
}

/// Applies what Terraform requires of a new state: write-only attributes null, nothing unknown.
fn finish_state(schema: &Schema, state: &mut Value, diags: &mut Diagnostics) {
    schema::null_write_only(schema, state);
    let mut unknown = Vec::new();
    schema::take_unknowns(state, &AttributePath::root(), &mut unknown);
    for path in unknown {
        diags.error_at(
            path.clone(),
            "Provider returned an unknown value",
            format!(
                "{path} is unknown in the new state, where Terraform needs every value known (after apply, read and import). This is a bug in the provider."
            ),
        );
    }
}

fn timestamp(time: SystemTime) -> prost_types::Timestamp {
    let since_epoch = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    prost_types::Timestamp {
        seconds: since_epoch.as_secs() as i64,
        nanos: since_epoch.subsec_nanos() as i32,
    }
}

fn function_to_proto(def: &FunctionDefinition) -> pb::Function {
    let parameter = |p: &super::function::Parameter| pb::function::Parameter {
        name: p.name.clone(),
        r#type: p.ty.to_json(),
        allow_null_value: p.allow_null,
        allow_unknown_values: p.allow_unknown,
        description: p.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
    };
    pb::Function {
        parameters: def.parameters.iter().map(parameter).collect(),
        variadic_parameter: def.variadic.as_ref().map(parameter),
        r#return: Some(pb::function::Return {
            r#type: def.return_type.to_json(),
        }),
        summary: def.summary.clone(),
        description: def.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: def.deprecation_message.clone().unwrap_or_default(),
    }
}

type EventStream<T> = Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send + 'static>>;

fn single_event<T: Send + 'static>(event: T) -> EventStream<T> {
    Box::pin(tokio_stream::once(Ok(event)))
}

#[tonic::async_trait]
impl<P: Provider> provider_server::Provider for FrameworkServer<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        tracing::trace!(rpc = "GetMetadata");
        Ok(Response::new(self.metadata_response.clone()))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        tracing::trace!(rpc = "GetProviderSchema");
        Ok(Response::new(self.schema_response.clone()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        tracing::debug!(
            rpc = "ValidateProviderConfig",
            provider = self.provider.type_name()
        );
        let request = request.into_inner();
        let diagnostics = match decode(request.config.as_ref(), &self.provider_type) {
            Ok(config) => {
                let mut diags = schema::validate_config(&self.provider_schema, &config);
                let ctx = self.context(self.provider.type_name(), DEFAULT_TIMEOUT, Vec::new());
                diags.extend(self.provider.validate_config(&ctx, &config).await);
                diags.extend(ctx.take_diagnostics());
                diags
            }
            Err(diags) => diags,
        };
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diagnostics.to_proto(),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ValidateResourceConfig", type_name = %request.type_name);
        let write_only_allowed = request
            .client_capabilities
            .is_some_and(|c| c.write_only_attributes_allowed);
        let diagnostics = self
            .validate(
                &self.resources,
                "resource",
                &request.type_name,
                request.config.as_ref(),
                write_only_allowed,
            )
            .await;
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diagnostics.to_proto(),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ValidateDataResourceConfig", type_name = %request.type_name);
        let diagnostics = self
            .validate(
                &self.data_sources,
                "data source",
                &request.type_name,
                request.config.as_ref(),
                true,
            )
            .await;
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics.to_proto(),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "UpgradeResourceState", type_name = %request.type_name, version = request.version);
        let mut diags = Diagnostics::new();
        let upgraded = async {
            let r = self.resource(&request.type_name)?;
            let raw = request.raw_state.unwrap_or_default();
            if raw.json.is_empty() {
                if raw.flatmap.is_empty() {
                    return encode(&Value::Null, &r.ty);
                }
                return Err(Diagnostic::error(
                    "Unsupported state format",
                    "This state was written in the legacy flatmap format, which this provider never produced. Remove the resource from state and import it again.",
                )
                .into());
            }
            let current = r.schema.version;
            let mut state = if request.version == current {
                json::decode_with(&raw.json, &r.ty, JsonDecodeOptions { ignore_undefined_attributes: true }).map_err(|e| {
                    Diagnostics::from(Diagnostic::error(
                        "Unreadable resource state",
                        format!("The stored state does not match the schema: {e}. Remove the resource from state and import it again."),
                    ))
                })?
            } else if request.version > current {
                return Err(Diagnostic::error(
                    "Resource state is from a newer provider",
                    format!(
                        "The state of this {} was written with schema version {}, but this provider knows versions up to {current}. Upgrade the provider.",
                        request.type_name, request.version
                    ),
                )
                .into());
            } else {
                let ctx = self.context(&request.type_name, DEFAULT_TIMEOUT, Vec::new());
                let result = self
                    .supervise(&ctx, r.handler.upgrade_state(&ctx, request.version, RawState { json: raw.json }), Diagnostics::from)
                    .await;
                diags.extend(ctx.take_diagnostics());
                result?
            };
            schema::null_write_only(&r.schema, &mut state);
            encode(&state, &r.ty)
        }
        .await
        .map_err(|e| diags.extend(e))
        .ok();
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: diags.to_proto(),
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        tracing::trace!(rpc = "GetResourceIdentitySchemas");
        // No resource declares an identity, so the map is empty (not an error: Terraform always asks).
        Ok(Response::new(
            pb::get_resource_identity_schemas::Response::default(),
        ))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        tracing::debug!(rpc = "UpgradeResourceIdentity", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity: None,
            diagnostics: not_supported("Resource identity"),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ConfigureProvider", provider = self.provider.type_name(), terraform_version = %request.terraform_version);
        let mut diags = Diagnostics::new();
        match decode(request.config.as_ref(), &self.provider_type) {
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
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ReadResource", type_name = %request.type_name);
        let mut diags = Diagnostics::new();
        let mut private = request.private.clone();
        let new_state = async {
            let r = self.resource(&request.type_name)?;
            let current = decode(request.current_state.as_ref(), &r.ty)?;
            if current.is_null() {
                return encode(&Value::Null, &r.ty);
            }
            let timeout = schema::timeout_from(&current, Operation::Read, r.handler.default_timeout(Operation::Read));
            let ctx = self.context(&request.type_name, timeout, request.private.clone());
            let result = self.supervise(&ctx, r.handler.read(&ctx, current.clone()), Diagnostics::from).await;
            diags.extend(ctx.take_diagnostics());
            private = ctx.private_out();
            let state = match result {
                Ok(Some(mut state)) => {
                    finish_state(&r.schema, &mut state, &mut diags);
                    state
                }
                Ok(None) => {
                    tracing::debug!(type_name = %request.type_name, "remote object is gone; removing from state");
                    Value::Null
                }
                Err(e) => {
                    diags.extend(e);
                    current
                }
            };
            encode(&state, &r.ty)
        }
        .await;
        let new_state = new_state.map_err(|e| diags.extend(e)).ok();
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: diags.to_proto(),
            private,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "PlanResourceChange", type_name = %request.type_name);
        let mut diags = Diagnostics::new();
        let mut planned_private = request.prior_private.clone();
        let mut requires_replace = Vec::new();
        let planned_state = async {
            let r = self.resource(&request.type_name)?;
            let prior = decode(request.prior_state.as_ref(), &r.ty)?;
            let proposed = decode(request.proposed_new_state.as_ref(), &r.ty)?;
            let config = decode(request.config.as_ref(), &r.ty)?;

            let mut change = if proposed.is_null() {
                PlanChange {
                    config,
                    prior,
                    planned: Value::Null,
                    requires_replace: Vec::new(),
                }
            } else {
                let mut planned = proposed;
                schema::null_write_only(&r.schema, &mut planned);
                // Like the framework: computed attributes left out of the configuration become "known after
                // apply" whenever something is changing, then plan modifiers may restore prior values.
                if prior.is_null() || planned != prior {
                    schema::mark_computed_unknown(&r.schema, &config, &mut planned);
                }
                let replace = if prior.is_null() {
                    Vec::new()
                } else {
                    schema::apply_plan_modifiers(&r.schema, &config, &prior, &mut planned)
                };
                PlanChange {
                    config,
                    prior,
                    planned,
                    requires_replace: replace,
                }
            };

            let timeout = r.handler.default_timeout(Operation::Read);
            let ctx = self.context(&request.type_name, timeout, request.prior_private.clone());
            let result = self
                .supervise(
                    &ctx,
                    r.handler.modify_plan(&ctx, &mut change),
                    Diagnostics::from,
                )
                .await;
            diags.extend(ctx.take_diagnostics());
            planned_private = ctx.private_out();
            result?;

            if !change.planned.is_null() {
                schema::null_write_only(&r.schema, &mut change.planned);
            }
            if !change.prior.is_null() && !change.planned.is_null() {
                // Compared as Terraform will see them: paths into set elements end at the set.
                let mut seen = Vec::new();
                for path in change.requires_replace.iter().map(AttributePath::up_to_set) {
                    if !seen.contains(&path) {
                        seen.push(path);
                    }
                }
                requires_replace = seen.iter().map(AttributePath::to_proto).collect();
            }
            encode(&change.planned, &r.ty)
        }
        .await;
        let planned_state = planned_state.map_err(|e| diags.extend(e)).ok();
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state,
            requires_replace,
            planned_private,
            diagnostics: diags.to_proto(),
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ApplyResourceChange", type_name = %request.type_name);
        let mut diags = Diagnostics::new();
        let mut private = request.planned_private.clone();
        let mut new_state = None;
        let outcome = async {
            let r = self.resource(&request.type_name)?;
            let prior = decode(request.prior_state.as_ref(), &r.ty)?;
            let planned = decode(request.planned_state.as_ref(), &r.ty)?;
            let config = decode(request.config.as_ref(), &r.ty)?;
            let default_timeout = |op| r.handler.default_timeout(op);

            let state = if planned.is_null() {
                tracing::debug!(type_name = %request.type_name, "deleting");
                let timeout = schema::timeout_from(&prior, Operation::Delete, default_timeout(Operation::Delete));
                let ctx = self.context(&request.type_name, timeout, request.planned_private.clone());
                let result = self.supervise(&ctx, r.handler.delete(&ctx, prior.clone()), Diagnostics::from).await;
                diags.extend(ctx.take_diagnostics());
                match result {
                    Ok(()) => Value::Null,
                    Err(e) => {
                        diags.extend(e);
                        prior
                    }
                }
            } else {
                let creating = prior.is_null();
                let op = if creating { Operation::Create } else { Operation::Update };
                tracing::debug!(type_name = %request.type_name, operation = op.as_str(), "applying");
                let timeout = schema::timeout_from(&planned, op, default_timeout(op));
                let ctx = self.context(&request.type_name, timeout, request.planned_private.clone());
                let work = async {
                    if creating {
                        r.handler.create(&ctx, CreateRequest { config, planned }).await
                    } else {
                        r.handler.update(&ctx, UpdateRequest { config, planned, prior: prior.clone() }).await
                    }
                };
                let result = self.supervise(&ctx, work, ApplyError::from).await;
                diags.extend(ctx.take_diagnostics());
                private = ctx.private_out();
                match result {
                    Ok(mut state) => {
                        finish_state(&r.schema, &mut state, &mut diags);
                        state
                    }
                    Err(e) => {
                        diags.extend(e.diagnostics);
                        // Keep what exists: partial state if the resource reported one, else what was there.
                        let mut state = e.partial_state.unwrap_or(prior);
                        let mut ignored = Diagnostics::new();
                        finish_state(&r.schema, &mut state, &mut ignored);
                        state
                    }
                }
            };
            new_state = encode_into(&state, &r.ty, &mut diags);
            Ok::<_, Diagnostics>(())
        }
        .await;
        if let Err(e) = outcome {
            diags.extend(e);
        }
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private,
            diagnostics: diags.to_proto(),
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ImportResourceState", type_name = %request.type_name);
        let mut diags = Diagnostics::new();
        let imported = async {
            let r = self.resource(&request.type_name)?;
            if request.id.is_empty() {
                return Err(Diagnostic::error(
                    "Import ID required",
                    "Import this resource by ID (`terraform import` or an `import` block with `id`); import by identity is not supported.",
                )
                .into());
            }
            let ctx = self.context(&request.type_name, r.handler.default_timeout(Operation::Read), Vec::new());
            let result = self.supervise(&ctx, r.handler.import_state(&ctx, &request.id), Diagnostics::from).await;
            diags.extend(ctx.take_diagnostics());
            let mut state = result?;
            finish_state(&r.schema, &mut state, &mut diags);
            Ok::<_, Diagnostics>(pb::import_resource_state::ImportedResource {
                type_name: request.type_name.clone(),
                state: Some(encode(&state, &r.ty)?),
                private: ctx.private_out(),
                identity: None,
            })
        }
        .await;
        let imported_resources = match imported {
            Ok(resource) => vec![resource],
            Err(e) => {
                diags.extend(e);
                Vec::new()
            }
        };
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources,
            diagnostics: diags.to_proto(),
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(
            rpc = "MoveResourceState",
            source_type = %request.source_type_name,
            target_type = %request.target_type_name
        );
        let mut diags = Diagnostics::new();
        let mut target_private = Vec::new();
        let target_state = async {
            let r = self.resource(&request.target_type_name)?;
            let source = MoveSource {
                provider_address: request.source_provider_address.clone(),
                type_name: request.source_type_name.clone(),
                schema_version: request.source_schema_version,
                state: RawState { json: request.source_state.clone().unwrap_or_default().json },
            };
            let ctx = self.context(&request.target_type_name, DEFAULT_TIMEOUT, request.source_private.clone());
            let work = async { Ok::<_, Diagnostics>(r.handler.move_state(&ctx, &source).await) };
            let result = self.supervise(&ctx, work, Diagnostics::from).await;
            diags.extend(ctx.take_diagnostics());
            target_private = ctx.private_out();
            let Some(moved) = result? else {
                return Err(Diagnostic::error(
                    "Unable to move resource state",
                    format!(
                        "{} does not accept state moved from {} ({}). Remove the `moved` block and import the object instead.",
                        request.target_type_name, request.source_type_name, request.source_provider_address
                    ),
                )
                .into());
            };
            let mut state = moved?;
            finish_state(&r.schema, &mut state, &mut diags);
            encode(&state, &r.ty)
        }
        .await;
        let target_state = target_state.map_err(|e| diags.extend(e)).ok();
        Ok(Response::new(pb::move_resource_state::Response {
            target_state,
            diagnostics: diags.to_proto(),
            target_private,
            target_identity: None,
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ReadDataSource", type_name = %request.type_name);
        let mut diags = Diagnostics::new();
        let state = async {
            let d = self
                .data_sources
                .get(&request.type_name)
                .ok_or_else(|| unknown_type("data source", &request.type_name))?;
            let config = decode(request.config.as_ref(), &d.ty)?;
            let timeout = schema::timeout_from(&config, Operation::Read, DEFAULT_TIMEOUT);
            let ctx = self.context(&request.type_name, timeout, Vec::new());
            let result = self
                .supervise(&ctx, d.handler.read(&ctx, config), Diagnostics::from)
                .await;
            diags.extend(ctx.take_diagnostics());
            let mut state = result?;
            finish_state(&d.schema, &mut state, &mut diags);
            encode(&state, &d.ty)
        }
        .await;
        let state = state.map_err(|e| diags.extend(e)).ok();
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics: diags.to_proto(),
            deferred: None,
        }))
    }

    async fn generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        tracing::debug!(rpc = "GenerateResourceConfig", type_name = %request.get_ref().type_name);
        // ServerCapabilities.generate_resource_config is false, so Terraform generates config itself.
        Ok(Response::new(pb::generate_resource_config::Response {
            config: None,
            diagnostics: not_supported("Provider-side configuration generation"),
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ValidateEphemeralResourceConfig", type_name = %request.type_name);
        let diagnostics = self
            .validate(
                &self.ephemerals,
                "ephemeral resource",
                &request.type_name,
                request.config.as_ref(),
                true,
            )
            .await;
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: diagnostics.to_proto(),
            },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "OpenEphemeralResource", type_name = %request.type_name);
        let mut diags = Diagnostics::new();
        let mut response = pb::open_ephemeral_resource::Response::default();
        let outcome = async {
            let e = self
                .ephemerals
                .get(&request.type_name)
                .ok_or_else(|| unknown_type("ephemeral resource", &request.type_name))?;
            let config = decode(request.config.as_ref(), &e.ty)?;
            let ctx = self.context(&request.type_name, DEFAULT_TIMEOUT, Vec::new());
            let result = self
                .supervise(&ctx, e.handler.open(&ctx, config), Diagnostics::from)
                .await;
            diags.extend(ctx.take_diagnostics());
            let opened = result?;
            response.result = Some(encode(&opened.result, &e.ty)?);
            response.private = opened.private;
            response.renew_at = opened.renew_at.map(timestamp);
            Ok::<_, Diagnostics>(())
        }
        .await;
        if let Err(e) = outcome {
            diags.extend(e);
        }
        response.diagnostics = diags.to_proto();
        Ok(Response::new(response))
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "RenewEphemeralResource", type_name = %request.type_name);
        let mut diags = Diagnostics::new();
        let mut response = pb::renew_ephemeral_resource::Response::default();
        let outcome = async {
            let e = self
                .ephemerals
                .get(&request.type_name)
                .ok_or_else(|| unknown_type("ephemeral resource", &request.type_name))?;
            let ctx = self.context(&request.type_name, DEFAULT_TIMEOUT, Vec::new());
            let result = self
                .supervise(
                    &ctx,
                    e.handler.renew(&ctx, request.private.clone()),
                    Diagnostics::from,
                )
                .await;
            diags.extend(ctx.take_diagnostics());
            let renewed = result?;
            response.private = renewed.private;
            response.renew_at = renewed.renew_at.map(timestamp);
            Ok::<_, Diagnostics>(())
        }
        .await;
        if let Err(e) = outcome {
            diags.extend(e);
        }
        response.diagnostics = diags.to_proto();
        Ok(Response::new(response))
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "CloseEphemeralResource", type_name = %request.type_name);
        let diagnostics = async {
            let e = self
                .ephemerals
                .get(&request.type_name)
                .ok_or_else(|| unknown_type("ephemeral resource", &request.type_name))?;
            let ctx = self.context(&request.type_name, DEFAULT_TIMEOUT, Vec::new());
            let result = self
                .supervise(
                    &ctx,
                    e.handler.close(&ctx, request.private.clone()),
                    Diagnostics::from,
                )
                .await;
            let mut diags = ctx.take_diagnostics();
            if let Err(err) = result {
                diags.extend(err);
            }
            Ok::<_, Diagnostics>(diags)
        }
        .await
        .unwrap_or_else(|diags| diags);
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: diagnostics.to_proto(),
        }))
    }

    type ListResourceStream = EventStream<pb::list_resource::Event>;

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let type_name = request.into_inner().type_name;
        tracing::debug!(rpc = "ListResource", type_name = %type_name);
        Ok(Response::new(single_event(pb::list_resource::Event {
            diagnostic: unknown_type("list resource", &type_name).to_proto(),
            ..Default::default()
        })))
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let type_name = request.into_inner().type_name;
        tracing::debug!(rpc = "ValidateListResourceConfig", type_name = %type_name);
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics: unknown_type("list resource", &type_name).to_proto(),
        }))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        tracing::trace!(rpc = "GetFunctions");
        Ok(Response::new(self.functions_response.clone()))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "CallFunction", function = %request.name);
        let outcome = async {
            let Some((function, def)) = self.functions.get(&request.name) else {
                return Err(FunctionError::new(format!(
                    "This provider has no function {:?}.",
                    request.name
                )));
            };
            let fixed = def.parameters.len();
            let arity_ok = request.arguments.len() >= fixed
                && (def.variadic.is_some() || request.arguments.len() == fixed);
            if !arity_ok {
                return Err(FunctionError::new(format!(
                    "{} takes {}{} argument(s), got {}.",
                    def.name,
                    fixed,
                    if def.variadic.is_some() {
                        " or more"
                    } else {
                        ""
                    },
                    request.arguments.len()
                )));
            }
            let mut arguments = Vec::with_capacity(request.arguments.len());
            let mut any_unknown_refused = false;
            for (index, raw) in request.arguments.iter().enumerate() {
                let Some(parameter) = def.parameters.get(index).or(def.variadic.as_ref()) else {
                    return Err(FunctionError::argument(index, "Unexpected argument."));
                };
                let value = decode(Some(raw), &parameter.ty)
                    .map_err(|e| FunctionError::argument(index, e.to_string()))?;
                if value.is_null() && !parameter.allow_null {
                    return Err(FunctionError::argument(
                        index,
                        format!("Argument {:?} must not be null.", parameter.name),
                    ));
                }
                if !value.is_wholly_known() && !parameter.allow_unknown {
                    any_unknown_refused = true;
                }
                arguments.push(value);
            }
            // Terraform only sends unknowns to parameters that allow them; if one slips through, the honest
            // answer is an unknown result.
            let result = if any_unknown_refused {
                Value::unknown()
            } else {
                function.run(arguments).await?
            };
            encode(&result, &def.return_type).map_err(|e| FunctionError::new(e.to_string()))
        }
        .await;
        let response = match outcome {
            Ok(result) => pb::call_function::Response {
                result: Some(result),
                error: None,
            },
            Err(e) => pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text: e.text,
                    function_argument: e.argument,
                }),
            },
        };
        Ok(Response::new(response))
    }

    async fn validate_state_store_config(
        &self,
        request: Request<pb::validate_state_store::Request>,
    ) -> Result<Response<pb::validate_state_store::Response>, Status> {
        tracing::debug!(rpc = "ValidateStateStoreConfig", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::validate_state_store::Response {
            diagnostics: not_supported("State storage"),
        }))
    }

    async fn configure_state_store(
        &self,
        request: Request<pb::configure_state_store::Request>,
    ) -> Result<Response<pb::configure_state_store::Response>, Status> {
        tracing::debug!(rpc = "ConfigureStateStore", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::configure_state_store::Response {
            diagnostics: not_supported("State storage"),
            capabilities: None,
        }))
    }

    type ReadStateBytesStream = EventStream<pb::read_state_bytes::Response>;

    async fn read_state_bytes(
        &self,
        request: Request<pb::read_state_bytes::Request>,
    ) -> Result<Response<Self::ReadStateBytesStream>, Status> {
        tracing::debug!(rpc = "ReadStateBytes", type_name = %request.get_ref().type_name);
        Ok(Response::new(single_event(
            pb::read_state_bytes::Response {
                diagnostics: not_supported("State storage"),
                ..Default::default()
            },
        )))
    }

    async fn write_state_bytes(
        &self,
        _request: Request<tonic::Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Result<Response<pb::write_state_bytes::Response>, Status> {
        tracing::debug!(rpc = "WriteStateBytes");
        Ok(Response::new(pb::write_state_bytes::Response {
            diagnostics: not_supported("State storage"),
        }))
    }

    async fn lock_state(
        &self,
        request: Request<pb::lock_state::Request>,
    ) -> Result<Response<pb::lock_state::Response>, Status> {
        tracing::debug!(rpc = "LockState", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::lock_state::Response {
            lock_id: String::new(),
            diagnostics: not_supported("State storage"),
        }))
    }

    async fn unlock_state(
        &self,
        request: Request<pb::unlock_state::Request>,
    ) -> Result<Response<pb::unlock_state::Response>, Status> {
        tracing::debug!(rpc = "UnlockState", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::unlock_state::Response {
            diagnostics: not_supported("State storage"),
        }))
    }

    async fn get_states(
        &self,
        request: Request<pb::get_states::Request>,
    ) -> Result<Response<pb::get_states::Response>, Status> {
        tracing::debug!(rpc = "GetStates", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::get_states::Response {
            state_id: Vec::new(),
            diagnostics: not_supported("State storage"),
        }))
    }

    async fn delete_state(
        &self,
        request: Request<pb::delete_state::Request>,
    ) -> Result<Response<pb::delete_state::Response>, Status> {
        tracing::debug!(rpc = "DeleteState", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::delete_state::Response {
            diagnostics: not_supported("State storage"),
        }))
    }

    async fn plan_action(
        &self,
        request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        let action_type = request.into_inner().action_type;
        tracing::debug!(rpc = "PlanAction", action_type = %action_type);
        Ok(Response::new(pb::plan_action::Response {
            diagnostics: unknown_type("action", &action_type).to_proto(),
            deferred: None,
        }))
    }

    type InvokeActionStream = EventStream<pb::invoke_action::Event>;

    async fn invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<Self::InvokeActionStream>, Status> {
        let action_type = request.into_inner().action_type;
        tracing::debug!(rpc = "InvokeAction", action_type = %action_type);
        let completed = pb::invoke_action::event::Completed {
            diagnostics: unknown_type("action", &action_type).to_proto(),
        };
        Ok(Response::new(single_event(pb::invoke_action::Event {
            r#type: Some(pb::invoke_action::event::Type::Completed(completed)),
        })))
    }

    async fn validate_action_config(
        &self,
        request: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        let type_name = request.into_inner().type_name;
        tracing::debug!(rpc = "ValidateActionConfig", action_type = %type_name);
        Ok(Response::new(pb::validate_action_config::Response {
            diagnostics: unknown_type("action", &type_name).to_proto(),
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::debug!(rpc = "StopProvider", "cancelling in-flight operations");
        // Cancel what is running; later requests get a fresh token, the server itself keeps serving.
        let previous = std::mem::replace(
            &mut *self.stop.lock().unwrap_or_else(PoisonError::into_inner),
            CancellationToken::new(),
        );
        previous.cancel();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
