//! Where the harness finds Terraform, the provider and the emulators.
//!
//! Nothing is ever looked up on `PATH`: the machine may carry a stray Terraform of another version, and a test run
//! must use exactly the one `scripts/setup.sh` pinned.

use std::path::{Path, PathBuf};

use crate::error::HarnessError;

/// Root of the cargo workspace (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Cargo's output directory for the profile the tests were built with (normally `<workspace>/target/debug`).
///
/// Derived from the running test executable (`<profile>/deps/<test>-<hash>`) so that a custom
/// `CARGO_TARGET_DIR` at build time is honoured even when it is not exported at run time.
pub fn profile_dir() -> PathBuf {
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent()?;
        (deps.file_name()? == "deps").then(|| deps.parent().map(Path::to_path_buf))?
    });
    from_exe.unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|dir| {
                if dir.is_absolute() {
                    dir
                } else {
                    workspace_root().join(dir)
                }
            })
            .unwrap_or_else(|| workspace_root().join("target"));
        target.join("debug")
    })
}

/// The provider under test: `IDBRIDGE_PROVIDER_BIN`, else `<profile dir>/terraform-provider-idbridge`.
pub fn provider_binary() -> Result<PathBuf, HarnessError> {
    let path = non_empty_env("IDBRIDGE_PROVIDER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| profile_dir().join("terraform-provider-idbridge"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(HarnessError::ProviderBinaryMissing(path))
    }
}

/// The emulators binary: `IDBRIDGE_EMULATORS_BIN`, else `<profile dir>/idbridge-emulators`.
pub fn emulators_binary() -> Result<PathBuf, HarnessError> {
    let path = non_empty_env("IDBRIDGE_EMULATORS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| profile_dir().join("idbridge-emulators"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(HarnessError::EmulatorsBinaryMissing(path))
    }
}

/// Directory holding the pinned test-time tools: `IDBRIDGE_TOOLS_DIR`, else `<workspace>/.tools`.
pub fn tools_dir() -> PathBuf {
    non_empty_env("IDBRIDGE_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".tools"))
}

/// Terraform binary: `TF_ACC_TERRAFORM_PATH`, else `<tools dir>/bin/terraform`.
pub fn terraform_binary() -> Result<PathBuf, HarnessError> {
    let path = non_empty_env("TF_ACC_TERRAFORM_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| tools_dir().join("bin").join("terraform"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(HarnessError::TerraformMissing(path))
    }
}

/// Parent of the per-test work directories: `IDBRIDGE_ACC_WORK_DIR`, else `<workspace>/.work/acc`.
pub fn work_root() -> PathBuf {
    non_empty_env("IDBRIDGE_ACC_WORK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".work").join("acc"))
}

pub(crate) fn non_empty_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"));
    }

    #[test]
    fn profile_dir_is_the_directory_above_deps() {
        let exe = std::env::current_exe().unwrap();
        assert_eq!(profile_dir(), exe.parent().unwrap().parent().unwrap());
    }
}
