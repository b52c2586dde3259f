//! Users and Groups handlers with AWS's documented SCIM constraints.

use std::collections::HashMap;
use std::time::SystemTime;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::filter::{self, Comparison};
use super::listing::{self, GROUP_FILTERS, USER_FILTERS};
use super::patch::{self, ENTERPRISE_USER};
use super::schemas::{GROUP_SCHEMA, PATCH_OP, USER_SCHEMA};
use super::{Scim, ScimError, scim_response};

/// What identitystore's API cannot hold.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub external_id: Option<String>,
    pub active: Option<bool>,
    pub enterprise: Option<Value>,
    pub created: String,
    pub last_modified: String,
}

/// AWS accepts at most this many membership changes in one PATCH.
const MAX_MEMBERSHIP_CHANGES: usize = 100;

fn now() -> String {
    DateTime::from(SystemTime::now())
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

fn created_response(body: &Value, location: &str) -> Response {
    let mut response = scim_response(StatusCode::CREATED, body);
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn string_member(resource: &Value, member: &str) -> Option<String> {
    resource
        .get(member)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Splits `a, b.c, urn:…:User:d` into (top-level attribute, optional sub-attribute) pairs.
fn attribute_list(text: &str) -> Vec<(String, Option<String>)> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            if let Some(local) = item
                .get(..ENTERPRISE_USER.len())
                .filter(|prefix| prefix.eq_ignore_ascii_case(ENTERPRISE_USER))
                .map(|_| &item[ENTERPRISE_USER.len()..])
            {
                let sub = local.trim_start_matches(':');
                return (
                    ENTERPRISE_USER.to_owned(),
                    (!sub.is_empty()).then(|| patch::canonical(sub)),
                );
            }
            match item.split_once('.') {
                Some((head, sub)) => (patch::canonical(head), Some(patch::canonical(sub))),
                None => (patch::canonical(item), None),
            }
        })
        .collect()
}

/// Applies the `attributes` / `excludedAttributes` query parameters (RFC 7644 §3.9); `id` and `schemas` are
/// always returned.
fn project(resource: Value, query: &HashMap<String, String>) -> Value {
    let Value::Object(mut members) = resource else {
        return resource;
    };
    if let Some(wanted) = query.get("attributes").map(|text| attribute_list(text)) {
        members.retain(|key, _| {
            key == "id"
                || key == "schemas"
                || wanted
                    .iter()
                    .any(|(head, _)| head.eq_ignore_ascii_case(key))
        });
        for (head, sub) in &wanted {
            if let (Some(sub), Some(Value::Object(inner))) = (sub, members.get_mut(head))
                && !wanted
                    .iter()
                    .any(|(other, none)| other == head && none.is_none())
            {
                inner.retain(|key, _| key.eq_ignore_ascii_case(sub));
            }
        }
    }
    if let Some(excluded) = query
        .get("excludedAttributes")
        .map(|text| attribute_list(text))
    {
        for (head, sub) in excluded {
            if head == "id" || head == "schemas" {
                continue;
            }
            match sub {
                None => {
                    members.retain(|key, _| !key.eq_ignore_ascii_case(&head));
                }
                Some(sub) => {
                    if let Some(Value::Object(inner)) = members.get_mut(&head) {
                        inner.retain(|key, _| !key.eq_ignore_ascii_case(&sub));
                    }
                }
            }
        }
    }
    Value::Object(members)
}

// ---------------------------------------------------------------- users

/// Accepts `true`/`false` and Entra's `"True"`/`"False"` strings.
fn coerce_active(user: &mut Map<String, Value>) -> Result<(), ScimError> {
    let Some(active) = user.get("active").cloned() else {
        return Ok(());
    };
    let flag = match active {
        Value::Bool(flag) => flag,
        Value::String(text) if text.eq_ignore_ascii_case("true") => true,
        Value::String(text) if text.eq_ignore_ascii_case("false") => false,
        Value::Null => {
            user.remove("active");
            return Ok(());
        }
        other => {
            return Err(ScimError::validation(format!(
                "active must be a boolean, got {other}"
            )));
        }
    };
    user.insert("active".into(), Value::Bool(flag));
    Ok(())
}

fn non_empty(value: Option<&Value>) -> bool {
    value
        .and_then(Value::as_str)
        .is_some_and(|text| !text.trim().is_empty())
}

