//! Checks of values whose shape AWS defines, for any resource that takes them: session durations, AWS managed
//! policy ARNs, inline policy documents and string lengths. Each error names the attribute it is given.

use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};
use crate::helpers::equivalent::parse_iso8601_duration;

const MIN_SESSION_SECONDS: u64 = 15 * 60;
const MAX_SESSION_SECONDS: u64 = 12 * 3600;

pub fn validate_session_duration(value: &Value, path: &AttributePath) -> Diagnostics {
    let Some(text) = value.as_str() else {
        return Diagnostics::new();
    };
    match parse_iso8601_duration(text) {
        Err(message) => Diagnostic::error("Invalid session duration", message)
            .at(path.clone())
            .into(),
        Ok(seconds) if !(MIN_SESSION_SECONDS..=MAX_SESSION_SECONDS).contains(&seconds) => {
            Diagnostic::error(
                "Session duration out of range",
                format!(
                    "{text:?} is {}; IAM Identity Center allows from 15 minutes (\"PT15M\") to 12 hours \
                     (\"PT12H\").",
                    human_duration(seconds)
                ),
            )
            .at(path.clone())
            .into()
        }
        Ok(_) => Diagnostics::new(),
    }
}

fn human_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m, s) {
        (h, 0, 0) => format!("{h} hour(s)"),
        (0, m, 0) => format!("{m} minute(s)"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

/// `arn:<partition>:iam::aws:policy/<optional path/><name>`: the shape of an AWS managed policy ARN.
pub fn is_aws_managed_policy_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some(name) = rest.strip_prefix("iam::aws:policy/") else {
        return false;
    };
    let partition_ok = !partition.is_empty()
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && partition.starts_with("aws");
    let name_ok = !name.is_empty()
        && !name.ends_with('/')
        && !name.contains("//")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c));
    partition_ok && name_ok
}

pub fn validate_managed_policy_arn(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(arn) if !is_aws_managed_policy_arn(arn) => Diagnostic::error(
            "Invalid AWS managed policy ARN",
            format!(
                "{arn:?} is not an AWS managed policy ARN. They look like \
                 \"arn:aws:iam::aws:policy/ReadOnlyAccess\" or \"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess\"; \
                 attach policies of your own accounts with a `customer_managed_policy` block instead."
            ),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

pub fn validate_managed_policy_arns(value: &Value, path: &AttributePath) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for element in value.iter().filter(|v| v.is_present()) {
        // Set elements have no index; Terraform highlights the set.
        diags.extend(validate_managed_policy_arn(element, path));
    }
    diags
}

pub fn validate_inline_policy(value: &Value, path: &AttributePath) -> Diagnostics {
    let Some(text) = value.as_str() else {
        return Diagnostics::new();
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => Diagnostics::new(),
        Ok(_) => Diagnostic::error(
            "Invalid inline policy",
            "The inline policy must be a JSON object (an IAM policy document with `Version` and `Statement`); \
             `jsonencode({...})` or `data.aws_iam_policy_document.x.json` produce one.",
        )
        .at(path.clone())
        .into(),
        Err(e) => Diagnostic::error(
            "Invalid inline policy",
            format!(
                "The inline policy is not valid JSON: {e}. Build it with `jsonencode({{...}})` to avoid syntax \
                 mistakes."
            ),
        )
        .at(path.clone())
        .into(),
    }
}

pub fn validate_length(
    what: &'static str,
    min: usize,
    max: usize,
) -> impl Fn(&Value, &AttributePath) -> Diagnostics {
    move |value, path| match value.as_str().map(|s| s.chars().count()) {
        Some(n) if n < min || n > max => Diagnostic::error(
            format!("Invalid {what}"),
            format!("The {what} must be {min} to {max} characters long; it is {n}."),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

/// Session tag keys (sso-admin `AccessControlAttribute.Key`, the same keys SAML `AccessControl:<key>` attributes
/// carry): 1 to 128 letters, digits, spaces and `_ . : / = + - @`. What is wrong with `key`, or `None`.
pub fn session_tag_key_problem(key: &str) -> Option<String> {
    const MAX_KEY_LENGTH: usize = 128;
    if key.is_empty() {
        Some("must not be empty".to_string())
    } else if key.chars().count() > MAX_KEY_LENGTH {
        Some(format!("is longer than {MAX_KEY_LENGTH} characters"))
    } else {
        key.chars()
            .find(|c| !(c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(*c)))
            .map(|c| {
                format!("contains {c:?}; keys may hold letters, digits, spaces and _ . : / = + - @")
            })
    }
}
