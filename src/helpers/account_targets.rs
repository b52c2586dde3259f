//! The attributes every principal-assignment resource shares, the organization targets among them
//! (`organizational_unit_ids`, `account_tags`, `exclude_account_ids`, computed `target_account_ids`): their schema,
//! descriptions and offline checks, in one place so the group and user assignments describe and validate them
//! alike.

use crate::framework::{
    Attribute, AttributePath, Diagnostic, Diagnostics, NestedBlock, Operation, Schema, Type, Value,
};

use super::assignment_inputs::{validate_account_ids, validate_permission_set_arns};
use super::ids::{
    is_organizational_unit_id, is_root_id, validate_instance_arn, validate_object_id,
};
use super::ownership::{ADOPT_EXISTING, adopt_existing_description};

/// Tag keys are 1 to 128 characters, values 0 to 256 (Organizations API reference, `Tag`).
const TAG_KEY_MAX: usize = 128;
const TAG_VALUE_MAX: usize = 256;

/// Appends what every principal-assignment resource has beside its principal (`noun`: "group", "user"): the
/// application, permission sets, account targets, provisioning switch, instance, app role assignment, the
/// assignments that exist and the timeouts.
pub fn with_assignment_attributes(schema: Schema, noun: &str) -> Schema {
    schema
        .attribute(
            Attribute::string("application_id")
                .required()
                .requires_replace()
                .validator(|value, path| validate_object_id(value, path, "object id"))
                .description(
                    "Object id of the enterprise application (`idbridge_entra_application.id`).",
                ),
        )
        .attribute(
            Attribute::set("permission_set_arns", Type::String)
                .required()
                .validator(validate_permission_set_arns)
                .description(
                    "Permission sets to assign, `arn:aws:sso:::permissionSet/ssoins-…/ps-…`.",
                ),
        )
        .attribute(
            Attribute::set("account_ids", Type::String)
                .optional()
                .validator(validate_account_ids)
                .description(
                    "AWS account ids (12 digits) the permission sets are assigned in, in addition to the \
                     accounts `organizational_unit_ids` and `account_tags` resolve to. At least one of the \
                     three is required.",
                ),
        )
        .attribute(
            Attribute::bool(ADOPT_EXISTING)
                .optional()
                .description(adopt_existing_description(&format!(
                    "the assignment of a {noun} another configuration (or the portal) already assigned to \
                     the application"
                ))),
        )
        .attribute(
            Attribute::bool("provision_on_demand")
                .optional()
                .computed()
                .description(format!(
                    "Provision the {noun} on demand instead of waiting for the next provisioning cycle \
                     (default true)."
                )),
        )
        .attribute(
            Attribute::string("instance_arn")
                .optional()
                .computed()
                .use_state_for_unknown()
                .requires_replace()
                .validator(validate_instance_arn)
                .description(
                    "IAM Identity Center instance ARN; discovered when the account sees exactly one.",
                ),
        )
        .attribute(
            Attribute::string("app_role_assignment_id")
                .computed()
                .description(format!(
                    "Id of the {noun}'s app role assignment on the enterprise application."
                )),
        )
        .attribute(
            Attribute::set("assignments", Type::String)
                .computed()
                .description(
                    "Account assignments that exist, as `<account_id>/<permission_set_arn>`; an \
                     assignment removed outside Terraform shows here as a one-line diff.",
                ),
        )
        .block(NestedBlock::timeouts(&[
            Operation::Create,
            Operation::Read,
            Operation::Update,
            Operation::Delete,
        ]))
        .attribute(
            Attribute::set("organizational_unit_ids", Type::String)
                .optional()
                .validator(validate_organizational_unit_ids)
                .description(
                    "Organizational units (`ou-…`) or the organization root (`r-…`): every ACTIVE account \
                     under them, at any depth, is a target. Re-read at every plan, so an account moved into \
                     or out of an OU shows as a change and the next apply assigns or removes it. Needs the \
                     provider's AWS credentials to read AWS Organizations (management account or delegated \
                     administrator).",
                ),
        )
        .attribute(
            Attribute::map("account_tags", Type::String)
                .optional()
                .validator(validate_account_tags)
                .description(
                    "ACTIVE accounts of the organization whose tags include all of these key/value pairs \
                     are targets too (added to the OU and account id targets).",
                ),
        )
        .attribute(
            Attribute::set("exclude_account_ids", Type::String)
                .optional()
                .validator(validate_account_ids)
                .description(
                    "Accounts never targeted, even when an OU, a tag or `account_ids` names them (for \
                     example the management account).",
                ),
        )
        .attribute(
            Attribute::set("target_account_ids", Type::String)
                .computed()
                .description(
                    "The accounts the permission sets are assigned in: `account_ids`, the ACTIVE accounts \
                     under `organizational_unit_ids` and those matching `account_tags`, minus \
                     `exclude_account_ids`; resolved at every plan.",
                ),
        )
}

