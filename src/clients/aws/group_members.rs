//! Identity store users and group memberships: which users SCIM provisioning has put into a group, so an
//! assignment can wait until the group's members are there, not only the group.

use std::collections::BTreeSet;

use aws_sdk_identitystore::types as ids;

use super::error::Error;
use super::identity_center::{IdentityCenter, PAGE_SIZE, next_token};
use super::retry::{Conflicts, Deadline, collect_pages};

impl IdentityCenter {
    /// The user ids that are members of the group (every page of `ListGroupMemberships`).
    pub async fn list_group_member_user_ids(
        &self,
        identity_store_id: &str,
        group_id: &str,
        deadline: Deadline,
    ) -> Result<BTreeSet<String>, Error> {
        let pages = collect_pages(|token| async move {
            let page = self
                .call("ListGroupMemberships", Conflicts::Fail, deadline, || {
                    self.store
                        .list_group_memberships()
                        .identity_store_id(identity_store_id)
                        .group_id(group_id)
                        .max_results(PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            let users: Vec<String> = page
                .group_memberships()
                .iter()
                .filter_map(|m| match m.member_id() {
                    Some(ids::MemberId::UserId(id)) => Some(id.clone()),
                    _ => None,
                })
                .collect();
            Ok((users, next_token(page.next_token())))
        });
        Ok(pages.await?.into_iter().collect())
    }
}
