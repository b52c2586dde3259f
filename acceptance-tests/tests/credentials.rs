//! Missing credentials through real Terraform: a plan that needs a cloud whose credentials are missing stops at
//! plan, within seconds, with one error that says which sources were tried and what to set, and never a Rust
//! debug dump of a client error. Before, AWS planned fine and apply retried for minutes before printing the SDK's
//! `DispatchFailure(...)`; Entra said only "cannot run az".

use std::time::{Duration, Instant};

use idbridge_acceptance::{Step, StepContext, TestCase, checks};

/// The check is a bound, not a benchmark: the old behaviour took about three minutes.
const WITHIN: Duration = Duration::from_secs(60);

/// Texts that only a Rust `Debug` rendering of a client error produces.
const DEBUG_DUMPS: [&str; 4] = [
    "DispatchFailure(",
    "ConnectorError",
    "source: Some(",
    " { kind: ",
];

/// A `pre` hook that runs `terraform plan` itself, on the configuration the previous step wrote, and checks its
/// failure: fast, with every expected text, and without debug dumps.
fn plan_fails_quickly_with(
    expected: &'static [&'static str],
) -> impl FnMut(&StepContext) -> idbridge_acceptance::CheckResult {
    move |ctx: &StepContext| {
        let started = Instant::now();
        let output = ctx.terraform(&["plan", "-no-color", "-input=false"])?;
        let elapsed = started.elapsed();
        let text = format!("{}\n{}", output.stdout, output.stderr);
        // Terraform wraps long diagnostics; compare with whitespace collapsed.
        let flat = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let mut problems = Vec::new();
        if output.success() {
            problems.push("plan succeeded".to_owned());
        }
        if elapsed > WITHIN {
            problems.push(format!("plan took {elapsed:?}"));
        }
        problems.extend(
            expected
                .iter()
                .filter(|want| !flat.contains(&want.to_lowercase()))
                .map(|want| format!("missing {want:?}")),
        );
        problems.extend(
            DEBUG_DUMPS
                .iter()
                .filter(|dump| flat.contains(&dump.to_lowercase()))
                .map(|dump| format!("debug dump {dump:?}")),
        );
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{}:\n{text}", problems.join("; ")).into())
        }
    }
}

/// Apply `config` (it must fail with `error`, creating nothing), then plan it again timed and checked.
fn refused(config: &str, error: &str, expected: &'static [&'static str]) -> [Step; 2] {
    let error = format!("(?i){error}");
    [
        Step::config(config)
            .expect_error(&error)
            .check(checks::no_resources),
        Step::config(config)
            .pre(plan_fails_quickly_with(expected))
            .plan_only()
            .expect_error(&error),
    ]
}

/// The environment of a machine with no AWS credentials anywhere (the test process's own are hidden; an empty
/// variable counts as unset for these).
fn without_aws_credentials(case: TestCase) -> TestCase {
    case.env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .env("AWS_SESSION_TOKEN", "")
        .env("AWS_PROFILE", "")
        .env("AWS_CONFIG_FILE", "/nonexistent/idbridge/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/idbridge/aws-credentials",
        )
        .env("AWS_REGION", "")
        .env("AWS_DEFAULT_REGION", "")
}

const AWS_EXPECTED: &[&str] = &[
    "no AWS credentials were found",
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "the EC2 instance metadata service",
    "provider's `aws` block",
];

#[test]
fn missing_aws_credentials_fail_the_plan_within_seconds() {
    let resource = r#"provider "idbridge" {
  aws {
    region = "eu-west-1"
  }
}

resource "idbridge_permission_set" "admins" {
  name         = "Admins"
  instance_arn = "arn:aws:sso:::instance/ssoins-1111111111111111"
}
"#;
    let data_source = r#"provider "idbridge" {
  aws {
    region = "eu-west-1"
  }
}

data "idbridge_sso_instance" "this" {}
"#;
    let error = "no AWS credentials were found";
    let mut steps = Vec::from(refused(resource, error, AWS_EXPECTED));
    steps.extend(refused(data_source, error, AWS_EXPECTED));
    without_aws_credentials(TestCase::new(steps)).run();
}

#[test]
fn missing_aws_region_is_named() {
    let config = r#"resource "idbridge_permission_set" "admins" {
  name         = "Admins"
  instance_arn = "arn:aws:sso:::instance/ssoins-1111111111111111"
}
"#;
    let expected = &[
        "no AWS region is configured",
        "set `region` in the provider's `aws` block",
        "AWS_REGION",
    ];
    without_aws_credentials(TestCase::new(Vec::from(refused(
        config,
        "no AWS region is configured",
        expected,
    ))))
    .run();
}

#[test]
fn missing_entra_credentials_fail_the_plan_within_seconds() {
    let config = r#"resource "idbridge_entra_application" "aws" {
  display_name = "AWS IAM Identity Center"
}
"#;
    // A PATH without the Azure CLI, as on a CI runner that never installed it.
    let empty_path = std::env::temp_dir().join("idbridge-acc-empty-path");
    std::fs::create_dir_all(&empty_path).expect("create an empty directory for PATH");
    let expected = &[
        "no Microsoft Entra ID credentials were found",
        "a client secret (`entra.client_secret` or ARM_CLIENT_SECRET)",
        "the Azure CLI (`az` is not installed or not on PATH)",
        "az login",
        "ARM_TENANT_ID",
    ];
    TestCase::new(Vec::from(refused(
        config,
        "no Microsoft Entra ID credentials were found",
        expected,
    )))
    .env("ARM_TENANT_ID", "")
    .env("ARM_CLIENT_ID", "")
    .env("ARM_CLIENT_SECRET", "")
    .env("ARM_CLIENT_CERTIFICATE_PATH", "")
    .env("ARM_OIDC_TOKEN", "")
    .env("ARM_OIDC_TOKEN_FILE_PATH", "")
    .env("ARM_USE_OIDC", "")
    .env("PATH", empty_path.display().to_string())
    .run();
}
