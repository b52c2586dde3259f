//! The framework side of the provider server: what terraform-plugin-framework does around the resource
//! code (decoding, plan rules, write-only nulling, timeouts, cancellation, diagnostics), in framework
//! types only, one file per RPC family. [`super::proto6`] converts the wire messages and serves this over
//! gRPC.

mod action;
mod data_source;
mod ephemeral;
mod function;
mod identity;
mod list_resource;
mod provider;
mod resource;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::action::Action;
use super::context::{Context, ProviderData};
use super::data_source::DataSource;
use super::diag::{Diagnostic, Diagnostics};
use super::ephemeral::EphemeralResource;
use super::function::{Function, FunctionDefinition};
use super::identity::IdentitySchema;
use super::json;
use super::list_resource::ListResource;
use super::msgpack;
use super::path::AttributePath;
use super::provider::Provider;
use super::resource::Resource;
use super::schema::{self, Schema};
use super::types::Type;
use super::value::Value;

pub(crate) use action::InvokeActionEvent;
pub(crate) use data_source::ReadDataSourceResponse;
pub(crate) use ephemeral::{OpenEphemeralResourceResponse, RenewEphemeralResourceResponse};
pub(crate) use identity::{UpgradeResourceIdentityRequest, UpgradeResourceIdentityResponse};
pub(crate) use list_resource::{ListResourceEvent, ListResourceRequest};
pub(crate) use provider::{
    ConfigureProviderRequest, Metadata, ProviderSchemas, ServerCapabilities,
};
pub(crate) use resource::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, ImportResourceStateRequest,
    ImportResourceStateResponse, MoveResourceStateRequest, MoveResourceStateResponse,
    PlanResourceChangeRequest, PlanResourceChangeResponse, ReadResourceRequest,
    ReadResourceResponse, UpgradeResourceStateRequest, UpgradeResourceStateResponse,
};

/// How long an operation that was cancelled or timed out may take to return on its own (e.g. with partial
/// state) before the server gives up on it.
const DEFAULT_CANCEL_GRACE: Duration = Duration::from_secs(5);
/// Timeout for calls that have no `timeouts` block entry (plans, data sources, imports).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// A value as Terraform encodes it on the wire, still undecoded: decoding needs the schema type, which only
/// the server knows once it has looked the type name up.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) enum EncodedValue {
    #[default]
    Absent,
    MsgPack(Vec<u8>),
    Json(Vec<u8>),
}

impl std::fmt::Debug for EncodedValue {
    /// Values may hold secrets: only the encoding and size are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncodedValue::Absent => f.write_str("Absent"),
            EncodedValue::MsgPack(bytes) => write!(f, "MsgPack({} bytes)", bytes.len()),
            EncodedValue::Json(bytes) => write!(f, "Json({} bytes)", bytes.len()),
        }
    }
}

impl EncodedValue {
    /// An absent value is null, as Terraform means it.
    fn decode(&self, ty: &Type) -> Result<Value, Diagnostics> {
        let result = match self {
            EncodedValue::Absent => Ok(Value::Null),
            EncodedValue::MsgPack(bytes) => msgpack::decode(bytes, ty).map_err(|e| e.to_string()),
            EncodedValue::Json(bytes) => json::decode(bytes, ty).map_err(|e| e.to_string()),
        };
        result.map_err(|e| {
            Diagnostic::error(
                "Invalid value from Terraform",
                format!("The value Terraform sent does not match the schema: {e}. This is a bug in Terraform or the provider."),
            )
            .into()
        })
    }

    /// Always MessagePack, which every Terraform version reads.
    fn encode(value: &Value, ty: &Type) -> Result<EncodedValue, Diagnostics> {
        msgpack::encode(value, ty).map(EncodedValue::MsgPack).map_err(|e| {
            Diagnostic::error(
                "Invalid value from provider",
                format!("The provider produced a value that does not match its schema: {e}. This is a bug in the provider."),
            )
            .into()
        })
    }
}

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

