//! The data source's configuration and result.

use crate::clients::aws::Group;
use crate::framework::Attr;

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub(super) struct IdentityStoreGroupModel {
        pub display_name: Attr<String>,
        pub identity_store_id: Attr<String>,
        pub wait_for: Attr<String>,
        pub id: Attr<String>,
        pub group_id: Attr<String>,
        pub description: Attr<String>,
        pub external_id: Attr<ExternalIdModel>,
    }
}

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub(super) struct ExternalIdModel {
        pub issuer: Attr<String>,
        pub id: Attr<String>,
    }
}

impl IdentityStoreGroupModel {
    /// The configuration completed with the group found.
    pub(super) fn with_group(self, group: Group) -> Self {
        IdentityStoreGroupModel {
            identity_store_id: group.identity_store_id.into(),
            group_id: group.group_id.as_str().into(),
            id: group.group_id.into(),
            display_name: group.display_name.into(),
            description: group.description.into(),
            ..self
        }
    }
}
