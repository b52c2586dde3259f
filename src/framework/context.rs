//! What every provider, resource, data source and ephemeral resource call receives: cancellation, the
//! operation's timeout, the configured provider data, warnings and private state.

use std::any::Any;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::diag::{Diagnostic, Diagnostics};

tokio::task_local! {
    /// The deadline of the operation the current task serves (set by the framework around resource, data
    /// source and provider code), so that clients can retry up to it without being handed a [`Context`].
    static OPERATION_DEADLINE: Instant;
}

/// The deadline of the Terraform operation this task is serving, if any: retry loops in the clients wait out
/// throttling and outages up to it instead of giving up after a fixed number of attempts.
pub fn operation_deadline() -> Option<Instant> {
    OPERATION_DEADLINE.try_with(|deadline| *deadline).ok()
}

/// Runs `work` with `deadline` as the [`operation_deadline`] of everything it awaits on this task.
pub async fn with_operation_deadline<F: Future>(deadline: Instant, work: F) -> F::Output {
    OPERATION_DEADLINE.scope(deadline, work).await
}

/// Whatever `Provider::configure` returns (API clients, settings); resources downcast it with
/// [`Context::provider_data`].
pub type ProviderData = Arc<dyn Any + Send + Sync>;

/// Per-request context.
pub struct Context {
    type_name: String,
    cancel: CancellationToken,
    timeout: Duration,
    deadline: Instant,
    provider_data: Option<ProviderData>,
    diagnostics: Mutex<Diagnostics>,
    private_in: Vec<u8>,
    private_out: Mutex<Option<Vec<u8>>>,
}

impl Context {
    pub(crate) fn new(
        type_name: &str,
        cancel: CancellationToken,
        timeout: Duration,
        provider_data: Option<ProviderData>,
        private: Vec<u8>,
    ) -> Self {
        Context {
            type_name: type_name.to_owned(),
            cancel,
            timeout,
            deadline: Instant::now() + timeout,
            provider_data,
            diagnostics: Mutex::new(Diagnostics::new()),
            private_in: private,
            private_out: Mutex::new(None),
        }
    }

    /// A context for unit tests of resources and providers: never cancelled unless `cancel` is, with the
    /// given provider data.
    pub fn for_tests(type_name: &str, provider_data: Option<ProviderData>) -> Self {
        Self::new(
            type_name,
            CancellationToken::new(),
            Duration::from_secs(600),
            provider_data,
            Vec::new(),
        )
    }

    /// Resource, data source or provider type name of this request.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// Cancelled when Terraform sends `StopProvider` (Ctrl-C); pass it to long waits and polling loops.
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.cancel
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// The timeout for this operation (from the `timeouts` block or the resource's default).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Time left before the operation's timeout.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Runs `work` until it finishes, Terraform stops the provider, or the operation times out, whichever
    /// comes first. Use it around waits (eventual consistency, long-running operations) so they end
    /// promptly with a clear error.
    pub async fn guard<T, F>(&self, work: F) -> Result<T, Diagnostics>
    where
        F: Future<Output = Result<T, Diagnostics>>,
    {
        tokio::select! {
            // Work that is already done wins over a deadline that passed meanwhile.
            biased;
            result = work => result,
            _ = self.cancel.cancelled() => Err(self.cancelled_error().into()),
            _ = tokio::time::sleep_until(self.deadline) => Err(self.timeout_error().into()),
        }
    }

    pub(crate) fn cancelled_error(&self) -> Diagnostic {
        Diagnostic::error(
            "Operation cancelled",
            format!(
                "Terraform asked the provider to stop while {} was in progress. The remote object may be partly \
                 changed; run `terraform plan` to see where it stands.",
                self.type_name
            ),
        )
    }

    pub(crate) fn timeout_error(&self) -> Diagnostic {
        Diagnostic::error(
            "Operation timed out",
            format!(
                "{} did not finish within {:?}. Raise the limit in the resource's `timeouts` block if the service \
                 is slow, then retry.",
                self.type_name, self.timeout
            ),
        )
    }

    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The provider data returned by `configure`, as `T`. Fails with a diagnostic when the provider is not
    /// configured yet (e.g. during validation) or holds another type.
    pub fn provider_data<T: Any + Send + Sync>(&self) -> Result<Arc<T>, Diagnostics> {
        let Some(data) = self.provider_data.clone() else {
            return Err(Diagnostic::error(
                "Provider not configured",
                format!(
                    "{} needs the provider configuration, which Terraform has not sent yet. This is a bug in the \
                     provider if it happens outside validation.",
                    self.type_name
                ),
            )
            .into());
        };
        data.downcast::<T>().map_err(|_| {
            Diagnostic::error(
                "Unexpected provider data",
                format!(
                    "{} expected another kind of provider data. This is a bug in the provider.",
                    self.type_name
                ),
            )
            .into()
        })
    }

    /// Adds a warning (or any diagnostic) to the response, also when the call succeeds.
    pub fn add_diagnostic(&self, diagnostic: Diagnostic) {
        self.diagnostics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(diagnostic);
    }

    pub fn warn(&self, summary: impl Into<String>, detail: impl Into<String>) {
        self.add_diagnostic(Diagnostic::warning(summary, detail));
    }

