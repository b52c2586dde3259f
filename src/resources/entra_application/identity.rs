//! The Entra application's resource identity: its object id.

use crate::framework::{IdentityAttribute, IdentitySchema};

pub(super) fn identity_schema() -> IdentitySchema {
    IdentitySchema::new().attribute(IdentityAttribute::string("id").description(
        "Object id of the application (App registrations > Object ID, not the client ID).",
    ))
}
