//! The data source's configuration and result.

use std::collections::{BTreeMap, BTreeSet};

use crate::framework::{Attr, Value};
use crate::services::sign_in::SignInPreview;

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub(super) struct SignInPreviewModel {
        pub id: Attr<String>,
        pub application_id: Attr<String>,
        pub user_principal_name: Attr<String>,
        pub user_id: Attr<String>,
        pub instance_arn: Attr<String>,
        pub name_id: Attr<String>,
        pub claims: Attr<BTreeMap<String, String>>,
        pub identity_store_user_id: Attr<String>,
        pub groups: Attr<BTreeSet<String>>,
        pub access: Attr<BTreeSet<String>>,
        pub problems: Attr<Vec<String>>,
        pub timeouts: Value,
    }
}

impl SignInPreviewModel {
    /// The configuration completed with the preview.
    pub(super) fn with_preview(self, preview: SignInPreview) -> Self {
        let application_id = self.application_id.as_str().unwrap_or_default().to_owned();
        SignInPreviewModel {
            id: format!("{application_id}/{}", preview.user_id).into(),
            user_id: preview.user_id.into(),
            user_principal_name: preview.user_principal_name.into(),
            instance_arn: preview.instance_arn.into(),
            name_id: preview.name_id.into(),
            claims: preview.claims.into(),
            identity_store_user_id: preview.identity_store_user_id.into(),
            groups: preview.groups.into(),
            access: preview.access.into(),
            problems: preview.problems.into(),
            ..self
        }
    }
}
