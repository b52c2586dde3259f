//! The harness tested against real Terraform with its built-in `terraform_data` resource (no provider needed).
//! The failing cases prove the harness can fail, and fails for the right reason.

use idbridge_acceptance::{CaseFailure, Outcome, Step, TestCase, checks};

const DATA: &str = r#"
resource "terraform_data" "x" {
  input = "hello"
}
"#;

/// `timestamp()` is unknown until apply, so every plan replaces the resource: the plan is never empty.
const ALWAYS_CHANGING: &str = r#"
resource "terraform_data" "x" {
  triggers_replace = timestamp()
}
"#;

const BROKEN: &str = r#"
locals {
  missing = file("${path.module}/does-not-exist.txt")
}
"#;

/// Runs a case that must fail and returns its message and the names of the command logs it kept; removes the
/// kept work dir.
fn run_failing_case(case: TestCase) -> Option<(String, Vec<String>)> {
    match case.try_run() {
        Ok(Outcome::Skipped) => None,
        Ok(Outcome::Passed) => panic!("the case passed but the harness should have failed it"),
        Err(CaseFailure { message, work_dir }) => {
            let work_dir = work_dir.expect("a failing step keeps its work dir");
            let logs = std::fs::read_dir(work_dir.join("logs"))
                .expect("kept work dir has the command logs")
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            std::fs::remove_dir_all(&work_dir).unwrap();
            Some((message, logs))
        }
    }
}

fn expect_case_failure(case: TestCase) -> Option<String> {
    run_failing_case(case).map(|(message, _)| message)
}

