//! identitystore around moto: UpdateGroup/UpdateUser (moto answers 500) are kept as overlays that every read
//! applies, so lookups by display name or user name see the updated values. `ExternalIds`, which only AWS's
//! SCIM endpoint sets, are recorded by the SCIM stand-in and overlaid the same way; `GetGroupId`/`GetUserId`
//! by `ExternalId` (not implemented in moto) search them.

use serde_json::{Map, Value, json};

use super::json::{AwsError, required_str};
use super::{Proxy, Service};

#[derive(Clone, Copy)]
enum Kind {
    Group,
    User,
}

impl Kind {
    fn id_member(self) -> &'static str {
        match self {
            Kind::Group => "GroupId",
            Kind::User => "UserId",
        }
    }
    fn list_operation(self) -> &'static str {
        match self {
            Kind::Group => "ListGroups",
            Kind::User => "ListUsers",
        }
    }
    fn list_member(self) -> &'static str {
        match self {
            Kind::Group => "Groups",
            Kind::User => "Users",
        }
    }
    fn describe_operation(self) -> &'static str {
        match self {
            Kind::Group => "DescribeGroup",
            Kind::User => "DescribeUser",
        }
    }
}

/// moto accepts any identity store id (and answers from an empty store); AWS knows only the ones that exist.
async fn ensure_identity_store(proxy: &Proxy, input: &Value) -> Result<(), AwsError> {
    let Some(store_id) = input.get("IdentityStoreId").and_then(Value::as_str) else {
        return Ok(());
    };
    let known = super::sso::instances(proxy)
        .await?
        .iter()
        .any(|instance| instance["IdentityStoreId"] == store_id);
    if known {
        return Ok(());
    }
    let mut error = AwsError::not_found(format!("Identity store {store_id} not found."));
    error
        .extra
        .insert("ResourceType".into(), json!("IDENTITY_STORE"));
    Err(error)
}

pub(super) async fn dispatch(
    proxy: &Proxy,
    operation: &str,
    input: Value,
) -> Result<Value, AwsError> {
    ensure_identity_store(proxy, &input).await?;
    let mut output = answer(proxy, operation, &input).await?;
    match operation {
        "CreateGroup" | "CreateUser" => {
            if let Some(id) = output
                .get("GroupId")
                .or_else(|| output.get("UserId"))
                .and_then(Value::as_str)
            {
                proxy
                    .state()
                    .created_at
                    .insert(id.to_owned(), std::time::Instant::now());
            }
        }
        "ListGroups" | "ListUsers" if !has_filters(&input) => {}
        "ListGroups" | "ListUsers" => {
            output = proxy
                .models
                .identitystore
                .paginate(operation, &input, output)?;
        }
        _ => {}
    }
    proxy
        .models
        .identitystore
        .complete_output(operation, &mut output, &|member, object| {
            derived_member(proxy, member, object)
        });
    Ok(output)
}

/// The members the model requires in answers and moto leaves out: the resources' ARNs (the documented
/// `arn:aws:identitystore:::group/<id>` form) and `Revision`, which changes with each update.
fn derived_member(proxy: &Proxy, member: &str, object: &Map<String, Value>) -> Option<Value> {
    let id_of = |id_member: &str| object.get(id_member).and_then(Value::as_str);
    let arn = |kind: &str, id: &str| json!(format!("arn:aws:identitystore:::{kind}/{id}"));
    match member {
        "GroupArn" => id_of("GroupId").map(|id| arn("group", id)),
        "UserArn" => id_of("UserId").map(|id| arn("user", id)),
        "MembershipArn" => id_of("MembershipId").map(|id| arn("membership", id)),
        "Revision" => {
            let id = id_of("GroupId").or_else(|| id_of("UserId"))?;
            let revision = proxy.state().revisions.get(id).copied().unwrap_or(1);
            Some(json!(revision.to_string()))
        }
        _ => None,
    }
}

fn has_filters(input: &Value) -> bool {
    input
        .get("Filters")
        .and_then(Value::as_array)
        .is_some_and(|filters| !filters.is_empty())
}

