//! `idbridge_scim_provisioning` through real Terraform against the emulators.
//!
//! The AWS IAM Identity Center application is instantiated directly through the Graph emulator before each case
//! (it is not managed by Terraform here, so these tests do not depend on `idbridge_entra_application`), and its
//! object id is passed in as a variable. The SCIM token always travels as an ephemeral variable (`TF_VAR_...`).

mod support;

use std::time::Duration;

use idbridge_acceptance::{
    CheckResult, Step, TestCase, checks, pointed_error, skipped_without_tf_acc,
};
use serde_json::{Value, json};
use support::{Graph, admin, endpoints, unique};

const ADDRESS: &str = "idbridge_scim_provisioning.this";

const CONFIG: &str = r#"
variable "application_id" {
  type = string
}
variable "scim_endpoint" {
  type = string
}
variable "scim_token" {
  type      = string
  sensitive = true
  ephemeral = true
}
variable "token_version" {
  type    = number
  default = 1
}
variable "enabled" {
  type    = bool
  default = true
}
variable "token_expires_at" {
  type    = string
  default = null
}

resource "idbridge_scim_provisioning" "this" {
  application_id        = var.application_id
  scim_endpoint         = var.scim_endpoint
  scim_token_wo         = var.scim_token
  scim_token_wo_version = var.token_version
  enabled               = var.enabled
  token_expires_at      = var.token_expires_at
}
"#;

/// Fixtures of these tests beyond what `support` offers.
impl Graph {
    /// Instantiates the AWS IAM Identity Center gallery template: (application object id, service principal id).
    fn create_aws_application(&self, name: &str) -> (String, String) {
        let answer = self.call(
            "POST",
            &format!(
                "/applicationTemplates/{}/instantiate",
                support::AWS_GALLERY_TEMPLATE
            ),
            Some(json!({ "displayName": name })),
        );
        assert_eq!(answer.status, 201, "instantiate: {}", answer.body);
        (
            answer.body["application"]["id"].as_str().unwrap().into(),
            answer.body["servicePrincipal"]["id"]
                .as_str()
                .unwrap()
                .into(),
        )
    }

    fn jobs(&self, sp: &str) -> Vec<Value> {
        let answer = self.call(
            "GET",
            &format!("/servicePrincipals/{sp}/synchronization/jobs"),
            None,
        );
        assert_eq!(answer.status, 200, "jobs: {}", answer.body);
        answer.body["value"].as_array().cloned().unwrap_or_default()
    }

    fn secret(&self, sp: &str, key: &str) -> Option<String> {
        let answer = self.call(
            "GET",
            &format!("/servicePrincipals/{sp}/synchronization/secrets"),
            None,
        );
        answer.body["value"]
            .as_array()?
            .iter()
            .find(|s| s["key"] == key)
            .and_then(|s| s["value"].as_str())
            .map(str::to_string)
    }
}

fn job_id(state: &idbridge_acceptance::State) -> Result<String, idbridge_acceptance::CheckError> {
    Ok(state
        .require(ADDRESS)?
        .attr("job_id")
        .ok_or("no job_id in state")?
        .to_string())
}

/// The job in the emulator has this schedule state (`Active`, `Paused`).
fn job_schedule_is(
    sp: String,
    expected: &'static str,
) -> impl Fn(&idbridge_acceptance::State) -> CheckResult {
    move |state| {
        let graph = Graph::connect();
        let id = job_id(state)?;
        let answer = graph.call(
            "GET",
            &format!("/servicePrincipals/{sp}/synchronization/jobs/{id}"),
            None,
        );
        if answer.status != 200 {
            return Err(format!("job {id}: {} {}", answer.status, answer.body).into());
        }
        let actual = &answer.body["schedule"]["state"];
        if actual != expected {
            return Err(format!("job schedule state is {actual}, expected {expected}").into());
        }
        Ok(())
    }
}