#[test]
fn apply_check_empty_plan_import_and_destroy_pass() {
    TestCase::new(vec![
        Step::config(DATA)
            .check(checks::attr_equals("terraform_data.x", "input", "hello"))
            .check(checks::attr_equals("terraform_data.x", "output", "hello"))
            .check(checks::attr_set("terraform_data.x", "id"))
            .plan_check(|plan| match plan.changed_addresses().as_slice() {
                [] => Ok(()),
                changed => Err(format!("post-apply plan changes {changed:?}").into()),
            }),
        // terraform_data does not read input/output back on import.
        Step::import("terraform_data.x").ignore(["input", "output"]),
        Step::import("terraform_data.x")
            .import_block()
            .with_config(r#"resource "terraform_data" "x" {}"#)
            .ignore(["input", "output"]),
    ])
    .without_provider()
    .check_destroy(|before| {
        before.require("terraform_data.x")?;
        Ok(())
    })
    .run();
}

#[test]
fn variables_reach_terraform_through_the_environment() {
    let config = r#"
variable "greeting" {
  type = string
}
resource "terraform_data" "x" {
  input = var.greeting
}
"#;
    TestCase::new(vec![
        Step::config(config)
            .var("greeting", "hi")
            .check(checks::attr_equals("terraform_data.x", "output", "hi")),
        Step::config(config)
            .var("greeting", "bye")
            .check(checks::attr_equals("terraform_data.x", "output", "bye")),
    ])
    .without_provider()
    .run();
}

#[test]
fn expected_error_matches_and_nothing_is_created() {
    TestCase::new(vec![
        Step::config(format!("{BROKEN}{DATA}"))
            .expect_error(r"(?s)Invalid function argument.*no file exists")
            .check(checks::no_resources),
        Step::config(BROKEN)
            .plan_only()
            .expect_error("no file exists"),
    ])
    .without_provider()
    .run();
}

#[test]
fn drift_shows_up_in_a_plan_only_step_after_a_pre_step_hook() {
    TestCase::new(vec![
        Step::config(DATA),
        Step::config(DATA)
            .plan_only()
            .pre(|ctx| {
                // Out-of-band change: the object disappears from the state, so Terraform plans to create it.
                let pulled = ctx.state_pull()?;
                assert_eq!(pulled["resources"][0]["type"], "terraform_data");
                let removed = ctx.terraform(&["state", "rm", "terraform_data.x"])?;
                if !removed.success() {
                    return Err(removed.stderr.into());
                }
                Ok(())
            })
            .expect_non_empty_plan()
            .plan_check(|plan| {
                let change = plan.change("terraform_data.x").ok_or("no change planned")?;
                if change.actions == ["create"] {
                    Ok(())
                } else {
                    Err(format!("expected create, got {:?}", change.actions).into())
                }
            }),
    ])
    .without_provider()
    .run();
}

#[test]
fn harness_fails_on_a_non_empty_plan_after_apply() {
    let case = TestCase::new(vec![Step::config(ALWAYS_CHANGING)]).without_provider();
    if let Some(message) = expect_case_failure(case) {
        assert!(
            message.contains(
                "step 1/1 (config): after apply, the plan with -refresh=false is not empty"
            ),
            "{message}"
        );
        assert!(
            message.contains("must be replaced"),
            "the plan is printed: {message}"
        );
    }
}

#[test]
fn harness_fails_when_the_error_does_not_match() {
    let case = TestCase::new(vec![Step::config(BROKEN).expect_error("some other error")])
        .without_provider();
    if let Some(message) = expect_case_failure(case) {
        assert!(
            message.contains("apply failed, but not with an error matching /some other error/"),
            "{message}"
        );
        assert!(message.contains("Invalid function argument"), "{message}");
    }
}

#[test]
fn harness_fails_when_an_expected_error_does_not_happen() {
    let case = TestCase::new(vec![Step::config(DATA).expect_error("anything")]).without_provider();
    if let Some(message) = expect_case_failure(case) {
        assert!(
            message.contains("expected an error matching /anything/, but apply succeeded"),
            "{message}"
        );
    }
}

#[test]
fn harness_fails_on_a_failing_check_and_still_destroys() {
    let case = TestCase::new(vec![Step::config(DATA).check(checks::attr_equals(
        "terraform_data.x",
        "output",
        "bye",
    ))])
    .without_provider()
    .check_destroy(|_| panic!("check_destroy must not run after a failed step"));
    if let Some((message, logs)) = run_failing_case(case) {
        assert!(
            logs.iter().any(|name| name.ends_with("-destroy.stdout")),
            "destroy ran: {logs:?}"
        );
        assert!(
            message.contains("terraform_data.x.output: expected \"bye\", got \"hello\""),
            "{message}"
        );
        assert!(!message.contains("destroy failed"), "{message}");
    }
}

#[test]
fn harness_fails_when_import_differs_from_apply() {
    // Without the ignore list, the attributes terraform_data does not import are reported.
    let case = TestCase::new(vec![Step::config(DATA), Step::import("terraform_data.x")])
        .without_provider();
    if let Some(message) = expect_case_failure(case) {
        assert!(
            message.contains("input: applied \"hello\", imported (absent)"),
            "{message}"
        );
    }
}

#[test]
fn harness_fails_when_check_destroy_fails() {
    let case = TestCase::new(vec![Step::config(DATA)])
        .without_provider()
        .check_destroy(|_| Err("remote object still exists".into()));
    if let Some(message) = expect_case_failure(case) {
        assert!(
            message.contains("check_destroy: remote object still exists"),
            "{message}"
        );
    }
}

#[test]
fn harness_detects_a_secret_in_state_and_logs() {
    let secret = "s3cr3t-value-for-leak-test";
    let case = TestCase::new(vec![
        Step::config(
            r#"
variable "token" {
  type      = string
  sensitive = true
}
resource "terraform_data" "x" {
  input = var.token
}
"#,
        )
        .var("token", secret),
    ])
    .without_provider()
    .secret(secret);
    if let Some(message) = expect_case_failure(case) {
        assert!(message.contains("secrets leaked"), "{message}");
        assert!(message.contains("terraform.tfstate"), "{message}");
        assert!(
            !message.contains(secret),
            "the message itself never shows the secret"
        );
    }
}

#[test]
fn ephemeral_variables_stay_out_of_state_and_logs() {
    let secret = "ephemeral-s3cr3t-for-acc";
    TestCase::new(vec![
        Step::config(
            r#"
variable "token" {
  type      = string
  ephemeral = true
}
resource "terraform_data" "x" {
  input = "guarded"
  lifecycle {
    precondition {
      condition     = length(var.token) > 0
      error_message = "token must not be empty"
    }
  }
}
"#,
        )
        .var("token", secret)
        .check(checks::attr_equals("terraform_data.x", "output", "guarded")),
    ])
    .without_provider()
    .secret(secret)
    .check_logs(|log| {
        if log.contains("terraform_data") {
            Ok(())
        } else {
            Err("trace logs were not captured".into())
        }
    })
    .run();
}

#[test]
fn missing_provider_binary_is_explained() {
    // SAFETY: only this test touches IDBRIDGE_PROVIDER_BIN, and the harness reads it on this thread.
    unsafe {
        std::env::set_var(
            "IDBRIDGE_PROVIDER_BIN",
            "/nonexistent/terraform-provider-idbridge",
        )
    };
    let result = TestCase::new(vec![Step::config(DATA)]).try_run();
    unsafe { std::env::remove_var("IDBRIDGE_PROVIDER_BIN") };
    match result {
        Ok(Outcome::Skipped) => {}
        Ok(Outcome::Passed) => panic!("ran without a provider binary"),
        Err(failure) => {
            assert!(failure.work_dir.is_none());
            assert!(
                failure
                    .message
                    .contains("run `cargo build --workspace --bins`"),
                "{}",
                failure.message
            );
        }
    }
}

#[test]
fn harness_fails_on_a_failing_plan_check() {
    let case = TestCase::new(vec![
        Step::config(DATA)
            .plan_only()
            .expect_non_empty_plan()
            .plan_check(|plan| match plan.change("terraform_data.x") {
                Some(change) if change.actions == ["delete"] => Ok(()),
                other => {
                    Err(format!("expected a delete, got {:?}", other.map(|c| &c.actions)).into())
                }
            }),
    ])
    .without_provider();
    if let Some(message) = expect_case_failure(case) {
        assert!(
            message.contains("plan checks failed:\n  - expected a delete, got Some([\"create\"])"),
            "{message}"
        );
    }
}
