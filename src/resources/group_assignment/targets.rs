//! Organization targets: the group's accounts come from `account_ids`, the OUs or root, the account tags and
//! the exclusions; the shared orchestration resolves them again at every plan.

use crate::framework::{Context, Diagnostics};
use crate::helpers::account_targets::check_some_target;
use crate::services::organizations::AccountTargets;
use crate::services::principal_access::plan_targets;

use super::model::GroupAssignmentModel;

impl GroupAssignmentModel {
    /// The configured targets, or `None` while any of them is unknown.
    pub fn account_targets(&self) -> Option<AccountTargets> {
        AccountTargets::from_attributes(
            &self.account_ids,
            &self.organizational_unit_ids,
            &self.account_tags,
            &self.exclude_account_ids,
        )
    }
}

/// At plan: some target is set, and the targets are resolved.
pub(super) async fn plan(
    ctx: &Context,
    config: &GroupAssignmentModel,
    planned: &mut GroupAssignmentModel,
) -> Result<(), Diagnostics> {
    check_some_target(
        !config.account_ids.is_null(),
        !config.organizational_unit_ids.is_null(),
        !config.account_tags.is_null(),
    )?;
    plan_targets(ctx, config, planned).await
}
