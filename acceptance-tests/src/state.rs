//! Typed views of `terraform show -json` (state and saved plans) for checks.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::error::CheckError;

/// Attribute values flattened to `path -> string`, the way terraform-plugin-testing's checks address them:
/// nested keys joined with `.`, list/set elements by index, `<path>.#` = element count, `<path>.%` = map size.
/// Null attributes are absent.
pub type FlatAttributes = BTreeMap<String, String>;

/// One managed or data resource instance in a state.
#[derive(Debug, Clone)]
pub struct ResourceState {
    pub address: String,
    pub mode: String,
    pub type_name: String,
    pub name: String,
    pub provider_name: String,
    values: Value,
    identity: Value,
    attributes: FlatAttributes,
    sensitive_paths: BTreeSet<String>,
}

impl ResourceState {
    fn from_json(resource: &Value) -> Self {
        let text = |key: &str| {
            resource
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let values = resource.get("values").cloned().unwrap_or(Value::Null);
        let sensitive = resource
            .get("sensitive_values")
            .cloned()
            .unwrap_or(Value::Null);
        ResourceState {
            address: text("address"),
            mode: text("mode"),
            type_name: text("type"),
            name: text("name"),
            provider_name: text("provider_name"),
            attributes: flatten(&values),
            sensitive_paths: sensitive_paths(&sensitive),
            identity: resource.get("identity").cloned().unwrap_or(Value::Null),
            values,
        }
    }

    /// The resource identity Terraform stored with the state (`identity` in `terraform show -json`).
    pub fn identity(&self) -> Option<&serde_json::Map<String, Value>> {
        self.identity.as_object()
    }

    /// The attribute object exactly as `terraform show -json` printed it.
    pub fn values(&self) -> &Value {
        &self.values
    }

    /// A flattened attribute (see [`FlatAttributes`]), e.g. `attr("tags.env")`, `attr("members.#")`.
    pub fn attr(&self, path: &str) -> Option<&str> {
        self.attributes.get(path).map(String::as_str)
    }

    pub fn attributes(&self) -> &FlatAttributes {
        &self.attributes
    }

    /// Whether Terraform marks this attribute (or a parent of it) sensitive; such values must never be printed.
    pub fn is_sensitive(&self, path: &str) -> bool {
        self.sensitive_paths
            .iter()
            .any(|sensitive| path == sensitive || path.starts_with(&format!("{sensitive}.")))
    }

    /// The attribute for messages: its value, or `(sensitive)`.
    pub(crate) fn display_attr(&self, path: &str) -> String {
        match self.attr(path) {
            None => "(absent)".to_string(),
            Some(_) if self.is_sensitive(path) => "(sensitive)".to_string(),
            Some(value) => format!("{value:?}"),
        }
    }
}

/// A state as shown by `terraform show -json`.
#[derive(Debug, Clone)]
pub struct State {
    json: Value,
    resources: Vec<ResourceState>,
}

impl State {
    pub fn from_show_json(text: &str) -> Result<State, serde_json::Error> {
        let json: Value = serde_json::from_str(text)?;
        let mut resources = Vec::new();
        if let Some(root) = json.pointer("/values/root_module") {
            collect_resources(root, &mut resources);
        }
        Ok(State { json, resources })
    }

    pub fn json(&self) -> &Value {
        &self.json
    }

    pub fn resources(&self) -> &[ResourceState] {
        &self.resources
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    pub fn resource(&self, address: &str) -> Option<&ResourceState> {
        self.resources
            .iter()
            .find(|resource| resource.address == address)
    }

    /// Like [`State::resource`], for use with `?` inside checks.
    pub fn require(&self, address: &str) -> Result<&ResourceState, CheckError> {
        self.resource(address).ok_or_else(|| {
            let present: Vec<&str> = self.resources.iter().map(|r| r.address.as_str()).collect();
            format!("{address} is not in the state (present: {present:?})").into()
        })
    }

    /// Value of a root module output, if set.
    pub fn output(&self, name: &str) -> Option<&Value> {
        self.json.pointer(&format!("/values/outputs/{name}/value"))
    }
}

fn collect_resources(module: &Value, into: &mut Vec<ResourceState>) {
    for resource in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        into.push(ResourceState::from_json(resource));
    }
    for child in module
        .get("child_modules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_resources(child, into);
    }
}

/// One entry of a plan's `resource_changes`.
#[derive(Debug, Clone)]
pub struct PlannedChange {
    pub address: String,
    /// Terraform's action list: `["no-op"]`, `["create"]`, `["update"]`, `["delete"]`, `["delete","create"]`, ...
    pub actions: Vec<String>,
    /// Whether this change imports an existing object (import blocks).
    pub importing: bool,
    pub before: Value,
    pub after: Value,
}

impl PlannedChange {
    pub fn is_no_op(&self) -> bool {
        self.actions
            .iter()
            .all(|action| action == "no-op" || action == "read")
    }
}

/// A saved plan as shown by `terraform show -json <planfile>`.
#[derive(Debug, Clone)]
pub struct Plan {
    json: Value,
    changes: Vec<PlannedChange>,
}

impl Plan {
    pub fn from_show_json(text: &str) -> Result<Plan, serde_json::Error> {
        let json: Value = serde_json::from_str(text)?;
        let changes = json
            .get("resource_changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|change| PlannedChange {
                address: change
                    .get("address")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                actions: change
                    .pointer("/change/actions")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|action| action.as_str().map(str::to_string))
                    .collect(),
                importing: change
                    .pointer("/change/importing")
                    .is_some_and(|v| !v.is_null()),
                before: change
                    .pointer("/change/before")
                    .cloned()
                    .unwrap_or(Value::Null),
                after: change
                    .pointer("/change/after")
                    .cloned()
                    .unwrap_or(Value::Null),
            })
            .collect();
        Ok(Plan { json, changes })
    }

    pub fn json(&self) -> &Value {
        &self.json
    }

    pub fn resource_changes(&self) -> &[PlannedChange] {
        &self.changes
    }

    pub fn change(&self, address: &str) -> Option<&PlannedChange> {
        self.changes.iter().find(|change| change.address == address)
    }

    /// Addresses of resources the plan would create, update, replace or delete (no-ops and reads excluded).
    pub fn changed_addresses(&self) -> Vec<&str> {
        self.changes
            .iter()
            .filter(|change| !change.is_no_op())
            .map(|change| change.address.as_str())
            .collect()
    }
}

