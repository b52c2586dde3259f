//! The `Action` trait (Terraform 1.14+ `action` blocks, run by `terraform apply -invoke=action.x.y` or by
//! `action_trigger` in a resource's lifecycle): a one-off operation that changes something remote without
//! owning it in state. In the shape of terraform-plugin-framework's `action.Action`: a configuration
//! schema, validation, a plan step (checks before anything runs) and an invoke that reports progress
//! through the event stream Terraform shows as it goes.

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::context::Context;
use super::diag::Diagnostics;
use super::schema::Schema;
use super::value::Value;

/// Progress messages of a running action, shown by Terraform as they arrive.
pub struct ActionProgress {
    sender: mpsc::Sender<String>,
}

impl ActionProgress {
    pub(crate) fn new(sender: mpsc::Sender<String>) -> Self {
        ActionProgress { sender }
    }

    /// Sends one progress line (e.g. "Provisioned alice@example.com").
    pub async fn report(&self, message: impl Into<String>) {
        let _ = self.sender.send(message.into()).await;
    }
}

/// An action type, e.g. `example_restart`.
#[async_trait]
pub trait Action: Send + Sync + 'static {
    fn type_name(&self) -> &str;

    /// The schema of the action's `config` block.
    fn schema(&self) -> Schema;

    /// How long `invoke` may run.
    fn timeout(&self) -> Duration {
        Duration::from_secs(20 * 60)
    }

    /// Cross-attribute checks; unknown values may appear.
    async fn validate_config(&self, _ctx: &Context, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Checks at plan time (before any resource is applied); the configuration may hold unknowns.
    async fn plan(&self, _ctx: &Context, _config: &Value) -> Result<(), Diagnostics> {
        Ok(())
    }

    /// Does the work, reporting progress; warnings through `ctx.warn`.
    async fn invoke(
        &self,
        ctx: &Context,
        config: Value,
        progress: &ActionProgress,
    ) -> Result<(), Diagnostics>;
}
