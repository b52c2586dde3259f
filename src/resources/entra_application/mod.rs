//! `idbridge_entra_application`: the "AWS IAM Identity Center (successor to AWS Single Sign-On)" enterprise
//! application, instantiated from the Entra ID gallery, with its service principal.
//!
//! Instantiation goes through [`GraphClient::instantiate_application_safely`] so that a 404 answered for a
//! successful `instantiate` (Graph does that) never leads to a second application. Entra ID replicates new objects
//! slowly, so reads of an application created recently wait for it instead of reporting it deleted.

mod identity;
mod list;
mod model;
mod schema;
mod validate;

use crate::services::clients::{Cloud, check_credentials_at_plan};
use std::collections::BTreeSet;

use async_trait::async_trait;

use crate::clients::graph::models::{
    Application, ApplicationPatch, ServicePrincipal, ServicePrincipalPatch,
};
use crate::clients::graph::{AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID, GraphClient};
use crate::framework::{
    ApplyError, Attr, AttributePath, Context, CreateRequest, Diagnostic, Diagnostics, Model,
    PlanChange, Resource, Schema, UpdateRequest, Value,
};
use crate::helpers::graph_error;
use crate::helpers::recent_write::{mark_recent_write, mark_seen};
use crate::services::IdbridgeClients;
use crate::services::applications::{
    existing_service_principal_of, read_application, remove_half_made_applications,
    service_principal_of,
};
use crate::services::clients::graph_clients;

pub use model::EntraApplicationModel;
use model::{app_role_ids, hide_from_my_apps, service_principal_tags};

pub use list::EntraApplicationList;

pub const TYPE_NAME: &str = "idbridge_entra_application";

pub struct EntraApplicationResource;

fn tenant_of(clients: &IdbridgeClients) -> Option<String> {
    clients
        .entra_settings()
        .ok()
        .and_then(|settings| settings.tenant_id.clone())
}

/// Looks the template up so that a wrong `template_id` fails with a pointed error instead of Graph's 404 on
/// `instantiate`.
async fn check_template(graph: &GraphClient, template_id: &str) -> Result<(), Diagnostic> {
    match graph.get_application_template(template_id).await {
        Ok(_) => Ok(()),
        Err(error) if error.is_not_found() || error.status() == Some(400) => Err(Diagnostic::error(
            "Unknown application template",
            format!(
                "Entra ID has no application template with ID {template_id:?}. Leave `template_id` unset to use \
                 the \"AWS IAM Identity Center (successor to AWS Single Sign-On)\" gallery template \
                 ({AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID}), or use an ID listed by `GET /applicationTemplates`."
            ),
        )
        .at(AttributePath::new("template_id"))),
        Err(error) => Err(graph_error(&format!("look up application template {template_id}"), &error)
            .at(AttributePath::new("template_id"))),
    }
}

/// Brings the application and service principal to `planned`, comparing with what Graph reported.
async fn converge(
    graph: &GraphClient,
    planned: &EntraApplicationModel,
    application: &Application,
    service_principal: &ServicePrincipal,
) -> Result<(), Diagnostics> {
    let display_name = planned.display_name.as_str().unwrap_or_default();
    let notes = planned.notes.as_str().filter(|notes| !notes.is_empty());

    let mut app_patch = ApplicationPatch::default();
    if application.display_name != display_name {
        app_patch.display_name = Some(display_name.to_string());
    }
    if application.notes.as_deref().filter(|n| !n.is_empty()) != notes {
        app_patch.notes = Some(notes.map(str::to_string));
    }
    if !planned.tags.is_null() || !application.tags.is_empty() {
        let wanted = planned.tags.known().cloned().unwrap_or_default();
        let current: BTreeSet<String> = application.tags.iter().cloned().collect();
        if wanted != current {
            app_patch.tags = Some(wanted.into_iter().collect());
        }
    }
    if app_patch != ApplicationPatch::default() {
        graph
            .read_after_write(|| graph.update_application(&application.id, &app_patch))
            .await
            .map_err(|e| graph_error(&format!("update application {}", application.id), &e))?;
    }

    let mut sp_patch = ServicePrincipalPatch::default();
    if service_principal.display_name != display_name {
        sp_patch.display_name = Some(display_name.to_string());
    }
    if let Some(&required) = planned.app_role_assignment_required.known()
        && required != service_principal.app_role_assignment_required
    {
        sp_patch.app_role_assignment_required = Some(required);
    }
    if let Some(&hide) = planned.hide_from_my_apps.known()
        && hide != hide_from_my_apps(service_principal)
    {
        sp_patch.tags = Some(service_principal_tags(&service_principal.tags, hide));
    }
    if sp_patch != ServicePrincipalPatch::default() {
        graph
            .read_after_write(|| graph.update_service_principal(&service_principal.id, &sp_patch))
            .await
            .map_err(|e| {
                graph_error(
                    &format!("update service principal {}", service_principal.id),
                    &e,
                )
            })?;
    }

    if let Some(wanted) = planned.owners.known() {
        converge_owners(graph, &application.id, wanted).await?;
    }
    Ok(())
}

