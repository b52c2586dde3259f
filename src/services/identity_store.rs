//! Which identity store group or user SCIM provisioned from an Entra group or user, by the rule the resource
//! chose (`identity_store_match`): the same unique name (a group's displayName, a user's userName), or that and
//! the Entra object id among its external ids.

use crate::clients::aws::{
    Deadline, ExternalId, Group, GroupMatcher, IdentityCenter, PrincipalType, User, UserMatcher,
};
use crate::clients::graph::GraphClient;
use crate::framework::{AttributePath, Diagnostic, Diagnostics};
use crate::helpers::{aws_error, graph_error};

use super::principal::EntraPrincipal;

/// How the provisioned group or user is found in the identity store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdentityStoreMatch {
    /// By its unique name: a group's displayName, a user's userName.
    #[default]
    DisplayName,
    ExternalId,
}

impl IdentityStoreMatch {
    pub const DISPLAY_NAME: &str = "display_name";
    pub const EXTERNAL_ID: &str = "external_id";

    /// The mode named `text`; `None` for anything else (validation reports it).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            Self::DISPLAY_NAME => Some(Self::DisplayName),
            Self::EXTERNAL_ID => Some(Self::ExternalId),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DisplayName => Self::DISPLAY_NAME,
            Self::ExternalId => Self::EXTERNAL_ID,
        }
    }
}

/// Both modes look the group up by the display name SCIM gave it; `external_id` then checks the match.
pub async fn group_matcher(
    graph: &GraphClient,
    group: &EntraPrincipal,
) -> Result<GroupMatcher, Diagnostics> {
    let found = graph
        .get_group(&group.object_id)
        .await
        .map_err(|e| graph_error("read the Entra ID group", &e).at(group.path()))?;
    Ok(GroupMatcher::DisplayName(found.display_name))
}

/// Both modes look the user up by the userName SCIM gave it (Entra's gallery app maps the
/// userPrincipalName to it); `external_id` then checks the match.
pub async fn user_matcher(
    graph: &GraphClient,
    user: &EntraPrincipal,
) -> Result<UserMatcher, Diagnostics> {
    let found = graph
        .get_user(&user.object_id)
        .await
        .map_err(|e| graph_error("read the Entra ID user", &e).at(user.path()))?;
    let name = found.user_principal_name.ok_or_else(|| {
        Diagnostics::from(
            Diagnostic::error(
                "Entra ID user without a userPrincipalName",
                format!(
                    "User {} has no userPrincipalName, which provisioning maps to the AWS userName.",
                    user.object_id
                ),
            )
            .at(user.path()),
        )
    })?;
    Ok(UserMatcher::UserName(name))
}

/// Whether an identity store object came from this Entra object: in AWS only SCIM sets external ids, and
/// Entra's gallery app sends the object id as `externalId`. The issuer is AWS's own per-tenant value
/// (undocumented), so only the id is compared; object ids are GUIDs, hence case-insensitively.
fn carries_object_id(external_ids: &[ExternalId], object_id: &str) -> bool {
    external_ids
        .iter()
        .any(|e| e.id.eq_ignore_ascii_case(object_id))
}

pub fn provisioned_from(group: &Group, entra_group_id: &str) -> bool {
    carries_object_id(&group.external_ids, entra_group_id)
}

/// The user id the wait found, unless `external_id` mode refuses the user.
pub fn accept_found_user(
    user: User,
    entra_user_id: &str,
    mode: IdentityStoreMatch,
) -> Result<String, Diagnostics> {
    if mode == IdentityStoreMatch::ExternalId
        && !carries_object_id(&user.external_ids, entra_user_id)
    {
        return Err(Diagnostic::error(
            "Identity store user does not come from this Entra ID user",
            format!(
                "User {} in identity store {} has the user's userName but its external ids do not contain the \
                 Entra object id {entra_user_id}. Use `identity_store_match = \"user_name\"` or remove the \
                 other user.",
                user.user_id, user.identity_store_id
            ),
        )
        .at(AttributePath::new("identity_store_match"))
        .into());
    }
    Ok(user.user_id)
}

/// The group id the wait found, unless `external_id` mode refuses the group.
pub fn accept_found_group(
    group: Group,
    entra_group_id: &str,
    mode: IdentityStoreMatch,
) -> Result<String, Diagnostics> {
    if mode == IdentityStoreMatch::ExternalId && !provisioned_from(&group, entra_group_id) {
        return Err(not_provisioned_from(
            &group.group_id,
            &group.identity_store_id,
            entra_group_id,
        ));
    }
    Ok(group.group_id)
}

