//! Acceptance test harness for terraform-provider-idbridge, in the spirit of HashiCorp's terraform-plugin-testing:
//! a test declares a [`TestCase`] of [`Step`]s, and [`TestCase::run`] drives the pinned Terraform CLI through them
//! against the freshly built provider (via a `dev_overrides` CLI configuration) in a fresh work directory.
//!
//! ```no_run
//! use idbridge_acceptance::{Step, TestCase, checks};
//!
//! #[test]
//! fn permission_set_lifecycle() {
//!     let config = r#"resource "idbridge_permission_set" "ps" { name = "acc-ps" }"#;
//!     TestCase::new(vec![
//!         Step::config(config).check(checks::attr_equals("idbridge_permission_set.ps", "name", "acc-ps")),
//!         // Import by the resource's `id` (the permission set ARN) and compare with what apply stored.
//!         Step::import("idbridge_permission_set.ps"),
//!         Step::config(r#"resource "idbridge_permission_set" "ps" {}"#)
//!             .plan_only()
//!             .expect_error("Missing required argument"),
//!     ])
//!     .with_emulators()
//!     .run();
//! }
//! ```
//!
//! Per case: apply steps are followed by `terraform show -json` checks and must leave an empty plan with both
//! `-refresh=false` and `-refresh=true`; everything is destroyed at the end and [`TestCase::check_destroy`] runs.
//! Cases only run with `TF_ACC` set (otherwise they write `SKIPPED (set TF_ACC=1 to run): <test>` to stderr). On failure the work directory
//! (configurations, states, plans, stdout/stderr of every command, trace logs) is kept and its path printed.
//!
//! Environment: `TF_ACC_TERRAFORM_PATH` or `IDBRIDGE_TOOLS_DIR` (Terraform, default `<workspace>/.tools`),
//! `IDBRIDGE_PROVIDER_BIN`, `IDBRIDGE_EMULATORS_BIN`, `IDBRIDGE_ACC_WORK_DIR` (default `<workspace>/.work/acc`),
//! `IDBRIDGE_ACC_COMMAND_TIMEOUT_SECS` (default 600 per Terraform command).

mod case;
pub mod checks;
mod emulators;
mod error;
pub mod paths;
mod state;
mod terraform;

pub use case::{
    CaseFailure, Outcome, PROVIDER_SOURCE, SKIPPED_MARKER, Step, StepContext, TestCase,
    acceptance_enabled, pointed_error, skipped_without_tf_acc,
};
pub use emulators::{EmulatorEndpoints, Emulators};
pub use error::{CheckError, CheckResult, HarnessError};
pub use state::{FlatAttributes, Plan, PlannedChange, ResourceState, State, flatten};
pub use terraform::{CommandOutput, RunningTerraform, process_gone};