async fn converge_owners(
    graph: &GraphClient,
    application_id: &str,
    wanted: &BTreeSet<String>,
) -> Result<(), Diagnostics> {
    let current: BTreeSet<String> = graph
        .read_after_write(|| graph.list_application_owner_ids(application_id))
        .await
        .map_err(|e| {
            graph_error(
                &format!("list the owners of application {application_id}"),
                &e,
            )
        })?
        .into_iter()
        .collect();
    for owner in wanted.difference(&current) {
        graph
            .read_after_write(|| graph.add_application_owner(application_id, owner))
            .await
            .map_err(|e| {
                Diagnostic::error(
                    "Failed to add an application owner",
                    format!(
                        "{e}. Check that {owner} is the object ID of a user or service principal."
                    ),
                )
                .at(AttributePath::new("owners"))
            })?;
    }
    for owner in current.difference(wanted) {
        match graph.remove_application_owner(application_id, owner).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(graph_error("remove an application owner", &e).into()),
        }
    }
    Ok(())
}

/// Reads application, service principal and owners into state; `None` when the application is gone.
async fn refresh(
    ctx: &Context,
    clients: &IdbridgeClients,
    graph: &GraphClient,
    prior: &EntraApplicationModel,
    object_id: &str,
) -> Result<Option<EntraApplicationModel>, Diagnostics> {
    let Some(application) = read_application(ctx, graph, object_id).await? else {
        return Ok(None);
    };
    let Some(service_principal) =
        existing_service_principal_of(ctx, graph, &application.app_id).await?
    else {
        // The enterprise application was deleted: the plan replaces the pair (see `modify_plan`).
        return Ok(Some(EntraApplicationModel {
            service_principal_id: Attr::Null,
            ..prior.clone()
        }));
    };
    let owners = graph
        .read_after_write(|| graph.list_application_owner_ids(object_id))
        .await
        .map_err(|e| graph_error(&format!("list the owners of application {object_id}"), &e))?;
    mark_seen(ctx);
    Ok(Some(prior.refreshed(
        tenant_of(clients).as_deref(),
        &application,
        &service_principal,
        owners,
    )))
}

fn disappeared(detail: String) -> Diagnostics {
    Diagnostic::error("Application disappeared", detail).into()
}

