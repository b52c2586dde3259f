//! `idbridge_sso_instance` through real Terraform against the emulators (one instance, moto's).

use idbridge_acceptance::{Emulators, Step, TestCase, acceptance_enabled, checks};

const DS: &str = "data.idbridge_sso_instance.this";

#[test]
fn sso_instance_is_discovered_or_chosen() {
    // Without TF_ACC the case is skipped, and must not start the emulators for its expectations.
    let (arn, store) = if acceptance_enabled() {
        let endpoints = Emulators::shared().expect("emulators start").endpoints();
        (
            endpoints.sso_instance_arn.clone(),
            endpoints.identity_store_id.clone(),
        )
    } else {
        Default::default()
    };
    TestCase::new(vec![
        Step::config(r#"data "idbridge_sso_instance" "this" {}"#)
            .check(checks::attr_equals(DS, "arn", &arn))
            .check(checks::attr_equals(DS, "identity_store_id", &store))
            .check(checks::attr_equals(DS, "region", "us-east-1")),
        Step::config(format!(r#"data "idbridge_sso_instance" "this" {{ arn = "{arn}" }}"#))
            .check(checks::attr_equals(DS, "identity_store_id", &store)),
        // An instance that is not visible: the error names it and lists the visible one.
        Step::config(r#"data "idbridge_sso_instance" "this" { arn = "arn:aws:sso:::instance/ssoins-0000000000000000" }"#)
            .expect_error(&format!(
                "IAM Identity Center instance not found(.|\\n)*ssoins-0000000000000000(.|\\n)*Visible: {}",
                regex::escape(&arn)
            )),
    ])
    .with_emulators()
    .run();
}
