//! `/servicePrincipals/{id}/synchronization/...`: templates, jobs, secrets, and the job actions that drive the
//! provisioning engine.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use super::directory::{
    body_object, check_action_body, check_entity_body, json_response, page_size,
};
use super::engine::{self, EntryResult, Outcome, RunFailure, ScimTarget, Subject};
use super::error::{GraphError, GraphResult};
use super::objects::{AWS_SYNC_TEMPLATE_ID, AWS_TEMPLATE_ID};
use super::odata::Query;
use super::state::{AppState, Job, Kind, now};

/// Id of the AWS template's only synchronization rule (the `ruleId` provisionOnDemand needs).
pub const AWS_RULE_ID: &str = "03f7d90d-bf71-41b1-bda6-aaf0ddbee5d8";
/// Entra allows 5 provision-on-demand calls per 10 seconds per application.
const ON_DEMAND_LIMIT: usize = 5;
const ON_DEMAND_WINDOW: Duration = Duration::from_secs(10);
/// Members one group subject may link (`links.members`).
const ON_DEMAND_MEMBERS_LIMIT: usize = 5;
const NEVER: &str = "0001-01-01T00:00:00Z";

fn source(name: &str) -> Value {
    json!({"expression": format!("[{name}]"), "name": name, "parameters": [], "type": "Attribute"})
}

fn mapping(source: Value, target: &str, matching_priority: i32) -> Value {
    json!({"defaultValue": null, "exportMissingReferences": false, "flowBehavior": "FlowWhenChanged",
           "flowType": "Always", "matchingPriority": matching_priority, "source": source, "targetAttributeName": target})
}

fn parameter(key: &str, value: Value) -> Value {
    json!({"key": key, "value": value})
}

/// The schema of Entra's AWS IAM Identity Center synchronization template: one outbound rule with a Group and a
/// User object mapping (the default attribute mappings of the gallery app).
pub fn aws_schema(id: &str) -> Value {
    let constant = |text: &str| json!({"expression": format!("\"{text}\""), "name": text, "parameters": [], "type": "Constant"});
    let active = json!({
        "expression": "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")",
        "name": "Switch", "type": "Function",
        "parameters": [parameter("source", source("IsSoftDeleted")), parameter("defaultValue", constant("")),
                       parameter("key", constant("False")), parameter("value", constant("True")),
                       parameter("key", constant("True")), parameter("value", constant("False"))]
    });
    let formatted = json!({
        "expression": "Join(\" \", [givenName], [surname])", "name": "Join", "type": "Function",
        "parameters": [parameter("separator", constant(" ")), parameter("source1", source("givenName")),
                       parameter("source2", source("surname"))]
    });
    let group_mapping = json!({
        "enabled": true, "flowTypes": "Add, Update, Delete", "metadata": [], "name": "Provision Microsoft Entra ID Groups",
        "scope": null, "sourceObjectName": "Group", "targetObjectName": "Group",
        "attributeMappings": [mapping(source("displayName"), "displayName", 1), mapping(source("objectId"), "externalId", 0),
                              mapping(source("members"), "members", 0)]
    });
    let user_mapping = json!({
        "enabled": true, "flowTypes": "Add, Update, Delete", "metadata": [], "name": "Provision Microsoft Entra ID Users",
        "scope": null, "sourceObjectName": "User", "targetObjectName": "User",
        "attributeMappings": [
            mapping(source("userPrincipalName"), "userName", 1),
            mapping(active, "active", 0),
            mapping(source("displayName"), "displayName", 0),
            mapping(source("givenName"), "name.givenName", 0),
            mapping(source("surname"), "name.familyName", 0),
            mapping(formatted, "name.formatted", 0),
            mapping(source("mail"), "emails[type eq \"work\"].value", 0),
            mapping(source("objectId"), "externalId", 0)
        ]
    });
    json!({
        "id": id,
        "version": "Date:2026-08-20T00:00:00Z;Version:emulator",
        "synchronizationRules": [{
            "containerFilter": {"includedContainers": []}, "editable": true, "groupFilter": {"includedGroups": []},
            "id": AWS_RULE_ID, "metadata": [], "name": "USER_OUTBOUND_USER", "priority": 1,
            "sourceDirectoryName": "Azure Active Directory", "targetDirectoryName": "customappsso",
            "objectMappings": [group_mapping, user_mapping]
        }]
    })
}

