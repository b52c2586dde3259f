//! `idbridge_entra_application`: the "AWS IAM Identity Center (successor to AWS Single Sign-On)" enterprise
//! application, instantiated from the Entra ID gallery, with its service principal.
//!
//! Instantiation goes through [`GraphClient::instantiate_application_safely`] so that a 404 answered for a
//! successful `instantiate` (Graph does that) never leads to a second application. Entra ID replicates new objects
//! slowly, so reads of an application created recently wait for it instead of reporting it deleted.

use std::collections::BTreeSet;

use async_trait::async_trait;

use crate::clients::graph::models::{
    Application, ApplicationPatch, ServicePrincipal, ServicePrincipalPatch,
};
use crate::clients::graph::{AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID, GraphClient};
use crate::framework::{
    ApplyError, Attribute, AttributePath, Context, CreateRequest, Diagnostic, Diagnostics,
    NestedBlock, Operation, PlanChange, Resource, Schema, Type, UpdateRequest, Value,
    import_passthrough,
};
use crate::helpers::graph_error;
use crate::helpers::recent_write::mark_recent_write;
use crate::services::IdbridgeClients;
use crate::services::applications::{read_application, service_principal_of};
use crate::services::clients::graph_clients;

pub const TYPE_NAME: &str = "idbridge_entra_application";

/// The service principal tag that hides the application from users' My Apps portal.
const HIDE_APP_TAG: &str = "HideApp";
/// The app roles of the gallery template that assignments use.
const EXPOSED_ROLE_VALUES: [&str; 2] = ["User", "msiam_access"];

pub struct EntraApplicationResource;

fn string_set(values: impl IntoIterator<Item = String>) -> Value {
    Value::set(values.into_iter().map(Value::from))
}

/// The configured set's strings; empty for null or unknown.
fn configured_strings(value: &Value) -> BTreeSet<String> {
    value
        .string_elements()
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Tags as users manage them: the service principal's `HideApp` is its own attribute.
fn hide_from_my_apps(service_principal: &ServicePrincipal) -> bool {
    service_principal.tags.iter().any(|tag| tag == HIDE_APP_TAG)
}

/// The service principal tags with `HideApp` added or removed, others kept in place.
fn service_principal_tags(current: &[String], hide: bool) -> Vec<String> {
    let mut tags: Vec<String> = current
        .iter()
        .filter(|tag| *tag != HIDE_APP_TAG)
        .cloned()
        .collect();
    if hide {
        tags.push(HIDE_APP_TAG.to_string());
    }
    tags
}

fn app_role_ids(application: &Application) -> Value {
    Value::map(
        application
            .app_roles
            .iter()
            .filter_map(|role| {
                // The gallery roles of this template have no `value` (null); they are known by display name.
                let value = role.value.as_deref().or(role.display_name.as_deref())?;
                EXPOSED_ROLE_VALUES
                    .contains(&value)
                    .then(|| (value.to_string(), Value::from(role.id.as_str())))
            })
            .collect::<Vec<_>>(),
    )
}

/// The state for what Graph reports. `prior` decides how "nothing" is shown: an unset `notes` or `tags` stays null
/// when the remote value is empty, so that omitting them does not show a perpetual diff.
fn state_from_remote(
    prior: &Value,
    tenant_id: Option<&str>,
    application: &Application,
    service_principal: &ServicePrincipal,
    owners: Vec<String>,
) -> Value {
    let notes = match application.notes.as_deref() {
        None | Some("") if prior.get("notes").is_null() => Value::Null,
        other => Value::from(other.unwrap_or_default()),
    };
    let tags = if application.tags.is_empty() && prior.get("tags").is_null() {
        Value::Null
    } else {
        string_set(application.tags.iter().cloned())
    };
    let mut state = prior.clone();
    state.set_attr("id", application.id.as_str());
    state.set_attr("display_name", application.display_name.as_str());
    state.set_attr(
        "template_id",
        application
            .application_template_id
            .clone()
            .unwrap_or_else(|| AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID.to_string()),
    );
    state.set_attr("notes", notes);
    state.set_attr("owners", string_set(owners));
    state.set_attr(
        "app_role_assignment_required",
        service_principal.app_role_assignment_required,
    );
    state.set_attr("hide_from_my_apps", hide_from_my_apps(service_principal));
    state.set_attr("tags", tags);
    state.set_attr("client_id", application.app_id.as_str());
    state.set_attr("service_principal_id", service_principal.id.as_str());
    state.set_attr("tenant_id", Value::from(tenant_id));
    state.set_attr("app_role_ids", app_role_ids(application));
    state
}

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
    planned: &Value,
    application: &Application,
    service_principal: &ServicePrincipal,
) -> Result<(), Diagnostics> {
    let display_name = planned.get_str("display_name").unwrap_or_default();
    let notes = planned.get_str("notes").filter(|notes| !notes.is_empty());
    let tags = planned.get("tags");

    let mut app_patch = ApplicationPatch::default();
    if application.display_name != display_name {
        app_patch.display_name = Some(display_name.to_string());
    }
    if application.notes.as_deref().filter(|n| !n.is_empty()) != notes {
        app_patch.notes = Some(notes.map(str::to_string));
    }
    if tags.is_present() || !application.tags.is_empty() {
        let wanted = configured_strings(tags);
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
    if let Some(required) = planned.get_bool("app_role_assignment_required")
        && required != service_principal.app_role_assignment_required
    {
        sp_patch.app_role_assignment_required = Some(required);
    }
    if let Some(hide) = planned.get_bool("hide_from_my_apps")
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

    let owners = planned.get("owners");
    if owners.is_present() && owners.is_wholly_known() {
        let wanted = configured_strings(owners);
        let current: BTreeSet<String> = graph
            .read_after_write(|| graph.list_application_owner_ids(&application.id))
            .await
            .map_err(|e| {
                graph_error(
                    &format!("list the owners of application {}", application.id),
                    &e,
                )
            })?
            .into_iter()
            .collect();
        for owner in wanted.difference(&current) {
            graph
                .read_after_write(|| graph.add_application_owner(&application.id, owner))
                .await
                .map_err(|e| {
                    Diagnostic::error(
                        "Failed to add an application owner",
                        format!("{e}. Check that {owner} is the object ID of a user or service principal."),
                    )
                    .at(AttributePath::new("owners"))
                })?;
        }
        for owner in current.difference(&wanted) {
            match graph.remove_application_owner(&application.id, owner).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(graph_error("remove an application owner", &e).into()),
            }
        }
    }
    Ok(())
}

