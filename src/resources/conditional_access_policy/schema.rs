//! The schema of `idbridge_conditional_access_policy`.

use super::validate::{
    validate_built_in_controls, validate_client_app_types, validate_group_ids,
    validate_location_ids, validate_operator, validate_state, validate_user_ids,
};
use crate::framework::{Attribute, NestedBlock, Operation, Schema, Type};
use crate::helpers::ids::validate_object_id;

pub(super) fn schema() -> Schema {
    let ids = |name: &str, description: &str| {
        Attribute::set(name, Type::String)
            .optional()
            .description(description)
    };
    Schema::new()
        .description(
            "A Microsoft Entra Conditional Access policy scoped to the AWS IAM Identity Center application: who it \
             applies to, from where and with which clients, and what they must satisfy (MFA, a compliant device…) \
             to sign in to AWS. Conditional Access needs Microsoft Entra ID P1 licences.",
        )
        .attribute(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("The policy's ID (also the import ID)."),
        )
        .attribute(
            Attribute::string("display_name")
                .required()
                .description("The policy's name as the Entra admin center shows it."),
        )
        .attribute(
            Attribute::string("application_id")
                .required()
                .validator(|value, path| validate_object_id(value, path, "application"))
                .description(
                    "The object ID of the application the policy protects, `idbridge_entra_application.<name>.id`; \
                     the policy targets its client ID (appId).",
                ),
        )
        .attribute(
            Attribute::string("app_id")
                .computed()
                .use_state_for_unknown()
                .description("The client ID (appId) of the application, the value in the policy's `includeApplications`."),
        )
        .attribute(
            Attribute::string("state")
                .required()
                .validator(validate_state)
                .description(
                    "`enabled`, `disabled`, or `enabledForReportingButNotEnforced` (report-only: sign-ins are \
                     evaluated and logged, nothing is enforced; start here).",
                ),
        )
        .attribute(ids(
            "include_users",
            "Users the policy applies to: object IDs, or `All`, `None`, `GuestsOrExternalUsers`. At least one of \
             `include_users` and `include_groups` is needed.",
        ).validator(validate_user_ids))
        .attribute(ids("exclude_users", "Users the policy never applies to: object IDs, or `GuestsOrExternalUsers`.").validator(validate_user_ids))
        .attribute(ids("include_groups", "Object IDs of the groups whose members the policy applies to.").validator(validate_group_ids))
        .attribute(ids("exclude_groups", "Object IDs of groups whose members the policy never applies to (e.g. break-glass accounts).").validator(validate_group_ids))
        .attribute(
            ids(
                "built_in_controls",
                "What a sign-in must satisfy: `mfa`, `compliantDevice`, `domainJoinedDevice`, `passwordChange`. \
                 Empty or unset: the policy has no grant controls.",
            )
            .validator(validate_built_in_controls),
        )
        .attribute(
            Attribute::string("operator")
                .optional()
                .computed()
                .validator(validate_operator)
                .description(
                    "How several `built_in_controls` combine: `OR` (any one; the default) or `AND` (all).",
                ),
        )
        .attribute(
            ids(
                "include_locations",
                "Named location IDs where the policy applies, or `All`, `AllTrusted`. Unset: any location.",
            )
            .validator(validate_location_ids),
        )
        .attribute(
            ids(
                "exclude_locations",
                "Named location IDs (or `AllTrusted`) excluded from the policy.",
            )
            .validator(validate_location_ids),
        )
        .attribute(
            Attribute::set("client_app_types", Type::String)
                .optional()
                .computed()
                .validator(validate_client_app_types)
                .description(
                    "Client types the policy applies to: `all` (the default), `browser`, \
                     `mobileAppsAndDesktopClients`, `exchangeActiveSync`, `other`.",
                ),
        )
        .block(NestedBlock::timeouts(&[
            Operation::Create,
            Operation::Read,
            Operation::Update,
            Operation::Delete,
        ]))
}
