//! The schema of `idbridge_user_assignment`; its descriptions are the documentation's.

use crate::framework::{Attribute, NestedBlock, Operation, Schema, Type};
use crate::helpers::account_targets::with_target_attributes;
use crate::helpers::assignment_inputs::{validate_account_ids, validate_permission_set_arns};
use crate::helpers::validate_object_id;

use super::validate::validate_match;

pub(super) fn schema() -> Schema {
    with_target_attributes(base_schema())
}

fn base_schema() -> Schema {
    Schema::new()
        .description(
            "Gives one Entra ID user direct access to AWS accounts (break-glass administrators, tenants \
             without group-based assignment): assigns the user to the IAM Identity Center enterprise \
             application, provisions the user on demand over SCIM, waits for the user in the AWS identity \
             store and assigns it the permission sets in the accounts as a `USER` principal.",
        )
        .attribute(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("`<application_id>/<entra_user_id>`."),
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
            Attribute::string("entra_user_id")
                .required()
                .requires_replace()
                .validator(|value, path| validate_object_id(value, path, "object id"))
                .description("Object id of the Entra ID user."),
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
                    "How the provisioned user is found in the identity store: `user_name` (default: the \
                     userName provisioning gives it, the Entra userPrincipalName) or `external_id` (the user's \
                     external ids must also contain the Entra object id).",
                ),
        )
        .attribute(
            Attribute::bool("provision_on_demand")
                .optional()
                .computed()
                .description(
                    "Provision the user on demand instead of waiting for the next provisioning cycle \
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
                .description("Id of the user's app role assignment on the enterprise application."),
        )
        .attribute(
            Attribute::string("identity_store_user_id")
                .computed()
                .description("Id of the provisioned user in the AWS identity store."),
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