/// A group or user created less than `read_lag_ms` ago is not found yet.
fn lagging(proxy: &Proxy, id: &str) -> bool {
    proxy.state().lagging(id, std::time::Instant::now())
}

async fn answer(proxy: &Proxy, operation: &str, input: &Value) -> Result<Value, AwsError> {
    let input = input.clone();
    match operation {
        "UpdateGroup" => update(proxy, &input, Kind::Group).await,
        "UpdateUser" => update(proxy, &input, Kind::User).await,
        "DescribeGroup" => describe(proxy, &input, Kind::Group).await,
        "DescribeUser" => describe(proxy, &input, Kind::User).await,
        "ListGroups" => list(proxy, &input, Kind::Group).await,
        "ListUsers" => list(proxy, &input, Kind::User).await,
        "GetGroupId" => get_id(proxy, &input, Kind::Group).await,
        "GetUserId" => get_id(proxy, &input, Kind::User).await,
        "CreateGroupMembership" => create_membership(proxy, &input).await,
        "DeleteGroup" | "DeleteUser" => {
            let output = proxy
                .moto(Service::IdentityStore, operation, &input)
                .await?;
            let member = if operation == "DeleteGroup" {
                "GroupId"
            } else {
                "UserId"
            };
            if let Some(id) = input.get(member).and_then(Value::as_str) {
                let mut state = proxy.state();
                state.overlays.remove(id);
                state.external_ids.remove(id);
                state.extensions.remove(id);
                state.revisions.remove(id);
                state.created_at.remove(id);
            }
            Ok(output)
        }
        _ => proxy.moto(Service::IdentityStore, operation, &input).await,
    }
}

/// moto links any ids and stores duplicates; AWS needs an existing group and user and keeps one membership.
async fn create_membership(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let store_id = required_str(input, "IdentityStoreId")?;
    let group_id = required_str(input, "GroupId")?;
    let user_id = input
        .pointer("/MemberId/UserId")
        .and_then(Value::as_str)
        .ok_or_else(|| AwsError::validation("MemberId.UserId is required"))?;
    proxy
        .moto(
            Service::IdentityStore,
            "DescribeGroup",
            &json!({"IdentityStoreId": store_id, "GroupId": group_id}),
        )
        .await?;
    proxy
        .moto(
            Service::IdentityStore,
            "DescribeUser",
            &json!({"IdentityStoreId": store_id, "UserId": user_id}),
        )
        .await?;
    let listed = proxy
        .moto(
            Service::IdentityStore,
            "ListGroupMemberships",
            &json!({"IdentityStoreId": store_id, "GroupId": group_id}),
        )
        .await?;
    let exists = listed
        .get("GroupMemberships")
        .and_then(Value::as_array)
        .is_some_and(|memberships| {
            memberships
                .iter()
                .any(|membership| membership.pointer("/MemberId/UserId") == Some(&json!(user_id)))
        });
    if exists {
        let mut error = AwsError::conflict("Member already exists in the group");
        error
            .extra
            .insert("Reason".into(), json!("UNIQUENESS_CONSTRAINT_VIOLATION"));
        return Err(error);
    }
    proxy
        .moto(Service::IdentityStore, "CreateGroupMembership", input)
        .await
}

