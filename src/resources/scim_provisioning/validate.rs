//! Plan-time checks of `idbridge_scim_provisioning`'s arguments.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::model::{SCOPE_ALL, SCOPE_ASSIGNED};
use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};

/// AWS SCIM tokens expire; warn this long before.
const EXPIRY_WARNING: time::Duration = time::Duration::days(30);

pub(super) fn validate_scope(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(SCOPE_ASSIGNED | SCOPE_ALL) | None => Diagnostics::new(),
        Some(other) => Diagnostic::error(
            "Invalid scope",
            format!("{other:?} is not a scope; use \"assigned\" (users and groups assigned to the application) or \"all\"."),
        )
        .at(path.clone())
        .into(),
    }
}

pub(super) fn validate_scim_endpoint(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str().map(check_scim_endpoint) {
        Some(Err(problem)) => Diagnostic::error(
            "Invalid SCIM endpoint",
            format!(
                "{problem}. Expected the SCIM endpoint IAM Identity Center shows, \
                 https://scim.<region>.amazonaws.com/<tenant>/scim/v2/ (loopback http(s) URLs such as \
                 http://127.0.0.1:8080/<tenant>/scim/v2/ are accepted for local emulators)."
            ),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

/// `https://scim.<region>.amazonaws.com[.cn]/<tenant>/scim/v2/` (trailing slash optional), or any http(s) URL
/// on a loopback host.
pub(super) fn check_scim_endpoint(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
    let host = url.host_str().unwrap_or_default();
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1");
    if loopback {
        return match url.scheme() {
            "http" | "https" => Ok(()),
            other => Err(format!("{text:?} uses the scheme {other:?}")),
        };
    }
    if url.scheme() != "https" {
        return Err(format!("{text:?} is not an https URL"));
    }
    if url.query().is_some() || url.fragment().is_some() || url.port().is_some() {
        return Err(format!("{text:?} has a port, query or fragment"));
    }
    let region = host.strip_prefix("scim.").and_then(|rest| {
        rest.strip_suffix(".amazonaws.com")
            .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))
    });
    if !region.is_some_and(is_region) {
        return Err(format!(
            "the host {host:?} is not scim.<region>.amazonaws.com"
        ));
    }
    let segments: Vec<&str> = url.path().trim_end_matches('/').split('/').collect();
    match segments.as_slice() {
        ["", tenant, "scim", "v2"]
            if !tenant.is_empty()
                && tenant
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Ok(())
        }
        _ => Err(format!(
            "the path {:?} is not /<tenant>/scim/v2/",
            url.path()
        )),
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `ap-southeast-5`, ...
pub(super) fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

pub(super) fn validate_token_expiry(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(text) => token_expiry_diagnostics(text, OffsetDateTime::now_utc(), path),
        None => Diagnostics::new(),
    }
}

pub(super) fn token_expiry_diagnostics(
    text: &str,
    now: OffsetDateTime,
    path: &AttributePath,
) -> Diagnostics {
    let expires = match OffsetDateTime::parse(text, &Rfc3339) {
        Ok(expires) => expires,
        Err(_) => {
            return Diagnostic::error(
                "Invalid token expiry",
                format!("{text:?} is not an RFC 3339 timestamp such as 2027-01-31T00:00:00Z."),
            )
            .at(path.clone())
            .into();
        }
    };
    if expires <= now {
        Diagnostic::error(
            "SCIM access token expired",
            format!(
                "The SCIM access token expired at {text}; provisioning stops working when it does. Generate a \
                 new token in IAM Identity Center, set it in `scim_token_wo`, change `scim_token_wo_version` and \
                 update `token_expires_at`."
            ),
        )
        .at(path.clone())
        .into()
    } else if expires - now <= EXPIRY_WARNING {
        let days = (expires - now).whole_days();
        Diagnostic::warning(
            "SCIM access token expires soon",
            format!(
                "The SCIM access token expires at {text} (in {days} days). Generate a new token in IAM Identity \
                 Center before then, set it in `scim_token_wo`, change `scim_token_wo_version` and update \
                 `token_expires_at`."
            ),
        )
        .at(path.clone())
        .into()
    } else {
        Diagnostics::new()
    }
}
