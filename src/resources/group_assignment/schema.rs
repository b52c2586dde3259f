//! The schema of `idbridge_group_assignment`; its descriptions are the documentation's.

use crate::framework::{Attribute, NestedBlock, Operation, Schema, Type};
use crate::helpers::account_targets::with_target_attributes;
use crate::helpers::validate_object_id;

use super::validate::{validate_account_ids, validate_match, validate_permission_set_arns};

pub(super) fn schema() -> Schema {
    with_target_attributes(base_schema())
}

fn base_schema() -> Schema {
    Schema::new()
        .description(
            "Gives an Entra ID group access to AWS accounts: assigns the group to the IAM Identity Center \
             enterprise application, provisions it on demand over SCIM, waits for it to appear in the AWS \
             identity store and assigns it the permission sets in the accounts.",
        )
        .attribute(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("`<application_id>/<entra_group_id>`."),
        )
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
            Attribute::string("entra_group_id")
                .required()
                .requires_replace()
                .validator(|value, path| validate_object_id(value, path, "object id"))
                .description("Object id of the Entra ID group."),
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
            Attribute::string("identity_store_match")
                .optional()
                .computed()
                .validator(validate_match)
                .description(
                    "How the provisioned group is found in the identity store: `display_name` (default) \
                     or `external_id` (the group's external ids must contain the Entra object id).",
                ),
        )
        .attribute(
            Attribute::bool("provision_on_demand")
                .optional()
                .computed()
                .description(
                    "Provision the group on demand instead of waiting for the next provisioning cycle \
                     (default true).",
                ),
        )
        .attribute(
            Attribute::string("instance_arn")
                .optional()
                .computed()
                .use_state_for_unknown()
                .requires_replace()
                .description(
                    "IAM Identity Center instance ARN; discovered when the account sees exactly one.",
                ),
        )
        .attribute(
            Attribute::string("app_role_assignment_id")
                .computed()
                .description("Id of the group's app role assignment on the enterprise application."),
        )
        .attribute(
            Attribute::string("identity_store_group_id")
                .computed()
                .description("Id of the provisioned group in the AWS identity store."),
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
}
