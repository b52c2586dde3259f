//! Directory endpoints: application templates, applications, service principals, groups, users, claims-mapping
//! policies, app role assignments, signing certificates, and the `$ref` collections (members, owners, policies).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::certs;
use super::error::{GraphError, GraphResult};
use super::objects;
use super::odata::Query;
use super::state::{AppState, Kind, Store, format_time, new_id, now};

pub fn json_response(status: StatusCode, body: Value) -> Response {
    (status, [("content-type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")], body.to_string())
        .into_response()
}

/// An entity answer with its `@odata.context` (`{base}/v1.0/$metadata#{context}`).
fn entity_response(
    state: &AppState,
    status: StatusCode,
    mut body: Value,
    context: &str,
) -> Response {
    body["@odata.context"] = Value::String(format!("{}/v1.0/$metadata#{context}", state.base_url));
    json_response(status, body)
}

/// Parses a request body as a JSON object.
pub fn body_object(bytes: &Bytes) -> GraphResult<Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(GraphError::invalid_json()),
    }
}

/// Rejects properties the CSDL does not declare on `type_name`, or values of the wrong JSON kind.
pub fn check_entity_body(
    state: &AppState,
    type_name: &str,
    body: &Map<String, Value>,
) -> GraphResult<()> {
    let value = Value::Object(body.clone());
    match state
        .model
        .check_object(type_name, &value)
        .into_iter()
        .next()
    {
        None => Ok(()),
        Some(problem) => Err(GraphError::bad_request(problem.graph_message())),
    }
}

/// Rejects parameters the CSDL does not declare for the bound action, or values of the wrong kind.
pub fn check_action_body(
    state: &AppState,
    action: &str,
    binding_type: &str,
    body: &Map<String, Value>,
) -> GraphResult<()> {
    let params = state
        .model
        .action_parameters(action, binding_type)
        .unwrap_or_default();
    for (key, value) in body {
        let Some((_, declared)) = params.iter().find(|(name, _)| name == key) else {
            return Err(GraphError::bad_request(format!(
                "The parameter '{key}' in the request payload is not a valid parameter for the operation '{action}'."
            )));
        };
        if let Some(problem) = state
            .model
            .check_value_of(key, declared, value)
            .into_iter()
            .next()
        {
            return Err(GraphError::bad_request(problem.graph_message()));
        }
    }
    Ok(())
}

/// Page size in force: the admin override, else the configured one.
pub fn page_size(state: &AppState) -> usize {
    state.admin().page_size.unwrap_or(state.config.page_size)
}

/// Hides key material the way Graph does: `key` is only returned when `keyCredentials` is `$select`ed on a
/// single object.
fn present(object: &Value, reveal_keys: bool) -> Value {
    let mut object = object.clone();
    if !reveal_keys
        && let Some(keys) = object
            .get_mut("keyCredentials")
            .and_then(Value::as_array_mut)
    {
        for key in keys {
            key["key"] = Value::Null;
        }
    }
    object
}

fn list_of(
    state: &AppState,
    kind: Kind,
    uri: &Uri,
    items: Vec<Value>,
    set_path: &str,
) -> GraphResult {
    let query = Query::parse(uri.query(), &state.model, kind.type_name())?;
    let items = items.iter().map(|o| present(o, false)).collect();
    Ok(json_response(
        StatusCode::OK,
        query.page(
            items,
            page_size(state),
            &state.base_url,
            uri.path(),
            set_path,
        ),
    ))
}

async fn list(state: Arc<AppState>, kind: Kind, uri: Uri) -> GraphResult {
    let items = {
        let mut store = state.store();
        let ids: Vec<String> = store.collection(kind).keys().cloned().collect();
        // Lists show what reads show: no objects still replicating, previous versions of fresh PATCHes.
        ids.iter()
            .filter_map(|id| store.visible(kind, id))
            .collect()
    };
    list_of(&state, kind, &uri, items, kind.set_path())
}

async fn read(state: Arc<AppState>, kind: Kind, id: String, uri: Uri) -> GraphResult {
    let query = Query::parse(uri.query(), &state.model, kind.type_name())?;
    let object = state.store().read(kind, &id)?;
    let reveal = query
        .select
        .as_ref()
        .is_some_and(|s| s.iter().any(|p| p == "keyCredentials"));
    let mut body = query.project(&present(&object, reveal));
    body["@odata.context"] = Value::String(query.context(&state.base_url, kind.set_path(), true));
    Ok(json_response(StatusCode::OK, body))
}

const READ_ONLY: [&str; 6] = [
    "id",
    "appId",
    "createdDateTime",
    "deletedDateTime",
    "applicationTemplateId",
    "publisherDomain",
];

fn is_absolute_uri(value: &str) -> bool {
    url::Url::parse(value).is_ok_and(|u| u.has_host() || u.scheme() == "urn" || u.scheme() == "api")
}

