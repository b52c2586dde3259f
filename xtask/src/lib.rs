//! Project tasks that need the provider crate itself; today the documentation generator.

pub mod docs;

use std::path::{Path, PathBuf};

/// The workspace root (this crate lives in `<root>/xtask`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}