#[test]
fn scim_provisioning_lifecycle_import_update_drift_and_destroy() {
    if skipped_without_tf_acc() {
        return;
    }
    let endpoints = endpoints().clone();
    let graph = Graph::connect();
    let (application_id, sp) = graph.create_aws_application(&unique("acc-scim"));
    let token = endpoints.scim_token.clone();
    let vars = |step: Step| {
        step.var("application_id", &application_id)
            .var("scim_endpoint", &endpoints.scim_endpoint)
            .var("scim_token", &token)
    };

    let sp_secrets = sp.clone();
    let scim_endpoint = endpoints.scim_endpoint.clone();
    let secrets_hold_the_emulator_endpoint_and_token =
        move |_: &idbridge_acceptance::State| -> CheckResult {
            let graph = Graph::connect();
            let base = graph.secret(&sp_secrets, "BaseAddress");
            if base.as_deref() != Some(scim_endpoint.as_str()) {
                return Err(format!("BaseAddress is {base:?}, expected {scim_endpoint}").into());
            }
            if graph.secret(&sp_secrets, "SecretToken").is_none() {
                return Err("no SecretToken saved".into());
            }
            // The emulator masks every value but BaseAddress, so only the scope setting's presence is visible.
            if graph.secret(&sp_secrets, "SyncAll").is_none() {
                return Err("the scope (SyncAll) was not saved".into());
            }
            // The saved token is the SCIM endpoint's token if Entra's own credential test passes with it.
            let jobs = graph.jobs(&sp_secrets);
            let id = jobs
                .first()
                .and_then(|j| j["id"].as_str())
                .ok_or("no job")?;
            let answer = graph.call(
                "POST",
                &format!(
                    "/servicePrincipals/{sp_secrets}/synchronization/jobs/{id}/validateCredentials"
                ),
                Some(json!({"useSavedCredentials": true})),
            );
            if answer.status != 204 {
                return Err(format!(
                    "saved credentials rejected: {} {}",
                    answer.status, answer.body
                )
                .into());
            }
            Ok(())
        };

    let sp_log = sp.clone();
    let secrets_were_sent_again = move |_: &idbridge_acceptance::State| -> CheckResult {
        let log = admin("GET", "/requests", None).body;
        let requests = log["requests"].as_array().cloned().unwrap_or_default();
        let sent = |suffix: &str, method: &str| {
            requests.iter().any(|r| {
                r["method"] == method
                    && r["path"]
                        .as_str()
                        .is_some_and(|p| p.contains(&sp_log) && p.ends_with(suffix))
            })
        };
        if !sent("/synchronization/secrets", "PUT") {
            return Err("the token version bump did not PUT the secrets again".into());
        }
        if !sent("/validateCredentials", "POST") {
            return Err("the token version bump did not validate the credentials".into());
        }
        Ok(())
    };

    let sp_pause = sp.clone();
    let sp_delete = sp.clone();
    let sp_destroyed = sp.clone();
    let sp_endpoint = sp.clone();
    let localhost_endpoint = endpoints.scim_endpoint.replace("127.0.0.1", "localhost");
    assert_ne!(localhost_endpoint, endpoints.scim_endpoint);
    let expected_endpoint = localhost_endpoint.clone();
    let volatile = [
        "scim_token_wo_version",
        "token_expires_at",
        "timeouts",
        "status",
        "last_execution_state",
        "last_successful_execution_at",
        "error_count",
        "quarantine_reason",
    ];

    TestCase::new(vec![
        // Create: job from the discovered template, secrets saved, job running.
        vars(Step::config(CONFIG))
            .check(checks::attr_equals(
                ADDRESS,
                "application_id",
                &application_id,
            ))
            .check(checks::attr_equals(ADDRESS, "id", &application_id))
            .check(checks::attr_equals(ADDRESS, "enabled", "true"))
            .check(checks::attr_equals(ADDRESS, "scope", "assigned"))
            .check(checks::attr_equals(ADDRESS, "status", "Active"))
            .check(checks::attr_equals(
                ADDRESS,
                "template_id",
                "aWSSingleSignon",
            ))
            .check(checks::attr_set(ADDRESS, "job_id"))
            .check(checks::attr_absent(ADDRESS, "scim_token_wo"))
            .check(job_schedule_is(sp.clone(), "Active"))
            .check(secrets_hold_the_emulator_endpoint_and_token),
        // Import by application object id; the write-only token and its version cannot be read back.
        vars(Step::import(ADDRESS))
            .import_id(&application_id)
            .ignore(volatile),
        // By the resource identity Terraform stored with the state (application_id); the token's version is
        // write-only, so the import block plans setting it.
        vars(Step::import(ADDRESS))
            .import_by_identity()
            .import_update_allowed()
            .ignore(volatile),
        // enabled = false pauses the job.
        vars(Step::config(CONFIG))
            .var("enabled", "false")
            .check(checks::attr_equals(ADDRESS, "enabled", "false"))
            .check(checks::attr_equals(ADDRESS, "status", "Paused"))
            .check(job_schedule_is(sp.clone(), "Paused")),
        // A token version bump re-sends the token (and enabling starts the job again).
        vars(Step::config(CONFIG))
            .var("token_version", "2")
            .pre(|_| {
                let cleared = admin("DELETE", "/requests", None);
                if cleared.status >= 300 {
                    return Err(format!("clearing the request log: {}", cleared.status).into());
                }
                Ok(())
            })
            .check(checks::attr_equals(ADDRESS, "scim_token_wo_version", "2"))
            .check(checks::attr_equals(ADDRESS, "status", "Active"))
            .check(job_schedule_is(sp.clone(), "Active"))
            .check(secrets_were_sent_again),
        // Drift: the job is paused outside Terraform; the plan wants enabled back to true.
        vars(Step::config(CONFIG))
            .var("token_version", "2")
            .plan_only()
            .expect_non_empty_plan()
            .pre(move |ctx| {
                let graph = Graph::connect();
                let id = job_id(&ctx.state()?)?;
                let answer = graph.call(
                    "POST",
                    &format!("/servicePrincipals/{sp_pause}/synchronization/jobs/{id}/pause"),
                    None,
                );
                if answer.status != 204 {
                    return Err(format!("pause: {} {}", answer.status, answer.body).into());
                }
                Ok(())
            })
            .plan_check(|plan| {
                let change = plan.change(ADDRESS).ok_or("no planned change")?;
                if change.actions != ["update"]
                    || change.before["enabled"] != false
                    || change.after["enabled"] != true
                {
                    return Err(format!(
                        "expected an in-place update of enabled false -> true, got {:?} {} -> {}",
                        change.actions, change.before["enabled"], change.after["enabled"]
                    )
                    .into());
                }
                Ok(())
            }),
        // Applying the same configuration starts the job again.
        vars(Step::config(CONFIG))
            .var("token_version", "2")
            .check(checks::attr_equals(ADDRESS, "enabled", "true"))
            .check(job_schedule_is(sp.clone(), "Active")),
        // The job deleted outside Terraform: removed from state, planned for re-creation.
        vars(Step::config(CONFIG))
            .var("token_version", "2")
            .plan_only()
            .expect_non_empty_plan()
            .pre(move |ctx| {
                let graph = Graph::connect();
                let id = job_id(&ctx.state()?)?;
                let answer = graph.call(
                    "DELETE",
                    &format!("/servicePrincipals/{sp_delete}/synchronization/jobs/{id}"),
                    None,
                );
                if answer.status != 204 {
                    return Err(format!("delete: {} {}", answer.status, answer.body).into());
                }
                Ok(())
            })
            .plan_check(|plan| {
                let change = plan.change(ADDRESS).ok_or("no planned change")?;
                if change.actions != ["create"] {
                    return Err(format!("expected a create, got {:?}", change.actions).into());
                }
                Ok(())
            }),
        // Re-create it so destroy has something to remove.
        vars(Step::config(CONFIG))
            .var("token_version", "2")
            .check(checks::attr_equals(ADDRESS, "status", "Active")),
        // An endpoint change re-sends the secrets (same emulator, addressed as localhost).
        vars(Step::config(CONFIG))
            .var("token_version", "2")
            .var("scim_endpoint", &localhost_endpoint)
            .check(checks::attr_equals(
                ADDRESS,
                "scim_endpoint",
                &localhost_endpoint,
            ))
            .check(checks::attr_equals(ADDRESS, "status", "Active"))
            .check(move |_| {
                let base = Graph::connect().secret(&sp_endpoint, "BaseAddress");
                if base.as_deref() != Some(expected_endpoint.as_str()) {
                    return Err(
                        format!("BaseAddress is {base:?}, expected {expected_endpoint}").into(),
                    );
                }
                Ok(())
            }),
    ])
    .with_emulators()
    .secret(token.clone())
    .check_destroy(move |before| {
        before.require(ADDRESS)?;
        let graph = Graph::connect();
        let jobs = graph.jobs(&sp_destroyed);
        if !jobs.is_empty() {
            return Err(format!("jobs left after destroy: {jobs:?}").into());
        }
        let base = graph
            .secret(&sp_destroyed, "BaseAddress")
            .unwrap_or_default();
        if !base.is_empty() {
            return Err(format!("BaseAddress not cleared: {base}").into());
        }
        Ok(())
    })
    .run();
}

