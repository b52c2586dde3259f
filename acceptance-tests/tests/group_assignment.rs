//! `idbridge_group_assignment` through real Terraform against the emulators. Fixtures (the enterprise app,
//! its provisioning job pointed at the emulator's SCIM endpoint, Entra groups and users, permission sets)
//! are made directly through the emulators' APIs so these tests do not depend on the other resources.
//!
//! The emulators are shared by every test of this binary and some tests change the AWS proxy's quotas, so
//! the tests take [`SERIAL`] and run one at a time.

mod assignments_fixture;
mod support;

use std::sync::{Arc, Mutex};

use assignments_fixture::{Fixture, list, op_count};
use idbridge_acceptance::{
    PlannedChange, Step, TestCase, checks, pointed_error, skipped_without_tf_acc,
};
use serde_json::{Value, json};
use support::unique;

static SERIAL: Mutex<()> = Mutex::new(());

const RESOURCE: &str = "idbridge_group_assignment.g";
const ACCOUNT_1: &str = "111111111111";
const ACCOUNT_2: &str = "222222222222";
const ACCOUNT_3: &str = "333333333333";

const CONFIG: &str = r#"
variable "application_id" { type = string }
variable "group_id" { type = string }
variable "permission_set_arns" { type = list(string) }
variable "account_ids" { type = list(string) }

resource "idbridge_group_assignment" "g" {
  application_id      = var.application_id
  entra_group_id      = var.group_id
  permission_set_arns = var.permission_set_arns
  account_ids         = var.account_ids
}
"#;

/// [`CONFIG`] with the instance named explicitly.
fn config_with_instance() -> String {
    CONFIG
        .replace(
            "variable \"account_ids\"",
            "variable \"instance_arn\" { type = string }\nvariable \"account_ids\"",
        )
        .replace(
            "  account_ids         = var.account_ids",
            "  account_ids         = var.account_ids\n  instance_arn        = var.instance_arn",
        )
}

