//! The provider's actions through `terraform apply -invoke` against the emulators, each effect checked where it
//! lands: the user in the AWS identity store, the provisioning job out of quarantine, a new active signing
//! certificate. One application (built by hand, as in the consoles) and one working directory serve all steps.

mod assignments_fixture;
mod aws_support;
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use assignments_fixture::Fixture;
use aws_support::{block_on, endpoints, identity_store, unique};
use idbridge_acceptance::{CheckResult, Step, TestCase, skipped_without_tf_acc};
use serde_json::json;
use support::{Graph, exclusive};

fn action(type_name: &str, body: &str) -> String {
    format!("action \"{type_name}\" \"this\" {{\n  config {{\n{body}\n  }}\n}}\n")
}

fn job_path(sp: &str) -> String {
    let jobs = Graph::connect().call_ok(
        "GET",
        &format!("/servicePrincipals/{sp}/synchronization/jobs"),
        None,
    );
    let id = jobs["value"][0]["id"]
        .as_str()
        .expect("the app has a job")
        .to_string();
    format!("/servicePrincipals/{sp}/synchronization/jobs/{id}")
}

fn user_in_identity_store(user_name: &str) -> CheckResult {
    let users = block_on(
        identity_store()
            .list_users()
            .identity_store_id(&endpoints().identity_store_id)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>(),
    )?;
    if users.iter().any(|user| user.user_name() == Some(user_name)) {
        Ok(())
    } else {
        Err(format!("{user_name} is not in the identity store").into())
    }
}

/// Out of band: the saved token goes bad and a cycle quarantines the job; then the admin saves a good token
/// again in the console, which leaves the quarantine in place until the job is restarted.
fn quarantine(sp: &str, good_token: &str) -> CheckResult {
    let graph = Graph::connect();
    let endpoint = endpoints().scim_endpoint.clone();
    let secrets = |token: &str| {
        graph.call(
            "PUT",
            &format!("/servicePrincipals/{sp}/synchronization/secrets"),
            Some(json!({"value": [{"key": "BaseAddress", "value": endpoint}, {"key": "SecretToken", "value": token}]})),
        )
    };
    secrets("revoked-token");
    let job = job_path(sp);
    graph.call_ok("POST", &format!("{job}/restart"), None);
    for _ in 0..100 {
        if graph.call_ok("GET", &job, None)["status"]["code"] == "Quarantine" {
            secrets(good_token);
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "the job was not quarantined: {}",
        graph.call_ok("GET", &job, None)["status"]
    )
    .into())
}

fn active_thumbprint(sp: &str) -> Option<String> {
    Graph::connect().call_ok("GET", &format!("/servicePrincipals/{sp}"), None)["preferredTokenSigningKeyThumbprint"]
        .as_str()
        .map(str::to_owned)
}

