//! The permission set's resource identity: its instance and ARN, which name it across accounts.

use crate::framework::{Diagnostic, Diagnostics, IdentityAttribute, IdentitySchema, Value};
use crate::helpers::ids::instance_arn_of;

pub(super) fn identity_schema() -> IdentitySchema {
    IdentitySchema::new()
        .attribute(
            IdentityAttribute::string("instance_arn")
                .description(
                    "ARN of the IAM Identity Center instance the permission set belongs to.",
                )
                .optional_for_import(),
        )
        .attribute(IdentityAttribute::string("arn").description("ARN of the permission set."))
        .import_id(import_id)
}

/// The import ID is the ARN; an `instance_arn` given with it must be the ARN's own instance.
fn import_id(identity: &Value) -> Result<String, Diagnostics> {
    let arn = identity.get_str("arn").unwrap_or_default();
    if let (Some(given), Some(own)) = (
        identity.get_str("instance_arn"),
        instance_arn_of(arn).as_deref(),
    ) && given != own
    {
        return Err(Diagnostic::error(
            "Identity does not match",
            format!(
                "The permission set {arn} belongs to instance {own}, not {given}. Correct `instance_arn` in the import block's identity, or leave it out."
            ),
        )
        .into());
    }
    Ok(arn.to_owned())
}
