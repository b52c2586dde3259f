//! Test cases and steps: the declarative part of the harness and the runner that drives Terraform through them.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;

use crate::emulators::Emulators;
use crate::error::{CheckError, CheckResult, HarnessError};
use crate::paths;
use crate::state::{Plan, ResourceState, State};
use crate::terraform::{CommandOutput, RunningTerraform, Terraform};

/// Provider address the dev override (and the generated `required_providers`) use.
pub const PROVIDER_SOURCE: &str = "registry.terraform.io/idbridge/idbridge";

type StateCheck = Box<dyn Fn(&State) -> CheckResult>;
type PlanCheck = Box<dyn Fn(&Plan) -> CheckResult>;
type LogCheck = Box<dyn Fn(&str) -> CheckResult>;
type PreStep = Box<dyn FnMut(&StepContext) -> CheckResult>;
type ImportIdFn = Box<dyn Fn(&State) -> Result<String, CheckError>>;

/// A pattern for [`Step::expect_error`]: the error diagnostic `summary` that Terraform points at the
/// configuration line assigning `attribute` (the provider gave the attribute's path). Matches both forms of the
/// error text: from `-json` diagnostics (apply and import steps: `on main.tf line 7: account_ids = ...`) and
/// Terraform's own rendering (plan-only steps: `on main.tf line 7, in resource ...:` then `7:   account_ids = ...`).
/// Append `.*` and more to match the detail.
pub fn pointed_error(summary: &str, attribute: &str) -> String {
    format!(
        r"(?s){}\n\n?  with [^\n]+\n  on [^\n]+ line \d+(?::|,[^\n]*\n +\d+:) +{}\s*=",
        regex::escape(summary),
        regex::escape(attribute)
    )
}

/// Whether acceptance tests are enabled: `TF_ACC` set to a non-empty value (the Terraform ecosystem's convention).
pub fn acceptance_enabled() -> bool {
    paths::non_empty_env("TF_ACC").is_some()
}

/// The line [`skipped_without_tf_acc`] writes; `scripts/test.sh` counts these lines as skipped tests.
pub const SKIPPED_MARKER: &str = "SKIPPED (set TF_ACC=1 to run):";

/// `true` when acceptance tests are off, after saying so on stderr: start a test that drives Terraform with
/// `if skipped_without_tf_acc() { return; }`. libtest has no run-time skip and would report such a test as passed
/// with its output captured, so the line is written to the process's stderr directly, past the capture.
pub fn skipped_without_tf_acc() -> bool {
    if acceptance_enabled() {
        return false;
    }
    let thread = std::thread::current();
    let test_name = thread.name().unwrap_or("acceptance test");
    let _ = writeln!(std::io::stderr(), "{SKIPPED_MARKER} {test_name}");
    true
}

/// How an import step brings the object into its own, separate state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImportMode {
    /// `terraform import <address> <id>`, then compare the imported state with the applied one.
    Command,
    /// An `import {}` block planned (never applied): the plan must import the object as a no-op, and the planned
    /// attributes are compared with the applied ones.
    Block,
    /// Like `Block`, with `identity = { … }` (the resource identity Terraform stored with the applied state)
    /// instead of an ID, into a copy of the applied state without the resource (so what it refers to stays
    /// known, as when a resource was removed from state and is taken back).
    Identity,
}

enum ImportId {
    /// The `id` attribute of the resource in the state left by the previous steps.
    FromStateId,
    Literal(String),
    Computed(ImportIdFn),
}

struct ImportSpec {
    address: String,
    id: ImportId,
    mode: ImportMode,
    verify: bool,
    /// The import block may plan an in-place update (of what an import cannot read back).
    update_allowed: bool,
    ignore: Vec<String>,
}

/// Checks on the configuration `terraform query -generate-config-out` wrote.
type GeneratedCheck = Box<dyn Fn(&str) -> CheckResult>;

struct QuerySpec {
    query: String,
    generated_checks: Vec<GeneratedCheck>,
}

struct InvokeSpec {
    action: String,
    output_checks: Vec<GeneratedCheck>,
}

enum Action {
    Apply,
    PlanOnly,
    Import(ImportSpec),
    Query(QuerySpec),
    Invoke(InvokeSpec),
}

impl Action {
    fn label(&self) -> &'static str {
        match self {
            Action::Apply => "config",
            Action::PlanOnly => "plan-only",
            Action::Import(_) => "import",
            Action::Query(_) => "query",
            Action::Invoke(_) => "invoke",
        }
    }
}

/// One step of a [`TestCase`]. Build it with [`Step::config`] or [`Step::import`] and the modifiers below.
pub struct Step {
    config: Option<String>,
    action: Action,
    checks: Vec<StateCheck>,
    plan_checks: Vec<PlanCheck>,
    pre: Option<PreStep>,
    env: Vec<(String, String)>,
    expect_non_empty_plan: bool,
    expect_error: Option<Regex>,
}

impl Step {
    /// Applies `hcl`, runs the state checks on `terraform show -json`, then requires an empty plan with both
    /// `-refresh=false` and `-refresh=true`.
    pub fn config(hcl: impl Into<String>) -> Step {
        Step::new(Some(hcl.into()), Action::Apply)
    }

    /// Imports `address` into a separate, empty state (using the previous step's configuration unless
    /// [`Step::with_config`] is given) and verifies the imported attributes equal the applied ones.
    /// The import ID defaults to the resource's `id` attribute in the current state.
    pub fn import(address: impl Into<String>) -> Step {
        Step::new(
            None,
            Action::Import(ImportSpec {
                address: address.into(),
                id: ImportId::FromStateId,
                mode: ImportMode::Command,
                verify: true,
                update_allowed: false,
                ignore: Vec::new(),
            }),
        )
    }

    /// Adoption with `terraform query` (Terraform 1.14+): with `config` (the provider configuration) as
    /// main.tf and `query` as a `.tfquery.hcl` file, runs `terraform query -generate-config-out`, requires
    /// the plan of the generated configuration to import every object found without changes, applies it,
    /// and requires an empty plan afterwards. The adopted objects stay in the case's state (the final destroy
    /// removes them); state checks run after the apply.
    pub fn query(config: impl Into<String>, query: impl Into<String>) -> Step {
        Step::new(
            Some(config.into()),
            Action::Query(QuerySpec {
                query: query.into(),
                generated_checks: Vec::new(),
            }),
        )
    }

    /// Runs an action (Terraform 1.14+): writes `config` (with the `action` block) and runs `terraform apply
    /// -invoke=<action>` (e.g. `action.idbridge_restart_provisioning.this`). Checks (state checks, which may
    /// ignore the state and look at the emulators) run afterwards; [`Step::check_output`] sees what Terraform
    /// printed, the action's progress messages included.
    pub fn invoke(config: impl Into<String>, action: impl Into<String>) -> Step {
        Step::new(
            Some(config.into()),
            Action::Invoke(InvokeSpec {
                action: action.into(),
                output_checks: Vec::new(),
            }),
        )
    }

    /// A check on what `terraform apply -invoke` printed.
    pub fn check_output(mut self, check: impl Fn(&str) -> CheckResult + 'static) -> Step {
        match &mut self.action {
            Action::Invoke(spec) => spec.output_checks.push(Box::new(check)),
            _ => panic!("check_output() applies to Step::invoke steps only"),
        }
        self
    }

