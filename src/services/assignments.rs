//! Account assignments of one principal (a group or a user), converged through the client's shared engine:
//! calls paced at the 20 TPS quota, at most 10 asynchronous operations outstanding across every resource of
//! the run, reads batched per (account, permission set). Resources record what exists as
//! `<account_id>/<permission_set_arn>` keys.

use std::collections::BTreeSet;

use crate::clients::aws::{
    AssignmentTarget, Deadline, Error as AwsClientError, IdentityCenter, Principal, PrincipalType,
};
use crate::framework::{AttributePath, Context, Diagnostic, Diagnostics};
use crate::helpers::{aws_error, is_account_id};

/// `<account_id>/<permission_set_arn>`, the form state records assignments in.
pub fn target_key(target: &AssignmentTarget) -> String {
    format!("{}/{}", target.account_id, target.permission_set_arn)
}

/// Inverse of [`target_key`]; the ARN itself contains `/`, so the split is at the first one.
pub fn parse_target_key(key: &str) -> Option<AssignmentTarget> {
    let (account, arn) = key.split_once('/')?;
    (is_account_id(account) && !arn.is_empty()).then(|| AssignmentTarget::new(arn, account))
}

/// Every permission set in every account.
pub fn product<'a>(
    permission_set_arns: impl IntoIterator<Item = &'a String>,
    account_ids: impl IntoIterator<Item = &'a String> + Clone,
) -> BTreeSet<AssignmentTarget> {
    permission_set_arns
        .into_iter()
        .flat_map(|arn| {
            account_ids
                .clone()
                .into_iter()
                .map(move |account| AssignmentTarget::new(arn, account))
        })
        .collect()
}

/// The result of a convergence that got as far as writing: what exists now among the managed targets, and
/// the changes that failed (already a diagnostic), if any.
#[derive(Debug)]
pub struct Converged {
    pub existing: BTreeSet<AssignmentTarget>,
    pub failures: Option<Diagnostic>,
}

/// One principal's account assignments in one instance, read and written within `deadline`.
pub struct PrincipalAssignments<'a> {
    pub identity_center: &'a IdentityCenter,
    pub instance_arn: &'a str,
    pub principal: Principal,
    pub deadline: Deadline,
}

impl PrincipalAssignments<'_> {
    /// Makes the principal assigned to exactly `desired` among the targets it manages (`desired` plus
    /// `known`, what earlier runs recorded): never deletes an assignment made elsewhere. `during` names the
    /// operation for the failure message ("apply", "delete"). `Err` means nothing was changed (the first read
    /// failed).
    pub async fn converge(
        &self,
        ctx: &Context,
        desired: &BTreeSet<AssignmentTarget>,
        known: &BTreeSet<AssignmentTarget>,
        during: &str,
    ) -> Result<Converged, Diagnostics> {
        let engine = self.identity_center.assignments(self.instance_arn);
        let principal = &self.principal;
        // Boxed: the engine's futures nest deeply, and callers nest this one further.
        let outcome = ctx
            .guard(async {
                Box::pin(engine.ensure_assignments(principal, desired, known, self.deadline))
                    .await
                    .map_err(|e| aws_error("Cannot read the account assignments", &e).into())
            })
            .await?;
        tracing::info!(
            %principal,
            created = outcome.created.len(),
            adopted = outcome.adopted.len(),
            deleted = outcome.deleted.len(),
            failed = outcome.failed.len(),
            "account assignments converged"
        );
        let failures =
            (!outcome.failed.is_empty()).then(|| failures_diagnostic(during, &outcome.failed));
        Ok(Converged {
            existing: outcome.existing,
            failures,
        })
    }

    /// Which of `managed` the principal is assigned to now, from the engine's batched reads: one
    /// ListAccountAssignments per (account, permission set) per refresh, shared by all resources, or one
    /// ListAccountAssignmentsForPrincipal for a resource naming many pairs.
    pub async fn assigned_among(
        &self,
        ctx: &Context,
        managed: BTreeSet<AssignmentTarget>,
    ) -> Result<BTreeSet<AssignmentTarget>, Diagnostics> {
        let engine = self.identity_center.assignments(self.instance_arn);
        ctx.guard(async {
            Box::pin(engine.assigned_among(&self.principal, &managed, self.deadline))
                .await
                .map_err(|e| aws_error("Cannot read the account assignments", &e).into())
        })
        .await
    }

    /// Every account assignment of the principal, for an import that has no configuration to go by.
    pub async fn all(&self, ctx: &Context) -> Result<BTreeSet<AssignmentTarget>, Diagnostics> {
        let engine = self.identity_center.assignments(self.instance_arn);
        ctx.guard(async {
            engine
                .assignments_of(&self.principal, self.deadline)
                .await
                .map_err(|e| {
                    let noun = match self.principal.principal_type {
                        PrincipalType::Group => "group",
                        PrincipalType::User => "user",
                    };
                    aws_error(&format!("Cannot list the {noun}'s account assignments"), &e).into()
                })
        })
        .await
    }
}

fn failures_diagnostic(during: &str, failed: &[(AssignmentTarget, AwsClientError)]) -> Diagnostic {
    let lines: Vec<String> = failed
        .iter()
        .map(|(t, e)| format!("- {}: {e}", target_key(t)))
        .collect();
    Diagnostic::error(
        format!("{} account assignment change(s) failed", failed.len()),
        format!(
            "These could not be completed during {during}:\n{}\nWhat succeeded is recorded in state; run the \
             same command again to finish.",
            lines.join("\n")
        ),
    )
    .at(AttributePath::new("assignments"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::aws::AwsError;

    const ARN: &str = "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0123456789abcdef";

    #[test]
    fn target_keys_round_trip_although_the_arn_has_slashes() {
        let target = AssignmentTarget::new(ARN, "123456789012");
        let key = target_key(&target);
        assert_eq!(key, format!("123456789012/{ARN}"));
        assert_eq!(parse_target_key(&key), Some(target));
        assert_eq!(parse_target_key("12345/arn"), None);
        assert_eq!(parse_target_key("123456789012"), None);
    }

    #[test]
    fn failed_changes_are_listed_by_key_at_the_assignments_attribute() {
        let failed = vec![(
            AssignmentTarget::new(ARN, "123456789012"),
            AwsClientError::Api(AwsError::new(
                "CreateAccountAssignment",
                "ConflictException",
                "busy",
                Some(409),
            )),
        )];
        let diagnostic = failures_diagnostic("apply", &failed);
        assert_eq!(diagnostic.summary, "1 account assignment change(s) failed");
        assert!(
            diagnostic.detail.contains(&format!(
                "- 123456789012/{ARN}: CreateAccountAssignment failed"
            )),
            "{}",
            diagnostic.detail
        );
        assert!(diagnostic.detail.contains("during apply"));
        assert_eq!(diagnostic.path, Some(AttributePath::new("assignments")));
    }
}
