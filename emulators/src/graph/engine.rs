//! The provisioning engine: pushes the users and groups assigned to an application to its SCIM endpoint the way
//! Entra's AWS IAM Identity Center connector does (look-up by userName/displayName before create, group members
//! with PATCH add/remove, users disabled and groups deleted when they leave scope).
//!
//! Attribute values come from the job schema's attribute mappings (Attribute, Constant, Join and the
//! Switch([IsSoftDeleted]) used for `active`), so a schema change changes what is sent.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::state::{AppState, Kind};

/// What the engine remembers between runs, per job: Entra object id → SCIM id, the attribute values last
/// exported, and which SCIM users it put into each group.
#[derive(Debug, Default, Clone)]
pub struct Escrow {
    pub users: HashMap<String, String>,
    pub groups: HashMap<String, String>,
    pub exported: HashMap<String, BTreeMap<String, Value>>,
    pub group_members: HashMap<String, BTreeSet<String>>,
}

/// Required by AWS IAM Identity Center; Entra skips users that lack them.
const REQUIRED_USER_ATTRIBUTES: [&str; 4] = [
    "userName",
    "displayName",
    "name.givenName",
    "name.familyName",
];

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Deleted,
    Skipped(String),
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct EntryResult {
    pub object_id: String,
    pub object_type: &'static str,
    pub display_name: String,
    pub target_id: Option<String>,
    pub outcome: Outcome,
}

#[derive(Debug)]
pub enum RunFailure {
    /// The SCIM endpoint answered 401/403: Entra quarantines the job.
    Unauthorized(String),
    /// No credentials saved, or the endpoint could not be reached at all.
    Unavailable(String),
}

#[derive(Debug, Clone)]
pub struct Subject {
    pub object_id: String,
    pub object_type: String,
    /// Object ids from the subject's `links.members`: the only members a group's on-demand run provisions.
    pub members: Vec<String>,
}

pub struct ScimTarget {
    pub base_address: String,
    pub token: String,
}

enum ScimError {
    Unauthorized(String),
    Transport(String),
    Status(u16, String),
}