    /// A check on the configuration a [`Step::query`] generated (resource and import blocks).
    pub fn check_generated(mut self, check: impl Fn(&str) -> CheckResult + 'static) -> Step {
        match &mut self.action {
            Action::Query(spec) => spec.generated_checks.push(Box::new(check)),
            _ => panic!("check_generated() applies to Step::query steps only"),
        }
        self
    }

    fn new(config: Option<String>, action: Action) -> Step {
        Step {
            config,
            action,
            checks: Vec::new(),
            plan_checks: Vec::new(),
            pre: None,
            env: Vec::new(),
            expect_non_empty_plan: false,
            expect_error: None,
        }
    }

    /// Only plans (with refresh) instead of applying; the plan must be empty unless
    /// [`Step::expect_non_empty_plan`]. The state checks see the current state.
    pub fn plan_only(mut self) -> Step {
        assert!(
            matches!(self.action, Action::Apply),
            "plan_only() applies to Step::config steps"
        );
        self.action = Action::PlanOnly;
        self
    }

    /// The plan (after apply, or of a plan-only step) must contain changes: for drift tests.
    pub fn expect_non_empty_plan(mut self) -> Step {
        self.expect_non_empty_plan = true;
        self
    }

    /// The step's Terraform command (apply, plan or import) must fail, and the error diagnostics (summary and
    /// detail) or stderr must match `pattern`. State checks still run afterwards, e.g. to assert nothing was created.
    ///
    /// # Panics
    /// When `pattern` is not a valid regex (a bug in the test).
    pub fn expect_error(mut self, pattern: &str) -> Step {
        let regex = Regex::new(pattern)
            .unwrap_or_else(|error| panic!("invalid regex {pattern:?}: {error}"));
        self.expect_error = Some(regex);
        self
    }

    /// A check on the state after the step (for import steps: on the imported state).
    pub fn check(mut self, check: impl Fn(&State) -> CheckResult + 'static) -> Step {
        self.checks.push(Box::new(check));
        self
    }

    /// A check on the step's plan: the post-apply refresh plan, the plan of a plan-only step, or the import plan.
    pub fn plan_check(mut self, check: impl Fn(&Plan) -> CheckResult + 'static) -> Step {
        self.plan_checks.push(Box::new(check));
        self
    }

    /// Runs before the step, e.g. to change a remote object out of band for a drift test.
    pub fn pre(mut self, hook: impl FnMut(&StepContext) -> CheckResult + 'static) -> Step {
        self.pre = Some(Box::new(hook));
        self
    }

    /// Sets the input variable `name` for this step through `TF_VAR_<name>` (never on the command line, so
    /// ephemeral values stay out of process listings and logs).
    pub fn var(self, name: &str, value: impl Into<String>) -> Step {
        self.env(&format!("TF_VAR_{name}"), value)
    }

    /// An environment variable for this step's Terraform commands (and so for the provider).
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Step {
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// The configuration an import step uses instead of the previous step's.
    pub fn with_config(mut self, hcl: impl Into<String>) -> Step {
        self.config = Some(hcl.into());
        self
    }

    /// Import with this literal ID.
    pub fn import_id(mut self, id: impl Into<String>) -> Step {
        self.import_spec().id = ImportId::Literal(id.into());
        self
    }

    /// Import with an ID computed from the state left by the previous steps (e.g. a composite ID).
    pub fn import_id_from(
        mut self,
        id: impl Fn(&State) -> Result<String, CheckError> + 'static,
    ) -> Step {
        self.import_spec().id = ImportId::Computed(Box::new(id));
        self
    }

    /// Use an `import {}` block instead of `terraform import`.
    pub fn import_block(mut self) -> Step {
        self.import_spec().mode = ImportMode::Block;
        self
    }

    /// Use an `import {}` block with the resource identity stored in the applied state (Terraform 1.12+)
    /// instead of an ID; fails when the state holds no identity.
    pub fn import_by_identity(mut self) -> Step {
        self.import_spec().mode = ImportMode::Identity;
        self
    }

    /// Attributes (flattened paths; a path also covers everything below it) left out of the import comparison,
    /// e.g. write-only inputs the API never returns.
    pub fn ignore<I, S>(mut self, paths: I) -> Step
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.import_spec()
            .ignore
            .extend(paths.into_iter().map(Into::into));
        self
    }

    /// Lets an import block plan an in-place update, for resources whose write-only arguments an import cannot
    /// read back (their version attribute goes from null to the configured value); the planned values are
    /// still compared with the applied ones.
    pub fn import_update_allowed(mut self) -> Step {
        self.import_spec().update_allowed = true;
        self
    }

    /// Import without comparing attributes (checks still run on the imported state).
    pub fn no_verify(mut self) -> Step {
        self.import_spec().verify = false;
        self
    }

    fn import_spec(&mut self) -> &mut ImportSpec {
        match &mut self.action {
            Action::Import(spec) => spec,
            _ => panic!("import modifiers apply to Step::import steps only"),
        }
    }
}

/// What a [`Step::pre`] hook can use.
pub struct StepContext<'a> {
    runner: &'a Runner,
    step: usize,
}

impl StepContext<'_> {
    /// 1-based number of the step about to run.
    pub fn step(&self) -> usize {
        self.step
    }

    /// The test's work directory (kept on failure).
    pub fn work_dir(&self) -> &Path {
        self.runner.work_dir()
    }

    /// The directory holding the configuration and state of the test.
    pub fn config_dir(&self) -> &Path {
        &self.runner.config_dir
    }

    /// Current state as `terraform show -json` prints it.
    pub fn state(&self) -> Result<State, HarnessError> {
        self.runner.show_state(&self.runner.config_dir)
    }

    /// Raw state document (`terraform state pull`), including what `show` leaves out (private data, schema
    /// versions).
    pub fn state_pull(&self) -> Result<Value, HarnessError> {
        self.runner.state_pull()
    }

    /// Runs any Terraform command in the test's configuration directory, e.g. `["state", "rm", "x.y"]`.
    pub fn terraform(&self, args: &[&str]) -> Result<CommandOutput, HarnessError> {
        self.runner
            .terraform
            .run(&self.runner.config_dir, args, &[])
    }

    /// Starts a Terraform command in the test's configuration directory without waiting for it (with the
    /// previous step's configuration, since this step's is written after the hook).
    pub fn spawn_terraform(&self, args: &[&str]) -> Result<RunningTerraform, HarnessError> {
        self.runner
            .terraform
            .spawn(&self.runner.config_dir, args, &[])
    }

    /// Runs a Terraform command and kills it, with its provider plugins, once `kill_when` returns true (a crash
    /// in the middle of an apply); Terraform is asked to stop no other way.
    pub fn terraform_killed_when(
        &self,
        args: &[&str],
        kill_when: &dyn Fn() -> bool,
    ) -> Result<CommandOutput, HarnessError> {
        self.runner
            .terraform
            .run_killed_when(&self.runner.config_dir, args, &[], kill_when)
    }
}

/// How a case ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `TF_ACC` is not set.
    Skipped,
    Passed,
}

