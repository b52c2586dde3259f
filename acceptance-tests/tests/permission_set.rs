//! `idbridge_permission_set` and `idbridge_sso_instance` through real Terraform against the emulators. Also what
//! the strict AWS proxy uncovered: AWS refuses to delete a permission set that still has account assignments
//! (`DeletePermissionSet` → `ConflictException`, sso-admin API reference), and AWS managed policies can have a path
//! (`job-function/ViewOnlyAccess`, IAM user guide "AWS managed policies for job functions").

mod aws_support;
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_ssoadmin::types::{
    PrincipalType, ProvisionTargetType, ProvisioningStatus, StatusValues, Tag, TargetType,
};
use aws_support::{block_on, endpoints, identity_store, proxy_config, sso_admin, unique};
use idbridge_acceptance::{
    CheckError, CheckResult, State, Step, StepContext, TestCase, checks, pointed_error,
};

const PS: &str = "idbridge_permission_set.ps";
const ACCOUNT: &str = "123456789012";

fn arn_in(state: &State) -> Result<String, idbridge_acceptance::CheckError> {
    Ok(state
        .require(PS)?
        .attr("arn")
        .ok_or("the permission set has no arn")?
        .to_string())
}

fn instance_arn() -> String {
    endpoints().sso_instance_arn.clone()
}

/// Whether the permission set still exists in the emulated AWS.
fn exists(arn: &str) -> Result<bool, idbridge_acceptance::CheckError> {
    match block_on(
        sso_admin()
            .describe_permission_set()
            .instance_arn(instance_arn())
            .permission_set_arn(arn)
            .send(),
    ) {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(format!("DescribePermissionSet: {e:?}").into()),
    }
}

fn check_gone(before: &State) -> CheckResult {
    let arn = arn_in(before)?;
    if exists(&arn)? {
        return Err(format!("{arn} still exists in the emulator after destroy").into());
    }
    Ok(())
}

fn config(name: &str, body: &str) -> String {
    format!(
        r#"
data "idbridge_sso_instance" "this" {{}}

resource "idbridge_permission_set" "ps" {{
  instance_arn = data.idbridge_sso_instance.this.arn
  name         = "{name}"
{body}
}}
"#
    )
}

const FIRST: &str = r#"
  description        = "Read-only access"
  session_duration   = "PT2H"
  relay_state        = "https://console.aws.amazon.com/s3/home"
  managed_policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  inline_policy      = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:ListAllMyBuckets", Resource = "*" }]
  })
  tags = { team = "platform" }

  customer_managed_policy {
    name = "acc-readers"
  }

  permissions_boundary {
    managed_policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
  }
"#;

const SECOND_INLINE: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#;

fn second(inline: &str) -> String {
    format!(
        r#"
  description         = "Operators"
  session_duration    = "PT4H"
  managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
  inline_policy       = <<-JSON
{inline}
JSON
  tags = {{ team = "ops", cost = "42" }}

  customer_managed_policy {{
    name = "acc-operators"
    path = "/ops/"
  }}

  permissions_boundary {{
    customer_managed_policy {{
      name = "acc-boundary"
    }}
  }}
"#
    )
}

