//! What the strict AWS proxy uncovered about `idbridge_permission_set`, through real Terraform: AWS refuses to
//! delete a permission set that still has account assignments (`DeletePermissionSet` → `ConflictException`,
//! sso-admin API reference), and AWS managed policies can have a path (`job-function/ViewOnlyAccess`, IAM user
//! guide "AWS managed policies for job functions").

mod aws_support;
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_ssoadmin::types::{PrincipalType, StatusValues, TargetType};
use aws_support::{block_on, endpoints, identity_store, sso_admin, unique};
use idbridge_acceptance::{CheckError, Step, StepContext, TestCase, checks};

const PS: &str = "idbridge_permission_set.ps";
const ACCOUNT: &str = "123456789012";

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

fn arn_of(ctx: &StepContext) -> Result<String, CheckError> {
    Ok(ctx
        .state()?
        .require(PS)?
        .attr("arn")
        .ok_or("no permission set arn in state")?
        .to_string())
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
                let arn = arn_of(ctx)?;
                let group = block_on(
                    identity_store()
                        .create_group()
                        .identity_store_id(&endpoints().identity_store_id)
                        .display_name(unique("acc-out-of-band"))
                        .send(),
                )?
                .group_id()
                .to_string();
                let request = block_on(
                    sso_admin()
                        .create_account_assignment()
                        .instance_arn(&endpoints().sso_instance_arn)
                        .permission_set_arn(&arn)
                        .principal_type(PrincipalType::Group)
                        .principal_id(&group)
                        .target_type(TargetType::AwsAccount)
                        .target_id(ACCOUNT)
                        .send(),
                )?;
                let id = request
                    .account_assignment_creation_status()
                    .and_then(|s| s.request_id())
                    .ok_or("no request id")?
                    .to_string();
                wait_for(&id, true)?;
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
                let request = block_on(
                    sso_admin()
                        .delete_account_assignment()
                        .instance_arn(&endpoints().sso_instance_arn)
                        .permission_set_arn(&arn)
                        .principal_type(PrincipalType::Group)
                        .principal_id(&group)
                        .target_type(TargetType::AwsAccount)
                        .target_id(ACCOUNT)
                        .send(),
                )?;
                let id = request
                    .account_assignment_deletion_status()
                    .and_then(|s| s.request_id())
                    .ok_or("no request id")?
                    .to_string();
                wait_for(&id, false)
            })
            .check(checks::resource_absent(PS))
            .check(move |_| {
                let (arn, _) = made.lock().unwrap().clone().ok_or("the assignment was not made")?;
                match block_on(
                    sso_admin()
                        .describe_permission_set()
                        .instance_arn(&endpoints().sso_instance_arn)
                        .permission_set_arn(&arn)
                        .send(),
                ) {
                    Ok(_) => Err(format!("{arn} still exists").into()),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_resource_not_found_exception()) =>
                    {
                        Ok(())
                    }
                    Err(e) => Err(format!("DescribePermissionSet: {e:?}").into()),
                }
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