/// Why a case failed, and where its work directory was kept.
#[derive(Debug)]
pub struct CaseFailure {
    pub message: String,
    /// The kept work directory (logs of every command, configs, states); `None` when setup failed before one
    /// existed.
    pub work_dir: Option<PathBuf>,
}

impl fmt::Display for CaseFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(dir) = &self.work_dir {
            write!(f, "\nwork dir kept for inspection: {}", dir.display())?;
        }
        Ok(())
    }
}

impl std::error::Error for CaseFailure {}

/// An acceptance test: steps run in order against one state in a fresh work directory, then everything is
/// destroyed and [`TestCase::check_destroy`] runs.
pub struct TestCase {
    name: Option<String>,
    steps: Vec<Step>,
    check_destroy: Option<StateCheck>,
    log_checks: Vec<LogCheck>,
    env: Vec<(String, String)>,
    secrets: Vec<String>,
    trace_log: bool,
    uses_provider: bool,
    uses_emulators: bool,
    terraform: Option<PathBuf>,
    provider_mirror: Option<PathBuf>,
}

impl TestCase {
    pub fn new(steps: Vec<Step>) -> TestCase {
        TestCase {
            name: None,
            steps,
            check_destroy: None,
            log_checks: Vec::new(),
            env: Vec::new(),
            secrets: Vec::new(),
            trace_log: false,
            uses_provider: true,
            uses_emulators: false,
            terraform: None,
            provider_mirror: None,
        }
    }

    /// Name used for the work directory; defaults to the test function's name.
    pub fn name(mut self, name: &str) -> TestCase {
        self.name = Some(name.to_string());
        self
    }

    /// An environment variable for every Terraform command of the case (and so for the provider).
    pub fn env(mut self, key: &str, value: impl Into<String>) -> TestCase {
        self.env.push((key.to_string(), value.into()));
        self
    }

    pub fn envs(mut self, vars: impl IntoIterator<Item = (String, String)>) -> TestCase {
        self.env.extend(vars);
        self
    }

    /// Runs after the final destroy with the state as it was before the destroy, to verify the remote objects
    /// are really gone.
    pub fn check_destroy(mut self, check: impl Fn(&State) -> CheckResult + 'static) -> TestCase {
        self.check_destroy = Some(Box::new(check));
        self
    }

    /// A value that must appear nowhere in the work directory after the case: states, plans, command output and
    /// `TF_LOG=trace` logs (enabled by this). Configuration files are not searched: pass secrets through
    /// [`Step::var`] or [`TestCase::env`].
    ///
    /// # Panics
    /// When `value` is empty (it would match everything).
    pub fn secret(mut self, value: impl Into<String>) -> TestCase {
        let value = value.into();
        assert!(!value.is_empty(), "secret() needs a non-empty value");
        self.secrets.push(value);
        self.trace_log = true;
        self
    }

    /// Writes a `TF_LOG=trace` log per Terraform command into the work directory.
    pub fn trace_log(mut self) -> TestCase {
        self.trace_log = true;
        self
    }

    /// A check on all trace logs of the case, concatenated (enables trace logging).
    pub fn check_logs(mut self, check: impl Fn(&str) -> CheckResult + 'static) -> TestCase {
        self.log_checks.push(Box::new(check));
        self.trace_log = true;
        self
    }

    /// The configurations use only Terraform's built-in provider: do not require the provider binary.
    pub fn without_provider(mut self) -> TestCase {
        self.uses_provider = false;
        self
    }

    /// Starts (once per test binary) the local emulators and passes their endpoints and credentials to the
    /// provider; hooks and checks reach them through [`Emulators::shared`].
    pub fn with_emulators(mut self) -> TestCase {
        self.uses_emulators = true;
        self
    }

    /// Runs the case with this Terraform binary instead of the one of [`paths::terraform_binary`] (a test about a
    /// particular engine).
    pub fn terraform_binary(mut self, path: impl Into<PathBuf>) -> TestCase {
        self.terraform = Some(path.into());
        self
    }

    /// Installs the provider as a user would, with `terraform init` from a filesystem mirror in the packed
    /// layout (`<dir>/registry.terraform.io/idbridge/idbridge/terraform-provider-idbridge_<version>_<os>_<arch>.zip`),
    /// instead of pointing `dev_overrides` at the built binary. The configurations bring their own
    /// `required_providers` (with the version constraint under test); nothing else can be installed.
    pub fn provider_from_filesystem_mirror(mut self, dir: impl Into<PathBuf>) -> TestCase {
        self.provider_mirror = Some(dir.into());
        self
    }

    /// Runs the case; panics with the failure (and the kept work directory) if it fails. Without `TF_ACC` it
    /// reports the test as skipped ([`skipped_without_tf_acc`]) and returns.
    pub fn run(self) {
        match self.try_run() {
            Ok(_) => {}
            Err(failure) => panic!("{failure}"),
        }
    }

    /// Runs the case and reports the result instead of panicking.
    pub fn try_run(self) -> Result<Outcome, CaseFailure> {
        if skipped_without_tf_acc() {
            return Ok(Outcome::Skipped);
        }
        let setup_failure = |error: HarnessError| CaseFailure {
            message: error.to_string(),
            work_dir: None,
        };
        let name = self.name.clone().unwrap_or_else(default_name);
        let mut runner = Runner::prepare(&self, &name).map_err(setup_failure)?;
        match runner.run_case(self) {
            Ok(()) => Ok(Outcome::Passed),
            Err(message) => Err(CaseFailure {
                message: format!("acceptance test {name} failed: {message}"),
                work_dir: Some(runner.keep()),
            }),
        }
    }
}

fn default_name() -> String {
    let thread = std::thread::current();
    let raw = thread
        .name()
        .filter(|name| *name != "main")
        .unwrap_or("case");
    let leaf = raw.rsplit("::").next().unwrap_or(raw);
    let mut name: String = leaf
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(60);
    name
}

struct Runner {
    work: Option<tempfile::TempDir>,
    kept: Option<PathBuf>,
    config_dir: PathBuf,
    terraform: Terraform,
    uses_provider: bool,
    /// Configuration and environment of the last successful apply: the final destroy uses them.
    last_applied: Option<(String, Vec<(String, String)>)>,
    /// The same for the last apply that failed after possibly creating objects, used when none succeeded.
    last_attempted: Option<(String, Vec<(String, String)>)>,
    /// Configuration of the last step of any kind, for import steps without their own.
    last_config: Option<String>,
    /// The provider comes from a filesystem mirror: `terraform init` before the first step.
    init_pending: bool,
}

