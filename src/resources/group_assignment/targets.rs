//! Organization targets: which accounts the group is assigned in, from `account_ids`, the OUs or root, the
//! account tags and the exclusions, resolved again at every plan so the assignment follows the organization.

use std::collections::BTreeSet;

use crate::clients::aws::Deadline;
use crate::framework::model::Attr;
use crate::framework::{Context, Diagnostics};
use crate::helpers::account_targets::check_some_target;
use crate::services::organizations::{AccountTargets, resolve_account_targets};

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

    /// The accounts assigned in: what the last plan resolved, else (a state of an earlier version, or before
    /// any plan) the account ids alone when no organization target is set.
    pub fn target_accounts(&self) -> Option<BTreeSet<String>> {
        if let Some(resolved) = self.target_account_ids.known() {
            return Some(resolved.clone());
        }
        let targets = self.account_targets()?;
        (!targets.needs_organization()).then(|| targets.explicit())
    }
}

/// At plan: some target is set, and `target_account_ids` and `assignments` are what the organization says now.
pub(super) async fn plan_targets(
    ctx: &Context,
    config: &GroupAssignmentModel,
    planned: &mut GroupAssignmentModel,
) -> Result<(), Diagnostics> {
    check_some_target(
        !config.account_ids.is_null(),
        !config.organizational_unit_ids.is_null(),
        !config.account_tags.is_null(),
    )?;
    let Some(targets) = config.account_targets() else {
        planned.target_account_ids = Attr::unknown();
        planned.assignments = Attr::unknown();
        return Ok(());
    };
    let resolved = resolve_account_targets(ctx, &targets, Deadline::after(ctx.remaining())).await?;
    planned.target_account_ids = Attr::Known(resolved);
    match planned.desired_targets() {
        Some(desired) => planned.record_targets(&desired),
        None => planned.assignments = Attr::unknown(),
    }
    Ok(())
}
