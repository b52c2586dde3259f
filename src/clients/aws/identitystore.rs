//! Identity store lookups: finding the groups and users that SCIM provisioning from Entra ID creates, and
//! waiting for them to appear so a permission set can be assigned in the same apply.

use std::fmt;
use std::time::Duration;

use aws_sdk_identitystore::types as ids;
use aws_smithy_types::Document;
use tokio::time::Instant;

use super::error::Error;
use super::identity_center::IdentityCenter;
use super::retry::{Conflicts, Deadline};

/// How to find a group: by its unique display name or by the identifier its external IdP gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupMatcher {
    DisplayName(String),
    ExternalId { issuer: String, id: String },
}

impl fmt::Display for GroupMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupMatcher::DisplayName(name) => write!(f, "with displayName {name:?}"),
            GroupMatcher::ExternalId { issuer, id } => {
                write!(f, "with external id {id:?} from issuer {issuer:?}")
            }
        }
    }
}

/// How to find a user: by its unique userName (Entra's gallery app maps the userPrincipalName to it) or by
/// the identifier its external IdP gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserMatcher {
    UserName(String),
    ExternalId { issuer: String, id: String },
}

impl fmt::Display for UserMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserMatcher::UserName(name) => write!(f, "with userName {name:?}"),
            UserMatcher::ExternalId { issuer, id } => {
                write!(f, "with external id {id:?} from issuer {issuer:?}")
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub identity_store_id: String,
    pub user_id: String,
    pub user_name: Option<String>,
    pub external_ids: Vec<ExternalId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalId {
    pub issuer: String,
    pub id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub identity_store_id: String,
    pub group_id: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub external_ids: Vec<ExternalId>,
}

/// An identifier by a unique attribute: a group's `displayName`, a user's `userName`.
fn unique_attribute(path: &str, value: &str) -> Result<ids::AlternateIdentifier, Error> {
    Ok(ids::AlternateIdentifier::UniqueAttribute(
        ids::UniqueAttribute::builder()
            .attribute_path(path)
            .attribute_value(Document::String(value.to_owned()))
            .build()
            .map_err(|e| Error::InvalidArgument(e.to_string()))?,
    ))
}

/// Backoff of [`IdentityCenter::wait_for_group`]: SCIM provisioning cycles take minutes, so polls start at
/// 2 s and settle at 15 s (well under the shared 20 TPS even with many waiting resources).
const GROUP_POLL_FIRST: Duration = Duration::from_secs(2);
const GROUP_POLL_MAX: Duration = Duration::from_secs(15);

impl IdentityCenter {
    /// The group id, or `None` when no group matches.
    pub async fn get_group_id(
        &self,
        identity_store_id: &str,
        matcher: &GroupMatcher,
        deadline: Deadline,
    ) -> Result<Option<String>, Error> {
        let identifier = match matcher {
            GroupMatcher::DisplayName(name) => unique_attribute("displayName", name)?,
            GroupMatcher::ExternalId { issuer, id } => external_id(issuer, id)?,
        };
        let result = self
            .call("GetGroupId", Conflicts::Fail, deadline, || {
                self.store
                    .get_group_id()
                    .identity_store_id(identity_store_id)
                    .alternate_identifier(identifier.clone())
                    .send()
            })
            .await;
        found_or_none(result.map(|out| out.group_id().to_owned()))
    }

    pub async fn describe_group(
        &self,
        identity_store_id: &str,
        group_id: &str,
        deadline: Deadline,
    ) -> Result<Group, Error> {
        let out = self
            .call("DescribeGroup", Conflicts::Fail, deadline, || {
                self.store
                    .describe_group()
                    .identity_store_id(identity_store_id)
                    .group_id(group_id)
                    .send()
            })
            .await?;
        Ok(Group {
            identity_store_id: out.identity_store_id().to_owned(),
            group_id: out.group_id().to_owned(),
            display_name: out.display_name().map(str::to_owned),
            description: out.description().map(str::to_owned),
            external_ids: external_ids_of(out.external_ids()),
        })
    }

    /// Polls until the group exists (e.g. SCIM provisioning from Entra ID has created it), logging
    /// progress, and fails with [`Error::GroupNotFound`] after `timeout`.
    pub async fn wait_for_group(
        &self,
        identity_store_id: &str,
        matcher: &GroupMatcher,
        timeout: Duration,
    ) -> Result<Group, Error> {
        let deadline = Deadline::after(timeout);
        let group_id = wait_until_found(
            "group",
            identity_store_id,
            &matcher.to_string(),
            deadline,
            || self.get_group_id(identity_store_id, matcher, deadline),
        )
        .await
        .map_err(|waited| {
            waited.into_error(|waited, lookups| Error::GroupNotFound {
                identity_store_id: identity_store_id.to_owned(),
                matcher: matcher.to_string(),
                waited,
                lookups,
            })
        })?;
        self.describe_group(identity_store_id, &group_id, deadline)
            .await
    }

    /// The user id, or `None` when no user matches.
    pub async fn get_user_id(
        &self,
        identity_store_id: &str,
        matcher: &UserMatcher,
        deadline: Deadline,
    ) -> Result<Option<String>, Error> {
        let identifier = match matcher {
            UserMatcher::UserName(name) => unique_attribute("userName", name)?,
            UserMatcher::ExternalId { issuer, id } => external_id(issuer, id)?,
        };
        let result = self
            .call("GetUserId", Conflicts::Fail, deadline, || {
                self.store
                    .get_user_id()
                    .identity_store_id(identity_store_id)
                    .alternate_identifier(identifier.clone())
                    .send()
            })
            .await;
        found_or_none(result.map(|out| out.user_id().to_owned()))
    }

    pub async fn describe_user(
        &self,
        identity_store_id: &str,
        user_id: &str,
        deadline: Deadline,
    ) -> Result<User, Error> {
        let out = self
            .call("DescribeUser", Conflicts::Fail, deadline, || {
                self.store
                    .describe_user()
                    .identity_store_id(identity_store_id)
                    .user_id(user_id)
                    .send()
            })
            .await?;
        Ok(User {
            identity_store_id: out.identity_store_id().to_owned(),
            user_id: out.user_id().to_owned(),
            user_name: out.user_name().map(str::to_owned),
            external_ids: external_ids_of(out.external_ids()),
        })
    }

    /// Polls until the user exists, as [`IdentityCenter::wait_for_group`] does for groups; fails with
    /// [`Error::UserNotFound`] after `timeout`.
    pub async fn wait_for_user(
        &self,
        identity_store_id: &str,
        matcher: &UserMatcher,
        timeout: Duration,
    ) -> Result<User, Error> {
        let deadline = Deadline::after(timeout);
        let user_id = wait_until_found(
            "user",
            identity_store_id,
            &matcher.to_string(),
            deadline,
            || self.get_user_id(identity_store_id, matcher, deadline),
        )
        .await
        .map_err(|waited| {
            waited.into_error(|waited, lookups| Error::UserNotFound {
                identity_store_id: identity_store_id.to_owned(),
                matcher: matcher.to_string(),
                waited,
                lookups,
            })
        })?;
        self.describe_user(identity_store_id, &user_id, deadline)
            .await
    }
}

fn external_id(issuer: &str, id: &str) -> Result<ids::AlternateIdentifier, Error> {
    Ok(ids::AlternateIdentifier::ExternalId(
        ids::ExternalId::builder()
            .issuer(issuer)
            .id(id)
            .build()
            .map_err(|e| Error::InvalidArgument(e.to_string()))?,
    ))
}

/// Why [`wait_until_found`] gave up.
enum Waited {
    Failed(Error),
    Out { waited: Duration, lookups: u32 },
}

impl Waited {
    /// The error to return: the lookup's own, or `timed_out(waited, lookups)` when the time ran out.
    fn into_error(self, timed_out: impl FnOnce(Duration, u32) -> Error) -> Error {
        match self {
            Waited::Failed(error) => error,
            Waited::Out { waited, lookups } => timed_out(waited, lookups),
        }
    }
}

/// A lookup's answer with "no such object" as `None` (GetGroupId/GetUserId answer it with an error).
fn found_or_none<T>(result: Result<T, Error>) -> Result<Option<T>, Error> {
    match result {
        Ok(found) => Ok(Some(found)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

fn external_ids_of(external_ids: &[ids::ExternalId]) -> Vec<ExternalId> {
    external_ids
        .iter()
        .map(|e| ExternalId {
            issuer: e.issuer().to_owned(),
            id: e.id().to_owned(),
        })
        .collect()
}

/// Looks up until `lookup` finds an id, with growing pauses, until the next pause would pass `deadline`.
async fn wait_until_found<F, Fut>(
    noun: &str,
    identity_store_id: &str,
    matcher: &str,
    deadline: Deadline,
    mut lookup: F,
) -> Result<String, Waited>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<String>, Error>>,
{
    let start = Instant::now();
    let mut lookups = 0;
    let mut wait = GROUP_POLL_FIRST;
    loop {
        lookups += 1;
        if let Some(id) = lookup().await.map_err(Waited::Failed)? {
            if lookups > 1 {
                tracing::info!(identity_store_id, matcher, noun, waited = ?start.elapsed(), "appeared in the identity store");
            }
            return Ok(id);
        }
        if Instant::now() + wait >= deadline.instant() {
            return Err(Waited::Out {
                waited: start.elapsed(),
                lookups,
            });
        }
        tracing::info!(
            identity_store_id,
            matcher,
            noun,
            waited = ?start.elapsed(),
            remaining = ?deadline.remaining(),
            "not in the identity store yet; waiting for SCIM provisioning"
        );
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(GROUP_POLL_MAX);
    }
}
