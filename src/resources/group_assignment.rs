//! `idbridge_group_assignment`: an Entra ID group gets AWS access in one apply.
//!
//! Create: (1) assign the group to the enterprise app (`appRoleAssignedTo`, role `User`) so it is in the
//! provisioning scope; (2) `provisionOnDemand` the group instead of waiting for the ~40-minute cycle;
//! (3) wait until SCIM has created the group in the AWS identity store; (4) converge the account
//! assignments (permission sets × accounts) through the shared assignment engine, which paces calls at the
//! 20 TPS quota and keeps at most 10 asynchronous operations outstanding across every resource of the run.
//!
//! Reads are served from the engine's batched cache: one ListAccountAssignments per (account, permission
//! set) per refresh, shared by all resources, so drift detection costs one call per pair, not per resource.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::clients::aws::{
    AssignmentTarget, Deadline, Error as AwsClientError, Group, GroupMatcher, IdentityCenter,
    Instance, Principal,
};
use crate::clients::graph::GraphClient;
use crate::clients::graph::models::{
    AppRoleAssignment, SynchronizationJob, SynchronizationJobApplicationParameters,
    SynchronizationJobSubject, SynchronizationRule,
};
use crate::framework::schema::timeout_from;
use crate::framework::{
    ApplyError, Attribute, AttributePath, Context, CreateRequest, Diagnostic, Diagnostics,
    NestedBlock, Operation, PlanChange, Resource, Schema, Type, UpdateRequest, Value, async_trait,
};
use crate::helpers::{
    instance_arn_of, is_account_id, is_object_id, is_permission_set_arn, validate_object_id,
};
use crate::services::IdbridgeClients;

pub const TYPE_NAME: &str = "idbridge_group_assignment";

const MATCH_DISPLAY_NAME: &str = "display_name";
const MATCH_EXTERNAL_ID: &str = "external_id";
/// Entra's limit for provision on demand: 5 requests per 10 seconds per application.
const ON_DEMAND_LIMIT: usize = 5;
const ON_DEMAND_WINDOW: Duration = Duration::from_secs(10);
/// How long plan may spend proving that permission sets exist.
const PLAN_CHECK_TIMEOUT: Duration = Duration::from_secs(60);

pub struct GroupAssignmentResource;

