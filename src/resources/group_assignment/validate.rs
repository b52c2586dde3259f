//! Offline checks: the match mode and the import id.

use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};
use crate::helpers::is_object_id;
use crate::services::identity_store::IdentityStoreMatch;

pub(super) fn validate_match(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(m) if IdentityStoreMatch::parse(m).is_none() => Diagnostic::error(
            "Invalid identity_store_match",
            format!("{m:?} is not one of `display_name`, `external_id`."),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

pub(super) fn parse_import_id(id: &str) -> Option<(&str, &str)> {
    let (app, group) = id.split_once('/')?;
    (is_object_id(app) && is_object_id(group)).then_some((app, group))
}
