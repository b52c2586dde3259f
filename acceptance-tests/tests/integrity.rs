//! What a resource depends on, verified by every refresh, and ownership, through real Terraform against the
//! emulators: each out-of-band breakage shows as a change at plan and is healed by one apply; an object that
//! already exists is an error that shows the `import` block unless `adopt_existing` opts in; a deleted
//! service principal is replaced without replication waits.

mod assignments_fixture;
mod integrity_support;
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assignments_fixture::{Fixture, list};
use idbridge_acceptance::{
    CheckResult, Plan, State, Step, TestCase, checks, skipped_without_tf_acc,
};
use integrity_support::{app_config, attr, marked_policies};
use serde_json::{Value, json};
use support::{Graph, exclusive, unique};

const APP: &str = "idbridge_entra_application.aws";
const TRUST: &str = "idbridge_saml_trust.aws";
const ASSIGNMENT: &str = "idbridge_group_assignment.g";
const ACCOUNT: &str = "111111111111";

fn trust_block(label: &str, extra: &str) -> String {
    format!(
        "\nresource \"idbridge_saml_trust\" \"{label}\" {{\n  application_id = idbridge_entra_application.aws.id\n  \
         aws_metadata_xml = file(\"{}/tests/testdata/aws_sso_metadata.xml\")\n{extra}}}\n",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn expect_update(address: &'static str) -> impl Fn(&Plan) -> CheckResult {
    move |plan: &Plan| {
        let change = plan.change(address).ok_or("no planned change")?;
        if change.actions == ["update"] {
            Ok(())
        } else {
            Err(format!("expected an update of {address}, got {:?}", change.actions).into())
        }
    }
}

/// The service principal as Graph holds it.
fn service_principal(state: &State) -> Result<Value, String> {
    let sp_id = attr(state, TRUST, "service_principal_id")?;
    Ok(Graph::connect()
        .call(
            "GET",
            &format!("/servicePrincipals/{sp_id}?$select=id,preferredTokenSigningKeyThumbprint,keyCredentials"),
            None,
        )
        .body)
}

/// The trust's certificate is the one Entra uses, and its only policy is the assigned one.
fn trust_is_whole(state: &State) -> CheckResult {
    let sp = service_principal(state)?;
    let thumbprint = attr(state, TRUST, "certificate_thumbprint")?;
    if !sp["preferredTokenSigningKeyThumbprint"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case(&thumbprint))
    {
        return Err(format!("active thumbprint is not {thumbprint}: {sp}").into());
    }
    if sp["keyCredentials"].as_array().is_none_or(|k| k.is_empty()) {
        return Err(format!("no signing certificate: {sp}").into());
    }
    let policies = marked_policies(&attr(state, APP, "client_id")?);
    let assigned = attr(state, TRUST, "claims_mapping_policy_id")?;
    if policies.len() != 1 || policies[0]["id"] != assigned.as_str() {
        return Err(
            format!("expected exactly the assigned policy {assigned}: {policies:?}").into(),
        );
    }
    let sp_id = attr(state, TRUST, "service_principal_id")?;
    let on_sp = Graph::connect()
        .call(
            "GET",
            &format!("/servicePrincipals/{sp_id}/claimsMappingPolicies"),
            None,
        )
        .body;
    if on_sp["value"][0]["id"] != assigned.as_str() {
        return Err(format!("policy {assigned} is not assigned: {on_sp}").into());
    }
    Ok(())
}

#[test]
fn saml_trust_heals_a_removed_certificate_and_an_unassigned_policy_and_refuses_a_second_trust() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let name = unique("acc-integrity");
    let hcl = format!("{}{}", app_config(&name), trust_block("aws", ""));
    let second = format!("{hcl}{}", trust_block("second", ""));
    let client_id: Arc<Mutex<String>> = Arc::default();
    let (remember, destroyed) = (client_id.clone(), client_id);
    TestCase::new(vec![
        Step::config(hcl.clone())
            .check(trust_is_whole)
            .check(move |state| {
                *remember.lock().unwrap() = attr(state, APP, "client_id")?;
                Ok(())
            }),
        // The signing certificate removed in the portal: Entra would sign with the tenant default.
        Step::config(hcl.clone())
            .plan_only()
            .expect_non_empty_plan()
            .pre(|ctx| {
                let sp_id = attr(&ctx.state()?, TRUST, "service_principal_id")?;
                let answer = Graph::connect().call(
                    "PATCH",
                    &format!("/servicePrincipals/{sp_id}"),
                    Some(json!({ "keyCredentials": [], "passwordCredentials": [] })),
                );
                if answer.status >= 300 {
                    return Err(format!(
                        "removing the certificate: {} {}",
                        answer.status, answer.body
                    )
                    .into());
                }
                Ok(())
            })
            .plan_check(expect_update(TRUST)),
        Step::config(hcl.clone()).check(trust_is_whole),
        // The claims mapping policy unassigned: the same policy is assigned again, none is added.
        Step::config(hcl.clone())
            .plan_only()
            .expect_non_empty_plan()
            .pre(|ctx| {
                let state = ctx.state()?;
                let sp_id = attr(&state, TRUST, "service_principal_id")?;
                let policy = attr(&state, TRUST, "claims_mapping_policy_id")?;
                let answer = Graph::connect().call(
                    "DELETE",
                    &format!("/servicePrincipals/{sp_id}/claimsMappingPolicies/{policy}/$ref"),
                    None,
                );
                if answer.status != 204 {
                    return Err(format!("unassigning: {} {}", answer.status, answer.body).into());
                }
                Ok(())
            })
            .plan_check(expect_update(TRUST)),
        Step::config(hcl.clone()).check(trust_is_whole),
        // A second trust on the configured application would take it over silently.
        Step::config(second)
            .expect_error(r"(?s)already has SAML single sign-on.*import \{.*adopt_existing = true"),
        Step::config(hcl),
    ])
    .with_emulators()
    .check_destroy(move |_| {
        let left = marked_policies(&destroyed.lock().unwrap());
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("claims policies left after destroy: {left:?}").into())
        }
    })
    .run();
}