/// CreateUser/PutUser/PatchUser "Not supported": these attributes are refused.
const UNSUPPORTED_USER_ATTRIBUTES: &[&str] = &[
    "ims",
    "photos",
    "x509Certificates",
    "entitlements",
    "password",
];

/// The constraints AWS documents for CreateUser/PutUser (and what a PatchUser leaves behind).
fn validate_user(user: &mut Map<String, Value>) -> Result<(), ScimError> {
    coerce_active(user)?;
    if let Some(unsupported) = user.keys().find(|key| {
        UNSUPPORTED_USER_ATTRIBUTES
            .iter()
            .any(|name| name.eq_ignore_ascii_case(key))
    }) {
        return Err(ScimError::validation(format!(
            "the {unsupported} attribute is not supported by IAM Identity Center"
        )));
    }
    let value = Value::Object(user.clone());
    for (present, what) in [
        (non_empty(value.get("userName")), "userName"),
        (non_empty(value.get("displayName")), "displayName"),
        (
            non_empty(value.pointer("/name/givenName")),
            "name.givenName",
        ),
        (
            non_empty(value.pointer("/name/familyName")),
            "name.familyName",
        ),
    ] {
        if !present {
            return Err(ScimError::validation(format!("{what} is required")));
        }
    }
    for member in ["emails", "addresses", "phoneNumbers"] {
        match value.get(member) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) if items.len() <= 1 => {}
            Some(Value::Array(_)) => {
                return Err(ScimError::validation(format!(
                    "multiple values for {member} are not supported: IAM Identity Center accepts at most one"
                )));
            }
            Some(_) => return Err(ScimError::validation(format!("{member} must be a list"))),
        }
    }
    // CreateUser: "The emails attribute value must be marked as primary."
    if let Some(email) = value.pointer("/emails/0")
        && email.get("primary") != Some(&Value::Bool(true))
    {
        return Err(ScimError::validation(
            "the emails value must be marked as primary (\"primary\": true)",
        ));
    }
    if value.get("groups").is_some_and(|groups| !groups.is_null()) {
        return Err(ScimError::validation(
            "groups cannot be set on a user; change group members instead",
        ));
    }
    Ok(())
}

fn render_user(scim: &Scim, mut user: Map<String, Value>, extras: &Extras) -> Value {
    let id = user
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut schemas = vec![json!(USER_SCHEMA)];
    if let Some(enterprise) = &extras.enterprise {
        schemas.push(json!(ENTERPRISE_USER));
        user.insert(ENTERPRISE_USER.into(), enterprise.clone());
    }
    user.insert("schemas".into(), json!(schemas));
    if let Some(external_id) = &extras.external_id {
        user.insert("externalId".into(), json!(external_id));
    }
    user.insert("active".into(), json!(extras.active.unwrap_or(true)));
    user.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": extras.created,
            "lastModified": extras.last_modified,
            "location": format!("{}Users/{id}", scim.endpoint),
        }),
    );
    Value::Object(user)
}

/// Users created behind the endpoint's back (directly through identitystore) still get meta timestamps.
fn extras_for(scim: &Scim, id: &str) -> Extras {
    let mut extras = scim.extras();
    extras
        .entry(id.to_owned())
        .or_insert_with(|| {
            let stamp = now();
            Extras {
                created: stamp.clone(),
                last_modified: stamp,
                ..Extras::default()
            }
        })
        .clone()
}