fn validate_patch(
    store: &Store,
    kind: Kind,
    id: &str,
    current: &Value,
    patch: &Map<String, Value>,
) -> GraphResult<()> {
    let resource = match kind {
        Kind::Application => "Application",
        Kind::ServicePrincipal => "ServicePrincipal",
        Kind::Group => "Group",
        Kind::User => "User",
        Kind::ClaimsMappingPolicy => "Policy",
        Kind::AppRoleAssignment => "AppRoleAssignment",
    };
    let invalid = |prop: &str| {
        GraphError::bad_request(format!(
            "Invalid value specified for property '{prop}' of resource '{resource}'."
        ))
    };
    if let Some(prop) = READ_ONLY
        .iter()
        .find(|p| patch.contains_key(**p) && current.get(**p) != patch.get(**p))
    {
        return Err(GraphError::bad_request(format!(
            "Property '{prop}' is read-only and cannot be set."
        )));
    }
    if let Some(uris) = patch.get("identifierUris").and_then(Value::as_array) {
        for uri in uris {
            let text = uri.as_str().unwrap_or_default();
            if !is_absolute_uri(text) {
                return Err(invalid("identifierUris"));
            }
            let taken = store
                .collection(Kind::Application)
                .iter()
                .any(|(other, app)| {
                    other != id
                        && app["identifierUris"]
                            .as_array()
                            .is_some_and(|u| u.iter().any(|x| x.as_str() == Some(text)))
                });
            if taken {
                return Err(GraphError::bad_request(
                    "Another object with the same value for property identifierUris already exists.",
                ));
            }
        }
    }
    if let Some(uris) = patch
        .get("web")
        .and_then(|w| w.get("redirectUris"))
        .and_then(Value::as_array)
    {
        let acceptable = |u: &str| u.starts_with("https://") || u.starts_with("http://localhost");
        if uris.iter().any(|u| {
            !u.as_str()
                .is_some_and(|u| acceptable(u) && is_absolute_uri(&u.replace('*', "w")))
        }) {
            return Err(invalid("web.redirectUris"));
        }
    }
    for url_prop in ["loginUrl", "logoutUrl", "homepage"] {
        if let Some(text) = patch.get(url_prop).and_then(Value::as_str)
            && !is_absolute_uri(text)
        {
            return Err(invalid(url_prop));
        }
    }
    if let Some(mode) = patch.get("preferredSingleSignOnMode")
        && !(mode.is_null()
            || ["password", "saml", "notSupported", "oidc"]
                .contains(&mode.as_str().unwrap_or_default()))
    {
        return Err(invalid("preferredSingleSignOnMode"));
    }
    if let Some(thumbprint) = patch
        .get("preferredTokenSigningKeyThumbprint")
        .and_then(Value::as_str)
    {
        let keys = patch
            .get("keyCredentials")
            .unwrap_or(&current["keyCredentials"]);
        let known = keys
            .as_array()
            .into_iter()
            .flatten()
            .any(|k| key_thumbprint(k).is_some_and(|t| t.eq_ignore_ascii_case(thumbprint)));
        if !known {
            return Err(GraphError::bad_request(format!(
                "The value '{thumbprint}' of preferredTokenSigningKeyThumbprint does not match the thumbprint of any key credential on the service principal."
            )));
        }
    }
    if let Some(definition) = patch.get("definition").and_then(Value::as_array) {
        let parses = |d: &Value| {
            d.as_str()
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .is_some_and(|v| v.get("ClaimsMappingPolicy").is_some())
        };
        if !definition.iter().all(parses) {
            return Err(invalid("definition"));
        }
    }
    Ok(())
}

/// The thumbprint a keyCredential stands for: its customKeyIdentifier bytes in upper-case hex.
pub fn key_thumbprint(key: &Value) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key.get("customKeyIdentifier")?.as_str()?)
        .ok()?;
    Some(bytes.iter().map(|b| format!("{b:02X}")).collect())
}

/// Applies a PATCH body the way OData 4.01 (Part 1 Protocol, 11.4.3 "Update an Entity") and therefore Graph
/// do: primitive and collection values replace the current ones, complex values are merged member by member
/// (members not given keep their values), recursively.
pub fn merge_patch(target: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (key, value) in patch {
        if key.starts_with("@odata") {
            continue;
        }
        match (target.get_mut(&key), value) {
            (Some(Value::Object(current)), Value::Object(members)) => merge_patch(current, members),
            (_, value) => {
                target.insert(key, value);
            }
        }
    }
}