#[test]
fn a_deleted_service_principal_is_replaced_without_waiting() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let name = unique("acc-sp-gone");
    let hcl = app_config(&name);
    let sp_of_first: Arc<Mutex<String>> = Arc::default();
    let (remember, compare) = (sp_of_first.clone(), sp_of_first);
    let started: Arc<Mutex<Option<Instant>>> = Arc::default();
    let (start, stop) = (started.clone(), started);
    TestCase::new(vec![
        Step::config(hcl.clone()).check(move |state| {
            *remember.lock().unwrap() = attr(state, APP, "service_principal_id")?;
            Ok(())
        }),
        Step::config(hcl.clone())
            .plan_only()
            .expect_non_empty_plan()
            .pre(move |ctx| {
                let sp_id = attr(&ctx.state()?, APP, "service_principal_id")?;
                let answer =
                    Graph::connect().call("DELETE", &format!("/servicePrincipals/{sp_id}"), None);
                if answer.status != 204 {
                    return Err(format!(
                        "deleting the service principal: {} {}",
                        answer.status, answer.body
                    )
                    .into());
                }
                *start.lock().unwrap() = Some(Instant::now());
                Ok(())
            })
            .plan_check(|plan| {
                let change = plan.change(APP).ok_or("no planned change")?;
                if change.actions == ["delete", "create"] {
                    Ok(())
                } else {
                    Err(format!("expected a replacement, got {:?}", change.actions).into())
                }
            }),
        Step::config(hcl).check(move |state| {
            let new_sp = attr(state, APP, "service_principal_id")?;
            if new_sp == *compare.lock().unwrap() {
                return Err("the service principal was not replaced".into());
            }
            // Plan and apply without the two-minute replication waits of a 404 (each would be 120 s).
            let elapsed = stop
                .lock()
                .unwrap()
                .map(|s| s.elapsed())
                .unwrap_or_default();
            if elapsed >= Duration::from_secs(100) {
                return Err(
                    format!("plan and apply took {elapsed:?}: a 404 was waited out").into(),
                );
            }
            Ok(())
        }),
    ])
    .with_emulators()
    .run();
}

