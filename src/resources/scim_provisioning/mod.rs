//! `idbridge_scim_provisioning`: the Entra ID provisioning (synchronization) job that pushes users and groups of
//! the AWS IAM Identity Center gallery application to the IAM Identity Center SCIM endpoint.
//!
//! The SCIM bearer token is a write-only argument: it is sent to Graph (`synchronization/secrets`) on create and
//! whenever `scim_token_wo_version` changes, and never enters the plan or the state. Because Graph's secrets PUT
//! replaces the whole collection, any change to the endpoint or the scope re-sends the token too, so those
//! changes need the token in the configuration.
//!
//! Drift: `enabled` is read back from the job (`true` only when its schedule is active and it is not in
//! quarantine), so a job paused or quarantined outside Terraform shows as `enabled: false -> true` and the update
//! starts it again (a quarantined job is restarted, which clears the quarantine).

mod identity;
mod list;
mod mappings;
mod model;
mod schema;
mod validate;

use crate::services::clients::{Cloud, check_credentials_at_plan};
use std::time::Duration;

use crate::clients::graph::GraphClient;
use crate::clients::graph::models::{SynchronizationSecret, secret_keys};
use crate::framework::{
    ApplyError, Attr, AttributePath, Context, CreateRequest, Diagnostic, Diagnostics, Model,
    Operation, PlanChange, Resource, Schema, UpdateRequest, Value, async_trait,
};
use crate::helpers::{graph_error, is_object_id};
use crate::services::attribute_mappings::{read_user_mappings, write_user_mappings};
use crate::services::clients::graph_clients;
use crate::services::provisioning_jobs::{
    SYNC_ALL_SECRET, find_service_principal, graph_call, ignore_not_found, job_from_template,
    job_is_running, pick_aws_job, pick_aws_template, put_secrets, readable_secret, set_running,
    validate_saved_credentials,
};
use crate::services::scim_endpoint::preflight;
pub use model::ScimProvisioningModel;
use model::{Desired, SCOPE_ALL, SCOPE_ASSIGNED};

pub use list::ScimProvisioningList;

pub const TYPE_NAME: &str = "idbridge_scim_provisioning";

pub struct ScimProvisioningResource;

/// Writes the managed attribute mappings of `planned` into the job's schema.
async fn write_mappings(
    graph: &GraphClient,
    service_principal_id: &str,
    job_id: &str,
    planned: &ScimProvisioningModel,
) -> Result<(), Diagnostics> {
    write_user_mappings(
        graph,
        service_principal_id,
        job_id,
        &mappings::desired_mappings(&planned.attribute_mapping.0),
        &mappings::removed(&planned.removed_targets),
    )
    .await
    .map(|_| ())
}

fn application_missing(application_id: &str) -> Diagnostics {
    Diagnostic::error(
        "Application not found",
        format!(
            "No application with object id {application_id} (and a service principal) exists in the tenant. \
             Check `application_id`: it must be the object id of the AWS IAM Identity Center application."
        ),
    )
    .at(AttributePath::new("application_id"))
    .into()
}

/// Saves the endpoint, token and scope, then lets Entra test them: its answer explains a bad endpoint or token.
async fn save_secrets(
    graph: &GraphClient,
    service_principal_id: &str,
    job_id: &str,
    desired: &Desired,
) -> Result<(), Diagnostics> {
    put_secrets(
        graph,
        service_principal_id,
        &desired.endpoint,
        &desired.token,
        desired.sync_all,
    )
    .await?;
    validate_saved_credentials(graph, service_principal_id, job_id).await
}

/// The configured value, or `default` when it is not set; left alone while the configuration is unknown.
fn with_default<T: Clone>(configured: &Attr<T>, planned: &mut Attr<T>, default: T) {
    match configured {
        Attr::Unknown(_) => {}
        Attr::Null => *planned = Attr::Known(default),
        known => *planned = known.clone(),
    }
}

