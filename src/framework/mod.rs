//! Framework layer: Terraform values, schemas and diagnostics, the resource/data source/function traits,
//! and `FrameworkServer`, which serves a `Provider` over the generated protocol 6 gRPC trait.
//! See src/lib.rs for the layer overview.

pub mod context;
pub mod data_source;
pub mod diag;
pub mod ephemeral;
pub mod function;
pub mod json;
pub mod msgpack;
pub mod path;
pub mod provider;
pub mod resource;
pub mod schema;
pub mod server;
pub mod types;
pub mod value;

pub use context::{Context, ProviderData};
pub use data_source::DataSource;
pub use diag::{Diagnostic, Diagnostics, Severity};
pub use ephemeral::{EphemeralResource, Opened, Renewed};
pub use function::{Function, FunctionDefinition, FunctionError, Parameter};
pub use path::{AttributePath, PathStep};
pub use provider::{ConfigureRequest, Provider};
pub use resource::{
    ApplyError, CreateRequest, MoveSource, PlanChange, RawState, Resource, UpdateRequest,
};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Operation, PlanModifier, Schema};
pub use server::FrameworkServer;
pub use types::{ObjectType, Type};
pub use value::{Number, Refinements, Typed, Value};
