//! The resource's configuration, plan and state as a struct, and what it says about account assignments.

use std::collections::{BTreeMap, BTreeSet};

use crate::framework::Value;
use crate::framework::model::{Attr, Set};
use crate::services::identity_store::IdentityStoreMatch;
use crate::services::principal::EntraPrincipal;
use crate::services::principal_access::PrincipalAccessModel;

/// The user resource's names for the match modes: a user is found by its userName.
pub const USER_NAME: &str = "user_name";

pub fn parse_match(text: &str) -> Option<IdentityStoreMatch> {
    match text {
        USER_NAME => Some(IdentityStoreMatch::DisplayName),
        IdentityStoreMatch::EXTERNAL_ID => Some(IdentityStoreMatch::ExternalId),
        _ => None,
    }
}

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct UserAssignmentModel {
        pub id: Attr<String>,
        pub application_id: Attr<String>,
        pub entra_user_id: Attr<String>,
        pub permission_set_arns: Attr<Set<Attr<String>>>,
        pub account_ids: Attr<Set<Attr<String>>>,
        pub identity_store_match: Attr<String>,
        pub provision_on_demand: Attr<bool>,
        pub adopt_existing: Attr<bool>,
        pub instance_arn: Attr<String>,
        pub app_role_assignment_id: Attr<String>,
        pub identity_store_user_id: Attr<String>,
        pub assignments: Attr<BTreeSet<String>>,
        pub timeouts: Value,
        pub organizational_unit_ids: Attr<Set<Attr<String>>>,
        pub account_tags: Attr<BTreeMap<String, String>>,
        pub exclude_account_ids: Attr<Set<Attr<String>>>,
        pub target_account_ids: Attr<BTreeSet<String>>,
    }
}

impl UserAssignmentModel {
    /// What `import` starts from: the two ids, everything else null for read to fill in.
    pub fn imported(id: &str, application_id: &str, entra_user_id: &str) -> Self {
        Self {
            id: id.into(),
            application_id: application_id.into(),
            entra_user_id: entra_user_id.into(),
            ..Default::default()
        }
    }

    /// `<application_id>/<entra_user_id>` once both are known.
    pub fn composed_id(&self) -> Attr<String> {
        match (self.application_id.as_str(), self.entra_user_id.as_str()) {
            (Some(app), Some(user)) => Attr::Known(format!("{app}/{user}")),
            _ => Attr::unknown(),
        }
    }

    /// The defaults where `given` (the configuration at plan, the state itself after read) has no value.
    fn set_defaults(&mut self, given: &Self) {
        if given.identity_store_match.is_null() {
            self.identity_store_match = USER_NAME.into();
        }
        if given.provision_on_demand.is_null() {
            self.provision_on_demand = Attr::Known(true);
        }
    }
}

impl PrincipalAccessModel for UserAssignmentModel {
    const PRINCIPAL_ATTRIBUTE: &'static str = "entra_user_id";
    const TYPE_NAME: &'static str = super::TYPE_NAME;

    crate::principal_access_attributes!();

    fn principal(&self) -> Option<EntraPrincipal> {
        self.entra_user_id
            .as_str()
            .map(|id| EntraPrincipal::user(id, "entra_user_id"))
    }
    fn store_id(&self) -> &Attr<String> {
        &self.identity_store_user_id
    }
    fn set_store_id(&mut self, id: Attr<String>) {
        self.identity_store_user_id = id;
    }
    fn match_mode(&self) -> IdentityStoreMatch {
        self.identity_store_match
            .as_str()
            .and_then(parse_match)
            .unwrap_or_default()
    }
    fn complete_read(&mut self) {
        self.set_defaults(&self.clone());
        self.id = self.composed_id();
    }
    fn import_id(&self) -> String {
        self.composed_id().into_known().unwrap_or_default()
    }
    fn complete_plan(&mut self, config: &Self, _prior: Option<&Self>) {
        self.set_defaults(config);
        self.id = config.composed_id();
    }
}