/// A planned change's `assignments` before it, and those it adds.
fn assignments_added(change: &PlannedChange) -> (Vec<String>, Vec<String>) {
    let keys = |v: &Value| -> Vec<String> {
        v["assignments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let (before, after) = (keys(&change.before), keys(&change.after));
    let added = after.into_iter().filter(|a| !before.contains(a)).collect();
    (before, added)
}

#[test]
fn group_assignment_full_chain_import_update_drift_destroy() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fx = Arc::new(Fixture::new());
    let name = unique("acc-ga");
    let (app_id, sp_id) = fx.app(&name, &fx.endpoints.scim_token);
    let group_id = fx.group(&format!("{name}-grp"));
    let ps_a = fx.permission_set(&format!("{name}-a"));
    let ps_b = fx.permission_set(&format!("{name}-b"));

    let vars = |step: Step, ps: &[&str], accounts: &[&str]| {
        step.var("application_id", app_id.clone())
            .var("group_id", group_id.clone())
            .var("permission_set_arns", list(ps))
            .var("account_ids", list(accounts))
    };
    let identity_group: Arc<Mutex<String>> = Arc::default();
    let stats_before: Arc<Mutex<Value>> = Arc::default();

    let (fx1, ps_a1, ps_b1, sp1, grp1, ig1) = (
        fx.clone(),
        ps_a.clone(),
        ps_b.clone(),
        sp_id.clone(),
        group_id.clone(),
        identity_group.clone(),
    );
    let step1 = vars(
        Step::config(CONFIG),
        &[&ps_a, &ps_b],
        &[ACCOUNT_1, ACCOUNT_2],
    )
    .check(checks::attr_equals(
        RESOURCE,
        "id",
        &format!("{app_id}/{group_id}"),
    ))
    .check(checks::attr_equals(RESOURCE, "assignments.#", "4"))
    .check(checks::attr_set(RESOURCE, "identity_store_group_id"))
    .check(checks::attr_set(RESOURCE, "app_role_assignment_id"))
    .check(move |state| {
        let resource = state.require(RESOURCE)?;
        let principal = resource
            .attr("identity_store_group_id")
            .unwrap_or_default()
            .to_string();
        *ig1.lock().unwrap() = principal.clone();
        // The group reached AWS through SCIM and holds every assignment, exactly once.
        for ps in [&ps_a1, &ps_b1] {
            for account in [ACCOUNT_1, ACCOUNT_2] {
                let found = fx1
                    .assigned(account, ps)
                    .iter()
                    .filter(|p| **p == principal)
                    .count();
                if found != 1 {
                    return Err(
                        format!("{account}/{ps}: {found} assignments of {principal}").into(),
                    );
                }
            }
        }
        let role = fx1.app_role_assignments(&sp1);
        if !role.iter().any(|a| a["principalId"] == grp1.as_str()) {
            return Err("the group is not assigned to the enterprise app".into());
        }
        Ok(())
    });

    let (fx2, sb2) = (fx.clone(), stats_before.clone());
    let (fx3, sb3) = (fx.clone(), stats_before.clone());
    let step_update = vars(
        Step::config(CONFIG),
        &[&ps_a],
        &[ACCOUNT_1, ACCOUNT_2, ACCOUNT_3],
    )
    .pre(move |_| {
        *sb2.lock().unwrap() = fx2.proxy_stats();
        Ok(())
    })
    .check(checks::attr_equals(RESOURCE, "assignments.#", "3"))
    .check(move |_| {
        let before = sb3.lock().unwrap().clone();
        let after = fx3.proxy_stats();
        let delta = |op| op_count(&after, op) - op_count(&before, op);
        // Only the difference: one new account for A, the two B assignments removed.
        match (
            delta("CreateAccountAssignment"),
            delta("DeleteAccountAssignment"),
        ) {
            (1, 2) => Ok(()),
            other => Err(format!("expected (1 create, 2 deletes), got {other:?}").into()),
        }
    });

    let (fx4, ig4, ps_a4) = (fx.clone(), identity_group.clone(), ps_a.clone());
    let step_drift = vars(
        Step::config(CONFIG).plan_only(),
        &[&ps_a],
        &[ACCOUNT_1, ACCOUNT_2, ACCOUNT_3],
    )
    .pre(move |_| {
        let principal = ig4.lock().unwrap().clone();
        fx4.delete_assignment_out_of_band(ACCOUNT_2, &ps_a4, &principal);
        Ok(())
    })
    .expect_non_empty_plan()
    .plan_check({
        let missing = format!("{ACCOUNT_2}/{ps_a}");
        move |plan| {
            let change = plan.change(RESOURCE).ok_or("no change planned")?;
            if change.actions != ["update"] {
                return Err(format!("expected update, got {:?}", change.actions).into());
            }
            let (before, added) = assignments_added(change);
            let others_equal = change
                .before
                .as_object()
                .unwrap()
                .iter()
                .all(|(k, v)| k == "assignments" || change.after[k] == *v);
            if added == [missing.as_str()] && before.len() == 2 && others_equal {
                Ok(())
            } else {
                Err(format!(
                    "expected a one-line diff adding {missing}: before {before:?}, added {added:?}"
                )
                .into())
            }
        }
    });

    let fx5 = fx.clone();
    let ps_a5 = ps_a.clone();
    let step_heal = vars(
        Step::config(CONFIG),
        &[&ps_a],
        &[ACCOUNT_1, ACCOUNT_2, ACCOUNT_3],
    )
    .check(checks::attr_equals(RESOURCE, "assignments.#", "3"))
    .check(move |state| {
        let principal = state
            .require(RESOURCE)?
            .attr("identity_store_group_id")
            .unwrap_or_default()
            .to_string();
        match fx5
            .assigned(ACCOUNT_2, &ps_a5)
            .iter()
            .filter(|p| **p == principal)
            .count()
        {
            1 => Ok(()),
            n => Err(format!("{n} assignments after healing").into()),
        }
    });

    // The group's app role assignment removed in Entra: the plan re-creates it in place.
    let (fx7, sp7, grp7) = (fx.clone(), sp_id.clone(), group_id.clone());
    let step_role_drift = vars(
        Step::config(CONFIG).plan_only(),
        &[&ps_a],
        &[ACCOUNT_1, ACCOUNT_2, ACCOUNT_3],
    )
    .pre(move |_| {
        for a in fx7.app_role_assignments(&sp7) {
            if a["principalId"] == grp7.as_str() {
                let id = a["id"].as_str().unwrap();
                fx7.graph(
                    "DELETE",
                    &format!("/servicePrincipals/{sp7}/appRoleAssignedTo/{id}"),
                    None,
                );
            }
        }
        Ok(())
    })
    .expect_non_empty_plan()
    .plan_check(|plan| {
        let change = plan.change(RESOURCE).ok_or("no change planned")?;
        if change.actions == ["update"] && change.before["app_role_assignment_id"].is_null() {
            Ok(())
        } else {
            Err(format!(
                "expected an in-place update re-creating the app role assignment, got {:?} (before {})",
                change.actions, change.before["app_role_assignment_id"]
            )
            .into())
        }
    });
    let (fx8, sp8, grp8) = (fx.clone(), sp_id.clone(), group_id.clone());
    let step_role_heal = vars(
        Step::config(CONFIG),
        &[&ps_a],
        &[ACCOUNT_1, ACCOUNT_2, ACCOUNT_3],
    )
    .check(checks::attr_set(RESOURCE, "app_role_assignment_id"))
    .check(move |_| {
        if fx8
            .app_role_assignments(&sp8)
            .iter()
            .any(|a| a["principalId"] == grp8.as_str())
        {
            Ok(())
        } else {
            Err("the app role assignment was not re-created".into())
        }
    });

    let (fx6, ig6, sp6, grp6) = (
        fx.clone(),
        identity_group.clone(),
        sp_id.clone(),
        group_id.clone(),
    );
    let all_ps = [ps_a.clone(), ps_b.clone()];
    TestCase::new(vec![
        step1,
        vars(
            Step::import(RESOURCE),
            &[&ps_a, &ps_b],
            &[ACCOUNT_1, ACCOUNT_2],
        ),
        // By the resource identity Terraform stored with the state (application_id + entra_group_id).
        vars(
            Step::import(RESOURCE).import_by_identity(),
            &[&ps_a, &ps_b],
            &[ACCOUNT_1, ACCOUNT_2],
        ),
        step_update,
        step_drift,
        step_heal,
        step_role_drift,
        step_role_heal,
    ])
    .with_emulators()
    .check_destroy(move |_| {
        let principal = ig6.lock().unwrap().clone();
        for ps in &all_ps {
            for account in [ACCOUNT_1, ACCOUNT_2, ACCOUNT_3] {
                if fx6.assigned(account, ps).contains(&principal) {
                    return Err(format!("{account}/{ps} still assigned after destroy").into());
                }
            }
        }
        if fx6
            .app_role_assignments(&sp6)
            .iter()
            .any(|a| a["principalId"] == grp6.as_str())
        {
            return Err("app role assignment left after destroy".into());
        }
        Ok(())
    })
    .run();
}

/// A resource naming many (account, permission set) pairs is refreshed with ListAccountAssignmentsForPrincipal
/// (one page for its 50 assignments) rather than one ListAccountAssignments per pair, and drift still shows as
/// the one missing pair.
#[test]
fn group_assignment_wide_refresh_reads_per_principal_and_sees_drift() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fx = Arc::new(Fixture::new());
    let name = unique("acc-gaw");
    let (app_id, _) = fx.app(&name, &fx.endpoints.scim_token);
    let group_id = fx.group(&format!("{name}-grp"));
    let ps: Vec<String> = (0..2)
        .map(|i| fx.permission_set(&format!("{name}-ps{i}")))
        .collect();
    let accounts: Vec<String> = (0..25).map(|i| format!("5555555555{i:02}")).collect();
    let vars = |step: Step| {
        step.var("application_id", app_id.clone())
            .var("group_id", group_id.clone())
            .var(
                "permission_set_arns",
                list(&ps.iter().map(String::as_str).collect::<Vec<_>>()),
            )
            .var(
                "account_ids",
                list(&accounts.iter().map(String::as_str).collect::<Vec<_>>()),
            )
    };
    let stats_before: Arc<Mutex<Value>> = Arc::default();
    let (fx1, sb1, ps1, acct1) = (
        fx.clone(),
        stats_before.clone(),
        ps[0].clone(),
        accounts[7].clone(),
    );
    let fx2 = fx.clone();
    let missing = format!("{}/{}", accounts[7], ps[0]);
    let result = TestCase::new(vec![
        vars(Step::config(CONFIG)).check(checks::attr_equals(RESOURCE, "assignments.#", "50")),
        vars(Step::config(CONFIG).plan_only())
            .pre(move |ctx| {
                let principal = ctx
                    .state()?
                    .require(RESOURCE)?
                    .attr("identity_store_group_id")
                    .unwrap_or_default()
                    .to_string();
                *sb1.lock().unwrap() = fx1.proxy_stats();
                fx1.delete_assignment_out_of_band(&acct1, &ps1, &principal);
                Ok(())
            })
            .expect_non_empty_plan()
            .plan_check(move |plan| {
                let after = fx2.proxy_stats();
                let before = stats_before.lock().unwrap().clone();
                let delta = |op| op_count(&after, op) - op_count(&before, op);
                let (pairs, principal) = (
                    delta("ListAccountAssignments"),
                    delta("ListAccountAssignmentsForPrincipal"),
                );
                if pairs != 0 || principal == 0 {
                    return Err(format!(
                        "refresh of 50 pairs: {pairs} ListAccountAssignments, {principal} \
                         ListAccountAssignmentsForPrincipal (want 0 and at least 1)"
                    )
                    .into());
                }
                let change = plan.change(RESOURCE).ok_or("no change planned")?;
                let (before, added) = assignments_added(change);
                if added == [missing.as_str()] && before.len() == 49 {
                    Ok(())
                } else {
                    Err(format!(
                        "expected {missing} alone to come back, got {added:?} ({} before)",
                        before.len()
                    )
                    .into())
                }
            }),
    ])
    .with_emulators()
    .try_run();
    if let Err(failure) = result {
        panic!("{failure:?}");
    }
}

