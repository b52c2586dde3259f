//! The resource identity of an instance's access control attributes: there is one set per instance.

use crate::framework::{IdentityAttribute, IdentitySchema};

pub(super) fn identity_schema() -> IdentitySchema {
    IdentitySchema::new().attribute(
        IdentityAttribute::string("instance_arn")
            .description("ARN of the IAM Identity Center instance."),
    )
}
