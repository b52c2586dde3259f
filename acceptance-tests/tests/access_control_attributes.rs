//! `idbridge_access_control_attributes` through real Terraform against the emulators. The operations follow the
//! sso-admin API reference (`Create/Describe/Update/DeleteInstanceAccessControlAttributeConfiguration`); moto
//! lacks them, so the AWS proxy serves them from botocore's model.

mod aws_support;
mod support;

use aws_sdk_ssoadmin::types::{
    AccessControlAttribute, AccessControlAttributeValue,
    InstanceAccessControlAttributeConfiguration,
};
use aws_support::{block_on, endpoints, sso_admin};
use idbridge_acceptance::{CheckResult, Step, StepContext, TestCase, checks, pointed_error};

const ABAC: &str = "idbridge_access_control_attributes.abac";

fn config(attributes: &[(&str, &str)]) -> String {
    let blocks: String = attributes
        .iter()
        .map(|(key, source)| {
            format!("  attribute {{\n    key    = \"{key}\"\n    source = [\"$${{path:{source}}}\"]\n  }}\n")
        })
        .collect();
    format!(
        r#"
data "idbridge_sso_instance" "this" {{}}

resource "idbridge_access_control_attributes" "abac" {{
  instance_arn = data.idbridge_sso_instance.this.arn
{blocks}}}
"#
    )
}

/// What AWS holds: `key=source` pairs sorted, or `None` when ABAC is off.
fn remote_attributes() -> Result<Option<Vec<String>>, idbridge_acceptance::CheckError> {
    match block_on(
        sso_admin()
            .describe_instance_access_control_attribute_configuration()
            .instance_arn(&endpoints().sso_instance_arn)
            .send(),
    ) {
        Ok(out) => {
            let mut pairs: Vec<String> = out
                .instance_access_control_attribute_configuration()
                .map(|c| c.access_control_attributes())
                .unwrap_or_default()
                .iter()
                .map(|a| {
                    let source = a.value().map(|v| v.source().join(",")).unwrap_or_default();
                    format!("{}={source}", a.key())
                })
                .collect();
            pairs.sort();
            Ok(Some(pairs))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(format!("DescribeInstanceAccessControlAttributeConfiguration: {e:?}").into()),
    }
}

fn aws_holds(
    expected: &'static [&'static str],
) -> impl Fn(&idbridge_acceptance::State) -> CheckResult {
    move |_| {
        let held = remote_attributes()?;
        let wanted: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        if held.as_ref() != Some(&wanted) {
            return Err(format!("AWS holds {held:?}, expected {wanted:?}").into());
        }
        Ok(())
    }
}

#[test]
fn access_control_attributes_lifecycle_import_update_drift_and_destroy() {
    // One configuration per instance, and both tests look at it: they take turns.
    let _turn = support::exclusive();
    let first = config(&[
        ("CostCenter", "enterprise.costCenter"),
        ("Department", "enterprise.department"),
    ]);
    let second = config(&[
        ("CostCenter", "enterprise.costCenter"),
        ("Team", "enterprise.division"),
        ("Given", "name.givenName"),
    ]);
    TestCase::new(vec![
        Step::config(first)
            .check(checks::attr_equals(ABAC, "status", "ENABLED"))
            .check(checks::attr_pair(
                ABAC,
                "id",
                "data.idbridge_sso_instance.this",
                "arn",
            ))
            .check(aws_holds(&[
                "CostCenter=${path:enterprise.costCenter}",
                "Department=${path:enterprise.department}",
            ])),
        Step::import(ABAC),
        // By the resource identity Terraform stored with the state (instance_arn).
        Step::import(ABAC).import_by_identity(),
        Step::config(second.clone()).check(aws_holds(&[
            "CostCenter=${path:enterprise.costCenter}",
            "Given=${path:name.givenName}",
            "Team=${path:enterprise.division}",
        ])),
        // Changed in the console: one attribute left, pointing elsewhere. The plan shows it and apply restores it.
        Step::config(second.clone())
            .plan_only()
            .expect_non_empty_plan()
            .pre(|_: &StepContext| {
                let attribute = AccessControlAttribute::builder()
                    .key("CostCenter")
                    .value(
                        AccessControlAttributeValue::builder()
                            .source("${path:title}")
                            .build()?,
                    )
                    .build()?;
                block_on(
                    sso_admin()
                        .update_instance_access_control_attribute_configuration()
                        .instance_arn(&endpoints().sso_instance_arn)
                        .instance_access_control_attribute_configuration(
                            InstanceAccessControlAttributeConfiguration::builder()
                                .access_control_attributes(attribute)
                                .build()?,
                        )
                        .send(),
                )?;
                Ok(())
            }),
        Step::config(second).check(aws_holds(&[
            "CostCenter=${path:enterprise.costCenter}",
            "Given=${path:name.givenName}",
            "Team=${path:enterprise.division}",
        ])),
    ])
    .with_emulators()
    .check_destroy(|_| match remote_attributes()? {
        None => Ok(()),
        Some(left) => Err(format!("destroy left the configuration in AWS: {left:?}").into()),
    })
    .run();
}

#[test]
fn access_control_attributes_bad_inputs_fail_at_plan_and_create_nothing() {
    let _turn = support::exclusive();
    let bad_key = config(&[("cost,center", "enterprise.costCenter")]);
    let duplicate = config(&[
        ("CostCenter", "enterprise.costCenter"),
        ("CostCenter", "title"),
    ]);
    let bad_instance = r#"
resource "idbridge_access_control_attributes" "abac" {
  instance_arn = "ssoins-1234567890abcdef"
  attribute {
    key    = "CostCenter"
    source = ["$${path:enterprise.costCenter}"]
  }
}
"#;
    TestCase::new(vec![
        Step::config(bad_key)
            .expect_error(r#"(?s)Invalid access control attribute key.*"cost,center" contains ','"#)
            .check(checks::no_resources),
        Step::config(duplicate)
            .expect_error(r#"(?s)Duplicate access control attribute key.*"CostCenter""#)
            .check(checks::no_resources),
        Step::config(bad_instance)
            .expect_error(&pointed_error("Invalid instance ARN", "instance_arn"))
            .check(checks::no_resources),
    ])
    .with_emulators()
    .check_destroy(|_| match remote_attributes()? {
        None => Ok(()),
        Some(left) => Err(format!("a configuration was created: {left:?}").into()),
    })
    .run();
}