impl Runner {
    fn prepare(case: &TestCase, name: &str) -> Result<Runner, HarnessError> {
        let terraform_bin = match &case.terraform {
            Some(path) if path.is_file() => path.clone(),
            Some(path) => return Err(HarnessError::TerraformMissing(path.clone())),
            None => paths::terraform_binary()?,
        };
        let provider_bin = if case.uses_provider && case.provider_mirror.is_none() {
            Some(paths::provider_binary()?)
        } else {
            None
        };
        let mut env = Vec::new();
        if case.uses_emulators {
            env.extend(Emulators::shared()?.env());
        }

        let root = paths::work_root();
        std::fs::create_dir_all(&root).map_err(HarnessError::io(&root))?;
        let work = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir_in(&root)
            .map_err(HarnessError::io(&root))?;
        let config_dir = work.path().join("config");
        let log_dir = work.path().join("logs");
        for dir in [&config_dir, &log_dir] {
            std::fs::create_dir_all(dir).map_err(HarnessError::io(dir))?;
        }

        let cli_config = work.path().join("cli.tfrc");
        let installation = match (&case.provider_mirror, &provider_bin) {
            (Some(mirror), _) => ProviderInstallation::FilesystemMirror(mirror.clone()),
            (None, Some(binary)) => {
                ProviderInstallation::DevOverride(provider_override_dir(binary, work.path())?)
            }
            (None, None) => ProviderInstallation::BuiltInOnly,
        };
        std::fs::write(&cli_config, cli_config_text(&installation))
            .map_err(HarnessError::io(&cli_config))?;

        env.extend([
            (
                "TF_CLI_CONFIG_FILE".to_string(),
                cli_config.display().to_string(),
            ),
            ("TF_IN_AUTOMATION".to_string(), "1".to_string()),
            ("TF_INPUT".to_string(), "0".to_string()),
            ("CHECKPOINT_DISABLE".to_string(), "1".to_string()),
        ]);
        env.extend(case.env.iter().cloned());
        Ok(Runner {
            terraform: Terraform::new(terraform_bin, env, log_dir, case.trace_log),
            work: Some(work),
            kept: None,
            config_dir,
            uses_provider: case.uses_provider,
            last_applied: None,
            last_attempted: None,
            last_config: None,
            init_pending: case.provider_mirror.is_some(),
        })
    }

    fn work_dir(&self) -> &Path {
        match (&self.work, &self.kept) {
            (Some(work), _) => work.path(),
            (None, Some(kept)) => kept,
            (None, None) => unreachable!("the work dir exists until the runner is dropped"),
        }
    }

    fn keep(&mut self) -> PathBuf {
        if let Some(work) = self.work.take() {
            self.kept = Some(work.keep());
        }
        self.work_dir().to_path_buf()
    }

    fn run_case(&mut self, mut case: TestCase) -> Result<(), String> {
        let total = case.steps.len();
        let steps = std::mem::take(&mut case.steps);
        let mut outcome = Ok(());
        for (index, step) in steps.into_iter().enumerate() {
            let number = index + 1;
            let label = step.action.label();
            if let Err(error) = self.run_step(number, step) {
                outcome = Err(format!("step {number}/{total} ({label}): {error}"));
                break;
            }
        }
        // Destroy even after a failed step, so remote objects do not leak into the next test.
        let destroyed = self.destroy();
        match (&outcome, destroyed) {
            (Ok(()), Ok(before_destroy)) => {
                if let Some(check) = &case.check_destroy {
                    check(&before_destroy).map_err(|error| format!("check_destroy: {error}"))?;
                }
            }
            (Ok(()), Err(error)) => return Err(format!("destroy: {error}")),
            (Err(_), Err(error)) => {
                outcome = outcome
                    .map_err(|failure| format!("{failure}\nand then destroy failed too: {error}"));
            }
            (Err(_), Ok(_)) => {}
        }
        outcome?;
        self.check_artifacts(&case)
            .map_err(|error| error.to_string())
    }

    fn run_step(&mut self, number: usize, mut step: Step) -> Result<(), HarnessError> {
        if let Some(mut hook) = step.pre.take() {
            let context = StepContext {
                runner: self,
                step: number,
            };
            hook(&context).map_err(|error| failed(format!("pre-step hook: {error}")))?;
        }
        if self.init_pending {
            self.init(step.config.as_deref())?;
        }
        match &step.action {
            Action::Apply => self.apply_step(number, &step),
            Action::PlanOnly => self.plan_only_step(number, &step),
            Action::Import(spec) => self.import_step(number, &step, spec),
            Action::Query(spec) => self.query_step(number, &step, spec),
            Action::Invoke(spec) => self.invoke_step(&step, spec),
        }
    }

    fn invoke_step(&mut self, step: &Step, spec: &InvokeSpec) -> Result<(), HarnessError> {
        let config = step
            .config
            .clone()
            .expect("invoke steps carry a configuration");
        let dir = self.config_dir.clone();
        self.write_config(&dir, &config)?;
        self.last_config = Some(config.clone());
        let invoke = format!("-invoke={}", spec.action);
        let output = self.terraform.run(
            &dir,
            &[
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                &invoke,
            ],
            &step.env,
        )?;
        if let Some(expected) = &step.expect_error {
            return expect_failure("apply -invoke", expected, &output);
        }
        if !output.success() {
            return Err(failed(format!(
                "apply {invoke} failed:\n{}{}",
                output.stdout, output.stderr
            )));
        }
        self.last_applied = Some((config, step.env.clone()));
        for check in &spec.output_checks {
            check(&output.stdout)
                .map_err(|error| failed(format!("output check: {error}\n{}", output.stdout)))?;
        }
        self.run_checks(&step.checks, &self.show_state(&dir)?)
    }

    fn query_step(
        &mut self,
        number: usize,
        step: &Step,
        spec: &QuerySpec,
    ) -> Result<(), HarnessError> {
        let config = step
            .config
            .clone()
            .expect("query steps carry a configuration");
        let dir = self.config_dir.clone();
        self.write_config(&dir, &config)?;
        self.last_config = Some(config.clone());
        let query_file = dir.join("adopt.tfquery.hcl");
        std::fs::write(&query_file, &spec.query).map_err(HarnessError::io(&query_file))?;
        let generated_file = dir.join(format!("generated-{number}.tf"));
        let generate = format!("-generate-config-out={}", generated_file.display());
        let output = self
            .terraform
            .run(&dir, &["query", "-no-color", &generate], &step.env)?;
        // Plans and applies must not see the query file (list blocks belong to `terraform query` only).
        std::fs::remove_file(&query_file).map_err(HarnessError::io(&query_file))?;
        if let Some(expected) = &step.expect_error {
            return expect_failure("query", expected, &output);
        }
        if !output.success() {
            return Err(failed(format!(
                "terraform query failed:\n{}{}",
                output.stdout, output.stderr
            )));
        }
        let generated =
            std::fs::read_to_string(&generated_file).map_err(HarnessError::io(&generated_file))?;
        for check in &spec.generated_checks {
            check(&generated).map_err(|error| {
                failed(format!(
                    "generated configuration check: {error}\n{generated}"
                ))
            })?;
        }
        let planned = match self.plan(&dir, number, true, &step.env) {
            Ok(planned) => planned,
            Err(PlanError::Failed(errors)) => {
                return Err(failed(format!(
                    "the plan of the generated configuration failed:\n{errors}\n{generated}"
                )));
            }
            Err(PlanError::Harness(error)) => return Err(error),
        };
        let plan = self.show_plan(&planned)?;
        let changes = plan.resource_changes();
        let not_imports: Vec<String> = changes
            .iter()
            .filter(|change| !change.is_no_op())
            .map(|change| format!("{} {:?}", change.address, change.actions))
            .collect();
        if !not_imports.is_empty() || !changes.iter().any(|change| change.importing) {
            return Err(failed(format!(
                "the plan of the generated configuration must only import, without changes; it plans:\n{}\n{}",
                not_imports.join("\n"),
                planned.text
            )));
        }
        self.run_plan_checks(&step.plan_checks, &plan)?;
        let output = self.terraform.run(
            &dir,
            &[
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                "-json",
            ],
            &step.env,
        )?;
        self.last_attempted = Some((config.clone(), step.env.clone()));
        if !output.success() {
            return Err(failed(format!(
                "applying the imports failed:\n{}",
                error_text(&output)
            )));
        }
        self.last_applied = Some((config, step.env.clone()));
        self.run_checks(&step.checks, &self.show_state(&dir)?)?;
        let after = self
            .plan(&dir, number, true, &step.env)
            .map_err(|error| match error {
                PlanError::Failed(errors) => {
                    failed(format!("the plan after adoption failed:\n{errors}"))
                }
                PlanError::Harness(error) => error,
            })?;
        if after.has_changes {
            return Err(failed(format!(
                "after adoption, the plan is not empty:\n{}",
                after.text
            )));
        }
        Ok(())
    }

