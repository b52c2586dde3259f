//! `idbridge_conditional_access_policy`: a Conditional Access policy (Graph `/identity/conditionalAccess/policies`)
//! that protects the AWS IAM Identity Center application. The configuration names the application by object ID,
//! as the other resources do; the policy itself targets the application's client ID (appId).

mod identity;
mod list;
mod model;
mod schema;
mod validate;

use crate::services::clients::{Cloud, check_credentials_at_plan};
use std::collections::BTreeSet;
use std::time::Duration;

use crate::clients::graph::GraphClient;
use crate::framework::{
    ApplyError, Attr, AttributePath, Context, CreateRequest, Diagnostic, Diagnostics, Model,
    PlanChange, Resource, Schema, UpdateRequest, Value, async_trait,
};
use crate::helpers::graph_error;
use crate::helpers::ids::is_object_id;
use crate::helpers::recent_write::mark_recent_write;
use crate::services::applications::read_application;
use crate::services::clients::graph_clients;

pub use list::ConditionalAccessPolicyList;
pub use model::ConditionalAccessPolicyModel;

pub const TYPE_NAME: &str = "idbridge_conditional_access_policy";

pub struct ConditionalAccessPolicyResource;

/// The appId the policy must target, from the application's object ID.
async fn app_id_of(
    ctx: &Context,
    graph: &GraphClient,
    application_id: &str,
) -> Result<String, Diagnostics> {
    match read_application(ctx, graph, application_id).await? {
        Some(application) => Ok(application.app_id),
        None => Err(Diagnostic::error(
            "Application not found",
            format!(
                "No Entra ID application has the object ID {application_id}; pass \
                 `idbridge_entra_application.<name>.id`."
            ),
        )
        .at(AttributePath::new("application_id"))
        .into()),
    }
}

