//! Client errors as diagnostics, in one convention: the summary says what failed, the detail quotes the
//! service's own words as a sentence and adds the hint that usually fixes it (permissions, throttling, timeouts).

use crate::clients::aws::{Error as AwsClientError, ErrorKind};
use crate::clients::graph::GraphError;
use crate::framework::Diagnostic;

/// Error texts of the client layers start lowercase to compose; diagnostics read as sentences.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str().trim_end_matches('.'));
    out.push('.');
    out
}

/// A failed Microsoft Graph call while trying to `action` ("read application …").
pub fn graph_error(action: &str, error: &GraphError) -> Diagnostic {
    let hint = match error.status() {
        Some(401) | Some(403) => {
            " Check that the provider's identity has the Microsoft Graph application permissions the \
             documentation lists (Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All, \
             Synchronization.ReadWrite.All, Policy.ReadWrite.ApplicationConfiguration; GroupMember.Read.All and \
             User.Read.All for members and the sign-in preview; Policy.Read.All and \
             Policy.ReadWrite.ConditionalAccess for Conditional Access) and that admin consent was granted."
        }
        Some(429) | Some(503) => {
            " Microsoft Graph is throttling or busy; retry the apply in a few minutes."
        }
        _ => "",
    };
    Diagnostic::error(
        format!("Failed to {action}"),
        format!("{}{hint}", sentence(&error.to_string())),
    )
}

/// A failed IAM Identity Center / identity store call, summarised as `summary`.
pub fn aws_error(summary: &str, error: &AwsClientError) -> Diagnostic {
    let hint = match error {
        AwsClientError::Api(e) if e.kind == ErrorKind::AccessDenied => {
            " Check that the provider's AWS credentials may call IAM Identity Center (sso:* and identitystore:* \
             actions) in the management or delegated administrator account."
        }
        AwsClientError::DeadlineExceeded { .. } => {
            " AWS kept failing or throttling until the operation's timeout; retry, or raise the `timeouts` \
             value."
        }
        _ => "",
    };
    Diagnostic::error(summary, format!("{}{hint}", sentence(&error.to_string())))
}

/// A failed AWS Organizations read: the organization can only be read from its management account or a
/// delegated administrator, with `organizations:List*` allowed.
pub fn organizations_error(error: &AwsClientError) -> Diagnostic {
    let code = error.aws_error().and_then(|e| e.code.as_deref());
    let hint = match (code, error) {
        (Some("AWSOrganizationsNotInUseException"), _) => {
            " The provider's AWS account is not in an organization: organizational_unit_ids and account_tags \
             need AWS Organizations; use account_ids instead."
        }
        (_, AwsClientError::Api(e)) if e.kind == ErrorKind::AccessDenied => {
            " Organizations can only be read from the management account or a delegated administrator for \
             AWS Organizations, with organizations:ListAccounts, organizations:ListAccountsForParent, \
             organizations:ListOrganizationalUnitsForParent, organizations:DescribeOrganizationalUnit and \
             organizations:ListTagsForResource allowed."
        }
        (
            Some(
                "ParentNotFoundException"
                | "TargetNotFoundException"
                | "OrganizationalUnitNotFoundException",
            ),
            _,
        ) => " Check that the OU and root ids belong to the provider's organization.",
        _ => "",
    };
    Diagnostic::error(
        "Cannot read the AWS organization",
        format!("{}{hint}", sentence(&error.to_string())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_start_upper_case_and_end_with_one_period() {
        assert_eq!(sentence("no such group"), "No such group.");
        assert_eq!(sentence("already a sentence."), "Already a sentence.");
        assert_eq!(sentence(""), ".");
    }

    #[test]
    fn aws_errors_quote_aws_and_add_a_hint() {
        let error = AwsClientError::Api(crate::clients::aws::AwsError::new(
            "ListInstances",
            "AccessDeniedException",
            "not allowed",
            Some(400),
        ));
        let diagnostic = aws_error("Cannot list", &error);
        assert!(
            diagnostic.detail.starts_with(
                "ListInstances failed (AccessDeniedException, HTTP 400): not allowed."
            ),
            "{}",
            diagnostic.detail
        );
        assert!(diagnostic.detail.contains("credentials"));
    }
}
