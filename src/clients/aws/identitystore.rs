//! Identity store lookups: finding groups that SCIM provisioning from Entra ID creates, and waiting for
//! them to appear so a permission set can be assigned in the same apply.

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
pub(super) fn unique_attribute(path: &str, value: &str) -> Result<ids::AlternateIdentifier, Error> {
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
            GroupMatcher::ExternalId { issuer, id } => ids::AlternateIdentifier::ExternalId(
                ids::ExternalId::builder()
                    .issuer(issuer)
                    .id(id)
                    .build()
                    .map_err(|e| Error::InvalidArgument(e.to_string()))?,
            ),
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
        match result {
            Ok(out) => Ok(Some(out.group_id().to_owned())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
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
            external_ids: out
                .external_ids()
                .iter()
                .map(|e| ExternalId {
                    issuer: e.issuer().to_owned(),
                    id: e.id().to_owned(),
                })
                .collect(),
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
        let start = Instant::now();
        let deadline = Deadline::after(timeout);
        let mut lookups = 0;
        let mut wait = GROUP_POLL_FIRST;
        loop {
            lookups += 1;
            if let Some(group_id) = self
                .get_group_id(identity_store_id, matcher, deadline)
                .await?
            {
                if lookups > 1 {
                    tracing::info!(identity_store_id, %matcher, waited = ?start.elapsed(), "group appeared in the identity store");
                }
                return self
                    .describe_group(identity_store_id, &group_id, deadline)
                    .await;
            }
            if Instant::now() + wait >= deadline.instant() {
                return Err(Error::GroupNotFound {
                    identity_store_id: identity_store_id.to_owned(),
                    matcher: matcher.to_string(),
                    waited: start.elapsed(),
                    lookups,
                });
            }
            tracing::info!(
                identity_store_id,
                %matcher,
                waited = ?start.elapsed(),
                remaining = ?deadline.remaining(),
                "group not in the identity store yet; waiting for SCIM provisioning"
            );
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(GROUP_POLL_MAX);
        }
    }
}