async fn patch(state: Arc<AppState>, kind: Kind, id: String, bytes: Bytes) -> GraphResult {
    let body = body_object(&bytes)?;
    check_entity_body(&state, kind.type_name(), &body)?;
    let lag = state.write_lag();
    let mut store = state.store();
    store.read(kind, &id)?;
    let before = store
        .get(kind, &id)
        .cloned()
        .ok_or_else(|| GraphError::not_found(&id))?;
    validate_patch(&store, kind, &id, &before, &body)?;
    let object = store
        .collection_mut(kind)
        .get_mut(&id)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| GraphError::not_found(&id))?;
    merge_patch(object, body);
    let after = Value::Object(object.clone());
    // Read-counted lag is about creations only; a time-based lag also delays what a PATCH changed.
    if let Some(lag @ super::state::Lag::Until(_)) = lag {
        store.keep_stale(&id, before, lag);
    }
    // Keep the denormalised copies Graph keeps in step.
    if kind == Kind::Application {
        let app = after;
        let app_id = app["appId"].clone();
        for sp in store
            .collection_mut(Kind::ServicePrincipal)
            .values_mut()
            .filter(|sp| sp["appId"] == app_id)
        {
            sp["appDisplayName"] = app["displayName"].clone();
            if let Some(uris) = app["web"].get("redirectUris") {
                sp["replyUrls"] = uris.clone();
            }
            sp["appRoles"] = app["appRoles"].clone();
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete(state: Arc<AppState>, kind: Kind, id: String) -> GraphResult {
    let mut store = state.store();
    store.read(kind, &id)?;
    if matches!(kind, Kind::Application | Kind::ServicePrincipal) {
        soft_delete(&mut store, kind, &id);
    } else {
        store.collection_mut(kind).remove(&id);
        purge(&mut store, &[id]);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The service principals of an application (same `appId`) among `objects`.
fn principals_of<'a>(
    objects: impl Iterator<Item = (&'a String, &'a Value)>,
    app_id: &'a Value,
) -> Vec<String> {
    objects
        .filter(|(_, sp)| sp["appId"] == *app_id)
        .map(|(id, _)| id.clone())
        .collect()
}

/// Applications and service principals go to `directory/deletedItems` for 30 days (Graph "Delete application",
/// "Delete servicePrincipal", "List deletedItems"); deleting an application deletes its service principal with
/// it. Their dependants (jobs, secrets, assignments, policies) stay with them so that a restore brings the
/// configuration back; scheduled provisioning stops.
fn soft_delete(store: &mut Store, kind: Kind, id: &str) {
    let mut doomed = vec![(kind, id.to_string())];
    if kind == Kind::Application {
        let app_id = store
            .get(kind, id)
            .map(|a| a["appId"].clone())
            .unwrap_or_default();
        let principals = principals_of(store.collection(Kind::ServicePrincipal).iter(), &app_id);
        doomed.extend(
            principals
                .into_iter()
                .map(|sp| (Kind::ServicePrincipal, sp)),
        );
    }
    let deleted_at = now();
    for (kind, id) in doomed {
        let Some(mut object) = store.collection_mut(kind).remove(&id) else {
            continue;
        };
        object["deletedDateTime"] = Value::String(deleted_at.clone());
        store.stale.remove(&id);
        if let Some(sync) = store.synchronization.get_mut(&id) {
            sync.jobs
                .values_mut()
                .filter_map(|j| j.runner.take())
                .for_each(|r| r.abort());
        }
        store.deleted.insert(id, (kind, object));
    }
}

/// Forgets everything that hangs off deleted objects: jobs, secrets, members, owners, policies, assignments.
fn purge(store: &mut Store, gone: &[String]) {
    for gone_id in gone {
        if let Some(mut sync) = store.synchronization.remove(gone_id) {
            sync.jobs
                .values_mut()
                .filter_map(|j| j.runner.take())
                .for_each(|r| r.abort());
        }
        store.members.remove(gone_id);
        store.owners.remove(gone_id);
        store.claims_policies_of.remove(gone_id);
        store.members.values_mut().for_each(|m| {
            m.remove(gone_id);
        });
        store.claims_policies_of.values_mut().for_each(|p| {
            p.remove(gone_id);
        });
        store
            .collection_mut(Kind::AppRoleAssignment)
            .retain(|_, a| a["resourceId"] != *gone_id && a["principalId"] != *gone_id);
        store.lagging.remove(gone_id);
        store.stale.remove(gone_id);
    }
}

fn require(body: &Map<String, Value>, props: &[&str], resource: &str) -> GraphResult<()> {
    match props
        .iter()
        .find(|p| body.get(**p).is_none_or(Value::is_null))
    {
        Some(missing) => Err(GraphError::bad_request(format!(
            "Invalid value specified for property '{missing}' of resource '{resource}'."
        ))),
        None => Ok(()),
    }
}

async fn create(state: Arc<AppState>, kind: Kind, bytes: Bytes) -> GraphResult {
    let body = body_object(&bytes)?;
    check_entity_body(&state, kind.type_name(), &body)?;
    let mut object = match kind {
        Kind::Group => {
            require(
                &body,
                &[
                    "displayName",
                    "mailEnabled",
                    "mailNickname",
                    "securityEnabled",
                ],
                "Group",
            )?;
            objects::group_defaults()
        }
        Kind::User => {
            require(
                &body,
                &[
                    "accountEnabled",
                    "displayName",
                    "mailNickname",
                    "passwordProfile",
                    "userPrincipalName",
                ],
                "User",
            )?;
            objects::user_defaults()
        }
        Kind::ClaimsMappingPolicy => {
            require(&body, &["definition", "displayName"], "Policy")?;
            objects::claims_policy_defaults()
        }
        _ => {
            return Err(GraphError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "Request_BadRequest",
                "Unsupported operation.",
            ));
        }
    };
    let lag = state.write_lag();
    let mut store = state.store();
    validate_patch(&store, kind, "", &object, &body)?;
    if kind == Kind::User {
        let upn = body["userPrincipalName"].as_str().unwrap_or_default();
        if store.collection(Kind::User).values().any(|u| {
            u["userPrincipalName"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(upn))
        }) {
            return Err(GraphError::bad_request(
                "Another object with the same value for property userPrincipalName already exists.",
            ));
        }
    }
    for (key, value) in body {
        // Write-only: Graph never returns the password profile.
        if key != "passwordProfile" && !key.starts_with('@') {
            object[key] = value;
        }
    }
    store.insert(kind, object.clone(), lag);
    let mut response = object;
    response["@odata.context"] = Value::String(format!(
        "{}/v1.0/$metadata#{}/$entity",
        state.base_url,
        kind.set_path()
    ));
    Ok(json_response(StatusCode::CREATED, response))
}

async fn list_templates(State(state): State<Arc<AppState>>, uri: Uri) -> GraphResult {
    let query = Query::parse(
        uri.query(),
        &state.model,
        "microsoft.graph.applicationTemplate",
    )?;
    Ok(json_response(
        StatusCode::OK,
        query.page(
            objects::application_templates(),
            page_size(&state),
            &state.base_url,
            uri.path(),
            "applicationTemplates",
        ),
    ))
}

fn template(id: &str) -> GraphResult<Value> {
    objects::application_templates()
        .into_iter()
        .find(|t| t["id"] == id)
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("Resource '{id}' does not exist."),
            )
        })
}

