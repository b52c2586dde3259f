//! Offline checks of the user assignment: the match mode and the import id.

use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};
use crate::helpers::is_object_id;

use super::model::parse_match;

pub(super) fn validate_match(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(m) if parse_match(m).is_none() => Diagnostic::error(
            "Invalid identity_store_match",
            format!("{m:?} is not one of `user_name`, `external_id`."),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

pub(super) fn parse_import_id(id: &str) -> Option<(&str, &str)> {
    let (app, user) = id.split_once('/')?;
    (is_object_id(app) && is_object_id(user)).then_some((app, user))
}