/// `name.givenName` → `["Name", "GivenName"]`: the API member path for an attribute path.
fn member_path(attribute_path: &str) -> Vec<String> {
    attribute_path
        .split('.')
        .map(|segment| {
            let mut chars = segment.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
        .collect()
}

/// Complex attribute values arrive with attribute-path spelling (`[{"value": …, "primary": true}]`);
/// reads answer them with API member spelling (`[{"Value": …, "Primary": true}]`).
fn capitalize_keys(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .map(|(key, member)| (member_path(&key).join("."), capitalize_keys(member)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(capitalize_keys).collect()),
        other => other,
    }
}

fn set_path(target: &mut Map<String, Value>, path: &[String], value: &Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = target;
    for parent in parents {
        let entry = current.entry(parent.clone()).or_insert_with(|| json!({}));
        if !entry.is_object() {
            *entry = json!({});
        }
        let Some(next) = entry.as_object_mut() else {
            return;
        };
        current = next;
    }
    if value.is_null() {
        current.remove(last);
    } else {
        current.insert(last.clone(), value.clone());
    }
}

fn apply_overlay(item: &mut Value, overlay: &Map<String, Value>) {
    let Some(object) = item.as_object_mut() else {
        return;
    };
    for (path, value) in overlay {
        let path: Vec<String> = path.split('.').map(str::to_owned).collect();
        set_path(object, &path, value);
    }
}

fn overlay_item(proxy: &Proxy, item: &mut Value, kind: Kind) {
    let Some(id) = item
        .get(kind.id_member())
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return;
    };
    let state = proxy.state();
    if let Some(overlay) = state.overlays.get(&id) {
        apply_overlay(item, overlay);
    }
    let Some(object) = item.as_object_mut() else {
        return;
    };
    match state.external_ids.get(&id) {
        Some(external_ids) => {
            object.insert("ExternalIds".into(), Value::Array(external_ids.clone()));
        }
        // moto answers `[]`; the model's list has at least one entry, so AWS leaves the member out.
        None => {
            if object
                .get("ExternalIds")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty)
            {
                object.remove("ExternalIds");
            }
        }
    }
}

/// Checks a body of `PUT /_proxy/external-ids/{id}` (`{"ExternalIds": [{"Issuer": …, "Id": …}]}`) against the
/// service model's `ExternalIds` shape (1 to 10 entries, both members 1 to 256 characters); an empty list
/// means "none" and clears them.
pub(super) fn parse_external_ids(body: &Value) -> Result<Vec<Value>, String> {
    let items = body
        .get("ExternalIds")
        .and_then(Value::as_array)
        .ok_or("the body must be {\"ExternalIds\": [{\"Issuer\": …, \"Id\": …}]}")?;
    if items.len() > 10 {
        return Err(format!(
            "at most 10 ExternalIds are allowed, got {}",
            items.len()
        ));
    }
    items
        .iter()
        .map(|item| {
            let member = |name: &str| {
                item.get(name)
                    .and_then(Value::as_str)
                    .filter(|text| (1..=256).contains(&text.chars().count()))
                    .map(str::to_owned)
                    .ok_or(format!(
                        "every ExternalId needs {name} as a string of 1 to 256 characters"
                    ))
            };
            Ok(json!({"Issuer": member("Issuer")?, "Id": member("Id")?}))
        })
        .collect()
}

/// Both members must match; AWS compares them as given (no case folding).
fn carries_external_id(item: &Value, issuer: &str, id: &str) -> bool {
    item.get("ExternalIds")
        .and_then(Value::as_array)
        .is_some_and(|ids| {
            ids.iter()
                .any(|entry| entry["Issuer"] == issuer && entry["Id"] == id)
        })
}

/// Records (or, with an empty list, forgets) the external ids of a group or user.
pub(super) fn set_external_ids(proxy: &Proxy, id: &str, external_ids: Vec<Value>) {
    let mut state = proxy.state();
    if external_ids.is_empty() {
        state.external_ids.remove(id);
    } else {
        state.external_ids.insert(id.to_owned(), external_ids);
    }
}