async fn get_template(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    uri: Uri,
) -> GraphResult {
    let query = Query::parse(
        uri.query(),
        &state.model,
        "microsoft.graph.applicationTemplate",
    )?;
    let mut body = query.project(&template(&id)?);
    body["@odata.context"] =
        Value::String(query.context(&state.base_url, "applicationTemplates", true));
    Ok(json_response(StatusCode::OK, body))
}

async fn instantiate(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> GraphResult {
    let body = body_object(&bytes)?;
    check_action_body(
        &state,
        "instantiate",
        "microsoft.graph.applicationTemplate",
        &body,
    )?;
    template(&id)?;
    let Some(display_name) = body
        .get("displayName")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
    else {
        return Err(GraphError::bad_request(
            "Invalid value specified for property 'displayName' of resource 'Application'.",
        ));
    };
    let (application, service_principal) =
        objects::instantiate(&id, display_name, &state.config.tenant_id);
    let report_not_found = {
        let mut admin = state.admin();
        let report = admin.instantiate_not_found > 0;
        if report {
            admin.instantiate_not_found -= 1;
        }
        report
    };
    let lag = state.write_lag();
    {
        let mut store = state.store();
        store.insert(Kind::Application, application.clone(), lag);
        store.insert(Kind::ServicePrincipal, service_principal.clone(), lag);
    }
    if report_not_found {
        // Entra sometimes answers 404 although both objects were created.
        return Err(GraphError::not_found(&id));
    }
    Ok(json_response(
        StatusCode::CREATED,
        json!({
            "@odata.context": format!("{}/v1.0/$metadata#microsoft.graph.applicationServicePrincipal", state.base_url),
            "application": application,
            "servicePrincipal": service_principal
        }),
    ))
}

async fn add_token_signing_certificate(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> GraphResult {
    let body = body_object(&bytes)?;
    check_action_body(
        &state,
        "addTokenSigningCertificate",
        "microsoft.graph.servicePrincipal",
        &body,
    )?;
    state.store().read(Kind::ServicePrincipal, &id)?;
    let display_name = body
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(common_name) = display_name.strip_prefix("CN=").filter(|cn| !cn.is_empty()) else {
        return Err(GraphError::bad_request(
            "The displayName must start with 'CN='.",
        ));
    };
    let end = match body.get("endDateTime").and_then(Value::as_str) {
        Some(text) => {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|_| {
                    GraphError::bad_request("Invalid value specified for property 'endDateTime'.")
                })?
        }
        None => time::OffsetDateTime::now_utc() + time::Duration::days(3 * 365),
    };
    if end <= time::OffsetDateTime::now_utc() {
        return Err(GraphError::bad_request(
            "The endDateTime must be in the future.",
        ));
    }
    // "It can be up to 3 years from the date the certificate is created" (addTokenSigningCertificate).
    if end > time::OffsetDateTime::now_utc() + time::Duration::days(3 * 366) {
        return Err(GraphError::bad_request(
            "The endDateTime can be at most three years after the certificate is created.",
        ));
    }
    let common_name = common_name.to_string();
    let cert = tokio::task::spawn_blocking(move || certs::self_signed(&common_name, end))
        .await
        .map_err(|e| {
            GraphError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "generalException",
                e.to_string(),
            )
        })?
        .map_err(|e| GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", e))?;
    let (start, end) = (format_time(cert.start), format_time(cert.end));
    let identifier = cert.custom_key_identifier();
    let key = |usage: &str, key_id: &str, material: Value| {
        json!({"customKeyIdentifier": identifier, "displayName": display_name, "endDateTime": end, "key": material,
               "keyId": key_id, "startDateTime": start, "type": "AsymmetricX509Cert", "usage": usage})
    };
    // Graph "servicePrincipal: addTokenSigningCertificate": all three share customKeyIdentifier; the password
    // credential (it opens the private key's PFX) and the private key (Sign) share one keyId, the public key
    // (Verify) has its own.
    let private_key_id = new_id();
    let sign = key("Sign", &private_key_id, Value::Null);
    let verify = key("Verify", &new_id(), Value::String(cert.base64()));
    let password = json!({"customKeyIdentifier": identifier, "displayName": display_name, "endDateTime": end,
                          "hint": null, "keyId": private_key_id, "secretText": null, "startDateTime": start});
    {
        let mut store = state.store();
        let sp = store
            .collection_mut(Kind::ServicePrincipal)
            .get_mut(&id)
            .ok_or_else(|| GraphError::not_found(&id))?;
        for (prop, item) in [
            ("keyCredentials", sign),
            ("keyCredentials", verify.clone()),
            ("passwordCredentials", password),
        ] {
            if let Some(list) = sp[prop].as_array_mut() {
                list.push(item);
            } else {
                sp[prop] = json!([item]);
            }
        }
    }
    let mut response = verify;
    response["thumbprint"] = Value::String(cert.thumbprint.clone());
    response["@odata.context"] = Value::String(format!(
        "{}/v1.0/$metadata#microsoft.graph.selfSignedCertificate",
        state.base_url
    ));
    Ok(json_response(StatusCode::OK, response))
}

/// The id at the end of an `@odata.id` reference URL.
fn referenced_id(body: &Map<String, Value>) -> GraphResult<String> {
    body.get("@odata.id")
        .and_then(Value::as_str)
        .and_then(|url| url.trim_end_matches('/').rsplit('/').next())
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            GraphError::bad_request("Invalid request body: expected an '@odata.id' reference.")
        })
}

fn check_reference_body(body: &Map<String, Value>) -> GraphResult<()> {
    match body.keys().find(|k| *k != "@odata.id") {
        Some(key) => Err(GraphError::bad_request(format!(
            "Property '{key}' is not allowed in a reference request body."
        ))),
        None => Ok(()),
    }
}

