//! Plan-time checks of `idbridge_entra_application`'s arguments.

use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};

pub(super) fn non_blank(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(text) if text.trim().is_empty() => Diagnostic::error(
            "Empty display name",
            "`display_name` must not be empty or blank.",
        )
        .at(path.clone())
        .into(),
        Some(text) if text.chars().count() > 256 => Diagnostic::error(
            "Display name too long",
            "Entra ID allows at most 256 characters in an application's display name.",
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}
