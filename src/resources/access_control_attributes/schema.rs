//! The schema of `idbridge_access_control_attributes`.

use super::validate::{validate_key, validate_source};
use crate::framework::{Attribute, Block, NestedBlock, Nesting, Operation, Schema, Type};
use crate::helpers::ids::validate_instance_arn;

pub(super) fn schema() -> Schema {
    Schema::new()
        .description(
            "The attributes IAM Identity Center passes to AWS accounts as session tags for attribute-based access \
             control (ABAC): the instance's access control attribute configuration. One per instance; destroying \
             it turns ABAC off.",
        )
        .attribute(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("The instance ARN (also the import ID)."),
        )
        .attribute(
            Attribute::string("instance_arn")
                .optional()
                .computed()
                .requires_replace()
                .use_state_for_unknown()
                .validator(validate_instance_arn)
                .description(
                    "The IAM Identity Center instance (`arn:aws:sso:::instance/ssoins-...`). Defaults to the only \
                     instance the provider's AWS credentials see.",
                ),
        )
        .attribute(
            Attribute::string("status")
                .computed()
                .description("The configuration's status as AWS reports it, `ENABLED` once it is in effect."),
        )
        .block(
            NestedBlock::new(
                "attribute",
                Nesting::Set,
                Block::new()
                    .description(
                        "One session tag: its key and the identity store user attribute its value comes from. \
                         1 to 50 blocks.",
                    )
                    .attribute(
                        Attribute::string("key")
                            .required()
                            .validator(validate_key)
                            .description(
                                "The session tag key AWS passes to the account, e.g. `CostCenter` (letters, \
                                 digits, spaces and `_ . : / = + - @`, at most 128 characters).",
                            ),
                    )
                    .attribute(
                        Attribute::list("source", Type::String)
                            .required()
                            .validator(validate_source)
                            .description(
                                "Where the value comes from: exactly one attribute path of the identity store \
                                 user, e.g. `[\"${path:enterprise.costCenter}\"]` or \
                                 `[\"${path:name.givenName}\"]`.",
                            ),
                    ),
            )
            .min_items(1)
            .max_items(50),
        )
        .block(NestedBlock::timeouts(&[
            Operation::Create,
            Operation::Read,
            Operation::Update,
            Operation::Delete,
        ]))
}