#[test]
fn group_assignment_converges_under_throttling_conflicts_and_server_errors() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fx = Arc::new(Fixture::new());
    let name = unique("acc-gaf");
    let (app_id, _) = fx.app(&name, &fx.endpoints.scim_token);
    let groups: Vec<String> = (0..3).map(|i| fx.group(&format!("{name}-g{i}"))).collect();
    let ps: Vec<String> = (0..2)
        .map(|i| fx.permission_set(&format!("{name}-ps{i}")))
        .collect();
    let accounts = ["444444444401", "444444444402", "444444444403"];
    let config = format!(
        r#"
variable "application_id" {{ type = string }}
variable "group_ids" {{ type = list(string) }}
resource "idbridge_group_assignment" "g" {{
  count               = length(var.group_ids)
  application_id      = var.application_id
  entra_group_id      = var.group_ids[count.index]
  permission_set_arns = {ps}
  account_ids         = {accounts}
}}
"#,
        ps = list(&ps.iter().map(String::as_str).collect::<Vec<_>>()),
        accounts = list(&accounts)
    );
    // A storm: 3 calls per second, two outstanding assignment operations, and one call in five failing inside
    // AWS (the model's InternalServerException, HTTP 500, before it acts), for 18 assignments.
    fx.proxy_config(
        json!({ "tps_limit": 3, "burst": 3, "max_outstanding_assignments": 2,
                            "server_error_percent": 20 }),
    );
    let before = fx.proxy_stats();
    let (fxc, ps_c) = (fx.clone(), ps.clone());
    let result = TestCase::new(vec![
        Step::config(config)
            .var("application_id", app_id.clone())
            .var(
                "group_ids",
                list(&groups.iter().map(String::as_str).collect::<Vec<_>>()),
            )
            .check(move |state| {
                let after = fxc.proxy_stats();
                let throttles = after["throttles"].as_u64().unwrap_or(0)
                    - before["throttles"].as_u64().unwrap_or(0);
                let conflicts = after["conflicts"].as_u64().unwrap_or(0)
                    - before["conflicts"].as_u64().unwrap_or(0);
                let server_errors = after["server_errors"].as_u64().unwrap_or(0)
                    - before["server_errors"].as_u64().unwrap_or(0);
                println!(
                    "storm: {throttles} throttles, {conflicts} conflicts, {server_errors} server errors answered"
                );
                if throttles + conflicts == 0 || server_errors == 0 {
                    return Err(
                        "the storm did not happen (no throttling, conflict or server error answered)".into(),
                    );
                }
                for i in 0..3 {
                    let principal = state
                        .require(&format!("idbridge_group_assignment.g[{i}]"))?
                        .attr("identity_store_group_id")
                        .unwrap_or_default()
                        .to_string();
                    for p in &ps_c {
                        for account in accounts {
                            let n = fxc
                                .assigned(account, p)
                                .iter()
                                .filter(|x| **x == principal)
                                .count();
                            if n != 1 {
                                return Err(format!(
                                    "{principal} on {account}/{p}: {n} assignments (want exactly 1)"
                                )
                                .into());
                            }
                        }
                    }
                }
                Ok(())
            }),
    ])
    .with_emulators()
    .try_run();
    fx.proxy_config(
        json!({ "tps_limit": 20, "burst": 20, "max_outstanding_assignments": 10,
                            "server_error_percent": 0 }),
    );
    if let Err(failure) = result {
        panic!("{failure:?}");
    }
}

