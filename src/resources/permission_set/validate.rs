//! What a permission set's own attributes may hold (its name, boundary and policy paths), checked at plan with the
//! attribute named; the checks of values AWS defines for every caller are in `helpers::aws_inputs`.

use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};

use crate::helpers::aws_inputs::validate_length;

use super::model::PermissionSetModel;

pub(super) fn validate_name(value: &Value, path: &AttributePath) -> Diagnostics {
    let mut diags = validate_length("permission set name", 1, 32)(value, path);
    if let Some(name) = value.as_str()
        && !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        diags.error_at(
            path.clone(),
            "Invalid permission set name",
            format!(
                "{name:?} has characters IAM Identity Center does not allow in a name; use letters, digits and \
                 + = , . @ - _ only."
            ),
        );
    }
    diags
}

/// `permissions_boundary` needs exactly one of its two kinds (once both are known).
pub(super) fn validate_boundary(config: &PermissionSetModel) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if let Some(boundary) = config.permissions_boundary.known() {
        let arn = &boundary.managed_policy_arn;
        let reference = &boundary.customer_managed_policy;
        if !arn.is_unknown() && !reference.is_unknown() && arn.is_null() == reference.is_null() {
            diags.error_at(
                AttributePath::new("permissions_boundary"),
                "Invalid permissions boundary",
                "Set exactly one of `managed_policy_arn` or a `customer_managed_policy` block in \
                 `permissions_boundary`.",
            );
        }
    }
    diags
}

/// The `path` of a customer managed policy reference: an IAM path.
pub(super) fn validate_policy_path(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(p) if !(p.starts_with('/') && p.ends_with('/')) => Diagnostic::error(
            "Invalid policy path",
            format!(
                "{p:?} is not an IAM path: it must start and end with `/`, e.g. `/` or `/team/`."
            ),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}
