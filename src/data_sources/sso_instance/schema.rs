//! The schema of `idbridge_sso_instance`; its descriptions are the documentation.

use crate::framework::{Attribute, NestedBlock, Operation, Schema};

pub(super) fn schema() -> Schema {
    Schema::new()
        .description(
            "The AWS IAM Identity Center instance visible to the provider's AWS credentials in the configured \
             region, and its identity store. Fails when there is none, or when there are several and `arn` \
             does not choose one.",
        )
        .attribute(Attribute::string("arn").optional().computed().description(
            "The instance ARN (`arn:aws:sso:::instance/ssoins-...`). Set it to choose among several \
             instances; otherwise the only visible instance is used.",
        ))
        .attribute(
            Attribute::string("identity_store_id")
                .computed()
                .description("The ID of the instance's identity store (`d-...`)."),
        )
        .attribute(
            Attribute::string("region")
                .computed()
                .description("The AWS region the instance was found in."),
        )
        .block(NestedBlock::timeouts(&[Operation::Read]))
}