#[async_trait]
impl Resource for GroupAssignmentResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn default_timeout(&self, operation: Operation) -> Duration {
        match operation {
            // A provisioning cycle takes about 40 minutes when provision on demand is off.
            Operation::Create => Duration::from_secs(45 * 60),
            _ => Duration::from_secs(20 * 60),
        }
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .description(
                "Gives an Entra ID group access to AWS accounts: assigns the group to the IAM Identity Center \
                 enterprise application, provisions it on demand over SCIM, waits for it to appear in the AWS \
                 identity store and assigns it the permission sets in the accounts.",
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .description("`<application_id>/<entra_group_id>`."),
            )
            .attribute(
                Attribute::string("application_id")
                    .required()
                    .requires_replace()
                    .validator(|value, path| validate_object_id(value, path, "object id"))
                    .description(
                        "Object id of the enterprise application (`idbridge_entra_application.id`).",
                    ),
            )
            .attribute(
                Attribute::string("entra_group_id")
                    .required()
                    .requires_replace()
                    .validator(|value, path| validate_object_id(value, path, "object id"))
                    .description("Object id of the Entra ID group."),
            )
            .attribute(
                Attribute::set("permission_set_arns", Type::String)
                    .required()
                    .validator(validate_permission_set_arns)
                    .description(
                        "Permission sets to assign, `arn:aws:sso:::permissionSet/ssoins-…/ps-…`.",
                    ),
            )
            .attribute(
                Attribute::set("account_ids", Type::String)
                    .required()
                    .validator(validate_account_ids)
                    .description("AWS account ids (12 digits) the permission sets are assigned in."),
            )
            .attribute(
                Attribute::string("identity_store_match")
                    .optional()
                    .computed()
                    .validator(validate_match)
                    .description(
                        "How the provisioned group is found in the identity store: `display_name` (default) \
                         or `external_id` (the group's external ids must contain the Entra object id).",
                    ),
            )
            .attribute(
                Attribute::bool("provision_on_demand")
                    .optional()
                    .computed()
                    .description(
                        "Provision the group on demand instead of waiting for the next provisioning cycle \
                         (default true).",
                    ),
            )
            .attribute(
                Attribute::string("instance_arn")
                    .optional()
                    .computed()
                    .use_state_for_unknown()
                    .requires_replace()
                    .description(
                        "IAM Identity Center instance ARN; discovered when the account sees exactly one.",
                    ),
            )
            .attribute(
                Attribute::string("app_role_assignment_id")
                    .computed()
                    .description("Id of the group's app role assignment on the enterprise application."),
            )
            .attribute(
                Attribute::string("identity_store_group_id")
                    .computed()
                    .description("Id of the provisioned group in the AWS identity store."),
            )
            .attribute(
                Attribute::set("assignments", Type::String)
                    .computed()
                    .description(
                        "Account assignments that exist, as `<account_id>/<permission_set_arn>`; an \
                         assignment removed outside Terraform shows here as a one-line diff.",
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
        let added = added_permission_set_arns(&plan.config, &plan.prior);
        check_instance_matches(&plan.config, &added)?;
        verify_permission_sets_exist(ctx, &added).await?;
        let config = plan.config.clone();
        let prior = plan.prior.clone();
        let is_create = plan.is_create();
        let planned = &mut plan.planned;
        if config.get("identity_store_match").is_null() {
            planned.set_attr("identity_store_match", MATCH_DISPLAY_NAME);
        }
        if config.get("provision_on_demand").is_null() {
            planned.set_attr("provision_on_demand", true);
        }
        let app = config.get("application_id");
        let group = config.get("entra_group_id");
        match (app.as_str(), group.as_str()) {
            (Some(app), Some(group)) => planned.set_attr("id", format!("{app}/{group}")),
            _ => planned.set_attr("id", Value::unknown()),
        }
        let desired = desired_targets(&config);
        planned.set_attr(
            "assignments",
            match &desired {
                Some(targets) => target_set_value(targets),
                None => Value::unknown(),
            },
        );
        if !is_create {
            // These stay as long as the app role assignment and the provisioned group do; when read found
            // the app role assignment gone (null), apply makes a new one.
            for name in ["app_role_assignment_id", "identity_store_group_id"] {
                let value = prior.get(name);
                planned.set_attr(
                    name,
                    if value.is_null() {
                        Value::unknown()
                    } else {
                        value.clone()
                    },
                );
            }
        }
        Ok(())
    }

    async fn create(&self, ctx: &Context, req: CreateRequest) -> Result<Value, ApplyError> {
        let planned = req.planned;
        let Apply {
            graph,
            ic,
            args,
            deadline,
            app,
            instance,
        } = Apply::open(ctx, &planned).await?;
        let app_role_assignment_id = ctx
            .guard(ensure_app_role_assignment(
                &graph,
                &app,
                &args.entra_group_id,
            ))
            .await?;
        // From here on something exists remotely: every failure returns a state that lets Terraform clean
        // it up (destroy) or finish it.
        let mut state = planned
            .clone()
            .with("instance_arn", instance.instance_arn.clone())
            .with("app_role_assignment_id", app_role_assignment_id)
            .with("identity_store_group_id", Value::Null)
            .with("assignments", Value::set([]));
        let group_id = match ctx
            .guard(provision_and_wait(ctx, &graph, &ic, &app, &instance, &args))
            .await
        {
            Ok(id) => id,
            Err(diags) => return Err(ApplyError::from(diags).with_partial_state(state)),
        };
        state.set_attr("identity_store_group_id", group_id.clone());
        converge(
            ctx,
            &ic,
            &instance.instance_arn,
            &group_id,
            &args.desired,
            &BTreeSet::new(),
            deadline,
            state,
        )
        .await
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let graph = clients.graph().await?;
        let Some(application_id) = state.get_str("application_id").map(str::to_owned) else {
            return Err(no_id());
        };
        let Some(group) = state.get_str("entra_group_id").map(str::to_owned) else {
            return Err(no_id());
        };
        let deadline = Deadline::after(timeout_from(
            &state,
            Operation::Read,
            self.default_timeout(Operation::Read),
        ));
        let app = match ctx.guard(resolve_app(&graph, &application_id)).await {
            Ok(app) => app,
            Err(d) if is_gone(&d) => return Ok(None),
            Err(d) => return Err(d),
        };
        match graph.get_group(&group).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(api_error("Cannot read the Entra ID group", e)),
        }
        let role_assignments = graph
            .list_app_role_assignments(&app.service_principal_id)
            .await
            .map_err(|e| api_error("Cannot read the enterprise application's assignments", e))?;
        let app_role_assignment_id = state
            .get_str("app_role_assignment_id")
            .and_then(|id| role_assignments.iter().find(|a| a.id == id))
            .or_else(|| {
                role_assignments
                    .iter()
                    .find(|a| a.principal_id == group && a.app_role_id == app.user_role_id)
            })
            .map(|a| a.id.clone());

        let ic = clients.identity_center().await?;
        let instance = ctx
            .guard(resolve_instance(
                &ic,
                state.get_str("instance_arn"),
                deadline,
            ))
            .await?;
        let identity_store_group_id = match state.get_str("identity_store_group_id") {
            Some(id) => Some(id.to_owned()),
            None => {
                ctx.guard(find_provisioned_group(
                    &graph,
                    &ic,
                    &instance.identity_store_id,
                    &group,
                    state.get_str("identity_store_match"),
                    deadline,
                ))
                .await?
            }
        };
        let engine = ic.assignments(&instance.instance_arn);
        let mut new_state = state
            .clone()
            .with("instance_arn", instance.instance_arn.clone())
            .with(
                "app_role_assignment_id",
                app_role_assignment_id.map_or(Value::Null, Value::from),
            )
            .with(
                "identity_store_group_id",
                identity_store_group_id
                    .clone()
                    .map_or(Value::Null, Value::from),
            );
        let Some(group_id) = identity_store_group_id else {
            // Never provisioned (or deprovisioned): no assignment can exist.
            return Ok(Some(new_state.with("assignments", Value::set([]))));
        };
        let principal = Principal::group(&group_id);
        let existing = match desired_targets(&state) {
            Some(desired) => {
                // Everything we manage: the configured product plus what an earlier apply recorded.
                let mut managed = desired;
                managed.extend(targets_from_value(state.get("assignments")));
                let checks = managed.into_iter().map(|target| {
                    let engine = engine.clone();
                    let principal = principal.clone();
                    async move {
                        engine
                            .is_assigned(&principal, &target, deadline)
                            .await
                            .map(|assigned| assigned.then_some(target))
                    }
                });
                ctx.guard(async {
                    futures_util::future::try_join_all(checks)
                        .await
                        .map_err(|e| api_error("Cannot read the account assignments", e))
                })
                .await?
                .into_iter()
                .flatten()
                .collect::<BTreeSet<_>>()
            }
            None => {
                // Import: the group's assignments define the sets.
                let all = ctx
                    .guard(async {
                        engine
                            .assignments_of(&principal, deadline)
                            .await
                            .map_err(|e| {
                                api_error("Cannot list the group's account assignments", e)
                            })
                    })
                    .await?;
                let permission_sets: BTreeSet<&str> =
                    all.iter().map(|t| t.permission_set_arn.as_str()).collect();
                let accounts: BTreeSet<&str> = all.iter().map(|t| t.account_id.as_str()).collect();
                new_state.set_attr(
                    "permission_set_arns",
                    Value::set(permission_sets.into_iter().map(Value::from)),
                );
                new_state.set_attr(
                    "account_ids",
                    Value::set(accounts.into_iter().map(Value::from)),
                );
                all
            }
        };
        for (name, default) in [
            ("identity_store_match", Value::from(MATCH_DISPLAY_NAME)),
            ("provision_on_demand", Value::from(true)),
        ] {
            if new_state.get(name).is_null() {
                new_state.set_attr(name, default);
            }
        }
        new_state.set_attr("id", format!("{application_id}/{group}"));
        Ok(Some(
            new_state.with("assignments", target_set_value(&existing)),
        ))
    }

