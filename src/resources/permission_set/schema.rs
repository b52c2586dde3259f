//! The schema of `idbridge_permission_set`; its descriptions are the documentation.

use crate::framework::{Attribute, Block, NestedBlock, Nesting, Operation, Schema, Type};
use crate::helpers::ids::validate_instance_arn;

use crate::helpers::ownership::{ADOPT_EXISTING, adopt_existing_description};

use super::validate::{validate_name, validate_policy_path};
use crate::helpers::aws_inputs::{
    validate_inline_policy, validate_length, validate_managed_policy_arn,
    validate_managed_policy_arns, validate_session_duration,
};

fn policy_reference_block(description: &str) -> Block {
    Block::new()
        .description(description)
        .attribute(
            Attribute::string("name")
                .required()
                .description("Name of the IAM policy, which must exist in every account the set is provisioned to.")
                .validator(validate_length("policy name", 1, 128)),
        )
        .attribute(
            Attribute::string("path")
                .optional()
                .computed()
                .description("IAM path of the policy; `/` when not set.")
                .validator(validate_policy_path),
        )
}

pub(super) fn schema() -> Schema {
    Schema::new()
        .description(
            "An AWS IAM Identity Center permission set: session settings, AWS managed and customer managed \
             policies, an inline policy, a permissions boundary and tags. After every change the set is \
             provisioned again to the accounts it is provisioned to.",
        )
        .attribute(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("The permission set ARN."),
        )
        .attribute(
            Attribute::string("arn")
                .computed()
                .use_state_for_unknown()
                .description("The permission set ARN (`arn:aws:sso:::permissionSet/ssoins-.../ps-...`)."),
        )
        .attribute(
            Attribute::string("instance_arn")
                .optional()
                .computed()
                .use_state_for_unknown()
                .requires_replace()
                .validator(validate_instance_arn)
                .description(
                    "ARN of the IAM Identity Center instance. When not set, the only instance visible to the \
                     provider's AWS credentials is used. Changing it creates a new permission set.",
                ),
        )
        .attribute(
            Attribute::string("name")
                .required()
                .requires_replace()
                .validator(validate_name)
                .description(
                    "Name shown in the AWS access portal (1-32 characters: letters, digits, `+=,.@-_`). \
                     Changing it creates a new permission set.",
                ),
        )
        .attribute(
            Attribute::string("description")
                .optional()
                .validator(validate_length("description", 1, 700))
                .description("Description of the permission set."),
        )
        .attribute(
            Attribute::string("session_duration")
                .optional()
                .computed()
                .validator(validate_session_duration)
                .description(
                    "How long an access portal session lasts, as an ISO 8601 duration from `PT15M` to `PT12H`; \
                     `PT1H` when not set.",
                ),
        )
        .attribute(
            Attribute::string("relay_state")
                .optional()
                .validator(validate_length("relay state", 1, 240))
                .description("URL users land on in the AWS console after signing in through the set."),
        )
        .attribute(
            Attribute::set("managed_policy_arns", Type::String)
                .optional()
                .validator(validate_managed_policy_arns)
                .description("ARNs of AWS managed policies to attach, e.g. `arn:aws:iam::aws:policy/ReadOnlyAccess`."),
        )
        .attribute(
            Attribute::string("inline_policy")
                .optional()
                .validator(validate_inline_policy)
                .description(
                    "An IAM policy document (JSON) embedded in the set. Compared as JSON: reformatting it \
                     or reordering keys is not a change.",
                ),
        )
        .attribute(
            Attribute::map("tags", Type::String)
                .optional()
                .description("Tags of the permission set."),
        )
        .attribute(
            Attribute::bool(ADOPT_EXISTING)
                .optional()
                .description(adopt_existing_description(
                    "a permission set with the same name in the instance",
                )),
        )
        .attribute(
            Attribute::string("created_date")
                .computed()
                .use_state_for_unknown()
                .description("When the permission set was created (RFC 3339)."),
        )
        .attribute(
            Attribute::set("outdated_accounts", Type::String)
                .computed()
                .description(
                    "Accounts the permission set is provisioned to that still run an earlier version of it \
                     (a provisioning failed, or the set was changed outside Terraform). Planned empty: the \
                     next apply provisions them.",
                ),
        )
        .block(NestedBlock::new(
            "customer_managed_policy",
            Nesting::Set,
            policy_reference_block(
                "A customer managed policy to attach, by name and path; the policy must exist in each \
                 account the set is provisioned to.",
            ),
        ))
        .block(NestedBlock::new(
            "permissions_boundary",
            Nesting::Single,
            Block::new()
                .description(
                    "The permissions boundary: set exactly one of `managed_policy_arn` or a \
                     `customer_managed_policy` block.",
                )
                .attribute(
                    Attribute::string("managed_policy_arn")
                        .optional()
                        .validator(validate_managed_policy_arn)
                        .description("ARN of an AWS managed policy used as the boundary."),
                )
                .block(NestedBlock::new(
                    "customer_managed_policy",
                    Nesting::Single,
                    policy_reference_block("A customer managed policy used as the boundary."),
                )),
        ))
        .block(NestedBlock::timeouts(&[
            Operation::Create,
            Operation::Read,
            Operation::Update,
            Operation::Delete,
        ]))
}