    fn apply_step(&mut self, number: usize, step: &Step) -> Result<(), HarnessError> {
        let config = step
            .config
            .clone()
            .expect("config steps carry a configuration");
        self.write_config(&self.config_dir, &config)?;
        self.last_config = Some(config.clone());
        let output = self.terraform.run(
            &self.config_dir,
            &[
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                "-json",
            ],
            &step.env,
        )?;
        if output.success() {
            self.last_applied = Some((config, step.env.clone()));
        } else {
            // A failed apply may still have created objects that the final destroy must remove.
            self.last_attempted = Some((config, step.env.clone()));
        }
        let errors = error_text(&output);
        if let Some(expected) = &step.expect_error {
            return if output.success() {
                Err(failed(format!(
                    "expected an error matching /{expected}/, but apply succeeded"
                )))
            } else if !expected.is_match(&errors) {
                Err(failed(format!(
                    "apply failed, but not with an error matching /{expected}/:\n{errors}"
                )))
            } else {
                self.run_checks(&step.checks, &self.show_state(&self.config_dir)?)
            };
        }
        if !output.success() {
            return Err(failed(format!("apply failed:\n{errors}")));
        }
        self.run_checks(&step.checks, &self.show_state(&self.config_dir)?)?;

        let mut last_plan = None;
        for refresh in [false, true] {
            let planned = self.plan(&self.config_dir, number, refresh, &step.env)?;
            if planned.has_changes && !step.expect_non_empty_plan {
                return Err(failed(format!(
                    "after apply, the plan with -refresh={refresh} is not empty:\n{}",
                    planned.text
                )));
            }
            last_plan = Some(planned);
        }
        let planned = last_plan.expect("two plans ran");
        if step.expect_non_empty_plan && !planned.has_changes {
            return Err(failed(
                "expected a non-empty plan after apply, but it was empty".to_string(),
            ));
        }
        self.run_plan_checks_on(&step.plan_checks, &planned)
    }

    fn plan_only_step(&mut self, number: usize, step: &Step) -> Result<(), HarnessError> {
        let config = step
            .config
            .clone()
            .expect("plan-only steps carry a configuration");
        self.write_config(&self.config_dir, &config)?;
        self.last_config = Some(config);
        let outcome = self.plan(&self.config_dir, number, true, &step.env);
        if let Some(expected) = &step.expect_error {
            return match outcome {
                Ok(_) => Err(failed(format!(
                    "expected an error matching /{expected}/, but plan succeeded"
                ))),
                Err(PlanError::Failed(errors)) if expected.is_match(&errors) => {
                    self.run_checks(&step.checks, &self.show_state(&self.config_dir)?)
                }
                Err(PlanError::Failed(errors)) => Err(failed(format!(
                    "plan failed, but not with an error matching /{expected}/:\n{errors}"
                ))),
                Err(PlanError::Harness(error)) => Err(error),
            };
        }
        let planned = outcome?;
        if planned.has_changes && !step.expect_non_empty_plan {
            return Err(failed(format!(
                "expected an empty plan, got:\n{}",
                planned.text
            )));
        }
        if !planned.has_changes && step.expect_non_empty_plan {
            return Err(failed(
                "expected a non-empty plan, but it was empty".to_string(),
            ));
        }
        self.run_plan_checks_on(&step.plan_checks, &planned)?;
        self.run_checks(&step.checks, &self.show_state(&self.config_dir)?)
    }

