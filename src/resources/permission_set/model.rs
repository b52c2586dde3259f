//! The permission set as Terraform holds it ([`PermissionSetModel`]), and its conversions to what the
//! configuration asks for ([`Desired`]) and from what AWS holds ([`Remote`]).

use std::collections::{BTreeMap, BTreeSet};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use crate::clients::aws::{
    CustomerManagedPolicyRef, DEFAULT_SESSION_DURATION, PermissionSet, PermissionsBoundary,
};
use crate::framework::{Attr, Set, Value};
use crate::helpers::equivalent::{same_iso8601_duration, same_json};
use crate::services::permission_sets::{Desired, Remote, normalise_ref, policy_ref};

crate::model! {
    /// Everything may be unknown at plan (values from other resources), so every attribute is an [`Attr`]
    /// and set elements are too: a plan decodes and encodes back unchanged.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub(super) struct PermissionSetModel {
        pub id: Attr<String>,
        pub arn: Attr<String>,
        pub instance_arn: Attr<String>,
        pub name: Attr<String>,
        pub description: Attr<String>,
        pub session_duration: Attr<String>,
        pub relay_state: Attr<String>,
        pub managed_policy_arns: Attr<Set<Attr<String>>>,
        pub inline_policy: Attr<String>,
        pub tags: Attr<BTreeMap<String, Attr<String>>>,
        pub adopt_existing: Attr<bool>,
        pub created_date: Attr<String>,
        pub outdated_accounts: Attr<Set<Attr<String>>>,
        pub customer_managed_policy: Attr<Set<PolicyReferenceModel>>,
        pub permissions_boundary: Attr<PermissionsBoundaryModel>,
        pub timeouts: Value,
    }
}

crate::model! {
    /// A `customer_managed_policy` block (of the set, or of the boundary).
    #[derive(Clone, Debug, Default, PartialEq)]
    pub(super) struct PolicyReferenceModel {
        pub name: Attr<String>,
        pub path: Attr<String>,
    }
}

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub(super) struct PermissionsBoundaryModel {
        pub managed_policy_arn: Attr<String>,
        pub customer_managed_policy: Attr<PolicyReferenceModel>,
    }
}

fn owned(text: &Attr<String>) -> Option<String> {
    text.as_str().map(str::to_owned)
}

/// The known elements of a set of strings.
fn known_elements(set: &Attr<Set<Attr<String>>>) -> BTreeSet<String> {
    set.known()
        .map(|Set(items)| items.iter().filter_map(owned).collect())
        .unwrap_or_default()
}

fn string_set<'a>(items: impl IntoIterator<Item = &'a String>) -> Set<Attr<String>> {
    Set(items.into_iter().cloned().map(Attr::Known).collect())
}

impl PolicyReferenceModel {
    fn to_ref(&self) -> Option<CustomerManagedPolicyRef> {
        self.name
            .as_str()
            .map(|name| policy_ref(name, self.path.as_str()))
    }

    fn from_ref(reference: &CustomerManagedPolicyRef) -> Self {
        PolicyReferenceModel {
            name: reference.name.as_str().into(),
            path: reference.path.clone().into(),
        }
    }
}