fn templates_for(service_principal: &Value) -> Vec<Value> {
    if service_principal["applicationTemplateId"] != AWS_TEMPLATE_ID {
        return Vec::new();
    }
    vec![json!({
        "id": AWS_SYNC_TEMPLATE_ID,
        "applicationId": service_principal["appId"],
        "default": true,
        "description": "Provision users and groups to AWS IAM Identity Center over SCIM 2.0.",
        "discoverable": true,
        "factoryTag": AWS_SYNC_TEMPLATE_ID,
        "metadata": [
            {"key": "GalleryApplicationIdentifier", "value": "awssinglesignon"},
            {"key": "IsOAuthEnabled", "value": "false"},
            {"key": "IsSynchronizationAgentRequired", "value": "false"}
        ]
    })]
}

/// A new job has no credentials yet: `NotConfigured` ("Job was not configured and never run. No authorization
/// was provided.", Graph synchronizationStatus resource; the "Create synchronizationJob" example answers it).
/// Saving credentials makes it `NotRun`.
fn initial_status() -> Value {
    json!({
        "code": "NotConfigured", "countSuccessiveCompleteFailures": 0, "escrowsPruned": false, "lastExecution": null,
        "lastSuccessfulExecution": null, "lastSuccessfulExecutionWithExports": null, "progress": [], "quarantine": null,
        "steadyStateFirstAchievedTime": NEVER, "steadyStateLastAchievedTime": NEVER,
        "synchronizedEntryCountByType": [], "troubleshootingUrl": null
    })
}

fn context(state: &AppState, sp_id: &str, tail: &str) -> String {
    format!(
        "{}/v1.0/$metadata#servicePrincipals('{sp_id}')/synchronization/{tail}",
        state.base_url
    )
}

fn service_principal(state: &AppState, sp_id: &str) -> GraphResult<Value> {
    state.store().read(Kind::ServicePrincipal, sp_id)
}

fn job_not_found(job_id: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("The synchronization job '{job_id}' was not found."),
    )
}

/// Runs `f` on the job, or answers 404.
fn with_job<T>(
    state: &AppState,
    sp_id: &str,
    job_id: &str,
    f: impl FnOnce(&mut Job) -> T,
) -> GraphResult<T> {
    let mut store = state.store();
    store.read(Kind::ServicePrincipal, sp_id)?;
    let job = store
        .synchronization
        .get_mut(sp_id)
        .and_then(|s| s.jobs.get_mut(job_id))
        .ok_or_else(|| job_not_found(job_id))?;
    Ok(f(job))
}

async fn list_templates(
    State(state): State<Arc<AppState>>,
    Path(sp_id): Path<String>,
    uri: Uri,
) -> GraphResult {
    let templates = templates_for(&service_principal(&state, &sp_id)?);
    let query = Query::parse(
        uri.query(),
        &state.model,
        "microsoft.graph.synchronizationTemplate",
    )?;
    let set = format!("servicePrincipals('{sp_id}')/synchronization/templates");
    Ok(json_response(
        StatusCode::OK,
        query.page(
            templates,
            page_size(&state),
            &state.base_url,
            uri.path(),
            &set,
        ),
    ))
}

async fn get_template_schema(
    State(state): State<Arc<AppState>>,
    Path((sp_id, template_id)): Path<(String, String)>,
) -> GraphResult {
    let templates = templates_for(&service_principal(&state, &sp_id)?);
    if !templates.iter().any(|t| t["id"] == template_id.as_str()) {
        return Err(GraphError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("The synchronization template '{template_id}' was not found."),
        ));
    }
    let mut schema = aws_schema(&template_id);
    schema["@odata.context"] = Value::String(context(
        &state,
        &sp_id,
        &format!("templates('{template_id}')/schema/$entity"),
    ));
    Ok(json_response(StatusCode::OK, schema))
}