fn record_extras(scim: &Scim, id: &str, user: &Map<String, Value>, created: Option<String>) {
    let stamp = now();
    let mut extras = scim.extras();
    let previous = extras.get(id).cloned();
    extras.insert(
        id.to_owned(),
        Extras {
            external_id: user
                .get("externalId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            active: user.get("active").and_then(Value::as_bool),
            enterprise: user
                .get(ENTERPRISE_USER)
                .filter(|value| value.is_object())
                .cloned(),
            created: created
                .or(previous.map(|previous| previous.created))
                .unwrap_or_else(|| stamp.clone()),
            last_modified: stamp,
        },
    );
}

/// Hands the recorded `externalId` to identitystore (as AWS's SCIM endpoint does), so `DescribeGroup`/
/// `DescribeUser`/`List…` show it in `ExternalIds` and `GetGroupId`/`GetUserId` find it.
/// A user's enterprise extension goes with it (identitystore `Extensions`).
async fn publish_external_id(scim: &Scim, id: &str) -> Result<(), ScimError> {
    let (external_id, enterprise) = scim
        .extras()
        .get(id)
        .map(|extras| (extras.external_id.clone(), extras.enterprise.clone()))
        .unwrap_or_default();
    scim.store
        .record_external_id(id, &scim.issuer, external_id.as_deref())
        .await?;
    scim.store
        .record_enterprise_extension(id, enterprise.as_ref())
        .await
}

async fn current_user(scim: &Scim, store: &str, id: &str) -> Result<Value, ScimError> {
    let user = scim
        .store
        .user(store, id)
        .await
        .map_err(|error| match error.status {
            404 => ScimError::not_found(format!("User {id} not found")),
            _ => error,
        })?;
    Ok(render_user(scim, user, &extras_for(scim, id)))
}

pub async fn create_user(scim: &Scim, body: Value) -> Result<Response, ScimError> {
    let Value::Object(mut user) = body else {
        unreachable!("parse_body returns objects")
    };
    validate_user(&mut user)?;
    let store = scim.store.store_id().await?;
    ensure_unique_user(scim, &store, &user, None).await?;
    let id = scim
        .store
        .create_user(&store, &Value::Object(user.clone()))
        .await?;
    record_extras(scim, &id, &user, None);
    publish_external_id(scim, &id).await?;
    let rendered = current_user(scim, &store, &id).await?;
    Ok(created_response(
        &rendered,
        &format!("{}Users/{id}", scim.endpoint),
    ))
}

pub async fn get_user(
    scim: &Scim,
    id: &str,
    query: &HashMap<String, String>,
) -> Result<Response, ScimError> {
    let store = scim.store.store_id().await?;
    let user = current_user(scim, &store, id).await?;
    Ok(scim_response(StatusCode::OK, &project(user, query)))
}

/// Every user of the store as SCIM renders it.
async fn rendered_users(scim: &Scim, store: &str) -> Result<Vec<Value>, ScimError> {
    Ok(scim
        .store
        .users(store)
        .await?
        .into_iter()
        .map(|user| {
            let id = text_of(&user, "id").to_owned();
            render_user(scim, user, &extras_for(scim, &id))
        })
        .collect())
}

fn text_of<'a>(resource: &'a Map<String, Value>, member: &str) -> &'a str {
    resource
        .get(member)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// RFC 7643 §2.2 / §4.1.1: `userName` (and an email's `value`) have caseExact false, so they compare without case.
fn same_text_ignoring_case(left: &str, right: &str) -> bool {
    left.to_lowercase() == right.to_lowercase()
}

/// What another user of the store may not share with `user`: its `userName` (RFC 7643 §4.1.1, uniqueness
/// "server", caseExact false), its primary email and its `externalId` (AWS re:Post "Refused to create a new,
/// duplicate resource": "the username, email address, or external ID attributes aren't a unique value").
async fn ensure_unique_user(
    scim: &Scim,
    store: &str,
    user: &Map<String, Value>,
    own_id: Option<&str>,
) -> Result<(), ScimError> {
    let user = Value::Object(user.clone());
    let email = user.pointer("/emails/0/value").and_then(Value::as_str);
    let external_id = user.get("externalId").and_then(Value::as_str);
    let user_name = user["userName"].as_str().unwrap_or_default();
    for other in rendered_users(scim, store).await? {
        if own_id.is_some_and(|own| other["id"] == own) {
            continue;
        }
        let clash = if other["userName"]
            .as_str()
            .is_some_and(|other| same_text_ignoring_case(other, user_name))
        {
            Some(format!("userName {user_name}"))
        } else if let Some(email) = email
            && other
                .pointer("/emails/0/value")
                .and_then(Value::as_str)
                .is_some_and(|other| same_text_ignoring_case(other, email))
        {
            Some(format!("email {email}"))
        } else if let Some(external_id) = external_id
            && other["externalId"] == external_id
        {
            Some(format!("externalId {external_id}"))
        } else {
            None
        };
        if let Some(clash) = clash {
            return Err(ScimError::conflict(format!(
                "User {} already has the {clash}",
                other["id"].as_str().unwrap_or_default()
            )));
        }
    }
    Ok(())
}

