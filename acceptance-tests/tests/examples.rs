//! The shipped examples, applied as users would run them, against the local clouds. The complete example runs in
//! the demo stage of scripts/test.sh; examples/aws needs an Entra group and application from elsewhere and is
//! exercised by hand (see its header).

use idbridge_acceptance::{Emulators, Step, TestCase, acceptance_enabled, checks};

const ENTRA_EXAMPLE: &str = include_str!("../../examples/entra/main.tf");

fn testdata(name: &str) -> String {
    format!("{}/tests/testdata/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn entra_example_applies_replans_empty_and_keeps_the_token_out() {
    if !acceptance_enabled() {
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