/// Reads application, service principal and owners into state; `None` when the application is gone.
async fn refresh(
    ctx: &Context,
    clients: &IdbridgeClients,
    graph: &GraphClient,
    prior: &Value,
    object_id: &str,
) -> Result<Option<Value>, Diagnostics> {
    let Some(application) = read_application(ctx, graph, object_id).await? else {
        return Ok(None);
    };
    let service_principal = service_principal_of(graph, &application.app_id).await?;
    let owners = graph
        .read_after_write(|| graph.list_application_owner_ids(object_id))
        .await
        .map_err(|e| graph_error(&format!("list the owners of application {object_id}"), &e))?;
    Ok(Some(state_from_remote(
        prior,
        tenant_of(clients).as_deref(),
        &application,
        &service_principal,
        owners,
    )))
}

#[async_trait]
impl Resource for EntraApplicationResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let guid_set = |name: &str| Attribute::set(name, Type::String);
        Schema::new()
            .description(
                "The \"AWS IAM Identity Center (successor to AWS Single Sign-On)\" enterprise application in \
                 Microsoft Entra ID, instantiated from the application gallery, with its service principal.",
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .description("The object ID of the application (also the import ID)."),
            )
            .attribute(
                Attribute::string("display_name")
                    .required()
                    .validator(non_blank)
                    .description("The name of the application and of its enterprise application (service principal)."),
            )
            .attribute(
                Attribute::string("template_id")
                    .optional()
                    .computed()
                    .requires_replace()
                    .use_state_for_unknown()
                    .description(format!(
                        "The gallery template to instantiate. Defaults to `{AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID}`, \
                         \"AWS IAM Identity Center (successor to AWS Single Sign-On)\". Changing it creates a new \
                         application."
                    )),
            )
            .attribute(
                Attribute::string("notes")
                    .optional()
                    .description("Free-text notes on the application (Entra ID \"Notes\")."),
            )
            .attribute(
                guid_set("owners")
                    .optional()
                    .computed()
                    .use_state_for_unknown()
                    .description(
                        "Object IDs of the users or service principals that own the application. When unset, \
                         owners are not managed and the current ones are reported.",
                    ),
            )
            .attribute(
                Attribute::bool("app_role_assignment_required")
                    .optional()
                    .computed()
                    .description(
                        "Whether users must be assigned (directly or through a group) before they can sign in. \
                         Defaults to `true`, which keeps AWS access limited to the assigned groups.",
                    ),
            )
            .attribute(
                Attribute::bool("hide_from_my_apps")
                    .optional()
                    .computed()
                    .description(
                        "Hides the application from users' My Apps portal (service principal tag `HideApp`). \
                         Defaults to `false`.",
                    ),
            )
            .attribute(
                guid_set("tags")
                    .optional()
                    .description("Tags on the application object."),
            )
            .attribute(
                Attribute::string("client_id")
                    .computed()
                    .use_state_for_unknown()
                    .description("The application (client) ID, `appId` in Microsoft Graph."),
            )
            .attribute(
                Attribute::string("service_principal_id")
                    .computed()
                    .use_state_for_unknown()
                    .description("The object ID of the service principal (the enterprise application)."),
            )
            .attribute(
                Attribute::string("tenant_id")
                    .computed()
                    .use_state_for_unknown()
                    .description("The Entra ID tenant the application lives in."),
            )
            .attribute(
                Attribute::map("app_role_ids", Type::String)
                    .computed()
                    .use_state_for_unknown()
                    .description(
                        "App role IDs by value: `User` and `msiam_access`, for group assignments \
                         (`idbridge_group_assignment` uses them).",
                    ),
            )
            .block(NestedBlock::timeouts(&[
                Operation::Create,
                Operation::Read,
                Operation::Update,
                Operation::Delete,
            ]))
    }

    async fn modify_plan(&self, ctx: &Context, plan: &mut PlanChange) -> Result<(), Diagnostics> {
        if plan.is_destroy() {
            return Ok(());
        }
        for (name, default) in [
            ("app_role_assignment_required", true),
            ("hide_from_my_apps", false),
        ] {
            if plan.config.get(name).is_null() {
                plan.planned.set_attr(name, default);
            }
        }
        if plan.config.get("template_id").is_null() {
            let template = if plan.is_create() {
                Value::from(AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID)
            } else {
                plan.prior.get("template_id").clone()
            };
            plan.planned.set_attr("template_id", template);
        }
        // A wrong template fails the plan, pointed at `template_id`, before anything is created. Without usable
        // credentials at plan time the check is left to apply.
        if plan.is_create()
            && let Some(template_id) = plan.planned.get_str("template_id")
            && let Ok((_, graph)) = graph_clients(ctx).await
        {
            check_template(&graph, template_id).await?;
        }
        Ok(())
    }

    async fn create(&self, ctx: &Context, request: CreateRequest) -> Result<Value, ApplyError> {
        let (clients, graph) = graph_clients(ctx).await?;
        let planned = request.planned;
        let template_id = planned
            .get_str("template_id")
            .unwrap_or(AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID)
            .to_string();
        let display_name = planned
            .get_str("display_name")
            .unwrap_or_default()
            .to_string();
        ctx.guard(async {
            check_template(&graph, &template_id)
                .await
                .map_err(Diagnostics::from)
        })
        .await?;
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
        let partial = planned
            .clone()
            .with("id", application_id.as_str())
            .with("client_id", created.application.app_id.as_str())
            .with(
                "service_principal_id",
                created.service_principal.id.as_str(),
            )
            .with("tenant_id", Value::from(tenant_of(&clients)))
            .with("app_role_ids", app_role_ids(&created.application))
            .with("owners", Value::Null);
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
                    Diagnostics::from(Diagnostic::error(
                        "Application disappeared",
                        format!("Application {application_id} was created but is no longer found in Entra ID."),
                    ))
                })
        };
        ctx.guard(finish)
            .await
            .map_err(|diagnostics| ApplyError::from(diagnostics).with_partial_state(partial))
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let (clients, graph) = graph_clients(ctx).await?;
        let Some(object_id) = state.get_str("id").map(str::to_string) else {
            return Ok(None);
        };
        ctx.guard(refresh(ctx, &clients, &graph, &state, &object_id))
            .await
    }

    async fn update(&self, ctx: &Context, request: UpdateRequest) -> Result<Value, ApplyError> {
        let (clients, graph) = graph_clients(ctx).await?;
        let object_id = request.prior.get_str("id").unwrap_or_default().to_string();
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
            converge(&graph, &request.planned, &application, &service_principal).await?;
            mark_recent_write(ctx);
            refresh(ctx, &clients, &graph, &request.planned, &object_id)
                .await?
                .ok_or_else(|| {
                    Diagnostics::from(Diagnostic::error(
                        "Application disappeared",
                        format!("Application {object_id} vanished during the update."),
                    ))
                })
        };
        Ok(ctx.guard(work).await?)
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        let (_, graph) = graph_clients(ctx).await?;
        let Some(object_id) = state.get_str("id").map(str::to_string) else {
            return Ok(());
        };
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
        Ok(import_passthrough(&self.schema(), "id", id))
    }
}

