//! `idbridge_restart_provisioning`: restarts the application's provisioning job (Microsoft Graph
//! `POST …/synchronization/jobs/{id}/restart` with `criteria.resetScope`), which clears a quarantine and,
//! with `Full`, starts a full resynchronization.

use async_trait::async_trait;

use crate::framework::{
    Action, ActionProgress, Attr, Attribute, AttributePath, Context, Diagnostic, Diagnostics,
    Model, Schema, Value,
};
use crate::helpers::graph_error;
use crate::services::clients::graph_clients;
use crate::services::provisioning_jobs::{find_service_principal, pick_aws_job};

pub const TYPE_NAME: &str = "idbridge_restart_provisioning";

/// The `synchronizationJobRestartScope` values of the Microsoft Graph restart call.
const RESET_SCOPES: &[&str] = &[
    "Full",
    "QuarantineState",
    "Watermark",
    "Escrows",
    "ConnectorDataStore",
    "ForceDeletes",
];
const DEFAULT_RESET_SCOPE: &str = "Full";

crate::model! {
    #[derive(Clone, Debug, Default)]
    pub struct RestartProvisioningModel {
        pub application_id: Attr<String>,
        pub reset_scope: Attr<Vec<String>>,
    }
}

pub struct RestartProvisioningAction;

fn schema() -> Schema {
    Schema::new()
        .description(
            "Restarts the provisioning job of an AWS IAM Identity Center application: clears a quarantine (e.g. \
             after the SCIM token was replaced outside Terraform) and, with the default `Full` scope, forgets what \
             was provisioned so the next cycle matches every user and group again.",
        )
        .attribute(super::application_id_attribute())
        .attribute(
            Attribute::list("reset_scope", crate::framework::Type::String)
                .optional()
                .description(format!(
                    "What the restart resets, any of {}; `[\"Full\"]` when left out.",
                    RESET_SCOPES.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
                )),
        )
}

#[async_trait]
impl Action for RestartProvisioningAction {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let Ok(config) = RestartProvisioningModel::decode(config) else {
            return diags;
        };
        for scope in config.reset_scope.known().into_iter().flatten() {
            if !RESET_SCOPES.contains(&scope.as_str()) {
                diags.error_at(
                    AttributePath::new("reset_scope"),
                    "Invalid reset scope",
                    format!(
                        "{scope:?} is not a restart scope; use any of {}.",
                        RESET_SCOPES.join(", ")
                    ),
                );
            }
        }
        diags
    }

    async fn invoke(
        &self,
        ctx: &Context,
        config: Value,
        progress: &ActionProgress,
    ) -> Result<(), Diagnostics> {
        let config = RestartProvisioningModel::decode(&config)?;
        let application_id = config.application_id.as_str().unwrap_or_default();
        let scope = match config.reset_scope.known() {
            Some(scopes) if !scopes.is_empty() => scopes.join(","),
            _ => DEFAULT_RESET_SCOPE.to_owned(),
        };
        let (_, graph) = graph_clients(ctx).await?;
        let not_found = || {
            Diagnostics::from(
                Diagnostic::error(
                    "Application not found",
                    format!("No application with object id {application_id} (or no enterprise application for it) exists."),
                )
                .at(AttributePath::new("application_id")),
            )
        };
        let sp = find_service_principal(&graph, application_id, false)
            .await?
            .ok_or_else(not_found)?;
        let jobs = graph
            .list_synchronization_jobs(&sp)
            .await
            .map_err(|e| graph_error("read the provisioning job", &e))?;
        let job = pick_aws_job(jobs).ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "No provisioning job",
                "The enterprise application has no provisioning job to restart; configure provisioning first (idbridge_scim_provisioning).",
            ))
        })?;
        progress
            .report(format!(
                "Restarting provisioning job {} (reset scope {scope})",
                job.id
            ))
            .await;
        graph
            .restart_synchronization_job(&sp, &job.id, Some(&scope))
            .await
            .map_err(|e| graph_error("restart the provisioning job", &e))?;
        let now = graph
            .get_synchronization_job(&sp, &job.id)
            .await
            .map_err(|e| graph_error("read the provisioning job", &e))?;
        let code = now
            .status
            .as_ref()
            .and_then(|s| s.code.clone())
            .unwrap_or_else(|| "unknown".into());
        let quarantined = now
            .status
            .as_ref()
            .and_then(|s| s.quarantine.as_ref())
            .is_some_and(|q| !q.is_null());
        progress
            .report(format!(
                "Provisioning job {} is {code}{}",
                job.id,
                if quarantined {
                    ", still quarantined"
                } else {
                    ", not quarantined"
                }
            ))
            .await;
        if quarantined {
            ctx.warn(
                "Job still quarantined",
                format!("Entra ID still reports a quarantine on job {}; check the SCIM token and the job's status in the Entra admin center.", job.id),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model_matches_schema;

    #[test]
    fn model_matches_schema() {
        assert_model_matches_schema::<RestartProvisioningModel>(&schema());
    }

    #[tokio::test]
    async fn unknown_reset_scopes_are_refused_at_validation() {
        let ctx = Context::for_tests(TYPE_NAME, None);
        let config = Value::object([
            (
                "application_id",
                Value::from("00000000-0000-0000-0000-000000000001"),
            ),
            (
                "reset_scope",
                Value::list([Value::from("Full"), Value::from("Everything")]),
            ),
        ]);
        let diags = RestartProvisioningAction
            .validate_config(&ctx, &config)
            .await;
        assert_eq!(diags.len(), 1);
        assert!(
            diags
                .iter()
                .next()
                .unwrap()
                .detail
                .contains("\"Everything\"")
        );
    }
}
