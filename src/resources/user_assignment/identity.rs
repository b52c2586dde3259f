//! The user assignment's resource identity: the application and the Entra user assigned to it.

use crate::framework::{Diagnostics, IdentityAttribute, IdentitySchema, Value};

pub(super) fn identity_schema() -> IdentitySchema {
    IdentitySchema::new()
        .attribute(
            IdentityAttribute::string("application_id")
                .description("Object id of the AWS IAM Identity Center application in Entra ID."),
        )
        .attribute(
            IdentityAttribute::string("entra_user_id").description("Object id of the Entra user."),
        )
        .import_id(import_id)
}

/// The import ID `<application_id>/<entra_user_id>`.
fn import_id(identity: &Value) -> Result<String, Diagnostics> {
    let part = |name| identity.get_str(name).unwrap_or_default();
    Ok(format!(
        "{}/{}",
        part("application_id"),
        part("entra_user_id")
    ))
}
