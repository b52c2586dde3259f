//! `idbridge_group_assignment` with organization targets, through real Terraform against the emulators: moto's
//! AWS Organizations (through the AWS proxy) holds an OU tree, and the assignment follows accounts moved in and
//! out of it. The organization is instance-wide state of the shared emulators, so the test takes
//! [`support::exclusive`].

mod assignments_fixture;
mod support;

use std::sync::Arc;

use assignments_fixture::{Fixture, list};
use idbridge_acceptance::{Step, TestCase, checks, pointed_error, skipped_without_tf_acc};
use serde_json::{Value, json};
use support::unique;

const RESOURCE: &str = "idbridge_group_assignment.g";

const CONFIG: &str = r#"
variable "application_id" { type = string }
variable "group_id" { type = string }
variable "permission_set_arns" { type = list(string) }
variable "ou_ids" { type = list(string) }
variable "account_tags" {
  type    = map(string)
  default = null
}
variable "exclude_account_ids" {
  type    = list(string)
  default = null
}

resource "idbridge_group_assignment" "g" {
  application_id          = var.application_id
  entra_group_id          = var.group_id
  permission_set_arns     = var.permission_set_arns
  organizational_unit_ids = var.ou_ids
  account_tags            = var.account_tags
  exclude_account_ids     = var.exclude_account_ids
}
"#;

/// AWS Organizations through the AWS proxy, as a fixture script would call it.
fn org(fx: &Fixture, op: &str, body: Value) -> Value {
    let (status, value) = fx.aws_call(
        &fx.endpoints.aws_endpoint_url,
        "organizations",
        &format!("AWSOrganizationsV20161128.{op}"),
        body,
    );
    assert_eq!(status, 200, "{op}: {value}");
    value
}