    async fn update(&self, ctx: &Context, req: UpdateRequest) -> Result<Value, ApplyError> {
        let Apply {
            graph,
            ic,
            args,
            deadline,
            app,
            instance,
        } = Apply::open(ctx, &req.planned).await?;
        let mut state = req
            .planned
            .clone()
            .with("instance_arn", instance.instance_arn.clone());
        if !state.get("app_role_assignment_id").is_present() {
            let id = ctx
                .guard(ensure_app_role_assignment(
                    &graph,
                    &app,
                    &args.entra_group_id,
                ))
                .await?;
            state.set_attr("app_role_assignment_id", id);
        }
        let prior_assignments = targets_from_value(req.prior.get("assignments"));
        state.set_attr("assignments", target_set_value(&prior_assignments));
        let group_id = match req.prior.get_str("identity_store_group_id") {
            Some(id) => {
                if args.match_mode.as_deref() == Some(MATCH_EXTERNAL_ID)
                    && req.prior.get_str("identity_store_match") != Some(MATCH_EXTERNAL_ID)
                {
                    ctx.guard(check_group_for_new_match_mode(
                        &ic,
                        &instance.identity_store_id,
                        id,
                        &args.entra_group_id,
                        deadline,
                    ))
                    .await?;
                }
                id.to_owned()
            }
            None => match ctx
                .guard(provision_and_wait(ctx, &graph, &ic, &app, &instance, &args))
                .await
            {
                Ok(id) => id,
                Err(diags) => {
                    return Err(ApplyError::from(diags)
                        .with_partial_state(state.with("identity_store_group_id", Value::Null)));
                }
            },
        };
        state.set_attr("identity_store_group_id", group_id.clone());
        // Managed = what we recorded plus the prior configuration's product, so that removing a permission
        // set or account deletes exactly those assignments and never ones made elsewhere.
        let mut known = prior_assignments;
        known.extend(desired_targets(&req.prior).unwrap_or_default());
        converge(
            ctx,
            &ic,
            &instance.instance_arn,
            &group_id,
            &args.desired,
            &known,
            deadline,
            state,
        )
        .await
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let deadline = Deadline::after(ctx.remaining());
        if let Some(group_id) = state.get_str("identity_store_group_id") {
            let ic = clients.identity_center().await?;
            let instance = ctx
                .guard(resolve_instance(
                    &ic,
                    state.get_str("instance_arn"),
                    deadline,
                ))
                .await?;
            let mut known = targets_from_value(state.get("assignments"));
            known.extend(desired_targets(&state).unwrap_or_default());
            let engine = ic.assignments(&instance.instance_arn);
            let outcome = ctx
                .guard(async {
                    engine
                        .ensure_assignments(
                            &Principal::group(group_id),
                            &BTreeSet::new(),
                            &known,
                            deadline,
                        )
                        .await
                        .map_err(|e| api_error("Cannot read the account assignments", e))
                })
                .await?;
            if !outcome.failed.is_empty() {
                return Err(failures_diagnostic("delete", &outcome.failed).into());
            }
        }
        if let (Some(app_id), Some(assignment_id)) = (
            state.get_str("application_id"),
            state.get_str("app_role_assignment_id"),
        ) {
            let graph = clients.graph().await?;
            let app = match ctx.guard(resolve_app(&graph, app_id)).await {
                Ok(app) => app,
                // The application (and with it its assignments) is gone already.
                Err(d) if is_gone(&d) => return Ok(()),
                Err(d) => return Err(d),
            };
            match graph
                .delete_app_role_assignment(&app.service_principal_id, assignment_id)
                .await
            {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    return Err(api_error(
                        "Cannot remove the group from the enterprise application",
                        e,
                    ));
                }
            }
        }
        Ok(())
    }

    async fn import_state(&self, _ctx: &Context, id: &str) -> Result<Value, Diagnostics> {
        let (app, group) = parse_import_id(id).ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Invalid import ID",
                format!(
                    "Expected `<application_id>/<entra_group_id>` (two object ids), got {id:?}."
                ),
            ))
        })?;
        let mut state = crate::framework::import_passthrough(&self.schema(), "id", id);
        state.set_attr("application_id", app);
        state.set_attr("entra_group_id", group);
        Ok(state)
    }
}

/// What create and update start from: both clients, the planned arguments, the enterprise app and the
/// Identity Center instance.
struct Apply {
    graph: Arc<GraphClient>,
    ic: Arc<IdentityCenter>,
    args: Args,
    deadline: Deadline,
    app: App,
    instance: Instance,
}

impl Apply {
    async fn open(ctx: &Context, planned: &Value) -> Result<Apply, Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let graph = clients.graph().await?;
        let ic = clients.identity_center().await?;
        let args = Args::from_value(planned)?;
        let deadline = Deadline::after(ctx.remaining());
        let app = ctx.guard(resolve_app(&graph, &args.application_id)).await?;
        let instance = ctx
            .guard(resolve_instance(
                &ic,
                args.instance_arn.as_deref(),
                deadline,
            ))
            .await?;
        Ok(Apply {
            graph,
            ic,
            args,
            deadline,
            app,
            instance,
        })
    }
}

/// What create/update need from the planned state.
struct Args {
    application_id: String,
    entra_group_id: String,
    instance_arn: Option<String>,
    match_mode: Option<String>,
    provision_on_demand: bool,
    desired: BTreeSet<AssignmentTarget>,
}

impl Args {
    fn from_value(planned: &Value) -> Result<Args, Diagnostics> {
        let required = |name: &str| {
            planned.get_str(name).map(str::to_owned).ok_or_else(|| {
                Diagnostics::from(
                    Diagnostic::error(
                        "Missing value",
                        format!("`{name}` must be known at apply time."),
                    )
                    .at(AttributePath::new(name)),
                )
            })
        };
        Ok(Args {
            application_id: required("application_id")?,
            entra_group_id: required("entra_group_id")?,
            instance_arn: planned.get_str("instance_arn").map(str::to_owned),
            match_mode: planned.get_str("identity_store_match").map(str::to_owned),
            provision_on_demand: planned.get_bool("provision_on_demand").unwrap_or(true),
            desired: desired_targets(planned).ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Unknown assignments",
                    "`permission_set_arns` and `account_ids` must be known at apply time.",
                ))
            })?,
        })
    }
}

/// The enterprise application as this resource needs it.
struct App {
    service_principal_id: String,
    user_role_id: String,
}

const GONE: &str = "Enterprise application not found";

fn is_gone(diags: &Diagnostics) -> bool {
    diags.iter().any(|d| d.summary == GONE)
}