async fn user_matches(
    scim: &Scim,
    store: &str,
    user: &Value,
    comparison: &Comparison,
) -> Result<bool, ScimError> {
    let wanted = comparison.value.as_str();
    let id = user["id"].as_str().unwrap_or_default();
    Ok(match comparison.attribute.as_str() {
        "username" => user["userName"]
            .as_str()
            .is_some_and(|name| same_text_ignoring_case(name, wanted)),
        "externalid" => user["externalId"] == wanted,
        "id" => id == wanted,
        "manager" => user[ENTERPRISE_USER]["manager"]["value"] == wanted,
        "groups.value" => scim.store.is_member(store, wanted, id).await?,
        other => unreachable!("listing::USER_FILTERS admits no {other}"),
    })
}

/// ListUsers. "Not supported: startIndex, attributes, and excludedAttributes": they are ignored.
pub async fn list_users(
    scim: &Scim,
    query: &HashMap<String, String>,
) -> Result<Response, ScimError> {
    let comparisons = listing::supported_comparisons(query, USER_FILTERS)?;
    let store = scim.store.store_id().await?;
    let mut matching = Vec::new();
    for user in rendered_users(scim, &store).await? {
        let mut keep = true;
        for comparison in &comparisons {
            keep = keep && user_matches(scim, &store, &user, comparison).await?;
        }
        if keep {
            matching.push(user);
        }
    }
    listing::list_response(matching, query)
}

async fn store_user(
    scim: &Scim,
    store: &str,
    id: &str,
    mut user: Map<String, Value>,
) -> Result<Response, ScimError> {
    validate_user(&mut user)?;
    ensure_unique_user(scim, store, &user, Some(id)).await?;
    scim.store
        .replace_user(store, id, &Value::Object(user.clone()))
        .await?;
    record_extras(scim, id, &user, None);
    publish_external_id(scim, id).await?;
    Ok(scim_response(
        StatusCode::OK,
        &current_user(scim, store, id).await?,
    ))
}

pub async fn replace_user(scim: &Scim, id: &str, body: Value) -> Result<Response, ScimError> {
    let store = scim.store.store_id().await?;
    current_user(scim, &store, id).await?;
    let Value::Object(user) = body else {
        unreachable!("parse_body returns objects")
    };
    store_user(scim, &store, id, user).await
}

fn patch_operations(body: &Value) -> Result<&Vec<Value>, ScimError> {
    let declared = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|schemas| schemas.iter().any(|schema| schema == PATCH_OP));
    if !declared {
        return Err(ScimError::validation(format!(
            "a PATCH request must declare the schema {PATCH_OP}"
        )));
    }
    body.get("Operations")
        .and_then(Value::as_array)
        .filter(|operations| !operations.is_empty())
        .ok_or_else(|| ScimError::validation("a PATCH request needs a non-empty Operations list"))
}

/// PatchUser: "Modification is only allowed for the userName, active, externalId, displayName, nickName,
/// profileUrl, title, userType, preferredLanguage, locale, timezone, name, enterprise, emails, addresses, and
/// phoneNumbers attributes."
const PATCHABLE_USER_ATTRIBUTES: &[&str] = &[
    "userName",
    "active",
    "externalId",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "name",
    ENTERPRISE_USER,
    "emails",
    "addresses",
    "phoneNumbers",
];

/// The top-level attribute a PATCH path (or a key of a path-less value) addresses: `name.givenName` → `name`,
/// `emails[type eq "work"].value` → `emails`, `urn:…:enterprise:2.0:User:department` → the enterprise URN.
fn patched_attribute(path: &str) -> String {
    if path
        .get(..ENTERPRISE_USER.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(ENTERPRISE_USER))
    {
        return ENTERPRISE_USER.to_owned();
    }
    let local = path
        .get(..USER_SCHEMA.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(USER_SCHEMA))
        .map_or(path, |_| path[USER_SCHEMA.len()..].trim_start_matches(':'));
    let end = local.find(['.', '[']).unwrap_or(local.len());
    patch::canonical(&local[..end])
}

