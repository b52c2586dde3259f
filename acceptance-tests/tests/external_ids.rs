//! External ids through real Terraform against the emulators: `idbridge_group_assignment` with
//! `identity_store_match = "external_id"` and `idbridge_identity_store_group` by `external_id`. In AWS only the SCIM
//! endpoint gives identity store groups `ExternalIds` (the SCIM `externalId`, which Entra's AWS gallery app fills
//! with the group's object id); the emulators' SCIM stand-in does the same, with the issuer
//! `https://scim.aws.com/<SCIM tenant id>`.
//!
//! Fixtures (the enterprise app and its provisioning job, Entra groups, permission sets, identity store groups)
//! are made directly through the emulators' APIs, as in group_assignment.rs.

mod assignments_fixture;
mod support;

use std::sync::Arc;

use assignments_fixture::{Fixture, list};
use idbridge_acceptance::{
    CheckResult, Step, TestCase, checks, pointed_error, skipped_without_tf_acc,
};
use serde_json::json;
use support::unique;

const RESOURCE: &str = "idbridge_group_assignment.g";
const DATA: &str = "data.idbridge_identity_store_group.g";
const ACCOUNT_1: &str = "111111111111";
const ACCOUNT_2: &str = "222222222222";

const CONFIG: &str = r#"
variable "application_id" { type = string }
variable "group_id" { type = string }
variable "permission_set_arns" { type = list(string) }
variable "account_ids" { type = list(string) }
variable "provision_on_demand" { type = bool }

resource "idbridge_group_assignment" "g" {
  application_id       = var.application_id
  entra_group_id       = var.group_id
  permission_set_arns  = var.permission_set_arns
  account_ids          = var.account_ids
  identity_store_match = "external_id"
  provision_on_demand  = var.provision_on_demand
}
"#;

const DATA_CONFIG: &str = r#"
variable "issuer" { type = string }
variable "external_id" { type = string }

data "idbridge_identity_store_group" "g" {
  external_id {
    issuer = var.issuer
    id     = var.external_id
  }
}
"#;

const REFUSED: &str = "Identity store group does not come from this Entra ID group";

/// The whole chain: the Entra group is assigned to the app, provisioned on demand by the emulator's engine over
/// SCIM, found in the identity store by display name and accepted because its `ExternalIds` hold the Entra
/// object id; the assignments are created; a second plan is empty; destroy removes everything.
#[test]
fn group_assignment_matches_the_provisioned_group_by_external_id() {
    if skipped_without_tf_acc() {
        return;
    }
    let fx = Arc::new(Fixture::new());
    let name = unique("acc-ext");
    let (app_id, sp_id) = fx.app(&name, &fx.endpoints.scim_token);
    let group_id = fx.group(&format!("{name}-grp"));
    let ps = fx.permission_set(&format!("{name}-ps"));

    let (fx1, ps1, grp1) = (fx.clone(), ps.clone(), group_id.clone());
    let apply = Step::config(CONFIG)
        .var("application_id", app_id.clone())
        .var("group_id", group_id.clone())
        .var("permission_set_arns", list(&[&ps]))
        .var("account_ids", list(&[ACCOUNT_1, ACCOUNT_2]))
        .var("provision_on_demand", "true")
        .check(checks::attr_equals(
            RESOURCE,
            "identity_store_match",
            "external_id",
        ))
        .check(checks::attr_equals(RESOURCE, "assignments.#", "2"))
        .check(move |state| -> CheckResult {
            let principal = state
                .require(RESOURCE)?
                .attr("identity_store_group_id")
                .ok_or("identity_store_group_id is not set")?
                .to_string();
            let external_ids = fx1.external_ids(&principal);
            let expected = (fx1.scim_issuer(), grp1.clone());
            if !external_ids.contains(&expected) {
                return Err(format!(
                    "group {principal} has ExternalIds {external_ids:?}, expected {expected:?}"
                )
                .into());
            }
            for account in [ACCOUNT_1, ACCOUNT_2] {
                let found = fx1
                    .assigned(account, &ps1)
                    .iter()
                    .filter(|p| **p == principal)
                    .count();
                if found != 1 {
                    return Err(format!("{account}: {found} assignments of {principal}").into());
                }
            }
            Ok(())
        });

    let (fx2, ps2, sp2, grp2) = (fx.clone(), ps.clone(), sp_id.clone(), group_id.clone());
    TestCase::new(vec![apply])
        .with_emulators()
        .check_destroy(move |_| {
            for account in [ACCOUNT_1, ACCOUNT_2] {
                if !fx2.assigned(account, &ps2).is_empty() {
                    return Err(format!("{account}/{ps2} still assigned after destroy").into());
                }
            }
            if fx2
                .app_role_assignments(&sp2)
                .iter()
                .any(|a| a["principalId"] == grp2.as_str())
            {
                return Err("app role assignment left after destroy".into());
            }
            Ok(())
        })
        .run();
}

