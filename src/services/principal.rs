//! The Entra ID object an assignment resource gives AWS access to: a group or a user. Everything the
//! services do for it (app role assignment, provisioning on demand, account assignments) depends only on this.

use crate::clients::aws::PrincipalType;
use crate::framework::{AttributePath, Context, Diagnostic, Diagnostics};

use super::clients::IdbridgeClients;

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

/// Refuses at plan a principal that does not exist in the tenant, pointing at its attribute, so that nothing
/// (app role assignment, provisioning, account assignments) is started for it. Other failures to read are left
/// to apply, which reports them with its retries.
pub async fn verify_principal_exists(
    ctx: &Context,
    principal: &EntraPrincipal,
) -> Result<(), Diagnostics> {
    let Ok(clients) = IdbridgeClients::from_context(ctx) else {
        return Ok(());
    };
    let Ok(graph) = clients.graph().await else {
        return Ok(());
    };
    let read = match principal.kind {
        PrincipalType::Group => {
            ctx.guard(async { Ok(graph.get_group(&principal.object_id).await.map(drop)) })
                .await?
        }
        PrincipalType::User => {
            ctx.guard(async { Ok(graph.get_user(&principal.object_id).await.map(drop)) })
                .await?
        }
    };
    match read {
        Err(error) if error.is_not_found() => Err(Diagnostic::error(
            format!("Entra {} not found", principal.noun()),
            format!(
                "No {noun} with object id {id} exists in the tenant. `{attribute}` takes the {noun}'s object id \
                 (Entra admin center > {place} > Object ID), not its name; a {noun} deleted recently is in the \
                 tenant's deleted items. Microsoft Graph said: {detail}",
                noun = principal.noun(),
                id = principal.object_id,
                attribute = principal.attribute,
                place = match principal.kind {
                    PrincipalType::Group => "Groups",
                    PrincipalType::User => "Users",
                },
                detail = error,
            ),
        )
        .at(principal.path())
        .into()),
        _ => Ok(()),
    }
}