#[test]
fn a_taken_permission_set_name_is_refused_unless_adopted() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let fx = Fixture::new();
    let name = unique("acc-own");
    let existing = fx.permission_set(&name);
    let hcl = |extra: &str| {
        format!("resource \"idbridge_permission_set\" \"p\" {{\n  name = \"{name}\"\n{extra}}}\n")
    };
    TestCase::new(vec![
        Step::config(hcl("")).expect_error(&format!(
            r#"(?s)Permission set "{name}" already exists.*import \{{.*id = "{}".*adopt_existing = true"#,
            regex_escape(&existing)
        )),
        Step::config(hcl("  adopt_existing = true\n"))
            .check(checks::attr_equals("idbridge_permission_set.p", "arn", &existing)),
    ])
    .with_emulators()
    .run();
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = "\\.+*?()|[]{}^$/".contains(c);
            escape.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

const ASSIGNMENT_CONFIG: &str = r#"
variable "application_id" { type = string }
variable "group_id" { type = string }
variable "permission_set_arns" { type = list(string) }
variable "account_ids" { type = list(string) }
variable "adopt_existing" {
  type    = bool
  default = null
}

resource "idbridge_group_assignment" "g" {
  application_id      = var.application_id
  entra_group_id      = var.group_id
  permission_set_arns = var.permission_set_arns
  account_ids         = var.account_ids
  adopt_existing      = var.adopt_existing
}
"#;

#[test]
fn group_assignment_heals_a_deleted_identity_store_group_and_refuses_a_group_assigned_elsewhere() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let fx = Arc::new(Fixture::new());
    let name = unique("acc-ga-int");
    let (app_id, sp_id) = fx.app(&name, &fx.endpoints.scim_token);
    let group_id = fx.group(&format!("{name}-grp"));
    let ps = fx.permission_set(&format!("{name}-ps"));
    // The group is already assigned to the app, as another configuration (or the portal) would have.
    fx.assign_to_app(&sp_id, &group_id);
    let vars = |step: Step| {
        step.var("application_id", app_id.clone())
            .var("group_id", group_id.clone())
            .var("permission_set_arns", list(&[&ps]))
            .var("account_ids", list(&[ACCOUNT]))
    };
    let old_group: Arc<Mutex<String>> = Arc::default();
    let (remember, compare) = (old_group.clone(), old_group);
    let (fx1, fx2, ps2) = (fx.clone(), fx.clone(), ps.clone());
    TestCase::new(vec![
        vars(Step::config(ASSIGNMENT_CONFIG)).expect_error(&format!(
            r#"(?s)Group {group_id} is already assigned.*import \{{.*id = "{app_id}/{group_id}".*adopt_existing = true"#
        )),
        vars(Step::config(ASSIGNMENT_CONFIG))
            .var("adopt_existing", "true")
            .check(move |state| {
                *remember.lock().unwrap() = attr(state, ASSIGNMENT, "identity_store_group_id")?;
                Ok(())
            }),
        // The identity store group deleted in AWS: every account assignment lost its principal.
        vars(Step::config(ASSIGNMENT_CONFIG))
            .var("adopt_existing", "true")
            .plan_only()
            .expect_non_empty_plan()
            .pre(move |ctx| {
                let group = attr(&ctx.state()?, ASSIGNMENT, "identity_store_group_id")?;
                let (status, body) = fx1.identity_store("DeleteGroup", json!({ "GroupId": group }));
                if status != 200 {
                    return Err(format!("DeleteGroup: {status} {body}").into());
                }
                Ok(())
            })
            .plan_check(expect_update(ASSIGNMENT)),
        vars(Step::config(ASSIGNMENT_CONFIG))
            .var("adopt_existing", "true")
            .check(move |state| {
                let group = attr(state, ASSIGNMENT, "identity_store_group_id")?;
                if group == *compare.lock().unwrap() {
                    return Err("identity_store_group_id still names the deleted group".into());
                }
                let assigned = fx2.assigned(ACCOUNT, &ps2);
                if !assigned.contains(&group) {
                    return Err(format!("the new group {group} has no assignment: {assigned:?}").into());
                }
                Ok(())
            }),
    ])
    .with_emulators()
    .run();
}