#[async_trait]
impl Resource for ScimProvisioningResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn identity_schema(&self) -> Option<crate::framework::IdentitySchema> {
        Some(identity::identity_schema())
    }

    fn default_timeout(&self, _operation: Operation) -> Duration {
        Duration::from_secs(10 * 60)
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        match ScimProvisioningModel::decode(config) {
            Ok(config) => {
                mappings::validate_mappings(&config.attribute_mapping.0, &config.removed_targets)
            }
            // Unknown blocks (dynamic blocks over unknown values) are checked at apply.
            Err(_) => Diagnostics::new(),
        }
    }

    async fn modify_plan(&self, ctx: &Context, plan: &mut PlanChange) -> Result<(), Diagnostics> {
        if plan.is_destroy() {
            return Ok(());
        }
        check_credentials_at_plan(ctx, &[Cloud::Entra]).await?;
        let config = ScimProvisioningModel::decode(&plan.config)?;
        let mut planned = ScimProvisioningModel::decode(&plan.planned)?;
        // Defaults are applied here (not left to "known after apply") so that a job paused out of band reads
        // as `enabled = false` and shows as a diff against the default.
        with_default(&config.enabled, &mut planned.enabled, true);
        with_default(
            &config.scope,
            &mut planned.scope,
            SCOPE_ASSIGNED.to_string(),
        );
        if !planned.application_id.is_unknown() {
            planned.id = planned.application_id.clone();
        }
        // The proposed state equals the prior one when only a default differs (a job paused outside Terraform
        // has `enabled = false`, the default is `true`), so the framework left the status as it was; the
        // apply that starts the job changes it, which Terraform would report as an inconsistent result.
        if !plan.is_create() {
            let prior = ScimProvisioningModel::decode(&plan.prior)?;
            if planned != prior {
                planned.status_changes_on_apply();
            }
        }
        plan.planned = planned.encode();

        if !config.scim_token_wo.is_null() {
            return Ok(());
        }
        let reason = if plan.is_create() {
            Some("creating the provisioning job needs the SCIM access token")
        } else if ScimProvisioningModel::decode(&plan.prior)?.secrets_change(&planned) {
            Some(
                "Graph replaces all provisioning secrets at once, so changing `scim_endpoint`, `scope` or \
                 `scim_token_wo_version` sends the token again",
            )
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Diagnostic::error(
                "Missing SCIM access token",
                format!(
                    "{reason}. Set `scim_token_wo` (for example from an ephemeral variable) to the access token \
                     generated in IAM Identity Center."
                ),
            )
            .at(AttributePath::new("scim_token_wo"))
            .into()),
            None => Ok(()),
        }
    }

    async fn create(&self, ctx: &Context, req: CreateRequest) -> Result<Value, ApplyError> {
        let (_, graph) = graph_clients(ctx).await?;
        let config = ScimProvisioningModel::decode(&req.config)?;
        let planned = ScimProvisioningModel::decode(&req.planned)?;
        let desired = Desired::from(&config, &planned)?;
        let application_id = desired.application_id.clone();

        // The endpoint and token are checked before anything is created, so bad inputs leave nothing behind.
        ctx.guard(preflight(&desired.endpoint, &desired.token))
            .await?;

        let service_principal_id = ctx
            .guard(find_service_principal(&graph, &application_id, true))
            .await?
            .ok_or_else(|| application_missing(&application_id))?;
        let templates = ctx
            .guard(graph_call(
                graph.list_synchronization_templates(&service_principal_id),
                "list the provisioning templates",
            ))
            .await?;
        let template = pick_aws_template(&templates)
            .map_err(|d| d.at(AttributePath::new("application_id")))?;
        // Entra keeps one job per template on a service principal: one already made from this template (by an
        // apply interrupted before its state was saved) is taken up again instead of adding a second.
        let existing = ctx
            .guard(graph_call(
                graph.list_synchronization_jobs(&service_principal_id),
                "list the provisioning jobs",
            ))
            .await?;
        let job = match job_from_template(existing, &template.id) {
            Some(job) => job,
            None => {
                ctx.guard(graph_call(
                    graph.create_synchronization_job(&service_principal_id, &template.id),
                    "create the provisioning job",
                ))
                .await?
            }
        };

        // From here on the job exists: any failure returns it as partial state so Terraform keeps track of it
        // (the resource is tainted and replaced, or destroyed, by the next run).
        let planned_mappings = planned.clone();
        let mut state = ScimProvisioningModel {
            id: application_id.as_str().into(),
            job_id: job.id.as_str().into(),
            template_id: template.id.as_str().into(),
            ..planned
        };
        state.set_job_status(&job);
        let partial = |error: Diagnostics, state: &ScimProvisioningModel| {
            ApplyError::from(error).with_partial_state(state.encode())
        };

        let configured = async {
            save_secrets(&graph, &service_principal_id, &job.id, &desired).await?;
            // Before the job starts, so that its first cycle already maps with them.
            if planned_mappings.manages_mappings() {
                write_mappings(&graph, &service_principal_id, &job.id, &planned_mappings).await?;
            }
            set_running(
                &graph,
                &service_principal_id,
                &job.id,
                desired.enabled,
                false,
            )
            .await
        };
        if let Err(error) = ctx.guard(configured).await {
            return Err(partial(error, &state));
        }
        match ctx
            .guard(graph_call(
                graph.get_synchronization_job(&service_principal_id, &job.id),
                "read the provisioning job",
            ))
            .await
        {
            Ok(job) => {
                state.set_job_status(&job);
                Ok(state.encode())
            }
            Err(error) => Err(partial(error, &state)),
        }
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let (_, graph) = graph_clients(ctx).await?;
        let mut state = ScimProvisioningModel::decode(&state)?;
        let Some(application_id) = state.application_id.known().cloned() else {
            return Err(Diagnostic::error(
                "No application id in state",
                "The state has no `application_id`; remove the resource from state and import it again.",
            )
            .into());
        };
        let Some(service_principal_id) = ctx
            .guard(find_service_principal(&graph, &application_id, false))
            .await?
        else {
            return Ok(None);
        };
        let job = match state.job_id.as_str() {
            Some(job_id) => {
                match graph
                    .get_synchronization_job(&service_principal_id, job_id)
                    .await
                {
                    Ok(job) => Some(job),
                    Err(error) if error.is_not_found() => None,
                    Err(error) => {
                        return Err(graph_error("read the provisioning job", &error).into());
                    }
                }
            }
            // Import: the job is found by its template.
            None => {
                let jobs = ctx
                    .guard(graph_call(
                        graph.list_synchronization_jobs(&service_principal_id),
                        "list the provisioning jobs",
                    ))
                    .await?;
                pick_aws_job(jobs)
            }
        };
        let Some(job) = job else {
            return Ok(None);
        };
        let secrets = ctx
            .guard(graph_call(
                graph.get_synchronization_secrets(&service_principal_id),
                "read the provisioning secrets",
            ))
            .await?;

        state.id = application_id.into();
        state.job_id = job.id.as_str().into();
        if let Some(template_id) = &job.template_id {
            state.template_id = template_id.as_str().into();
        }
        state.set_job_status(&job);
        state.enabled = job_is_running(&job).into();
        if state.manages_mappings() {
            let remote = ctx
                .guard(read_user_mappings(&graph, &service_principal_id, &job.id))
                .await?;
            (state.attribute_mapping, state.removed_targets) =
                mappings::refreshed(&state.attribute_mapping, &state.removed_targets, &remote);
        }
        // Graph masks secret values on read; only values it shows in clear are taken over.
        if let Some(endpoint) = readable_secret(&secrets, secret_keys::BASE_ADDRESS) {
            state.scim_endpoint = endpoint.into();
        }
        match readable_secret(&secrets, SYNC_ALL_SECRET).map(str::to_ascii_lowercase) {
            Some(value) if value == "true" => state.scope = SCOPE_ALL.into(),
            Some(value) if value == "false" => state.scope = SCOPE_ASSIGNED.into(),
            _ => {
                if state.scope.is_null() {
                    state.scope = SCOPE_ASSIGNED.into();
                }
            }
        }
        Ok(Some(state.encode()))
    }

    async fn update(&self, ctx: &Context, req: UpdateRequest) -> Result<Value, ApplyError> {
        let (_, graph) = graph_clients(ctx).await?;
        let prior = ScimProvisioningModel::decode(&req.prior)?;
        let planned = ScimProvisioningModel::decode(&req.planned)?;
        let application_id = prior.application_id.as_str().unwrap_or_default().to_owned();
        let Some(job_id) = prior.job_id.known().cloned() else {
            return Err(Diagnostic::error(
                "No provisioning job in state",
                "The state has no `job_id`; remove the resource from state and import it again.",
            )
            .into());
        };
        let service_principal_id = ctx
            .guard(find_service_principal(&graph, &application_id, false))
            .await?
            .ok_or_else(|| application_missing(&application_id))?;

        if prior.secrets_change(&planned) {
            let config = ScimProvisioningModel::decode(&req.config)?;
            let desired = Desired::from(&config, &planned)?;
            ctx.guard(preflight(&desired.endpoint, &desired.token))
                .await?;
            ctx.guard(save_secrets(
                &graph,
                &service_principal_id,
                &job_id,
                &desired,
            ))
            .await?;
        }

        if prior.mappings_change(&planned) {
            ctx.guard(write_mappings(
                &graph,
                &service_principal_id,
                &job_id,
                &planned,
            ))
            .await?;
        }

        let enabled = planned.enabled.known().copied().unwrap_or(true);
        if prior.enabled.known() != Some(&enabled) {
            let quarantined = prior.status.as_str() == Some("Quarantine");
            ctx.guard(set_running(
                &graph,
                &service_principal_id,
                &job_id,
                enabled,
                quarantined,
            ))
            .await?;
        }

        let job = ctx
            .guard(graph_call(
                graph.get_synchronization_job(&service_principal_id, &job_id),
                "read the provisioning job",
            ))
            .await?;
        let mut state = planned;
        state.id = application_id.into();
        state.job_id = job_id.into();
        if let Some(template_id) = &job.template_id {
            state.template_id = template_id.as_str().into();
        } else if state.template_id.is_unknown() {
            state.template_id = prior.template_id.clone();
        }
        state.set_job_status(&job);
        Ok(state.encode())
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        let (_, graph) = graph_clients(ctx).await?;
        let state = ScimProvisioningModel::decode(&state)?;
        let application_id = state.application_id.as_str().unwrap_or_default().to_owned();
        let Some(service_principal_id) = ctx
            .guard(find_service_principal(&graph, &application_id, false))
            .await?
        else {
            // The application (and with it the job and the secrets) is gone already.
            return Ok(());
        };
        if let Some(job_id) = state.job_id.as_str() {
            // Pausing first stops a cycle from starting while the job is being deleted.
            ignore_not_found(
                graph
                    .pause_synchronization_job(&service_principal_id, job_id)
                    .await,
                "pause the provisioning job",
            )?;
            ignore_not_found(
                graph
                    .delete_synchronization_job(&service_principal_id, job_id)
                    .await,
                "delete the provisioning job",
            )?;
        }
        let cleared = [secret_keys::BASE_ADDRESS, secret_keys::SECRET_TOKEN].map(|key| {
            SynchronizationSecret {
                key: key.to_owned(),
                value: Some(String::new()),
            }
        });
        ignore_not_found(
            graph
                .put_synchronization_secrets(&service_principal_id, &cleared)
                .await,
            "clear the provisioning secrets",
        )
    }

    async fn import_state(&self, _ctx: &Context, id: &str) -> Result<Value, Diagnostics> {
        let id = id.trim();
        if !is_object_id(id) {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!(
                    "{id:?} is not an application object id. Import with the object id (a GUID) of the AWS IAM \
                     Identity Center application, e.g. `terraform import idbridge_scim_provisioning.this \
                     00000000-0000-0000-0000-000000000000`."
                ),
            )
            .into());
        }
        Ok(ScimProvisioningModel {
            id: id.into(),
            application_id: id.into(),
            ..Default::default()
        }
        .encode())
    }
}

#[cfg(test)]
mod tests;