/// The PatchUser rules of the guide that concern the request itself rather than the resulting user.
fn check_user_patch(operations: &[Value]) -> Result<(), ScimError> {
    let mut user_name_operations = 0;
    let mut active_operations = 0;
    for operation in operations {
        let op = operation.get("op").and_then(Value::as_str).ok_or_else(|| {
            ScimError::validation("the operation must be specified in every PATCH operation")
        })?;
        let removes = op.eq_ignore_ascii_case("remove");
        let targets: Vec<String> = match operation.get("path").and_then(Value::as_str) {
            Some(path) if !path.is_empty() => vec![patched_attribute(path)],
            _ => match operation.get("value") {
                Some(Value::Object(members)) => {
                    members.keys().map(|key| patched_attribute(key)).collect()
                }
                _ => Vec::new(),
            },
        };
        for target in targets {
            if !PATCHABLE_USER_ATTRIBUTES.contains(&target.as_str()) {
                return Err(ScimError::validation(format!(
                    "{target} cannot be modified with PatchUser"
                )));
            }
            if removes && (target == "userName" || target == "active") {
                return Err(ScimError::validation(format!("{target} cannot be removed")));
            }
            user_name_operations += usize::from(target == "userName");
            active_operations += usize::from(target == "active");
        }
    }
    // "Not supported: Multiple PATCH operations on userName or active attribute".
    if user_name_operations > 1 || active_operations > 1 {
        return Err(ScimError::validation(
            "userName and active can each be changed by at most one operation per request",
        ));
    }
    Ok(())
}

pub async fn patch_user(scim: &Scim, id: &str, body: Value) -> Result<Response, ScimError> {
    let operations = patch_operations(&body)?;
    check_user_patch(operations)?;
    let store = scim.store.store_id().await?;
    let Value::Object(mut user) = current_user(scim, &store, id).await? else {
        unreachable!("users render as objects")
    };
    for operation in operations {
        patch::apply(&mut user, operation)?;
    }
    for read_only in ["meta", "schemas"] {
        user.remove(read_only);
    }
    store_user(scim, &store, id, user).await
}

pub async fn delete_user(scim: &Scim, id: &str) -> Result<Response, ScimError> {
    let store = scim.store.store_id().await?;
    current_user(scim, &store, id).await?;
    scim.store.remove_from_all_groups(&store, id).await?;
    scim.store.delete_user(&store, id).await?;
    scim.extras().remove(id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------- groups

fn render_group(scim: &Scim, id: &str, display_name: &str, extras: &Extras) -> Value {
    let mut group = json!({
        "schemas": [GROUP_SCHEMA],
        "id": id,
        "displayName": display_name,
        "meta": {
            "resourceType": "Group",
            "created": extras.created,
            "lastModified": extras.last_modified,
            "location": format!("{}Groups/{id}", scim.endpoint),
        },
    });
    if let Some(external_id) = &extras.external_id {
        group["externalId"] = json!(external_id);
    }
    group
}

async fn current_group(scim: &Scim, store: &str, id: &str) -> Result<Value, ScimError> {
    let (id, display_name) =
        scim.store
            .group(store, id)
            .await
            .map_err(|error| match error.status {
                404 => ScimError::not_found(format!("Group {id} not found")),
                _ => error,
            })?;
    Ok(render_group(
        scim,
        &id,
        &display_name,
        &extras_for(scim, &id),
    ))
}

fn set_group_extras(scim: &Scim, id: &str, external_id: Option<Option<String>>) {
    let stamp = now();
    let mut extras = scim.extras();
    let entry = extras.entry(id.to_owned()).or_insert_with(|| Extras {
        created: stamp.clone(),
        ..Extras::default()
    });
    if let Some(external_id) = external_id {
        entry.external_id = external_id;
    }
    entry.last_modified = stamp;
}

fn member_ids(value: &Value) -> Result<Vec<String>, ScimError> {
    let items = match value {
        Value::Array(items) => items.clone(),
        Value::Object(_) => vec![value.clone()],
        _ => {
            return Err(ScimError::validation(
                "members must be a list of {\"value\": <user id>}",
            ));
        }
    };
    items
        .iter()
        .map(|item| {
            item.get("value")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ScimError::validation("every member needs a value (the user id)"))
        })
        .collect()
}

pub async fn create_group(scim: &Scim, body: Value) -> Result<Response, ScimError> {
    let display_name = string_member(&body, "displayName")
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| ScimError::validation("displayName is required"))?;
    let members = body
        .get("members")
        .map(member_ids)
        .transpose()?
        .unwrap_or_default();
    // CreateGroup: "A maximum of 100 members can be added in a single request."
    if members.len() > MAX_MEMBERSHIP_CHANGES {
        return Err(ScimError::validation(format!(
            "at most {MAX_MEMBERSHIP_CHANGES} members can be added in one request, got {}",
            members.len()
        )));
    }
    let store = scim.store.store_id().await?;
    let external_id = string_member(&body, "externalId");
    ensure_unique_group_external_id(scim, &store, external_id.as_deref(), None).await?;
    let id = scim
        .store
        .create_group(&store, &display_name)
        .await
        .map_err(|error| match error.status {
            409 => ScimError::conflict(format!(
                "Group with displayName {display_name} already exists"
            )),
            _ => error,
        })?;
    set_group_extras(scim, &id, Some(external_id));
    publish_external_id(scim, &id).await?;
    for member in members {
        scim.store.add_member(&store, &id, &member).await?;
    }
    let rendered = current_group(scim, &store, &id).await?;
    Ok(created_response(
        &rendered,
        &format!("{}Groups/{id}", scim.endpoint),
    ))
}