fn non_blank(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(text) if text.trim().is_empty() => Diagnostic::error(
            "Empty display name",
            "`display_name` must not be empty or blank.",
        )
        .at(path.clone())
        .into(),
        Some(text) if text.chars().count() > 256 => Diagnostic::error(
            "Display name too long",
            "Entra ID allows at most 256 characters in an application's display name.",
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::graph::models::AppRole;

    fn role(value: &str, id: &str) -> AppRole {
        AppRole {
            id: id.into(),
            value: Some(value.into()),
            ..Default::default()
        }
    }

    #[test]
    fn gallery_roles_without_value_are_known_by_display_name() {
        let application = Application {
            app_roles: vec![AppRole {
                id: "m-1".into(),
                display_name: Some("msiam_access".into()),
                value: None,
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            app_role_ids(&application).as_map().unwrap()["msiam_access"].as_str(),
            Some("m-1")
        );
    }

    #[test]
    fn hide_app_tag_is_added_and_removed_without_touching_other_tags() {
        let current = vec!["WindowsAzureActiveDirectoryIntegratedApp".to_string()];
        let hidden = service_principal_tags(&current, true);
        assert_eq!(
            hidden,
            ["WindowsAzureActiveDirectoryIntegratedApp", "HideApp"]
        );
        assert_eq!(service_principal_tags(&hidden, false), current);
        assert_eq!(
            service_principal_tags(&hidden, true),
            hidden,
            "no duplicate HideApp"
        );
    }

    #[test]
    fn app_role_ids_keep_only_the_roles_assignments_use() {
        let application = Application {
            app_roles: vec![
                role("User", "u-1"),
                role("msiam_access", "m-1"),
                role("Other", "o-1"),
            ],
            ..Default::default()
        };
        let map = app_role_ids(&application);
        let map = map.as_map().unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map["User"].as_str(), Some("u-1"));
        assert_eq!(map["msiam_access"].as_str(), Some("m-1"));
    }

    #[test]
    fn unset_notes_and_tags_stay_null_when_remote_is_empty() {
        let application = Application {
            id: "app".into(),
            app_id: "client".into(),
            display_name: "AWS".into(),
            notes: Some(String::new()),
            ..Default::default()
        };
        let service_principal = ServicePrincipal {
            id: "sp".into(),
            tags: vec![HIDE_APP_TAG.into()],
            app_role_assignment_required: true,
            ..Default::default()
        };
        let prior = Value::object([("notes", Value::Null), ("tags", Value::Null)]);
        let state = state_from_remote(
            &prior,
            Some("tenant"),
            &application,
            &service_principal,
            vec![],
        );
        assert!(state.get("notes").is_null());
        assert!(state.get("tags").is_null());
        assert_eq!(state.get_bool("hide_from_my_apps"), Some(true));
        assert_eq!(
            state.get_str("template_id"),
            Some(AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID)
        );

        let prior = Value::object([
            ("notes", Value::from("x")),
            ("tags", Value::set([Value::from("a")])),
        ]);
        let remote = Application {
            notes: Some("changed".into()),
            tags: vec!["b".into()],
            ..application
        };
        let state = state_from_remote(&prior, None, &remote, &service_principal, vec!["o".into()]);
        assert_eq!(state.get_str("notes"), Some("changed"));
        assert_eq!(state.get("tags").string_elements(), ["b"]);
        assert_eq!(state.get("owners").string_elements(), ["o"]);
    }

    #[test]
    fn blank_display_names_are_refused_at_plan_time() {
        let path = AttributePath::new("display_name");
        assert!(non_blank(&Value::from("  "), &path).has_errors());
        assert!(non_blank(&Value::from("x".repeat(257)), &path).has_errors());
        assert!(!non_blank(&Value::from("AWS IAM Identity Center"), &path).has_errors());
        assert!(!non_blank(&Value::unknown(), &path).has_errors());
    }
}
