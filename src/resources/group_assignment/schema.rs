//! The schema of `idbridge_group_assignment`; its descriptions are the documentation's.

use crate::framework::{Attribute, Schema, Type};
use crate::helpers::account_targets::with_assignment_attributes;
use crate::helpers::validate_object_id;

use super::validate::validate_match;

pub(super) fn schema() -> Schema {
    with_assignment_attributes(base_schema(), "group")
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
            Attribute::string("entra_group_id")
                .required()
                .requires_replace()
                .validator(|value, path| validate_object_id(value, path, "object id"))
                .description("Object id of the Entra ID group."),
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
            Attribute::string("identity_store_group_id")
                .computed()
                .description("Id of the provisioned group in the AWS identity store."),
        )
        // Members on demand (members.rs).
        .attribute(
            Attribute::bool("provision_members")
                .optional()
                .computed()
                .description(
                    "Also provision the group's direct user members on demand (the group plus at most five \
                     members per request, paced at Entra's limit) and wait until each member that AWS can take \
                     is in the identity store group (default true). Turn it off for very large groups: their \
                     members then arrive with the provisioning cycle.",
                ),
        )
        .attribute(
            Attribute::number("provisioned_member_count")
                .computed()
                .description(
                    "Number of users in the identity store group; null when `provision_members` is false.",
                ),
        )
        .attribute(
            Attribute::set("missing_members", Type::String)
                .computed()
                .description(
                    "User principal names of the Entra group's direct members that AWS can take (see the plan's \
                     warnings for those it cannot) but that are not in the identity store group. Refreshed at \
                     every read, so a member added in Entra ID later shows here at plan, and the next apply \
                     provisions it. Null when `provision_members` is false.",
                ),
        )
}