#[test]
fn scim_provisioning_bad_inputs_fail_at_plan_and_create_nothing() {
    if skipped_without_tf_acc() {
        return;
    }
    let endpoints = endpoints().clone();
    let graph = Graph::connect();
    let (application_id, sp) = graph.create_aws_application(&unique("acc-scim-bad"));
    let token = endpoints.scim_token.clone();
    let vars = |step: Step| {
        step.var("application_id", &application_id)
            .var("scim_token", &token)
    };
    TestCase::new(vec![
        vars(Step::config(CONFIG))
            .var("scim_endpoint", "https://scim.example.com/tenant/scim/v2/")
            .plan_only()
            .expect_error(&format!(
                r"{}.*scim\.<region>\.amazonaws\.com",
                pointed_error("Invalid SCIM endpoint", "scim_endpoint")
            ))
            .check(checks::no_resources),
        vars(Step::config(CONFIG))
            .var(
                "scim_endpoint",
                "http://scim.us-east-1.amazonaws.com/tenant/scim/v2/",
            )
            .plan_only()
            .expect_error(&format!(
                "{}.*not an https URL",
                pointed_error("Invalid SCIM endpoint", "scim_endpoint")
            ))
            .check(checks::no_resources),
        vars(Step::config(CONFIG))
            .var("scim_endpoint", &endpoints.scim_endpoint)
            .var("token_expires_at", "2020-01-01T00:00:00Z")
            .expect_error(&format!(
                "{}.*2020-01-01T00:00:00Z",
                pointed_error("SCIM access token expired", "token_expires_at")
            ))
            .check(checks::no_resources),
        vars(Step::config(CONFIG))
            .var("scim_endpoint", &endpoints.scim_endpoint)
            .var("token_expires_at", "next week")
            .plan_only()
            .expect_error(&pointed_error("Invalid token expiry", "token_expires_at"))
            .check(checks::no_resources),
    ])
    .with_emulators()
    .secret(token.clone())
    .check_destroy(move |_| {
        let jobs = Graph::connect().jobs(&sp);
        if !jobs.is_empty() {
            return Err(format!("bad inputs created jobs: {jobs:?}").into());
        }
        Ok(())
    })
    .run();
}

