//! SCIM PATCH (RFC 7644 §3.5.2) applied to a user's JSON, including the styles Entra ID sends:
//! no-path operations with dotted keys (`"name.givenName"`), filtered paths (`emails[type eq "work"].value`),
//! extension URN paths, capitalised op names and `"True"`/`"False"` strings for booleans.

use serde_json::{Map, Value};

use super::ScimError;

pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The spelling this server writes for an attribute given in any case.
pub fn canonical(name: &str) -> String {
    const KNOWN: &[&str] = &[
        "userName",
        "name",
        "givenName",
        "familyName",
        "formatted",
        "middleName",
        "honorificPrefix",
        "honorificSuffix",
        "displayName",
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "active",
        "emails",
        "value",
        "type",
        "primary",
        "addresses",
        "streetAddress",
        "locality",
        "region",
        "postalCode",
        "country",
        "phoneNumbers",
        "externalId",
        "members",
        "display",
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
        "manager",
        "schemas",
        "id",
    ];
    KNOWN
        .iter()
        .find(|known| known.eq_ignore_ascii_case(name))
        .map(|known| (*known).to_owned())
        .unwrap_or_else(|| name.to_owned())
}

#[derive(Debug, PartialEq)]
struct Path {
    extension: Option<String>,
    attribute: String,
    filter: Option<(String, String)>,
    sub_attribute: Option<String>,
}

fn parse_path(path: &str) -> Result<Path, ScimError> {
    let bad = || ScimError::validation(format!("cannot parse PATCH path '{path}'"));
    let (extension, local) = if path.to_ascii_lowercase().starts_with("urn:") {
        let (urn, local) = path.rsplit_once(':').ok_or_else(bad)?;
        // `urn:…:User:manager.value` splits fine; a bare URN has no attribute.
        (Some(urn.to_owned()), local)
    } else {
        (None, path)
    };
    let (head, filter, tail) = match local.split_once('[') {
        Some((head, rest)) => {
            let (inside, tail) = rest.split_once(']').ok_or_else(bad)?;
            let comparisons = super::filter::parse(inside)?;
            let [comparison] = comparisons.as_slice() else {
                return Err(bad());
            };
            (
                head,
                Some((canonical(&comparison.attribute), comparison.value.clone())),
                tail.strip_prefix('.'),
            )
        }
        None => match local.split_once('.') {
            Some((head, sub)) => (head, None, Some(sub)),
            None => (local, None, None),
        },
    };
    if head.is_empty() {
        return Err(bad());
    }
    Ok(Path {
        extension,
        attribute: canonical(head),
        filter,
        sub_attribute: tail.filter(|sub| !sub.is_empty()).map(canonical),
    })
}

fn container<'a>(
    resource: &'a mut Map<String, Value>,
    extension: &Option<String>,
) -> &'a mut Map<String, Value> {
    let Some(urn) = extension else {
        return resource;
    };
    let entry = resource
        .entry(urn.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut().expect("just made an object")
}

fn matches(element: &Value, attribute: &str, wanted: &str) -> bool {
    match element.get(attribute) {
        Some(Value::String(text)) => text == wanted,
        Some(Value::Bool(flag)) => flag.to_string().eq_ignore_ascii_case(wanted),
        _ => false,
    }
}

/// Applies one PATCH operation to `resource`.
pub fn apply(resource: &mut Map<String, Value>, operation: &Value) -> Result<(), ScimError> {
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
    let value = operation.get("value").cloned();
    let Some(path) = operation
        .get("path")
        .and_then(Value::as_str)
        .filter(|path| !path.is_empty())
    else {
        if op == "remove" {
            return Err(ScimError::validation(
                "the path is required for a remove operation",
            ));
        }
        let Some(Value::Object(members)) = value else {
            return Err(ScimError::validation(
                "an operation without path needs an object value",
            ));
        };
        for (key, member_value) in members {
            if key.eq_ignore_ascii_case(ENTERPRISE_USER) {
                apply_extension(resource, &op, Some(member_value))?;
                continue;
            }
            apply_path(resource, &op, &parse_path(&key)?, Some(member_value))?;
        }
        return Ok(());
    };
    if op != "remove" && value.is_none() {
        return Err(ScimError::validation(
            "a value is required for add and replace",
        ));
    }
    if path.eq_ignore_ascii_case(ENTERPRISE_USER) {
        return apply_extension(resource, &op, value);
    }
    apply_path(resource, &op, &parse_path(path)?, value)
}

/// The whole enterprise extension as the target: `add` merges, `replace` overwrites, `remove` drops it.
fn apply_extension(
    resource: &mut Map<String, Value>,
    op: &str,
    value: Option<Value>,
) -> Result<(), ScimError> {
    if op == "remove" {
        resource.remove(ENTERPRISE_USER);
        return Ok(());
    }
    let Some(Value::Object(members)) = value else {
        return Err(ScimError::validation(
            "the enterprise extension value must be an object",
        ));
    };
    let members: Map<String, Value> = members
        .into_iter()
        .filter(|(key, _)| key != "schemas")
        .map(|(key, member)| (canonical(&key), member))
        .collect();
    if op == "replace" {
        resource.insert(ENTERPRISE_USER.to_owned(), Value::Object(members));
    } else {
        container(resource, &Some(ENTERPRISE_USER.to_owned())).extend(members);
    }
    Ok(())
}

