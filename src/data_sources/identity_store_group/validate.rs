//! Which group the configuration selects, and the `wait_for` duration.

use crate::clients::aws::GroupMatcher;
use crate::framework::schema::parse_duration;
use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};

use super::model::IdentityStoreGroupModel;

/// The group to look for, or why the configuration does not say.
pub(super) fn matcher(
    config: &IdentityStoreGroupModel,
) -> Result<Option<GroupMatcher>, Diagnostic> {
    let display_name = &config.display_name;
    let external_id = &config.external_id;
    if display_name.is_unknown() || external_id.is_unknown() {
        return Ok(None);
    }
    match (display_name.as_str(), external_id.known()) {
        (Some(_), Some(_)) => Err(Diagnostic::error(
            "Conflicting group selectors",
            "Set either `display_name` or an `external_id` block, not both.",
        )
        .at(AttributePath::new("display_name"))),
        (Some(name), None) => Ok(Some(GroupMatcher::DisplayName(name.to_owned()))),
        (None, Some(external_id)) => match (external_id.issuer.as_str(), external_id.id.as_str()) {
            (Some(issuer), Some(id)) => Ok(Some(GroupMatcher::ExternalId {
                issuer: issuer.to_owned(),
                id: id.to_owned(),
            })),
            _ => Ok(None),
        },
        (None, None) => Err(Diagnostic::error(
            "Missing group selector",
            "Set `display_name` (the group's name in the identity store) or an `external_id` block (the \
             identifier its identity provider gave it).",
        )),
    }
}

pub(super) fn validate_wait_for(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str().map(parse_duration) {
        Some(Err(message)) => Diagnostic::error("Invalid wait_for", message)
            .at(path.clone())
            .into(),
        _ => Diagnostics::new(),
    }
}