async fn update(proxy: &Proxy, input: &Value, kind: Kind) -> Result<Value, AwsError> {
    let store_id = required_str(input, "IdentityStoreId")?;
    let id = required_str(input, kind.id_member())?;
    let operations = input
        .get("Operations")
        .and_then(Value::as_array)
        .filter(|operations| !operations.is_empty())
        .ok_or_else(|| AwsError::validation("Operations must contain at least one operation"))?;
    let mut changes = Vec::new();
    for operation in operations {
        let path = operation
            .get("AttributePath")
            .and_then(Value::as_str)
            .ok_or_else(|| AwsError::validation("AttributePath is required"))?;
        let members = member_path(path);
        if matches!(kind, Kind::Group)
            && !matches!(members[0].as_str(), "DisplayName" | "Description")
        {
            return Err(AwsError::validation(format!(
                "Attribute path {path} cannot be updated on a group"
            )));
        }
        if members[0] == "UserId" || members[0] == "GroupId" || members[0] == "IdentityStoreId" {
            return Err(AwsError::validation(format!(
                "Attribute path {path} is read-only"
            )));
        }
        let value = operation
            .get("AttributeValue")
            .cloned()
            .unwrap_or(Value::Null);
        changes.push((members.join("."), capitalize_keys(value)));
    }
    // Existence check; answers ResourceNotFoundException like AWS for an unknown id.
    proxy
        .moto(
            Service::IdentityStore,
            kind.describe_operation(),
            &json!({"IdentityStoreId": store_id, kind.id_member(): id}),
        )
        .await?;
    if matches!(kind, Kind::Group)
        && let Some((_, Value::String(name))) =
            changes.iter().find(|(path, _)| path == "DisplayName")
    {
        let others = all_items(proxy, store_id, kind).await?;
        if others
            .iter()
            .any(|other| other["DisplayName"] == *name.as_str() && other["GroupId"] != id)
        {
            let mut error = AwsError::conflict("Duplicate GroupDisplayName");
            error
                .extra
                .insert("Reason".into(), json!("UNIQUENESS_CONSTRAINT_VIOLATION"));
            return Err(error);
        }
    }
    let mut state = proxy.state();
    let overlay = state.overlays.entry(id.to_owned()).or_default();
    for (path, value) in changes {
        overlay.insert(path, value);
    }
    *state.revisions.entry(id.to_owned()).or_insert(1) += 1;
    Ok(json!({"IdentityStoreId": store_id, kind.id_member(): id}))
}

async fn describe(proxy: &Proxy, input: &Value, kind: Kind) -> Result<Value, AwsError> {
    if input
        .get(kind.id_member())
        .and_then(Value::as_str)
        .is_some_and(|id| lagging(proxy, id))
    {
        return Err(not_found(kind));
    }
    let mut output = proxy
        .moto(Service::IdentityStore, kind.describe_operation(), input)
        .await?;
    overlay_item(proxy, &mut output, kind);
    if matches!(kind, Kind::User) {
        with_requested_extensions(proxy, input, &mut output);
    }
    Ok(output)
}

/// The extension names the identitystore model allows (`ExtensionName`: `aws:identitystore:[a-z]{1,20}`); its
/// documentation: "`aws:identitystore:enterprise` is the only supported extension name".
const ENTERPRISE_EXTENSION: &str = "aws:identitystore:enterprise";

/// DescribeUser answers `Extensions` only for the names its request's `Extensions` lists.
fn with_requested_extensions(proxy: &Proxy, input: &Value, user: &mut Value) {
    let Some(id) = user.get("UserId").and_then(Value::as_str) else {
        return;
    };
    let requested: Vec<&str> = input
        .get("Extensions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let state = proxy.state();
    let Some(recorded) = state.extensions.get(id) else {
        return;
    };
    let answered: Map<String, Value> = recorded
        .iter()
        .filter(|(name, _)| requested.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    if !answered.is_empty() {
        user["Extensions"] = Value::Object(answered);
    }
}

/// Checks a body of `PUT /_proxy/extensions/{id}`: an `Extensions` object keyed by supported extension names
/// (at most 10, the model's map limit), each value a JSON object.
pub(super) fn parse_extensions(body: &Value) -> Result<Map<String, Value>, String> {
    let extensions = body
        .get("Extensions")
        .and_then(Value::as_object)
        .ok_or("the body must be {\"Extensions\": {\"aws:identitystore:enterprise\": {...}}}")?;
    if extensions.len() > 10 {
        return Err(format!(
            "at most 10 Extensions are allowed, got {}",
            extensions.len()
        ));
    }
    for (name, value) in extensions {
        if name != ENTERPRISE_EXTENSION {
            return Err(format!(
                "{name:?} is not a supported extension; only {ENTERPRISE_EXTENSION}"
            ));
        }
        if !value.is_object() {
            return Err(format!("the value of {name} must be an object"));
        }
    }
    Ok(extensions.clone())
}

pub(super) fn set_extensions(proxy: &Proxy, id: &str, extensions: Map<String, Value>) {
    let mut state = proxy.state();
    if extensions.is_empty() {
        state.extensions.remove(id);
    } else {
        state.extensions.insert(id.to_owned(), extensions);
    }
}

/// Every group/user of the store with overlays applied (moto pages are followed).
async fn all_items(proxy: &Proxy, store_id: &str, kind: Kind) -> Result<Vec<Value>, AwsError> {
    let mut items = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let mut request = json!({"IdentityStoreId": store_id, "MaxResults": 100});
        if let Some(token) = &next_token {
            request["NextToken"] = json!(token);
        }
        let page = proxy
            .moto(Service::IdentityStore, kind.list_operation(), &request)
            .await?;
        items.extend(
            page.get(kind.list_member())
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        );
        next_token = page
            .get("NextToken")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if next_token.is_none() {
            break;
        }
    }
    items.retain(|item| {
        !item
            .get(kind.id_member())
            .and_then(Value::as_str)
            .is_some_and(|id| lagging(proxy, id))
    });
    for item in &mut items {
        overlay_item(proxy, item, kind);
    }
    Ok(items)
}

fn attribute<'a>(item: &'a Value, attribute_path: &str) -> Option<&'a Value> {
    member_path(attribute_path)
        .iter()
        .try_fold(item, |current, member| current.get(member))
}