fn each_string(
    value: &Value,
    path: &AttributePath,
    mut check: impl FnMut(&str) -> Option<Diagnostic>,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for element in value.iter() {
        if let Some(text) = element.as_str()
            && let Some(diagnostic) = check(text)
        {
            diags.push(diagnostic.at(path.clone()));
        }
    }
    diags
}

pub fn validate_organizational_unit_ids(value: &Value, path: &AttributePath) -> Diagnostics {
    each_string(value, path, |id| {
        (!is_organizational_unit_id(id) && !is_root_id(id)).then(|| {
            Diagnostic::error(
                "Invalid organizational unit id",
                format!(
                    "{id:?} is neither an OU id (`ou-` + 4-32 lowercase letters or digits + `-` + 8-32 more, \
                     e.g. ou-ab12-cdefgh34) nor a root id (`r-` + 4-32 lowercase letters or digits)."
                ),
            )
        })
    })
}

pub fn validate_account_tags(value: &Value, path: &AttributePath) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let Value::Map(entries) = value.inner() else {
        return diags;
    };
    for (key, tag_value) in entries {
        if key.is_empty() || key.chars().count() > TAG_KEY_MAX {
            diags.push(
                Diagnostic::error(
                    "Invalid tag key",
                    format!("Tag keys are 1 to {TAG_KEY_MAX} characters; {key:?} is not."),
                )
                .at(path.clone()),
            );
        }
        if let Some(text) = tag_value.as_str()
            && text.chars().count() > TAG_VALUE_MAX
        {
            diags.push(
                Diagnostic::error(
                    "Invalid tag value",
                    format!("The value of tag {key:?} is longer than {TAG_VALUE_MAX} characters."),
                )
                .at(path.clone()),
            );
        }
    }
    diags
}

/// A resource must name its accounts somehow: `names_some_target` says whether `account_ids`,
/// `organizational_unit_ids` or `account_tags` is set.
pub fn check_some_target(names_some_target: bool) -> Result<(), Diagnostics> {
    if names_some_target {
        return Ok(());
    }
    Err(Diagnostic::error(
        "No target accounts",
        "Set at least one of `account_ids`, `organizational_unit_ids` or `account_tags`.",
    )
    .at(AttributePath::new("account_ids"))
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ou_and_root_ids_have_the_organizations_shape() {
        let path = AttributePath::new("organizational_unit_ids");
        let good = Value::set([Value::from("ou-ab12-cdefgh34"), Value::from("r-ab12")]);
        assert!(validate_organizational_unit_ids(&good, &path).is_empty());
        for bad in [
            "ou-AB12-cdefgh34",
            "ou-ab12-short",
            "r-ab",
            "123456789012",
            "ou-ab12",
        ] {
            let diags = validate_organizational_unit_ids(&Value::set([Value::from(bad)]), &path);
            assert_eq!(diags.len(), 1, "{bad}");
            assert_eq!(diags.iter().next().unwrap().path.as_ref(), Some(&path));
        }
        // Unknown elements are checked at apply.
        assert!(
            validate_organizational_unit_ids(&Value::set([Value::unknown()]), &path).is_empty()
        );
    }

    #[test]
    fn tags_and_exclusions_are_checked() {
        let path = AttributePath::new("account_tags");
        let long = "x".repeat(TAG_KEY_MAX + 1);
        let tags = Value::map([
            (long.as_str(), Value::from("v")),
            ("env", Value::from("prod")),
        ]);
        assert_eq!(validate_account_tags(&tags, &path).len(), 1);
        let excluded = Value::set([Value::from("12345")]);
        assert_eq!(
            validate_account_ids(&excluded, &AttributePath::new("exclude_account_ids")).len(),
            1
        );
        assert!(check_some_target(false).is_err());
        assert!(check_some_target(true).is_ok());
    }
}