/// Reads the policy; `None` when it is gone.
async fn read_policy(
    graph: &GraphClient,
    policy_id: &str,
) -> Result<Option<crate::clients::graph::conditional_access::ConditionalAccessPolicy>, Diagnostics>
{
    match graph
        .read_after_write(|| graph.get_conditional_access_policy(policy_id))
        .await
    {
        Ok(policy) => Ok(Some(policy)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(graph_error(
            &format!("read the Conditional Access policy {policy_id}"),
            &error,
        )
        .into()),
    }
}

#[async_trait]
impl Resource for ConditionalAccessPolicyResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn identity_schema(&self) -> Option<crate::framework::IdentitySchema> {
        Some(identity::identity_schema())
    }

    fn default_timeout(&self, _operation: crate::framework::Operation) -> Duration {
        Duration::from_secs(5 * 60)
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        match ConditionalAccessPolicyModel::decode(config) {
            Ok(config) => validate::cross_checks(&config),
            Err(diagnostics) => diagnostics,
        }
    }

    async fn modify_plan(&self, ctx: &Context, plan: &mut PlanChange) -> Result<(), Diagnostics> {
        if plan.is_destroy() {
            return Ok(());
        }
        check_credentials_at_plan(ctx, &[Cloud::Entra]).await?;
        let config = ConditionalAccessPolicyModel::decode(&plan.config)?;
        let mut planned = ConditionalAccessPolicyModel::decode(&plan.planned)?;
        // Graph's own defaults, planned exactly so an unset attribute never shows as a change.
        if config.client_app_types.is_null() {
            planned.client_app_types = Attr::from(BTreeSet::from(["all".to_string()]));
        }
        if config.operator.is_null() {
            planned.operator = match &config.built_in_controls {
                Attr::Known(controls) if !controls.is_empty() => "OR".into(),
                Attr::Unknown(_) => Attr::unknown(),
                _ => Attr::Null,
            };
        }
        if !plan.is_create() {
            let prior = ConditionalAccessPolicyModel::decode(&plan.prior)?;
            if prior.application_id != planned.application_id {
                planned.app_id = Attr::unknown();
            }
        }
        plan.planned = planned.encode();
        Ok(())
    }

    async fn create(&self, ctx: &Context, request: CreateRequest) -> Result<Value, ApplyError> {
        let (_, graph) = graph_clients(ctx).await?;
        let mut planned = ConditionalAccessPolicyModel::decode(&request.planned)?;
        let created = ctx
            .guard(async {
                let application_id = planned.application_id.as_str().unwrap_or_default();
                let app_id = app_id_of(ctx, &graph, application_id).await?;
                let created = graph
                    .create_conditional_access_policy(&planned.desired(&app_id))
                    .await
                    .map_err(|e| graph_error("create the Conditional Access policy", &e))?;
                Ok::<_, Diagnostics>((app_id, created))
            })
            .await?;
        mark_recent_write(ctx);
        let (app_id, policy) = created;
        planned.app_id = app_id.into();
        Ok(planned.refreshed(&policy).encode())
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let (_, graph) = graph_clients(ctx).await?;
        let state = ConditionalAccessPolicyModel::decode(&state)?;
        let Some(policy_id) = state.id.as_str() else {
            return Ok(None);
        };
        let mut state = state.clone();
        // After an import only the policy ID is known: the application comes from the policy's target.
        let remote = ctx.guard(read_policy(&graph, policy_id)).await?;
        let Some(remote) = remote else {
            return Ok(None);
        };
        if state.app_id.is_null() {
            let target = remote
                .conditions
                .applications
                .include_applications
                .first()
                .cloned()
                .unwrap_or_default();
            state.app_id = target.as_str().into();
            if is_object_id(&target) {
                state.application_id = ctx
                    .guard(async {
                        graph
                            .find_application_by_app_id(&target)
                            .await
                            .map_err(|e| {
                                graph_error("find the application the policy targets", &e).into()
                            })
                    })
                    .await?
                    .map(|application| application.id)
                    .into();
            }
        }
        Ok(Some(state.refreshed(&remote).encode()))
    }

    async fn update(&self, ctx: &Context, request: UpdateRequest) -> Result<Value, ApplyError> {
        let (_, graph) = graph_clients(ctx).await?;
        let mut planned = ConditionalAccessPolicyModel::decode(&request.planned)?;
        let prior = ConditionalAccessPolicyModel::decode(&request.prior)?;
        let policy_id = prior.id.as_str().unwrap_or_default().to_string();
        let (app_id, policy) = ctx
            .guard(async {
                let app_id = match planned.app_id.as_str() {
                    Some(app_id) => app_id.to_string(),
                    None => {
                        app_id_of(
                            ctx,
                            &graph,
                            planned.application_id.as_str().unwrap_or_default(),
                        )
                        .await?
                    }
                };
                graph
                    .update_conditional_access_policy(&policy_id, &planned.desired(&app_id))
                    .await
                    .map_err(|e| graph_error("update the Conditional Access policy", &e))?;
                let policy = read_policy(&graph, &policy_id).await?.ok_or_else(|| {
                    Diagnostic::error(
                        "Conditional Access policy disappeared",
                        format!("The policy {policy_id} is gone right after it was updated."),
                    )
                })?;
                Ok::<_, Diagnostics>((app_id, policy))
            })
            .await?;
        mark_recent_write(ctx);
        planned.app_id = app_id.into();
        Ok(planned.refreshed(&policy).encode())
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        let (_, graph) = graph_clients(ctx).await?;
        let state = ConditionalAccessPolicyModel::decode(&state)?;
        let Some(policy_id) = state.id.as_str() else {
            return Ok(());
        };
        ctx.guard(async {
            match graph.delete_conditional_access_policy(policy_id).await {
                Err(error) if !error.is_not_found() => {
                    Err(graph_error("delete the Conditional Access policy", &error).into())
                }
                _ => Ok(()),
            }
        })
        .await
    }

    async fn import_state(&self, _ctx: &Context, id: &str) -> Result<Value, Diagnostics> {
        if !is_object_id(id) {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!(
                    "{id:?} is not a Conditional Access policy ID. Import with the policy's ID (a GUID, shown in \
                     the Entra admin center under Protection > Conditional Access > the policy)."
                ),
            )
            .into());
        }
        Ok(ConditionalAccessPolicyModel {
            id: id.into(),
            ..Default::default()
        }
        .encode())
    }
}

#[cfg(test)]
mod tests;
