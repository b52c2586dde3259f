//! The shipped examples, applied as users would run them, against the local clouds. The complete example runs in
//! the demo stage of scripts/test.sh; examples/aws gets its Entra application (with provisioning pointed at the
//! emulator's SCIM endpoint) and group from fixtures, as its header says they exist already.

mod aws_support;
mod support;

use std::sync::{Arc, Mutex};

use idbridge_acceptance::{Emulators, Step, TestCase, checks, skipped_without_tf_acc};
use support::{Graph, unique};

const ENTRA_EXAMPLE: &str = include_str!("../../examples/entra/main.tf");
const AWS_EXAMPLE: &str = include_str!("../../examples/aws/main.tf");
const ASSIGNMENT: &str = "idbridge_group_assignment.readers";
const PERMISSION_SET: &str = "idbridge_permission_set.read_only";

fn testdata(name: &str) -> String {
    format!("{}/tests/testdata/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn entra_example_applies_replans_empty_and_keeps_the_token_out() {
    if skipped_without_tf_acc() {
        return;
    }
    let emulators = Emulators::shared().expect("the local clouds start");
    let endpoints = emulators.endpoints();
    TestCase::new(vec![
        Step::config(ENTRA_EXAMPLE)
            .var("aws_metadata_file", testdata("aws_sso_metadata.xml"))
            .var("scim_endpoint", endpoints.scim_endpoint.as_str())
            .var("scim_token", endpoints.scim_token.as_str())
            .check(checks::attr_set(
                "idbridge_saml_trust.aws",
                "certificate_thumbprint",
            ))
            .check(checks::attr_equals(
                "idbridge_scim_provisioning.aws",
                "enabled",
                "true",
            ))
            .check(checks::attr_absent(
                "idbridge_scim_provisioning.aws",
                "scim_token_wo",
            )),
    ])
    .with_emulators()
    .secret(endpoints.scim_token.as_str())
    .run();
}

/// Who holds an assignment of `permission_set_arn` on `account`, as AWS lists it.
fn assigned_principals(account: &str, permission_set_arn: &str) -> Vec<String> {
    let sso = aws_support::sso_admin();
    let listed = aws_support::block_on(
        sso.list_account_assignments()
            .instance_arn(&support::endpoints().sso_instance_arn)
            .account_id(account)
            .permission_set_arn(permission_set_arn)
            .send(),
    )
    .expect("ListAccountAssignments");
    listed
        .account_assignments()
        .iter()
        .filter_map(|a| a.principal_id().map(str::to_owned))
        .collect()
}

#[test]
fn aws_example_applies_detects_drift_imports_and_destroys() {
    if skipped_without_tf_acc() {
        return;
    }
    let _exclusive = support::exclusive();
    let entra = Graph::connect();
    let name = unique("ex-aws");
    let (application_id, _) = entra.provisioned_app(&name, &entra.endpoints.scim_token);
    let group_id = entra.group_with_member(&format!("{name}-readers"));
    let accounts = ["111111111111", "222222222222"];
    let account_ids = serde_json::to_string(&accounts).unwrap();
    let with_vars = |step: Step| {
        step.var("application_id", application_id.as_str())
            .var("entra_group_id", group_id.as_str())
            .var("account_ids", account_ids.as_str())
    };
    // (identity store group id, permission set ARN) once applied.
    let applied: Arc<Mutex<(String, String)>> = Arc::default();

    let remember = applied.clone();
    let apply = with_vars(Step::config(AWS_EXAMPLE))
        .check(checks::attr_equals(ASSIGNMENT, "assignments.#", "2"))
        .check(checks::attr_equals(
            ASSIGNMENT,
            "id",
            &format!("{application_id}/{group_id}"),
        ))
        .check(checks::attr_equals(
            PERMISSION_SET,
            "session_duration",
            "PT8H",
        ))
        .check(move |state| {
            let principal = state
                .require(ASSIGNMENT)?
                .attr("identity_store_group_id")
                .unwrap_or_default()
                .to_string();
            let arn = state
                .require(PERMISSION_SET)?
                .attr("arn")
                .unwrap_or_default()
                .to_string();
            // The group came through SCIM and holds the permission set on both accounts in AWS itself.
            for account in accounts {
                if !assigned_principals(account, &arn).contains(&principal) {
                    return Err(format!("{principal} is not assigned {arn} on {account}").into());
                }
            }
            *remember.lock().unwrap() = (principal, arn);
            Ok(())
        });

    let removed = applied.clone();
    let drift = with_vars(Step::config(AWS_EXAMPLE).plan_only())
        .pre(move |_| {
            let (principal, arn) = removed.lock().unwrap().clone();
            let sso = aws_support::sso_admin();
            aws_support::block_on(
                sso.delete_account_assignment()
                    .instance_arn(&support::endpoints().sso_instance_arn)
                    .target_id(accounts[1])
                    .target_type(aws_sdk_ssoadmin::types::TargetType::AwsAccount)
                    .permission_set_arn(&arn)
                    .principal_type(aws_sdk_ssoadmin::types::PrincipalType::Group)
                    .principal_id(&principal)
                    .send(),
            )
            .map_err(|e| format!("DeleteAccountAssignment: {e}"))?;
            Ok(())
        })
        .expect_non_empty_plan()
        .plan_check(|plan| {
            let change = plan
                .change(ASSIGNMENT)
                .ok_or("no change planned for the assignment")?;
            let count =
                |side: &serde_json::Value| side["assignments"].as_array().map_or(0, Vec::len);
            if change.actions == ["update"]
                && count(&change.before) == 1
                && count(&change.after) == 2
            {
                Ok(())
            } else {
                Err(format!(
                    "expected an in-place update re-adding one assignment, got {:?}: {} -> {}",
                    change.actions, change.before["assignments"], change.after["assignments"]
                )
                .into())
            }
        });

    let healed = applied.clone();
    let heal = with_vars(Step::config(AWS_EXAMPLE)).check(move |_| {
        let (principal, arn) = healed.lock().unwrap().clone();
        if assigned_principals(accounts[1], &arn).contains(&principal) {
            Ok(())
        } else {
            Err("the assignment removed out of band was not re-created".into())
        }
    });

    let gone = applied.clone();
    TestCase::new(vec![
        apply,
        drift,
        heal,
        // The documented import IDs: application object id/group object id, and the permission set ARN.
        with_vars(Step::import(ASSIGNMENT)),
        with_vars(Step::import(PERMISSION_SET)),
    ])
    .with_emulators()
    .check_destroy(move |_| {
        let (principal, arn) = gone.lock().unwrap().clone();
        let sso = aws_support::sso_admin();
        let described = aws_support::block_on(
            sso.describe_permission_set()
                .instance_arn(&support::endpoints().sso_instance_arn)
                .permission_set_arn(&arn)
                .send(),
        );
        if described.is_ok() {
            return Err(format!("{arn} still exists after destroy").into());
        }
        for account in accounts {
            if assigned_principals(account, &arn).contains(&principal) {
                return Err(format!("{principal} still assigned on {account}").into());
            }
        }
        Ok(())
    })
    .run();
}
