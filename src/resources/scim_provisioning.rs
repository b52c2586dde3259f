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

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::clients::graph::models::{
    SynchronizationJob, SynchronizationSecret, SynchronizationTemplate, secret_keys,
};
use crate::clients::graph::{GraphClient, GraphError, http_client};
use crate::framework::{
    ApplyError, Attribute, AttributePath, Context, CreateRequest, Diagnostic, Diagnostics,
    NestedBlock, Operation, PlanChange, Resource, Schema, UpdateRequest, Value, async_trait,
    import_passthrough,
};
use crate::helpers::graph_error;
use crate::helpers::{is_object_id, validate_object_id};
use crate::services::IdbridgeClients;

pub const TYPE_NAME: &str = "idbridge_scim_provisioning";

/// The `factoryTag` (and id) of Entra's provisioning template for the AWS IAM Identity Center gallery app.
const AWS_FACTORY_TAG: &str = "aWSSingleSignon";

/// Synchronization secret that holds Entra's "Scope" setting: `true` syncs all users and groups, `false`
/// only those assigned to the application.
const SYNC_ALL_SECRET: &str = "SyncAll";

/// AWS SCIM tokens expire; warn this long before.
const EXPIRY_WARNING: time::Duration = time::Duration::days(30);

const SCOPE_ASSIGNED: &str = "assigned";
const SCOPE_ALL: &str = "all";

pub struct ScimProvisioningResource;

