//! The group assignment as the shared principal-access orchestration sees it (`crate::services::principal_access`),
//! organization targets included.

use crate::framework::model::Attr;
use crate::services::identity_store::IdentityStoreMatch;
use crate::services::members::MemberStatus;
use crate::services::principal::EntraPrincipal;
use crate::services::principal_access::PrincipalAccessModel;

use super::model::GroupAssignmentModel;

impl PrincipalAccessModel for GroupAssignmentModel {
    const PRINCIPAL_ATTRIBUTE: &'static str = "entra_group_id";
    const TYPE_NAME: &'static str = super::TYPE_NAME;

    crate::principal_access_attributes!();

    fn principal(&self) -> Option<EntraPrincipal> {
        self.group()
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
    fn complete_read(&mut self) {
        GroupAssignmentModel::complete_read(self);
    }
    fn complete_plan(&mut self, config: &Self, prior: Option<&Self>) {
        GroupAssignmentModel::complete_plan(self, config, prior);
    }
    fn import_id(&self) -> String {
        self.composed_id().into_known().unwrap_or_default()
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
