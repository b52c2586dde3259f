//! The `EphemeralResource` trait: values (tokens, credentials) that exist only during one Terraform run and
//! are never stored in plan or state.

use std::time::SystemTime;

use async_trait::async_trait;

use super::context::Context;
use super::diag::Diagnostics;
use super::resource::opaque_debug;
use super::schema::Schema;
use super::value::Value;

/// Result of opening an ephemeral resource.
#[derive(Clone, Default)]
pub struct Opened {
    pub result: Value,
    /// Handed back to `renew` and `close` (e.g. a lease ID).
    pub private: Option<Vec<u8>>,
    /// When Terraform should call `renew` if it still needs the value.
    pub renew_at: Option<SystemTime>,
}

/// Result of renewing.
#[derive(Clone, Default)]
pub struct Renewed {
    pub private: Option<Vec<u8>>,
    pub renew_at: Option<SystemTime>,
}

opaque_debug!(Opened, Renewed);

#[async_trait]
pub trait EphemeralResource: Send + Sync + 'static {
    fn type_name(&self) -> &str;

    fn schema(&self) -> Schema;

    async fn validate_config(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn open(&self, ctx: &Context, config: Value) -> Result<Opened, Diagnostics>;

    async fn renew(
        &self,
        _ctx: &Context,
        private: Option<Vec<u8>>,
    ) -> Result<Renewed, Diagnostics> {
        Ok(Renewed {
            private,
            renew_at: None,
        })
    }

    async fn close(&self, _ctx: &Context, _private: Option<Vec<u8>>) -> Result<(), Diagnostics> {
        Ok(())
    }
}