#[test]
fn permission_set_lifecycle() {
    let name = unique("acc-ps");
    let reformatted = "{\n  \"Statement\": [\n    { \"Resource\": \"*\", \"Action\": \"iam:*\", \"Effect\": \"Deny\" }\n  ],\n  \"Version\": \"2012-10-17\"\n}";
    TestCase::new(vec![
        Step::config(config(&name, FIRST))
            .check(checks::attr_matches(
                PS,
                "arn",
                r"^arn:aws:sso:::permissionSet/ssoins-[^/]+/ps-[^/]+$",
            ))
            .check(checks::attr_pair(PS, "id", PS, "arn"))
            .check(checks::attr_pair(
                PS,
                "instance_arn",
                "data.idbridge_sso_instance.this",
                "arn",
            ))
            .check(checks::attr_set(
                "data.idbridge_sso_instance.this",
                "identity_store_id",
            ))
            .check(checks::attr_equals(
                "data.idbridge_sso_instance.this",
                "region",
                "us-east-1",
            ))
            .check(checks::attr_equals(PS, "session_duration", "PT2H"))
            .check(checks::attr_equals(
                PS,
                "customer_managed_policy.0.path",
                "/",
            ))
            .check(checks::attr_equals(PS, "tags.team", "platform"))
            .check(checks::attr_matches(
                PS,
                "created_date",
                r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
            ))
            .check(|state| {
                let arn = arn_in(state)?;
                let client = sso_admin();
                let described = block_on(
                    client
                        .describe_permission_set()
                        .instance_arn(instance_arn())
                        .permission_set_arn(&arn)
                        .send(),
                )?;
                let set = described.permission_set().ok_or("no permission set")?;
                if set.description() != Some("Read-only access")
                    || set.session_duration() != Some("PT2H")
                {
                    return Err(format!("AWS holds {set:?}").into());
                }
                let boundary = block_on(
                    client
                        .get_permissions_boundary_for_permission_set()
                        .instance_arn(instance_arn())
                        .permission_set_arn(&arn)
                        .send(),
                )?;
                let managed = boundary
                    .permissions_boundary()
                    .and_then(|b| b.managed_policy_arn());
                if managed != Some("arn:aws:iam::aws:policy/PowerUserAccess") {
                    return Err(format!("boundary in AWS: {boundary:?}").into());
                }
                Ok(())
            }),
        Step::import(PS),
        // By the resource identity Terraform stored with the state (instance_arn + arn).
        Step::import(PS).import_by_identity(),
        // Everything updatable changes in place (same ARN).
        Step::config(config(&name, &second(SECOND_INLINE)))
            .check(checks::attr_equals(PS, "description", "Operators"))
            .check(checks::attr_equals(PS, "session_duration", "PT4H"))
            .check(checks::attr_absent(PS, "relay_state"))
            .check(checks::attr_equals(PS, "tags.cost", "42"))
            .check(checks::attr_equals(PS, "tags.team", "ops"))
            .check(checks::attr_equals(
                PS,
                "customer_managed_policy.0.path",
                "/ops/",
            ))
            .check(checks::attr_equals(
                PS,
                "permissions_boundary.customer_managed_policy.name",
                "acc-boundary",
            ))
            .check(checks::attr_equals(
                PS,
                "permissions_boundary.customer_managed_policy.path",
                "/",
            ))
            .check(|state| {
                let arn = arn_in(state)?;
                let inline = block_on(
                    sso_admin()
                        .get_inline_policy_for_permission_set()
                        .instance_arn(instance_arn())
                        .permission_set_arn(&arn)
                        .send(),
                )?;
                if !inline.inline_policy().unwrap_or_default().contains("iam:*") {
                    return Err(format!("inline policy in AWS: {inline:?}").into());
                }
                let managed = block_on(
                    sso_admin()
                        .list_managed_policies_in_permission_set()
                        .instance_arn(instance_arn())
                        .permission_set_arn(&arn)
                        .send(),
                )?;
                let arns: Vec<&str> = managed
                    .attached_managed_policies()
                    .iter()
                    .filter_map(|p| p.arn())
                    .collect();
                if arns != ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"] {
                    return Err(format!("managed policies in AWS: {arns:?}").into());
                }
                Ok(())
            }),
        Step::import(PS),
        // The same policy, reformatted and with keys reordered: no change.
        Step::config(config(&name, &second(reformatted))).plan_only(),
    ])
    .with_emulators()
    .check_destroy(check_gone)
    .run();
}