/// Flattens a JSON attribute object into [`FlatAttributes`].
pub fn flatten(values: &Value) -> FlatAttributes {
    let mut out = FlatAttributes::new();
    if let Value::Object(map) = values {
        for (key, value) in map {
            flatten_into(key, value, &mut out);
        }
    }
    out
}

fn flatten_into(path: &str, value: &Value, out: &mut FlatAttributes) {
    match value {
        Value::Null => {}
        Value::Bool(b) => {
            out.insert(path.to_string(), b.to_string());
        }
        Value::Number(n) => {
            out.insert(path.to_string(), n.to_string());
        }
        Value::String(s) => {
            out.insert(path.to_string(), s.clone());
        }
        Value::Array(items) => {
            out.insert(format!("{path}.#"), items.len().to_string());
            for (index, item) in items.iter().enumerate() {
                flatten_into(&format!("{path}.{index}"), item, out);
            }
        }
        Value::Object(map) => {
            out.insert(format!("{path}.%"), map.len().to_string());
            for (key, item) in map {
                flatten_into(&format!("{path}.{key}"), item, out);
            }
        }
    }
}

/// `sensitive_values` mirrors the attribute structure with `true` where a value is sensitive.
fn sensitive_paths(sensitive: &Value) -> BTreeSet<String> {
    fn walk(path: Option<&str>, value: &Value, out: &mut BTreeSet<String>) {
        let join = |key: &str| match path {
            Some(parent) => format!("{parent}.{key}"),
            None => key.to_string(),
        };
        match value {
            Value::Bool(true) => {
                if let Some(path) = path {
                    out.insert(path.to_string());
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(Some(&join(&index.to_string())), item, out);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    walk(Some(&join(key)), item, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(None, sensitive, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flatten_addresses_nested_values_like_flatmap() {
        let flat = flatten(&json!({
            "name": "g", "count": 3, "enabled": true, "gone": null,
            "members": ["a", "b"], "tags": {"env": "dev"},
            "blocks": [{"k": "v"}]
        }));
        let expected: FlatAttributes = [
            ("name", "g"),
            ("count", "3"),
            ("enabled", "true"),
            ("members.#", "2"),
            ("members.0", "a"),
            ("members.1", "b"),
            ("tags.%", "1"),
            ("tags.env", "dev"),
            ("blocks.#", "1"),
            ("blocks.0.%", "1"),
            ("blocks.0.k", "v"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(flat, expected);
    }

    #[test]
    fn state_collects_resources_from_child_modules_and_marks_sensitive_values() {
        let state = State::from_show_json(
            &json!({
                "format_version": "1.0",
                "values": {
                    "outputs": {"id": {"sensitive": false, "value": "abc"}},
                    "root_module": {
                        "resources": [{"address": "a.x", "type": "a", "name": "x", "mode": "managed",
                                       "values": {"id": "1", "secret": "s", "nested": [{"token": "t"}]},
                                       "sensitive_values": {"secret": true, "nested": [{"token": true}]}}],
                        "child_modules": [{"resources": [{"address": "module.m.b.y", "values": {"id": "2"}}]}]
                    }
                }
            })
            .to_string(),
        )
        .unwrap();
        let addresses: Vec<_> = state
            .resources()
            .iter()
            .map(|r| r.address.as_str())
            .collect();
        assert_eq!(addresses, ["a.x", "module.m.b.y"]);
        let x = state.resource("a.x").unwrap();
        assert!(x.is_sensitive("secret"));
        assert!(x.is_sensitive("nested.0.token"));
        assert!(!x.is_sensitive("id"));
        assert_eq!(x.display_attr("secret"), "(sensitive)");
        assert_eq!(x.display_attr("id"), "\"1\"");
        assert_eq!(state.output("id"), Some(&json!("abc")));
        assert!(state.require("nope").is_err());
    }

    #[test]
    fn empty_state_has_no_resources() {
        let state = State::from_show_json(r#"{"format_version":"1.0"}"#).unwrap();
        assert!(state.is_empty());
    }

    #[test]
    fn plan_lists_changes_and_imports() {
        let plan = Plan::from_show_json(
            &json!({"resource_changes": [
                {"address": "a.x", "change": {"actions": ["no-op"], "importing": {"id": "1"}, "after": {"id": "1"}}},
                {"address": "a.y", "change": {"actions": ["delete", "create"]}}
            ]})
            .to_string(),
        )
        .unwrap();
        assert!(plan.change("a.x").unwrap().importing);
        assert!(plan.change("a.x").unwrap().is_no_op());
        assert_eq!(plan.changed_addresses(), ["a.y"]);
    }
}
