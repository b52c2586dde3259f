//! The plan of a permission set: the defaults AWS applies, shown at plan instead of as a diff after apply,
//! and the prior spelling kept where the configuration means the same.

use crate::clients::aws::DEFAULT_SESSION_DURATION;
use crate::framework::{Attr, Set};

use crate::helpers::equivalent::{same_iso8601_duration, same_json};
use crate::services::permission_sets::DEFAULT_POLICY_PATH;

use super::model::{PermissionSetModel, PolicyReferenceModel};

pub(super) fn modify(
    config: &PermissionSetModel,
    prior: Option<&PermissionSetModel>,
    planned: &mut PermissionSetModel,
) {
    // Every apply leaves the set provisioned everywhere; accounts read as outdated make this an update.
    planned.outdated_accounts = Attr::Known(Set(Vec::new()));
    if config.session_duration.is_null() {
        planned.session_duration = DEFAULT_SESSION_DURATION.into();
    }
    if let Attr::Known(Set(references)) = &mut planned.customer_managed_policy {
        let configured = config
            .customer_managed_policy
            .known()
            .map(|Set(items)| items.as_slice())
            .unwrap_or_default();
        default_paths(configured, references);
    }
    if let Attr::Known(boundary) = &mut planned.permissions_boundary
        && let Attr::Known(reference) = &mut boundary.customer_managed_policy
    {
        let configured = config
            .permissions_boundary
            .known()
            .and_then(|boundary| boundary.customer_managed_policy.known())
            .map(std::slice::from_ref)
            .unwrap_or_default();
        default_paths(configured, std::slice::from_mut(reference));
    }
    // A prior value that means the same is kept: Terraform accepts it as "no change".
    if let Some(prior) = prior {
        keep_equivalent(&mut planned.inline_policy, &prior.inline_policy, same_json);
        keep_equivalent(
            &mut planned.session_duration,
            &prior.session_duration,
            same_iso8601_duration,
        );
    }
}

/// Puts `/` into planned `path`s the configuration leaves out; `configured` are the configuration's
/// references, matched to the planned ones by name.
pub(super) fn default_paths(
    configured: &[PolicyReferenceModel],
    planned: &mut [PolicyReferenceModel],
) {
    for reference in planned {
        if !reference.path.is_unknown() {
            continue;
        }
        let configured_path = configured
            .iter()
            .find(|c| c.name == reference.name)
            .map_or(&Attr::Null, |c| &c.path);
        if configured_path.is_null() {
            reference.path = DEFAULT_POLICY_PATH.into();
        }
    }
}

fn keep_equivalent(planned: &mut Attr<String>, prior: &Attr<String>, same: fn(&str, &str) -> bool) {
    if let (Some(configured), Some(prior)) = (planned.as_str(), prior.as_str())
        && configured != prior
        && same(configured, prior)
    {
        *planned = prior.into();
    }
}
