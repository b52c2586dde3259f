//! What docs/resources/saml_trust.md says about importing a trust configured from the metadata file: the first
//! plan after the import is an in-place update that only sets `aws_metadata_xml`, and the plans after applying it
//! are empty.

mod support;

use idbridge_acceptance::{Plan, Step, TestCase};
use support::{exclusive, unique};

const TRUST: &str = "idbridge_saml_trust.aws";

fn config(name: &str) -> String {
    format!(
        r#"
resource "idbridge_entra_application" "aws" {{
  display_name = "{name}"
}}

resource "idbridge_saml_trust" "aws" {{
  application_id   = idbridge_entra_application.aws.id
  aws_metadata_xml = file("{}/tests/testdata/aws_sso_metadata.xml")
}}
"#,
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn after_import_a_metadata_file_configuration_plans_one_update_of_aws_metadata_xml() {
    let _serial = exclusive();
    let hcl = config(&unique("acc-saml-import-docs"));
    TestCase::new(vec![
        Step::config(hcl.clone()),
        Step::config(hcl.clone())
            .pre(|ctx| {
                let state = ctx.state()?;
                let id = state.require(TRUST)?.attr("id").ok_or("no id")?.to_string();
                ctx.terraform(&["state", "rm", TRUST])?;
                ctx.terraform(&["import", "-input=false", TRUST, &id])?;
                Ok(())
            })
            .plan_only()
            .expect_non_empty_plan()
            .plan_check(|plan: &Plan| {
                let change = plan.change(TRUST).ok_or("no change for the trust")?;
                if change.actions != ["update"] {
                    return Err(
                        format!("expected an update in place, got {:?}", change.actions).into(),
                    );
                }
                let before = change.before.as_object().ok_or("no before")?;
                let after = change.after.as_object().ok_or("no after")?;
                let changed: Vec<&String> = after
                    .iter()
                    .filter(|(key, value)| before.get(*key) != Some(*value))
                    .map(|(key, _)| key)
                    .collect();
                if changed != ["aws_metadata_xml"] {
                    return Err(format!(
                        "expected only aws_metadata_xml to change, got {changed:?}"
                    )
                    .into());
                }
                Ok(())
            }),
        // Applying it leaves empty plans behind (the harness checks both refresh modes).
        Step::config(hcl),
    ])
    .with_emulators()
    .run();
}
