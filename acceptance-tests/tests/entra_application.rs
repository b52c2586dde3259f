//! `idbridge_entra_application` through real Terraform against the Graph emulator.

mod support;

use idbridge_acceptance::{Step, TestCase, checks, pointed_error, skipped_without_tf_acc};
use serde_json::json;
use support::{Graph, exclusive, unique};

const ADDRESS: &str = "idbridge_entra_application.aws";

fn config(name: &str, extra: &str) -> String {
    format!(
        r#"
resource "idbridge_entra_application" "aws" {{
  display_name = "{name}"
{extra}
}}
"#
    )
}

/// check_destroy: the application whose id was in state is gone from the emulator.
fn application_gone(state: &idbridge_acceptance::State) -> idbridge_acceptance::CheckResult {
    let id = state
        .require(ADDRESS)?
        .attr("id")
        .ok_or("no id in state")?
        .to_string();
    let answer = Graph::connect().call("GET", &format!("/applications/{id}"), None);
    if answer.status == 404 {
        Ok(())
    } else {
        Err(format!("application {id} still answers {}", answer.status).into())
    }
}

#[test]
fn entra_application_lifecycle() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let graph = Graph::connect();
    let owner = graph.create_user(&unique("owner"));
    let name = unique("acc-aws-app");
    let renamed = format!("{name}-renamed");
    let first = config(
        &name,
        &format!(
            r#"  notes  = "managed by terraform"
  owners = ["{owner}"]
  tags   = ["team:platform"]"#
        ),
    );
    let second = config(
        &renamed,
        &format!(
            r#"  notes             = "changed notes"
  owners            = ["{owner}"]
  tags              = ["team:platform", "env:acc"]
  hide_from_my_apps = true"#
        ),
    );
    let graph_check = {
        let renamed = renamed.clone();
        move |state: &idbridge_acceptance::State| -> idbridge_acceptance::CheckResult {
            let resource = state.require(ADDRESS)?;
            let id = resource.attr("id").ok_or("no id")?;
            let graph = Graph::connect();
            let app = graph.call("GET", &format!("/applications/{id}"), None).body;
            if app["displayName"] != renamed.as_str() || app["notes"] != "changed notes" {
                return Err(format!("application not updated in place: {app}").into());
            }
            let sp_id = resource.attr("service_principal_id").ok_or("no sp id")?;
            let sp = graph
                .call("GET", &format!("/servicePrincipals/{sp_id}"), None)
                .body;
            let tags: Vec<&str> = sp["tags"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|t| t.as_str())
                .collect();
            if sp["displayName"] != renamed.as_str() || !tags.contains(&"HideApp") {
                return Err(format!("service principal not updated: {sp}").into());
            }
            Ok(())
        }
    };
    TestCase::new(vec![
        Step::config(first)
            .check(checks::attr_equals(ADDRESS, "display_name", &name))
            .check(checks::attr_equals(
                ADDRESS,
                "template_id",
                support::AWS_GALLERY_TEMPLATE,
            ))
            .check(checks::attr_equals(
                ADDRESS,
                "app_role_assignment_required",
                "true",
            ))
            .check(checks::attr_equals(ADDRESS, "hide_from_my_apps", "false"))
            .check(checks::attr_equals(ADDRESS, "owners.#", "1"))
            .check(checks::attr_equals(ADDRESS, "owners.0", &owner))
            .check(checks::attr_equals(
                ADDRESS,
                "tenant_id",
                &graph.endpoints.tenant_id,
            ))
            .check(checks::attr_set(ADDRESS, "client_id"))
            .check(checks::attr_set(ADDRESS, "service_principal_id"))
            .check(checks::attr_matches(
                ADDRESS,
                "app_role_ids.User",
                "^[0-9a-f-]{36}$",
            ))
            .check(checks::attr_matches(
                ADDRESS,
                "app_role_ids.msiam_access",
                "^[0-9a-f-]{36}$",
            ))
            .check({
                let name = name.clone();
                move |_| {
                    let found = Graph::connect().applications_named(&name);
                    match found.as_slice() {
                        [app] if app["displayName"] == name.as_str() => Ok(()),
                        other => Err(format!(
                            "expected one application named {name}, found {other:?}"
                        )
                        .into()),
                    }
                }
            }),
        Step::import(ADDRESS),
        // By the resource identity Terraform stored with the state (the object id).
        Step::import(ADDRESS).import_by_identity(),
        // Plan checks see the plan of a plan-only step (of an apply step: the plan after it, which must be empty).
        Step::config(second.clone())
            .plan_only()
            .expect_non_empty_plan()
            .plan_check(|plan| {
                let change = plan.change(ADDRESS).ok_or("no change")?;
                if change.actions == ["update"] {
                    Ok(())
                } else {
                    Err(format!("expected an in-place update, got {:?}", change.actions).into())
                }
            }),
        Step::config(second)
            .check(checks::attr_equals(ADDRESS, "display_name", &renamed))
            .check(checks::attr_equals(ADDRESS, "tags.#", "2"))
            .check(checks::attr_equals(ADDRESS, "hide_from_my_apps", "true"))
            .check(graph_check),
    ])
    .with_emulators()
    .check_destroy(application_gone)
    .run();
}

#[test]
fn entra_application_unknown_template_fails_at_plan() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let name = unique("acc-aws-bad-template");
    TestCase::new(vec![
        Step::config(config(
            &name,
            r#"  template_id = "00000000-0000-0000-0000-000000000bad""#,
        ))
        .plan_only()
        .expect_error(&pointed_error(
            "Unknown application template",
            "template_id",
        )),
    ])
    .with_emulators()
    .check_destroy({
        let name = name.clone();
        move |_| match Graph::connect().applications_named(&name).as_slice() {
            [] => Ok(()),
            other => Err(format!("nothing should have been created: {other:?}").into()),
        }
    })
    .run();
}

