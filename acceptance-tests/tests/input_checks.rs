//! Inputs that used to reach apply, refused now before anything is created: each configuration also holds the
//! sibling resources that the old behaviour created first (the gallery application, a permission set), and each
//! step checks that the state stays empty.

mod support;

use idbridge_acceptance::{Step, TestCase, checks, pointed_error};
use support::unique;

const ENTITY_ID: &str = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-9067a1b2c3";
const ACS_URL: &str = "https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/0f6c1d2e-3a4b-4c5d-9e8f-7a6b5c4d3e2f";

/// A gallery application and a SAML trust on it with `trust_body`, or on `application_id` when given.
fn saml_trust(name: &str, application_id: Option<&str>, trust_body: &str) -> String {
    let application_id = application_id
        .map(|id| format!("\"{id}\""))
        .unwrap_or_else(|| "idbridge_entra_application.aws.id".into());
    format!(
        r#"
resource "idbridge_entra_application" "aws" {{
  display_name = "{name}"
}}

resource "idbridge_saml_trust" "aws" {{
  application_id = {application_id}
  entity_id      = "{ENTITY_ID}"
  acs_url        = "{ACS_URL}"
{trust_body}
}}
"#
    )
}

fn refused(config: String, summary: &str, attribute: &str, detail: &str) -> Step {
    Step::config(config)
        .expect_error(&format!("{}.*{detail}", pointed_error(summary, attribute)))
        .check(checks::no_resources)
}

#[test]
fn saml_trust_inputs_are_refused_before_anything_is_created() {
    let name = unique("acc-inputs-saml");
    TestCase::new(vec![
        refused(
            saml_trust(&name, Some("my-aws-app"), ""),
            "Invalid application id",
            "application_id",
            "is not an Entra object id",
        ),
        refused(
            saml_trust(&name, None, "  nameid_source = \"userprincipalname\""),
            "Invalid NameID source",
            "nameid_source",
            "user.<attribute>",
        ),
        refused(
            saml_trust(&name, None, "  nameid_source = \"user.upn\""),
            "Invalid NameID source",
            "nameid_source",
            "user.userprincipalname",
        ),
        refused(
            saml_trust(&name, None, "  nameid_format = \"email\""),
            "Invalid NameID format",
            "nameid_format",
            "nameid-format:emailAddress",
        ),
        refused(
            saml_trust(
                &name,
                None,
                "  certificate_validity_days = 365\n  rotate_before_days = 400",
            ),
            "Rotation window longer than the certificate validity",
            "rotate_before_days",
            r"\(400\) must be less than `certificate_validity_days` \(365\)",
        ),
        // The default validity is 1095 days: a longer rotation window alone is refused too.
        refused(
            saml_trust(&name, None, "  rotate_before_days = 1200"),
            "Rotation window longer than the certificate validity",
            "rotate_before_days",
            r"\(1095\)",
        ),
        refused(
            saml_trust(&name, None, "  certificate_validity_days = 2000"),
            "Invalid certificate validity",
            "certificate_validity_days",
            "1 to 1095 days",
        ),
        // What is accepted, to show the checks are not simply closed: extension attributes and directory
        // extensions are NameID sources Entra supports; validate alone proves it (nothing is applied).
        Step::config(saml_trust(
            &name,
            None,
            "  nameid_source = \"user.extensionattribute7\"\n  nameid_format = \"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\"",
        ))
        .plan_only()
        .expect_non_empty_plan(),
    ])
    .with_emulators()
    .run();
}

#[test]
fn instance_arns_and_missing_principals_are_refused_at_plan() {
    let name = unique("acc-inputs-ga");
    let permission_set = |instance_arn: &str| {
        format!(
            r#"
resource "idbridge_permission_set" "admins" {{
  name         = "{name}"
  instance_arn = "{instance_arn}"
}}
"#
        )
    };
    let assignment = |group_id: &str, instance_arn: Option<&str>| {
        let instance = instance_arn
            .map(|arn| format!("  instance_arn        = \"{arn}\"\n"))
            .unwrap_or_default();
        format!(
            r#"
resource "idbridge_entra_application" "aws" {{
  display_name = "{name}"
}}

resource "idbridge_permission_set" "admins" {{
  name = "{name}"
}}

resource "idbridge_group_assignment" "admins" {{
  application_id      = idbridge_entra_application.aws.id
  entra_group_id      = "{group_id}"
  permission_set_arns = [idbridge_permission_set.admins.arn]
  account_ids         = ["111111111111"]
{instance}}}
"#
        )
    };
    // The user assignment shares the checks (the same orchestration at plan).
    let user_assignment = |user_id: &str, instance_arn: Option<&str>| {
        assignment(user_id, instance_arn)
            .replace("idbridge_group_assignment", "idbridge_user_assignment")
            .replace("entra_group_id     ", "entra_user_id      ")
    };
    // A well-formed object id of a group that does not exist.
    let missing_group = "0badc0de-0000-4000-8000-00000000dead";
    TestCase::new(vec![
        refused(
            permission_set("ssoins-1111111111111111"),
            "Invalid instance ARN",
            "instance_arn",
            "arn:aws:sso:::instance/ssoins-<id>",
        ),
        refused(
            assignment(missing_group, Some("ssoins-1111111111111111")),
            "Invalid instance ARN",
            "instance_arn",
            "is not an IAM Identity Center instance ARN",
        ),
        refused(
            assignment(missing_group, None),
            "Entra group not found",
            "entra_group_id",
            "No group with object id 0badc0de-0000-4000-8000-00000000dead exists",
        ),
        refused(
            user_assignment(missing_group, Some("ssoins-1111111111111111")),
            "Invalid instance ARN",
            "instance_arn",
            "is not an IAM Identity Center instance ARN",
        ),
        refused(
            user_assignment(missing_group, None),
            "Entra user not found",
            "entra_user_id",
            "No user with object id 0badc0de-0000-4000-8000-00000000dead exists",
        ),
    ])
    .with_emulators()
    .run();
}