async fn list(proxy: &Proxy, input: &Value, kind: Kind) -> Result<Value, AwsError> {
    let filters = input
        .get("Filters")
        .and_then(Value::as_array)
        .filter(|filters| !filters.is_empty());
    let Some(filters) = filters else {
        let mut output = proxy
            .moto(Service::IdentityStore, kind.list_operation(), input)
            .await?;
        if let Some(items) = output
            .get_mut(kind.list_member())
            .and_then(Value::as_array_mut)
        {
            items.retain(|item| {
                !item
                    .get(kind.id_member())
                    .and_then(Value::as_str)
                    .is_some_and(|id| lagging(proxy, id))
            });
            items
                .iter_mut()
                .for_each(|item| overlay_item(proxy, item, kind));
        }
        return Ok(output);
    };
    // Filtered in the proxy so updated values match; [`dispatch`] pages the result.
    let store_id = required_str(input, "IdentityStoreId")?;
    let items: Vec<Value> = all_items(proxy, store_id, kind)
        .await?
        .into_iter()
        .filter(|item| {
            filters.iter().all(|filter| {
                let path = filter
                    .get("AttributePath")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let wanted = filter
                    .get("AttributeValue")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                attribute(item, path).and_then(Value::as_str) == Some(wanted)
            })
        })
        .collect();
    Ok(json!({ kind.list_member(): items }))
}

fn not_found(kind: Kind) -> AwsError {
    let resource_type = match kind {
        Kind::Group => "GROUP",
        Kind::User => "USER",
    };
    let mut error = AwsError::not_found(format!("{resource_type} not found."));
    error
        .extra
        .insert("ResourceType".into(), json!(resource_type));
    error
}

