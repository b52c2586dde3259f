use std::path::PathBuf;
use std::time::Duration;

/// Why an acceptance test (or the harness setting it up) failed.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error(
        "provider binary not found at {}: run `cargo build --workspace --bins` (or set IDBRIDGE_PROVIDER_BIN)",
        .0.display()
    )]
    ProviderBinaryMissing(PathBuf),

    #[error(
        "terraform not found at {}: run scripts/setup.sh (or set TF_ACC_TERRAFORM_PATH / IDBRIDGE_TOOLS_DIR)",
        .0.display()
    )]
    TerraformMissing(PathBuf),

    #[error(
        "emulators binary not found at {}: run `cargo build --workspace --bins` (or set IDBRIDGE_EMULATORS_BIN)",
        .0.display()
    )]
    EmulatorsBinaryMissing(PathBuf),

    #[error("emulators failed to start: {0}")]
    EmulatorsStart(String),

    #[error("could not run `terraform {args}` in {}: {source}", dir.display())]
    Spawn {
        args: String,
        dir: PathBuf,
        source: std::io::Error,
    },

    #[error("`terraform {args}` did not finish within {timeout:?} and was killed")]
    Timeout { args: String, timeout: Duration },

    #[error("could not parse output of `terraform {args}`: {reason}")]
    BadOutput { args: String, reason: String },

    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A step (or the final destroy) did not behave as the test declared.
    #[error("{0}")]
    Failed(String),
}

impl HarnessError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> HarnessError {
        let path = path.into();
        move |source| HarnessError::Io { path, source }
    }
}

/// Error type returned by test callbacks (state checks, plan checks, pre-step hooks).
///
/// Any error converts into it with `?`, and so do strings: `Err("group was not deleted".into())`.
pub type CheckError = Box<dyn std::error::Error + Send + Sync>;

/// Result of a test callback.
pub type CheckResult = Result<(), CheckError>;