fn not_provisioned_from(
    group_id: &str,
    identity_store_id: &str,
    entra_group_id: &str,
) -> Diagnostics {
    Diagnostic::error(
        "Identity store group does not come from this Entra ID group",
        format!(
            "Group {group_id} in identity store {identity_store_id} has the group's display name but its external \
             ids do not contain the Entra object id {entra_group_id}. Rename one of the groups or use \
             `identity_store_match = \"display_name\"`."
        ),
    )
    .at(AttributePath::new("identity_store_match"))
    .into()
}

/// Switching an existing resource (e.g. an imported one, whose match mode starts as `display_name`) to
/// `external_id` must not keep a group the new rule refuses.
pub async fn check_group_for_new_match_mode(
    identity_center: &IdentityCenter,
    identity_store_id: &str,
    group_id: &str,
    entra_group_id: &str,
    deadline: Deadline,
) -> Result<(), Diagnostics> {
    let group = identity_center
        .describe_group(identity_store_id, group_id, deadline)
        .await
        .map_err(|e| aws_error("Cannot read the group in the identity store", &e))?;
    accept_found_group(group, entra_group_id, IdentityStoreMatch::ExternalId).map(drop)
}

/// The identity store group provisioned from the Entra group, for a read that has none in state (a create that
/// failed before finding it, or an import). In `external_id` mode a same-named group without the object id is
/// not this resource's: adopting it would make destroy remove that group's account assignments.
pub async fn find_provisioned_group(
    graph: &GraphClient,
    identity_center: &IdentityCenter,
    identity_store_id: &str,
    group: &EntraPrincipal,
    mode: IdentityStoreMatch,
    deadline: Deadline,
) -> Result<Option<String>, Diagnostics> {
    let matcher = group_matcher(graph, group).await?;
    let lookup_failed = |e| aws_error("Cannot look up the group in the identity store", &e);
    let Some(group_id) = identity_center
        .get_group_id(identity_store_id, &matcher, deadline)
        .await
        .map_err(lookup_failed)?
    else {
        return Ok(None);
    };
    if mode != IdentityStoreMatch::ExternalId {
        return Ok(Some(group_id));
    }
    let found = identity_center
        .describe_group(identity_store_id, &group_id, deadline)
        .await
        .map_err(lookup_failed)?;
    Ok(provisioned_from(&found, &group.object_id).then_some(group_id))
}

/// The identity store user provisioned from the Entra user, as [`find_provisioned_group`] does for groups.
pub async fn find_provisioned_user(
    graph: &GraphClient,
    identity_center: &IdentityCenter,
    identity_store_id: &str,
    user: &EntraPrincipal,
    mode: IdentityStoreMatch,
    deadline: Deadline,
) -> Result<Option<String>, Diagnostics> {
    let matcher = user_matcher(graph, user).await?;
    let lookup_failed = |e| aws_error("Cannot look up the user in the identity store", &e);
    let Some(user_id) = identity_center
        .get_user_id(identity_store_id, &matcher, deadline)
        .await
        .map_err(lookup_failed)?
    else {
        return Ok(None);
    };
    if mode != IdentityStoreMatch::ExternalId {
        return Ok(Some(user_id));
    }
    let found = identity_center
        .describe_user(identity_store_id, &user_id, deadline)
        .await
        .map_err(lookup_failed)?;
    Ok(carries_object_id(&found.external_ids, &user.object_id).then_some(user_id))
}

/// The identity store object provisioned from `principal`, group or user.
pub async fn find_provisioned(
    graph: &GraphClient,
    identity_center: &IdentityCenter,
    identity_store_id: &str,
    principal: &EntraPrincipal,
    mode: IdentityStoreMatch,
    deadline: Deadline,
) -> Result<Option<String>, Diagnostics> {
    match principal.kind {
        PrincipalType::Group => {
            find_provisioned_group(
                graph,
                identity_center,
                identity_store_id,
                principal,
                mode,
                deadline,
            )
            .await
        }
        PrincipalType::User => {
            find_provisioned_user(
                graph,
                identity_center,
                identity_store_id,
                principal,
                mode,
                deadline,
            )
            .await
        }
    }
}

/// [`check_group_for_new_match_mode`] for either kind of principal.
pub async fn check_for_new_match_mode(
    identity_center: &IdentityCenter,
    identity_store_id: &str,
    store_id: &str,
    principal: &EntraPrincipal,
    deadline: Deadline,
) -> Result<(), Diagnostics> {
    match principal.kind {
        PrincipalType::Group => {
            check_group_for_new_match_mode(
                identity_center,
                identity_store_id,
                store_id,
                &principal.object_id,
                deadline,
            )
            .await
        }
        PrincipalType::User => {
            let user = identity_center
                .describe_user(identity_store_id, store_id, deadline)
                .await
                .map_err(|e| aws_error("Cannot read the user in the identity store", &e))?;
            accept_found_user(user, &principal.object_id, IdentityStoreMatch::ExternalId).map(drop)
        }
    }
}

