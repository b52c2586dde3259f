//! Framework layer: Terraform values, schemas and diagnostics, the resource/data source/function traits,
//! and [`FrameworkServer`], which serves a [`Provider`] over the generated protocol 6 gRPC trait.
//! See src/lib.rs for the layer overview.
//!
//! A resource declares its schema and implements the lifecycle; the server handles decoding, plan rules
//! (computed values, `requires_replace`, `use_state_for_unknown`), write-only nulling, timeouts and
//! cancellation:
//!
//! ```no_run
//! use std::sync::Arc;
//! use idbridge::framework::{
//!     ApplyError, Attribute, Context, CreateRequest, Diagnostic, Diagnostics, NestedBlock, Operation, Resource,
//!     Schema, UpdateRequest, Value, async_trait,
//! };
//!
//! struct Clients; // whatever `Provider::configure` returned
//!
//! struct Group;
//!
//! #[async_trait]
//! impl Resource for Group {
//!     fn type_name(&self) -> &str {
//!         "example_group"
//!     }
//!
//!     fn schema(&self) -> Schema {
//!         Schema::new()
//!             .description("An example group.")
//!             .attribute(Attribute::string("id").computed().use_state_for_unknown())
//!             .attribute(Attribute::string("name").required().requires_replace())
//!             .attribute(Attribute::string("secret").optional().write_only())
//!             .block(NestedBlock::timeouts(&[Operation::Create, Operation::Delete]))
//!     }
//!
//!     async fn create(&self, ctx: &Context, req: CreateRequest) -> Result<Value, ApplyError> {
//!         let _clients = ctx.provider_data::<Clients>()?;
//!         let name = req.planned.get_str("name").unwrap_or_default();
//!         let _secret = req.config.get_str("secret"); // write-only: only in config
//!         let id = ctx.guard(async { Ok(format!("grp-{name}")) }).await?;
//!         Ok(req.planned.with("id", id))
//!     }
//!
//!     async fn read(&self, _ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
//!         Ok(Some(state)) // `Ok(None)` when the group is gone
//!     }
//!
//!     async fn update(&self, _ctx: &Context, req: UpdateRequest) -> Result<Value, ApplyError> {
//!         Ok(req.planned)
//!     }
//!
//!     async fn delete(&self, _ctx: &Context, state: Value) -> Result<(), Diagnostics> {
//!         if state.get_str("id").is_none() {
//!             return Err(Diagnostic::error("No ID", "The state has no ID; remove it from state.").into());
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let _resource: Arc<dyn Resource> = Arc::new(Group);
//! ```

pub mod action;
pub mod context;
pub mod data_source;
pub mod diag;
pub mod ephemeral;
pub mod function;
pub mod identity;
pub mod json;
pub mod list_resource;
pub mod model;
pub mod msgpack;
pub mod path;
mod proto6;
pub mod provider;
pub mod resource;
pub mod schema;
mod server;
pub mod types;
pub mod value;

pub use action::{Action, ActionProgress};
pub use async_trait::async_trait;
pub use context::{Context, ProviderData};
pub use data_source::DataSource;
pub use diag::{Diagnostic, Diagnostics, Severity};
pub use ephemeral::{EphemeralResource, Opened, Renewed};
pub use function::{Function, FunctionDefinition, FunctionError, Parameter};
pub use identity::{IdentityAttribute, IdentitySchema};
pub use list_resource::{ListRequest, ListResource, ListResults, Listed};
pub use model::{Attr, Field, Model, Pending, Secret, Set};
pub use path::{AttributePath, PathStep};
pub use proto6::FrameworkServer;
pub use provider::{ConfigureRequest, Provider};
pub use resource::{
    ApplyError, CreateRequest, MoveSource, PlanChange, RawState, Resource, UpdateRequest,
    import_passthrough,
};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Operation, PlanModifier, Schema};
pub use types::{ObjectType, Type};
pub use value::{Number, Refinements, Typed, Value};
