//! The typed model of `idbridge_entra_application` and how Graph's objects map onto it.

use std::collections::{BTreeMap, BTreeSet};

use crate::clients::graph::AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID;
use crate::clients::graph::models::{Application, ServicePrincipal};
use crate::framework::{Attr, Value};

/// The service principal tag that hides the application from users' My Apps portal.
pub(super) const HIDE_APP_TAG: &str = "HideApp";
/// The app roles of the gallery template that assignments use.
const EXPOSED_ROLE_VALUES: [&str; 2] = ["User", "msiam_access"];

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct EntraApplicationModel {
        pub id: Attr<String>,
        pub display_name: Attr<String>,
        pub template_id: Attr<String>,
        pub notes: Attr<String>,
        pub owners: Attr<BTreeSet<String>>,
        pub app_role_assignment_required: Attr<bool>,
        pub hide_from_my_apps: Attr<bool>,
        pub tags: Attr<BTreeSet<String>>,
        pub client_id: Attr<String>,
        pub service_principal_id: Attr<String>,
        pub tenant_id: Attr<String>,
        pub app_role_ids: Attr<BTreeMap<String, String>>,
        pub timeouts: Value,
    }
}

/// Tags as users manage them: the service principal's `HideApp` is its own attribute.
pub(super) fn hide_from_my_apps(service_principal: &ServicePrincipal) -> bool {
    service_principal.tags.iter().any(|tag| tag == HIDE_APP_TAG)
}

/// The service principal tags with `HideApp` added or removed, others kept in place.
pub(super) fn service_principal_tags(current: &[String], hide: bool) -> Vec<String> {
    let mut tags: Vec<String> = current
        .iter()
        .filter(|tag| *tag != HIDE_APP_TAG)
        .cloned()
        .collect();
    if hide {
        tags.push(HIDE_APP_TAG.to_string());
    }
    tags
}

/// App role IDs by value, for the roles group assignments use.
pub(super) fn app_role_ids(application: &Application) -> BTreeMap<String, String> {
    application
        .app_roles
        .iter()
        .filter_map(|role| {
            // The gallery roles of this template have no `value` (null); they are known by display name.
            let value = role.value.as_deref().or(role.display_name.as_deref())?;
            EXPOSED_ROLE_VALUES
                .contains(&value)
                .then(|| (value.to_string(), role.id.clone()))
        })
        .collect()
}

impl EntraApplicationModel {
    /// The state for what Graph reports. `self` (the prior state or the plan) decides how "nothing" is shown:
    /// an unset `notes` or `tags` stays null when the remote value is empty, so that omitting them does not show
    /// a perpetual diff.
    pub(super) fn refreshed(
        &self,
        tenant_id: Option<&str>,
        application: &Application,
        service_principal: &ServicePrincipal,
        owners: Vec<String>,
    ) -> EntraApplicationModel {
        let notes = match application.notes.as_deref() {
            None | Some("") if self.notes.is_null() => Attr::Null,
            other => Attr::Known(other.unwrap_or_default().to_string()),
        };
        let tags = if application.tags.is_empty() && self.tags.is_null() {
            Attr::Null
        } else {
            Attr::Known(application.tags.iter().cloned().collect())
        };
        EntraApplicationModel {
            id: application.id.as_str().into(),
            display_name: application.display_name.as_str().into(),
            template_id: application
                .application_template_id
                .clone()
                .unwrap_or_else(|| AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID.to_string())
                .into(),
            notes,
            owners: Attr::Known(owners.into_iter().collect()),
            app_role_assignment_required: service_principal.app_role_assignment_required.into(),
            hide_from_my_apps: hide_from_my_apps(service_principal).into(),
            tags,
            client_id: application.app_id.as_str().into(),
            service_principal_id: service_principal.id.as_str().into(),
            tenant_id: tenant_id.map(str::to_string).into(),
            app_role_ids: app_role_ids(application).into(),
            timeouts: self.timeouts.clone(),
        }
    }
}
