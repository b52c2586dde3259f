//! The schema of `idbridge_user_assignment`; its descriptions are the documentation's.

use crate::framework::{Attribute, Schema};
use crate::helpers::account_targets::with_assignment_attributes;
use crate::helpers::validate_object_id;

use super::validate::validate_match;

pub(super) fn schema() -> Schema {
    with_assignment_attributes(base_schema(), "user")
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
            Attribute::string("entra_user_id")
                .required()
                .requires_replace()
                .validator(|value, path| validate_object_id(value, path, "object id"))
                .description("Object id of the Entra ID user."),
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
            Attribute::string("identity_store_user_id")
                .computed()
                .description("Id of the provisioned user in the AWS identity store."),
        )
}
