//! `idbridge_conditional_access_policy` through real Terraform against the Graph emulator, which serves
//! `/identity/conditionalAccess/policies` checked against the CSDL (conditionalAccessPolicy and its enums).

mod support;

use idbridge_acceptance::{
    CheckResult, State, Step, StepContext, TestCase, checks, pointed_error, skipped_without_tf_acc,
};
use serde_json::{Value, json};
use support::{Graph, unique};

const POLICY: &str = "idbridge_conditional_access_policy.mfa";
const APP: &str = "idbridge_entra_application.aws";

fn config(app_name: &str, policy_body: &str) -> String {
    format!(
        r#"
resource "idbridge_entra_application" "aws" {{
  display_name = "{app_name}"
}}

resource "idbridge_conditional_access_policy" "mfa" {{
  application_id = idbridge_entra_application.aws.id
{policy_body}
}}
"#
    )
}

fn policy_in_graph(state: &State) -> Result<Value, idbridge_acceptance::CheckError> {
    let id = state
        .require(POLICY)?
        .attr("id")
        .ok_or("the policy has no id")?
        .to_string();
    let answer = Graph::connect().call(
        "GET",
        &format!("/identity/conditionalAccess/policies/{id}"),
        None,
    );
    if answer.status != 200 {
        return Err(format!("GET policy {id}: HTTP {}: {}", answer.status, answer.body).into());
    }
    Ok(answer.body)
}

/// The policy in Graph targets exactly the application's client ID and has `expected` at each JSON pointer.
fn graph_holds(expected: Vec<(&'static str, Value)>) -> impl Fn(&State) -> CheckResult {
    move |state| {
        let policy = policy_in_graph(state)?;
        let client_id = state
            .require(APP)?
            .attr("client_id")
            .unwrap_or_default()
            .to_string();
        if policy["conditions"]["applications"]["includeApplications"] != json!([client_id]) {
            return Err(format!(
                "the policy targets {}, not {client_id}",
                policy["conditions"]["applications"]
            )
            .into());
        }
        for (pointer, value) in &expected {
            let mut held = policy.pointer(pointer).cloned().unwrap_or(Value::Null);
            if let Value::Array(items) = &mut held {
                items.sort_by_key(|v| v.to_string());
            }
            if held != *value {
                return Err(format!("{pointer} is {held}, expected {value}").into());
            }
        }
        Ok(())
    }
}

#[test]
fn conditional_access_policy_lifecycle_import_update_drift_and_destroy() {
    if skipped_without_tf_acc() {
        return;
    }
    let graph = Graph::connect();
    let app_name = unique("acc-ca");
    let admins = graph.group_with_member(&format!("{app_name}-admins"));
    let break_glass = graph.create_user(&format!("{app_name}-breakglass"));
    let display_name = format!("{app_name} require MFA");
    let report_only = config(
        &app_name,
        &format!(
            "  display_name   = \"{display_name}\"\n  state          = \"enabledForReportingButNotEnforced\"\n  \
             include_groups = [\"{admins}\"]\n  built_in_controls = [\"mfa\"]"
        ),
    );
    let enforced = config(
        &app_name,
        &format!(
            "  display_name      = \"{display_name}\"\n  state             = \"enabled\"\n  \
             include_groups    = [\"{admins}\"]\n  exclude_users     = [\"{break_glass}\"]\n  \
             built_in_controls = [\"mfa\", \"compliantDevice\"]\n  operator          = \"AND\"\n  \
             include_locations = [\"All\"]\n  exclude_locations = [\"AllTrusted\"]\n  \
             client_app_types  = [\"browser\", \"mobileAppsAndDesktopClients\"]"
        ),
    );
    let bad = |body: &str| config(&app_name, &format!("  display_name = \"x\"\n{body}"));
    let name_for_destroy = display_name.clone();
    TestCase::new(vec![
        // Bad input fails at plan, pointed at the attribute, with nothing created.
        Step::config(bad(&format!("  state = \"reportOnly\"\n  include_groups = [\"{admins}\"]")))
            .expect_error(&format!("{}.*enabledForReportingButNotEnforced", pointed_error("Invalid policy state", "state")))
            .check(checks::no_resources),
        Step::config(bad(&format!(
            "  state = \"enabled\"\n  include_groups = [\"{admins}\"]\n  built_in_controls = [\"mfa\", \"block\"]"
        )))
        .expect_error(&pointed_error("Invalid grant control", "built_in_controls"))
        .check(checks::no_resources),
        Step::config(bad("  state = \"enabled\"\n  include_users = [\"alice@example.com\"]"))
            .expect_error(&pointed_error("Invalid user", "include_users"))
            .check(checks::no_resources),
        Step::config(report_only.clone())
            .check(checks::attr_equals(POLICY, "state", "enabledForReportingButNotEnforced"))
            .check(checks::attr_equals(POLICY, "operator", "OR"))
            .check(checks::attr_pair(POLICY, "app_id", APP, "client_id"))
            .check(graph_holds(vec![
                ("/state", json!("enabledForReportingButNotEnforced")),
                ("/conditions/users/includeGroups", json!([admins])),
                ("/conditions/clientAppTypes", json!(["all"])),
                ("/grantControls/builtInControls", json!(["mfa"])),
                ("/grantControls/operator", json!("OR")),
            ])),
        Step::import(POLICY),
        Step::config(enforced.clone())
            .check(checks::attr_equals(POLICY, "state", "enabled"))
            .check(graph_holds(vec![
                ("/state", json!("enabled")),
                ("/conditions/users/excludeUsers", json!([break_glass])),
                ("/conditions/locations/includeLocations", json!(["All"])),
                ("/conditions/locations/excludeLocations", json!(["AllTrusted"])),
                ("/conditions/clientAppTypes", json!(["browser", "mobileAppsAndDesktopClients"])),
                ("/grantControls/builtInControls", json!(["compliantDevice", "mfa"])),
                ("/grantControls/operator", json!("AND")),
            ])),
        Step::import(POLICY),
        Step::import(POLICY).import_by_identity(),
        // Changed in the portal: switched off and widened to every app. The plan shows it; apply restores it.
        Step::config(enforced.clone())
            .plan_only()
            .expect_non_empty_plan()
            .pre(|ctx: &StepContext| {
                let state = ctx.state()?;
                let id = state.require(POLICY)?.attr("id").unwrap_or_default().to_string();
                Graph::connect().call_ok(
                    "PATCH",
                    &format!("/identity/conditionalAccess/policies/{id}"),
                    Some(json!({"state": "disabled", "conditions": {"applications": {"includeApplications": ["All"]}}})),
                );
                Ok(())
            }),
        Step::config(enforced).check(graph_holds(vec![("/state", json!("enabled"))])),
        Step::config(report_only).check(graph_holds(vec![
            ("/state", json!("enabledForReportingButNotEnforced")),
            ("/conditions/locations", Value::Null),
            ("/conditions/users/excludeUsers", json!([])),
        ])),
    ])
    .with_emulators()
    .check_destroy(move |_| {
        let policies = Graph::connect().call_ok("GET", "/identity/conditionalAccess/policies", None);
        let left: Vec<&Value> = policies["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["displayName"] == name_for_destroy.as_str())
            .collect();
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("destroy left the policy in Entra: {left:?}").into())
        }
    })
    .run();
}
