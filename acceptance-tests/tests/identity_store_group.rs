//! `idbridge_identity_store_group` through real Terraform against the emulators' identity store.

mod aws_support;
mod support;

use std::time::Duration;

use aws_support::{block_on, endpoints, identity_store, unique};
use idbridge_acceptance::{Step, StepContext, TestCase, checks, pointed_error};

const GROUP: &str = "data.idbridge_identity_store_group.g";

fn create_group(name: &str, description: &str) -> Result<String, idbridge_acceptance::CheckError> {
    let out = block_on(
        identity_store()
            .create_group()
            .identity_store_id(&endpoints().identity_store_id)
            .display_name(name)
            .description(description)
            .send(),
    )?;
    Ok(out.group_id().to_string())
}

fn by_name(name: &str, extra: &str) -> String {
    format!(
        r#"
data "idbridge_identity_store_group" "g" {{
  display_name = "{name}"
{extra}
}}
"#
    )
}

#[test]
fn identity_store_group_by_display_name() {
    let name = unique("acc-grp");
    let pre_name = name.clone();
    TestCase::new(vec![
        Step::config(by_name(&name, ""))
            .pre(move |_: &StepContext| {
                create_group(&pre_name, "made by the test")?;
                Ok(())
            })
            .check(checks::attr_set(GROUP, "group_id"))
            .check(checks::attr_pair(GROUP, "id", GROUP, "group_id"))
            .check(checks::attr_equals(GROUP, "display_name", &name))
            .check(checks::attr_equals(
                GROUP,
                "description",
                "made by the test",
            ))
            .check(|state| {
                checks::attr_equals(GROUP, "identity_store_id", &endpoints().identity_store_id)(
                    state,
                )
            })
            .check({
                let name = name.clone();
                move |state| {
                    let id = state.require(GROUP)?.attr("group_id").unwrap_or_default();
                    let described = block_on(
                        identity_store()
                            .describe_group()
                            .identity_store_id(&endpoints().identity_store_id)
                            .group_id(id)
                            .send(),
                    )?;
                    if described.display_name() == Some(name.as_str()) {
                        Ok(())
                    } else {
                        Err(format!("group {id} in AWS is {described:?}").into())
                    }
                }
            }),
    ])
    .with_emulators()
    .run();
}

/// The group appears a few seconds after the read starts (as SCIM provisioning would create it).
#[test]
fn identity_store_group_wait_for() {
    let name = unique("acc-late");
    let late = name.clone();
    TestCase::new(vec![
        Step::config(by_name(&name, r#"  wait_for = "2m""#))
            .pre(move |_: &StepContext| {
                let late = late.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(5));
                    create_group(&late, "provisioned late").expect("create the late group");
                });
                Ok(())
            })
            .check(checks::attr_set(GROUP, "group_id"))
            .check(checks::attr_equals(
                GROUP,
                "description",
                "provisioned late",
            )),
    ])
    .with_emulators()
    .run();
}

#[test]
fn identity_store_group_missing_and_bad_inputs() {
    let name = unique("acc-none");
    TestCase::new(vec![
        Step::config(by_name(&name, ""))
            .expect_error("Group not found in the identity store")
            .check(checks::no_resources),
        Step::config(by_name(&name, r#"  wait_for = "3s""#))
            .expect_error(r"Waited \d+s \(\d+ lookups\)"),
        Step::config(by_name(&name, r#"  wait_for = "ten minutes""#))
            .expect_error(&pointed_error("Invalid wait_for", "wait_for")),
        // No group carries this external ID (identity store groups get external IDs only through SCIM; the
        // found case is in external_ids.rs), so this exercises the not-found wording of the look-up by external ID.
        Step::config(
            r#"
data "idbridge_identity_store_group" "g" {
  external_id {
    issuer = "https://scim.example.test"
    id     = "ext-1"
  }
}
"#,
        )
        .expect_error(
            r#"Group not found in the identity store(.|\n)*with external id "ext-1" from issuer"#,
        ),
        Step::config(
            r#"
data "idbridge_identity_store_group" "g" {
  display_name = "x"
  external_id {
    issuer = "i"
    id     = "1"
  }
}
"#,
        )
        .expect_error("Conflicting group selectors"),
    ])
    .with_emulators()
    .run();
}