    /// Whether the Terraform under test stores resource identities (1.12 and later).
    fn engine_has_resource_identity(&self) -> Result<bool, HarnessError> {
        let output = self
            .terraform
            .run(&self.config_dir, &["version", "-json"], &[])?;
        let version: serde_json::Value = serde_json::from_str(&output.stdout)
            .map_err(|error| failed(format!("terraform version -json: {error}")))?;
        let text = version["terraform_version"].as_str().unwrap_or_default();
        let mut parts = text.split('.').map(|part| part.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        Ok((major, minor) >= (1, 12))
    }

    fn import_step(
        &mut self,
        number: usize,
        step: &Step,
        spec: &ImportSpec,
    ) -> Result<(), HarnessError> {
        let config = step.config.clone().or_else(|| self.last_config.clone()).ok_or_else(|| {
            failed("an import step needs a configuration: use .with_config(..) or put it after a config step".into())
        })?;
        if matches!(spec.mode, ImportMode::Identity) && !self.engine_has_resource_identity()? {
            // Resource identity arrived in Terraform 1.12; the older engines of the matrix run the rest.
            eprintln!(
                "step {number}: import by identity SKIPPED (this Terraform predates resource identity)"
            );
            return Ok(());
        }
        let applied = self.show_state(&self.config_dir)?;
        let id = match &spec.id {
            _ if matches!(spec.mode, ImportMode::Identity) => String::new(),
            ImportId::Literal(id) => id.clone(),
            ImportId::Computed(compute) => {
                compute(&applied).map_err(|error| failed(format!("import ID: {error}")))?
            }
            ImportId::FromStateId => applied
                .require(&spec.address)
                .map_err(|error| failed(format!("import ID: {error}")))?
                .attr("id")
                .ok_or_else(|| failed(format!("import ID: {} has no id attribute", spec.address)))?
                .to_string(),
        };

        let import_dir = self.work_dir().join(format!("step-{number}-import"));
        std::fs::create_dir_all(&import_dir).map_err(HarnessError::io(&import_dir))?;
        self.write_config(&import_dir, &config)?;

        let imported = match spec.mode {
            ImportMode::Command => {
                let output = self.terraform.run(
                    &import_dir,
                    &["import", "-input=false", "-no-color", &spec.address, &id],
                    &step.env,
                )?;
                if let Some(expected) = &step.expect_error {
                    return expect_failure("import", expected, &output);
                }
                if !output.success() {
                    return Err(failed(format!(
                        "import of {} (ID {id:?}) failed:\n{}",
                        spec.address, output.stderr
                    )));
                }
                self.show_state(&import_dir)?
            }
            ImportMode::Block | ImportMode::Identity => {
                let target = if matches!(spec.mode, ImportMode::Identity) {
                    let identity = applied
                        .require(&spec.address)
                        .map_err(|error| failed(format!("import by identity: {error}")))?
                        .identity()
                        .ok_or_else(|| {
                            failed(format!(
                                "import by identity: the state holds no identity for {}",
                                spec.address
                            ))
                        })?;
                    // The rest of the configuration stays managed (what the resource refers to is known): the
                    // applied state without the resource, which the import block then brings back.
                    let state = self.config_dir.join("terraform.tfstate");
                    let copy = import_dir.join("terraform.tfstate");
                    std::fs::copy(&state, &copy).map_err(HarnessError::io(&state))?;
                    let removed = self.terraform.run(
                        &import_dir,
                        &["state", "rm", "-no-color", &spec.address],
                        &step.env,
                    )?;
                    if !removed.success() {
                        return Err(failed(format!(
                            "state rm {}: {}",
                            spec.address, removed.stderr
                        )));
                    }
                    identity_hcl(identity)
                } else {
                    format!("id = {}", hcl_string(&id))
                };
                let block = format!("import {{\n  to = {}\n  {target}\n}}\n", spec.address);
                let path = import_dir.join("import.tf");
                std::fs::write(&path, block).map_err(HarnessError::io(&path))?;
                let planned = match self.plan(&import_dir, number, true, &step.env) {
                    Err(PlanError::Failed(errors)) => {
                        return match &step.expect_error {
                            Some(expected) if expected.is_match(&errors) => Ok(()),
                            Some(expected) => Err(failed(format!(
                                "import plan failed, but not with an error matching /{expected}/:\n{errors}"
                            ))),
                            None => Err(failed(format!(
                                "import plan for {} failed:\n{errors}",
                                spec.address
                            ))),
                        };
                    }
                    Err(PlanError::Harness(error)) => return Err(error),
                    Ok(planned) => planned,
                };
                if let Some(expected) = &step.expect_error {
                    return Err(failed(format!(
                        "expected an error matching /{expected}/, but the import plan succeeded"
                    )));
                }
                let plan = self.show_plan(&planned)?;
                let change = plan.change(&spec.address).ok_or_else(|| {
                    failed(format!(
                        "the import plan has no change for {}",
                        spec.address
                    ))
                })?;
                let updating = spec.update_allowed && change.actions == ["update"];
                if !change.importing || !(change.is_no_op() || updating) {
                    return Err(failed(format!(
                        "the import plan must import {} without changes, but it plans {:?}:\n{}",
                        spec.address, change.actions, planned.text
                    )));
                }
                self.run_plan_checks(&step.plan_checks, &plan)?;
                // planned_values has the shape of a state's values, so checks work on it unchanged.
                let values = plan
                    .json()
                    .get("planned_values")
                    .cloned()
                    .unwrap_or(Value::Null);
                State::from_show_json(&serde_json::json!({ "values": values }).to_string())
                    .map_err(|error| HarnessError::BadOutput {
                        args: "show -json <import plan>".into(),
                        reason: error.to_string(),
                    })?
            }
        };

        if spec.verify {
            let applied_resource = applied
                .require(&spec.address)
                .map_err(|error| failed(format!("import verification: {error}")))?;
            let imported_resource = imported
                .require(&spec.address)
                .map_err(|error| failed(format!("import verification: {error}")))?;
            let differences =
                attribute_differences(applied_resource, imported_resource, &spec.ignore);
            if !differences.is_empty() {
                return Err(failed(format!(
                    "imported {} (ID {id:?}) differs from the applied one (ignore a path with .ignore([..]) only \
                     if the API cannot return it):\n{}",
                    spec.address,
                    differences.join("\n")
                )));
            }
        }
        self.run_checks(&step.checks, &imported)
    }

    fn destroy(&mut self) -> Result<State, HarnessError> {
        let before = self.show_state(&self.config_dir)?;
        if before.is_empty() {
            return Ok(before);
        }
        let Some((config, env)) = self
            .last_applied
            .clone()
            .or_else(|| self.last_attempted.clone())
        else {
            return Ok(before);
        };
        self.write_config(&self.config_dir, &config)?;
        let output = self.terraform.run(
            &self.config_dir,
            &["destroy", "-auto-approve", "-input=false", "-no-color"],
            &env,
        )?;
        if !output.success() {
            return Err(failed(format!("destroy failed:\n{}", output.stderr)));
        }
        let after = self.show_state(&self.config_dir)?;
        if !after.is_empty() {
            let left: Vec<&str> = after
                .resources()
                .iter()
                .map(|r| r.address.as_str())
                .collect();
            return Err(failed(format!(
                "resources left in the state after destroy: {left:?}"
            )));
        }
        Ok(before)
    }

    /// Secrets must not appear in anything Terraform wrote; log checks see every trace log.
    fn check_artifacts(&self, case: &TestCase) -> Result<(), HarnessError> {
        let mut files = Vec::new();
        collect_files(self.work_dir(), &mut files)?;
        files.sort();
        let mut leaks = Vec::new();
        let mut trace_logs = String::new();
        for file in &files {
            let searched = !matches!(
                file.extension().and_then(|e| e.to_str()),
                Some("tf" | "tfplan" | "tfrc")
            );
            if !searched {
                continue;
            }
            let bytes = std::fs::read(file).map_err(HarnessError::io(file))?;
            for (index, secret) in case.secrets.iter().enumerate() {
                if contains(&bytes, secret.as_bytes()) {
                    let relative = file.strip_prefix(self.work_dir()).unwrap_or(file);
                    leaks.push(format!(
                        "secret #{} found in {}",
                        index + 1,
                        relative.display()
                    ));
                }
            }
            if file.to_string_lossy().ends_with(".trace.log") {
                trace_logs.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        if !leaks.is_empty() {
            return Err(failed(format!("secrets leaked:\n{}", leaks.join("\n"))));
        }
        for check in &case.log_checks {
            check(&trace_logs).map_err(|error| failed(format!("log check: {error}")))?;
        }
        Ok(())
    }

    /// `terraform init` for a case whose provider comes from a filesystem mirror, on the first configuration.
    fn init(&mut self, config: Option<&str>) -> Result<(), HarnessError> {
        let config = config.ok_or_else(|| {
            failed("the first step of a mirror install needs a configuration".to_string())
        })?;
        self.write_config(&self.config_dir, config)?;
        let output = self.terraform.run(
            &self.config_dir,
            &["init", "-input=false", "-no-color"],
            &[],
        )?;
        if !output.success() {
            return Err(failed(format!(
                "terraform init failed:\n{}{}",
                output.stdout, output.stderr
            )));
        }
        self.init_pending = false;
        Ok(())
    }

    fn write_config(&self, dir: &Path, config: &str) -> Result<(), HarnessError> {
        let main = dir.join("main.tf");
        std::fs::write(&main, config).map_err(HarnessError::io(&main))?;
        // Without a required_providers entry Terraform would look for hashicorp/idbridge, which the dev
        // override does not cover.
        if self.uses_provider && !config.contains("required_providers") {
            let versions = dir.join("versions.tf");
            let text = format!(
                "terraform {{\n  required_providers {{\n    idbridge = {{\n      source = \"{PROVIDER_SOURCE}\"\n    }}\n  }}\n}}\n"
            );
            std::fs::write(&versions, text).map_err(HarnessError::io(&versions))?;
        }
        Ok(())
    }

    fn show_state(&self, dir: &Path) -> Result<State, HarnessError> {
        let output = self
            .terraform
            .run(dir, &["show", "-json", "-no-color"], &[])?;
        parse_output(&output, State::from_show_json)
    }

    fn state_pull(&self) -> Result<Value, HarnessError> {
        let output = self
            .terraform
            .run(&self.config_dir, &["state", "pull"], &[])?;
        parse_output(&output, |text| serde_json::from_str(text))
    }

    fn plan(
        &self,
        dir: &Path,
        step: usize,
        refresh: bool,
        env: &[(String, String)],
    ) -> Result<Planned, PlanError> {
        let plan_file = self
            .terraform
            .log_dir()
            .join(format!("step-{step}-refresh-{refresh}.tfplan"));
        let out = format!("-out={}", plan_file.display());
        let refresh_flag = format!("-refresh={refresh}");
        let output = self.terraform.run(
            dir,
            &[
                "plan",
                "-input=false",
                "-no-color",
                "-detailed-exitcode",
                &refresh_flag,
                &out,
            ],
            env,
        )?;
        let has_changes = match output.code {
            Some(0) => false,
            Some(2) => true,
            _ => return Err(PlanError::Failed(error_text(&output))),
        };
        Ok(Planned {
            has_changes,
            text: output.stdout,
            dir: dir.to_path_buf(),
            plan_file,
        })
    }

    /// `terraform show -json` of a saved plan; only run when something inspects the plan.
    fn show_plan(&self, planned: &Planned) -> Result<Plan, HarnessError> {
        let plan_path = planned.plan_file.display().to_string();
        let shown = self.terraform.run(
            &planned.dir,
            &["show", "-json", "-no-color", &plan_path],
            &[],
        )?;
        parse_output(&shown, Plan::from_show_json)
    }

    fn run_plan_checks_on(
        &self,
        checks: &[PlanCheck],
        planned: &Planned,
    ) -> Result<(), HarnessError> {
        if checks.is_empty() {
            return Ok(());
        }
        self.run_plan_checks(checks, &self.show_plan(planned)?)
    }

    fn run_checks(&self, checks: &[StateCheck], state: &State) -> Result<(), HarnessError> {
        let failures: Vec<String> = checks
            .iter()
            .filter_map(|check| check(state).err())
            .map(|error| format!("  - {error}"))
            .collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failed(format!("checks failed:\n{}", failures.join("\n"))))
        }
    }

    fn run_plan_checks(&self, checks: &[PlanCheck], plan: &Plan) -> Result<(), HarnessError> {
        let failures: Vec<String> = checks
            .iter()
            .filter_map(|check| check(plan).err())
            .map(|error| format!("  - {error}"))
            .collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failed(format!(
                "plan checks failed:\n{}",
                failures.join("\n")
            )))
        }
    }
}

