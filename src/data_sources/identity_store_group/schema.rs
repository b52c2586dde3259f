//! The schema of `idbridge_identity_store_group`; its descriptions are the documentation.

use crate::framework::{Attribute, Block, NestedBlock, Nesting, Schema};

use super::validate::validate_wait_for;

pub(super) fn schema() -> Schema {
    Schema::new()
        .description(
            "A group of the IAM Identity Center identity store, by `display_name` or by `external_id`. With \
             `wait_for`, waits for the group to appear (SCIM provisioning from Entra ID creates groups \
             minutes after they are assigned).",
        )
        .attribute(
            Attribute::string("display_name")
                .optional()
                .computed()
                .description("The group's display name (unique in the identity store). Conflicts with `external_id`."),
        )
        .attribute(Attribute::string("identity_store_id").optional().computed().description(
            "The identity store to search (`d-...`). When not set, the identity store of the only IAM Identity \
             Center instance visible to the provider's AWS credentials.",
        ))
        .attribute(Attribute::string("wait_for").optional().validator(validate_wait_for).description(
            "How long to wait for the group to appear, as a duration such as `\"30s\"` or `\"10m\"`. Without \
             it, a missing group is an error at once.",
        ))
        .attribute(Attribute::string("id").computed().description("The group ID."))
        .attribute(Attribute::string("group_id").computed().description("The group ID."))
        .attribute(
            Attribute::string("description")
                .computed()
                .description("The group's description."),
        )
        .block(NestedBlock::new(
            "external_id",
            Nesting::Single,
            Block::new()
                .description(
                    "The identifier the group's identity provider gave it. Conflicts with `display_name`.",
                )
                .attribute(
                    Attribute::string("issuer")
                        .required()
                        .description("The issuer of the external ID."),
                )
                .attribute(
                    Attribute::string("id")
                        .required()
                        .description("The external ID."),
                ),
        ))
}