/// Out-of-band changes (AWS SDK against the emulators) show as a diff; a deleted set is planned anew.
#[test]
fn permission_set_drift() {
    let name = unique("acc-drift");
    let applied = config(&name, FIRST);
    TestCase::new(vec![
        Step::config(applied.clone()),
        Step::config(applied.clone())
            .plan_only()
            .expect_non_empty_plan()
            .pre(|ctx: &StepContext| {
                let arn = arn_in(&ctx.state()?)?;
                let client = sso_admin();
                block_on(
                    client
                        .update_permission_set()
                        .instance_arn(instance_arn())
                        .permission_set_arn(&arn)
                        .description("changed outside")
                        .session_duration("PT2H")
                        .relay_state("https://console.aws.amazon.com/s3/home")
                        .send(),
                )?;
                block_on(
                    client
                        .put_inline_policy_to_permission_set()
                        .instance_arn(instance_arn())
                        .permission_set_arn(&arn)
                        .inline_policy(r#"{"Version":"2012-10-17","Statement":[]}"#)
                        .send(),
                )?;
                block_on(
                    client
                        .attach_managed_policy_to_permission_set()
                        .instance_arn(instance_arn())
                        .permission_set_arn(&arn)
                        .managed_policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
                        .send(),
                )?;
                block_on(
                    client
                        .tag_resource()
                        .instance_arn(instance_arn())
                        .resource_arn(&arn)
                        .tags(Tag::builder().key("team").value("intruders").build()?)
                        .send(),
                )?;
                block_on(
                    client
                        .delete_permissions_boundary_from_permission_set()
                        .instance_arn(instance_arn())
                        .permission_set_arn(&arn)
                        .send(),
                )?;
                Ok(())
            })
            .plan_check(|plan| {
                let change = plan
                    .change(PS)
                    .ok_or("no change planned for the permission set")?;
                if change.actions != ["update"] {
                    return Err(
                        format!("expected an in-place update, got {:?}", change.actions).into(),
                    );
                }
                let before = &change.before;
                let drifted = before["description"] == "changed outside"
                    && before["tags"]["team"] == "intruders"
                    && before["inline_policy"]
                        .as_str()
                        .is_some_and(|p| p.contains("[]"))
                    && before["managed_policy_arns"]
                        .as_array()
                        .is_some_and(|a| a.len() == 2)
                    && before["permissions_boundary"].is_null();
                if !drifted {
                    return Err(format!("the refreshed state misses drift: {before}").into());
                }
                if change.after["description"] != "Read-only access" {
                    return Err(format!(
                        "the plan does not restore the description: {}",
                        change.after
                    )
                    .into());
                }
                Ok(())
            }),
        // Applying restores the configuration (the step also requires an empty plan afterwards).
        Step::config(applied.clone()).check(|state| {
            let arn = arn_in(state)?;
            let managed = block_on(
                sso_admin()
                    .list_managed_policies_in_permission_set()
                    .instance_arn(instance_arn())
                    .permission_set_arn(&arn)
                    .send(),
            )?;
            match managed.attached_managed_policies().len() {
                1 => Ok(()),
                n => Err(format!("{n} managed policies left after the apply").into()),
            }
        }),
        Step::config(applied)
            .plan_only()
            .expect_non_empty_plan()
            .pre(|ctx: &StepContext| {
                let arn = arn_in(&ctx.state()?)?;
                block_on(
                    sso_admin()
                        .delete_permission_set()
                        .instance_arn(instance_arn())
                        .permission_set_arn(&arn)
                        .send(),
                )?;
                Ok(())
            })
            .plan_check(|plan| match plan.change(PS).map(|c| c.actions.clone()) {
                Some(actions) if actions == ["create"] => Ok(()),
                other => Err(format!(
                    "expected the deleted set to be created again, got {other:?}"
                )
                .into()),
            }),
    ])
    .with_emulators()
    .run();
}

/// Changes are provisioned again to the accounts the set is provisioned to; a failed provisioning reports
/// AWS's reason and keeps what was changed in the state.
#[test]
fn permission_set_reprovisioning() {
    let name = unique("acc-prov");
    let with = |description: &str| config(&name, &format!("  description = \"{description}\"\n"));
    let provisioned_count = |arn: &str| -> Result<usize, idbridge_acceptance::CheckError> {
        let client = sso_admin();
        let listed = block_on(
            client
                .list_permission_set_provisioning_status()
                .instance_arn(instance_arn())
                .send(),
        )?;
        let mut count = 0;
        for summary in listed.permission_sets_provisioning_status() {
            let Some(id) = summary.request_id() else {
                continue;
            };
            let status = block_on(
                client
                    .describe_permission_set_provisioning_status()
                    .instance_arn(instance_arn())
                    .provision_permission_set_request_id(id)
                    .send(),
            )?;
            if status
                .permission_set_provisioning_status()
                .and_then(|s| s.permission_set_arn())
                == Some(arn)
            {
                count += 1;
            }
        }
        Ok(count)
    };
    TestCase::new(vec![
        Step::config(with("one")),
        Step::config(with("two"))
            .pre(|ctx: &StepContext| {
                let arn = arn_in(&ctx.state()?)?;
                block_on(
                    sso_admin()
                        .provision_permission_set()
                        .instance_arn(instance_arn())
                        .permission_set_arn(&arn)
                        .target_type(ProvisionTargetType::AwsAccount)
                        .target_id("111111111111")
                        .send(),
                )?;
                Ok(())
            })
            .check(move |state| {
                let arn = arn_in(state)?;
                match provisioned_count(&arn)? {
                    n if n >= 2 => Ok(()),
                    n => Err(format!(
                        "{n} provisioning request(s) for {arn}; the update did not provision"
                    )
                    .into()),
                }
            }),
        Step::config(with("three"))
            .pre(|ctx: &StepContext| {
                let arn = arn_in(&ctx.state()?)?;
                proxy_config(&format!(r#"{{"fail_permission_set_arns": ["{arn}"]}}"#))
            })
            .expect_error("Injected failure provisioning permission set")
            .check(checks::attr_equals(PS, "description", "three"))
            .check(checks::attr_equals(PS, "outdated_accounts.#", "1"))
            .check(checks::attr_equals(
                PS,
                "outdated_accounts.0",
                "111111111111",
            )),
        // The account still runs "two": the next plan provisions it again, although the configuration did not
        // change.
        Step::config(with("three"))
            .plan_only()
            .pre(|_: &StepContext| proxy_config(r#"{"fail_permission_set_arns": []}"#))
            .expect_non_empty_plan()
            .plan_check(|plan| {
                let change = plan.change(PS).ok_or("no change planned")?;
                if change.actions == ["update"]
                    && change.before["outdated_accounts"] == serde_json::json!(["111111111111"])
                    && change.after["outdated_accounts"] == serde_json::json!([])
                    && change.before["description"] == change.after["description"]
                {
                    Ok(())
                } else {
                    Err(format!(
                        "expected an update for the outdated account only, got {:?}: {} -> {}",
                        change.actions, change.before, change.after
                    )
                    .into())
                }
            }),
        Step::config(with("three")).check(move |state| {
            let arn = arn_in(state)?;
            let outdated = block_on(
                sso_admin()
                    .list_accounts_for_provisioned_permission_set()
                    .instance_arn(instance_arn())
                    .permission_set_arn(&arn)
                    .provisioning_status(ProvisioningStatus::LatestPermissionSetNotProvisioned)
                    .send(),
            )?;
            if outdated.account_ids().is_empty() {
                Ok(())
            } else {
                Err(format!("still outdated in AWS: {:?}", outdated.account_ids()).into())
            }
        }),
    ])
    .with_emulators()
    .check_destroy(check_gone)
    .run();
}

#[test]
fn permission_set_bad_inputs_fail_at_plan() {
    let bad = |body: &str| config("acc-bad", body);
    TestCase::new(vec![
        Step::config(bad(r#"  session_duration = "PT13H""#))
            .expect_error(&pointed_error(
                "Session duration out of range",
                "session_duration",
            ))
            .check(checks::no_resources),
        Step::config(bad(
            r#"  managed_policy_arns = ["arn:aws:iam::123456789012:policy/Mine"]"#,
        ))
        .expect_error(&pointed_error(
            "Invalid AWS managed policy ARN",
            "managed_policy_arns",
        ))
        .check(checks::no_resources),
        Step::config(bad(r#"  inline_policy = "{\"Version\": \"2012-10-17\",}""#))
            .expect_error(&pointed_error("Invalid inline policy", "inline_policy"))
            .check(checks::no_resources),
    ])
    .with_emulators()
    .run();
}

/// A create refused because the name exists adopts the existing permission set when `adopt_existing` opts in,
/// and brings it to the configuration (without it, the create fails: see `integrity.rs`).
#[test]
fn permission_set_existing_name_is_adopted_with_adopt_existing() {
    let name = unique("acc-adopt");
    let existing = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let (made, seen) = (existing.clone(), existing);
    let pre_name = name.clone();
    TestCase::new(vec![
        Step::config(config(&name, &format!("  adopt_existing = true\n{FIRST}")))
            .pre(move |_: &StepContext| {
                let created = block_on(
                    sso_admin()
                        .create_permission_set()
                        .instance_arn(instance_arn())
                        .name(&pre_name)
                        .description("made before Terraform")
                        .session_duration("PT1H")
                        .send(),
                )?;
                *made.borrow_mut() = created
                    .permission_set()
                    .and_then(|s| s.permission_set_arn())
                    .ok_or("no ARN")?
                    .to_string();
                Ok(())
            })
            .check(move |state| {
                let arn = arn_in(state)?;
                if arn != *seen.borrow() {
                    return Err(
                        format!("created {arn} instead of adopting {}", seen.borrow()).into(),
                    );
                }
                Ok(())
            })
            .check(checks::attr_equals(PS, "description", "Read-only access"))
            .check(checks::attr_equals(PS, "tags.team", "platform")),
    ])
    .with_emulators()
    .check_destroy(check_gone)
    .run();
}

const WITHOUT_PERMISSION_SET: &str = r#"
data "idbridge_sso_instance" "this" {}
"#;

/// Waits until an assignment request reaches a final status; an error unless it succeeded.
fn wait_for(request_id: &str, creation: bool) -> Result<(), CheckError> {
    let started = Instant::now();
    loop {
        let status = if creation {
            block_on(
                sso_admin()
                    .describe_account_assignment_creation_status()
                    .instance_arn(&endpoints().sso_instance_arn)
                    .account_assignment_creation_request_id(request_id)
                    .send(),
            )?
            .account_assignment_creation_status()
            .and_then(|s| s.status().cloned())
        } else {
            block_on(
                sso_admin()
                    .describe_account_assignment_deletion_status()
                    .instance_arn(&endpoints().sso_instance_arn)
                    .account_assignment_deletion_request_id(request_id)
                    .send(),
            )?
            .account_assignment_deletion_status()
            .and_then(|s| s.status().cloned())
        };
        match status {
            Some(StatusValues::Succeeded) => return Ok(()),
            Some(StatusValues::InProgress) if started.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            other => return Err(format!("assignment request {request_id} ended {other:?}").into()),
        }
    }
}

/// Creates (or deletes) the GROUP assignment of `arn` on [`ACCOUNT`] outside Terraform, and waits until AWS has
/// done it.
fn change_assignment(arn: &str, group: &str, create: bool) -> Result<(), CheckError> {
    let (instance, client) = (&endpoints().sso_instance_arn, sso_admin());
    let request_id = if create {
        block_on(
            client
                .create_account_assignment()
                .instance_arn(instance)
                .permission_set_arn(arn)
                .principal_type(PrincipalType::Group)
                .principal_id(group)
                .target_type(TargetType::AwsAccount)
                .target_id(ACCOUNT)
                .send(),
        )?
        .account_assignment_creation_status()
        .and_then(|s| s.request_id().map(str::to_string))
    } else {
        block_on(
            client
                .delete_account_assignment()
                .instance_arn(instance)
                .permission_set_arn(arn)
                .principal_type(PrincipalType::Group)
                .principal_id(group)
                .target_type(TargetType::AwsAccount)
                .target_id(ACCOUNT)
                .send(),
        )?
        .account_assignment_deletion_status()
        .and_then(|s| s.request_id().map(str::to_string))
    };
    wait_for(&request_id.ok_or("no request id")?, create)
}

#[test]
fn a_permission_set_assigned_outside_terraform_is_deleted_only_after_the_assignment_is_gone() {
    let name = unique("acc-assigned");
    // (permission set ARN, group id) of the assignment made outside Terraform.
    let made: Arc<Mutex<Option<(String, String)>>> = Arc::default();
    let (made_in_pre, made_in_cleanup) = (made.clone(), made.clone());
    TestCase::new(vec![
        Step::config(config(&name, r#"  description = "assigned outside""#)),
        Step::config(WITHOUT_PERMISSION_SET)
            .pre(move |ctx: &StepContext| {
                let arn = arn_in(&ctx.state()?)?;
                let group = block_on(
                    identity_store()
                        .create_group()
                        .identity_store_id(&endpoints().identity_store_id)
                        .display_name(unique("acc-out-of-band"))
                        .send(),
                )?
                .group_id()
                .to_string();
                change_assignment(&arn, &group, true)?;
                *made_in_pre.lock().unwrap() = Some((arn, group));
                Ok(())
            })
            .expect_error(r"(?s)Cannot delete the permission set.*is still assigned \(.*123456789012.*remove these assignments"),
        // Once the assignment is gone, the same apply deletes the permission set.
        Step::config(WITHOUT_PERMISSION_SET)
            .pre(move |_: &StepContext| {
                let (arn, group) = made_in_cleanup
                    .lock()
                    .unwrap()
                    .clone()
                    .ok_or("the assignment was not made")?;
                change_assignment(&arn, &group, false)
            })
            .check(checks::resource_absent(PS))
            .check(move |_| {
                let (arn, _) = made.lock().unwrap().clone().ok_or("the assignment was not made")?;
                if exists(&arn)? {
                    return Err(format!("{arn} still exists").into());
                }
                Ok(())
            }),
    ])
    .with_emulators()
    .run();
}

#[test]
fn aws_managed_policies_with_a_path_are_attached_and_imported() {
    let name = unique("acc-path");
    let policy = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess";
    TestCase::new(vec![
        Step::config(config(
            &name,
            &format!("  managed_policy_arns = [\"{policy}\"]"),
        ))
        .check(move |state| {
            let arn = state
                .require(PS)?
                .attr("arn")
                .ok_or("no permission set arn")?
                .to_string();
            let listed = block_on(
                sso_admin()
                    .list_managed_policies_in_permission_set()
                    .instance_arn(&endpoints().sso_instance_arn)
                    .permission_set_arn(&arn)
                    .send(),
            )?;
            let arns: Vec<&str> = listed
                .attached_managed_policies()
                .iter()
                .filter_map(|p| p.arn())
                .collect();
            if arns != [policy] {
                return Err(format!("AWS lists {arns:?}").into());
            }
            Ok(())
        }),
        Step::import(PS),
    ])
    .with_emulators()
    .run();
}