struct Planned {
    has_changes: bool,
    /// Human-readable plan, printed when a plan is unexpectedly (non-)empty.
    text: String,
    dir: PathBuf,
    plan_file: PathBuf,
}

enum PlanError {
    /// Terraform reported errors (exit code 1); the text holds them.
    Failed(String),
    Harness(HarnessError),
}

impl From<HarnessError> for PlanError {
    fn from(error: HarnessError) -> Self {
        PlanError::Harness(error)
    }
}

impl From<PlanError> for HarnessError {
    fn from(error: PlanError) -> Self {
        match error {
            PlanError::Failed(errors) => failed(format!("plan failed:\n{errors}")),
            PlanError::Harness(error) => error,
        }
    }
}

fn failed(message: String) -> HarnessError {
    HarnessError::Failed(message)
}

fn expect_failure(
    command: &str,
    expected: &Regex,
    output: &CommandOutput,
) -> Result<(), HarnessError> {
    let errors = error_text(output);
    if output.success() {
        Err(failed(format!(
            "expected an error matching /{expected}/, but {command} succeeded"
        )))
    } else if expected.is_match(&errors) {
        Ok(())
    } else {
        Err(failed(format!(
            "{command} failed, but not with an error matching /{expected}/:\n{errors}"
        )))
    }
}

fn parse_output<T>(
    output: &CommandOutput,
    parse: impl Fn(&str) -> Result<T, serde_json::Error>,
) -> Result<T, HarnessError> {
    if !output.success() {
        return Err(HarnessError::BadOutput {
            args: output.args.clone(),
            reason: format!("exit code {:?}:\n{}", output.code, output.stderr),
        });
    }
    parse(&output.stdout).map_err(|error| HarnessError::BadOutput {
        args: output.args.clone(),
        reason: error.to_string(),
    })
}

/// Error diagnostics of a command: from `-json` output when present (summary, detail, resource address), plus
/// stderr (human-readable diagnostics, plugin crash output).
fn error_text(output: &CommandOutput) -> String {
    let mut text = String::new();
    for line in output.stdout.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if message.get("type").and_then(Value::as_str) != Some("diagnostic") {
            continue;
        }
        let diagnostic = &message["diagnostic"];
        if diagnostic.get("severity").and_then(Value::as_str) != Some("error") {
            continue;
        }
        let field = |key: &str| {
            diagnostic
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        text.push_str(&format!("Error: {}\n", field("summary")));
        if !field("address").is_empty() {
            text.push_str(&format!("  with {}\n", field("address")));
        }
        // The configuration line Terraform points at: the attribute's line when the provider gave an
        // attribute path, the block's first line otherwise. Tests match it to prove the pointing.
        let snippet = &diagnostic["snippet"];
        if let (Some(filename), Some(line), Some(code)) = (
            diagnostic
                .pointer("/range/filename")
                .and_then(Value::as_str),
            snippet.get("start_line").and_then(Value::as_u64),
            snippet.get("code").and_then(Value::as_str),
        ) {
            text.push_str(&format!("  on {filename} line {line}: {}\n", code.trim()));
        }
        if !field("detail").is_empty() {
            text.push_str(&format!("{}\n", field("detail")));
        }
        text.push('\n');
    }
    text.push_str(&output.stderr);
    text
}

/// Differences between applied and imported attributes, with sensitive values redacted.
fn attribute_differences(
    applied: &ResourceState,
    imported: &ResourceState,
    ignore: &[String],
) -> Vec<String> {
    let ignored = |path: &str| {
        ignore
            .iter()
            .any(|prefix| path == prefix || path.starts_with(&format!("{prefix}.")))
    };
    let keys: std::collections::BTreeSet<&String> = applied
        .attributes()
        .keys()
        .chain(imported.attributes().keys())
        .filter(|key| !ignored(key))
        .collect();
    keys.into_iter()
        .filter(|key| applied.attr(key) != imported.attr(key))
        .map(|key| {
            format!(
                "  {key}: applied {}, imported {}",
                applied.display_attr(key),
                imported.display_attr(key)
            )
        })
        .collect()
}

