//! Identity store users as a sign-in preview needs them: the user SCIM created for a `userName`, and the groups
//! it is a member of.

use super::error::Error;
use super::identity_center::{IdentityCenter, PAGE_SIZE, next_token};
use super::identitystore::UserMatcher;
use super::retry::{Conflicts, Deadline, collect_pages};
use aws_sdk_identitystore::types as ids;

impl IdentityCenter {
    /// The id of the user whose `UserName` is `user_name`, or `None` when there is none. AWS's SCIM endpoint
    /// stores the SCIM `userName` as the identity store `UserName`.
    pub async fn get_user_id_by_user_name(
        &self,
        identity_store_id: &str,
        user_name: &str,
        deadline: Deadline,
    ) -> Result<Option<String>, Error> {
        self.get_user_id(
            identity_store_id,
            &UserMatcher::UserName(user_name.to_owned()),
            deadline,
        )
        .await
    }

    /// Ids of the groups the user is a direct member of (`ListGroupMembershipsForMember`, every page).
    pub async fn group_ids_of_user(
        &self,
        identity_store_id: &str,
        user_id: &str,
        deadline: Deadline,
    ) -> Result<Vec<String>, Error> {
        let member = ids::MemberId::UserId(user_id.to_owned());
        collect_pages(|token| {
            let member = member.clone();
            async move {
                let page = self
                    .call(
                        "ListGroupMembershipsForMember",
                        Conflicts::Fail,
                        deadline,
                        || {
                            self.store
                                .list_group_memberships_for_member()
                                .identity_store_id(identity_store_id)
                                .member_id(member.clone())
                                .max_results(PAGE_SIZE)
                                .set_next_token(token.clone())
                                .send()
                        },
                    )
                    .await?;
                let groups = page
                    .group_memberships()
                    .iter()
                    .filter_map(|m| m.group_id().map(str::to_owned))
                    .collect();
                Ok((groups, next_token(page.next_token())))
            }
        })
        .await
    }
}