/// The organization's root id, creating the organization on first use.
fn root_id(fx: &Fixture) -> String {
    let (status, answer) = fx.aws_call(
        &fx.endpoints.aws_endpoint_url,
        "organizations",
        "AWSOrganizationsV20161128.CreateOrganization",
        json!({ "FeatureSet": "ALL" }),
    );
    assert!(
        status == 200 || answer.to_string().contains("AlreadyInOrganization"),
        "CreateOrganization: {answer}"
    );
    org(fx, "ListRoots", json!({}))["Roots"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn create_ou(fx: &Fixture, parent: &str, name: &str) -> String {
    org(
        fx,
        "CreateOrganizationalUnit",
        json!({ "ParentId": parent, "Name": name }),
    )["OrganizationalUnit"]["Id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A new member account under the root.
fn create_account(fx: &Fixture, name: &str) -> String {
    org(
        fx,
        "CreateAccount",
        json!({ "AccountName": name, "Email": format!("{name}@example.com") }),
    )["CreateAccountStatus"]["AccountId"]
        .as_str()
        .unwrap()
        .to_string()
}

fn move_account(fx: &Fixture, account: &str, from: &str, to: &str) {
    org(
        fx,
        "MoveAccount",
        json!({ "AccountId": account, "SourceParentId": from, "DestinationParentId": to }),
    );
}

fn target_account_ids(value: &Value) -> Vec<String> {
    let mut ids: Vec<String> = value["target_account_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    ids.sort();
    ids
}

#[test]
fn group_assignment_follows_an_ou_tree_tags_and_exclusions() {
    if skipped_without_tf_acc() {
        return;
    }
    let _exclusive = support::exclusive();
    let fx = Arc::new(Fixture::new());
    let name = unique("acc-org");
    let (app_id, _) = fx.app(&name, &fx.endpoints.scim_token);
    let group_id = fx.group(&format!("{name}-grp"));
    let ps = fx.permission_set(&format!("{name}-ps"));

    // root ─┬─ workloads ─┬─ a1, a2
    //       │             └─ nested ── a3
    //       └─ a4
    let root = root_id(&fx);
    let workloads = create_ou(&fx, &root, &format!("{name}-workloads"));
    let nested = create_ou(&fx, &workloads, &format!("{name}-nested"));
    let [a1, a2, a3, a4] = [1, 2, 3, 4].map(|i| create_account(&fx, &format!("{name}-{i}")));
    move_account(&fx, &a1, &root, &workloads);
    move_account(&fx, &a2, &root, &workloads);
    move_account(&fx, &a3, &root, &nested);
    org(
        &fx,
        "TagResource",
        json!({ "ResourceId": a4, "Tags": [{ "Key": "team", "Value": "blue" }] }),
    );

    let vars = |step: Step| {
        step.var("application_id", app_id.clone())
            .var("group_id", group_id.clone())
            .var("permission_set_arns", list(&[&ps]))
            .var("ou_ids", list(&[&workloads]))
    };
    let assigned_exactly = |expected: Vec<String>| {
        let (fx, ps) = (fx.clone(), ps.clone());
        move |state: &idbridge_acceptance::State| {
            let resource = state.require(RESOURCE)?;
            let principal = resource
                .attr("identity_store_group_id")
                .unwrap_or_default()
                .to_string();
            let targets = target_account_ids(resource.values());
            if targets != expected {
                return Err(
                    format!("target_account_ids {targets:?}, expected {expected:?}").into(),
                );
            }
            for account in &expected {
                if !fx.assigned(account, &ps).contains(&principal) {
                    return Err(format!("{account} is not assigned").into());
                }
            }
            Ok(())
        }
    };

    // An OU with three accounts (one of them one level down) reaches all three.
    let step_ou = vars(Step::config(CONFIG))
        .check(checks::attr_equals(RESOURCE, "assignments.#", "3"))
        .check(assigned_exactly(sorted(&[&a1, &a2, &a3])));

    // Targets that resolve to no account (an empty OU): the plan succeeds with a warning naming them, and
    // plans no assignment. A second resource in a file of its own, planned with `terraform plan -json`.
    let empty = create_ou(&fx, &root, &format!("{name}-empty"));
    let (app_w, group_w, ps_w) = (app_id.clone(), group_id.clone(), ps.clone());
    let step_empty_warning = vars(Step::config(CONFIG).plan_only()).pre(move |ctx| {
        let extra = ctx.config_dir().join("empty_ou.tf");
        let hcl = format!(
            "resource \"idbridge_group_assignment\" \"none\" {{\n  application_id = \"{app_w}\"\n  \
             entra_group_id = \"{group_w}\"\n  permission_set_arns = [\"{ps_w}\"]\n  \
             organizational_unit_ids = [\"{empty}\"]\n}}\n"
        );
        std::fs::write(&extra, hcl)?;
        let vars = [
            format!("-var=application_id={app_w}"),
            format!("-var=group_id={group_w}"),
            format!("-var=permission_set_arns={}", list(&[&ps_w])),
            format!("-var=ou_ids={}", list(&[&empty])),
        ];
        let mut args = vec![
            "plan",
            "-json",
            "-no-color",
            "-input=false",
            "-target=idbridge_group_assignment.none",
        ];
        args.extend(vars.iter().map(String::as_str));
        let plan = ctx.terraform(&args);
        std::fs::remove_file(&extra)?;
        let plan = plan?;
        if !plan.success() {
            return Err(format!("the plan failed:\n{}{}", plan.stdout, plan.stderr).into());
        }
        let messages: Vec<Value> = plan
            .stdout
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        let warned = messages.iter().any(|m| {
            let d = &m["diagnostic"];
            d["severity"] == "warning"
                && d["summary"] == "The targets resolve to no AWS account"
                && d["detail"].as_str().is_some_and(|t| t.contains(&empty))
                && d["address"] == "idbridge_group_assignment.none"
        });
        let planned_create = messages.iter().any(|m| {
            m["type"] == "planned_change"
                && m["change"]["resource"]["addr"] == "idbridge_group_assignment.none"
                && m["change"]["action"] == "create"
        });
        if warned && planned_create {
            Ok(())
        } else {
            Err(format!(
                "expected a create with a warning naming {empty}:\n{}",
                plan.stdout
            )
            .into())
        }
    });

    // A fourth account moved into the OU outside Terraform: a change at plan ...
    let (fx_in, a4_in, root_in, workloads_in) =
        (fx.clone(), a4.clone(), root.clone(), workloads.clone());
    let expected_after_move = sorted(&[&a1, &a2, &a3, &a4]);
    let step_moved_in_plan = vars(Step::config(CONFIG).plan_only())
        .pre(move |_| {
            move_account(&fx_in, &a4_in, &root_in, &workloads_in);
            Ok(())
        })
        .expect_non_empty_plan()
        .plan_check({
            let expected = expected_after_move.clone();
            move |plan| {
                let change = plan.change(RESOURCE).ok_or("no change planned")?;
                let after = target_account_ids(&change.after);
                if change.actions == ["update"] && after == expected {
                    Ok(())
                } else {
                    Err(format!(
                        "expected an update to {expected:?}, got {:?} to {after:?}",
                        change.actions
                    )
                    .into())
                }
            }
        });
    // ... and assigned by the next apply.
    let step_moved_in = vars(Step::config(CONFIG))
        .check(checks::attr_equals(RESOURCE, "assignments.#", "4"))
        .check(assigned_exactly(expected_after_move));

    // One moved out: its assignment is removed.
    let (fx_out, a1_out, root_out, workloads_out) =
        (fx.clone(), a1.clone(), root.clone(), workloads.clone());
    let (fx_gone, a1_gone, ps_gone) = (fx.clone(), a1.clone(), ps.clone());
    let step_moved_out = vars(Step::config(CONFIG))
        .pre(move |_| {
            move_account(&fx_out, &a1_out, &workloads_out, &root_out);
            Ok(())
        })
        .check(checks::attr_equals(RESOURCE, "assignments.#", "3"))
        .check(assigned_exactly(sorted(&[&a2, &a3, &a4])))
        .check(move |state| {
            let principal = state
                .require(RESOURCE)?
                .attr("identity_store_group_id")
                .unwrap_or_default()
                .to_string();
            if fx_gone.assigned(&a1_gone, &ps_gone).contains(&principal) {
                Err(format!("{a1_gone} left the OU but is still assigned").into())
            } else {
                Ok(())
            }
        });

    // Tags add accounts wherever they are; exclusions win over OUs and tags. a4 (tagged, in the OU) and a3 (in
    // the OU) are excluded; a1 (back under the root) is tagged now.
    let (fx_tag, a1_tag) = (fx.clone(), a1.clone());
    let step_tags = vars(Step::config(CONFIG))
        .var("account_tags", r#"{ team = "blue" }"#)
        .var("exclude_account_ids", list(&[&a3, &a4]))
        .pre(move |_| {
            org(
                &fx_tag,
                "TagResource",
                json!({ "ResourceId": a1_tag, "Tags": [{ "Key": "team", "Value": "blue" }] }),
            );
            Ok(())
        })
        .check(checks::attr_equals(RESOURCE, "assignments.#", "2"))
        .check(assigned_exactly(sorted(&[&a1, &a2])));

    // An OU id of the right shape that is not in the organization: an error at plan, not an empty target set.
    let step_missing_ou = vars(Step::config(CONFIG))
        .var("ou_ids", list(&["ou-zzzz-99999999"]))
        .expect_error(&pointed_error(
            "Cannot read the AWS organization",
            "organizational_unit_ids",
        ));

    let step_bad_ou = vars(Step::config(CONFIG))
        .var("ou_ids", list(&["ou-NOT-valid"]))
        .expect_error(&pointed_error(
            "Invalid organizational unit id",
            "organizational_unit_ids",
        ));

    // Imported with OU targets: the accounts found come back as account_ids (an import cannot read which
    // arguments named them), so the import plan is an in-place update of the arguments alone, to exactly the
    // applied values: the same target_account_ids and assignments, none made or removed.
    let step_import = vars(Step::import(RESOURCE).import_block())
        .import_update_allowed()
        .plan_check(|plan| {
            let change = plan.change(RESOURCE).ok_or("no change planned")?;
            for unchanged in [
                "assignments",
                "target_account_ids",
                "identity_store_group_id",
            ] {
                if change.before[unchanged] != change.after[unchanged] {
                    return Err(format!(
                        "the import plan changes {unchanged}: {} -> {}",
                        change.before[unchanged], change.after[unchanged]
                    )
                    .into());
                }
            }
            Ok(())
        });

    TestCase::new(vec![
        step_ou,
        step_empty_warning,
        step_moved_in_plan,
        step_moved_in,
        step_moved_out,
        step_import,
        step_missing_ou,
        step_tags,
        step_bad_ou,
    ])
    .with_emulators()
    .run();
}