#[derive(Clone, Copy)]
enum RefCollection {
    Members,
    Owners,
}

impl RefCollection {
    fn map(self, store: &mut Store) -> &mut std::collections::HashMap<String, BTreeSet<String>> {
        match self {
            RefCollection::Members => &mut store.members,
            RefCollection::Owners => &mut store.owners,
        }
    }

    fn name(self) -> &'static str {
        match self {
            RefCollection::Members => "members",
            RefCollection::Owners => "owners",
        }
    }
}

async fn add_reference(
    state: Arc<AppState>,
    kind: Kind,
    which: RefCollection,
    id: String,
    bytes: Bytes,
) -> GraphResult {
    let body = body_object(&bytes)?;
    check_reference_body(&body)?;
    let target = referenced_id(&body)?;
    let mut store = state.store();
    store.read(kind, &id)?;
    if !super::state::is_guid(&target) {
        return Err(GraphError::invalid_object_identifier(&target));
    }
    if store.find_kind(&target).is_none() || store.still_replicating(&target) {
        return Err(GraphError::not_found(&target));
    }
    if !which.map(&mut store).entry(id).or_default().insert(target) {
        return Err(GraphError::bad_request(format!(
            "One or more added object references already exist for the following modified properties: '{}'.",
            which.name()
        )));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove_reference(
    state: Arc<AppState>,
    kind: Kind,
    which: RefCollection,
    id: String,
    target: String,
) -> GraphResult {
    let mut store = state.store();
    store.read(kind, &id)?;
    if !which
        .map(&mut store)
        .get_mut(&id)
        .is_some_and(|set| set.remove(&target))
    {
        return Err(GraphError::not_found(&target));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_references(
    state: Arc<AppState>,
    kind: Kind,
    which: RefCollection,
    id: String,
    uri: Uri,
) -> GraphResult {
    list_references_of_type(state, kind, which, id, None, uri).await
}

/// The members of a group of one type: "List group members" enables OData casts
/// (`/groups/{id}/members/microsoft.graph.user` lists the members that are users), and `$select` then takes
/// that type's properties.
async fn list_cast_members(
    state: Arc<AppState>,
    id: String,
    cast: String,
    uri: Uri,
) -> GraphResult {
    let Some(member_kind) = [Kind::User, Kind::Group]
        .into_iter()
        .find(|k| k.type_name() == cast)
    else {
        return Err(GraphError::bad_request(format!(
            "Resource not found for the segment '{cast}'."
        )));
    };
    list_references_of_type(
        state,
        Kind::Group,
        RefCollection::Members,
        id,
        Some(member_kind),
        uri,
    )
    .await
}

async fn list_references_of_type(
    state: Arc<AppState>,
    kind: Kind,
    which: RefCollection,
    id: String,
    cast: Option<Kind>,
    uri: Uri,
) -> GraphResult {
    let items: Vec<Value> = {
        let mut store = state.store();
        store.read(kind, &id)?;
        let ids: Vec<String> = which
            .map(&mut store)
            .get(&id)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        ids.iter()
            .filter_map(|m| {
                let member_kind = store.find_kind(m)?;
                if cast.is_some_and(|c| c != member_kind) {
                    return None;
                }
                let mut object = store.get(member_kind, m)?.clone();
                object["@odata.type"] = Value::String(format!("#{}", member_kind.type_name()));
                Some(object)
            })
            .collect()
    };
    let type_name = cast.map_or("microsoft.graph.directoryObject", Kind::type_name);
    let query = Query::parse(uri.query(), &state.model, type_name)?;
    let items = items.iter().map(|o| present(o, false)).collect();
    Ok(json_response(
        StatusCode::OK,
        query.page(
            items,
            page_size(&state),
            &state.base_url,
            uri.path(),
            "directoryObjects",
        ),
    ))
}

async fn assign_app_role(
    State(state): State<Arc<AppState>>,
    Path(sp_id): Path<String>,
    bytes: Bytes,
) -> GraphResult {
    let body = body_object(&bytes)?;
    check_entity_body(&state, Kind::AppRoleAssignment.type_name(), &body)?;
    require(
        &body,
        &["principalId", "resourceId", "appRoleId"],
        "AppRoleAssignment",
    )?;
    let text = |k: &str| body[k].as_str().unwrap_or_default().to_string();
    let (principal_id, resource_id, app_role_id) =
        (text("principalId"), text("resourceId"), text("appRoleId"));
    let lag = state.write_lag();
    let mut store = state.store();
    let sp = store.read(Kind::ServicePrincipal, &sp_id)?;
    if resource_id != sp_id {
        return Err(GraphError::bad_request(
            "Invalid value specified for property 'resourceId' of resource 'AppRoleAssignment'.",
        ));
    }
    let principal_kind = match store.find_kind(&principal_id) {
        Some(k @ (Kind::User | Kind::Group | Kind::ServicePrincipal))
            if !store.still_replicating(&principal_id) =>
        {
            k
        }
        _ => return Err(GraphError::not_found(&principal_id)),
    };
    let role_exists = app_role_id == "00000000-0000-0000-0000-000000000000"
        || sp["appRoles"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["id"] == app_role_id.as_str());
    if !role_exists {
        return Err(GraphError::bad_request(format!(
            "Permission being assigned was not found on application '{}'.",
            sp["appId"].as_str().unwrap_or_default()
        )));
    }
    let duplicate = store.collection(Kind::AppRoleAssignment).values().any(|a| {
        a["resourceId"] == resource_id.as_str()
            && a["principalId"] == principal_id.as_str()
            && a["appRoleId"] == app_role_id.as_str()
    });
    if duplicate {
        return Err(GraphError::bad_request(
            "Permission being assigned already exists on the object",
        ));
    }
    let principal = store
        .get(principal_kind, &principal_id)
        .cloned()
        .unwrap_or_default();
    let principal_type = match principal_kind {
        Kind::User => "User",
        Kind::Group => "Group",
        _ => "ServicePrincipal",
    };
    // Real ids are 43-character base64url strings derived from the principal.
    let assignment_id = {
        use base64::Engine;
        let mut bytes = uuid::Uuid::new_v4().as_bytes().to_vec();
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..32])
    };
    let assignment = json!({
        "id": assignment_id,
        "deletedDateTime": null,
        "appRoleId": app_role_id,
        "createdDateTime": now(),
        "principalDisplayName": principal["displayName"],
        "principalId": principal_id,
        "principalType": principal_type,
        "resourceDisplayName": sp["displayName"],
        "resourceId": resource_id
    });
    store.insert(Kind::AppRoleAssignment, assignment.clone(), lag);
    Ok(entity_response(
        &state,
        StatusCode::CREATED,
        assignment,
        &format!("servicePrincipals('{sp_id}')/appRoleAssignedTo/$entity"),
    ))
}

async fn list_app_role_assigned_to(
    State(state): State<Arc<AppState>>,
    Path(sp_id): Path<String>,
    uri: Uri,
) -> GraphResult {
    let items = {
        let mut store = state.store();
        store.read(Kind::ServicePrincipal, &sp_id)?;
        store
            .collection(Kind::AppRoleAssignment)
            .values()
            .filter(|a| a["resourceId"] == sp_id.as_str())
            .cloned()
            .collect()
    };
    list_of(
        &state,
        Kind::AppRoleAssignment,
        &uri,
        items,
        &format!("servicePrincipals('{sp_id}')/appRoleAssignedTo"),
    )
}

async fn delete_app_role_assigned_to(
    State(state): State<Arc<AppState>>,
    Path((sp_id, assignment_id)): Path<(String, String)>,
) -> GraphResult {
    let mut store = state.store();
    store.read(Kind::ServicePrincipal, &sp_id)?;
    let assignments = store.collection_mut(Kind::AppRoleAssignment);
    match assignments.get(&assignment_id) {
        Some(a) if a["resourceId"] == sp_id.as_str() => {
            assignments.remove(&assignment_id);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(GraphError::not_found(&assignment_id)),
    }
}

async fn assign_claims_policy(
    State(state): State<Arc<AppState>>,
    Path(sp_id): Path<String>,
    bytes: Bytes,
) -> GraphResult {
    let body = body_object(&bytes)?;
    check_reference_body(&body)?;
    let policy_id = referenced_id(&body)?;
    let mut store = state.store();
    store.read(Kind::ServicePrincipal, &sp_id)?;
    store.read(Kind::ClaimsMappingPolicy, &policy_id)?;
    let assigned = store.claims_policies_of.entry(sp_id).or_default();
    if assigned.contains(&policy_id) {
        return Err(GraphError::bad_request(
            "One or more added object references already exist for the following modified properties: 'claimsMappingPolicies'.",
        ));
    }
    if !assigned.is_empty() {
        // A service principal can have at most one claims-mapping policy.
        return Err(GraphError::new(
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            "A conflicting object with one or more of the specified property values is present in the directory.",
        ));
    }
    assigned.insert(policy_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_claims_policies_of(
    State(state): State<Arc<AppState>>,
    Path(sp_id): Path<String>,
    uri: Uri,
) -> GraphResult {
    let items = {
        let mut store = state.store();
        store.read(Kind::ServicePrincipal, &sp_id)?;
        let ids: Vec<String> = store
            .claims_policies_of
            .get(&sp_id)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        ids.iter()
            .filter_map(|p| store.get(Kind::ClaimsMappingPolicy, p).cloned())
            .collect()
    };
    list_of(
        &state,
        Kind::ClaimsMappingPolicy,
        &uri,
        items,
        &format!("servicePrincipals('{sp_id}')/claimsMappingPolicies"),
    )
}

async fn remove_claims_policy(
    State(state): State<Arc<AppState>>,
    Path((sp_id, policy_id)): Path<(String, String)>,
) -> GraphResult {
    let mut store = state.store();
    store.read(Kind::ServicePrincipal, &sp_id)?;
    if !store
        .claims_policies_of
        .get_mut(&sp_id)
        .is_some_and(|p| p.remove(&policy_id))
    {
        return Err(GraphError::not_found(&policy_id));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The deleted-items container's casts this emulator answers: applications and service principals are
/// soft-deleted; security groups are deleted permanently (Graph "List deletedItems"), and users are too here.
fn deleted_items_cast(cast: &str) -> Option<Option<Kind>> {
    match cast {
        "microsoft.graph.application" => Some(Some(Kind::Application)),
        "microsoft.graph.servicePrincipal" => Some(Some(Kind::ServicePrincipal)),
        "microsoft.graph.group" | "microsoft.graph.user" | "microsoft.graph.administrativeUnit" => {
            Some(None)
        }
        _ => None,
    }
}

fn with_odata_type(kind: Kind, object: &Value) -> Value {
    let mut object = present(object, false);
    object["@odata.type"] = Value::String(format!("#{}", kind.type_name()));
    object
}

/// `GET /directory/deletedItems` needs an OData cast (Graph "List deletedItems": calling it without one is
/// not supported).
async fn deleted_items_without_cast() -> GraphError {
    GraphError::bad_request(
        "The OData cast to a type (e.g. /directory/deletedItems/microsoft.graph.application) is required.",
    )
}

/// `GET /directory/deletedItems/{cast}` lists; `GET /directory/deletedItems/{id}` reads one.
async fn get_deleted_item(
    State(state): State<Arc<AppState>>,
    Path(item): Path<String>,
    uri: Uri,
) -> GraphResult {
    if item.starts_with("microsoft.graph.") {
        let cast = item.as_str();
        let Some(kind) = deleted_items_cast(cast) else {
            return Err(GraphError::bad_request(format!(
                "'{cast}' is not a type the deleted items container holds."
            )));
        };
        let items: Vec<Value> = kind
            .map(|kind| {
                state
                    .store()
                    .deleted
                    .values()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, object)| object.clone())
                    .collect()
            })
            .unwrap_or_default();
        let type_name = kind.map_or(cast, |k| k.type_name());
        let query = Query::parse(uri.query(), &state.model, type_name)?;
        let items = items.iter().map(|o| present(o, false)).collect();
        let set = kind.map_or("directoryObjects", Kind::set_path);
        return Ok(json_response(
            StatusCode::OK,
            query.page(items, page_size(&state), &state.base_url, uri.path(), set),
        ));
    }
    let (kind, object) = deleted_item(&state.store(), &item)?;
    let body = with_odata_type(kind, &object);
    Ok(entity_response(
        &state,
        StatusCode::OK,
        body,
        "directory/deletedItems/$entity",
    ))
}

fn deleted_item(store: &Store, id: &str) -> GraphResult<(Kind, Value)> {
    if !super::state::is_guid(id) {
        return Err(GraphError::invalid_object_identifier(id));
    }
    store
        .deleted
        .get(id)
        .cloned()
        .ok_or_else(|| GraphError::not_found(id))
}

/// The deleted service principals of a deleted application go (or are restored, or purged) with it.
fn deleted_with(store: &Store, kind: Kind, id: &str, object: &Value) -> Vec<String> {
    let mut ids = vec![id.to_string()];
    if kind == Kind::Application {
        let principals = store
            .deleted
            .iter()
            .filter(|(_, (k, _))| *k == Kind::ServicePrincipal)
            .map(|(id, (_, sp))| (id, sp));
        ids.extend(principals_of(principals, &object["appId"]));
    }
    ids
}

/// `POST /directory/deletedItems/{id}/restore` (Graph "Restore deleted item"): the object comes back with its
/// id and configuration; restoring an application also restores its service principal.
async fn restore_deleted_item(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> GraphResult {
    let mut store = state.store();
    let (kind, object) = deleted_item(&store, &id)?;
    for restored in deleted_with(&store, kind, &id, &object) {
        if let Some((kind, mut object)) = store.deleted.remove(&restored) {
            object["deletedDateTime"] = Value::Null;
            store.collection_mut(kind).insert(restored, object);
        }
    }
    let body = with_odata_type(kind, store.get(kind, &id).unwrap_or(&object));
    Ok(entity_response(
        &state,
        StatusCode::OK,
        body,
        "directoryObjects/$entity",
    ))
}

/// `DELETE /directory/deletedItems/{id}` (Graph "Permanently delete an item"): gone for good, with everything
/// that hung off it.
async fn purge_deleted_item(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> GraphResult {
    let mut store = state.store();
    let (kind, object) = deleted_item(&store, &id)?;
    let gone = deleted_with(&store, kind, &id, &object);
    for id in &gone {
        store.deleted.remove(id);
    }
    purge(&mut store, &gone);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Path segments Graph matches case-insensitively (`/serviceprincipals/...` works against real Graph).
const CANONICAL_SEGMENTS: [&str; 26] = [
    "applications",
    "servicePrincipals",
    "applicationTemplates",
    "groups",
    "users",
    "policies",
    "claimsMappingPolicies",
    "synchronization",
    "jobs",
    "templates",
    "secrets",
    "schema",
    "members",
    "owners",
    "appRoleAssignedTo",
    "addTokenSigningCertificate",
    "instantiate",
    "start",
    "pause",
    "restart",
    "validateCredentials",
    "provisionOnDemand",
    "directory",
    "deletedItems",
    "restore",
    "$ref",
];

/// Rewrites a request path the way Graph reads it: known segments in any letter case, and alternate-key
/// addressing `/applications(appId='...')` / `/servicePrincipals(appId='...')` mapped onto the object-id path (or
/// onto a path that answers 404 when no object has that appId). `None` when nothing changes.
pub fn canonical_path(state: &AppState, path: &str) -> Option<String> {
    static ALTERNATE_KEY: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let canonical: String = path
        .split('/')
        .map(|segment| {
            let (name, key) = segment
                .find('(')
                .map_or((segment, ""), |i| segment.split_at(i));
            let known = CANONICAL_SEGMENTS
                .iter()
                .find(|c| c.eq_ignore_ascii_case(name));
            format!("{}{key}", known.copied().unwrap_or(name))
        })
        .collect::<Vec<_>>()
        .join("/");
    let pattern = ALTERNATE_KEY.get_or_init(|| {
        regex::Regex::new(
            r"^/v1\.0/(applications|servicePrincipals)\((?i:appId)='([^']*)'\)(/.*)?$",
        )
        .expect("valid regex")
    });
    let Some(captures) = pattern.captures(&canonical) else {
        return (canonical != path).then_some(canonical);
    };
    let set = captures.get(1)?.as_str();
    let app_id = captures.get(2)?.as_str();
    let rest = captures.get(3).map_or("", |m| m.as_str());
    let kind = if set == "applications" {
        Kind::Application
    } else {
        Kind::ServicePrincipal
    };
    let store = state.store();
    let id = store
        .collection(kind)
        .iter()
        .find(|(_, o)| {
            o["appId"]
                .as_str()
                .is_some_and(|a| a.eq_ignore_ascii_case(app_id))
        })
        .map_or(app_id, |(id, _)| id.as_str());
    Some(format!("/v1.0/{set}/{id}{rest}"))
}

/// Routes for one entity set: list/create at `base`, get/patch/delete at `base/{id}`.
fn entity_set(base: &str, kind: Kind, creatable: bool) -> Router<Arc<AppState>> {
    let collection = get(move |State(s): State<Arc<AppState>>, uri: Uri| list(s, kind, uri));
    let collection = if creatable {
        collection.post(move |State(s): State<Arc<AppState>>, b: Bytes| create(s, kind, b))
    } else {
        collection
    };
    Router::new().route(base, collection).route(
        &format!("{base}/{{id}}"),
        get(
            move |State(s): State<Arc<AppState>>, Path(id): Path<String>, uri: Uri| {
                read(s, kind, id, uri)
            },
        )
        .patch(
            move |State(s): State<Arc<AppState>>, Path(id): Path<String>, b: Bytes| {
                patch(s, kind, id, b)
            },
        )
        .delete(move |State(s): State<Arc<AppState>>, Path(id): Path<String>| delete(s, kind, id)),
    )
}

fn reference_routes(base: &str, kind: Kind, which: RefCollection) -> Router<Arc<AppState>> {
    let name = which.name();
    Router::new()
        .route(
            &format!("{base}/{{id}}/{name}"),
            get(
                move |State(s): State<Arc<AppState>>, Path(id): Path<String>, uri: Uri| {
                    list_references(s, kind, which, id, uri)
                },
            ),
        )
        .route(
            &format!("{base}/{{id}}/{name}/$ref"),
            post(
                move |State(s): State<Arc<AppState>>, Path(id): Path<String>, b: Bytes| {
                    add_reference(s, kind, which, id, b)
                },
            ),
        )
        .route(
            &format!("{base}/{{id}}/{name}/{{target}}/$ref"),
            axum::routing::delete(
                move |State(s): State<Arc<AppState>>,
                      Path((id, target)): Path<(String, String)>| {
                    remove_reference(s, kind, which, id, target)
                },
            ),
        )
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1.0/applicationTemplates", get(list_templates))
        .route("/v1.0/applicationTemplates/{id}", get(get_template))
        .route(
            "/v1.0/applicationTemplates/{id}/instantiate",
            post(instantiate),
        )
        .merge(entity_set("/v1.0/applications", Kind::Application, false))
        .merge(entity_set(
            "/v1.0/servicePrincipals",
            Kind::ServicePrincipal,
            false,
        ))
        .merge(entity_set("/v1.0/groups", Kind::Group, true))
        .merge(entity_set("/v1.0/users", Kind::User, true))
        .merge(entity_set(
            "/v1.0/policies/claimsMappingPolicies",
            Kind::ClaimsMappingPolicy,
            true,
        ))
        .merge(reference_routes(
            "/v1.0/groups",
            Kind::Group,
            RefCollection::Members,
        ))
        .route(
            "/v1.0/groups/{id}/members/{cast}",
            get(
                |State(s): State<Arc<AppState>>,
                 Path((id, cast)): Path<(String, String)>,
                 uri: Uri| list_cast_members(s, id, cast, uri),
            ),
        )
        .merge(reference_routes(
            "/v1.0/applications",
            Kind::Application,
            RefCollection::Owners,
        ))
        .merge(reference_routes(
            "/v1.0/servicePrincipals",
            Kind::ServicePrincipal,
            RefCollection::Owners,
        ))
        .route(
            "/v1.0/servicePrincipals/{id}/addTokenSigningCertificate",
            post(add_token_signing_certificate),
        )
        .route(
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo",
            get(list_app_role_assigned_to).post(assign_app_role),
        )
        .route(
            "/v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignment}",
            axum::routing::delete(delete_app_role_assigned_to),
        )
        .route(
            "/v1.0/servicePrincipals/{id}/claimsMappingPolicies",
            get(list_claims_policies_of),
        )
        .route(
            "/v1.0/servicePrincipals/{id}/claimsMappingPolicies/$ref",
            post(assign_claims_policy),
        )
        .route(
            "/v1.0/servicePrincipals/{id}/claimsMappingPolicies/{policy}/$ref",
            axum::routing::delete(remove_claims_policy),
        )
        .route(
            "/v1.0/directory/deletedItems",
            get(deleted_items_without_cast),
        )
        .route(
            "/v1.0/directory/deletedItems/{item}",
            get(get_deleted_item).delete(purge_deleted_item),
        )
        .route(
            "/v1.0/directory/deletedItems/{item}/restore",
            post(restore_deleted_item),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_thumbprint_decodes_the_custom_key_identifier() {
        let key = json!({"customKeyIdentifier": "p9PEYmuKhP2oaMzGfSdNQC/9ChA="});
        assert_eq!(
            key_thumbprint(&key).unwrap(),
            "A7D3C4626B8A84FDA868CCC67D274D402FFD0A10"
        );
    }

    #[test]
    fn absolute_uris_are_required() {
        assert!(is_absolute_uri("https://signin.aws.amazon.com/saml"));
        assert!(is_absolute_uri("urn:amazon:webservices"));
        assert!(!is_absolute_uri("not a uri"));
        assert!(!is_absolute_uri("/relative"));
    }
}
