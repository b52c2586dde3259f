//! The `Resource` trait: a managed object's lifecycle. Only `type_name`, `schema`, `create`, `read` and
//! `delete` are required; everything else is opt-in through default methods.

use std::time::Duration;

use async_trait::async_trait;

use super::context::Context;
use super::diag::{Diagnostic, Diagnostics};
use super::identity::IdentitySchema;
use super::json::{self, JsonDecodeOptions};
use super::path::AttributePath;
use super::schema::{Operation, Schema};
use super::types::Type;
use super::value::Value;

/// Inputs of `create`.
#[derive(Clone)]
pub struct CreateRequest {
    /// The configuration as written, including write-only attributes (the only place they appear).
    pub config: Value,
    /// The planned new state: configuration plus computed values (unknown ones are for `create` to fill).
    pub planned: Value,
}

/// Inputs of `update`.
#[derive(Clone)]
pub struct UpdateRequest {
    pub config: Value,
    pub planned: Value,
    pub prior: Value,
}

/// The plan being built in `PlanResourceChange`, after computed attributes were marked unknown and
/// attribute plan modifiers ran. `modify_plan` may change `planned` and add `requires_replace` paths.
#[derive(Clone)]
pub struct PlanChange {
    pub config: Value,
    /// Null when the resource is being created.
    pub prior: Value,
    /// Null when the resource is being destroyed.
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
}

/// Values may hold secrets (write-only and sensitive attributes), and Debug output ends up in logs: the
/// request types only show their shape.
macro_rules! opaque_debug {
    ($($name:ident),*) => {$(
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    )*};
}
pub(crate) use opaque_debug;

opaque_debug!(CreateRequest, UpdateRequest, PlanChange);

impl PlanChange {
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }

    pub fn is_destroy(&self) -> bool {
        self.planned.is_null()
    }
}

/// Why create or update failed. `partial_state`, when set, is saved (tainted on create) so a half-made
/// remote object is not orphaned.
#[derive(Clone, Debug, Default)]
pub struct ApplyError {
    pub diagnostics: Diagnostics,
    pub partial_state: Option<Value>,
}

impl ApplyError {
    pub fn with_partial_state(mut self, state: Value) -> Self {
        self.partial_state = Some(state);
        self
    }
}

impl From<Diagnostics> for ApplyError {
    fn from(diagnostics: Diagnostics) -> Self {
        ApplyError {
            diagnostics,
            partial_state: None,
        }
    }
}

impl From<Diagnostic> for ApplyError {
    fn from(diagnostic: Diagnostic) -> Self {
        ApplyError {
            diagnostics: diagnostic.into(),
            partial_state: None,
        }
    }
}

/// State as stored by an older provider version, for `upgrade_state` and `move_state`.
#[derive(Clone)]
pub struct RawState {
    pub json: Vec<u8>,
}

impl std::fmt::Debug for RawState {
    /// State may hold secrets: only the size is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RawState({} bytes)", self.json.len())
    }
}

impl RawState {
    /// Decodes the stored JSON as `ty` (the old schema's type), exactly (big numbers stay exact).
    pub fn decode(&self, ty: &Type) -> Result<Value, Diagnostics> {
        json::decode(&self.json, ty).map_err(invalid_state)
    }

    /// Like [`RawState::decode`], dropping attributes `ty` does not have.
    pub fn decode_ignoring_removed(&self, ty: &Type) -> Result<Value, Diagnostics> {
        json::decode_with(
            &self.json,
            ty,
            JsonDecodeOptions {
                ignore_undefined_attributes: true,
            },
        )
        .map_err(invalid_state)
    }

    /// The stored JSON as a generic document, for free-form migrations (numbers may lose precision).
    pub fn to_json(&self) -> Result<serde_json::Value, Diagnostics> {
        serde_json::from_slice(&self.json).map_err(|e| {
            Diagnostic::error(
                "Unreadable prior state",
                format!("The stored state is not JSON: {e}."),
            )
            .into()
        })
    }
}

fn invalid_state(e: json::JsonError) -> Diagnostics {
    Diagnostic::error(
        "Unreadable prior state",
        format!("The stored state does not match the expected schema: {e}. Remove the resource from state and import it again."),
    )
    .into()
}

/// Where a `moved` block's source comes from.
#[derive(Clone, Debug)]
pub struct MoveSource {
    pub provider_address: String,
    pub type_name: String,
    pub schema_version: i64,
    pub state: RawState,
}

/// A managed resource type, e.g. `example_group`.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// Full type name including the provider prefix.
    fn type_name(&self) -> &str;

    fn schema(&self) -> Schema;

    /// The resource's identity (Terraform 1.12+), stored beside the state; `None` for none. With one,
    /// every state the server returns carries its identity and `import` blocks may give `identity`.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// Timeout when the `timeouts` block does not set one.
    fn default_timeout(&self, _operation: Operation) -> Duration {
        Duration::from_secs(20 * 60)
    }

    /// Cross-attribute checks; unknown values may appear and must be tolerated.
    async fn validate_config(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Last word on the plan (also called for destroy plans, where `planned` is null); warnings via
    /// `ctx.warn`.
    async fn modify_plan(&self, _ctx: &Context, _plan: &mut PlanChange) -> Result<(), Diagnostics> {
        Ok(())
    }

    /// Creates the remote object; returns the full new state with every unknown resolved.
    async fn create(&self, ctx: &Context, request: CreateRequest) -> Result<Value, ApplyError>;

    /// Refreshes `state`; `Ok(None)` when the remote object is gone (Terraform then plans to recreate it).
    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics>;

    /// Updates in place. Resources whose every argument requires replacement never get here.
    async fn update(&self, _ctx: &Context, _request: UpdateRequest) -> Result<Value, ApplyError> {
        Err(Diagnostic::error(
            "Update not supported",
            format!("{} cannot be updated in place; this is a bug in the provider (a changed argument should require replacement).", self.type_name()),
        )
        .into())
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics>;

    /// Turns an import ID into a state Terraform then refreshes with `read`.
    async fn import_state(&self, _ctx: &Context, _id: &str) -> Result<Value, Diagnostics> {
        Err(Diagnostic::error(
            "Import not supported",
            format!("{} cannot be imported.", self.type_name()),
        )
        .into())
    }

    /// Upgrades state written with schema version `from_version` (lower than the current one).
    async fn upgrade_state(
        &self,
        _ctx: &Context,
        from_version: i64,
        _state: RawState,
    ) -> Result<Value, Diagnostics> {
        Err(Diagnostic::error(
            "Unable to upgrade resource state",
            format!(
                "{} has no upgrade from schema version {from_version}. Remove the resource from state and import it again.",
                self.type_name()
            ),
        )
        .into())
    }

    /// Accepts state moved (`moved` block) from another resource type; `None` when `source` is not
    /// supported.
    async fn move_state(
        &self,
        _ctx: &Context,
        _source: &MoveSource,
    ) -> Option<Result<Value, Diagnostics>> {
        None
    }
}

/// State for an import that only knows the ID: `id_attribute` set, everything else null; `read` fills in
/// the rest.
pub fn import_passthrough(schema: &Schema, id_attribute: &str, id: &str) -> Value {
    let mut state = Value::Null;
    if let Type::Object(object) = schema.value_type() {
        for name in object.attributes.keys() {
            state.set_attr(name.clone(), Value::Null);
        }
    }
    state.set_attr(id_attribute, id);
    state
}