#[test]
fn scim_provisioning_wrong_token_fails_apply_with_the_scim_401_and_leaves_no_job() {
    if skipped_without_tf_acc() {
        return;
    }
    let endpoints = endpoints().clone();
    let graph = Graph::connect();
    let (application_id, sp) = graph.create_aws_application(&unique("acc-scim-401"));
    let wrong_token = unique("wrong-scim-token");
    let sp_check = sp.clone();
    TestCase::new(vec![
        Step::config(CONFIG)
            .var("application_id", &application_id)
            .var("scim_endpoint", &endpoints.scim_endpoint)
            .var("scim_token", &wrong_token)
            .expect_error(r"(?s)SCIM access token rejected.*the SCIM access token was rejected: generate a new one in IAM Identity Center")
            .check(checks::no_resources)
            .check(move |_| {
                let jobs = Graph::connect().jobs(&sp_check);
                if !jobs.is_empty() {
                    return Err(format!("a job was left behind: {jobs:?}").into());
                }
                Ok(())
            }),
        // A wrong tenant in the URL: AWS answers 401 as for a bad token (SCIM implementation guide, error tables),
        // so the error names both causes.
        Step::config(CONFIG)
            .var("application_id", &application_id)
            .var(
                "scim_endpoint",
                endpoints
                    .scim_endpoint
                    .replace(&format!("/{}/", scim_tenant(&endpoints.scim_endpoint)), "/no-such-tenant/"),
            )
            .var("scim_token", &endpoints.scim_token)
            .expect_error(r"(?s)SCIM access token rejected.*the tenant id in `scim_endpoint` is wrong")
            .check(checks::no_resources),
    ])
    .with_emulators()
    .secret(wrong_token.clone())
    .secret(endpoints.scim_token.clone())
    .check_destroy(move |_| {
        let jobs = Graph::connect().jobs(&sp);
        if !jobs.is_empty() {
            return Err(format!("jobs left: {jobs:?}").into());
        }
        Ok(())
    })
    .run();
}

