//! Members on demand: the group's direct user members provisioned with it, the pre-flight warnings about the
//! members AWS cannot take, and `provisioned_member_count`/`missing_members`, refreshed at read so that a
//! member added in Entra ID later is drift that the next apply heals.

use std::collections::BTreeSet;

use crate::framework::model::Attr;
use crate::framework::{AttributePath, Context, Diagnostic, Diagnostics};
use crate::helpers::graph_error;
use crate::services::IdbridgeClients;
use crate::services::members::{MemberStatus, mapping_warning, review, warnings};

use super::model::GroupAssignmentModel;

const GROUP_ATTRIBUTE: &str = "entra_group_id";

impl GroupAssignmentModel {
    /// `provision_members`, true unless set to false; `None` while unknown.
    pub fn provisions_members(&self) -> Option<bool> {
        match &self.provision_members {
            Attr::Null => Some(true),
            Attr::Known(on) => Some(*on),
            _ => None,
        }
    }

    /// The plan of the member attributes: what an apply leaves is every eligible member provisioned, so an
    /// earlier read that found some missing plans an update that provisions them.
    pub(super) fn plan_members(&mut self, config: &Self, prior: Option<&Self>) {
        if config.provision_members.is_null() {
            self.provision_members = Attr::Known(true);
        }
        match self.provisions_members() {
            None => {
                self.provisioned_member_count = Attr::unknown();
                self.missing_members = Attr::unknown();
            }
            Some(false) => {
                self.provisioned_member_count = Attr::Null;
                self.missing_members = Attr::Null;
            }
            Some(true) => {
                let settled = prior.filter(|prior| {
                    prior.provisions_members() == Some(true)
                        && prior.provisioned_member_count.is_known()
                        && prior
                            .missing_members
                            .known()
                            .is_some_and(BTreeSet::is_empty)
                });
                match settled {
                    Some(prior) => {
                        self.provisioned_member_count = prior.provisioned_member_count.clone();
                        self.missing_members = prior.missing_members.clone();
                    }
                    // Without provisioning on demand the apply does not wait for the members (they come with
                    // the cycle), so who is still missing is known only after it; later the refreshed values
                    // stand (the cycle, not an apply, brings the rest).
                    None if self.provision_on_demand == Attr::Known(false) => {
                        match prior.filter(|prior| prior.provisioned_member_count.is_known()) {
                            Some(prior) => {
                                self.provisioned_member_count =
                                    prior.provisioned_member_count.clone();
                                self.missing_members = prior.missing_members.clone();
                            }
                            None => {
                                self.provisioned_member_count = Attr::unknown();
                                self.missing_members = Attr::unknown();
                            }
                        }
                    }
                    None => {
                        self.provisioned_member_count = Attr::unknown();
                        self.missing_members = Attr::Known(BTreeSet::new());
                    }
                }
            }
        }
    }

    pub fn record_members(&mut self, status: Option<&MemberStatus>) {
        match status {
            Some(status) => {
                self.provisioned_member_count = Attr::Known(status.member_count as i64);
                self.missing_members = Attr::Known(status.missing.clone());
            }
            None => {
                self.provisioned_member_count = Attr::Null;
                self.missing_members = Attr::Null;
            }
        }
    }
}

/// Plan: warn about the members provisioning will not bring to AWS, naming them. An unknown group id (made in
/// the same apply) or an unconfigured provider is checked at apply; a group that does not exist is an error.
pub(super) async fn preflight(
    ctx: &Context,
    config: &GroupAssignmentModel,
) -> Result<(), Diagnostics> {
    let Some(group_id) = config.entra_group_id.as_str() else {
        return Ok(());
    };
    let Ok(clients) = IdbridgeClients::from_context(ctx) else {
        return Ok(());
    };
    let Ok(graph) = clients.graph().await else {
        return Ok(());
    };
    if let Some(application_id) = config.application_id.as_str() {
        // Advisory: a job that cannot be read now is reported by apply.
        if let Ok(multi_valued) = clients
            .caches()
            .members
            .multi_valued_mappings(ctx, &graph, application_id)
            .await
            && let Some(warning) =
                mapping_warning(&multi_valued, &AttributePath::new("application_id"))
        {
            ctx.add_diagnostic(warning);
        }
    }
    let path = AttributePath::new(GROUP_ATTRIBUTE);
    match clients
        .caches()
        .members
        .group_members(&graph, group_id)
        .await
    {
        Ok(members) => {
            for warning in warnings(&members, &review(&members), &path) {
                ctx.add_diagnostic(warning);
            }
            Ok(())
        }
        Err(e) if e.is_not_found() => {
            Err(graph_error("read the Entra ID group", &e).at(path).into())
        }
        Err(e) => {
            ctx.add_diagnostic(
                Diagnostic::warning(
                    "Cannot check the group's members",
                    format!(
                        "The members of the Entra ID group could not be read at plan ({e}); apply provisions \
                         them all the same. The provider's identity needs GroupMember.Read.All (or \
                         Group.Read.All) to read them."
                    ),
                )
                .at(path),
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_members(count: i64, missing: &[&str]) -> GroupAssignmentModel {
        GroupAssignmentModel {
            provision_members: Attr::Known(true),
            provisioned_member_count: Attr::Known(count),
            missing_members: Attr::Known(missing.iter().map(|m| m.to_string()).collect()),
            ..Default::default()
        }
    }

    fn planned(
        config: &GroupAssignmentModel,
        prior: Option<&GroupAssignmentModel>,
    ) -> GroupAssignmentModel {
        let mut planned = GroupAssignmentModel {
            provisioned_member_count: Attr::unknown(),
            missing_members: Attr::unknown(),
            ..config.clone()
        };
        planned.plan_members(config, prior);
        planned
    }

    #[test]
    fn a_create_plans_every_member_provisioned() {
        let plan = planned(&GroupAssignmentModel::default(), None);
        assert_eq!(plan.provision_members, Attr::Known(true));
        assert!(plan.provisioned_member_count.is_unknown());
        assert_eq!(plan.missing_members, Attr::Known(BTreeSet::new()));
    }

    #[test]
    fn settled_members_plan_no_change_and_missing_ones_plan_an_update() {
        let settled = with_members(10, &[]);
        let plan = planned(&GroupAssignmentModel::default(), Some(&settled));
        assert_eq!(plan.provisioned_member_count, Attr::Known(10));
        assert_eq!(plan.missing_members, settled.missing_members);

        let drifted = with_members(10, &["late@example.com"]);
        let plan = planned(&GroupAssignmentModel::default(), Some(&drifted));
        assert!(plan.provisioned_member_count.is_unknown());
        assert_eq!(plan.missing_members, Attr::Known(BTreeSet::new()));
    }

    #[test]
    fn without_member_provisioning_the_member_attributes_are_null_or_unknown() {
        let off = GroupAssignmentModel {
            provision_members: Attr::Known(false),
            ..Default::default()
        };
        let plan = planned(&off, Some(&with_members(3, &["x"])));
        assert!(plan.provisioned_member_count.is_null() && plan.missing_members.is_null());
        let unknown = GroupAssignmentModel {
            provision_members: Attr::unknown(),
            ..Default::default()
        };
        let plan = planned(&unknown, None);
        assert!(plan.provisioned_member_count.is_unknown() && plan.missing_members.is_unknown());
    }
}