async fn create_job(
    State(state): State<Arc<AppState>>,
    Path(sp_id): Path<String>,
    bytes: Bytes,
) -> GraphResult {
    let body = body_object(&bytes)?;
    check_entity_body(&state, "microsoft.graph.synchronizationJob", &body)?;
    let sp = service_principal(&state, &sp_id)?;
    let template_id = body
        .get("templateId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !templates_for(&sp)
        .iter()
        .any(|t| t["id"] == template_id.as_str())
    {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!(
                "The synchronization template '{template_id}' is not available for this application."
            ),
        ));
    }
    let job_id = format!(
        "{template_id}.{}.{}",
        state.config.tenant_id.replace('-', ""),
        uuid::Uuid::new_v4()
    );
    let job_json = json!({
        "id": job_id,
        "templateId": template_id,
        "schedule": {"expiration": null, "interval": "PT40M", "state": "Disabled"},
        "status": initial_status(),
        "synchronizationJobSettings": [
            {"name": "AzureIngestionAttributeOptimization", "value": "False"},
            {"name": "LookaheadQueryEnabled", "value": "False"},
            {"name": "QuarantineTooManyDeletesThreshold", "value": "500"}
        ]
    });
    let job = Job {
        json: job_json.clone(),
        schema: aws_schema(&job_id),
        runner: None,
        escrow: Default::default(),
        run_lock: Default::default(),
        on_demand_calls: VecDeque::new(),
    };
    state
        .store()
        .synchronization
        .entry(sp_id.clone())
        .or_default()
        .jobs
        .insert(job_id, job);
    let mut response = job_json;
    response["@odata.context"] = Value::String(context(&state, &sp_id, "jobs/$entity"));
    Ok(json_response(StatusCode::CREATED, response))
}

async fn list_jobs(
    State(state): State<Arc<AppState>>,
    Path(sp_id): Path<String>,
    uri: Uri,
) -> GraphResult {
    let query = Query::parse(
        uri.query(),
        &state.model,
        "microsoft.graph.synchronizationJob",
    )?;
    let jobs: Vec<Value> = {
        let mut store = state.store();
        store.read(Kind::ServicePrincipal, &sp_id)?;
        store
            .synchronization
            .get(&sp_id)
            .map(|s| s.jobs.values().map(|j| j.json.clone()).collect())
            .unwrap_or_default()
    };
    let set = format!("servicePrincipals('{sp_id}')/synchronization/jobs");
    Ok(json_response(
        StatusCode::OK,
        query.page(jobs, page_size(&state), &state.base_url, uri.path(), &set),
    ))
}

async fn get_job(
    State(state): State<Arc<AppState>>,
    Path((sp_id, job_id)): Path<(String, String)>,
    uri: Uri,
) -> GraphResult {
    let query = Query::parse(
        uri.query(),
        &state.model,
        "microsoft.graph.synchronizationJob",
    )?;
    let job = with_job(&state, &sp_id, &job_id, |job| job.json.clone())?;
    let mut body = query.project(&job);
    body["@odata.context"] = Value::String(context(&state, &sp_id, "jobs/$entity"));
    Ok(json_response(StatusCode::OK, body))
}

async fn get_job_schema(
    State(state): State<Arc<AppState>>,
    Path((sp_id, job_id)): Path<(String, String)>,
) -> GraphResult {
    let mut schema = with_job(&state, &sp_id, &job_id, |job| job.schema.clone())?;
    schema["@odata.context"] = Value::String(context(
        &state,
        &sp_id,
        &format!("jobs('{job_id}')/schema/$entity"),
    ));
    Ok(json_response(StatusCode::OK, schema))
}

