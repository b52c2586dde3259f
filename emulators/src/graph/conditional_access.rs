//! `/identity/conditionalAccess/policies`: Conditional Access policies (microsoft.graph.conditionalAccessPolicy).
//! Bodies are checked against the CSDL (properties, types, enum members such as `state`, `builtInControls`,
//! `clientAppTypes`); the rules the CSDL cannot state come from Microsoft's reference pages, named at each rule.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::directory::{body_object, check_entity_body, json_response, merge_patch};
use super::error::{GraphError, GraphResult};
use super::state::{AppState, new_id, now};

const TYPE_NAME: &str = "microsoft.graph.conditionalAccessPolicy";
const BASE: &str = "/v1.0/identity/conditionalAccess/policies";

fn context(state: &AppState, tail: &str) -> Value {
    Value::String(format!(
        "{}/v1.0/$metadata#identity/conditionalAccess/policies{tail}",
        state.base_url
    ))
}

/// "Create conditionalAccessPolicy" and the conditionalAccessConditionSet page: `displayName`, `state` and
/// `conditions` are required; within the conditions `applications` and `clientAppTypes` are required, and
/// either `users` or `clientApplications`.
fn check_required(policy: &Map<String, Value>) -> GraphResult<()> {
    let missing =
        |object: &Map<String, Value>, name: &str| object.get(name).is_none_or(Value::is_null);
    for name in ["displayName", "state", "conditions"] {
        if missing(policy, name) {
            return Err(GraphError::bad_request(format!(
                "1054: Policy is missing the required property '{name}'."
            )));
        }
    }
    let conditions = policy["conditions"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for name in ["applications", "clientAppTypes"] {
        if missing(&conditions, name) {
            return Err(GraphError::bad_request(format!(
                "1054: Policy conditions are missing the required property '{name}'."
            )));
        }
    }
    if missing(&conditions, "users") && missing(&conditions, "clientApplications") {
        return Err(GraphError::bad_request(
            "1054: Policy conditions need 'users' or 'clientApplications'.",
        ));
    }
    if conditions["clientAppTypes"]
        .as_array()
        .is_some_and(Vec::is_empty)
    {
        return Err(GraphError::bad_request(
            "1054: Policy conditions need at least one client app type.",
        ));
    }
    // conditionalAccessGrantControls: "operator … Possible values: AND, OR."
    if let Some(operator) = policy
        .get("grantControls")
        .and_then(|g| g.get("operator"))
        .filter(|o| !o.is_null())
        && !matches!(operator.as_str(), Some("AND" | "OR"))
    {
        return Err(GraphError::bad_request(format!(
            "1054: Invalid grant controls operator {operator}; use AND or OR."
        )));
    }
    Ok(())
}

/// The collections Graph always returns as arrays (the CSDL's non-nullable collections), filled in when absent.
fn with_defaults(mut policy: Map<String, Value>) -> Map<String, Value> {
    let conditions = policy.entry("conditions").or_insert_with(|| json!({}));
    for name in [
        "clientAppTypes",
        "servicePrincipalRiskLevels",
        "signInRiskLevels",
        "userRiskLevels",
    ] {
        if conditions.get(name).is_none_or(Value::is_null) {
            conditions[name] = json!([]);
        }
    }
    for (complex, members) in [
        (
            "applications",
            &[
                "excludeApplications",
                "includeApplications",
                "includeAuthenticationContextClassReferences",
                "includeUserActions",
            ][..],
        ),
        (
            "users",
            &[
                "excludeGroups",
                "excludeRoles",
                "excludeUsers",
                "includeGroups",
                "includeRoles",
                "includeUsers",
            ][..],
        ),
        ("locations", &["excludeLocations", "includeLocations"][..]),
    ] {
        if let Some(object) = conditions.get_mut(complex).and_then(Value::as_object_mut) {
            for member in members {
                object.entry(*member).or_insert_with(|| json!([]));
            }
        }
    }
    if let Some(grant) = policy
        .get_mut("grantControls")
        .and_then(Value::as_object_mut)
    {
        for member in [
            "builtInControls",
            "customAuthenticationFactors",
            "termsOfUse",
        ] {
            grant.entry(member).or_insert_with(|| json!([]));
        }
    }
    policy
}

async fn list(State(state): State<Arc<AppState>>, _uri: Uri) -> GraphResult {
    let policies: Vec<Value> = state
        .store()
        .conditional_access_policies
        .values()
        .cloned()
        .collect();
    Ok(json_response(
        StatusCode::OK,
        json!({"@odata.context": context(&state, ""), "value": policies}),
    ))
}

async fn create(State(state): State<Arc<AppState>>, bytes: Bytes) -> GraphResult {
    let body = body_object(&bytes)?;
    check_entity_body(&state, TYPE_NAME, &body)?;
    check_required(&body)?;
    let mut policy = with_defaults(body);
    let id = new_id();
    let created = now();
    policy.insert("id".into(), json!(id));
    policy.insert("createdDateTime".into(), json!(created));
    policy.insert("modifiedDateTime".into(), Value::Null);
    policy.entry("description").or_insert(Value::Null);
    policy.entry("templateId").or_insert(Value::Null);
    policy.entry("sessionControls").or_insert(Value::Null);
    policy.entry("grantControls").or_insert(Value::Null);
    let policy = Value::Object(policy);
    state
        .store()
        .conditional_access_policies
        .insert(id, policy.clone());
    let mut answer = policy;
    answer["@odata.context"] = context(&state, "/$entity");
    Ok(json_response(StatusCode::CREATED, answer))
}

fn not_found(id: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("1037: The policy {id} cannot be found."),
    )
}