#[async_trait]
impl Resource for ScimProvisioningResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .description(
                "Automatic provisioning (SCIM) from Microsoft Entra ID to AWS IAM Identity Center: the \
                 synchronization job of the AWS IAM Identity Center application, its SCIM endpoint and token, \
                 its scope, and whether it runs.",
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .description("The application object id (same as `application_id`)."),
            )
            .attribute(
                Attribute::string("application_id")
                    .required()
                    .requires_replace()
                    .validator(|value, path| validate_object_id(value, path, "application id"))
                    .description(
                        "Object id of the AWS IAM Identity Center application (`idbridge_entra_application.id`).",
                    ),
            )
            .attribute(
                Attribute::string("scim_endpoint")
                    .required()
                    .validator(validate_scim_endpoint)
                    .description(
                        "The SCIM endpoint shown by IAM Identity Center, \
                         `https://scim.<region>.amazonaws.com/<tenant>/scim/v2/`. Loopback `http(s)` URLs \
                         (`127.0.0.1`, `localhost`, `[::1]`) are accepted for local emulators.",
                    ),
            )
            .attribute(
                Attribute::string("scim_token_wo")
                    .optional()
                    .sensitive()
                    .write_only()
                    .description(
                        "The SCIM access token from IAM Identity Center. Write-only: never stored in the plan or \
                         state; ephemeral values are accepted. Required on create and whenever the secrets are \
                         re-sent (a change of `scim_token_wo_version`, `scim_endpoint` or `scope`).",
                    ),
            )
            .attribute(Attribute::number("scim_token_wo_version").optional().description(
                "Any number; changing it sends `scim_token_wo` again (Terraform cannot see a write-only value change).",
            ))
            .attribute(
                Attribute::bool("enabled")
                    .optional()
                    .computed()
                    .description(
                        "Whether provisioning runs (`true`, default) or is paused. Read back from the job: a job \
                         paused or quarantined outside Terraform reads as `false`, so the plan starts it again.",
                    ),
            )
            .attribute(
                Attribute::string("scope")
                    .optional()
                    .computed()
                    .validator(validate_scope)
                    .description(
                        "`assigned` (default): only users and groups assigned to the application; `all`: every \
                         user and group of the tenant (Entra's SyncAll).",
                    ),
            )
            .attribute(
                Attribute::string("token_expires_at")
                    .optional()
                    .validator(validate_token_expiry)
                    .description(
                        "When the SCIM token expires (RFC 3339). Plans warn 30 days ahead and fail once it has \
                         passed. Not sent anywhere.",
                    ),
            )
            .attribute(
                Attribute::string("job_id")
                    .computed()
                    .use_state_for_unknown()
                    .description("Id of the synchronization job."),
            )
            .attribute(
                Attribute::string("template_id")
                    .computed()
                    .use_state_for_unknown()
                    .description("Id of the synchronization template the job was created from."),
            )
            .attribute(Attribute::string("status").computed().description(
                "The job's status code: `NotRun`, `Active`, `Paused`, `Quarantine` or `NotConfigured`.",
            ))
            .attribute(
                Attribute::string("last_execution_state")
                    .computed()
                    .description("State of the last cycle, e.g. `Succeeded`, `Failed`, `EntryLevelErrors`."),
            )
            .attribute(
                Attribute::string("quarantine_reason")
                    .computed()
                    .description("Why the job is in quarantine (null when it is not)."),
            )
            .attribute(
                Attribute::number("error_count")
                    .computed()
                    .description("Number of successive cycles that failed completely."),
            )
            .attribute(
                Attribute::string("last_successful_execution_at")
                    .computed()
                    .description("When the last successful cycle ended (RFC 3339)."),
            )
            .block(NestedBlock::timeouts(&[
                Operation::Create,
                Operation::Read,
                Operation::Update,
                Operation::Delete,
            ]))
    }

    fn default_timeout(&self, _operation: Operation) -> Duration {
        Duration::from_secs(10 * 60)
    }

    async fn modify_plan(&self, _ctx: &Context, plan: &mut PlanChange) -> Result<(), Diagnostics> {
        if plan.is_destroy() {
            return Ok(());
        }
        // Defaults are applied here (not left to "known after apply") so that a job paused out of band reads
        // as `enabled = false` and shows as a diff against the default.
        apply_default(plan, "enabled", Value::from(true));
        apply_default(plan, "scope", Value::from(SCOPE_ASSIGNED));
        let application_id = plan.planned.get("application_id").clone();
        if !application_id.is_unknown() {
            plan.planned.set_attr("id", application_id);
        }

        let token = plan.config.get("scim_token_wo");
        if !token.is_null() {
            return Ok(());
        }
        let reason = if plan.is_create() {
            Some("creating the provisioning job needs the SCIM access token")
        } else if secrets_change(&plan.prior, &plan.planned) {
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
        let graph = graph_client(ctx).await?;
        let desired = Desired::from(&req.config, &req.planned)?;
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
        let template = pick_aws_template(&templates).map_err(|d| d.at(attr("application_id")))?;
        let job = ctx
            .guard(graph_call(
                graph.create_synchronization_job(&service_principal_id, &template.id),
                "create the provisioning job",
            ))
            .await?;

        // From here on the job exists: any failure returns it as partial state so Terraform keeps track of it
        // (the resource is tainted and replaced, or destroyed, by the next run).
        let mut state = req.planned.clone();
        state.set_attr("id", application_id.as_str());
        state.set_attr("job_id", job.id.as_str());
        state.set_attr("template_id", template.id.as_str());
        apply_job_status(&mut state, &job);
        let partial = |error: Diagnostics, state: &Value| {
            ApplyError::from(error).with_partial_state(state.clone())
        };

        let configured = async {
            put_secrets(&graph, &service_principal_id, &desired).await?;
            validate_saved_credentials(&graph, &service_principal_id, &job.id).await?;
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
                apply_job_status(&mut state, &job);
                Ok(state)
            }
            Err(error) => Err(partial(error, &state)),
        }
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let graph = graph_client(ctx).await?;
        let Some(application_id) = state.get_str("application_id").map(str::to_owned) else {
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
        let job = match state.get_str("job_id") {
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

        let mut new_state = state;
        new_state.set_attr("id", application_id.as_str());
        new_state.set_attr("job_id", job.id.as_str());
        if let Some(template_id) = &job.template_id {
            new_state.set_attr("template_id", template_id.as_str());
        }
        apply_job_status(&mut new_state, &job);
        new_state.set_attr("enabled", job_is_running(&job));
        // Graph masks secret values on read; only values it shows in clear are taken over.
        if let Some(endpoint) = readable_secret(&secrets, secret_keys::BASE_ADDRESS) {
            new_state.set_attr("scim_endpoint", endpoint);
        }
        match readable_secret(&secrets, SYNC_ALL_SECRET).map(str::to_ascii_lowercase) {
            Some(value) if value == "true" => new_state.set_attr("scope", SCOPE_ALL),
            Some(value) if value == "false" => new_state.set_attr("scope", SCOPE_ASSIGNED),
            _ => {
                if new_state.get("scope").is_null() {
                    new_state.set_attr("scope", SCOPE_ASSIGNED);
                }
            }
        }
        Ok(Some(new_state))
    }

    async fn update(&self, ctx: &Context, req: UpdateRequest) -> Result<Value, ApplyError> {
        let graph = graph_client(ctx).await?;
        let application_id = req
            .prior
            .get_str("application_id")
            .unwrap_or_default()
            .to_owned();
        let Some(job_id) = req.prior.get_str("job_id").map(str::to_owned) else {
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

        if secrets_change(&req.prior, &req.planned) {
            let desired = Desired::from(&req.config, &req.planned)?;
            ctx.guard(preflight(&desired.endpoint, &desired.token))
                .await?;
            ctx.guard(async {
                put_secrets(&graph, &service_principal_id, &desired).await?;
                validate_saved_credentials(&graph, &service_principal_id, &job_id).await
            })
            .await?;
        }

        let enabled = req.planned.get_bool("enabled").unwrap_or(true);
        if req.prior.get_bool("enabled") != Some(enabled) {
            let quarantined = req.prior.get_str("status") == Some("Quarantine");
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
        let mut state = req.planned;
        state.set_attr("id", application_id.as_str());
        state.set_attr("job_id", job_id.as_str());
        if let Some(template_id) = &job.template_id {
            state.set_attr("template_id", template_id.as_str());
        } else if state.get("template_id").is_unknown() {
            state.set_attr("template_id", req.prior.get("template_id").clone());
        }
        apply_job_status(&mut state, &job);
        Ok(state)
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        let graph = graph_client(ctx).await?;
        let application_id = state
            .get_str("application_id")
            .unwrap_or_default()
            .to_owned();
        let Some(service_principal_id) = ctx
            .guard(find_service_principal(&graph, &application_id, false))
            .await?
        else {
            // The application (and with it the job and the secrets) is gone already.
            return Ok(());
        };
        if let Some(job_id) = state.get_str("job_id") {
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
        Ok(import_passthrough(&self.schema(), "application_id", id).with("id", id))
    }
}

/// What create/update send: the endpoint, the token and the settings derived from the plan.
struct Desired {
    application_id: String,
    endpoint: String,
    token: ScimToken,
    sync_all: bool,
    enabled: bool,
}

/// The SCIM bearer token; `Debug` never shows it.
struct ScimToken(String);

impl std::fmt::Debug for ScimToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScimToken(<redacted>)")
    }
}

impl Desired {
    fn from(config: &Value, planned: &Value) -> Result<Desired, Diagnostics> {
        let token = config.get_str("scim_token_wo").unwrap_or_default();
        if token.is_empty() {
            return Err(Diagnostic::error(
                "Missing SCIM access token",
                "`scim_token_wo` must be set to the SCIM access token generated in IAM Identity Center.",
            )
            .at(attr("scim_token_wo"))
            .into());
        }
        Ok(Desired {
            application_id: planned
                .get_str("application_id")
                .unwrap_or_default()
                .to_owned(),
            endpoint: planned
                .get_str("scim_endpoint")
                .unwrap_or_default()
                .to_owned(),
            token: ScimToken(token.to_owned()),
            sync_all: planned.get_str("scope") == Some(SCOPE_ALL),
            enabled: planned.get_bool("enabled").unwrap_or(true),
        })
    }
}

fn attr(name: &str) -> AttributePath {
    AttributePath::new(name)
}

fn apply_default(plan: &mut PlanChange, name: &str, default: Value) {
    let configured = plan.config.get(name);
    if configured.is_unknown() {
        return;
    }
    let value = if configured.is_null() {
        default
    } else {
        configured.clone()
    };
    plan.planned.set_attr(name, value);
}

/// Whether the planned change needs the secrets sent again.
fn secrets_change(prior: &Value, planned: &Value) -> bool {
    ["scim_endpoint", "scope", "scim_token_wo_version"]
        .iter()
        .any(|name| prior.get(name) != planned.get(name))
}

async fn graph_client(ctx: &Context) -> Result<Arc<GraphClient>, Diagnostics> {
    IdbridgeClients::from_context(ctx)?.graph().await
}

async fn graph_call<T>(
    call: impl Future<Output = Result<T, GraphError>>,
    action: &str,
) -> Result<T, Diagnostics> {
    call.await
        .map_err(|error| graph_error(action, &error).into())
}

fn ignore_not_found(result: Result<(), GraphError>, action: &str) -> Result<(), Diagnostics> {
    match result {
        Err(error) if !error.is_not_found() => Err(graph_error(action, &error).into()),
        _ => Ok(()),
    }
}

fn application_missing(application_id: &str) -> Diagnostics {
    Diagnostic::error(
        "Application not found",
        format!(
            "No application with object id {application_id} (and a service principal) exists in the tenant. \
             Check `application_id`: it must be the object id of the AWS IAM Identity Center application."
        ),
    )
    .at(attr("application_id"))
    .into()
}

/// The service principal of the application `application_id` (object id). `None` when the application or its
/// service principal does not exist. `wait` tolerates replication lag right after the application was created.
async fn find_service_principal(
    graph: &GraphClient,
    application_id: &str,
    wait: bool,
) -> Result<Option<String>, Diagnostics> {
    let application = if wait {
        graph
            .read_after_write(|| graph.get_application(application_id))
            .await
    } else {
        graph.get_application(application_id).await
    };
    let application = match application {
        Ok(application) => application,
        Err(error) if error.is_not_found() => return Ok(None),
        Err(error) => return Err(graph_error("read the application", &error).into()),
    };
    let lookup = || async {
        let found = graph
            .list_service_principals_by_app_id(&application.app_id)
            .await?;
        match found.into_iter().next() {
            Some(sp) => Ok(sp.id),
            // An empty list right after creation is replication lag: treat it as a 404 so it is waited for.
            None => Err(GraphError::Api(Box::new(crate::clients::graph::ApiError {
                method: "GET".into(),
                path: "/servicePrincipals".into(),
                status: 404,
                code: "Request_ResourceNotFound".into(),
                message: format!("no service principal with appId {}", application.app_id),
                request_id: None,
                client_request_id: String::new(),
            }))),
        }
    };
    let result = if wait {
        graph.read_after_write(lookup).await
    } else {
        lookup().await
    };
    match result {
        Ok(id) => Ok(Some(id)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(graph_error("find the service principal", &error).into()),
    }
}

/// The AWS IAM Identity Center provisioning template among those Graph offers for the application.
fn pick_aws_template(
    templates: &[SynchronizationTemplate],
) -> Result<&SynchronizationTemplate, Diagnostic> {
    let is = |t: &SynchronizationTemplate, tag: &str| {
        t.id.eq_ignore_ascii_case(tag)
            || t.factory_tag
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(tag))
    };
    if let Some(template) = templates.iter().find(|t| is(t, AWS_FACTORY_TAG)) {
        return Ok(template);
    }
    let aws_like: Vec<_> = templates
        .iter()
        .filter(|t| {
            t.id.to_ascii_lowercase().contains("aws")
                || t.factory_tag
                    .as_deref()
                    .is_some_and(|f| f.to_ascii_lowercase().contains("aws"))
        })
        .collect();
    if let [only] = aws_like.as_slice() {
        return Ok(only);
    }
    let found = if templates.is_empty() {
        "none".to_owned()
    } else {
        templates
            .iter()
            .map(|t| {
                format!(
                    "{} (factoryTag {})",
                    t.id,
                    t.factory_tag.as_deref().unwrap_or("-")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(Diagnostic::error(
        "No AWS IAM Identity Center provisioning template",
        format!(
            "The application offers no single provisioning template for AWS IAM Identity Center (factoryTag \
             {AWS_FACTORY_TAG}). Templates found: {found}. `application_id` must be an application instantiated \
             from the AWS IAM Identity Center gallery template."
        ),
    ))
}

/// On import, the job made from the AWS template (or the only job).
fn pick_aws_job(jobs: Vec<SynchronizationJob>) -> Option<SynchronizationJob> {
    let is_aws = |job: &SynchronizationJob| {
        job.template_id
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(AWS_FACTORY_TAG))
            || job
                .id
                .to_ascii_lowercase()
                .starts_with(&AWS_FACTORY_TAG.to_ascii_lowercase())
    };
    if jobs.len() == 1 {
        return jobs.into_iter().next();
    }
    jobs.into_iter().find(is_aws)
}

/// A job runs when its schedule is active (or, without a schedule, its status says so) and it is not in
/// quarantine.
fn job_is_running(job: &SynchronizationJob) -> bool {
    let code = job.status.as_ref().and_then(|s| s.code.as_deref());
    if code == Some("Quarantine") {
        return false;
    }
    match job.schedule.as_ref().and_then(|s| s.state.as_deref()) {
        Some(state) => state == "Active",
        None => code == Some("Active"),
    }
}

fn apply_job_status(state: &mut Value, job: &SynchronizationJob) {
    let status = job.status.clone().unwrap_or_default();
    let text = |value: &Option<serde_json::Value>, key: &str| {
        value
            .as_ref()
            .and_then(|v| v.get(key))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    state.set_attr("status", status.code.clone());
    state.set_attr(
        "last_execution_state",
        text(&status.last_execution, "state"),
    );
    state.set_attr("quarantine_reason", text(&status.quarantine, "reason"));
    state.set_attr(
        "error_count",
        status.count_successive_complete_failures.unwrap_or(0),
    );
    state.set_attr(
        "last_successful_execution_at",
        text(&status.last_successful_execution, "timeEnded"),
    );
}

/// A secret value Graph shows in clear (not masked with `*`).
fn readable_secret<'a>(secrets: &'a [SynchronizationSecret], key: &str) -> Option<&'a str> {
    secrets
        .iter()
        .find(|s| s.key == key)
        .and_then(|s| s.value.as_deref())
        .filter(|v| !v.is_empty() && !v.chars().all(|c| c == '*'))
}

async fn put_secrets(
    graph: &GraphClient,
    service_principal_id: &str,
    desired: &Desired,
) -> Result<(), Diagnostics> {
    let secrets = [
        (secret_keys::BASE_ADDRESS, desired.endpoint.as_str()),
        (secret_keys::SECRET_TOKEN, desired.token.0.as_str()),
        (
            SYNC_ALL_SECRET,
            if desired.sync_all { "true" } else { "false" },
        ),
    ]
    .map(|(key, value)| SynchronizationSecret {
        key: key.to_owned(),
        value: Some(value.to_owned()),
    });
    graph_call(
        graph.put_synchronization_secrets(service_principal_id, &secrets),
        "save the SCIM endpoint and token",
    )
    .await
}

/// Entra's own test of the saved endpoint and token; its message explains what is wrong.
async fn validate_saved_credentials(
    graph: &GraphClient,
    service_principal_id: &str,
    job_id: &str,
) -> Result<(), Diagnostics> {
    match graph
        .validate_synchronization_credentials(service_principal_id, job_id, &[])
        .await
    {
        Ok(()) => Ok(()),
        Err(GraphError::Api(error)) if error.status == 400 => Err(Diagnostic::error(
            "Entra ID could not validate the SCIM credentials",
            format!(
                "Entra ID tested the SCIM endpoint with the token and answered: {} Check `scim_endpoint` and \
                 `scim_token_wo`.",
                error.message
            ),
        )
        .at(attr("scim_token_wo"))
        .into()),
        Err(error) => Err(graph_error("validate the SCIM credentials", &error).into()),
    }
}

async fn set_running(
    graph: &GraphClient,
    service_principal_id: &str,
    job_id: &str,
    enabled: bool,
    quarantined: bool,
) -> Result<(), Diagnostics> {
    if !enabled {
        return graph_call(
            graph.pause_synchronization_job(service_principal_id, job_id),
            "pause the provisioning job",
        )
        .await;
    }
    if quarantined {
        // Only a restart clears the quarantine.
        return graph_call(
            graph.restart_synchronization_job(
                service_principal_id,
                job_id,
                Some("QuarantineState"),
            ),
            "restart the provisioning job",
        )
        .await;
    }
    graph_call(
        graph.start_synchronization_job(service_principal_id, job_id),
        "start the provisioning job",
    )
    .await
}

// ---- the SCIM endpoint itself ----

/// `GET {endpoint}ServiceProviderConfig` with the token: a direct answer from AWS is clearer than Entra's
/// generic credential error, and it costs nothing to ask before the job exists.
async fn preflight(endpoint: &str, token: &ScimToken) -> Result<(), Diagnostics> {
    let url = service_provider_config_url(endpoint);
    let http = http_client(Duration::from_secs(30)).map_err(|error| {
        Diagnostics::from(Diagnostic::error(
            "Cannot check the SCIM endpoint",
            error.to_string(),
        ))
    })?;
    let response = http
        .get(&url)
        .bearer_auth(&token.0)
        .header("Accept", "application/scim+json")
        .send()
        .await;
    let status = match response {
        Ok(response) => response.status().as_u16(),
        Err(error) => {
            return Err(Diagnostic::error(
                "SCIM endpoint unreachable",
                format!(
                    "GET {url} failed: {}. Check `scim_endpoint`.",
                    error.without_url()
                ),
            )
            .at(attr("scim_endpoint"))
            .into());
        }
    };
    preflight_verdict(status, &url)
}

fn service_provider_config_url(endpoint: &str) -> String {
    format!("{}/ServiceProviderConfig", endpoint.trim_end_matches('/'))
}

fn preflight_verdict(status: u16, url: &str) -> Result<(), Diagnostics> {
    let diagnostic = match status {
        200..=299 => return Ok(()),
        401 | 403 => Diagnostic::error(
            "SCIM access token rejected",
            format!(
                "The SCIM endpoint answered {status} to GET {url}: the SCIM access token was rejected: generate a \
                 new one in IAM Identity Center (Settings > Identity source > Automatic provisioning > Generate \
                 token), set it in `scim_token_wo` and change `scim_token_wo_version`."
            ),
        )
        .at(attr("scim_token_wo")),
        404 => Diagnostic::error(
            "SCIM endpoint not found",
            format!(
                "The SCIM endpoint answered 404 to GET {url}: TENANT does not exist: the SCIM endpoint URL is \
                 wrong. Copy it from IAM Identity Center (Settings > Identity source > Automatic provisioning)."
            ),
        )
        .at(attr("scim_endpoint")),
        _ => Diagnostic::error(
            "SCIM endpoint check failed",
            format!(
                "The SCIM endpoint answered {status} to GET {url}. Check `scim_endpoint`, or retry if AWS is \
                 having trouble."
            ),
        )
        .at(attr("scim_endpoint")),
    };
    Err(diagnostic.into())
}

// ---- plan-time validation ----

fn validate_scope(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(SCOPE_ASSIGNED | SCOPE_ALL) | None => Diagnostics::new(),
        Some(other) => Diagnostic::error(
            "Invalid scope",
            format!("{other:?} is not a scope; use \"assigned\" (users and groups assigned to the application) or \"all\"."),
        )
        .at(path.clone())
        .into(),
    }
}

fn validate_scim_endpoint(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str().map(check_scim_endpoint) {
        Some(Err(problem)) => Diagnostic::error(
            "Invalid SCIM endpoint",
            format!(
                "{problem}. Expected the SCIM endpoint IAM Identity Center shows, \
                 https://scim.<region>.amazonaws.com/<tenant>/scim/v2/ (loopback http(s) URLs such as \
                 http://127.0.0.1:8080/<tenant>/scim/v2/ are accepted for local emulators)."
            ),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

/// `https://scim.<region>.amazonaws.com[.cn]/<tenant>/scim/v2/` (trailing slash optional), or any http(s) URL
/// on a loopback host.
fn check_scim_endpoint(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
    let host = url.host_str().unwrap_or_default();
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1");
    if loopback {
        return match url.scheme() {
            "http" | "https" => Ok(()),
            other => Err(format!("{text:?} uses the scheme {other:?}")),
        };
    }
    if url.scheme() != "https" {
        return Err(format!("{text:?} is not an https URL"));
    }
    if url.query().is_some() || url.fragment().is_some() || url.port().is_some() {
        return Err(format!("{text:?} has a port, query or fragment"));
    }
    let region = host.strip_prefix("scim.").and_then(|rest| {
        rest.strip_suffix(".amazonaws.com")
            .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))
    });
    if !region.is_some_and(is_region) {
        return Err(format!(
            "the host {host:?} is not scim.<region>.amazonaws.com"
        ));
    }
    let segments: Vec<&str> = url.path().trim_end_matches('/').split('/').collect();
    match segments.as_slice() {
        ["", tenant, "scim", "v2"]
            if !tenant.is_empty()
                && tenant
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Ok(())
        }
        _ => Err(format!(
            "the path {:?} is not /<tenant>/scim/v2/",
            url.path()
        )),
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `ap-southeast-5`, ...
fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn validate_token_expiry(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(text) => token_expiry_diagnostics(text, OffsetDateTime::now_utc(), path),
        None => Diagnostics::new(),
    }
}

fn token_expiry_diagnostics(text: &str, now: OffsetDateTime, path: &AttributePath) -> Diagnostics {
    let expires = match OffsetDateTime::parse(text, &Rfc3339) {
        Ok(expires) => expires,
        Err(_) => {
            return Diagnostic::error(
                "Invalid token expiry",
                format!("{text:?} is not an RFC 3339 timestamp such as 2027-01-31T00:00:00Z."),
            )
            .at(path.clone())
            .into();
        }
    };
    if expires <= now {
        Diagnostic::error(
            "SCIM access token expired",
            format!(
                "The SCIM access token expired at {text}; provisioning stops working when it does. Generate a \
                 new token in IAM Identity Center, set it in `scim_token_wo`, change `scim_token_wo_version` and \
                 update `token_expires_at`."
            ),
        )
        .at(path.clone())
        .into()
    } else if expires - now <= EXPIRY_WARNING {
        let days = (expires - now).whole_days();
        Diagnostic::warning(
            "SCIM access token expires soon",
            format!(
                "The SCIM access token expires at {text} (in {days} days). Generate a new token in IAM Identity \
                 Center before then, set it in `scim_token_wo`, change `scim_token_wo_version` and update \
                 `token_expires_at`."
            ),
        )
        .at(path.clone())
        .into()
    } else {
        Diagnostics::new()
    }
}

#[cfg(test)]
mod tests;