fn apply_path(
    resource: &mut Map<String, Value>,
    op: &str,
    path: &Path,
    value: Option<Value>,
) -> Result<(), ScimError> {
    let target = container(resource, &path.extension);
    match (&path.filter, &path.sub_attribute) {
        (None, None) => {
            let value = value.unwrap_or(Value::Null);
            match op {
                "remove" => match (target.get_mut(&path.attribute), value) {
                    (Some(Value::Array(existing)), Value::Array(removed)) => {
                        existing.retain(|element| {
                            !removed
                                .iter()
                                .any(|gone| gone.get("value") == element.get("value"))
                        });
                    }
                    _ => {
                        target.remove(&path.attribute);
                    }
                },
                "add" => match (target.get_mut(&path.attribute), value) {
                    (Some(Value::Array(existing)), Value::Array(added)) => existing.extend(added),
                    (Some(Value::Object(existing)), Value::Object(added)) => existing.extend(added),
                    (_, value) => {
                        target.insert(path.attribute.clone(), value);
                    }
                },
                _ => {
                    target.insert(path.attribute.clone(), value);
                }
            }
        }
        (None, Some(sub)) => {
            let entry = target
                .entry(path.attribute.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            // `emails.value` on a single-valued list (AWS allows one) addresses its only element.
            let object = match entry {
                Value::Array(elements) => {
                    if elements.is_empty() {
                        elements.push(Value::Object(Map::new()));
                    }
                    elements[0].as_object_mut()
                }
                other => {
                    if !other.is_object() {
                        *other = Value::Object(Map::new());
                    }
                    other.as_object_mut()
                }
            }
            .ok_or_else(|| {
                ScimError::validation(format!("{} has no sub-attributes", path.attribute))
            })?;
            match value {
                Some(value) if op != "remove" => {
                    object.insert(sub.clone(), value);
                }
                _ => {
                    object.remove(sub);
                }
            }
        }
        (Some((filter_attribute, filter_value)), sub) => {
            let entry = target
                .entry(path.attribute.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if !entry.is_array() {
                *entry = Value::Array(Vec::new());
            }
            let elements = entry.as_array_mut().expect("just made an array");
            let found = elements
                .iter()
                .position(|element| matches(element, filter_attribute, filter_value));
            match (op, sub, found) {
                ("remove", None, _) => {
                    elements.retain(|element| !matches(element, filter_attribute, filter_value))
                }
                ("remove", Some(sub), Some(index)) => {
                    if let Some(object) = elements[index].as_object_mut() {
                        object.remove(sub);
                    }
                }
                ("remove", Some(_), None) => {}
                (_, Some(sub), Some(index)) => {
                    if let Some(object) = elements[index].as_object_mut() {
                        object.insert(sub.clone(), value.unwrap_or(Value::Null));
                    }
                }
                (_, Some(sub), None) => {
                    let mut element = Map::new();
                    element.insert(
                        filter_attribute.clone(),
                        Value::String(filter_value.clone()),
                    );
                    element.insert(sub.clone(), value.unwrap_or(Value::Null));
                    elements.push(Value::Object(element));
                }
                (_, None, found) => {
                    let Some(Value::Object(mut replacement)) = value else {
                        return Err(ScimError::validation(
                            "a filtered path without sub-attribute needs an object value",
                        ));
                    };
                    replacement.insert(
                        filter_attribute.clone(),
                        Value::String(filter_value.clone()),
                    );
                    match found {
                        Some(index) => elements[index] = Value::Object(replacement),
                        None => elements.push(Value::Object(replacement)),
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patched(resource: Value, operations: Value) -> Value {
        let mut resource = resource.as_object().unwrap().clone();
        for operation in operations.as_array().unwrap() {
            apply(&mut resource, operation).unwrap();
        }
        Value::Object(resource)
    }

    #[test]
    fn entra_style_operations() {
        let user = json!({"userName": "a", "name": {"givenName": "A"}, "active": true,
                          "emails": [{"type": "work", "value": "a@x", "primary": true}]});
        let result = patched(
            user,
            json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "b@x"},
                {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Ops"},
                {"op": "Replace", "value": {"name.familyName": "B", "displayName": "A B"}},
            ]),
        );
        assert_eq!(result["active"], "False");
        assert_eq!(result["emails"][0]["value"], "b@x");
        assert_eq!(result[ENTERPRISE_USER]["department"], "Ops");
        assert_eq!(result["name"], json!({"givenName": "A", "familyName": "B"}));
        assert_eq!(result["displayName"], "A B");
    }

    #[test]
    fn remove_needs_a_path_and_removes_filtered_elements() {
        let mut resource = json!({"phoneNumbers": [{"type": "work", "value": "1"}]})
            .as_object()
            .unwrap()
            .clone();
        assert!(apply(&mut resource, &json!({"op": "remove"})).is_err());
        apply(
            &mut resource,
            &json!({"op": "remove", "path": "phoneNumbers[type eq \"work\"]"}),
        )
        .unwrap();
        assert_eq!(resource["phoneNumbers"], json!([]));
    }

    #[test]
    fn the_whole_enterprise_extension_can_be_replaced_and_removed() {
        let resource =
            json!({"userName": "a", ENTERPRISE_USER: {"department": "Old", "division": "D"}});
        let replaced = patched(
            resource,
            json!([{"op": "replace", "path": ENTERPRISE_USER, "value": {"department": "New"}}]),
        );
        assert_eq!(replaced[ENTERPRISE_USER], json!({"department": "New"}));
        let removed = patched(replaced, json!([{"op": "remove", "path": ENTERPRISE_USER}]));
        assert!(removed.get(ENTERPRISE_USER).is_none());
    }

    #[test]
    fn paths_parse_into_parts() {
        assert_eq!(
            parse_path("emails[type eq \"work\"].value").unwrap(),
            Path {
                extension: None,
                attribute: "emails".into(),
                filter: Some(("type".into(), "work".into())),
                sub_attribute: Some("value".into())
            }
        );
        assert_eq!(
            parse_path("NAME.GIVENNAME")
                .unwrap()
                .sub_attribute
                .as_deref(),
            Some("givenName")
        );
    }
}
