//! The typed model of `idbridge_conditional_access_policy` and how Graph's policy maps onto it.

use std::collections::BTreeSet;

use crate::clients::graph::conditional_access::{
    ConditionalAccessApplications, ConditionalAccessConditions, ConditionalAccessGrantControls,
    ConditionalAccessLocations, ConditionalAccessPolicy, ConditionalAccessUsers,
};
use crate::framework::{Attr, Value};

/// What Graph assumes when no client app types are given, and what this resource sends then.
const ALL_CLIENT_APPS: &str = "all";
const DEFAULT_OPERATOR: &str = "OR";

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct ConditionalAccessPolicyModel {
        pub id: Attr<String>,
        pub display_name: Attr<String>,
        pub application_id: Attr<String>,
        pub app_id: Attr<String>,
        pub state: Attr<String>,
        pub include_users: Attr<BTreeSet<String>>,
        pub exclude_users: Attr<BTreeSet<String>>,
        pub include_groups: Attr<BTreeSet<String>>,
        pub exclude_groups: Attr<BTreeSet<String>>,
        pub built_in_controls: Attr<BTreeSet<String>>,
        pub operator: Attr<String>,
        pub include_locations: Attr<BTreeSet<String>>,
        pub exclude_locations: Attr<BTreeSet<String>>,
        pub client_app_types: Attr<BTreeSet<String>>,
        pub timeouts: Value,
    }
}

fn listed(set: &Attr<BTreeSet<String>>) -> Vec<String> {
    set.known().into_iter().flatten().cloned().collect()
}

/// An empty remote list is an unset attribute unless the configuration wrote `[]`.
fn set_like(previous: &Attr<BTreeSet<String>>, remote: &[String]) -> Attr<BTreeSet<String>> {
    if remote.is_empty() && (previous.is_null() || previous.is_unknown()) {
        Attr::Null
    } else {
        Attr::from(remote.iter().cloned().collect::<BTreeSet<_>>())
    }
}

impl ConditionalAccessPolicyModel {
    /// The policy to write for a known plan, targeting `app_id`.
    pub(super) fn desired(&self, app_id: &str) -> ConditionalAccessPolicy {
        let controls = listed(&self.built_in_controls);
        let grant_controls = (!controls.is_empty()).then(|| ConditionalAccessGrantControls {
            operator: Some(
                self.operator
                    .as_str()
                    .unwrap_or(DEFAULT_OPERATOR)
                    .to_string(),
            ),
            built_in_controls: controls,
        });
        let include_locations = listed(&self.include_locations);
        let exclude_locations = listed(&self.exclude_locations);
        let locations = (!include_locations.is_empty() || !exclude_locations.is_empty()).then_some(
            ConditionalAccessLocations {
                include_locations,
                exclude_locations,
            },
        );
        let mut client_app_types = listed(&self.client_app_types);
        if client_app_types.is_empty() {
            client_app_types.push(ALL_CLIENT_APPS.into());
        }
        ConditionalAccessPolicy {
            id: String::new(),
            display_name: self.display_name.as_str().unwrap_or_default().to_string(),
            state: self.state.as_str().unwrap_or_default().to_string(),
            conditions: ConditionalAccessConditions {
                applications: ConditionalAccessApplications {
                    include_applications: vec![app_id.to_string()],
                    exclude_applications: Vec::new(),
                },
                users: ConditionalAccessUsers {
                    include_users: listed(&self.include_users),
                    exclude_users: listed(&self.exclude_users),
                    include_groups: listed(&self.include_groups),
                    exclude_groups: listed(&self.exclude_groups),
                },
                client_app_types,
                locations,
            },
            grant_controls,
        }
    }

    /// The state for what Graph holds. A policy that no longer targets exactly this application's appId shows
    /// `application_id` as unset, so the plan puts the target back.
    pub(super) fn refreshed(
        &self,
        remote: &ConditionalAccessPolicy,
    ) -> ConditionalAccessPolicyModel {
        let conditions = &remote.conditions;
        let app_id = self.app_id.as_str().unwrap_or_default();
        let targets_app = conditions.applications.include_applications == [app_id]
            && conditions.applications.exclude_applications.is_empty();
        let users = &conditions.users;
        let locations = conditions.locations.clone().unwrap_or_default();
        let (operator, controls) = match &remote.grant_controls {
            Some(grant) => (grant.operator.clone(), grant.built_in_controls.clone()),
            None => (None, Vec::new()),
        };
        ConditionalAccessPolicyModel {
            id: remote.id.as_str().into(),
            display_name: remote.display_name.as_str().into(),
            application_id: if targets_app {
                self.application_id.clone()
            } else {
                Attr::Null
            },
            app_id: self.app_id.clone(),
            state: remote.state.as_str().into(),
            include_users: set_like(&self.include_users, &users.include_users),
            exclude_users: set_like(&self.exclude_users, &users.exclude_users),
            include_groups: set_like(&self.include_groups, &users.include_groups),
            exclude_groups: set_like(&self.exclude_groups, &users.exclude_groups),
            built_in_controls: set_like(&self.built_in_controls, &controls),
            operator: Attr::from(operator),
            include_locations: set_like(&self.include_locations, &locations.include_locations),
            exclude_locations: set_like(&self.exclude_locations, &locations.exclude_locations),
            client_app_types: Attr::from(
                conditions
                    .client_app_types
                    .iter()
                    .cloned()
                    .collect::<BTreeSet<_>>(),
            ),
            timeouts: self.timeouts.clone(),
        }
    }
}
