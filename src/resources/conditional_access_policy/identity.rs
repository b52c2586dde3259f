//! The Conditional Access policy's resource identity: its id, which never changes.

use crate::framework::{IdentityAttribute, IdentitySchema};

pub(super) fn identity_schema() -> IdentitySchema {
    IdentitySchema::new().attribute(IdentityAttribute::string("id").description(
        "ID of the Conditional Access policy (Protection > Conditional Access > the policy).",
    ))
}