async fn get_id(proxy: &Proxy, input: &Value, kind: Kind) -> Result<Value, AwsError> {
    let unique = input.pointer("/AlternateIdentifier/UniqueAttribute");
    let external = input.pointer("/AlternateIdentifier/ExternalId");
    let store_id = match (unique, external) {
        (None, None) => {
            return proxy
                .moto(
                    Service::IdentityStore,
                    if matches!(kind, Kind::Group) {
                        "GetGroupId"
                    } else {
                        "GetUserId"
                    },
                    input,
                )
                .await;
        }
        // A union in the service model: exactly one member.
        (Some(_), Some(_)) => {
            return Err(AwsError::validation(
                "AlternateIdentifier must have exactly one of UniqueAttribute and ExternalId",
            ));
        }
        _ => required_str(input, "IdentityStoreId")?,
    };
    let found = if let Some(external) = external {
        let wanted = |member: &str| {
            external
                .get(member)
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .ok_or_else(|| {
                    AwsError::validation(format!(
                        "AlternateIdentifier.ExternalId.{member} is required"
                    ))
                })
        };
        let (issuer, id) = (wanted("Issuer")?, wanted("Id")?);
        all_items(proxy, store_id, kind)
            .await?
            .into_iter()
            .find(|item| carries_external_id(item, issuer, id))
    } else {
        let unique = unique.unwrap_or(&Value::Null);
        let path = unique
            .get("AttributePath")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let wanted = unique
            .get("AttributeValue")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let allowed = match kind {
            Kind::Group => ["displayName"].as_slice(),
            Kind::User => ["userName", "emails.value"].as_slice(),
        };
        if !allowed.contains(&path) {
            return Err(AwsError::validation(format!(
                "AttributePath {path} is not a unique attribute"
            )));
        }
        all_items(proxy, store_id, kind)
            .await?
            .into_iter()
            .find(|item| match path {
                "emails.value" => {
                    item.get("Emails")
                        .and_then(Value::as_array)
                        .is_some_and(|emails| {
                            emails.iter().any(|email| {
                                email.get("Value").and_then(Value::as_str) == Some(wanted)
                            })
                        })
                }
                _ => attribute(item, path).and_then(Value::as_str) == Some(wanted),
            })
    };
    let id = found
        .as_ref()
        .and_then(|item| item.get(kind.id_member()))
        .cloned()
        .ok_or_else(|| not_found(kind))?;
    Ok(json!({ kind.id_member(): id, "IdentityStoreId": store_id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_paths_map_to_members() {
        assert_eq!(member_path("name.givenName"), vec!["Name", "GivenName"]);
        assert_eq!(member_path("displayName"), vec!["DisplayName"]);
    }

    #[test]
    fn overlays_set_nested_members_and_remove_nulls() {
        let mut item =
            json!({"UserId": "u", "Name": {"GivenName": "A", "FamilyName": "B"}, "Title": "t"});
        let mut overlay = Map::new();
        overlay.insert("Name.GivenName".into(), json!("Z"));
        overlay.insert("Title".into(), Value::Null);
        apply_overlay(&mut item, &overlay);
        assert_eq!(
            item,
            json!({"UserId": "u", "Name": {"GivenName": "Z", "FamilyName": "B"}})
        );
    }

    #[test]
    fn external_ids_follow_the_service_model_shape() {
        let one =
            json!({"ExternalIds": [{"Issuer": "https://scim.aws.com/t", "Id": "g1", "Extra": 1}]});
        assert_eq!(
            parse_external_ids(&one).unwrap(),
            vec![json!({"Issuer": "https://scim.aws.com/t", "Id": "g1"})]
        );
        assert_eq!(
            parse_external_ids(&json!({"ExternalIds": []})).unwrap(),
            Vec::<Value>::new()
        );
        for bad in [
            json!({}),
            json!({"ExternalIds": "g1"}),
            json!({"ExternalIds": [{"Issuer": "i"}]}),
            json!({"ExternalIds": [{"Issuer": "", "Id": "g1"}]}),
            json!({"ExternalIds": [{"Issuer": "i", "Id": "x".repeat(257)}]}),
            json!({"ExternalIds": vec![json!({"Issuer": "i", "Id": "g"}); 11]}),
        ] {
            assert!(parse_external_ids(&bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn external_id_lookups_need_issuer_and_id_to_match() {
        let group = json!({"GroupId": "g", "ExternalIds": [{"Issuer": "https://scim.aws.com/t", "Id": "e1"}]});
        assert!(carries_external_id(&group, "https://scim.aws.com/t", "e1"));
        assert!(!carries_external_id(
            &group,
            "https://scim.aws.com/other",
            "e1"
        ));
        assert!(!carries_external_id(&group, "https://scim.aws.com/t", "E1"));
        assert!(!carries_external_id(
            &json!({"GroupId": "g", "ExternalIds": []}),
            "i",
            "e1"
        ));
    }
}