#[test]
fn actions_provision_a_user_clear_a_quarantine_and_rotate_the_certificate() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let graph = Graph::connect();
    let token = endpoints().scim_token.clone();
    // By hand: the gallery application with provisioning to the SCIM endpoint, a user assigned to it.
    let (app_id, sp) = graph.provisioned_app(&unique("actions-app"), &token);
    let upn = format!("{}@example.test", unique("actions-user"));
    let user = graph.call_ok(
        "POST",
        "/users",
        Some(json!({
            "accountEnabled": true, "displayName": "Action User", "givenName": "Action", "surname": "User",
            "mailNickname": "actionuser", "userPrincipalName": upn,
            "passwordProfile": {"password": "Unused-Passw0rd!", "forceChangePasswordNextSignIn": false}
        })),
    );
    let user_id = user["id"].as_str().unwrap().to_string();
    graph.call_ok(
        "POST",
        &format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
        Some(json!({"principalId": user_id, "resourceId": sp, "appRoleId": "00000000-0000-0000-0000-000000000000"})),
    );

    let provision = action(
        "idbridge_provision_on_demand",
        &format!("    application_id = \"{app_id}\"\n    user_id        = \"{user_id}\""),
    );
    let restart = action(
        "idbridge_restart_provisioning",
        &format!(
            "    application_id = \"{app_id}\"\n    reset_scope    = [\"QuarantineState\", \"Watermark\"]"
        ),
    );
    let rotate = action(
        "idbridge_rotate_signing_certificate",
        &format!("    application_id           = \"{app_id}\"\n    certificate_validity_days = 30"),
    );
    let before_rotation: Arc<Mutex<Option<String>>> = Arc::default();
    let (sp_quarantine, sp_restarted, sp_before, sp_after) =
        (sp.clone(), sp.clone(), sp.clone(), sp.clone());
    let (recorded, compared) = (before_rotation.clone(), before_rotation.clone());
    let upn_check = upn.clone();
    TestCase::new(vec![
        // Bad input is refused before anything runs.
        Step::invoke(
            action(
                "idbridge_provision_on_demand",
                &format!("    application_id = \"{app_id}\""),
            ),
            "action.idbridge_provision_on_demand.this",
        )
        .expect_error("Exactly one principal required"),
        Step::invoke(provision, "action.idbridge_provision_on_demand.this")
            .check_output(|output| {
                if output.contains("Provisioned user") {
                    Ok(())
                } else {
                    Err("no progress message about the provisioned user".into())
                }
            })
            .check(move |_| user_in_identity_store(&upn_check)),
        Step::invoke(restart, "action.idbridge_restart_provisioning.this")
            .pre(move |_| quarantine(&sp_quarantine, &token))
            .check(move |_| {
                let job = Graph::connect().call_ok("GET", &job_path(&sp_restarted), None);
                if job["status"]["quarantine"].is_null() && job["status"]["code"] == "Active" {
                    Ok(())
                } else {
                    Err(format!("the job is still quarantined: {}", job["status"]).into())
                }
            }),
        Step::invoke(rotate, "action.idbridge_rotate_signing_certificate.this")
            .pre(move |_| {
                *recorded.lock().unwrap() = active_thumbprint(&sp_before);
                Ok(())
            })
            .check(move |_| {
                let now = active_thumbprint(&sp_after).ok_or("no active signing certificate")?;
                if Some(&now) == compared.lock().unwrap().as_ref() {
                    return Err(format!("the active certificate is still {now}").into());
                }
                Ok(())
            })
            .check_output(|output| {
                if output.contains("Active signing certificate is now") {
                    Ok(())
                } else {
                    Err("no progress message with the new thumbprint".into())
                }
            }),
    ])
    .with_emulators()
    .run();
}

/// The user names of the members of the identity store group named `display_name`.
fn store_group_members(display_name: &str) -> Result<Vec<String>, String> {
    let fx = Fixture::new();
    let call = |operation: &str, body: serde_json::Value| {
        let (status, answer) = fx.identity_store(operation, body);
        if status == 200 {
            Ok(answer)
        } else {
            Err(format!("{operation}: HTTP {status} {answer}"))
        }
    };
    let group = call(
        "GetGroupId",
        json!({"AlternateIdentifier": {"UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": display_name}}}),
    )?;
    let memberships = call("ListGroupMemberships", json!({"GroupId": group["GroupId"]}))?;
    let mut names = Vec::new();
    for membership in memberships["GroupMemberships"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let user = call(
            "DescribeUser",
            json!({"UserId": membership["MemberId"]["UserId"]}),
        )?;
        names.extend(user["UserName"].as_str().map(str::to_owned));
    }
    names.sort();
    Ok(names)
}

