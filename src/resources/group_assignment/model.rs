//! The resource's configuration, plan and state as a struct, and what it says about account assignments.

use std::collections::{BTreeMap, BTreeSet};

use crate::framework::Value;
use crate::framework::model::{Attr, Set};
use crate::services::identity_store::IdentityStoreMatch;
use crate::services::principal::EntraPrincipal;

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

    /// Fills in what the plan knows before apply beyond the shared attributes: defaults, the id, the members.
    pub fn complete_plan(&mut self, config: &Self, prior: Option<&Self>) {
        if config.identity_store_match.is_null() {
            self.identity_store_match = IdentityStoreMatch::default().as_str().into();
        }
        if config.provision_on_demand.is_null() {
            self.provision_on_demand = Attr::Known(true);
        }
        self.id = config.composed_id();
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
}