async fn resolve_app(graph: &GraphClient, application_id: &str) -> Result<App, Diagnostics> {
    let application = match graph.get_application(application_id).await {
        Ok(app) => app,
        Err(e) if e.is_not_found() => {
            return Err(Diagnostic::error(
                GONE,
                format!(
                    "No application with object id {application_id} exists; check `application_id` (the \
                     idbridge_entra_application id)."
                ),
            )
            .at(AttributePath::new("application_id"))
            .into());
        }
        Err(e) => return Err(api_error("Cannot read the application", e)),
    };
    let sps = graph
        .list_service_principals_by_app_id(&application.app_id)
        .await
        .map_err(|e| api_error("Cannot read the enterprise application", e))?;
    let Some(sp) = sps.into_iter().next() else {
        return Err(Diagnostic::error(
            GONE,
            format!(
                "Application {application_id} has no service principal (enterprise application) in this tenant."
            ),
        )
        .into());
    };
    let user_role_id = sp
        .app_roles
        .iter()
        // The gallery app's roles have no `value`; they are named by `displayName`.
        .find(|r| {
            r.value.as_deref() == Some("User")
                || (r.value.is_none() && r.display_name.as_deref() == Some("User"))
        })
        .map(|r| r.id.clone())
        .ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "No `User` app role",
                format!(
                    "The enterprise application {} has no app role named `User`; is it the AWS IAM \
                     Identity Center gallery application?",
                    sp.id
                ),
            ))
        })?;
    Ok(App {
        service_principal_id: sp.id,
        user_role_id,
    })
}

