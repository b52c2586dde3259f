//! Plan-time proof that permission sets an assignment names exist, so a well-formed but wrong ARN fails the
//! plan instead of the apply (after the principal was already assigned and provisioned).

use std::time::Duration;

use crate::clients::aws::Deadline;
use crate::framework::{AttributePath, Context, Diagnostic, Diagnostics};
use crate::helpers::instance_arn_of;

use super::IdbridgeClients;

/// How long plan may spend proving that permission sets exist.
const PLAN_CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// Errors at `attribute` for each of `arns` that does not exist. Each ARN is looked up once per configured
/// provider. When AWS is not configured yet or cannot answer, the plan goes on (with a warning) and apply
/// reports the problem.
pub async fn verify_permission_sets_exist(
    ctx: &Context,
    arns: &[String],
    attribute: &str,
) -> Result<(), Diagnostics> {
    if arns.is_empty() {
        return Ok(());
    }
    let Ok(clients) = IdbridgeClients::from_context(ctx) else {
        return Ok(());
    };
    let Ok(identity_center) = clients.identity_center().await else {
        return Ok(());
    };
    let deadline = Deadline::after(PLAN_CHECK_TIMEOUT);
    let lookups = arns.iter().map(|arn| {
        let (clients, identity_center) = (&clients, &identity_center);
        async move {
            let instance = instance_arn_of(arn).unwrap_or_default();
            let outcome = clients
                .caches()
                .existing_permission_sets
                .get_or_try_init(arn.clone(), || async {
                    identity_center
                        .describe_permission_set(&instance, arn, deadline)
                        .await
                        .map(drop)
                })
                .await;
            (arn, instance, outcome)
        }
    });
    let outcomes = ctx
        .guard(async { Ok(futures_util::future::join_all(lookups).await) })
        .await?;
    let mut diags = Diagnostics::new();
    for (arn, instance, outcome) in outcomes {
        match outcome {
            Ok(()) => {}
            Err(e) if e.is_not_found() || e.is_validation() => diags.push(
                Diagnostic::error(
                    "Permission set not found",
                    format!(
                        "{arn:?} does not exist in the IAM Identity Center instance {instance}: {e}. Check \
                         the ARN, or reference `idbridge_permission_set.<name>.arn` so Terraform creates the \
                         permission set first."
                    ),
                )
                .at(AttributePath::new(attribute)),
            ),
            Err(e) => ctx.warn(
                "Cannot verify the permission set",
                format!("Checking {arn:?} at plan time failed: {e}. Apply will try it again."),
            ),
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}