impl ScimTarget {
    /// The endpoint saved in a job's secrets, if both BaseAddress and SecretToken are there.
    pub fn from_secrets(secrets: &[(String, String)]) -> Option<ScimTarget> {
        let get = |key: &str| {
            secrets
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        Some(ScimTarget {
            base_address: get("BaseAddress")?,
            token: get("SecretToken")?,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_address.trim_end_matches('/'))
    }

    async fn call(
        &self,
        http: &reqwest::Client,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ScimError> {
        let mut request = http
            .request(method.clone(), self.url(path))
            .bearer_auth(&self.token)
            .header("accept", "application/scim+json");
        if let Some(body) = body {
            request = request
                .header("content-type", "application/scim+json")
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|e| ScimError::Transport(format!("{method} {path}: {e}")))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        match status {
            200..=299 => Ok(serde_json::from_str(&text).unwrap_or(Value::Null)),
            401 | 403 => Err(ScimError::Unauthorized(format!(
                "Received response from Web resource. Resource: {} Method: {method} Response Status Code: {} Response Content: {text}",
                self.url(path),
                if status == 401 {
                    "Unauthorized"
                } else {
                    "Forbidden"
                }
            ))),
            _ => Err(ScimError::Status(status, text)),
        }
    }

    /// A SCIM PatchOp request with `operations`.
    async fn patch(
        &self,
        http: &reqwest::Client,
        path: &str,
        operations: Vec<Value>,
    ) -> Result<Value, ScimError> {
        self.call(http, Method::PATCH, path, Some(&patch_body(operations)))
            .await
    }

    /// `GET {resource}?filter=attribute eq "value"`: the SCIM id of the one match, if any.
    async fn find(
        &self,
        http: &reqwest::Client,
        resource: &str,
        attribute: &str,
        value: &str,
        extra: &str,
    ) -> Result<Option<String>, ScimError> {
        let filter = format!(
            "{attribute} eq \"{}\"",
            value.replace('\\', "\\\\").replace('"', "\\\"")
        );
        let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes())
            .collect::<String>()
            .replace('+', "%20");
        let found = self
            .call(
                http,
                Method::GET,
                &format!("/{resource}?filter={encoded}{extra}"),
                None,
            )
            .await?;
        Ok(found["Resources"]
            .as_array()
            .and_then(|r| r.first())
            .and_then(|r| r["id"].as_str())
            .map(str::to_string))
    }
}

/// Graph properties visible to attribute mappings, under the names Entra's schema uses.
fn source_attribute(object: &Value, name: &str) -> Value {
    match name {
        "objectId" => object["id"].clone(),
        // The emulator has no soft-deleted objects.
        "IsSoftDeleted" => Value::String("False".into()),
        // Properties of complex values under their dotted names, e.g. `employeeOrgData.costCenter` (the
        // source attribute list of Entra's provisioning schema editor).
        other => other
            .split('.')
            .try_fold(object, |value, name| value.get(name))
            .cloned()
            .unwrap_or(Value::Null),
    }
}

fn evaluate(source: &Value, object: &Value) -> Value {
    let parameter = |key: &str| {
        source["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["key"] == key)
            .map(|p| evaluate(&p["value"], object))
            .unwrap_or(Value::Null)
    };
    match source["type"].as_str().unwrap_or_default() {
        "Attribute" => source_attribute(object, source["name"].as_str().unwrap_or_default()),
        "Constant" => source["name"].clone(),
        "Function" => match source["name"].as_str().unwrap_or_default() {
            "Join" => {
                let separator = parameter("separator");
                let parts: Vec<String> = ["source1", "source2", "source3"]
                    .iter()
                    .filter_map(|k| parameter(k).as_str().map(str::to_string))
                    .filter(|s| !s.is_empty())
                    .collect();
                if parts.is_empty() {
                    Value::Null
                } else {
                    Value::String(parts.join(separator.as_str().unwrap_or(" ")))
                }
            }
            // Switch([IsSoftDeleted], , "False", "True", "True", "False"): active unless soft-deleted.
            "Switch" => Value::Bool(parameter("source").as_str() != Some("True")),
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

fn object_mapping<'a>(rule: &'a Value, source_object: &str) -> Option<&'a Value> {
    rule["objectMappings"]
        .as_array()?
        .iter()
        .find(|m| m["sourceObjectName"] == source_object && m["enabled"] == true)
}

/// Evaluates an object mapping's attribute mappings into SCIM attribute paths → values (nulls left out).
/// `members` is handled separately because it references other objects.
pub fn map_attributes(
    rule: &Value,
    source_object: &str,
    object: &Value,
) -> BTreeMap<String, Value> {
    let Some(mapping) = object_mapping(rule, source_object) else {
        return BTreeMap::new();
    };
    mapping["attributeMappings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let target = m["targetAttributeName"].as_str()?;
            if target == "members" {
                return None;
            }
            let value = evaluate(&m["source"], object);
            let value = if value.is_null() {
                m["defaultValue"]
                    .as_str()
                    .map(|d| Value::String(d.into()))?
            } else {
                value
            };
            Some((target.to_string(), value))
        })
        .collect()
}

/// `urn:ietf:params:scim:schemas:extension:<name>:2.0:User:<attribute>` → (schema URN, attribute).
fn extension_path(path: &str) -> Option<(&str, &str)> {
    if !path.starts_with("urn:ietf:params:scim:schemas:extension:") {
        return None;
    }
    path.rsplit_once(':')
}

/// Builds the SCIM resource for a POST from flat attribute paths (`name.givenName`, `emails[type eq "work"].value`).
pub fn scim_resource(schema: &str, attributes: &BTreeMap<String, Value>) -> Value {
    let mut resource = Map::new();
    resource.insert("schemas".into(), json!([schema]));
    for (path, value) in attributes {
        // An extension attribute: `urn:…:enterprise:2.0:User:costCenter` (RFC 7644 §3.10), or a sub-attribute of
        // one, `urn:…:User:manager.value`.
        if let Some((urn, attribute)) = extension_path(path) {
            let extension = resource.entry(urn.to_string()).or_insert_with(|| json!({}));
            match attribute.split_once('.') {
                Some((parent, child)) => extension[parent][child] = value.clone(),
                None => extension[attribute] = value.clone(),
            }
            if let Some(schemas) = resource["schemas"].as_array_mut()
                && !schemas.iter().any(|s| s == urn)
            {
                schemas.push(json!(urn));
            }
            continue;
        }
        if let Some((multi, rest)) = path.split_once('[') {
            // emails[type eq "work"].value → emails: [{type: work, value, primary: true}]
            let kind = rest.split('"').nth(1).unwrap_or("work");
            let field = rest.rsplit('.').next().unwrap_or("value");
            let entry = json!({"type": kind, field: value, "primary": true});
            if let Some(entries) = resource
                .entry(multi.to_string())
                .or_insert_with(|| json!([]))
                .as_array_mut()
            {
                entries.push(entry);
            }
        } else if let Some((parent, child)) = path.split_once('.') {
            let parent = resource
                .entry(parent.to_string())
                .or_insert_with(|| json!({}));
            parent[child] = value.clone();
        } else {
            resource.insert(path.clone(), value.clone());
        }
    }
    Value::Object(resource)
}

fn patch_body(operations: Vec<Value>) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

fn replace_operations(
    previous: Option<&BTreeMap<String, Value>>,
    current: &BTreeMap<String, Value>,
) -> Vec<Value> {
    current
        .iter()
        .filter(|(path, value)| previous.and_then(|p| p.get(*path)) != Some(value))
        .map(|(path, value)| json!({"op": "Replace", "path": path, "value": value}))
        .collect()
}

/// Everything one run needs, read under the store lock so no lock is held during HTTP calls.
pub struct Snapshot {
    pub target: Option<ScimTarget>,
    pub rule: Value,
    pub users: BTreeMap<String, Value>,
    pub groups: BTreeMap<String, (Value, Vec<String>)>,
}

/// Users and groups in scope for the service principal: assigned directly, or (users) through an assigned group.
pub fn snapshot(
    state: &AppState,
    sp_id: &str,
    job_id: &str,
) -> Option<(Snapshot, Arc<tokio::sync::Mutex<()>>)> {
    let store = state.store();
    let sync = store.synchronization.get(sp_id)?;
    let job = sync.jobs.get(job_id)?;
    let target = ScimTarget::from_secrets(&sync.secrets);
    let rule = job.schema["synchronizationRules"][0].clone();
    let mut users = BTreeMap::new();
    let mut groups = BTreeMap::new();
    for assignment in store
        .collection(Kind::AppRoleAssignment)
        .values()
        .filter(|a| a["resourceId"] == sp_id)
    {
        let principal = assignment["principalId"].as_str().unwrap_or_default();
        if let Some(user) = store.get(Kind::User, principal) {
            users.insert(principal.to_string(), user.clone());
        } else if let Some(group) = store.get(Kind::Group, principal) {
            let members: Vec<String> = store
                .members
                .get(principal)
                .into_iter()
                .flatten()
                .filter(|m| store.get(Kind::User, m).is_some())
                .cloned()
                .collect();
            for member in &members {
                if let Some(user) = store.get(Kind::User, member) {
                    users.insert(member.clone(), user.clone());
                }
            }
            groups.insert(principal.to_string(), (group.clone(), members));
        }
    }
    Some((
        Snapshot {
            target,
            rule,
            users,
            groups,
        },
        job.run_lock.clone(),
    ))
}

fn failure(error: ScimError) -> Result<Outcome, RunFailure> {
    match error {
        ScimError::Unauthorized(message) => Err(RunFailure::Unauthorized(message)),
        ScimError::Transport(message) => Err(RunFailure::Unavailable(message)),
        ScimError::Status(status, body) => Ok(Outcome::Failed(format!(
            "SCIM endpoint answered HTTP {status}: {body}"
        ))),
    }
}

struct Run<'a> {
    http: &'a reqwest::Client,
    target: &'a ScimTarget,
    rule: &'a Value,
    escrow: Escrow,
    results: Vec<EntryResult>,
}

impl Run<'_> {
    fn record(
        &mut self,
        object_id: &str,
        object_type: &'static str,
        display_name: &str,
        target_id: Option<String>,
        outcome: Outcome,
    ) {
        self.results.push(EntryResult {
            object_id: object_id.into(),
            object_type,
            display_name: display_name.into(),
            target_id,
            outcome,
        });
    }

    async fn export_user(&mut self, user: &Value) -> Result<(), RunFailure> {
        let object_id = user["id"].as_str().unwrap_or_default().to_string();
        let display = user["userPrincipalName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let attributes = map_attributes(self.rule, "User", user);
        if let Some(missing) = REQUIRED_USER_ATTRIBUTES
            .iter()
            .find(|a| attributes.get(**a).is_none_or(|v| v.as_str() == Some("")))
        {
            let reason = format!(
                "The user is missing the required attribute '{missing}'; AWS IAM Identity Center requires userName, displayName, name.givenName and name.familyName."
            );
            self.record(&object_id, "User", &display, None, Outcome::Skipped(reason));
            return Ok(());
        }
        let user_name = attributes["userName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        // The match step again (see `export_group`): a user deleted in the target behind Entra's back is
        // matched again or created, not taken as still there.
        if let Some(known) = self.escrow.users.get(&object_id).cloned()
            && let Err(ScimError::Status(404, _)) = self
                .target
                .call(self.http, Method::GET, &format!("/Users/{known}"), None)
                .await
        {
            self.escrow.users.remove(&object_id);
            self.escrow.exported.remove(&object_id);
        }
        let (target_id, outcome) = match self.escrow.users.get(&object_id).cloned() {
            Some(scim_id) => (Some(scim_id), None),
            None => match self
                .target
                .find(self.http, "Users", "userName", &user_name, "")
                .await
            {
                Ok(found) => (found, None),
                Err(e) => (None, Some(failure(e)?)),
            },
        };
        let outcome = match (outcome, target_id.clone()) {
            (Some(failed), _) => failed,
            (None, Some(scim_id)) => {
                let operations =
                    replace_operations(self.escrow.exported.get(&object_id), &attributes);
                if operations.is_empty() {
                    Outcome::Unchanged
                } else {
                    match self
                        .target
                        .patch(self.http, &format!("/Users/{scim_id}"), operations)
                        .await
                    {
                        Ok(_) => Outcome::Updated,
                        // Deleted in the target behind Entra's back: forget it so the next cycle matches or
                        // creates it again instead of failing forever.
                        Err(ScimError::Status(404, _)) => {
                            self.escrow.users.remove(&object_id);
                            self.escrow.exported.remove(&object_id);
                            let reason = "The user no longer exists in the target; it is created again on the next cycle.";
                            self.record(
                                &object_id,
                                "User",
                                &display,
                                None,
                                Outcome::Failed(reason.into()),
                            );
                            return Ok(());
                        }
                        Err(e) => failure(e)?,
                    }
                }
            }
            (None, None) => {
                let resource =
                    scim_resource("urn:ietf:params:scim:schemas:core:2.0:User", &attributes);
                match self
                    .target
                    .call(self.http, Method::POST, "/Users", Some(&resource))
                    .await
                {
                    Ok(created) => {
                        let id = created["id"].as_str().unwrap_or_default().to_string();
                        self.escrow.users.insert(object_id.clone(), id.clone());
                        self.escrow
                            .exported
                            .insert(object_id.clone(), attributes.clone());
                        self.record(&object_id, "User", &display, Some(id), Outcome::Created);
                        return Ok(());
                    }
                    Err(e) => failure(e)?,
                }
            }
        };
        if let (Some(scim_id), Outcome::Updated | Outcome::Unchanged) = (&target_id, &outcome) {
            self.escrow.users.insert(object_id.clone(), scim_id.clone());
            self.escrow.exported.insert(object_id.clone(), attributes);
        }
        self.record(&object_id, "User", &display, target_id, outcome);
        Ok(())
    }

    /// Exports a group and its membership. `partial` (on-demand runs) only adds the given members and never
    /// removes others, since the run saw only some of them.
    async fn export_group(
        &mut self,
        group: &Value,
        members: &[String],
        partial: bool,
    ) -> Result<(), RunFailure> {
        let object_id = group["id"].as_str().unwrap_or_default().to_string();
        let display = group["displayName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let attributes = map_attributes(self.rule, "Group", group);
        let mut scim_id = self.escrow.groups.get(&object_id).cloned();
        // Entra matches every exported object against the target ("Match user between source and target
        // system", the on-demand provisioning steps in Microsoft's docs), so a group deleted in the target behind
        // Entra's back is matched again or created, not taken as still there.
        if let Some(known) = scim_id.clone() {
            let path = format!("/Groups/{known}?excludedAttributes=members");
            if let Err(ScimError::Status(404, _)) =
                self.target.call(self.http, Method::GET, &path, None).await
            {
                scim_id = None;
                self.escrow.groups.remove(&object_id);
                self.escrow.exported.remove(&object_id);
                self.escrow.group_members.remove(&object_id);
            }
        }
        let mut outcome = Outcome::Unchanged;
        if scim_id.is_none() {
            match self
                .target
                .find(
                    self.http,
                    "Groups",
                    "displayName",
                    &display,
                    "&excludedAttributes=members",
                )
                .await
            {
                Ok(Some(found)) => scim_id = Some(found),
                Ok(None) => {
                    let mut resource =
                        scim_resource("urn:ietf:params:scim:schemas:core:2.0:Group", &attributes);
                    resource["members"] = json!([]);
                    match self
                        .target
                        .call(self.http, Method::POST, "/Groups", Some(&resource))
                        .await
                    {
                        Ok(created) => {
                            scim_id = created["id"].as_str().map(str::to_string);
                            self.escrow
                                .exported
                                .insert(object_id.clone(), attributes.clone());
                            outcome = Outcome::Created;
                        }
                        Err(e) => outcome = failure(e)?,
                    }
                }
                Err(e) => outcome = failure(e)?,
            }
        }
        let Some(group_scim_id) = scim_id else {
            self.record(&object_id, "Group", &display, None, outcome);
            return Ok(());
        };
        self.escrow
            .groups
            .insert(object_id.clone(), group_scim_id.clone());
        if outcome != Outcome::Created {
            let operations = replace_operations(self.escrow.exported.get(&object_id), &attributes);
            if !operations.is_empty() {
                match self
                    .target
                    .patch(self.http, &format!("/Groups/{group_scim_id}"), operations)
                    .await
                {
                    Ok(_) => {
                        self.escrow.exported.insert(object_id.clone(), attributes);
                        outcome = Outcome::Updated;
                    }
                    Err(e) => outcome = failure(e)?,
                }
            }
        }
        let desired: BTreeSet<String> = members
            .iter()
            .filter_map(|m| self.escrow.users.get(m).cloned())
            .collect();
        let known = self
            .escrow
            .group_members
            .get(&object_id)
            .cloned()
            .unwrap_or_default();
        let reference = |ids: Vec<&String>| {
            Value::Array(ids.into_iter().map(|id| json!({"value": id})).collect())
        };
        let added: Vec<&String> = desired.difference(&known).collect();
        let removed: Vec<&String> = if partial {
            Vec::new()
        } else {
            known.difference(&desired).collect()
        };
        let mut operations = Vec::new();
        if !added.is_empty() {
            operations.push(json!({"op": "Add", "path": "members", "value": reference(added)}));
        }
        if !removed.is_empty() {
            operations
                .push(json!({"op": "Remove", "path": "members", "value": reference(removed)}));
        }
        if !operations.is_empty() {
            match self
                .target
                .patch(self.http, &format!("/Groups/{group_scim_id}"), operations)
                .await
            {
                Ok(_) => {
                    let now_members = if partial {
                        desired.union(&known).cloned().collect()
                    } else {
                        desired
                    };
                    self.escrow
                        .group_members
                        .insert(object_id.clone(), now_members);
                    if outcome == Outcome::Unchanged {
                        outcome = Outcome::Updated;
                    }
                }
                Err(e) => outcome = failure(e)?,
            }
        }
        self.record(&object_id, "Group", &display, Some(group_scim_id), outcome);
        Ok(())
    }

    /// Objects exported earlier that are no longer in scope: groups are deleted, users disabled.
    async fn remove_out_of_scope(&mut self, snapshot: &Snapshot) -> Result<(), RunFailure> {
        let stale_groups: Vec<(String, String)> = self
            .escrow
            .groups
            .iter()
            .filter(|(id, _)| !snapshot.groups.contains_key(*id))
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect();
        for (object_id, scim_id) in stale_groups {
            let outcome = match self
                .target
                .call(
                    self.http,
                    Method::DELETE,
                    &format!("/Groups/{scim_id}"),
                    None,
                )
                .await
            {
                Ok(_) | Err(ScimError::Status(404, _)) => {
                    self.escrow.groups.remove(&object_id);
                    self.escrow.group_members.remove(&object_id);
                    self.escrow.exported.remove(&object_id);
                    Outcome::Deleted
                }
                Err(e) => failure(e)?,
            };
            self.record(&object_id, "Group", "", Some(scim_id), outcome);
        }
        let stale_users: Vec<(String, String)> = self
            .escrow
            .users
            .iter()
            .filter(|(id, _)| !snapshot.users.contains_key(*id))
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect();
        for (object_id, scim_id) in stale_users {
            let disable = vec![json!({"op": "Replace", "path": "active", "value": false})];
            let outcome = match self
                .target
                .patch(self.http, &format!("/Users/{scim_id}"), disable)
                .await
            {
                Ok(_) | Err(ScimError::Status(404, _)) => {
                    self.escrow.users.remove(&object_id);
                    self.escrow.exported.remove(&object_id);
                    Outcome::Deleted
                }
                Err(e) => failure(e)?,
            };
            self.record(&object_id, "User", "", Some(scim_id), outcome);
        }
        Ok(())
    }
}

/// Runs one provisioning pass. `subjects: None` is a full cycle; `Some` is provision-on-demand for those objects.
/// Returns the per-object results, or why the whole run failed.
pub async fn run(
    state: &Arc<AppState>,
    sp_id: &str,
    job_id: &str,
    subjects: Option<&[Subject]>,
) -> Result<Vec<EntryResult>, RunFailure> {
    let Some((snapshot, run_lock)) = snapshot(state, sp_id, job_id) else {
        return Err(RunFailure::Unavailable("The job no longer exists.".into()));
    };
    let _serialised = run_lock.lock().await;
    // The escrow is read under the run lock: a run that just finished may have changed it.
    let escrow = state
        .store()
        .synchronization
        .get(sp_id)
        .and_then(|s| s.jobs.get(job_id))
        .map(|j| j.escrow.clone())
        .unwrap_or_default();
    let Some(target) = snapshot.target.as_ref() else {
        return Err(RunFailure::Unavailable(
            "Provisioning credentials (BaseAddress, SecretToken) have not been saved.".into(),
        ));
    };
    let mut run = Run {
        http: &state.http,
        target,
        rule: &snapshot.rule,
        escrow,
        results: Vec::new(),
    };
    let outcome = async {
        match subjects {
            None => {
                for user in snapshot.users.values() {
                    run.export_user(user).await?;
                }
                for (group, members) in snapshot.groups.values() {
                    run.export_group(group, members, false).await?;
                }
                run.remove_out_of_scope(&snapshot).await
            }
            Some(subjects) => {
                for subject in subjects {
                    let id = subject.object_id.as_str();
                    if subject.object_type.eq_ignore_ascii_case("group") {
                        match snapshot.groups.get(id) {
                            Some((group, direct_users)) => {
                                // Only the members the request links, and of those only direct user members.
                                let mut linked = Vec::new();
                                for member in &subject.members {
                                    if direct_users.contains(member) {
                                        run.export_user(&snapshot.users[member]).await?;
                                        linked.push(member.clone());
                                    } else {
                                        run.record(
                                            member,
                                            "User",
                                            "",
                                            None,
                                            Outcome::Skipped(
                                                "The linked member is not a direct user member of the group."
                                                    .into(),
                                            ),
                                        );
                                    }
                                }
                                run.export_group(group, &linked, true).await?;
                            }
                            None => run.record(
                                id,
                                "Group",
                                "",
                                None,
                                Outcome::Skipped(not_in_scope("group")),
                            ),
                        }
                    } else {
                        match snapshot.users.get(id) {
                            Some(user) => run.export_user(user).await?,
                            None => run.record(
                                id,
                                "User",
                                "",
                                None,
                                Outcome::Skipped(not_in_scope("user")),
                            ),
                        }
                    }
                }
                Ok(())
            }
        }
    }
    .await;
    let Run {
        escrow, results, ..
    } = run;
    if let Some(job) = state
        .store()
        .synchronization
        .get_mut(sp_id)
        .and_then(|s| s.jobs.get_mut(job_id))
    {
        job.escrow = escrow;
    }
    outcome.map(|()| results)
}

fn not_in_scope(kind: &str) -> String {
    format!(
        "The {kind} is not assigned to the application (directly or through a group), so it is out of provisioning scope."
    )
}

/// Calls the SCIM endpoint the way "Test connection" does: a look-up of a user that cannot exist.
pub async fn validate(http: &reqwest::Client, target: &ScimTarget) -> Result<(), String> {
    let probe = uuid::Uuid::new_v4().to_string();
    match target.find(http, "Users", "userName", &probe, "").await {
        Ok(_) => Ok(()),
        Err(ScimError::Unauthorized(details) | ScimError::Transport(details)) => Err(details),
        Err(ScimError::Status(status, body)) => Err(format!(
            "Response Status Code: {status} Response Content: {body}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::sync::aws_schema;

    #[test]
    fn maps_users_with_the_aws_template_schema() {
        let schema = aws_schema("t");
        let rule = &schema["synchronizationRules"][0];
        let user = json!({"id": "u1", "userPrincipalName": "ada@example.com", "displayName": "Ada Lovelace",
                          "givenName": "Ada", "surname": "Lovelace", "mail": "ada@example.com", "mailNickname": "ada"});
        let attributes = map_attributes(rule, "User", &user);
        assert_eq!(attributes["userName"], "ada@example.com");
        assert_eq!(attributes["name.formatted"], "Ada Lovelace");
        assert_eq!(attributes["active"], true);
        let resource = scim_resource("urn:ietf:params:scim:schemas:core:2.0:User", &attributes);
        assert_eq!(resource["name"]["givenName"], "Ada");
        assert_eq!(resource["name"]["familyName"], "Lovelace");
        assert_eq!(
            resource["emails"],
            json!([{"type": "work", "value": "ada@example.com", "primary": true}])
        );
        assert_eq!(resource["displayName"], "Ada Lovelace");
    }

    #[test]
    fn maps_complex_sources_into_the_enterprise_extension() {
        let mut schema = aws_schema("t");
        let costs = json!({"defaultValue": null, "exportMissingReferences": false, "flowBehavior": "FlowWhenChanged",
            "flowType": "Always", "matchingPriority": 0,
            "source": {"expression": "[employeeOrgData.costCenter]", "name": "employeeOrgData.costCenter", "parameters": [], "type": "Attribute"},
            "targetAttributeName": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"});
        schema["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"]
            .as_array_mut()
            .unwrap()
            .push(costs);
        let rule = &schema["synchronizationRules"][0];
        let user = json!({"id": "u1", "userPrincipalName": "ada@example.com", "employeeOrgData": {"costCenter": "CC-42"}});
        let attributes = map_attributes(rule, "User", &user);
        let resource = scim_resource("urn:ietf:params:scim:schemas:core:2.0:User", &attributes);
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        assert_eq!(resource[enterprise]["costCenter"], "CC-42");
        assert!(
            resource["schemas"]
                .as_array()
                .unwrap()
                .contains(&json!(enterprise))
        );
    }

    #[test]
    fn maps_groups_with_object_id_as_external_id() {
        let schema = aws_schema("t");
        let rule = &schema["synchronizationRules"][0];
        let attributes =
            map_attributes(rule, "Group", &json!({"id": "g1", "displayName": "Admins"}));
        assert_eq!(attributes["displayName"], "Admins");
        assert_eq!(attributes["externalId"], "g1");
        assert!(!attributes.contains_key("members"));
    }

    #[test]
    fn replace_operations_only_cover_changed_attributes() {
        let before: BTreeMap<String, Value> = [
            ("displayName".to_string(), json!("A")),
            ("active".to_string(), json!(true)),
        ]
        .into();
        let after: BTreeMap<String, Value> = [
            ("displayName".to_string(), json!("B")),
            ("active".to_string(), json!(true)),
        ]
        .into();
        let ops = replace_operations(Some(&before), &after);
        assert_eq!(
            ops,
            vec![json!({"op": "Replace", "path": "displayName", "value": "B"})]
        );
    }
}
