//! The group assignment as the shared principal-access orchestration sees it (`crate::services::principal_access`),
//! organization targets included.

use std::collections::BTreeSet;

use crate::clients::aws::AssignmentTarget;
use crate::framework::model::{Attr, Set};
use crate::services::identity_store::IdentityStoreMatch;
use crate::services::members::MemberStatus;
use crate::services::organizations::AccountTargets;
use crate::services::principal::EntraPrincipal;
use crate::services::principal_access::PrincipalAccessModel;

use super::model::GroupAssignmentModel;

impl PrincipalAccessModel for GroupAssignmentModel {
    const PRINCIPAL_ATTRIBUTE: &'static str = "entra_group_id";
    const TYPE_NAME: &'static str = super::TYPE_NAME;

    fn principal(&self) -> Option<EntraPrincipal> {
        self.group()
    }
    fn application_id(&self) -> &Attr<String> {
        &self.application_id
    }
    fn instance_arn(&self) -> &Attr<String> {
        &self.instance_arn
    }
    fn set_instance_arn(&mut self, arn: String) {
        self.instance_arn = arn.into();
    }
    fn app_role_assignment_id(&self) -> &Attr<String> {
        &self.app_role_assignment_id
    }
    fn set_app_role_assignment_id(&mut self, id: Attr<String>) {
        self.app_role_assignment_id = id;
    }
    fn store_id(&self) -> &Attr<String> {
        &self.identity_store_group_id
    }
    fn set_store_id(&mut self, id: Attr<String>) {
        self.identity_store_group_id = id;
    }
    fn match_mode(&self) -> IdentityStoreMatch {
        GroupAssignmentModel::match_mode(self)
    }
    fn provision_on_demand(&self) -> bool {
        self.provision_on_demand.known().copied().unwrap_or(true)
    }
    fn desired_targets(&self) -> Option<BTreeSet<AssignmentTarget>> {
        GroupAssignmentModel::desired_targets(self)
    }
    fn recorded_targets(&self) -> BTreeSet<AssignmentTarget> {
        GroupAssignmentModel::recorded_targets(self)
    }
    fn record_targets(&mut self, targets: &BTreeSet<AssignmentTarget>) {
        GroupAssignmentModel::record_targets(self, targets);
    }
    fn adopt_targets(&mut self, targets: &BTreeSet<AssignmentTarget>) {
        GroupAssignmentModel::adopt_targets(self, targets);
    }
    fn complete_read(&mut self) {
        GroupAssignmentModel::complete_read(self);
    }
    fn account_targets(&self) -> Option<AccountTargets> {
        AccountTargets::from_attributes(
            &self.account_ids,
            &self.organizational_unit_ids,
            &self.account_tags,
            &self.exclude_account_ids,
        )
    }
    fn target_account_ids(&self) -> &Attr<BTreeSet<String>> {
        &self.target_account_ids
    }
    fn set_target_account_ids(&mut self, ids: Attr<BTreeSet<String>>) {
        self.target_account_ids = ids;
    }
    fn clear_assignments(&mut self) {
        self.assignments = Attr::unknown();
    }
    fn permission_set_arns(&self) -> &Attr<Set<Attr<String>>> {
        &self.permission_set_arns
    }
    fn names_some_target(&self) -> bool {
        !(self.account_ids.is_null()
            && self.organizational_unit_ids.is_null()
            && self.account_tags.is_null())
    }
    fn complete_plan(&mut self, config: &Self, prior: Option<&Self>) {
        GroupAssignmentModel::complete_plan(self, config, prior);
    }
    fn import_id(&self) -> String {
        self.composed_id().into_known().unwrap_or_default()
    }
    fn adopts_existing(&self) -> bool {
        self.adopt_existing.known().copied().unwrap_or(false)
    }
    fn provisions_members(&self) -> bool {
        GroupAssignmentModel::provisions_members(self) != Some(false)
    }
    fn record_members(&mut self, status: Option<&MemberStatus>) {
        GroupAssignmentModel::record_members(self, status);
    }
    fn members_are_planned(&self) -> bool {
        self.provisioned_member_count.is_known()
    }
}