/// Where Terraform takes the provider from.
enum ProviderInstallation {
    /// `dev_overrides` to the directory of the built binary: no `terraform init`.
    DevOverride(PathBuf),
    /// `terraform init` from this filesystem mirror only.
    FilesystemMirror(PathBuf),
    /// The case uses no provider but Terraform's built-in one.
    BuiltInOnly,
}

fn cli_config_text(installation: &ProviderInstallation) -> String {
    let methods = match installation {
        ProviderInstallation::DevOverride(dir) => format!(
            "  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = {}\n  }}\n  direct {{}}\n",
            hcl_string(&dir.display().to_string())
        ),
        ProviderInstallation::FilesystemMirror(dir) => format!(
            "  filesystem_mirror {{\n    path    = {}\n    include = [\"{PROVIDER_SOURCE}\"]\n  }}\n",
            hcl_string(&dir.display().to_string())
        ),
        ProviderInstallation::BuiltInOnly => "  direct {}\n".to_string(),
    };
    format!("provider_installation {{\n{methods}}}\n")
}

/// Terraform finds an overridden provider by its `terraform-provider-<name>` file name in the override
/// directory; a binary named otherwise (IDBRIDGE_PROVIDER_BIN) is linked under that name.
fn provider_override_dir(binary: &Path, work_dir: &Path) -> Result<PathBuf, HarnessError> {
    let expected_name = "terraform-provider-idbridge";
    let named_right = binary
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with(expected_name));
    let binary = binary.canonicalize().map_err(HarnessError::io(binary))?;
    if named_right {
        return Ok(binary.parent().expect("a file has a parent").to_path_buf());
    }
    let dir = work_dir.join("provider");
    std::fs::create_dir_all(&dir).map_err(HarnessError::io(&dir))?;
    let link = dir.join(expected_name);
    std::os::unix::fs::symlink(&binary, &link).map_err(HarnessError::io(&link))?;
    Ok(dir)
}

/// `identity = { name = "value", … }` for an import block.
fn identity_hcl(identity: &serde_json::Map<String, Value>) -> String {
    let attributes: Vec<String> = identity
        .iter()
        .filter_map(|(name, value)| Some(format!("{name} = {}", hcl_string(value.as_str()?))))
        .collect();
    format!("identity = {{ {} }}", attributes.join(", "))
}

fn hcl_string(value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace("${", "$${")
        .replace("%{", "%%{");
    format!("\"{escaped}\"")
}

fn collect_files(dir: &Path, into: &mut Vec<PathBuf>) -> Result<(), HarnessError> {
    for entry in std::fs::read_dir(dir).map_err(HarnessError::io(dir))? {
        let entry = entry.map_err(HarnessError::io(dir))?;
        let file_type = entry.file_type().map_err(HarnessError::io(entry.path()))?;
        if file_type.is_dir() {
            collect_files(&entry.path(), into)?;
        } else if file_type.is_file() {
            into.push(entry.path());
        }
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcl_strings_escape_quotes_and_template_sequences() {
        assert_eq!(hcl_string(r#"a"b\c${x}%{y}"#), r#""a\"b\\c$${x}%%{y}""#);
    }

    #[test]
    fn cli_config_overrides_only_the_idbridge_provider() {
        let text = cli_config_text(&ProviderInstallation::DevOverride("/opt/bin".into()));
        assert_eq!(
            text,
            "provider_installation {\n  dev_overrides {\n    \"registry.terraform.io/idbridge/idbridge\" = \"/opt/bin\"\n  }\n  direct {}\n}\n"
        );
        assert_eq!(
            cli_config_text(&ProviderInstallation::BuiltInOnly),
            "provider_installation {\n  direct {}\n}\n"
        );
    }

    #[test]
    fn cli_config_for_a_mirror_installs_only_the_idbridge_provider_from_it() {
        let text = cli_config_text(&ProviderInstallation::FilesystemMirror(
            "/srv/mirror".into(),
        ));
        assert_eq!(
            text,
            "provider_installation {\n  filesystem_mirror {\n    path    = \"/srv/mirror\"\n    include = [\"registry.terraform.io/idbridge/idbridge\"]\n  }\n}\n"
        );
    }

    #[test]
    fn pointed_error_matches_only_the_named_line() {
        let from_json =
            "Error: Bad id\n  with t.x\n  on main.tf line 7: account_ids = [\"1\"]\nwhy\n";
        let rendered = "Error: Bad id\n\n  with t.x,\n  on main.tf line 7, in resource \"t\" \"x\":\n   7:   account_ids    = [\"1\"]\n\nwhy\n";
        let pattern = |attribute| Regex::new(&pointed_error("Bad id", attribute)).unwrap();
        for text in [from_json, rendered] {
            assert!(pattern("account_ids").is_match(text), "{text}");
            assert!(!pattern("other").is_match(text), "{text}");
            assert!(!pattern("account").is_match(text), "{text}");
        }
        assert!(!pattern("account_ids").is_match("Error: Bad id\nwhy account_ids = 1"));
    }

    #[test]
    fn error_text_keeps_error_diagnostics_and_stderr_only() {
        let stdout = [
            r#"{"type":"diagnostic","diagnostic":{"severity":"warning","summary":"Dev overrides"}}"#,
            r#"{"type":"diagnostic","diagnostic":{"severity":"error","summary":"Bad thing","detail":"why","address":"a.b"}}"#,
            r#"{"type":"diagnostic","diagnostic":{"severity":"error","summary":"Bad id","address":"t.x","range":{"filename":"main.tf","start":{"line":7}},"snippet":{"start_line":7,"code":"  account_ids = [\"1\"]"}}}"#,
            r#"{"type":"apply_complete"}"#,
        ]
        .join("\n");
        let output = CommandOutput {
            args: "apply".into(),
            code: Some(1),
            stdout,
            stderr: "panic: boom\n".into(),
        };
        assert_eq!(
            error_text(&output),
            "Error: Bad thing\n  with a.b\nwhy\n\nError: Bad id\n  with t.x\n  on main.tf line 7: account_ids = [\"1\"]\n\npanic: boom\n"
        );
    }

    #[test]
    fn attribute_differences_respect_ignores_and_redact_secrets() {
        let state = |values: Value| {
            State::from_show_json(
                &serde_json::json!({"values": {"root_module": {"resources": [
                    {"address": "t.a", "values": values, "sensitive_values": {"secret": true}}
                ]}}})
                .to_string(),
            )
            .unwrap()
        };
        let applied =
            state(serde_json::json!({"id": "1", "name": "a", "secret": "s1", "wo": {"k": "v"}}));
        let imported = state(serde_json::json!({"id": "1", "name": "b", "secret": "s2"}));
        let differences = attribute_differences(
            applied.resource("t.a").unwrap(),
            imported.resource("t.a").unwrap(),
            &["wo".to_string()],
        );
        assert_eq!(
            differences,
            [
                "  name: applied \"a\", imported \"b\"",
                "  secret: applied (sensitive), imported (sensitive)"
            ]
        );
    }

    #[test]
    fn import_modifiers_on_config_steps_are_a_test_bug() {
        let result = std::panic::catch_unwind(|| Step::config("").import_id("x"));
        assert!(result.is_err());
    }
}
