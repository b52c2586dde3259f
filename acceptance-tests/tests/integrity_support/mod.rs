//! What `integrity.rs` and `crash_safety.rs` both read: state attributes, the application configuration and the
//! claims mapping policies the provider names for an application. Needs `mod support;` beside it.

#![allow(dead_code)] // each test binary uses its own part

use idbridge_acceptance::State;
use serde_json::Value;

use crate::support::Graph;

pub fn attr(state: &State, address: &str, path: &str) -> Result<String, String> {
    state
        .require(address)
        .map_err(|e| e.to_string())?
        .attr(path)
        .map(str::to_string)
        .ok_or_else(|| format!("{address}.{path} is absent"))
}

pub fn app_config(name: &str) -> String {
    format!("resource \"idbridge_entra_application\" \"aws\" {{\n  display_name = \"{name}\"\n}}\n")
}

/// The claims mapping policies carrying the provider's marker name for the application with `client_id`.
pub fn marked_policies(client_id: &str) -> Vec<Value> {
    let all = Graph::connect().call("GET", "/policies/claimsMappingPolicies", None);
    all.body["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["displayName"] == format!("idbridge SAML claims for {client_id}"))
        .cloned()
        .collect()
}
