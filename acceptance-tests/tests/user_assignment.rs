//! `idbridge_user_assignment` through real Terraform against the emulators: an Entra user assigned to the app,
//! provisioned on demand through the SCIM stand-in, found in the identity store by userName and given `USER`
//! account assignments; a user already assigned to the app is refused unless adopted; import, drift (an
//! assignment removed, the identity store user deleted) and bad input at plan. Fixtures are made through the
//! emulators' APIs.

mod assignments_fixture;
mod support;

use std::sync::Arc;

use assignments_fixture::{Fixture, list};
use idbridge_acceptance::{Step, TestCase, checks, pointed_error, skipped_without_tf_acc};
use serde_json::{Value, json};
use support::unique;

const RESOURCE: &str = "idbridge_user_assignment.u";
const ACCOUNT_1: &str = "555555555501";
const ACCOUNT_2: &str = "555555555502";

const CONFIG: &str = r#"
variable "application_id" { type = string }
variable "user_id" { type = string }
variable "permission_set_arns" { type = list(string) }
variable "account_ids" { type = list(string) }
variable "match" {
  type    = string
  default = null
}
variable "adopt_existing" {
  type    = bool
  default = null
}

resource "idbridge_user_assignment" "u" {
  application_id       = var.application_id
  entra_user_id        = var.user_id
  permission_set_arns  = var.permission_set_arns
  account_ids          = var.account_ids
  identity_store_match = var.match
  adopt_existing       = var.adopt_existing
}
"#;

