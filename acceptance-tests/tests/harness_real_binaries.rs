//! The harness against the real binaries of this workspace: Terraform must launch the freshly built provider through
//! the generated `dev_overrides` CLI configuration, and the emulators fixture must start, expose live endpoints and
//! stop. Needs `cargo build --workspace --bins` first (scripts/test.sh does it).

use idbridge_acceptance::{Emulators, Step, TestCase, paths, skipped_without_tf_acc};

/// The provider block is accepted, but nothing uses the provider, so Terraform only asks for its schema: this needs
/// no credentials and no emulators.
const CONFIG: &str = r#"
provider "idbridge" {}
resource "terraform_data" "x" {}
"#;

#[test]
fn terraform_launches_the_built_provider_through_dev_overrides() {
    TestCase::new(vec![
        Step::config(CONFIG),
        Step::config(CONFIG).plan_only().pre(|ctx| {
            let shown = ctx.terraform(&["providers", "schema", "-json"])?;
            let schemas: serde_json::Value = serde_json::from_str(&shown.stdout)?;
            if schemas["provider_schemas"]["registry.terraform.io/idbridge/idbridge"].is_object() {
                Ok(())
            } else {
                Err(format!("no idbridge provider schema in: {}", shown.stdout).into())
            }
        }),
    ])
    .check_logs(|log| {
        // Terraform's own plugin client lines, with the path of the binary it started.
        let binary = paths::provider_binary()?
            .canonicalize()?
            .display()
            .to_string();
        let count = |event: &str| {
            log.lines()
                .filter(|line| line.contains(event) && line.contains(&binary))
                .count()
        };
        let (started, exited) = (count("plugin started"), count("plugin process exited"));
        if started > 0 && started == exited {
            Ok(())
        } else {
            Err(format!("{binary}: started {started} times, exited {exited} times").into())
        }
    })
    .run();
}

#[test]
fn emulators_start_with_live_endpoints_and_stop_on_drop() {
    if skipped_without_tf_acc() {
        return;
    }
    let emulators = Emulators::start().unwrap_or_else(|error| panic!("{error}"));
    let endpoints = emulators.endpoints().clone();
    let address = |url: &str| {
        url.trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    for url in [
        &endpoints.graph_url,
        &endpoints.aws_endpoint_url,
        &endpoints.scim_endpoint,
    ] {
        std::net::TcpStream::connect(address(url))
            .unwrap_or_else(|error| panic!("{url} does not listen: {error}"));
    }
    assert!(
        endpoints
            .sso_instance_arn
            .starts_with("arn:aws:sso:::instance/"),
        "{endpoints:?}"
    );
    drop(emulators);
    let graph = address(&endpoints.graph_url);
    // The process is gone once drop returns, so nothing listens any more.
    assert!(
        std::net::TcpStream::connect(&graph).is_err(),
        "{graph} still listens after drop"
    );
}