/// The tenant segment of `http://host/<tenant>/scim/v2/`.
fn scim_tenant(endpoint: &str) -> String {
    endpoint
        .trim_end_matches('/')
        .trim_end_matches("/scim/v2")
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn scim_provisioning_quarantined_job_shows_as_drift_and_a_token_bump_restarts_it() {
    if skipped_without_tf_acc() {
        return;
    }
    let endpoints = endpoints().clone();
    let graph = Graph::connect();
    let (application_id, sp) = graph.create_aws_application(&unique("acc-scim-quarantine"));
    let token = endpoints.scim_token.clone();
    let vars = |step: Step| {
        step.var("application_id", &application_id)
            .var("scim_endpoint", &endpoints.scim_endpoint)
            .var("scim_token", &token)
    };
    let sp_break = sp.clone();
    let endpoint_break = endpoints.scim_endpoint.clone();
    TestCase::new(vec![
        vars(Step::config(CONFIG)).check(checks::attr_equals(ADDRESS, "status", "Active")),
        // Out of band: the saved token goes bad (as when an AWS token expires) and the next cycle quarantines the
        // job. The plan shows enabled false -> true and the quarantine reason.
        vars(Step::config(CONFIG))
            .plan_only()
            .expect_non_empty_plan()
            .pre(move |ctx| {
                let graph = Graph::connect();
                let id = job_id(&ctx.state()?)?;
                let base = format!("/servicePrincipals/{sp_break}/synchronization");
                let put = graph.call(
                    "PUT",
                    &format!("{base}/secrets"),
                    Some(json!({"value": [
                        {"key": "BaseAddress", "value": endpoint_break},
                        {"key": "SecretToken", "value": "revoked-token"}
                    ]})),
                );
                if put.status != 204 {
                    return Err(format!("secrets: {} {}", put.status, put.body).into());
                }
                // A cycle only talks to the SCIM endpoint when someone is in scope: assign a user.
                let upn = format!("{}@example.test", unique("acc-user"));
                let user = graph.call(
                    "POST",
                    "/users",
                    Some(json!({
                        "accountEnabled": true, "displayName": "Acc User", "givenName": "Acc", "surname": "User",
                        "mailNickname": "accuser", "userPrincipalName": upn,
                        "passwordProfile": {"password": "Unused-Passw0rd!", "forceChangePasswordNextSignIn": false}
                    })),
                );
                let user_id = user.body["id"].as_str().ok_or(format!("user: {}", user.body))?;
                let assigned = graph.call(
                    "POST",
                    &format!("/servicePrincipals/{sp_break}/appRoleAssignedTo"),
                    Some(json!({
                        "principalId": user_id, "resourceId": sp_break,
                        "appRoleId": "00000000-0000-0000-0000-000000000000"
                    })),
                );
                if assigned.status != 201 {
                    return Err(format!("assignment: {} {}", assigned.status, assigned.body).into());
                }
                let restart = graph.call("POST", &format!("{base}/jobs/{id}/restart"), None);
                if restart.status != 204 {
                    return Err(format!("restart: {} {}", restart.status, restart.body).into());
                }
                // The cycle runs in the background; wait for the quarantine.
                for _ in 0..100 {
                    let job = graph.call("GET", &format!("{base}/jobs/{id}"), None).body;
                    if job["status"]["code"] == "Quarantine" {
                        return Ok(());
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                let job = graph.call("GET", &format!("{base}/jobs/{id}"), None).body;
                Err(format!("the job was not quarantined: {}", job["status"]).into())
            })
            .check(checks::attr_equals(ADDRESS, "status", "Active"))
            .plan_check(|plan| {
                let change = plan.change(ADDRESS).ok_or("no planned change")?;
                let before = &change.before;
                if change.actions != ["update"]
                    || before["enabled"] != false
                    || before["status"] != "Quarantine"
                    || before["quarantine_reason"] != "EncounteredQuarantineException"
                    || change.after["enabled"] != true
                {
                    return Err(format!(
                        "expected enabled false -> true on a quarantined job, got {:?} {before}",
                        change.actions
                    )
                    .into());
                }
                Ok(())
            }),
        // A new token (version bump) is sent, validated, and the job restarted out of quarantine.
        vars(Step::config(CONFIG))
            .var("token_version", "2")
            .check(checks::attr_equals(ADDRESS, "enabled", "true"))
            .check(checks::attr_equals(ADDRESS, "status", "Active"))
            .check(checks::attr_absent(ADDRESS, "quarantine_reason"))
            .check(job_schedule_is(sp.clone(), "Active")),
    ])
    .with_emulators()
    .secret(token.clone())
    .run();
}

#[test]
fn scim_provisioning_failure_after_the_job_exists_keeps_it_in_state_and_the_next_apply_replaces_it()
{
    if skipped_without_tf_acc() {
        return;
    }
    let endpoints = endpoints().clone();
    let graph = Graph::connect();
    let (application_id, sp) = graph.create_aws_application(&unique("acc-scim-partial"));
    let token = endpoints.scim_token.clone();
    let vars = |step: Step| {
        step.var("application_id", &application_id)
            .var("scim_endpoint", &endpoints.scim_endpoint)
            .var("scim_token", &token)
    };
    let sp_fault = sp.clone();
    let sp_partial = sp.clone();
    let sp_replaced = sp.clone();
    let sp_destroyed = sp.clone();
    TestCase::new(vec![
        // Starting the job fails once: the job already exists, so it must be saved (tainted) in state.
        vars(Step::config(CONFIG))
            .pre(move |_| {
                let fault = admin(
                    "POST",
                    "/faults",
                    Some(json!({
                        "path": format!("^/v1.0/servicePrincipals/{sp_fault}/synchronization/jobs/[^/]+/start$"),
                        "method": "POST", "status": 400, "count": 1
                    })),
                );
                if fault.status != 201 {
                    return Err(format!("fault: {} {}", fault.status, fault.body).into());
                }
                Ok(())
            })
            .expect_error("Failed to start the provisioning job")
            .check(move |state| {
                let saved = job_id(state)?;
                let jobs = Graph::connect().jobs(&sp_partial);
                if jobs.len() != 1 || jobs[0]["id"] != saved.as_str() {
                    return Err(format!("state has job {saved}, the emulator has {jobs:?}").into());
                }
                Ok(())
            }),
        // The tainted job is replaced: the old one deleted, a new one created and started.
        vars(Step::config(CONFIG))
            .check(checks::attr_equals(ADDRESS, "status", "Active"))
            .check(move |state| {
                let current = job_id(state)?;
                let jobs = Graph::connect().jobs(&sp_replaced);
                if jobs.len() != 1 || jobs[0]["id"] != current.as_str() {
                    return Err(format!("expected only job {current}, the emulator has {jobs:?}").into());
                }
                Ok(())
            }),
    ])
    .with_emulators()
    .secret(token.clone())
    .check_destroy(move |_| {
        let jobs = Graph::connect().jobs(&sp_destroyed);
        if !jobs.is_empty() {
            return Err(format!("jobs left after destroy: {jobs:?}").into());
        }
        Ok(())
    })
    .run();
}