pub async fn get_group(
    scim: &Scim,
    id: &str,
    query: &HashMap<String, String>,
) -> Result<Response, ScimError> {
    let store = scim.store.store_id().await?;
    let group = current_group(scim, &store, id).await?;
    Ok(scim_response(StatusCode::OK, &project(group, query)))
}

/// AWS re:Post "Refused to create a new, duplicate resource": the error "can also occur when the display name or
/// external ID isn't a unique value for groups" (identitystore keeps display names unique itself).
async fn ensure_unique_group_external_id(
    scim: &Scim,
    store: &str,
    external_id: Option<&str>,
    own_id: Option<&str>,
) -> Result<(), ScimError> {
    let Some(external_id) = external_id else {
        return Ok(());
    };
    for (id, _) in scim.store.groups(store).await? {
        if own_id != Some(id.as_str())
            && extras_for(scim, &id).external_id.as_deref() == Some(external_id)
        {
            return Err(ScimError::conflict(format!(
                "Group {id} already has the externalId {external_id}"
            )));
        }
    }
    Ok(())
}

pub async fn list_groups(
    scim: &Scim,
    query: &HashMap<String, String>,
) -> Result<Response, ScimError> {
    let comparisons = listing::supported_comparisons(query, GROUP_FILTERS)?;
    let store = scim.store.store_id().await?;
    // ListGroups errors: "ResourceNotFoundException: When filter querying with a nonexisting member." (404)
    for comparison in &comparisons {
        if comparison.attribute.starts_with("members") {
            scim.store
                .user(&store, &comparison.value)
                .await
                .map_err(|error| match error.status {
                    404 => {
                        ScimError::not_found(format!("member {} does not exist", comparison.value))
                    }
                    _ => error,
                })?;
        }
    }
    let mut matching = Vec::new();
    for (id, display_name) in scim.store.groups(&store).await? {
        let rendered = render_group(scim, &id, &display_name, &extras_for(scim, &id));
        let mut keep = true;
        for comparison in &comparisons {
            keep = keep
                && match comparison.attribute.as_str() {
                    // RFC 7643 §4.2: a group's displayName has caseExact false.
                    "displayname" => same_text_ignoring_case(&display_name, &comparison.value),
                    "externalid" => rendered["externalId"] == comparison.value.as_str(),
                    "id" => id == comparison.value,
                    _ => scim.store.is_member(&store, &id, &comparison.value).await?,
                };
        }
        if keep {
            matching.push(project(rendered, query));
        }
    }
    listing::list_response(matching, query)
}

async fn rename_group(
    scim: &Scim,
    store: &str,
    id: &str,
    display_name: &str,
) -> Result<(), ScimError> {
    scim.store
        .rename_group(store, id, display_name)
        .await
        .map_err(|error| match error.status {
            409 => ScimError::conflict(format!(
                "Group with displayName {display_name} already exists"
            )),
            _ => error,
        })
}

enum GroupChange {
    Rename(String),
    ExternalId(Option<String>),
    AddMembers(Vec<String>),
    RemoveMembers(Vec<String>),
}

