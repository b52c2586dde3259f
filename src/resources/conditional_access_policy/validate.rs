//! Plan-time checks of `idbridge_conditional_access_policy`. The allowed values are the CSDL's enum members
//! (conditionalAccessPolicyState, conditionalAccessGrantControl, conditionalAccessClientApp) narrowed to what
//! this resource offers, and the special values of conditionalAccessUsers / conditionalAccessLocations from
//! Microsoft's reference pages.

use super::model::ConditionalAccessPolicyModel;
use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};
use crate::helpers::ids::is_object_id;

pub(super) const STATES: [&str; 3] = ["enabled", "disabled", "enabledForReportingButNotEnforced"];
pub(super) const BUILT_IN_CONTROLS: [&str; 4] = [
    "mfa",
    "compliantDevice",
    "domainJoinedDevice",
    "passwordChange",
];
pub(super) const OPERATORS: [&str; 2] = ["OR", "AND"];
pub(super) const CLIENT_APP_TYPES: [&str; 5] = [
    "all",
    "browser",
    "mobileAppsAndDesktopClients",
    "exchangeActiveSync",
    "other",
];
const USER_KEYWORDS: [&str; 3] = ["All", "None", "GuestsOrExternalUsers"];
const LOCATION_KEYWORDS: [&str; 2] = ["All", "AllTrusted"];

fn choices(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn one_of(value: &Value, path: &AttributePath, what: &str, allowed: &[&str]) -> Diagnostics {
    match value.as_str() {
        Some(text) if !allowed.contains(&text) => Diagnostic::error(
            format!("Invalid {what}"),
            format!("{text:?} is not one of {}.", choices(allowed)),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

/// Every known element of a set passes `check`, else one error naming the first that does not.
fn each(
    value: &Value,
    path: &AttributePath,
    summary: &str,
    check: impl Fn(&str) -> Option<String>,
) -> Diagnostics {
    let Some(elements) = value.elements() else {
        return Diagnostics::new();
    };
    match elements.iter().filter_map(Value::as_str).find_map(check) {
        Some(detail) => Diagnostic::error(summary, detail).at(path.clone()).into(),
        None => Diagnostics::new(),
    }
}

pub(super) fn validate_state(value: &Value, path: &AttributePath) -> Diagnostics {
    one_of(value, path, "policy state", &STATES)
}

pub(super) fn validate_operator(value: &Value, path: &AttributePath) -> Diagnostics {
    one_of(value, path, "grant operator", &OPERATORS)
}

pub(super) fn validate_built_in_controls(value: &Value, path: &AttributePath) -> Diagnostics {
    each(value, path, "Invalid grant control", |text| {
        (!BUILT_IN_CONTROLS.contains(&text))
            .then(|| format!("{text:?} is not one of {}.", choices(&BUILT_IN_CONTROLS)))
    })
}

pub(super) fn validate_client_app_types(value: &Value, path: &AttributePath) -> Diagnostics {
    each(value, path, "Invalid client app type", |text| {
        (!CLIENT_APP_TYPES.contains(&text))
            .then(|| format!("{text:?} is not one of {}.", choices(&CLIENT_APP_TYPES)))
    })
}

pub(super) fn validate_user_ids(value: &Value, path: &AttributePath) -> Diagnostics {
    each(value, path, "Invalid user", |text| {
        (!is_object_id(text) && !USER_KEYWORDS.contains(&text)).then(|| {
            format!(
                "{text:?} is neither a user object ID (a GUID) nor one of {}.",
                choices(&USER_KEYWORDS)
            )
        })
    })
}

pub(super) fn validate_group_ids(value: &Value, path: &AttributePath) -> Diagnostics {
    each(value, path, "Invalid group", |text| {
        (!is_object_id(text)).then(|| {
            format!(
                "{text:?} is not a group object ID (a GUID, e.g. `azuread_group.<name>.object_id`)."
            )
        })
    })
}

pub(super) fn validate_location_ids(value: &Value, path: &AttributePath) -> Diagnostics {
    each(value, path, "Invalid named location", |text| {
        (!is_object_id(text) && !LOCATION_KEYWORDS.contains(&text)).then(|| {
            format!(
                "{text:?} is neither a named location ID (a GUID) nor one of {}.",
                choices(&LOCATION_KEYWORDS)
            )
        })
    })
}

/// Checks across attributes: somebody must be included (Graph refuses a policy without users), and `All`/`None`
/// stand alone.
pub(super) fn cross_checks(config: &ConditionalAccessPolicyModel) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    let users = config.include_users.known();
    let groups = config.include_groups.known();
    let users_empty = config.include_users.is_null() || users.is_some_and(|u| u.is_empty());
    let groups_empty = config.include_groups.is_null() || groups.is_some_and(|g| g.is_empty());
    if users_empty && groups_empty {
        diagnostics.push(
            Diagnostic::error(
                "No users in the policy",
                "A Conditional Access policy applies to somebody: set `include_users` (object IDs, or `All`) or \
                 `include_groups`.",
            )
            .at(AttributePath::new("include_users")),
        );
    }
    if let Some(users) = users
        && users.len() > 1
        && let Some(keyword) = ["All", "None"].iter().find(|k| users.contains(**k))
    {
        diagnostics.push(
            Diagnostic::error(
                "Invalid user",
                format!("`{keyword}` stands alone in `include_users`; remove the other entries."),
            )
            .at(AttributePath::new("include_users")),
        );
    }
    diagnostics
}