/// An app, an Entra group with a permission set to get, and a group of the same display name created in the
/// identity store directly (so without external ids), as a hand-made group would be.
struct SameNamed {
    app_id: String,
    sp_id: String,
    group_id: String,
    ps: String,
    foreign: String,
}

fn same_named(fx: &Fixture, prefix: &str) -> SameNamed {
    let name = unique(prefix);
    let (app_id, sp_id) = fx.app(&name, &fx.endpoints.scim_token);
    let group_name = format!("{name}-grp");
    let group_id = fx.group(&group_name);
    let ps = fx.permission_set(&format!("{name}-ps"));
    let (status, foreign) = fx.identity_store("CreateGroup", json!({ "DisplayName": group_name }));
    assert_eq!(status, 200, "CreateGroup: {foreign}");
    SameNamed {
        app_id,
        sp_id,
        group_id,
        ps,
        foreign: foreign["GroupId"].as_str().unwrap().to_string(),
    }
}

/// A group with the Entra group's display name already exists in the identity store, created there directly (so
/// without external ids) and holding an account assignment of its own. With provisioning not reaching it, the
/// apply must refuse that group, pointing at `identity_store_match`; destroy must remove what the apply made (the
/// app role assignment) and leave the other group and its assignment alone.
#[test]
fn group_assignment_refuses_a_same_named_group_without_the_external_id() {
    if skipped_without_tf_acc() {
        return;
    }
    let fx = Arc::new(Fixture::new());
    let SameNamed {
        app_id,
        sp_id,
        group_id,
        ps,
        foreign,
    } = same_named(&fx, "acc-exn");
    fx.moto_sso(
        "CreateAccountAssignment",
        json!({
            "InstanceArn": fx.endpoints.sso_instance_arn, "TargetId": ACCOUNT_1, "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": ps, "PrincipalType": "GROUP", "PrincipalId": foreign,
        }),
    );

    let refused = || {
        Step::config(CONFIG)
            .var("application_id", app_id.clone())
            .var("group_id", group_id.clone())
            .var("permission_set_arns", list(&[&ps]))
            .var("account_ids", list(&[ACCOUNT_1, ACCOUNT_2]))
            // Provision on demand would let Entra take the same-named group over (its matching attribute is the
            // display name) and write the object id into it; without it nothing changes the other group.
            .var("provision_on_demand", "false")
            // Pointed at the attribute: Terraform shows its line.
            .expect_error(&format!(
                "{}.*{foreign}.*{group_id}",
                pointed_error(REFUSED, "identity_store_match")
            ))
    };
    // The second apply replaces the tainted resource the first one left: its refresh and destroy must not take
    // the other group for this one either.
    let again = refused();

    let (fx2, ps2, sp2, grp2, foreign2) = (
        fx.clone(),
        ps.clone(),
        sp_id.clone(),
        group_id.clone(),
        foreign.clone(),
    );
    TestCase::new(vec![refused(), again])
        .with_emulators()
        .check_destroy(move |_| {
            if fx2.assigned(ACCOUNT_1, &ps2) != [foreign2.clone()] {
                return Err(format!(
                    "the other group's assignment on {ACCOUNT_1} was touched: {:?}",
                    fx2.assigned(ACCOUNT_1, &ps2)
                )
                .into());
            }
            if !fx2.assigned(ACCOUNT_2, &ps2).is_empty() {
                return Err(format!("{ACCOUNT_2}/{ps2} assigned").into());
            }
            if !fx2.external_ids(&foreign2).is_empty() {
                return Err("the other group got external ids".into());
            }
            if fx2
                .app_role_assignments(&sp2)
                .iter()
                .any(|a| a["principalId"] == grp2.as_str())
            {
                return Err("app role assignment left after destroy".into());
            }
            Ok(())
        })
        .run();
}