fn group_change(
    op: &str,
    path: Option<&str>,
    value: Option<&Value>,
) -> Result<Vec<GroupChange>, ScimError> {
    let Some(path) = path else {
        let Some(Value::Object(members)) = value else {
            return Err(ScimError::validation(
                "an operation without path needs an object value",
            ));
        };
        let mut changes = Vec::new();
        // AWS's own PatchGroup example replaces `{"id": …, "displayName": …}` without a path: the read-only `id`
        // (RFC 7643 §3.1) is accepted and left alone.
        for (key, member_value) in members.iter().filter(|(key, _)| *key != "id") {
            changes.extend(group_change(op, Some(key), Some(member_value))?);
        }
        return Ok(changes);
    };
    let lowered = path.to_ascii_lowercase();
    if let Some(filter_text) = lowered
        .strip_prefix("members[")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        let comparisons = filter::parse(&path[8..8 + filter_text.len()])?;
        let [
            Comparison {
                attribute,
                value: user,
                ..
            },
        ] = comparisons.as_slice()
        else {
            return Err(ScimError::validation(format!(
                "unsupported members filter in {path}"
            )));
        };
        if attribute != "value" || op != "remove" {
            return Err(ScimError::validation(format!(
                "unsupported members path {path} for {op}"
            )));
        }
        return Ok(vec![GroupChange::RemoveMembers(vec![user.clone()])]);
    }
    match (lowered.as_str(), op) {
        ("displayname", "add" | "replace") => {
            let name = value
                .and_then(Value::as_str)
                .filter(|name| !name.trim().is_empty())
                .ok_or_else(|| ScimError::validation("displayName must be a non-empty string"))?;
            Ok(vec![GroupChange::Rename(name.to_owned())])
        }
        ("displayname", _) => Err(ScimError::validation("displayName cannot be removed")),
        ("externalid", "add" | "replace") => Ok(vec![GroupChange::ExternalId(
            value.and_then(Value::as_str).map(str::to_owned),
        )]),
        ("externalid", _) => Ok(vec![GroupChange::ExternalId(None)]),
        ("members", "add") => Ok(vec![GroupChange::AddMembers(member_ids(
            value.unwrap_or(&Value::Null),
        )?)]),
        ("members", "remove") => match value {
            Some(value) if !value.is_null() => {
                Ok(vec![GroupChange::RemoveMembers(member_ids(value)?)])
            }
            _ => Err(ScimError::validation(
                "removing all members of a group is not supported by IAM Identity Center",
            )),
        },
        ("members", _) => Err(ScimError::validation(
            "replacing the members of a group is not supported by IAM Identity Center",
        )),
        _ => Err(ScimError::validation(format!(
            "only displayName, members and externalId can be patched on a group, not {path}"
        ))),
    }
}