#[test]
fn group_assignment_bad_inputs_fail_at_plan() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let app = "11111111-2222-3333-4444-555555555555";
    let group = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    let good_arn = "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef";
    let fx = Fixture::new();
    let instance_arn = fx.endpoints.sso_instance_arn.clone();
    let unknown_arn = format!(
        "{}/ps-00000000deadbeef",
        instance_arn.replace(":instance/", ":permissionSet/")
    );
    let stats_before = fx.proxy_stats();
    TestCase::new(vec![
        Step::config(CONFIG)
            .var("application_id", app)
            .var("group_id", group)
            .var("permission_set_arns", list(&[good_arn]))
            .var("account_ids", list(&["12345678901"]))
            .expect_error(&format!(
                "{}.*12345678901.*12 digits",
                pointed_error("Invalid AWS account id", "account_ids")
            ))
            .check(checks::no_resources),
        Step::config(CONFIG)
            .var("application_id", app)
            .var("group_id", group)
            .var(
                "permission_set_arns",
                list(&["arn:aws:sso:::permissionSet/ps-123"]),
            )
            .var("account_ids", list(&[ACCOUNT_1]))
            .expect_error(&format!(
                "{}.*ps-123.*permissionSet/ssoins-",
                pointed_error("Invalid permission set ARN", "permission_set_arns")
            ))
            .check(checks::no_resources),
        // Well formed, but no such permission set in the emulated instance: found out at plan time.
        Step::config(CONFIG)
            .var("application_id", app)
            .var("group_id", group)
            .var("permission_set_arns", list(&[&unknown_arn]))
            .var("account_ids", list(&[ACCOUNT_1]))
            .expect_error(&format!(
                "{}.*ps-00000000deadbeef.*does not exist",
                pointed_error("Permission set not found", "permission_set_arns")
            ))
            .check(checks::no_resources),
        // A permission set of another instance than the one named.
        Step::config(config_with_instance())
            .var("application_id", app)
            .var("group_id", group)
            .var("instance_arn", &instance_arn)
            .var("permission_set_arns", list(&[good_arn]))
            .var("account_ids", list(&[ACCOUNT_1]))
            .expect_error(&format!(
                "{}.*ssoins-1234567890abcdef",
                pointed_error("Permission set of another instance", "permission_set_arns")
            ))
            .check(checks::no_resources),
    ])
    .with_emulators()
    .run();
    let after = Fixture::new().proxy_stats();
    assert_eq!(
        op_count(&after, "CreateAccountAssignment"),
        op_count(&stats_before, "CreateAccountAssignment"),
        "nothing may be created"
    );
}

#[test]
fn group_assignment_explains_a_quarantined_job() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fx = Fixture::new();
    let name = unique("acc-gaq");
    // A revoked SCIM token: the SCIM endpoint answers 401 and Entra quarantines the job.
    let (app_id, _) = fx.app(&name, "revoked-token");
    let group_id = fx.group(&format!("{name}-grp"));
    let ps = fx.permission_set(&format!("{name}-ps"));
    TestCase::new(vec![
        Step::config(CONFIG)
            .var("application_id", app_id)
            .var("group_id", group_id)
            .var("permission_set_arns", list(&[&ps]))
            .var("account_ids", list(&[ACCOUNT_1]))
            .expect_error(r"(?s)Provisioning job is quarantined.*SCIM token"),
    ])
    .with_emulators()
    .run();
}
