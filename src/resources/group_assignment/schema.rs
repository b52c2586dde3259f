//! The schema of `idbridge_group_assignment`; its descriptions are the documentation's.

use crate::framework::{Attribute, Schema};
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
}