#[test]
fn provisioning_a_group_on_demand_brings_its_members_five_per_request() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let graph = Graph::connect();
    let token = endpoints().scim_token.clone();
    let name = unique("actions-grp");
    let (app_id, sp) = graph.provisioned_app(&name, &token);
    let group = graph.call_ok(
        "POST",
        "/groups",
        Some(json!({"displayName": name, "mailEnabled": false, "mailNickname": name, "securityEnabled": true})),
    );
    let group_id = group["id"].as_str().unwrap().to_string();
    // Six members: more than one request links (at most five each).
    let mut expected: Vec<String> = (1..=6)
        .map(|n| {
            let upn = format!("{name}-m{n}@example.test");
            let user = graph.call_ok(
                "POST",
                "/users",
                Some(json!({
                    "accountEnabled": true, "displayName": format!("{name} member {n}"), "givenName": "Member",
                    "surname": format!("Number{n}"), "mailNickname": format!("{name}-m{n}"), "userPrincipalName": upn,
                    "passwordProfile": {"password": "Unused-Passw0rd!"}
                })),
            );
            graph.call_ok(
                "POST",
                &format!("/groups/{group_id}/members/$ref"),
                Some(json!({"@odata.id": format!("{}/v1.0/directoryObjects/{}", endpoints().graph_url, user["id"].as_str().unwrap())})),
            );
            upn
        })
        .collect();
    expected.sort();
    graph.call_ok(
        "POST",
        &format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
        Some(json!({"principalId": group_id, "resourceId": sp, "appRoleId": "00000000-0000-0000-0000-000000000000"})),
    );
    let provision = action(
        "idbridge_provision_on_demand",
        &format!("    application_id = \"{app_id}\"\n    group_id       = \"{group_id}\""),
    );
    TestCase::new(vec![
        Step::invoke(provision, "action.idbridge_provision_on_demand.this")
            .check_output(|output| {
                if output.contains("with 6 member(s)") {
                    Ok(())
                } else {
                    Err("no progress message naming the members".into())
                }
            })
            .check(move |_| {
                let found = store_group_members(&name)?;
                if found == expected {
                    Ok(())
                } else {
                    Err(
                        format!("the identity store group has {found:?}, expected {expected:?}")
                            .into(),
                    )
                }
            }),
    ])
    .with_emulators()
    .run();
}

#[test]
fn an_action_trigger_rotates_the_certificate_after_the_trust_is_updated() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let name = unique("actions-trigger");
    let config = |relay_state: &str| {
        format!(
            r#"
resource "idbridge_entra_application" "aws" {{
  display_name = "{name}"
}}

resource "idbridge_saml_trust" "aws" {{
  application_id   = idbridge_entra_application.aws.id
  aws_metadata_xml = file("{}/tests/testdata/aws_sso_metadata.xml")
  relay_state      = "{relay_state}"

  lifecycle {{
    action_trigger {{
      events  = [after_update]
      actions = [action.idbridge_rotate_signing_certificate.rotate]
    }}
  }}
}}

action "idbridge_rotate_signing_certificate" "rotate" {{
  config {{
    application_id = idbridge_entra_application.aws.id
  }}
}}
"#,
            env!("CARGO_MANIFEST_DIR")
        )
    };
    let sp_of =
        |state: &idbridge_acceptance::State| -> Result<String, idbridge_acceptance::CheckError> {
            Ok(state
                .require("idbridge_saml_trust.aws")?
                .attr("service_principal_id")
                .unwrap_or_default()
                .to_string())
        };
    let before: Arc<Mutex<Option<String>>> = Arc::default();
    let (recorded, compared) = (before.clone(), before);
    TestCase::new(vec![
        Step::config(config("https://console.aws.amazon.com/")),
        Step::config(config("https://console.aws.amazon.com/iam/"))
            .pre(move |ctx| {
                *recorded.lock().unwrap() = active_thumbprint(&sp_of(&ctx.state()?)?);
                Ok(())
            })
            .check(move |state| {
                let now =
                    active_thumbprint(&sp_of(state)?).ok_or("no active signing certificate")?;
                let before = compared
                    .lock()
                    .unwrap()
                    .clone()
                    .ok_or("no certificate before")?;
                if now == before {
                    return Err(
                        format!("the update did not trigger a rotation: still {now}").into(),
                    );
                }
                Ok(())
            }),
    ])
    .with_emulators()
    .run();
}
