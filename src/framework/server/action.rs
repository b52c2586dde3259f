//! Action RPCs: validation, plan and the streamed invocation behind `terraform apply -invoke`.

use tokio::sync::mpsc;

use super::{DEFAULT_TIMEOUT, EncodedValue, Registered, Server, unknown_type};
use crate::framework::action::{Action, ActionProgress};
use crate::framework::diag::Diagnostics;
use crate::framework::provider::Provider;

/// How many progress messages may wait for Terraform before the action waits too.
const PROGRESS_IN_FLIGHT: usize = 16;

/// One event of an invocation: progress while it runs, then exactly one completion.
#[derive(Debug)]
pub(crate) enum InvokeActionEvent {
    Progress(String),
    Completed(Diagnostics),
}

impl<P: Provider> Server<P> {
    fn action(&self, type_name: &str) -> Result<&Registered<dyn Action>, Diagnostics> {
        self.actions
            .get(type_name)
            .ok_or_else(|| unknown_type("action", type_name))
    }

    pub(crate) async fn validate_action_config(
        &self,
        type_name: &str,
        config: &EncodedValue,
    ) -> Diagnostics {
        self.validate(&self.actions, "action", type_name, config, true)
            .await
    }

    pub(crate) async fn plan_action(&self, type_name: &str, config: &EncodedValue) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let outcome = async {
            let a = self.action(type_name)?;
            let config = config.decode(&a.ty)?;
            let ctx = self.context(type_name, DEFAULT_TIMEOUT, Vec::new());
            let result = self
                .supervise(&ctx, a.handler.plan(&ctx, &config), Diagnostics::from)
                .await;
            diags.extend(ctx.take_diagnostics());
            result
        }
        .await;
        if let Err(e) = outcome {
            diags.extend(e);
        }
        diags
    }

    /// Starts the action and returns its events as they come; the last one is the completion.
    pub(crate) fn invoke_action(
        &self,
        type_name: &str,
        config: &EncodedValue,
    ) -> mpsc::Receiver<InvokeActionEvent> {
        let (events, receiver) = mpsc::channel(PROGRESS_IN_FLIGHT);
        let prepared = self
            .action(type_name)
            .and_then(|a| Ok((a.handler.clone(), config.decode(&a.ty)?)));
        let (handler, config) = match prepared {
            Ok(prepared) => prepared,
            Err(diagnostics) => {
                let _ = events.try_send(InvokeActionEvent::Completed(diagnostics));
                return receiver;
            }
        };
        let ctx = self.context(type_name, handler.timeout(), Vec::new());
        tokio::spawn(async move {
            let (progress_sender, mut progress) = mpsc::channel(PROGRESS_IN_FLIGHT);
            let run = async move {
                let reporter = ActionProgress::new(progress_sender);
                let outcome = ctx.guard(handler.invoke(&ctx, config, &reporter)).await;
                let mut diagnostics = ctx.take_diagnostics();
                if let Err(e) = outcome {
                    diagnostics.extend(e);
                }
                diagnostics
            };
            let progress_out = events.clone();
            let forward = async move {
                while let Some(message) = progress.recv().await {
                    let _ = progress_out
                        .send(InvokeActionEvent::Progress(message))
                        .await;
                }
            };
            let (diagnostics, ()) = tokio::join!(run, forward);
            let _ = events.send(InvokeActionEvent::Completed(diagnostics)).await;
        });
        receiver
    }
}