    pub(crate) fn take_diagnostics(&self) -> Diagnostics {
        std::mem::take(
            &mut *self
                .diagnostics
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Private state Terraform stored with the resource (opaque bytes, never shown to users).
    pub fn private(&self) -> &[u8] {
        &self.private_in
    }

    /// Replaces the private state to store with the resource; left alone, the incoming bytes are kept.
    pub fn set_private(&self, bytes: Vec<u8>) {
        *self
            .private_out
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(bytes);
    }

    /// Private state as a JSON object of independent entries (several concerns of one resource share the
    /// bytes): sets `key` and keeps the other entries, including ones set earlier in this call.
    pub fn set_private_entry(&self, key: &str, value: serde_json::Value) {
        let mut out = self
            .private_out
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = out.clone().unwrap_or_else(|| self.private_in.clone());
        let mut entries =
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&current)
                .unwrap_or_default();
        entries.insert(key.to_owned(), value);
        *out = Some(serde_json::to_vec(&entries).unwrap_or_default());
    }

    /// An entry of the private state Terraform stored with the resource (see [`Context::set_private_entry`]).
    pub fn private_entry(&self, key: &str) -> Option<serde_json::Value> {
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&self.private_in)
            .ok()?
            .remove(key)
    }

    pub(crate) fn private_out(&self) -> Vec<u8> {
        self.private_out
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| self.private_in.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Clients {
        tenant: &'static str,
    }

    #[test]
    fn private_entries_are_merged_not_replaced() {
        let ctx = Context::new(
            "example_x",
            CancellationToken::new(),
            Duration::from_secs(1),
            None,
            br#"{"kept":1,"changed":2}"#.to_vec(),
        );
        assert_eq!(ctx.private_entry("kept"), Some(1.into()));
        assert_eq!(ctx.private_entry("missing"), None);
        ctx.set_private_entry("changed", 3.into());
        ctx.set_private_entry("added", "a".into());
        let out: serde_json::Value = serde_json::from_slice(&ctx.private_out()).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"kept": 1, "changed": 3, "added": "a"})
        );
        // Bytes that are not a JSON object (another provider version's format) start a fresh object.
        let ctx = Context::new(
            "example_x",
            CancellationToken::new(),
            Duration::from_secs(1),
            None,
            b"opaque".to_vec(),
        );
        assert_eq!(ctx.private_entry("kept"), None);
        ctx.set_private_entry("k", true.into());
        assert_eq!(ctx.private_out(), br#"{"k":true}"#.to_vec());
    }

    #[tokio::test]
    async fn the_operation_deadline_is_seen_only_inside_its_scope() {
        assert_eq!(operation_deadline(), None);
        let deadline = Instant::now() + Duration::from_secs(5);
        let seen = with_operation_deadline(deadline, async {
            tokio::task::yield_now().await;
            operation_deadline()
        })
        .await;
        assert_eq!(seen, Some(deadline));
        assert_eq!(operation_deadline(), None);
    }

    #[tokio::test]
    async fn guard_ends_on_cancellation_and_timeout() {
        let token = CancellationToken::new();
        let ctx = Context::new(
            "example_x",
            token.clone(),
            Duration::from_secs(60),
            None,
            Vec::new(),
        );
        token.cancel();
        let err = ctx
            .guard(std::future::pending::<Result<(), Diagnostics>>())
            .await
            .unwrap_err();
        assert_eq!(err.iter().next().unwrap().summary, "Operation cancelled");

        let ctx = Context::new(
            "example_x",
            CancellationToken::new(),
            Duration::from_millis(20),
            None,
            Vec::new(),
        );
        let err = ctx
            .guard(std::future::pending::<Result<(), Diagnostics>>())
            .await
            .unwrap_err();
        assert_eq!(err.iter().next().unwrap().summary, "Operation timed out");
        assert_eq!(ctx.guard(async { Ok(7) }).await.unwrap(), 7);
    }

    #[test]
    fn provider_data_downcasts_or_explains() {
        let ctx = Context::for_tests("example_x", Some(Arc::new(Clients { tenant: "t1" })));
        assert_eq!(ctx.provider_data::<Clients>().unwrap().tenant, "t1");
        assert!(ctx.provider_data::<String>().is_err());
        let unconfigured = Context::for_tests("example_x", None);
        let err = unconfigured.provider_data::<Clients>().unwrap_err();
        assert_eq!(
            err.iter().next().unwrap().summary,
            "Provider not configured"
        );
    }

    #[test]
    fn private_state_passes_through_unless_replaced_and_warnings_collect() {
        let ctx = Context::new(
            "example_x",
            CancellationToken::new(),
            Duration::from_secs(1),
            None,
            b"old".to_vec(),
        );
        assert_eq!(ctx.private(), b"old");
        assert_eq!(ctx.private_out(), b"old".to_vec());
        ctx.set_private(b"new".to_vec());
        assert_eq!(ctx.private_out(), b"new".to_vec());
        ctx.warn("Heads up", "detail");
        assert_eq!(ctx.take_diagnostics().len(), 1);
        assert!(ctx.take_diagnostics().is_empty());
    }
}