/// "Update synchronizationSchema": `PUT …/jobs/{id}/schema` replaces the job's schema (CSDL-checked as a
/// synchronizationSchema); 204. The next run, scheduled or on demand, maps with it.
async fn put_job_schema(
    State(state): State<Arc<AppState>>,
    Path((sp_id, job_id)): Path<(String, String)>,
    bytes: Bytes,
) -> GraphResult {
    let mut body = body_object(&bytes)?;
    body.remove("@odata.context");
    check_entity_body(&state, "microsoft.graph.synchronizationSchema", &body)?;
    if body
        .get("synchronizationRules")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        return Err(GraphError::bad_request(
            "The schema must have at least one synchronization rule.",
        ));
    }
    let mut schema = Value::Object(body);
    with_job(&state, &sp_id, &job_id, |job| {
        schema["id"] = job.schema["id"].clone();
        job.schema = schema;
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_job(
    State(state): State<Arc<AppState>>,
    Path((sp_id, job_id)): Path<(String, String)>,
) -> GraphResult {
    with_job(&state, &sp_id, &job_id, |_| ())?;
    let removed = state
        .store()
        .synchronization
        .get_mut(&sp_id)
        .and_then(|s| s.jobs.remove(&job_id));
    if let Some(runner) = removed.and_then(|mut job| job.runner.take()) {
        runner.abort();
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn check_empty_action(state: &AppState, action: &str, bytes: &Bytes) -> GraphResult<()> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    check_action_body(
        state,
        action,
        "microsoft.graph.synchronizationJob",
        &body_object(bytes)?,
    )
}

/// Starts (or restarts) the background cycles of a job.
fn spawn_runner(state: &Arc<AppState>, sp_id: &str, job_id: &str) {
    let (task_state, sp, job) = (state.clone(), sp_id.to_string(), job_id.to_string());
    let interval = state.config.provisioning_interval;
    let handle = tokio::spawn(async move {
        loop {
            let began = now();
            let result = engine::run(&task_state, &sp, &job, None).await;
            let keep_going = record_run(&task_state, &sp, &job, began, &result, true);
            if !keep_going {
                break;
            }
            tokio::time::sleep(interval).await;
        }
    });
    let _ = with_job(state, sp_id, job_id, |job| {
        if let Some(previous) = job.runner.replace(handle) {
            previous.abort();
        }
    });
}

async fn start_job(
    State(state): State<Arc<AppState>>,
    Path((sp_id, job_id)): Path<(String, String)>,
    bytes: Bytes,
) -> GraphResult {
    check_empty_action(&state, "start", &bytes)?;
    with_job(&state, &sp_id, &job_id, |job| {
        job.json["schedule"]["state"] = json!("Active");
        job.json["status"]["code"] = json!("Active");
        // Starting a quarantined job clears the quarantine.
        job.json["status"]["quarantine"] = Value::Null;
    })?;
    spawn_runner(&state, &sp_id, &job_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn pause_job(
    State(state): State<Arc<AppState>>,
    Path((sp_id, job_id)): Path<(String, String)>,
    bytes: Bytes,
) -> GraphResult {
    check_empty_action(&state, "pause", &bytes)?;
    with_job(&state, &sp_id, &job_id, |job| {
        if let Some(runner) = job.runner.take() {
            runner.abort();
        }
        job.json["schedule"]["state"] = json!("Paused");
        job.json["status"]["code"] = json!("Paused");
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn restart_job(
    State(state): State<Arc<AppState>>,
    Path((sp_id, job_id)): Path<(String, String)>,
    bytes: Bytes,
) -> GraphResult {
    check_empty_action(&state, "restart", &bytes)?;
    let scope = if bytes.is_empty() {
        String::new()
    } else {
        body_object(&bytes)?
            .get("criteria")
            .and_then(|c| c["resetScope"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    with_job(&state, &sp_id, &job_id, |job| {
        // "Full" (or no criteria) forgets what was exported, so the next cycle matches everything again.
        if scope.is_empty()
            || scope.contains("Full")
            || scope.contains("Escrows")
            || scope.contains("Watermark")
        {
            job.escrow = Default::default();
        }
        job.json["status"]["quarantine"] = Value::Null;
        job.json["status"]["countSuccessiveCompleteFailures"] = json!(0);
        job.json["schedule"]["state"] = json!("Active");
        job.json["status"]["code"] = json!("Active");
    })?;
    spawn_runner(&state, &sp_id, &job_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn execution(began: &str, results: &[EntryResult], error: Option<Value>) -> Value {
    let exported = results
        .iter()
        .filter(|r| {
            matches!(
                r.outcome,
                Outcome::Created | Outcome::Updated | Outcome::Deleted
            )
        })
        .count();
    let failed = results
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Failed(_)));
    let state = match (&error, failed) {
        (Some(_), _) => "Failed",
        (None, true) => "EntryLevelErrors",
        (None, false) => "Succeeded",
    };
    json!({
        "activityIdentifier": uuid::Uuid::new_v4().to_string(),
        "countEntitled": results.len(), "countEntitledForProvisioning": results.len(),
        "countEscrowed": results.iter().filter(|r| matches!(r.outcome, Outcome::Failed(_))).count(),
        "countEscrowedRaw": 0, "countExported": exported, "countExports": exported,
        "countImported": results.len(), "countImportedDeltas": 0, "countImportedReferenceDeltas": 0,
        "error": error, "state": state, "timeBegan": began, "timeEnded": now()
    })
}

/// Writes a run's outcome into the job status. Returns whether scheduled cycles should continue.
fn record_run(
    state: &AppState,
    sp_id: &str,
    job_id: &str,
    began: String,
    result: &Result<Vec<EntryResult>, RunFailure>,
    scheduled: bool,
) -> bool {
    with_job(state, sp_id, job_id, |job| {
        let status = &mut job.json["status"];
        match result {
            Ok(results) => {
                let run = execution(&began, results, None);
                let clean = run["state"] == "Succeeded";
                if clean {
                    status["lastSuccessfulExecution"] = run.clone();
                    if run["countExported"].as_u64().unwrap_or(0) > 0 {
                        status["lastSuccessfulExecutionWithExports"] = run.clone();
                    }
                    if status["steadyStateFirstAchievedTime"] == NEVER {
                        status["steadyStateFirstAchievedTime"] = json!(began);
                    }
                    status["steadyStateLastAchievedTime"] = json!(began);
                }
                status["lastExecution"] = run;
                status["countSuccessiveCompleteFailures"] = json!(0);
                let users = job.escrow.users.len();
                let groups = job.escrow.groups.len();
                status["synchronizedEntryCountByType"] = json!([
                    {"key": "group to Group", "value": groups}, {"key": "user to User", "value": users}
                ]);
                scheduled && status["code"] == "Active"
            }
            Err(RunFailure::Unauthorized(details)) => {
                let error = json!({
                    "code": "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable",
                    "message": format!("The SCIM endpoint rejected the saved credentials (HTTP 401/403); provisioning is quarantined until the secret token is updated and the job restarted. Details: {details}"),
                    "tenantActionable": true
                });
                let since = status["quarantine"]["seriesBegan"].as_str().map(str::to_string).unwrap_or_else(|| began.clone());
                let count = status["quarantine"]["seriesCount"].as_i64().unwrap_or(0) + 1;
                status["lastExecution"] = execution(&began, &[], Some(error.clone()));
                status["quarantine"] = json!({
                    "currentBegan": began, "error": error, "nextAttempt": super::state::format_time(time::OffsetDateTime::now_utc() + time::Duration::hours(6)),
                    "reason": "EncounteredQuarantineException", "seriesBegan": since, "seriesCount": count
                });
                status["code"] = json!("Quarantine");
                let failures = status["countSuccessiveCompleteFailures"].as_i64().unwrap_or(0) + 1;
                status["countSuccessiveCompleteFailures"] = json!(failures);
                false
            }
            Err(RunFailure::Unavailable(details)) => {
                let error = json!({"code": "SystemForCrossDomainIdentityManagementServiceUnavailable", "message": details, "tenantActionable": true});
                status["lastExecution"] = execution(&began, &[], Some(error));
                let failures = status["countSuccessiveCompleteFailures"].as_i64().unwrap_or(0) + 1;
                status["countSuccessiveCompleteFailures"] = json!(failures);
                scheduled && status["code"] == "Active"
            }
        }
    })
    .unwrap_or(false)
}

fn saved_target(state: &AppState, sp_id: &str) -> Option<ScimTarget> {
    ScimTarget::from_secrets(&state.store().synchronization.get(sp_id)?.secrets)
}

async fn validate_credentials(
    State(state): State<Arc<AppState>>,
    Path((sp_id, job_id)): Path<(String, String)>,
    bytes: Bytes,
) -> GraphResult {
    let body = if bytes.is_empty() {
        Default::default()
    } else {
        body_object(&bytes)?
    };
    check_action_body(
        &state,
        "validateCredentials",
        "microsoft.graph.synchronizationJob",
        &body,
    )?;
    with_job(&state, &sp_id, &job_id, |_| ())?;
    let use_saved = body
        .get("useSavedCredentials")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let target = if use_saved {
        saved_target(&state, &sp_id)
    } else {
        let credentials = body
            .get("credentials")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let get = |key: &str| {
            credentials
                .iter()
                .find(|c| c["key"] == key)
                .and_then(|c| c["value"].as_str())
                .map(str::to_string)
        };
        get("BaseAddress")
            .zip(get("SecretToken"))
            .map(|(base_address, token)| ScimTarget {
                base_address,
                token,
            })
    };
    let Some(target) = target else {
        return Err(GraphError::bad_request(
            "Credentials are missing: BaseAddress and SecretToken are required.",
        ));
    };
    match engine::validate(&state.http, &target).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(details) => Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "CredentialValidationUnavailable",
            format!(
                "You appear to have entered invalid credentials. Please confirm you are using the correct information for an administrative account. Error code: SystemForCrossDomainIdentityManagementCredentialValidationUnavailable Details: We received this unexpected response from your application: {details}"
            ),
        )),
    }
}

async fn provision_on_demand(
    State(state): State<Arc<AppState>>,
    Path((sp_id, job_id)): Path<(String, String)>,
    bytes: Bytes,
) -> GraphResult {
    let body = body_object(&bytes)?;
    check_action_body(
        &state,
        "provisionOnDemand",
        "microsoft.graph.synchronizationJob",
        &body,
    )?;
    let parameters = body
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(first) = parameters.first() else {
        return Err(GraphError::bad_request(
            "The 'parameters' collection must contain one entry with a ruleId and subjects.",
        ));
    };
    let rule_id = first["ruleId"].as_str().unwrap_or_default().to_string();
    let text = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_string();
    let subjects: Vec<Subject> = first["subjects"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| Subject {
            object_id: text(s, "objectId"),
            object_type: text(s, "objectTypeName"),
            members: s["links"]["members"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| text(m, "objectId"))
                .collect(),
        })
        .collect();
    let rate_limited = with_job(&state, &sp_id, &job_id, |job| {
        let rule_known = job.schema["synchronizationRules"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["id"] == rule_id.as_str());
        let now = Instant::now();
        job.on_demand_calls
            .retain(|t| now.duration_since(*t) < ON_DEMAND_WINDOW);
        let limited = job.on_demand_calls.len() >= ON_DEMAND_LIMIT;
        if !limited && rule_known {
            job.on_demand_calls.push_back(now);
        }
        (rule_known, limited)
    })?;
    match rate_limited {
        (false, _) => {
            return Err(GraphError::bad_request(format!(
                "The synchronization rule '{rule_id}' does not exist in the job's schema."
            )));
        }
        (true, true) => {
            let mut error = GraphError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Provision on demand allows 5 requests per 10 seconds per application.",
            );
            error.retry_after = Some("10".into());
            return Err(error);
        }
        (true, false) => {}
    }
    if subjects.is_empty() || subjects.iter().any(|s| s.object_id.is_empty()) {
        return Err(GraphError::bad_request(
            "Each subject needs an objectId and objectTypeName.",
        ));
    }
    // Graph "synchronizationJob: provisionOnDemand" (synchronizationLinkedObjects): a group subject names the
    // members to provision with it in `links.members`, at most five per request.
    if let Some(crowded) = subjects
        .iter()
        .find(|s| s.members.len() > ON_DEMAND_MEMBERS_LIMIT)
    {
        return Err(GraphError::bad_request(format!(
            "Provision on demand accepts at most {ON_DEMAND_MEMBERS_LIMIT} members per group; the subject '{}' links {}.",
            crowded.object_id,
            crowded.members.len()
        )));
    }
    let began = now();
    let result = engine::run(&state, &sp_id, &job_id, Some(&subjects)).await;
    record_run(&state, &sp_id, &job_id, began.clone(), &result, false);
    let (key, value) = on_demand_answer(&subjects[0], &began, &result);
    Ok(json_response(
        StatusCode::OK,
        json!({
            "@odata.context": format!("{}/v1.0/$metadata#microsoft.graph.stringKeyStringValuePair", state.base_url),
            "key": key.to_string(),
            "value": value.to_string()
        }),
    ))
}

/// What one on-demand run answers, in the shape of Graph's "synchronizationJob: provisionOnDemand" examples:
/// `key` is a JSON string summarising the result (`{"result": "Success"|"Skipped"|"Failure", "details": {...}}`)
/// and `value` a JSON string with the report on the (first) subject: `provisioningSteps`, `statusInfo.status`
/// (capitalised, as the examples show), `sourceIdentity`/`targetIdentity` with `id` and `type`, and the
/// source and target systems. Linked group members get an export step each.
fn on_demand_answer(
    subject: &Subject,
    began: &str,
    result: &Result<Vec<EntryResult>, RunFailure>,
) -> (Value, Value) {
    let timestamp = now();
    let step = |name: &str, kind: &str, status: &str, description: String, details: Value| {
        json!({"name": name, "type": kind, "status": status, "description": description, "timestamp": timestamp,
               "details": details})
    };
    let kind = subject.object_type.as_str();
    let import = step(
        "EntryImport",
        "Import",
        "Success",
        format!(
            "Retrieved {kind} '{}' from Azure Active Directory",
            subject.object_id
        ),
        json!({"objectId": subject.object_id}),
    );
    let export_step = |r: &EntryResult| -> (Value, &'static str, &'static str) {
        let target = |what: &str| {
            format!(
                "{} '{}' was {what} in customappsso",
                r.object_type, r.display_name
            )
        };
        let details =
            json!({"objectId": r.object_id, "targetId": r.target_id.clone().unwrap_or_default()});
        match &r.outcome {
            Outcome::Created => (
                step(
                    "EntryExportAdd",
                    "Export",
                    "Success",
                    target("created"),
                    details,
                ),
                "Success",
                "Create",
            ),
            Outcome::Updated | Outcome::Deleted => (
                step(
                    "EntryExportUpdate",
                    "Export",
                    "Success",
                    target("updated"),
                    details,
                ),
                "Success",
                "Update",
            ),
            Outcome::Unchanged => (
                step(
                    "EntrySynchronizationSkip",
                    "Export",
                    "Skipped",
                    format!(
                        "The state of the {} in both the source and target systems already match.",
                        r.object_type
                    ),
                    json!({"SkipReason": "RedundantExport"}),
                ),
                "Skipped",
                "Other",
            ),
            Outcome::Skipped(reason) => (
                step(
                    "EntrySynchronizationScoping",
                    "Scoping",
                    "Skipped",
                    reason.clone(),
                    json!({"objectId": r.object_id}),
                ),
                "Skipped",
                "Other",
            ),
            Outcome::Failed(reason) => (
                step("EntryExport", "Export", "Failure", reason.clone(), details),
                "Failure",
                "Other",
            ),
        }
    };
    let (steps, status, action, error, target_id) = match result {
        Err(RunFailure::Unauthorized(details) | RunFailure::Unavailable(details)) => {
            let code = if matches!(result, Err(RunFailure::Unauthorized(_))) {
                "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable"
            } else {
                "SystemForCrossDomainIdentityManagementServiceUnavailable"
            };
            let export = step(
                "EntryExport",
                "Export",
                "Failure",
                format!("Failed to export {kind}"),
                json!({"ErrorDetails": details}),
            );
            (
                vec![import, export],
                "Failure",
                "Other",
                Some((code, details.clone())),
                None,
            )
        }
        Ok(results) => {
            let own = results
                .iter()
                .rev()
                .find(|r| r.object_id == subject.object_id);
            let mut steps = vec![import];
            let (status, action, error, target_id) = match own {
                Some(own) => {
                    let (export, status, action) = export_step(own);
                    let error = match &own.outcome {
                        Outcome::Failed(reason) => Some(("EntryExportFailed", reason.clone())),
                        Outcome::Skipped(reason) => {
                            Some(("NotEffectivelyEntitled", reason.clone()))
                        }
                        _ => None,
                    };
                    steps.push(export);
                    (status, action, error, own.target_id.clone())
                }
                None => (
                    "Failure",
                    "Other",
                    Some(("EntryImportFailed", "The object was not found".to_string())),
                    None,
                ),
            };
            steps.extend(
                results
                    .iter()
                    .filter(|r| r.object_id != subject.object_id)
                    .map(|r| export_step(r).0),
            );
            (steps, status, action, error, target_id)
        }
    };
    let key_details = match &error {
        Some((code, message)) => json!({"errorCode": code, "errorMessage": message}),
        None => json!({}),
    };
    let key = json!({"result": status, "details": key_details});
    let target_type = if kind.eq_ignore_ascii_case("group") {
        "urn:ietf:params:scim:schemas:core:2.0:Group"
    } else {
        "urn:ietf:params:scim:schemas:core:2.0:User"
    };
    let value = json!({
        "action": action,
        "changeId": uuid::Uuid::new_v4().to_string(),
        "startTime": began,
        "endTime": now(),
        "modifiedProperties": [],
        "provisioningSteps": steps,
        "reportableIdentifier": subject.object_id,
        "statusInfo": {"status": status, "errorCode": error.as_ref().map(|(code, _)| *code),
                       "reason": error.as_ref().map(|(_, message)| message.clone()), "additionalDetails": null,
                       "errorCategory": null, "recommendedAction": null},
        "sourceIdentity": {"id": subject.object_id, "type": kind, "displayName": null, "details": null},
        "sourceSystem": {"id": null, "name": "Azure Active Directory", "details": null},
        "targetIdentity": {"id": target_id, "type": target_type, "displayName": null, "details": null},
        "targetSystem": {"id": null, "name": "customappsso", "details": null}
    });
    (key, value)
}

async fn put_secrets(
    State(state): State<Arc<AppState>>,
    Path(sp_id): Path<String>,
    bytes: Bytes,
) -> GraphResult {
    let body = body_object(&bytes)?;
    if let Some(key) = body.keys().find(|k| *k != "value") {
        return Err(GraphError::bad_request(format!(
            "Property '{key}' does not exist on the secrets collection; send {{\"value\": [...]}}."
        )));
    }
    let probe = json!({"secrets": body.get("value").cloned().unwrap_or(Value::Null)});
    check_entity_body(
        &state,
        "microsoft.graph.synchronization",
        probe.as_object().unwrap_or(&Default::default()),
    )?;
    let pairs: Vec<(String, String)> = body
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p["key"].as_str()?.to_string(),
                p["value"].as_str().unwrap_or_default().to_string(),
            ))
        })
        .collect();
    service_principal(&state, &sp_id)?;
    let configured = ScimTarget::from_secrets(&pairs).is_some();
    let mut store = state.store();
    let sync = store.synchronization.entry(sp_id).or_default();
    sync.secrets = pairs;
    for job in sync.jobs.values_mut() {
        let code = &mut job.json["status"]["code"];
        match (configured, code.as_str()) {
            (true, Some("NotConfigured")) => *code = json!("NotRun"),
            (false, Some("NotRun")) => *code = json!("NotConfigured"),
            _ => {}
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_secrets(State(state): State<Arc<AppState>>, Path(sp_id): Path<String>) -> GraphResult {
    service_principal(&state, &sp_id)?;
    let secrets: Vec<Value> = state
        .store()
        .synchronization
        .get(&sp_id)
        .map(|s| {
            s.secrets
                .iter()
                .map(|(k, v)| json!({"key": k, "value": if k == "BaseAddress" { v.clone() } else { "*".repeat(8) }}))
                .collect()
        })
        .unwrap_or_default();
    Ok(json_response(
        StatusCode::OK,
        json!({"@odata.context": context(&state, &sp_id, "secrets"), "value": secrets}),
    ))
}

pub fn routes() -> Router<Arc<AppState>> {
    let base = "/v1.0/servicePrincipals/{id}/synchronization";
    Router::new()
        .route(&format!("{base}/templates"), get(list_templates))
        .route(
            &format!("{base}/templates/{{template}}/schema"),
            get(get_template_schema),
        )
        .route(
            &format!("{base}/secrets"),
            put(put_secrets).get(get_secrets),
        )
        .route(&format!("{base}/jobs"), get(list_jobs).post(create_job))
        .route(
            &format!("{base}/jobs/{{job}}"),
            get(get_job).delete(delete_job),
        )
        .route(
            &format!("{base}/jobs/{{job}}/schema"),
            get(get_job_schema).put(put_job_schema),
        )
        .route(&format!("{base}/jobs/{{job}}/start"), post(start_job))
        .route(&format!("{base}/jobs/{{job}}/pause"), post(pause_job))
        .route(&format!("{base}/jobs/{{job}}/restart"), post(restart_job))
        .route(
            &format!("{base}/jobs/{{job}}/validateCredentials"),
            post(validate_credentials),
        )
        .route(
            &format!("{base}/jobs/{{job}}/provisionOnDemand"),
            post(provision_on_demand),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_schema_has_one_rule_with_group_and_user_mappings() {
        let schema = aws_schema("job");
        let rules = schema["synchronizationRules"].as_array().unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0]["id"], AWS_RULE_ID);
        let sources: Vec<&str> = rules[0]["objectMappings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["sourceObjectName"].as_str().unwrap())
            .collect();
        assert_eq!(sources, ["Group", "User"]);
    }

    #[test]
    fn executions_report_entry_level_errors() {
        let failed = EntryResult {
            object_id: "a".into(),
            object_type: "User",
            display_name: "a".into(),
            target_id: None,
            outcome: Outcome::Failed("x".into()),
        };
        assert_eq!(
            execution(&now(), &[failed], None)["state"],
            "EntryLevelErrors"
        );
        assert_eq!(execution(&now(), &[], None)["state"], "Succeeded");
        assert_eq!(execution(&now(), &[], Some(json!({})))["state"], "Failed");
    }
}