#[async_trait]
impl Resource for EntraApplicationResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn identity_schema(&self) -> Option<crate::framework::IdentitySchema> {
        Some(identity::identity_schema())
    }

    async fn modify_plan(&self, ctx: &Context, plan: &mut PlanChange) -> Result<(), Diagnostics> {
        if plan.is_destroy() {
            return Ok(());
        }
        check_credentials_at_plan(ctx, &[Cloud::Entra]).await?;
        let config = EntraApplicationModel::decode(&plan.config)?;
        let mut planned = EntraApplicationModel::decode(&plan.planned)?;
        if config.app_role_assignment_required.is_null() {
            planned.app_role_assignment_required = true.into();
        }
        if config.hide_from_my_apps.is_null() {
            planned.hide_from_my_apps = false.into();
        }
        if config.template_id.is_null() {
            planned.template_id = if plan.is_create() {
                AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID.into()
            } else {
                EntraApplicationModel::decode(&plan.prior)?.template_id
            };
        }
        if !plan.is_create()
            && EntraApplicationModel::decode(&plan.prior)?
                .service_principal_id
                .is_null()
        {
            // Refresh found the service principal deleted: an application without one cannot be repaired
            // (instantiating is the only way to get both), so it is replaced.
            planned.service_principal_id = Attr::unknown();
            plan.requires_replace
                .push(AttributePath::new("service_principal_id"));
        }
        plan.planned = planned.encode();
        // A wrong template fails the plan, pointed at `template_id`, before anything is created. Without usable
        // credentials at plan time the check is left to apply.
        if plan.is_create()
            && let Some(template_id) = planned.template_id.as_str()
            && let Ok((_, graph)) = graph_clients(ctx).await
        {
            check_template(&graph, template_id).await?;
        }
        Ok(())
    }

    async fn create(&self, ctx: &Context, request: CreateRequest) -> Result<Value, ApplyError> {
        let (clients, graph) = graph_clients(ctx).await?;
        let planned = EntraApplicationModel::decode(&request.planned)?;
        let template_id = planned
            .template_id
            .as_str()
            .unwrap_or(AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID)
            .to_string();
        let display_name = planned
            .display_name
            .as_str()
            .unwrap_or_default()
            .to_string();
        ctx.guard(async {
            check_template(&graph, &template_id)
                .await
                .map_err(Diagnostics::from)
        })
        .await?;
        let removed = ctx
            .guard(remove_half_made_applications(
                &graph,
                &template_id,
                &display_name,
            ))
            .await?;
        if !removed.is_empty() {
            ctx.warn(
                "Removed applications an interrupted create left behind",
                format!(
                    "An earlier apply stopped while instantiating {display_name:?}; its half-made application(s) \
                     {} and their service principals were deleted before creating the application again.",
                    removed.join(", ")
                ),
            );
        }
        let created = ctx
            .guard(async {
                graph
                    .instantiate_application_safely(&template_id, &display_name)
                    .await
                    .map_err(|e| graph_error("instantiate the gallery application", &e).into())
            })
            .await?;
        mark_recent_write(ctx);
        let application_id = created.application.id.clone();
        // From here on the application exists: any failure keeps it in state (tainted) instead of orphaning it.
        let partial = EntraApplicationModel {
            id: application_id.as_str().into(),
            client_id: created.application.app_id.as_str().into(),
            service_principal_id: created.service_principal.id.as_str().into(),
            tenant_id: tenant_of(&clients).into(),
            app_role_ids: app_role_ids(&created.application).into(),
            owners: Attr::Null,
            ..planned.clone()
        };
        let finish = async {
            converge(
                &graph,
                &planned,
                &created.application,
                &created.service_principal,
            )
            .await?;
            refresh(ctx, &clients, &graph, &planned, &application_id)
                .await?
                .ok_or_else(|| {
                    disappeared(format!(
                        "Application {application_id} was created but is no longer found in Entra ID."
                    ))
                })
        };
        match ctx.guard(finish).await {
            Ok(state) => Ok(state.encode()),
            Err(diagnostics) => {
                Err(ApplyError::from(diagnostics).with_partial_state(partial.encode()))
            }
        }
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let (clients, graph) = graph_clients(ctx).await?;
        let state = EntraApplicationModel::decode(&state)?;
        let Some(object_id) = state.id.known().cloned() else {
            return Ok(None);
        };
        let refreshed = ctx
            .guard(refresh(ctx, &clients, &graph, &state, &object_id))
            .await?;
        Ok(refreshed.map(|model| model.encode()))
    }

    async fn update(&self, ctx: &Context, request: UpdateRequest) -> Result<Value, ApplyError> {
        let (clients, graph) = graph_clients(ctx).await?;
        let planned = EntraApplicationModel::decode(&request.planned)?;
        let prior = EntraApplicationModel::decode(&request.prior)?;
        let object_id = prior.id.as_str().unwrap_or_default().to_string();
        let work = async {
            let application = read_application(ctx, &graph, &object_id).await?.ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Application not found",
                    format!(
                        "Application {object_id} no longer exists in Entra ID. Run `terraform apply` again to \
                         create a new one."
                    ),
                ))
            })?;
            let service_principal = service_principal_of(&graph, &application.app_id).await?;
            converge(&graph, &planned, &application, &service_principal).await?;
            mark_recent_write(ctx);
            refresh(ctx, &clients, &graph, &planned, &object_id)
                .await?
                .ok_or_else(|| {
                    disappeared(format!(
                        "Application {object_id} vanished during the update."
                    ))
                })
        };
        Ok(ctx.guard(work).await?.encode())
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        let (_, graph) = graph_clients(ctx).await?;
        let state = EntraApplicationModel::decode(&state)?;
        let Some(object_id) = state.id.as_str().map(str::to_string) else {
            return Ok(());
        };
        // Leftovers of an interrupted create of the same application go with it.
        if let (Some(template_id), Some(display_name)) =
            (state.template_id.as_str(), state.display_name.as_str())
        {
            ctx.guard(remove_half_made_applications(
                &graph,
                template_id,
                display_name,
            ))
            .await?;
        }
        let work = async {
            match graph.delete_application(&object_id).await {
                Ok(()) => {}
                Err(error) if error.is_not_found() => return Ok(()),
                Err(error) => {
                    return Err(
                        graph_error(&format!("delete application {object_id}"), &error).into(),
                    );
                }
            }
            // Deletion also replicates: wait until reads agree, so dependents (and re-creations under the same
            // name) do not see a ghost.
            let interval = graph.retry_policy().replication_interval;
            loop {
                match graph.get_application(&object_id).await {
                    Err(error) if error.is_not_found() => return Ok(()),
                    Err(error) => {
                        return Err(graph_error(
                            &format!("confirm deletion of {object_id}"),
                            &error,
                        )
                        .into());
                    }
                    Ok(_) => tokio::time::sleep(interval).await,
                }
            }
        };
        ctx.guard(work).await
    }

    async fn import_state(&self, _ctx: &Context, id: &str) -> Result<Value, Diagnostics> {
        if id.trim().is_empty() || id.contains('/') {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!(
                    "{id:?} is not an application object ID. Import with the application's object ID (Entra ID > \
                     App registrations > the application > Object ID), not its client ID."
                ),
            )
            .into());
        }
        Ok(EntraApplicationModel {
            id: id.into(),
            ..Default::default()
        }
        .encode())
    }
}

#[cfg(test)]
mod tests;
