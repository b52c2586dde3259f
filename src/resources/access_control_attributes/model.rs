//! The typed model of `idbridge_access_control_attributes` and how AWS's configuration maps onto it.

use crate::clients::aws::{AccessControlAttribute, AccessControlConfiguration};
use crate::framework::{Attr, Set, Value};

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct AttributeModel {
        pub key: Attr<String>,
        pub source: Attr<Vec<String>>,
    }
}

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct AccessControlAttributesModel {
        pub id: Attr<String>,
        pub instance_arn: Attr<String>,
        pub status: Attr<String>,
        pub attribute: Set<AttributeModel>,
        pub timeouts: Value,
    }
}

impl AccessControlAttributesModel {
    /// The attributes to send, sorted by key; only called with a known plan.
    pub(super) fn desired(&self) -> Vec<AccessControlAttribute> {
        let mut attributes: Vec<AccessControlAttribute> = self
            .attribute
            .0
            .iter()
            .map(|a| AccessControlAttribute {
                key: a.key.as_str().unwrap_or_default().to_string(),
                sources: a.source.known().cloned().unwrap_or_default(),
            })
            .collect();
        attributes.sort();
        attributes
    }

    /// The state for what AWS holds for `instance_arn`.
    pub(super) fn refreshed(
        &self,
        instance_arn: &str,
        remote: &AccessControlConfiguration,
    ) -> AccessControlAttributesModel {
        let mut attributes = remote.attributes.clone();
        attributes.sort();
        AccessControlAttributesModel {
            id: instance_arn.into(),
            instance_arn: instance_arn.into(),
            status: remote.status.clone().into(),
            attribute: Set(attributes
                .into_iter()
                .map(|a| AttributeModel {
                    key: a.key.into(),
                    source: a.sources.into(),
                })
                .collect()),
            timeouts: self.timeouts.clone(),
        }
    }
}
