//! The provider configuration through real Terraform: validation errors at plan time, configurations that
//! need no credentials, values unknown until apply, and a client secret that must never leak.

use idbridge_acceptance::{Step, TestCase, checks};

const DATA: &str = "data.idbridge_aws_saml_metadata.aws";

/// A data source that makes Terraform configure the provider without needing any credential.
fn saml_data_source() -> String {
    format!(
        "data \"idbridge_aws_saml_metadata\" \"aws\" {{\n  xml = file(\"{}/testdata/aws_sso_metadata.xml\")\n}}\n",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn with_provider(provider_body: &str) -> String {
    format!(
        "provider \"idbridge\" {{\n{provider_body}\n}}\n\n{}",
        saml_data_source()
    )
}

/// A regex matching `text` literally, except that Terraform may wrap lines at any space.
fn loose(text: &str) -> String {
    regex::escape(text)
        .split(' ')
        .collect::<Vec<_>>()
        .join(r"\s+")
}

#[test]
fn provider_config_validation_errors() {
    let cases = [
        (
            r#"  entra {
    client_certificate      = "TUlJQw=="
    client_certificate_path = "/tmp/client.p12"
  }"#,
            (
                "Conflicting configuration arguments",
                "Set either `entra.client_certificate` or `entra.client_certificate_path`, not both",
            ),
        ),
        (
            r#"  entra {
    oidc_token           = "eyJhbGciOi"
    oidc_token_file_path = "/var/run/secrets/token"
  }"#,
            (
                "Conflicting configuration arguments",
                "`entra.oidc_token` or `entra.oidc_token_file_path`",
            ),
        ),
        (
            r#"  entra {
    environment = "mars"
  }"#,
            (
                "Unknown cloud environment",
                "Unknown environment \"mars\": expected one of global, usgovernment",
            ),
        ),
        (
            r#"  entra {
    graph_endpoint = "http://graph.example.com"
  }"#,
            (
                "Invalid endpoint",
                "must be an https URL (plain http is accepted for 127.0.0.1/localhost only)",
            ),
        ),
        (
            r#"  aws {
    region = "EU West"
  }"#,
            ("Invalid AWS region", "is not a region name"),
        ),
        (
            r#"  aws {
    assume_role {
      role_arn = "arn:aws:iam::12345:user/bob"
    }
  }"#,
            ("Invalid role ARN", "is not an IAM role ARN"),
        ),
    ];
    let steps = cases
        .into_iter()
        .map(|(body, (summary, detail))| {
            Step::config(with_provider(body))
                .plan_only()
                .expect_error(&format!("(?s)Error: {summary}.*{}", loose(detail)))
        })
        .collect();
    TestCase::new(steps).run();
}

/// The attribute path reaches Terraform: the error underlines the offending argument, not the provider block.
#[test]
fn provider_config_errors_point_at_the_attribute() {
    let bad = with_provider(
        r#"  entra {
    client_certificate      = "TUlJQw=="

    client_certificate_path = "/tmp/client.p12"
  }"#,
    );
    TestCase::new(vec![
        Step::config(with_provider("")),
        Step::config(with_provider("")).pre(move |ctx| {
            std::fs::write(ctx.config_dir().join("main.tf"), &bad).map_err(|e| e.to_string())?;
            let output = ctx
                .terraform(&["validate", "-json", "-no-color"])
                .map_err(|e| e.to_string())?;
            let report: serde_json::Value =
                serde_json::from_str(&output.stdout).map_err(|e| e.to_string())?;
            let all = report["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let Some(diag) = all.iter().find(|d| d["severity"] == "error") else {
                return Err(format!("an error expected: {report}").into());
            };
            if diag["summary"] != "Conflicting configuration arguments" {
                return Err(format!("unexpected report {report}").into());
            }
            // Line 5 holds client_certificate_path; the block header is line 1.
            if diag["range"]["start"]["line"] != 5 {
                return Err(format!("diagnostic not at client_certificate_path: {diag}").into());
            }
            Ok(())
        }),
    ])
    .run();
}

/// Full blocks without any usable credential (Azure CLI fallback off, nothing in the environment for AWS that
/// matters) still plan and apply the SAML data source: clients are only built when a resource needs them.
#[test]
fn provider_config_without_credentials_is_enough_for_saml_parsing() {
    let full_blocks = r#"  entra {
    tenant_id   = "00000000-0000-0000-0000-000000000001"
    client_id   = "00000000-0000-0000-0000-000000000002"
    use_cli     = false
    environment = "usgovernment"
  }
  aws {
    region  = "eu-west-1"
    profile = "profile-that-does-not-exist"
    assume_role {
      role_arn     = "arn:aws:iam::123456789012:role/idbridge"
      session_name = "acc"
    }
  }"#;
    TestCase::new(vec![
        Step::config(saml_data_source()).check(checks::attr_set(DATA, "entity_id")),
        Step::config(with_provider("")).check(checks::attr_set(DATA, "acs_url")),
        Step::config(with_provider("  entra {}\n  aws {}"))
            .check(checks::attr_set(DATA, "acs_url")),
        Step::config(with_provider(full_blocks)).check(checks::attr_set(DATA, "acs_url")),
    ])
    .env("ARM_CLIENT_SECRET", "")
    .env("AWS_PROFILE", "")
    .run();
}

/// Provider arguments that are unknown until apply (here from a resource) must not break configure.
#[test]
fn provider_config_unknown_values_are_deferred() {
    let config = format!(
        r#"resource "terraform_data" "tenant" {{
  input = "00000000-0000-0000-0000-000000000001"
}}

provider "idbridge" {{
  entra {{
    tenant_id     = terraform_data.tenant.output
    client_secret = terraform_data.tenant.id
  }}
  aws {{
    region = terraform_data.tenant.output
  }}
}}

{}"#,
        saml_data_source()
    );
    TestCase::new(vec![
        Step::config(config)
            .check(checks::resource_exists("terraform_data.tenant"))
            .check(checks::attr_set(DATA, "entity_id")),
    ])
    .run();
}

/// The secret is configured through a sensitive variable; with TF_LOG=trace it must appear nowhere: state,
/// plans, command output, Terraform's and the provider's logs.
#[test]
fn provider_config_client_secret_never_leaks() {
    let secret = "idb-acc-secret-5f0c9e2a-7b41-4d3e-a8c6-91e2b7d4f3a0";
    let config = format!(
        r#"variable "client_secret" {{
  type      = string
  sensitive = true
}}

provider "idbridge" {{
  entra {{
    tenant_id     = "00000000-0000-0000-0000-000000000001"
    client_id     = "00000000-0000-0000-0000-000000000002"
    client_secret = var.client_secret
  }}
}}

{}"#,
        saml_data_source()
    );
    TestCase::new(vec![
        Step::config(config)
            .var("client_secret", secret)
            .check(checks::attr_set(DATA, "entity_id")),
    ])
    .secret(secret)
    .check_logs(|logs| {
        // Prove the logs are the ones that saw the configuration: the provider logged its resolved settings.
        if logs.contains("provider configured") && logs.contains("<redacted>") {
            Ok(())
        } else {
            Err("the trace logs do not show the provider's (redacted) configuration".into())
        }
    })
    .run();
}
