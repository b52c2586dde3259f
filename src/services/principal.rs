//! The Entra ID object an assignment resource gives AWS access to: a group or a user. Everything the
//! services do for it (app role assignment, provisioning on demand, account assignments) depends only on this.

use crate::clients::aws::PrincipalType;
use crate::framework::AttributePath;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntraPrincipal {
    pub kind: PrincipalType,
    pub object_id: String,
    /// The resource attribute that names the object, for diagnostics about it.
    pub attribute: &'static str,
}

impl EntraPrincipal {
    pub fn group(object_id: impl Into<String>, attribute: &'static str) -> Self {
        Self {
            kind: PrincipalType::Group,
            object_id: object_id.into(),
            attribute,
        }
    }

    pub fn user(object_id: impl Into<String>, attribute: &'static str) -> Self {
        Self {
            kind: PrincipalType::User,
            object_id: object_id.into(),
            attribute,
        }
    }

    /// "group" or "user", for messages.
    pub fn noun(&self) -> &'static str {
        match self.kind {
            PrincipalType::Group => "group",
            PrincipalType::User => "user",
        }
    }

    /// The source object name in provisioning rules and `objectTypeName` of provision-on-demand subjects.
    pub fn object_type_name(&self) -> &'static str {
        match self.kind {
            PrincipalType::Group => "Group",
            PrincipalType::User => "User",
        }
    }

    pub fn path(&self) -> AttributePath {
        AttributePath::new(self.attribute)
    }
}
