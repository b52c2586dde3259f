//! Adopting an integration built by hand: objects made through the emulators' APIs (as an admin does in the
//! two consoles) are found by `terraform query` (list resources), the generated configuration imports them by
//! identity, the plan shows only imports, and after the apply the plan is empty. Import by identity of each
//! resource is tested in the resource's own lifecycle test.

mod aws_support;
mod support;

use aws_support::{block_on, endpoints, sso_admin, unique};
use idbridge_acceptance::{CheckResult, State, Step, TestCase, skipped_without_tf_acc};
use serde_json::json;
use support::{AWS_GALLERY_TEMPLATE, Graph, exclusive};

/// The provider configuration comes from the emulators' environment; nothing else is managed yet.
const PROVIDER: &str = "provider \"idbridge\" {}\n";

/// The one resource of `type_name` whose `attribute` is `value` in the adopted state.
fn adopted(
    type_name: &str,
    attribute: &str,
    value: &str,
) -> impl Fn(&State) -> CheckResult + use<> {
    let (type_name, attribute, value) =
        (type_name.to_owned(), attribute.to_owned(), value.to_owned());
    move |state: &State| {
        let found = state
            .resources()
            .iter()
            .filter(|r| r.type_name == type_name && r.attr(&attribute) == Some(value.as_str()))
            .count();
        if found == 1 {
            Ok(())
        } else {
            Err(
                format!("{found} {type_name} with {attribute} = {value:?} in state, expected 1")
                    .into(),
            )
        }
    }
}

#[test]
fn a_console_built_application_and_permission_set_are_adopted_with_one_query() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let graph = Graph::connect();
    // By hand: the gallery application (Entra admin center > Enterprise applications > New) ...
    let app_name = unique("adopt-app");
    let created = graph.call_ok(
        "POST",
        &format!("/applicationTemplates/{AWS_GALLERY_TEMPLATE}/instantiate"),
        Some(json!({ "displayName": app_name })),
    );
    let app_id = created["application"]["id"].as_str().unwrap().to_string();
    // ... and a permission set (IAM Identity Center console > Permission sets > Create).
    let ps_name = unique("adopt");
    let instance_arn = endpoints().sso_instance_arn.clone();
    block_on(
        sso_admin()
            .create_permission_set()
            .instance_arn(&instance_arn)
            .name(&ps_name)
            .description("made in the console")
            .session_duration("PT2H")
            .send(),
    )
    .expect("CreatePermissionSet");

    let query = format!(
        r#"
list "idbridge_entra_application" "apps" {{
  provider         = idbridge
  include_resource = true
  config {{
    display_name_prefix = "{app_name}"
  }}
}}

list "idbridge_permission_set" "sets" {{
  provider         = idbridge
  include_resource = true
  config {{
    instance_arn = "{instance_arn}"
    name_prefix  = "{ps_name}"
  }}
}}
"#
    );
    let generated_app = app_id.clone();
    TestCase::new(vec![
        Step::query(PROVIDER, query)
            .check_generated(move |generated| {
                for expected in [
                    "resource \"idbridge_entra_application\"",
                    "resource \"idbridge_permission_set\"",
                    "identity = {",
                    generated_app.as_str(),
                ] {
                    if !generated.contains(expected) {
                        return Err(
                            format!("the generated configuration lacks {expected:?}").into()
                        );
                    }
                }
                Ok(())
            })
            .check(adopted("idbridge_entra_application", "id", &app_id))
            .check(adopted(
                "idbridge_entra_application",
                "display_name",
                &app_name,
            ))
            .check(adopted("idbridge_permission_set", "name", &ps_name))
            .check(adopted(
                "idbridge_permission_set",
                "session_duration",
                "PT2H",
            )),
    ])
    .with_emulators()
    .run();
}
