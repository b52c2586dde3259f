//! Framework layer: Terraform values, schemas and diagnostics, the resource/data source/function traits,
//! and `FrameworkServer`, which serves a `Provider` over the generated protocol 6 gRPC trait.
//! See src/lib.rs for the layer overview.

pub mod diag;
pub mod json;
pub mod msgpack;
pub mod path;
pub mod schema;
pub mod types;
pub mod value;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use path::{AttributePath, PathStep};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Operation, PlanModifier, Schema};
pub use types::{ObjectType, Type};
pub use value::{Number, Refinements, Typed, Value};