/// An Entra user with everything AWS requires of one (userName, displayName, given and family name).
fn entra_user(fx: &Fixture, name: &str) -> String {
    fx.graph(
        "POST",
        "/users",
        Some(json!({
            "accountEnabled": true, "displayName": name, "mailNickname": name,
            "passwordProfile": { "password": "Emulator-Only-1!" },
            "userPrincipalName": format!("{name}@example.com"), "givenName": "Break", "surname": "Glass",
        })),
    )["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `(principal id, principal type)` of every assignment on (account, permission set), from moto itself.
fn assignments_on(fx: &Fixture, account: &str, permission_set_arn: &str) -> Vec<(String, String)> {
    let out = fx.moto_sso(
        "ListAccountAssignments",
        json!({ "InstanceArn": fx.endpoints.sso_instance_arn, "AccountId": account, "PermissionSetArn": permission_set_arn }),
    );
    out["AccountAssignments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["PrincipalId"].as_str().unwrap_or_default().to_string(),
                a["PrincipalType"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn store_user_id(
    state: &idbridge_acceptance::State,
) -> Result<String, idbridge_acceptance::CheckError> {
    Ok(state
        .require(RESOURCE)?
        .attr("identity_store_user_id")
        .unwrap_or_default()
        .to_string())
}

#[test]
fn user_assignment_creates_user_assignments_imports_and_heals_drift() {
    if skipped_without_tf_acc() {
        return;
    }
    let fx = Arc::new(Fixture::new());
    let name = unique("acc-ua");
    let (app_id, sp_id) = fx.app(&name, &fx.endpoints.scim_token);
    let user_id = entra_user(&fx, &format!("{name}-admin"));
    let ps = fx.permission_set(&format!("{name}-ps"));

    let vars = |step: Step, accounts: &[&str]| {
        step.var("application_id", app_id.clone())
            .var("user_id", user_id.clone())
            .var("permission_set_arns", list(&[&ps]))
            .var("account_ids", list(accounts))
    };
    let user_assigned_on = |accounts: &'static [&'static str]| {
        let (fx, ps) = (fx.clone(), ps.clone());
        move |state: &idbridge_acceptance::State| {
            let principal = store_user_id(state)?;
            for account in accounts {
                let found = assignments_on(&fx, account, &ps);
                if !found.contains(&(principal.clone(), "USER".to_string())) {
                    return Err(
                        format!("{account}: no USER assignment of {principal}: {found:?}").into(),
                    );
                }
            }
            Ok(())
        }
    };

    // The user is already assigned to the app, as another configuration (or the portal) would have: taking
    // it over silently would let two states manage one assignment, so it is refused unless adopted.
    let (fx_pre, sp_pre, user_pre) = (fx.clone(), sp_id.clone(), user_id.clone());
    let step_refused = vars(Step::config(CONFIG), &[ACCOUNT_1])
        .pre(move |_| {
            fx_pre.assign_to_app(&sp_pre, &user_pre);
            Ok(())
        })
        .expect_error(&format!(
            r#"(?s)User {user_id} is already assigned.*import \{{.*id = "{app_id}/{user_id}".*adopt_existing = true"#
        ));
    let (fx_role, sp_role, user_role) = (fx.clone(), sp_id.clone(), user_id.clone());
    let step_create = vars(Step::config(CONFIG), &[ACCOUNT_1])
        .var("adopt_existing", "true")
        .check(checks::attr_equals(
            RESOURCE,
            "id",
            &format!("{app_id}/{user_id}"),
        ))
        .check(checks::attr_equals(
            RESOURCE,
            "identity_store_match",
            "user_name",
        ))
        .check(checks::attr_equals(RESOURCE, "assignments.#", "1"))
        .check(checks::attr_set(RESOURCE, "identity_store_user_id"))
        .check(user_assigned_on(&[ACCOUNT_1]))
        .check(move |_| {
            let held = fx_role
                .app_role_assignments(&sp_role)
                .iter()
                .filter(|a| a["principalId"] == user_role.as_str())
                .count();
            if held == 1 {
                Ok(())
            } else {
                Err(
                    format!("the user holds {held} app role assignments, expected the adopted one")
                        .into(),
                )
            }
        });

    let step_update = vars(Step::config(CONFIG), &[ACCOUNT_1, ACCOUNT_2])
        .check(checks::attr_equals(RESOURCE, "assignments.#", "2"))
        .check(user_assigned_on(&[ACCOUNT_1, ACCOUNT_2]));

    // An assignment removed outside Terraform: a one-line diff at plan ...
    let (fx_drift, ps_drift) = (fx.clone(), ps.clone());
    let step_drift = vars(Step::config(CONFIG).plan_only(), &[ACCOUNT_1, ACCOUNT_2])
        .pre(move |step| {
            let principal = store_user_id(&step.state()?)?;
            fx_drift.moto_sso(
                "DeleteAccountAssignment",
                json!({
                    "InstanceArn": fx_drift.endpoints.sso_instance_arn, "TargetId": ACCOUNT_2,
                    "TargetType": "AWS_ACCOUNT", "PermissionSetArn": ps_drift, "PrincipalType": "USER",
                    "PrincipalId": principal,
                }),
            );
            Ok(())
        })
        .expect_non_empty_plan()
        .plan_check(|plan| {
            let change = plan.change(RESOURCE).ok_or("no change planned")?;
            let count = |v: &Value| v["assignments"].as_array().map_or(0, Vec::len);
            if change.actions == ["update"] && count(&change.before) == 1 && count(&change.after) == 2 {
                Ok(())
            } else {
                Err(format!("expected an update restoring one assignment, got {:?}", change.actions).into())
            }
        });
    // ... healed by the next apply.
    let step_heal = vars(Step::config(CONFIG), &[ACCOUNT_1, ACCOUNT_2])
        .check(checks::attr_equals(RESOURCE, "assignments.#", "2"))
        .check(user_assigned_on(&[ACCOUNT_1, ACCOUNT_2]));

    let step_bad_match = vars(Step::config(CONFIG), &[ACCOUNT_1, ACCOUNT_2])
        .var("match", "display_name")
        .expect_error(&pointed_error(
            "Invalid identity_store_match",
            "identity_store_match",
        ));

    // The identity store user deleted in AWS: drift at plan (no principal, so no assignment) ...
    let deleted_user: Arc<std::sync::Mutex<String>> = Arc::default();
    let (fx_del, remember, deleted_gone) = (fx.clone(), deleted_user.clone(), deleted_user.clone());
    let step_user_deleted = vars(Step::config(CONFIG).plan_only(), &[ACCOUNT_1, ACCOUNT_2])
        .pre(move |step| {
            let principal = store_user_id(&step.state()?)?;
            let (status, body) = fx_del.identity_store("DeleteUser", json!({ "UserId": principal }));
            if status != 200 {
                return Err(format!("DeleteUser: {status} {body}").into());
            }
            *remember.lock().unwrap() = principal;
            Ok(())
        })
        .expect_non_empty_plan()
        .plan_check(|plan| {
            let change = plan.change(RESOURCE).ok_or("no change planned")?;
            let before = &change.before;
            if change.actions == ["update"]
                && before["identity_store_user_id"].is_null()
                && before["assignments"].as_array().is_some_and(Vec::is_empty)
            {
                Ok(())
            } else {
                Err(format!(
                    "expected an update from no identity store user and no assignment, got {:?} from {before}",
                    change.actions
                )
                .into())
            }
        });
    // ... healed by the next apply: the user provisioned again, under a new id, and assigned again.
    let step_user_healed = vars(Step::config(CONFIG), &[ACCOUNT_1, ACCOUNT_2])
        .check(checks::attr_equals(RESOURCE, "assignments.#", "2"))
        .check(move |state| {
            if store_user_id(state)? == *deleted_user.lock().unwrap() {
                return Err("identity_store_user_id still names the deleted user".into());
            }
            Ok(())
        })
        .check(user_assigned_on(&[ACCOUNT_1, ACCOUNT_2]));

    let (fx_gone, ps_gone) = (fx.clone(), ps.clone());
    let (fx_role_gone, sp_gone, user_gone) = (fx.clone(), sp_id.clone(), user_id.clone());
    TestCase::new(vec![
        step_refused,
        step_create,
        // adopt_existing only matters at create: dropping it changes nothing remote (and import cannot read it).
        vars(Step::config(CONFIG), &[ACCOUNT_1]).check(user_assigned_on(&[ACCOUNT_1])),
        vars(Step::import(RESOURCE), &[ACCOUNT_1]),
        // The resource identity (application_id, entra_user_id) imports it too.
        vars(Step::import(RESOURCE).import_by_identity(), &[ACCOUNT_1]),
        step_update,
        step_drift,
        step_heal,
        step_user_deleted,
        step_user_healed,
        step_bad_match,
    ])
    .with_emulators()
    .check_destroy(move |_| {
        // The assignments of the user deleted out of band stay in the emulator's store with their dead principal;
        // no state knows them.
        let deleted = deleted_gone.lock().unwrap().clone();
        for account in [ACCOUNT_1, ACCOUNT_2] {
            if assignments_on(&fx_gone, account, &ps_gone)
                .iter()
                .any(|(principal, kind)| kind == "USER" && *principal != deleted)
            {
                return Err(format!("{account}: a USER assignment is left after destroy").into());
            }
        }
        if fx_role_gone
            .app_role_assignments(&sp_gone)
            .iter()
            .any(|a| a["principalId"] == user_gone.as_str())
        {
            return Err("the user's app role assignment is left after destroy".into());
        }
        Ok(())
    })
    .run();
}
