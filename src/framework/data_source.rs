//! The `DataSource` trait: read-only lookups.

use async_trait::async_trait;

use super::context::Context;
use super::diag::Diagnostics;
use super::schema::Schema;
use super::value::Value;

#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    /// Full type name including the provider prefix.
    fn type_name(&self) -> &str;

    fn schema(&self) -> Schema;

    /// Cross-attribute checks; unknown values may appear and must be tolerated.
    async fn validate_config(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Returns the configuration with computed attributes filled in.
    async fn read(&self, ctx: &Context, config: Value) -> Result<Value, Diagnostics>;
}