async fn read(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> GraphResult {
    let mut policy = state
        .store()
        .conditional_access_policies
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(&id))?;
    policy["@odata.context"] = context(&state, "/$entity");
    Ok(json_response(StatusCode::OK, policy))
}

async fn patch(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> GraphResult {
    let body = body_object(&bytes)?;
    check_entity_body(&state, TYPE_NAME, &body)?;
    let mut store = state.store();
    let current = store
        .conditional_access_policies
        .get(&id)
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| not_found(&id))?;
    let mut updated = current;
    merge_patch(&mut updated, body);
    check_required(&updated)?;
    let mut updated = with_defaults(updated);
    updated.insert("modifiedDateTime".into(), json!(now()));
    store
        .conditional_access_policies
        .insert(id, Value::Object(updated));
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> GraphResult {
    state
        .store()
        .conditional_access_policies
        .remove(&id)
        .map(|_| StatusCode::NO_CONTENT.into_response())
        .ok_or_else(|| not_found(&id))
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route(BASE, get(list).post(create)).route(
        &format!("{BASE}/{{id}}"),
        get(read).patch(patch).delete(delete),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn conditions_need_applications_client_app_types_and_users() {
        let complete = json!({"displayName": "p", "state": "disabled", "conditions": {
            "applications": {"includeApplications": ["a"]}, "users": {"includeUsers": ["All"]},
            "clientAppTypes": ["all"]}});
        assert!(check_required(&policy(complete.clone())).is_ok());
        for pointer in [
            "/conditions/applications",
            "/conditions/clientAppTypes",
            "/conditions/users",
            "/state",
        ] {
            let mut incomplete = complete.clone();
            let (parent, name) = pointer.rsplit_once('/').unwrap();
            incomplete
                .pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .unwrap()
                .remove(name);
            assert!(check_required(&policy(incomplete)).is_err(), "{pointer}");
        }
        let mut bad_operator = complete;
        bad_operator["grantControls"] = json!({"operator": "XOR", "builtInControls": ["mfa"]});
        assert!(check_required(&policy(bad_operator)).is_err());
    }
}