pub async fn patch_group(scim: &Scim, id: &str, body: Value) -> Result<Response, ScimError> {
    let operations = patch_operations(&body)?;
    let mut changes = Vec::new();
    for operation in operations {
        let op = operation
            .get("op")
            .and_then(Value::as_str)
            .ok_or_else(|| ScimError::validation("every PATCH operation needs an op"))?
            .to_ascii_lowercase();
        if !matches!(op.as_str(), "add" | "replace" | "remove") {
            return Err(ScimError::validation(format!(
                "unsupported PATCH op '{op}'"
            )));
        }
        let path = operation
            .get("path")
            .and_then(Value::as_str)
            .filter(|path| !path.is_empty());
        changes.extend(group_change(&op, path, operation.get("value"))?);
    }
    let membership_changes: usize = changes
        .iter()
        .map(|change| match change {
            GroupChange::AddMembers(users) | GroupChange::RemoveMembers(users) => users.len(),
            _ => 0,
        })
        .sum();
    if membership_changes > MAX_MEMBERSHIP_CHANGES {
        return Err(ScimError::validation(format!(
            "at most {MAX_MEMBERSHIP_CHANGES} membership changes are allowed in one request, got {membership_changes}"
        )));
    }
    let store = scim.store.store_id().await?;
    current_group(scim, &store, id).await?;
    for change in &changes {
        if let GroupChange::ExternalId(external_id) = change {
            ensure_unique_group_external_id(scim, &store, external_id.as_deref(), Some(id)).await?;
        }
    }
    let external_id_changed = changes
        .iter()
        .any(|change| matches!(change, GroupChange::ExternalId(_)));
    for change in changes {
        match change {
            GroupChange::Rename(name) => rename_group(scim, &store, id, &name).await?,
            GroupChange::ExternalId(external_id) => set_group_extras(scim, id, Some(external_id)),
            GroupChange::AddMembers(users) => {
                for user in users {
                    scim.store.add_member(&store, id, &user).await?;
                }
            }
            GroupChange::RemoveMembers(users) => {
                for user in users {
                    scim.store.remove_member(&store, id, &user).await?;
                }
            }
        }
    }
    set_group_extras(scim, id, None);
    if external_id_changed {
        publish_external_id(scim, id).await?;
    }
    // AWS answers a successful group PATCH with 204 and no body.
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete_group(scim: &Scim, id: &str) -> Result<Response, ScimError> {
    let store = scim.store.store_id().await?;
    current_group(scim, &store, id).await?;
    scim.store.delete_group(&store, id).await?;
    scim.extras().remove(id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_need_the_aws_required_fields_and_single_values() {
        let mut user = json!({"userName": "a", "displayName": "A", "name": {"givenName": "A"}})
            .as_object()
            .unwrap()
            .clone();
        assert!(
            validate_user(&mut user)
                .unwrap_err()
                .detail
                .contains("familyName")
        );
        user.insert("name".into(), json!({"givenName": "A", "familyName": "B"}));
        user.insert("active".into(), json!("False"));
        validate_user(&mut user).unwrap();
        assert_eq!(user["active"], false);
        user.insert("emails".into(), json!([{"value": "a@x"}, {"value": "b@x"}]));
        assert_eq!(validate_user(&mut user).unwrap_err().status, 400);
    }

    #[test]
    fn patches_name_the_attribute_they_change() {
        assert_eq!(patched_attribute("name.givenName"), "name");
        assert_eq!(
            patched_attribute("emails[type eq \"work\"].value"),
            "emails"
        );
        assert_eq!(patched_attribute("USERNAME"), "userName");
        assert_eq!(
            patched_attribute(&format!("{ENTERPRISE_USER}:manager.value")),
            ENTERPRISE_USER
        );
        assert_eq!(patched_attribute(&format!("{USER_SCHEMA}:title")), "title");
        assert!(
            check_user_patch(&[json!({"op": "replace", "path": "password", "value": "x"})])
                .is_err()
        );
        assert!(check_user_patch(&[json!({"op": "add", "value": {"nickName": "n"}})]).is_ok());
    }

    #[test]
    fn attributes_and_excluded_attributes_project_the_resource() {
        let user = json!({"id": "1", "schemas": ["s"], "userName": "a", "profileUrl": "p",
                          "name": {"givenName": "G", "familyName": "F"}});
        let only = |params: &[(&str, &str)]| {
            let query: HashMap<String, String> = params
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect();
            project(user.clone(), &query)
        };
        assert_eq!(
            only(&[("attributes", "userName,name.givenName")]),
            json!({"id": "1", "schemas": ["s"], "userName": "a", "name": {"givenName": "G"}})
        );
        let excluded = only(&[("excludedAttributes", "profileUrl,name.familyName,id")]);
        assert!(excluded.get("profileUrl").is_none());
        assert_eq!(excluded["name"], json!({"givenName": "G"}));
        assert_eq!(excluded["id"], "1");
    }

    #[test]
    fn group_patch_styles() {
        let add = group_change(
            "add",
            Some("members"),
            Some(&json!([{"value": "u1"}, {"value": "u2"}])),
        )
        .unwrap();
        assert!(matches!(&add[..], [GroupChange::AddMembers(users)] if users == &["u1", "u2"]));
        let remove = group_change("remove", Some("members[value eq \"u1\"]"), None).unwrap();
        assert!(matches!(&remove[..], [GroupChange::RemoveMembers(users)] if users == &["u1"]));
        let entra_remove =
            group_change("remove", Some("members"), Some(&json!([{"value": "u2"}]))).unwrap();
        assert!(
            matches!(&entra_remove[..], [GroupChange::RemoveMembers(users)] if users == &["u2"])
        );
        let no_path = group_change(
            "replace",
            None,
            Some(&json!({"displayName": "New", "externalId": "e"})),
        )
        .unwrap();
        assert_eq!(no_path.len(), 2);
        assert!(group_change("remove", Some("members"), None).is_err());
        assert!(group_change("replace", Some("members"), Some(&json!([]))).is_err());
    }
}
