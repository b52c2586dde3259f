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
        Ok(serde_json::Value::Object(_)) => inline_policy_size(text)
            .map(|problem| {
                Diagnostic::error("Inline policy too large", problem)
                    .at(path.clone())
                    .into()
            })
            .unwrap_or_default(),
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

/// AWS's limits on a permission set's inline policy ("AWS IAM Identity Center quotas", AWS account quotas:
/// "Maximum size of inline policy per permission set": 32,768 bytes, of which at most 10,240 bytes that are not
/// whitespace; the botocore model's `PermissionSetPolicyDocument` has the same `max` of 32768).
const INLINE_POLICY_MAX_BYTES: usize = 32_768;
const INLINE_POLICY_MAX_NON_WHITESPACE_BYTES: usize = 10_240;

/// Why the policy text is over AWS's size limits, if it is.
fn inline_policy_size(text: &str) -> Option<String> {
    let total = text.len();
    let significant = text
        .bytes()
        .filter(|byte| !byte.is_ascii_whitespace())
        .count();
    if total > INLINE_POLICY_MAX_BYTES {
        return Some(format!(
            "The inline policy is {total} bytes long; IAM Identity Center accepts at most \
             {INLINE_POLICY_MAX_BYTES} bytes per permission set. Move statements into customer managed policies \
             (`customer_managed_policy` blocks) or AWS managed policies."
        ));
    }
    (significant > INLINE_POLICY_MAX_NON_WHITESPACE_BYTES).then(|| {
        format!(
            "The inline policy has {significant} bytes that are not whitespace; IAM Identity Center accepts at \
             most {INLINE_POLICY_MAX_NON_WHITESPACE_BYTES} per permission set. Move statements into customer \
             managed policies (`customer_managed_policy` blocks) or AWS managed policies."
        )
    })
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

#[cfg(test)]
mod inline_policy_size_tests {
    use super::*;

    fn policy_with_resource_of(length: usize, indent: usize) -> String {
        let pad = " ".repeat(indent);
        format!(
            "{{\n{pad}\"Version\": \"2012-10-17\",\n{pad}\"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::{}\"}}]\n}}",
            "b".repeat(length)
        )
    }

    fn summaries(text: &str) -> Vec<String> {
        validate_inline_policy(&Value::from(text), &AttributePath::new("inline_policy"))
            .iter()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect()
    }

    #[test]
    fn whitespace_does_not_count_towards_the_10240_byte_limit() {
        let base = policy_with_resource_of(0, 0);
        let significant = base.bytes().filter(|b| !b.is_ascii_whitespace()).count();
        let at_limit =
            policy_with_resource_of(INLINE_POLICY_MAX_NON_WHITESPACE_BYTES - significant, 0);
        assert!(
            summaries(&at_limit).is_empty(),
            "{:?}",
            summaries(&at_limit)
        );
        // Indentation pushes the text past 10,240 bytes without adding significant ones.
        let indented =
            policy_with_resource_of(INLINE_POLICY_MAX_NON_WHITESPACE_BYTES - significant, 8000);
        assert!(indented.len() > INLINE_POLICY_MAX_NON_WHITESPACE_BYTES);
        assert!(summaries(&indented).is_empty());
        let over =
            policy_with_resource_of(INLINE_POLICY_MAX_NON_WHITESPACE_BYTES - significant + 1, 0);
        let errors = summaries(&over);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("Inline policy too large"),
            "{errors:?}"
        );
        assert!(
            errors[0].contains("10241 bytes that are not whitespace"),
            "{errors:?}"
        );
    }

    #[test]
    fn the_whole_text_is_limited_to_32768_bytes() {
        let huge = policy_with_resource_of(10, INLINE_POLICY_MAX_BYTES);
        let errors = summaries(&huge);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("at most 32768 bytes"), "{errors:?}");
    }
}