/// The identity store id in state, checked at refresh. A group stays when it exists and carries no other Entra
/// group's object id (a group made by hand has no external ids, and `display_name` mode accepts it); a user stays
/// when it exists and, in `external_id` mode, carries the Entra object id (a user's external ids are Entra's
/// `externalId` mapping, by default the mailNickname, so outside that mode they do not tell whose it is).
/// Otherwise (deleted, or re-created by Entra under a new id after the app role assignment was removed and added
/// again) the principal is re-resolved: the new id, or `None` when there is none yet. Either way the account
/// assignments read for it show what apply must make again.
pub async fn verify_provisioned(
    graph: &GraphClient,
    identity_center: &IdentityCenter,
    identity_store_id: &str,
    recorded_id: &str,
    principal: &EntraPrincipal,
    mode: IdentityStoreMatch,
    deadline: Deadline,
) -> Result<Option<String>, Diagnostics> {
    let object_id = &principal.object_id;
    let still_ours = match principal.kind {
        PrincipalType::Group => identity_center
            .describe_group(identity_store_id, recorded_id, deadline)
            .await
            .map(|group| still_provisioned_from(&group, object_id)),
        PrincipalType::User => identity_center
            .describe_user(identity_store_id, recorded_id, deadline)
            .await
            .map(|user| {
                mode != IdentityStoreMatch::ExternalId
                    || carries_object_id(&user.external_ids, object_id)
            }),
    };
    match still_ours {
        Ok(true) => return Ok(Some(recorded_id.to_owned())),
        Ok(false) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => {
            let summary = format!("Cannot read the {} in the identity store", principal.noun());
            return Err(aws_error(&summary, &e).into());
        }
    }
    Box::pin(find_provisioned(
        graph,
        identity_center,
        identity_store_id,
        principal,
        mode,
        deadline,
    ))
    .await
}

/// A recorded group stays this resource's unless its external ids name a different Entra group.
fn still_provisioned_from(group: &Group, entra_group_id: &str) -> bool {
    group.external_ids.is_empty() || provisioned_from(group, entra_group_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::aws::ExternalId;

    const ENTRA_GROUP: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    fn group(external_ids: &[&str]) -> Group {
        Group {
            identity_store_id: "d-1".into(),
            group_id: "g-1".into(),
            display_name: Some("AWS-Admins".into()),
            description: None,
            external_ids: external_ids
                .iter()
                .map(|id| ExternalId {
                    issuer: "https://scim.example/issuer".into(),
                    id: (*id).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn external_id_mode_accepts_only_the_group_carrying_the_object_id() {
        // Object ids are GUIDs: the comparison ignores case.
        let carrying = group(&[&ENTRA_GROUP.to_uppercase()]);
        assert_eq!(
            accept_found_group(carrying, ENTRA_GROUP, IdentityStoreMatch::ExternalId).unwrap(),
            "g-1"
        );
        let errors = accept_found_group(group(&[]), ENTRA_GROUP, IdentityStoreMatch::ExternalId)
            .unwrap_err();
        let error = errors.iter().next().unwrap();
        assert_eq!(error.path, Some(AttributePath::new("identity_store_match")));
        assert!(error.detail.contains(ENTRA_GROUP), "{}", error.detail);
        // Display-name mode takes the same-named group as it is.
        assert!(
            accept_found_group(group(&[]), ENTRA_GROUP, IdentityStoreMatch::DisplayName).is_ok()
        );
    }

    #[test]
    fn a_recorded_group_is_kept_unless_it_carries_another_entra_group() {
        assert!(still_provisioned_from(&group(&[ENTRA_GROUP]), ENTRA_GROUP));
        assert!(still_provisioned_from(&group(&[]), ENTRA_GROUP));
        let other = "11111111-2222-3333-4444-555555555555";
        assert!(!still_provisioned_from(&group(&[other]), ENTRA_GROUP));
    }

    #[test]
    fn match_modes_parse_from_their_names() {
        for mode in [
            IdentityStoreMatch::DisplayName,
            IdentityStoreMatch::ExternalId,
        ] {
            assert_eq!(IdentityStoreMatch::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(IdentityStoreMatch::parse("displayName"), None);
    }
}