impl Desired {
    pub(super) fn from_plan(planned: &PermissionSetModel) -> Desired {
        let boundary = planned.permissions_boundary.known().and_then(|boundary| {
            match boundary.managed_policy_arn.as_str() {
                Some(arn) => Some(PermissionsBoundary::ManagedPolicy {
                    arn: arn.to_owned(),
                }),
                None => boundary
                    .customer_managed_policy
                    .known()
                    .and_then(PolicyReferenceModel::to_ref)
                    .map(PermissionsBoundary::CustomerManagedPolicy),
            }
        });
        let customer = planned
            .customer_managed_policy
            .known()
            .map(|Set(items)| {
                items
                    .iter()
                    .filter_map(PolicyReferenceModel::to_ref)
                    .collect()
            })
            .unwrap_or_default();
        let tags = planned
            .tags
            .known()
            .map(|tags| {
                tags.iter()
                    .filter_map(|(key, value)| Some((key.clone(), owned(value)?)))
                    .collect()
            })
            .unwrap_or_default();
        Desired {
            name: owned(&planned.name).unwrap_or_default(),
            description: owned(&planned.description),
            session_duration: owned(&planned.session_duration)
                .unwrap_or_else(|| DEFAULT_SESSION_DURATION.to_owned()),
            relay_state: owned(&planned.relay_state),
            managed: known_elements(&planned.managed_policy_arns),
            customer,
            inline: owned(&planned.inline_policy),
            boundary,
            tags,
        }
    }
}

fn boundary_model(boundary: &Option<PermissionsBoundary>) -> Attr<PermissionsBoundaryModel> {
    match boundary {
        None => Attr::Null,
        Some(PermissionsBoundary::ManagedPolicy { arn }) => Attr::Known(PermissionsBoundaryModel {
            managed_policy_arn: arn.as_str().into(),
            customer_managed_policy: Attr::Null,
        }),
        Some(PermissionsBoundary::CustomerManagedPolicy(reference)) => {
            Attr::Known(PermissionsBoundaryModel {
                managed_policy_arn: Attr::Null,
                customer_managed_policy: Attr::Known(PolicyReferenceModel::from_ref(
                    &normalise_ref(reference.clone()),
                )),
            })
        }
    }
}

pub(super) fn created_date(set: &PermissionSet) -> Attr<String> {
    set.created_epoch_seconds
        .and_then(|s| DateTime::from_secs(s).fmt(Format::DateTime).ok())
        .into()
}

/// The state for what AWS holds, keeping the prior state's spelling wherever it means the same (inline
/// policy text, session duration, empty vs. absent collections).
pub(super) fn state_from_remote(
    prior: &PermissionSetModel,
    instance_arn: &str,
    remote: &Remote,
) -> PermissionSetModel {
    let set = &remote.set;
    let session_duration = match (prior.session_duration.as_str(), &set.session_duration) {
        (Some(old), Some(new)) if same_iso8601_duration(old, new) => old.to_owned(),
        (_, new) => new
            .clone()
            .unwrap_or_else(|| DEFAULT_SESSION_DURATION.to_owned()),
    };
    let inline_policy = match (prior.inline_policy.as_str(), &remote.inline) {
        (Some(old), Some(new)) if same_json(old, new) => Some(old.to_owned()),
        (_, new) => new.clone(),
    };
    let managed_policy_arns = if remote.managed.is_empty() && prior.managed_policy_arns.is_null() {
        Attr::Null
    } else {
        Attr::Known(string_set(&remote.managed))
    };
    let tags = if remote.tags.is_empty() && prior.tags.is_null() {
        Attr::Null
    } else {
        Attr::Known(
            remote
                .tags
                .iter()
                .map(|(key, value)| (key.clone(), value.as_str().into()))
                .collect(),
        )
    };
    let customer = remote.customer.iter().map(PolicyReferenceModel::from_ref);
    PermissionSetModel {
        id: set.arn.as_str().into(),
        arn: set.arn.as_str().into(),
        instance_arn: instance_arn.into(),
        name: set.name.as_str().into(),
        description: set.description.clone().into(),
        session_duration: session_duration.into(),
        relay_state: set.relay_state.clone().into(),
        managed_policy_arns,
        inline_policy: inline_policy.into(),
        tags,
        adopt_existing: prior.adopt_existing.clone(),
        created_date: created_date(set),
        outdated_accounts: Attr::Known(string_set(&remote.outdated_accounts)),
        customer_managed_policy: Attr::Known(Set(customer.collect())),
        permissions_boundary: boundary_model(&remote.boundary),
        timeouts: prior.timeouts.clone(),
    }
}