#[test]
fn entra_application_drift() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let name = unique("acc-aws-drift");
    let hcl = config(&name, r#"  tags = ["a"]"#);
    let state_id = |ctx: &idbridge_acceptance::StepContext| -> Result<String, String> {
        let state = ctx.state().map_err(|e| e.to_string())?;
        let resource = state.require(ADDRESS).map_err(|e| e.to_string())?;
        Ok(resource.attr("id").ok_or("no id")?.to_string())
    };
    TestCase::new(vec![
        Step::config(hcl.clone()),
        Step::config(hcl.clone())
            .plan_only()
            .pre(move |ctx| {
                let id = state_id(ctx)?;
                let answer = Graph::connect().call(
                    "PATCH",
                    &format!("/applications/{id}"),
                    Some(json!({ "displayName": "renamed outside", "tags": ["a", "b"] })),
                );
                if answer.status != 204 {
                    return Err(format!("out-of-band PATCH answered {}", answer.status).into());
                }
                Ok(())
            })
            .expect_non_empty_plan()
            .plan_check(|plan| {
                let change = plan.change(ADDRESS).ok_or("no change planned")?;
                if change.actions != ["update"] {
                    return Err(format!("expected update, got {:?}", change.actions).into());
                }
                let before = &change.before;
                if before["display_name"] != "renamed outside"
                    || before["tags"].as_array().map(Vec::len) != Some(2)
                {
                    return Err(format!("the drift is not in the refreshed state: {before}").into());
                }
                Ok(())
            }),
        // Applying the configuration again reverts the out-of-band change.
        Step::config(hcl.clone()).check(checks::attr_equals(ADDRESS, "display_name", &name)),
        Step::config(hcl)
            .plan_only()
            .pre(move |ctx| {
                let id = state_id(ctx)?;
                let answer = Graph::connect().call("DELETE", &format!("/applications/{id}"), None);
                if answer.status != 204 {
                    return Err(format!("out-of-band DELETE answered {}", answer.status).into());
                }
                Ok(())
            })
            .expect_non_empty_plan()
            .plan_check(|plan| {
                let change = plan.change(ADDRESS).ok_or("no change planned")?;
                if change.actions == ["create"] {
                    Ok(())
                } else {
                    Err(format!(
                        "expected create after deletion outside Terraform, got {:?}",
                        change.actions
                    )
                    .into())
                }
            }),
    ])
    .with_emulators()
    .run();
}

#[test]
fn entra_application_survives_lag_throttling_and_a_404_instantiate() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let graph = Graph::connect();
    let name = unique("acc-aws-faults");
    graph.admin("DELETE", "/requests", None);
    let settings = graph.admin(
        "PUT",
        "/settings",
        Some(json!({ "replicationLagReads": 3, "instantiateNotFound": 1 })),
    );
    assert!(settings.status < 300, "settings: {}", settings.body);
    for rule in [
        json!({ "path": "^/v1\\.0/applicationTemplates/[^/]+$", "method": "GET", "status": 429,
                "retryAfterSeconds": 1, "count": 2 }),
        json!({ "path": "^/v1\\.0/applications$", "method": "GET", "status": 429,
                "retryAfterHttpDateInSeconds": 2, "count": 2 }),
        json!({ "path": "^/v1\\.0/servicePrincipals/[^/]+$", "method": "PATCH", "status": 429,
                "retryAfterSeconds": 1, "count": 1 }),
    ] {
        let added = graph.admin("POST", "/faults", Some(rule));
        assert_eq!(added.status, 201, "fault: {}", added.body);
    }
    let result = TestCase::new(vec![
        Step::config(config(&name, r#"  hide_from_my_apps = true"#))
            .check(checks::attr_equals(ADDRESS, "display_name", &name))
            .check(checks::attr_equals(ADDRESS, "hide_from_my_apps", "true")),
    ])
    .with_emulators()
    .check_destroy(application_gone)
    .try_run();
    let log = graph.admin("GET", "/requests", None).body;
    graph.admin("DELETE", "/faults", None);
    graph.admin(
        "PUT",
        "/settings",
        Some(json!({ "replicationLagReads": 0, "instantiateNotFound": 0 })),
    );
    if let Err(failure) = result {
        panic!("{failure}");
    }

    let requests = log["requests"].as_array().expect("request log");
    let instantiates = requests
        .iter()
        .filter(|r| {
            r["method"] == "POST"
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/instantiate"))
        })
        .count();
    assert_eq!(instantiates, 1, "instantiate must be sent exactly once");
    let answered = |status: u64| requests.iter().filter(|r| r["status"] == status).count();
    assert!(
        answered(429) >= 5,
        "the throttling faults fired: {} 429s",
        answered(429)
    );
    assert!(
        answered(404) >= 2,
        "the 404-after-success instantiate and replication lag fired"
    );
    // Exactly one application was created for the configuration, and no temporary twin was left behind.
    let created: Vec<&serde_json::Value> = requests
        .iter()
        .filter(|r| {
            r["method"] == "POST"
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/instantiate"))
        })
        .collect();
    let temporary = created[0]["body"]["displayName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        temporary.starts_with(&format!("{name} (creating ")),
        "{temporary}"
    );
    assert!(
        graph.applications_named(&name).is_empty(),
        "destroy removed the single application"
    );
}
