//! The resource identity: the object id of the application it configures (one per application).

use crate::framework::{IdentityAttribute, IdentitySchema};

pub(super) fn identity_schema() -> IdentitySchema {
    IdentitySchema::new().attribute(
        IdentityAttribute::string("application_id")
            .description("Object id of the AWS IAM Identity Center application in Entra ID."),
    )
}
