//! Offline checks: the shape of account ids, permission set ARNs and the match mode, the import id, and that
//! new permission sets belong to the named instance.

use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};
use crate::helpers::{assignment_inputs, is_object_id};
use crate::services::identity_store::IdentityStoreMatch;

use super::model::GroupAssignmentModel;

pub(super) fn validate_account_ids(value: &Value, path: &AttributePath) -> Diagnostics {
    assignment_inputs::validate_account_ids(value, path)
}

pub(super) fn validate_permission_set_arns(value: &Value, path: &AttributePath) -> Diagnostics {
    assignment_inputs::validate_permission_set_arns(value, path)
}

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

/// Permission set ARNs in the configuration that the prior state does not hold yet.
pub(super) fn added_permission_set_arns(
    config: &GroupAssignmentModel,
    prior: Option<&GroupAssignmentModel>,
) -> Vec<String> {
    assignment_inputs::added_permission_set_arns(
        &config.permission_set_arns,
        prior.map(|prior| &prior.permission_set_arns),
    )
}

/// A permission set of another instance can never be assigned through `instance_arn`.
pub(super) fn check_instance_matches(
    config: &GroupAssignmentModel,
    arns: &[String],
) -> Result<(), Diagnostics> {
    assignment_inputs::check_instance_matches(&config.instance_arn, arns)
}