/// Serves a [`Provider`]'s RPCs in framework terms; the wire face is [`super::FrameworkServer`].
pub(crate) struct Server<P: Provider> {
    provider: Arc<P>,
    provider_schema: Schema,
    provider_type: Type,
    resources: HashMap<String, Registered<dyn Resource>>,
    data_sources: HashMap<String, Registered<dyn DataSource>>,
    ephemerals: HashMap<String, Registered<dyn EphemeralResource>>,
    /// Identity schemas of the resources that have one, with their value type.
    identities: HashMap<String, (IdentitySchema, Type)>,
    list_resources: HashMap<String, Registered<dyn ListResource>>,
    actions: HashMap<String, Registered<dyn Action>>,
    functions: HashMap<String, (Arc<dyn Function>, FunctionDefinition)>,
    /// Problems with the provider's own definitions, found once at startup and reported with the schema.
    startup: Diagnostics,
    provider_data: RwLock<Option<ProviderData>>,
    stop: Mutex<CancellationToken>,
    cancel_grace: Duration,
}

impl<P: Provider> Server<P> {
    /// Collects and checks every schema once.
    pub(crate) fn new(provider: P) -> Self {
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
        let identities = identities(&resources, &mut startup);
        let list_resources = register(
            provider.list_resources(),
            "list resource",
            &prefix,
            &mut startup,
            |l| (l.type_name().to_owned(), l.config_schema()),
        );
        for name in list_resources.keys() {
            if !identities.contains_key(name) {
                startup.error(
                    "List resource without an identity",
                    format!("{name} is a list resource, but no resource of that type has an identity schema. This is a bug in the provider."),
                );
            }
        }
        let actions = register(provider.actions(), "action", &prefix, &mut startup, |a| {
            (a.type_name().to_owned(), a.schema())
        });
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
        let provider_type = provider_schema.value_type();

        Server {
            provider,
            provider_schema,
            provider_type,
            resources,
            data_sources,
            ephemerals,
            identities,
            list_resources,
            actions,
            functions,
            startup,
            provider_data: RwLock::new(None),
            stop: Mutex::new(CancellationToken::new()),
            cancel_grace: DEFAULT_CANCEL_GRACE,
        }
    }

    pub(crate) fn with_cancel_grace(mut self, grace: Duration) -> Self {
        self.cancel_grace = grace;
        self
    }

    /// The provider configuration's type, for tests that encode a configuration themselves.
    #[cfg(test)]
    pub(crate) fn provider_type(&self) -> &Type {
        &self.provider_type
    }

    #[cfg(test)]
    pub(crate) fn provider(&self) -> &P {
        &self.provider
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
        let work = super::context::with_operation_deadline(ctx.deadline(), work).instrument(
            tracing::debug_span!("operation", type_name = ctx.type_name()),
        );
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
        config: &EncodedValue,
        client_accepts_write_only: bool,
    ) -> Diagnostics {
        let outcome = async {
            let registered = registry.get(type_name).ok_or_else(|| unknown_type(kind, type_name))?;
            let config = config.decode(&registered.ty)?;
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

    /// The answer to a request for a feature this framework does not implement.
    pub(crate) fn not_supported(&self, what: &str) -> Diagnostics {
        Diagnostic::error(
            format!("{what} not supported"),
            format!(
                "The {} provider does not offer {what}.",
                self.provider.type_name()
            ),
        )
        .into()
    }
}

/// The identity schemas resources declare, checked against their state schemas.
fn identities(
    resources: &HashMap<String, Registered<dyn Resource>>,
    startup: &mut Diagnostics,
) -> HashMap<String, (IdentitySchema, Type)> {
    let mut identities = HashMap::new();
    for (name, r) in resources {
        if let Some(identity) = r.handler.identity_schema() {
            startup.extend(identity.check(name, &r.schema));
            let ty = identity.value_type();
            identities.insert(name.clone(), (identity, ty));
        }
    }
    identities
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
impl ValidateConfig for dyn ListResource {
    async fn validate(&self, ctx: &Context, config: &Value) -> Diagnostics {
        self.validate_config(ctx, config).await
    }
}

#[async_trait::async_trait]
impl ValidateConfig for dyn Action {
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

/// The answer to a request naming a type (resource, list resource, action, ...) the provider lacks.
pub(crate) fn unknown_type(kind: &str, type_name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} type {type_name:?}. Check the spelling, or upgrade the provider if it is newer."),
    )
    .into()
}

/// Encodes a value for a response, turning an encoding failure into diagnostics.
fn encode_into(value: &Value, ty: &Type, diags: &mut Diagnostics) -> Option<EncodedValue> {
    match EncodedValue::encode(value, ty) {
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
