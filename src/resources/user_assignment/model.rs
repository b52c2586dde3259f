//! The resource's configuration, plan and state as a struct, and what it says about account assignments.

use std::collections::{BTreeMap, BTreeSet};

use crate::clients::aws::AssignmentTarget;
use crate::framework::Value;
use crate::framework::model::{Attr, Set};
use crate::services::assignments::{parse_target_key, product, target_key};
use crate::services::identity_store::IdentityStoreMatch;
use crate::services::organizations::AccountTargets;
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

    fn principal(&self) -> Option<EntraPrincipal> {
        self.entra_user_id
            .as_str()
            .map(|id| EntraPrincipal::user(id, "entra_user_id"))
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
    fn provision_on_demand(&self) -> bool {
        self.provision_on_demand.known().copied().unwrap_or(true)
    }
    fn desired_targets(&self) -> Option<BTreeSet<AssignmentTarget>> {
        let arns = self.permission_set_arns.wholly_known()?;
        let accounts = self.target_accounts()?;
        Some(product(arns, &accounts))
    }
    fn recorded_targets(&self) -> BTreeSet<AssignmentTarget> {
        self.assignments
            .known()
            .into_iter()
            .flatten()
            .filter_map(|key| parse_target_key(key))
            .collect()
    }
    fn record_targets(&mut self, targets: &BTreeSet<AssignmentTarget>) {
        self.assignments = Attr::Known(targets.iter().map(target_key).collect());
    }
    fn adopt_targets(&mut self, targets: &BTreeSet<AssignmentTarget>) {
        let arns: BTreeSet<&String> = targets.iter().map(|t| &t.permission_set_arn).collect();
        let accounts: BTreeSet<String> = targets.iter().map(|t| t.account_id.clone()).collect();
        self.permission_set_arns = Attr::from_known(arns.into_iter().cloned());
        self.account_ids = Attr::from_known(accounts.iter().cloned());
        self.target_account_ids = Attr::Known(accounts);
    }
    fn complete_read(&mut self) {
        self.set_defaults(&self.clone());
        self.id = self.composed_id();
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
    /// Defaults, the id, and the ids that stay as long as the app role assignment and the provisioned user
    /// do. The targets are the orchestration's (`plan_targets`).
    fn import_id(&self) -> String {
        self.composed_id().into_known().unwrap_or_default()
    }
    // No `adopt_existing` here (yet): a user who already holds the app role is taken over.
    fn adopts_existing(&self) -> bool {
        true
    }
    fn complete_plan(&mut self, config: &Self, prior: Option<&Self>) {
        self.set_defaults(config);
        self.id = config.composed_id();
        if let Some(prior) = prior {
            // When read found the app role assignment gone (null), apply makes a new one.
            let kept = |value: &Attr<String>| {
                if value.is_null() {
                    Attr::unknown()
                } else {
                    value.clone()
                }
            };
            self.app_role_assignment_id = kept(&prior.app_role_assignment_id);
            self.identity_store_user_id = kept(&prior.identity_store_user_id);
        }
    }
}