/// [`CONFIG`] with the match mode from a variable.
fn config_with_match_variable() -> String {
    CONFIG
        .replace(
            "variable \"provision_on_demand\"",
            "variable \"identity_store_match\" { type = string }\nvariable \"provision_on_demand\"",
        )
        .replace(
            "identity_store_match = \"external_id\"",
            "identity_store_match = var.identity_store_match",
        )
}

/// A resource that found its group by display name (as an imported one does) and is then switched to
/// `external_id`: the update must check the group it holds against the new rule and refuse it, pointing at the
/// attribute, instead of silently keeping a group that is not the Entra group's.
#[test]
fn switching_to_external_id_rechecks_the_group_held() {
    if skipped_without_tf_acc() {
        return;
    }
    let fx = Arc::new(Fixture::new());
    let SameNamed {
        app_id,
        group_id,
        ps,
        foreign,
        ..
    } = same_named(&fx, "acc-exs");

    let step = |mode: &str| {
        Step::config(config_with_match_variable())
            .var("application_id", app_id.clone())
            .var("group_id", group_id.clone())
            .var("permission_set_arns", list(&[&ps]))
            .var("account_ids", list(&[ACCOUNT_1]))
            .var("identity_store_match", mode)
            .var("provision_on_demand", "false")
    };
    let (fx2, ps2) = (fx.clone(), ps.clone());
    TestCase::new(vec![
        step("display_name").check(checks::attr_equals(
            RESOURCE,
            "identity_store_group_id",
            &foreign,
        )),
        step("external_id")
            .expect_error(&format!(
                "{}.*{foreign}.*{group_id}",
                pointed_error(REFUSED, "identity_store_match")
            ))
            // The failed update keeps the prior state: the next plan tries the switch again.
            .check(checks::attr_equals(
                RESOURCE,
                "identity_store_match",
                "display_name",
            )),
    ])
    .with_emulators()
    .check_destroy(move |_| {
        if fx2.assigned(ACCOUNT_1, &ps2).is_empty() {
            Ok(())
        } else {
            Err(format!("{ACCOUNT_1}/{ps2} still assigned after destroy").into())
        }
    })
    .run();
}

/// A group pushed through the SCIM endpoint is found by its external id (issuer and id), not by another issuer.
#[test]
fn identity_store_group_found_by_external_id() {
    if skipped_without_tf_acc() {
        return;
    }
    let fx = Fixture::new();
    let name = unique("acc-exd");
    let external_id = format!("{name}-object-id");
    let created = fx.scim(
        "POST",
        "Groups",
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name, "externalId": external_id,
        })),
    );
    let scim_id = created["id"].as_str().unwrap().to_string();
    let issuer = fx.scim_issuer();

    TestCase::new(vec![
        Step::config(DATA_CONFIG)
            .var("issuer", issuer.clone())
            .var("external_id", external_id.clone())
            .check(checks::attr_equals(DATA, "group_id", &scim_id))
            .check(checks::attr_equals(DATA, "display_name", &name))
            .check(checks::attr_equals(
                DATA,
                "identity_store_id",
                &fx.endpoints.identity_store_id,
            )),
        Step::config(DATA_CONFIG)
            .var("issuer", "https://scim.aws.com/another-tenant")
            .var("external_id", external_id.clone())
            .expect_error(r#"(?s)Group not found in the identity store.*with external id"#),
    ])
    .with_emulators()
    .run();
    fx.scim("DELETE", &format!("Groups/{scim_id}"), None);
}
