//! The data source's configuration and result.

use crate::clients::aws::Instance;
use crate::framework::{Attr, Value};

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub(super) struct SsoInstanceModel {
        pub arn: Attr<String>,
        pub identity_store_id: Attr<String>,
        pub region: Attr<String>,
        pub timeouts: Value,
    }
}

impl SsoInstanceModel {
    /// The configuration completed with the instance found and the region it was found in (null when the
    /// SDK configuration names none).
    pub(super) fn with_instance(self, instance: Instance, region: Option<String>) -> Self {
        SsoInstanceModel {
            arn: instance.instance_arn.into(),
            identity_store_id: instance.identity_store_id.into(),
            region: region.into(),
            ..self
        }
    }
}