/// Assigns the group to the app (role `User`), reusing an identical assignment that already exists.
async fn ensure_app_role_assignment(
    graph: &GraphClient,
    app: &App,
    group_id: &str,
) -> Result<String, Diagnostics> {
    let existing = graph
        .list_app_role_assignments(&app.service_principal_id)
        .await
        .map_err(|e| api_error("Cannot read the enterprise application's assignments", e))?;
    if let Some(found) = existing
        .iter()
        .find(|a| a.principal_id == group_id && a.app_role_id == app.user_role_id)
    {
        return Ok(found.id.clone());
    }
    let created = graph
        .create_app_role_assignment(
            &app.service_principal_id,
            &AppRoleAssignment {
                principal_id: group_id.to_owned(),
                resource_id: app.service_principal_id.clone(),
                app_role_id: app.user_role_id.clone(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| {
            at_attribute(
                api_error("Cannot assign the group to the enterprise application", e),
                "entra_group_id",
            )
        })?;
    Ok(created.id)
}

/// Points every diagnostic at `attribute`.
fn at_attribute(diags: Diagnostics, attribute: &str) -> Diagnostics {
    let mut out = Diagnostics::new();
    for d in diags.iter() {
        out.push(d.clone().at(AttributePath::new(attribute)));
    }
    out
}

/// Permission set ARNs in the configuration that the prior state does not hold yet: the only ones worth
/// checking, so a steady-state plan makes no calls.
fn added_permission_set_arns(config: &Value, prior: &Value) -> Vec<String> {
    let held: BTreeSet<&str> = prior
        .get("permission_set_arns")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    config
        .get("permission_set_arns")
        .iter()
        .filter_map(Value::as_str)
        .filter(|arn| is_permission_set_arn(arn) && !held.contains(arn))
        .map(str::to_owned)
        .collect()
}

/// A permission set of another instance can never be assigned through `instance_arn`: say so offline.
fn check_instance_matches(config: &Value, arns: &[String]) -> Result<(), Diagnostics> {
    let Some(instance_arn) = config.get("instance_arn").as_str() else {
        return Ok(());
    };
    let mut diags = Diagnostics::new();
    for arn in arns {
        if instance_arn_of(arn).as_deref() != Some(instance_arn) {
            diags.push(
                Diagnostic::error(
                    "Permission set of another instance",
                    format!("{arn:?} does not belong to the IAM Identity Center instance {instance_arn}."),
                )
                .at(AttributePath::new("permission_set_arns")),
            );
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}

/// Process-wide answers per Identity Center client and key, each computed once: resources plan and apply in
/// parallel, and the first to ask does the lookup while the others wait for its answer (a failure is not
/// kept, so the next one asks again).
type ClientCells<K, T> = OnceLock<Mutex<HashMap<(usize, K), Arc<tokio::sync::OnceCell<T>>>>>;

fn client_cell<K: Eq + std::hash::Hash, T>(
    cells: &'static ClientCells<K, T>,
    ic: &Arc<IdentityCenter>,
    key: K,
) -> Arc<tokio::sync::OnceCell<T>> {
    // One IdentityCenter client per provider configuration, alive for the whole process: its address
    // identifies the configuration (aliases may point at other organizations).
    cells
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry((Arc::as_ptr(ic) as usize, key))
        .or_default()
        .clone()
}

/// Plan-time proof that newly referenced permission sets exist, so a well-formed but wrong ARN fails the
/// plan instead of the apply (after the group was already assigned and provisioned). Each ARN is looked up
/// once per client and process: fifty resources sharing one permission set cost one call. When AWS is not
/// configured yet or cannot answer, the plan goes on and apply reports the problem.
async fn verify_permission_sets_exist(ctx: &Context, arns: &[String]) -> Result<(), Diagnostics> {
    static VERIFIED: ClientCells<String, ()> = OnceLock::new();
    if arns.is_empty() {
        return Ok(());
    }
    let Ok(clients) = IdbridgeClients::from_context(ctx) else {
        return Ok(());
    };
    let Ok(ic) = clients.identity_center().await else {
        return Ok(());
    };
    let deadline = Deadline::after(PLAN_CHECK_TIMEOUT);
    let lookups = arns.iter().map(|arn| {
        let (ic, cell) = (ic.clone(), client_cell(&VERIFIED, &ic, arn.clone()));
        async move {
            let instance = instance_arn_of(arn).unwrap_or_default();
            let outcome = cell
                .get_or_try_init(|| async {
                    ic.describe_permission_set(&instance, arn, deadline)
                        .await
                        .map(drop)
                })
                .await
                .map(drop);
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
                .at(AttributePath::new("permission_set_arns")),
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

/// The instance, looked up once per provider configuration and process: every resource of a run needs
/// it, and 50 resources asking separately would cost 50 ListInstances calls against the shared 20 TPS.
async fn resolve_instance(
    ic: &Arc<IdentityCenter>,
    instance_arn: Option<&str>,
    deadline: Deadline,
) -> Result<Instance, Diagnostics> {
    static INSTANCES: ClientCells<Option<String>, Instance> = OnceLock::new();
    let cell = client_cell(&INSTANCES, ic, instance_arn.map(str::to_owned));
    cell.get_or_try_init(|| async {
        match instance_arn {
            None => ic.single_instance(deadline).await,
            Some(arn) => ic.list_instances(deadline).await.and_then(|all| {
                all.into_iter()
                    .find(|i| i.instance_arn == arn)
                    .ok_or_else(|| {
                        AwsClientError::InvalidArgument(format!(
                            "instance {arn} is not visible to these credentials"
                        ))
                    })
            }),
        }
    })
    .await
    .cloned()
    .map_err(|e| {
        Diagnostic::error(
            "Cannot find the IAM Identity Center instance",
            e.to_string(),
        )
        .at(AttributePath::new("instance_arn"))
        .into()
    })
}

async fn group_matcher(graph: &GraphClient, group_id: &str) -> Result<GroupMatcher, Diagnostics> {
    // Both modes look the group up by the display name SCIM gave it; `external_id` then checks the match.
    let group = graph.get_group(group_id).await.map_err(|e| {
        at_attribute(
            api_error("Cannot read the Entra ID group", e),
            "entra_group_id",
        )
    })?;
    Ok(GroupMatcher::DisplayName(group.display_name))
}

/// Whether the identity store group came from this Entra group: in AWS only SCIM sets external ids, and Entra's
/// gallery app sends the object id as `externalId`. The issuer is AWS's own per-tenant value (undocumented), so
/// only the id is compared; object ids are GUIDs, hence case-insensitively.
fn provisioned_from(group: &Group, entra_group_id: &str) -> bool {
    group
        .external_ids
        .iter()
        .any(|e| e.id.eq_ignore_ascii_case(entra_group_id))
}

fn not_provisioned_from(
    group_id: &str,
    identity_store_id: &str,
    entra_group_id: &str,
) -> Diagnostics {
    Diagnostic::error(
        "Identity store group does not come from this Entra ID group",
        format!(
            "Group {group_id} in identity store {identity_store_id} has the group's display name but its external \
             ids do not contain the Entra object id {entra_group_id}. Rename one of the groups or use \
             `identity_store_match = \"display_name\"`."
        ),
    )
    .at(AttributePath::new("identity_store_match"))
    .into()
}

/// Switching an existing resource (e.g. an imported one, whose match mode starts as `display_name`) to
/// `external_id` must not keep a group the new rule refuses.
async fn check_group_for_new_match_mode(
    ic: &IdentityCenter,
    identity_store_id: &str,
    group_id: &str,
    entra_group_id: &str,
    deadline: Deadline,
) -> Result<(), Diagnostics> {
    let group = ic
        .describe_group(identity_store_id, group_id, deadline)
        .await
        .map_err(|e| api_error("Cannot read the group in the identity store", e))?;
    if provisioned_from(&group, entra_group_id) {
        Ok(())
    } else {
        Err(not_provisioned_from(
            group_id,
            identity_store_id,
            entra_group_id,
        ))
    }
}

/// The identity store group provisioned from the Entra group, for a read that has none in state (a create that
/// failed before finding it, or an import). In `external_id` mode a same-named group without the object id is
/// not this resource's: adopting it would make destroy remove that group's account assignments.
async fn find_provisioned_group(
    graph: &GraphClient,
    ic: &IdentityCenter,
    identity_store_id: &str,
    entra_group_id: &str,
    match_mode: Option<&str>,
    deadline: Deadline,
) -> Result<Option<String>, Diagnostics> {
    let matcher = group_matcher(graph, entra_group_id).await?;
    let lookup_failed = |e| api_error("Cannot look up the group in the identity store", e);
    let Some(group_id) = ic
        .get_group_id(identity_store_id, &matcher, deadline)
        .await
        .map_err(lookup_failed)?
    else {
        return Ok(None);
    };
    if match_mode != Some(MATCH_EXTERNAL_ID) {
        return Ok(Some(group_id));
    }
    let group = ic
        .describe_group(identity_store_id, &group_id, deadline)
        .await
        .map_err(lookup_failed)?;
    Ok(provisioned_from(&group, entra_group_id).then_some(group_id))
}

/// Steps (2) and (3): provision on demand, then wait for the group in the identity store.
async fn provision_and_wait(
    ctx: &Context,
    graph: &GraphClient,
    ic: &IdentityCenter,
    app: &App,
    instance: &Instance,
    args: &Args,
) -> Result<String, Diagnostics> {
    let job = graph
        .list_synchronization_jobs(&app.service_principal_id)
        .await
        .map_err(|e| api_error("Cannot read the provisioning job", e))?
        .into_iter()
        .next();
    if let (true, Some(job)) = (args.provision_on_demand, &job) {
        if let Some(quarantined) = quarantine_message(job) {
            return Err(quarantined);
        }
        let rules = graph
            .list_synchronization_rules(&app.service_principal_id, &job.id)
            .await
            .map_err(|e| api_error("Cannot read the provisioning job's schema", e))?;
        let Some(rule) = pick_group_rule(&rules) else {
            return Err(Diagnostic::error(
                "No provisioning rule for groups",
                format!(
                    "The provisioning job {} has no rule that maps groups.",
                    job.id
                ),
            )
            .into());
        };
        on_demand_window(&job.id).acquire().await;
        tracing::info!(group = %args.entra_group_id, job = %job.id, "provisioning the group on demand");
        let report = graph
            .provision_on_demand(
                &app.service_principal_id,
                &job.id,
                &[SynchronizationJobApplicationParameters {
                    rule_id: rule.id.clone(),
                    subjects: vec![SynchronizationJobSubject {
                        object_id: args.entra_group_id.clone(),
                        object_type_name: "Group".into(),
                    }],
                }],
            )
            .await
            .map_err(|e| api_error("Provision on demand failed", e))?;
        if let Some((status, description)) = report.value.as_deref().and_then(on_demand_status)
            && status.eq_ignore_ascii_case("failure")
        {
            // A credential failure quarantines the job: say so rather than wait for nothing.
            let job = graph
                .get_synchronization_job(&app.service_principal_id, &job.id)
                .await
                .map_err(|e| api_error("Cannot read the provisioning job", e))?;
            if let Some(quarantined) = quarantine_message(&job) {
                return Err(quarantined);
            }
            tracing::warn!(%description, "provision on demand reported a failure; waiting for the group anyway");
        }
    } else if job.is_none() {
        tracing::warn!(
            "the enterprise application has no provisioning job; waiting for the group to be provisioned otherwise"
        );
    }

    let matcher = group_matcher(graph, &args.entra_group_id).await?;
    let wait = ctx.remaining().saturating_sub(Duration::from_secs(1));
    match ic
        .wait_for_group(&instance.identity_store_id, &matcher, wait)
        .await
    {
        Ok(group) => {
            if args.match_mode.as_deref() == Some(MATCH_EXTERNAL_ID)
                && !provisioned_from(&group, &args.entra_group_id)
            {
                return Err(not_provisioned_from(
                    &group.group_id,
                    &instance.identity_store_id,
                    &args.entra_group_id,
                ));
            }
            Ok(group.group_id)
        }
        Err(e @ AwsClientError::GroupNotFound { .. }) => {
            let mut detail = format!("{e}.");
            if let Some(job) = &job {
                match graph
                    .get_synchronization_job(&app.service_principal_id, &job.id)
                    .await
                {
                    Ok(job) => {
                        if let Some(q) = quarantine_message(&job) {
                            return Err(q);
                        }
                        detail.push_str(&format!(
                            " The provisioning job {} is in state {}.",
                            job.id,
                            job_code(&job)
                        ));
                    }
                    Err(err) => detail.push_str(&format!(" The job could not be read: {err}.")),
                }
            } else {
                detail.push_str(" The enterprise application has no provisioning job (idbridge_scim_provisioning).");
            }
            detail.push_str(
                " Likely causes: the job is not started or its SCIM token expired, or the group is not in \
                 the provisioning scope.",
            );
            Err(Diagnostic::error("Group not provisioned to AWS", detail).into())
        }
        Err(e) => Err(api_error(
            "Cannot look up the group in the identity store",
            e,
        )),
    }
}

/// Step (4), shared by create and update: converge and turn the outcome into state or a partial state.
#[allow(clippy::too_many_arguments)]
async fn converge(
    ctx: &Context,
    ic: &IdentityCenter,
    instance_arn: &str,
    group_id: &str,
    desired: &BTreeSet<AssignmentTarget>,
    known: &BTreeSet<AssignmentTarget>,
    deadline: Deadline,
    state: Value,
) -> Result<Value, ApplyError> {
    let engine = ic.assignments(instance_arn);
    let principal = Principal::group(group_id);
    let outcome = match ctx
        .guard(async {
            engine
                .ensure_assignments(&principal, desired, known, deadline)
                .await
                .map_err(|e| api_error("Cannot read the account assignments", e))
        })
        .await
    {
        Ok(outcome) => outcome,
        Err(d) => return Err(ApplyError::from(d).with_partial_state(state)),
    };
    tracing::info!(
        created = outcome.created.len(),
        adopted = outcome.adopted.len(),
        deleted = outcome.deleted.len(),
        failed = outcome.failed.len(),
        "account assignments converged"
    );
    let state = state.with("assignments", target_set_value(&outcome.existing));
    if outcome.failed.is_empty() {
        Ok(state)
    } else {
        Err(ApplyError::from(Diagnostics::from(failures_diagnostic(
            "apply",
            &outcome.failed,
        )))
        .with_partial_state(state))
    }
}

fn failures_diagnostic(what: &str, failed: &[(AssignmentTarget, AwsClientError)]) -> Diagnostic {
    let lines: Vec<String> = failed
        .iter()
        .map(|(t, e)| format!("- {}: {e}", target_key(t)))
        .collect();
    Diagnostic::error(
        format!("{} account assignment change(s) failed", failed.len()),
        format!(
            "These could not be completed during {what}:\n{}\nWhat succeeded is recorded in state; run the \
             same command again to finish.",
            lines.join("\n")
        ),
    )
    .at(AttributePath::new("assignments"))
}

// ---- pure helpers ----

fn no_id() -> Diagnostics {
    Diagnostic::error(
        "Incomplete state",
        "The state has no application_id or entra_group_id; remove the resource from state and import it.",
    )
    .into()
}

/// A Graph or AWS client error as an error diagnostic; the clients' messages already carry the service's words.
fn api_error(summary: &str, e: impl std::fmt::Display) -> Diagnostics {
    Diagnostic::error(summary, e.to_string()).into()
}

/// `<account_id>/<permission_set_arn>`, the form used in `assignments`.
pub fn target_key(target: &AssignmentTarget) -> String {
    format!("{}/{}", target.account_id, target.permission_set_arn)
}

/// Inverse of [`target_key`]; the ARN itself contains `/`, so the split is at the first one.
pub fn parse_target_key(key: &str) -> Option<AssignmentTarget> {
    let (account, arn) = key.split_once('/')?;
    (is_account_id(account) && !arn.is_empty()).then(|| AssignmentTarget::new(arn, account))
}

fn target_set_value(targets: &BTreeSet<AssignmentTarget>) -> Value {
    Value::set(targets.iter().map(|t| Value::from(target_key(t))))
}

fn targets_from_value(value: &Value) -> BTreeSet<AssignmentTarget> {
    value
        .string_elements()
        .into_iter()
        .filter_map(parse_target_key)
        .collect()
}

/// The permission-set × account product, or `None` while either set is unknown or null.
fn desired_targets(value: &Value) -> Option<BTreeSet<AssignmentTarget>> {
    let sets = [value.get("permission_set_arns"), value.get("account_ids")];
    if sets.iter().any(|s| !s.is_wholly_known() || s.is_null()) {
        return None;
    }
    let arns = sets[0].string_elements();
    let accounts = sets[1].string_elements();
    Some(
        arns.iter()
            .flat_map(|arn| {
                accounts
                    .iter()
                    .map(move |account| AssignmentTarget::new(*arn, *account))
            })
            .collect(),
    )
}

fn validate_set_elements(
    value: &Value,
    path: &AttributePath,
    valid: fn(&str) -> bool,
    summary: &str,
    explain: &str,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for element in value.iter() {
        if let Some(text) = element.as_str()
            && !valid(text)
        {
            diags.push(Diagnostic::error(summary, format!("{text:?} {explain}")).at(path.clone()));
        }
    }
    diags
}

fn validate_account_ids(value: &Value, path: &AttributePath) -> Diagnostics {
    validate_set_elements(
        value,
        path,
        is_account_id,
        "Invalid AWS account id",
        "is not an AWS account id: account ids are exactly 12 digits (keep leading zeros; quote them).",
    )
}

fn validate_permission_set_arns(value: &Value, path: &AttributePath) -> Diagnostics {
    validate_set_elements(
        value,
        path,
        is_permission_set_arn,
        "Invalid permission set ARN",
        "is not a permission set ARN; expected arn:aws:sso:::permissionSet/ssoins-…/ps-… \
         (idbridge_permission_set.arn).",
    )
}

fn validate_match(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(m) if m != MATCH_DISPLAY_NAME && m != MATCH_EXTERNAL_ID => Diagnostic::error(
            "Invalid identity_store_match",
            format!("{m:?} is not one of `display_name`, `external_id`."),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

pub fn parse_import_id(id: &str) -> Option<(&str, &str)> {
    let (app, group) = id.split_once('/')?;
    (is_object_id(app) && is_object_id(group)).then_some((app, group))
}

/// The rule that provisions groups (the AWS template has a single rule mapping both users and groups).
fn pick_group_rule(rules: &[SynchronizationRule]) -> Option<&SynchronizationRule> {
    rules
        .iter()
        .find(|r| {
            r.object_mappings
                .iter()
                .any(|m| m.source_object_name.as_deref() == Some("Group"))
        })
        .or_else(|| rules.first())
}

/// `statusInfo.status` and a description from a provisionOnDemand report (a JSON string).
fn on_demand_status(report: &str) -> Option<(String, String)> {
    let json: serde_json::Value = serde_json::from_str(report).ok()?;
    let status = json["statusInfo"]["status"].as_str()?.to_owned();
    let description = json["provisioningSteps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["description"].as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Some((status, description))
}

fn job_code(job: &SynchronizationJob) -> String {
    job.status
        .as_ref()
        .and_then(|s| s.code.clone())
        .unwrap_or_else(|| "unknown".into())
}

/// An error naming the quarantine and its reason when the job is quarantined.
fn quarantine_message(job: &SynchronizationJob) -> Option<Diagnostics> {
    let status = job.status.as_ref()?;
    let quarantine = status.quarantine.as_ref().filter(|q| !q.is_null());
    if status.code.as_deref() != Some("Quarantine") && quarantine.is_none() {
        return None;
    }
    let q = quarantine.cloned().unwrap_or_default();
    let reason = q["reason"].as_str().unwrap_or("unknown reason");
    let code = q["error"]["code"].as_str().unwrap_or("");
    let message = q["error"]["message"].as_str().unwrap_or("");
    Some(
        Diagnostic::error(
            "Provisioning job is quarantined",
            format!(
                "The provisioning job {} of the enterprise application is in quarantine ({reason}{}{}), so \
                 the group cannot reach AWS. This usually means the SCIM token was rejected (expired or \
                 revoked): generate a new token in IAM Identity Center, update idbridge_scim_provisioning \
                 (scim_token_wo and scim_token_wo_version), which restarts the job, then apply again.{}",
                job.id,
                if code.is_empty() { "" } else { ", " },
                code,
                if message.is_empty() {
                    String::new()
                } else {
                    format!(" Entra says: {message}")
                }
            ),
        )
        .into(),
    )
}

/// A sliding-window pacer: at most `limit` acquisitions per `window`.
pub struct SlidingWindow {
    limit: usize,
    window: Duration,
    recent: Mutex<VecDeque<Instant>>,
}

impl SlidingWindow {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            recent: Mutex::new(VecDeque::new()),
        }
    }

    /// Waits until a slot is free in the window, then takes it.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                while recent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    recent.pop_front();
                }
                if recent.len() < self.limit {
                    recent.push_back(now);
                    return;
                }
                self.window - now.duration_since(recent[0])
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// One pacer per provisioning job, shared by every resource of the provider process (Terraform runs up
/// to 10 at once against the same app).
fn on_demand_window(job_id: &str) -> Arc<SlidingWindow> {
    static WINDOWS: OnceLock<Mutex<HashMap<String, Arc<SlidingWindow>>>> = OnceLock::new();
    WINDOWS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(job_id.to_owned())
        .or_insert_with(|| Arc::new(SlidingWindow::new(ON_DEMAND_LIMIT, ON_DEMAND_WINDOW)))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0123456789abcdef";
    const APP: &str = "11111111-2222-3333-4444-555555555555";
    const GROUP: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    #[test]
    fn account_ids_must_be_twelve_digits() {
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901"));
        assert!(!is_account_id("1234567890123"));
        assert!(!is_account_id("12345678901a"));
        let path = AttributePath::new("account_ids");
        let diags = validate_account_ids(
            &Value::set([Value::from("123456789012"), Value::from("12345678901")]),
            &path,
        );
        assert_eq!(diags.len(), 1);
        let d = diags.iter().next().unwrap();
        assert_eq!(d.summary, "Invalid AWS account id");
        assert!(d.detail.contains("\"12345678901\""), "{}", d.detail);
        assert_eq!(d.path.as_ref(), Some(&path));
        // Unknown elements are checked at apply, not refused at plan.
        assert!(validate_account_ids(&Value::set([Value::unknown()]), &path).is_empty());
    }

    #[test]
    fn permission_set_arns_have_the_aws_shape() {
        assert!(is_permission_set_arn(ARN));
        assert!(is_permission_set_arn(
            "arn:aws-us-gov:sso:::permissionSet/ssoins-1/ps-2"
        ));
        for bad in [
            "arn:aws:sso:::instance/ssoins-1/ps-2",
            "arn:aws:sso:::permissionSet/ssoins-1",
            "arn:aws:sso:::permissionSet/ssoins-/ps-2",
            "arn:aws:sso:::permissionSet/ssoins-1/ps-2/x",
            "ps-2",
            "",
        ] {
            assert!(!is_permission_set_arn(bad), "{bad}");
        }
        let diags = validate_permission_set_arns(
            &Value::set([Value::from("nope")]),
            &AttributePath::new("permission_set_arns"),
        );
        assert_eq!(diags.len(), 1);
    }

    #[test]
    fn only_new_permission_sets_are_checked_against_their_instance() {
        let a = "arn:aws:sso:::permissionSet/ssoins-aaaa/ps-1";
        let b = "arn:aws-us-gov:sso:::permissionSet/ssoins-bbbb/ps-2";
        let arns = |items: &[&str]| {
            Value::object([(
                "permission_set_arns",
                Value::set(items.iter().map(|arn| Value::from(*arn))),
            )])
        };
        assert_eq!(
            added_permission_set_arns(&arns(&[a, b, "not-an-arn"]), &arns(&[a])),
            vec![b.to_string()]
        );
        assert_eq!(
            added_permission_set_arns(&arns(&[a]), &Value::Null),
            vec![a.to_string()]
        );
        assert_eq!(
            instance_arn_of(b).as_deref(),
            Some("arn:aws-us-gov:sso:::instance/ssoins-bbbb")
        );
        let config = arns(&[a]).with("instance_arn", "arn:aws:sso:::instance/ssoins-aaaa");
        assert!(check_instance_matches(&config, &[a.to_string()]).is_ok());
        let errors = check_instance_matches(&config, &[b.to_string()]).unwrap_err();
        assert_eq!(
            errors.iter().next().unwrap().path,
            Some(AttributePath::new("permission_set_arns"))
        );
        // Without instance_arn the instance comes from the ARNs themselves.
        assert!(check_instance_matches(&arns(&[a]), &[b.to_string()]).is_ok());
    }

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
    fn desired_targets_are_the_product_of_both_sets() {
        let value = Value::Null
            .with(
                "permission_set_arns",
                Value::set([
                    Value::from(ARN),
                    Value::from("arn:aws:sso:::permissionSet/ssoins-1/ps-2"),
                ]),
            )
            .with(
                "account_ids",
                Value::set([
                    Value::from("111111111111"),
                    Value::from("222222222222"),
                    Value::from("333333333333"),
                ]),
            );
        let targets = desired_targets(&value).unwrap();
        assert_eq!(targets.len(), 6);
        assert!(targets.contains(&AssignmentTarget::new(ARN, "222222222222")));
        let unknown = value.clone().with("account_ids", Value::unknown());
        assert_eq!(desired_targets(&unknown), None);
        let partly = value.with("account_ids", Value::set([Value::unknown()]));
        assert_eq!(desired_targets(&partly), None);
    }

    #[test]
    fn import_ids_are_two_object_ids() {
        assert_eq!(
            parse_import_id(&format!("{APP}/{GROUP}")),
            Some((APP, GROUP))
        );
        assert_eq!(parse_import_id(APP), None);
        assert_eq!(parse_import_id(&format!("{APP}/not-a-guid")), None);
        assert_eq!(parse_import_id(&format!("{APP}/{GROUP}/x")), None);
    }

    #[test]
    fn the_group_rule_is_picked_and_on_demand_reports_parse() {
        let rules: Vec<SynchronizationRule> = serde_json::from_value(serde_json::json!([
            {"id": "users-only", "objectMappings": [{"sourceObjectName": "User"}]},
            {"id": "groups", "objectMappings": [{"sourceObjectName": "User"}, {"sourceObjectName": "Group"}]}
        ]))
        .unwrap();
        assert_eq!(pick_group_rule(&rules).unwrap().id, "groups");
        assert_eq!(pick_group_rule(&[]), None);
        let report = r#"{"statusInfo":{"status":"failure"},"provisioningSteps":[{"description":"Failed to export Group"}]}"#;
        assert_eq!(
            on_demand_status(report),
            Some(("failure".into(), "Failed to export Group".into()))
        );
        assert_eq!(on_demand_status("not json"), None);
    }

    #[test]
    fn quarantine_is_explained_with_its_reason() {
        let job: SynchronizationJob = serde_json::from_value(serde_json::json!({
            "id": "job-1",
            "status": {"code": "Quarantine", "quarantine": {
                "reason": "EncounteredQuarantineException",
                "error": {"code": "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable", "message": "401"}
            }}
        }))
        .unwrap();
        let diags = quarantine_message(&job).unwrap();
        let d = diags.iter().next().unwrap();
        assert_eq!(d.summary, "Provisioning job is quarantined");
        assert!(d.detail.contains("EncounteredQuarantineException"));
        assert!(d.detail.contains("CredentialValidationUnavailable"));
        assert!(d.detail.contains("SCIM token"));
        let active: SynchronizationJob = serde_json::from_value(
            serde_json::json!({"id": "job-2", "status": {"code": "Active", "quarantine": null}}),
        )
        .unwrap();
        assert!(quarantine_message(&active).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_on_demand_window_allows_five_per_ten_seconds() {
        let window = SlidingWindow::new(5, Duration::from_secs(10));
        let start = Instant::now();
        for _ in 0..5 {
            window.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_millis(1));
        window.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(10));
        for _ in 0..4 {
            window.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_secs(11));
        window.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(20));
    }

    #[tokio::test]
    async fn plan_sets_defaults_id_and_the_planned_assignments() {
        let config = Value::Null
            .with("application_id", APP)
            .with("entra_group_id", GROUP)
            .with("permission_set_arns", Value::set([Value::from(ARN)]))
            .with("account_ids", Value::set([Value::from("123456789012")]))
            .with("identity_store_match", Value::Null)
            .with("provision_on_demand", Value::Null);
        let mut plan = PlanChange {
            config: config.clone(),
            prior: Value::Null,
            planned: config.clone().with("assignments", Value::unknown()),
            requires_replace: Vec::new(),
        };
        let ctx = Context::for_tests(TYPE_NAME, None);
        GroupAssignmentResource
            .modify_plan(&ctx, &mut plan)
            .await
            .unwrap();
        assert_eq!(
            plan.planned.get_str("id"),
            Some(format!("{APP}/{GROUP}").as_str())
        );
        assert_eq!(
            plan.planned.get_str("identity_store_match"),
            Some("display_name")
        );
        assert_eq!(plan.planned.get_bool("provision_on_demand"), Some(true));
        assert_eq!(
            plan.planned.get("assignments"),
            &Value::set([Value::from(format!("123456789012/{ARN}"))])
        );
    }

    #[test]
    fn schema_is_consistent() {
        assert!(GroupAssignmentResource.schema().check(TYPE_NAME).is_empty());
    }
}
