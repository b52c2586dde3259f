//! The resource's configuration, plan and state as a struct, and what it says about account assignments.

use std::collections::{BTreeMap, BTreeSet};

use crate::clients::aws::AssignmentTarget;
use crate::framework::Value;
use crate::framework::model::{Attr, Set};
use crate::services::assignments::{parse_target_key, product, target_key};
use crate::services::identity_store::IdentityStoreMatch;
use crate::services::principal::EntraPrincipal;
use crate::services::principal_access::PrincipalAccessModel;

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct GroupAssignmentModel {
        pub id: Attr<String>,
        pub application_id: Attr<String>,
        pub entra_group_id: Attr<String>,
        pub permission_set_arns: Attr<Set<Attr<String>>>,
        pub account_ids: Attr<Set<Attr<String>>>,
        pub identity_store_match: Attr<String>,
        pub provision_on_demand: Attr<bool>,
        pub adopt_existing: Attr<bool>,
        pub instance_arn: Attr<String>,
        pub app_role_assignment_id: Attr<String>,
        pub identity_store_group_id: Attr<String>,
        pub assignments: Attr<BTreeSet<String>>,
        pub timeouts: Value,
        // Organization targets (targets.rs).
        pub organizational_unit_ids: Attr<Set<Attr<String>>>,
        pub account_tags: Attr<BTreeMap<String, String>>,
        pub exclude_account_ids: Attr<Set<Attr<String>>>,
        pub target_account_ids: Attr<BTreeSet<String>>,
        // Members on demand (members.rs).
        pub provision_members: Attr<bool>,
        pub provisioned_member_count: Attr<i64>,
        pub missing_members: Attr<BTreeSet<String>>,
    }
}

impl GroupAssignmentModel {
    /// What `import` starts from: the two ids, everything else null for read to fill in.
    pub fn imported(id: &str, application_id: &str, entra_group_id: &str) -> Self {
        Self {
            id: id.into(),
            application_id: application_id.into(),
            entra_group_id: entra_group_id.into(),
            ..Default::default()
        }
    }

    /// `<application_id>/<entra_group_id>` once both are known.
    pub fn composed_id(&self) -> Attr<String> {
        match (self.application_id.as_str(), self.entra_group_id.as_str()) {
            (Some(app), Some(group)) => Attr::Known(format!("{app}/{group}")),
            _ => Attr::unknown(),
        }
    }

    pub fn group(&self) -> Option<EntraPrincipal> {
        self.entra_group_id
            .as_str()
            .map(|id| EntraPrincipal::group(id, "entra_group_id"))
    }

    /// The match mode; `display_name` until the plan has set the default.
    pub fn match_mode(&self) -> IdentityStoreMatch {
        self.identity_store_match
            .as_str()
            .and_then(IdentityStoreMatch::parse)
            .unwrap_or_default()
    }

    /// The permission-set × target account product, or `None` while either is unknown (even partly) or null.
    pub fn desired_targets(&self) -> Option<BTreeSet<AssignmentTarget>> {
        let arns = self.permission_set_arns.wholly_known()?;
        let accounts = self.target_accounts()?;
        Some(product(arns, &accounts))
    }

    /// The assignments an earlier apply or read recorded.
    pub fn recorded_targets(&self) -> BTreeSet<AssignmentTarget> {
        self.assignments
            .known()
            .into_iter()
            .flatten()
            .filter_map(|key| parse_target_key(key))
            .collect()
    }

    pub fn record_targets(&mut self, targets: &BTreeSet<AssignmentTarget>) {
        self.assignments = Attr::Known(targets.iter().map(target_key).collect());
    }

    /// Fills in what the plan knows before apply: defaults, the id, the assignments the configuration asks
    /// for, and the ids that stay as long as the app role assignment and the provisioned group do.
    pub fn complete_plan(&mut self, config: &Self, prior: Option<&Self>) {
        if config.identity_store_match.is_null() {
            self.identity_store_match = IdentityStoreMatch::default().as_str().into();
        }
        if config.provision_on_demand.is_null() {
            self.provision_on_demand = Attr::Known(true);
        }
        self.id = config.composed_id();
        match config.desired_targets() {
            Some(targets) => self.record_targets(&targets),
            None => self.assignments = Attr::unknown(),
        }
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
            self.identity_store_group_id = kept(&prior.identity_store_group_id);
        }
        self.plan_members(config, prior);
    }

    /// After read: defaults a resource imported or written by an older version lacks, and the id.
    pub fn complete_read(&mut self) {
        if self.identity_store_match.is_null() {
            self.identity_store_match = IdentityStoreMatch::default().as_str().into();
        }
        if self.provision_on_demand.is_null() {
            self.provision_on_demand = Attr::Known(true);
        }
        if self.provision_members.is_null() {
            self.provision_members = Attr::Known(true);
        }
        self.id = self.composed_id();
    }

    /// An import's permission sets and accounts, from the assignments the group has.
    pub fn adopt_targets(&mut self, targets: &BTreeSet<AssignmentTarget>) {
        let arns: BTreeSet<&String> = targets.iter().map(|t| &t.permission_set_arn).collect();
        let accounts: BTreeSet<&String> = targets.iter().map(|t| &t.account_id).collect();
        self.permission_set_arns = Attr::from_known(arns.into_iter().cloned());
        self.account_ids = Attr::from_known(accounts.iter().map(|a| (*a).clone()));
        self.target_account_ids = Attr::Known(accounts.into_iter().cloned().collect());
    }
}
