//! Errors of the AWS client layer. API failures keep AWS's own error code and message so that a
//! diagnostic can quote them; everything else says what the client was waiting for.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::clients::error_chain;

/// How an AWS failure is handled by the retry layer and reported to users.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `ThrottlingException`, `TooManyRequestsException` or HTTP 429.
    Throttling,
    /// `ConflictException`: a concurrent operation on the same resource.
    Conflict,
    NotFound,
    AccessDenied,
    Validation,
    QuotaExceeded,
    /// `InternalServerException` or any HTTP 5xx.
    Server,
    /// The request never got a complete answer (connect failure, timeout, broken stream).
    Transport,
    /// Anything else AWS answered; not retried.
    Other,
}

/// One failed AWS API call, as AWS described it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    pub operation: &'static str,
    pub kind: ErrorKind,
    /// AWS's error code, e.g. `ConflictException`; absent when the answer carried none (HTML 500 pages).
    pub code: Option<String>,
    pub message: String,
    pub http_status: Option<u16>,
}

impl AwsError {
    pub fn new(
        operation: &'static str,
        code: &str,
        message: impl Into<String>,
        http_status: Option<u16>,
    ) -> Self {
        Self {
            operation,
            kind: classify(Some(code), http_status),
            code: Some(code.to_owned()),
            message: message.into(),
            http_status,
        }
    }

    pub fn transport(operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            operation,
            kind: ErrorKind::Transport,
            code: None,
            message: message.into(),
            http_status: None,
        }
    }

    /// A response AWS sent that lacks something the client relies on.
    pub fn malformed(operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            operation,
            kind: ErrorKind::Other,
            code: None,
            message: message.into(),
            http_status: None,
        }
    }

    /// Converts an SDK error, keeping the service's code and message and the HTTP status.
    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        match &err {
            SdkError::ServiceError(ctx) => {
                let status = ctx.raw().status().as_u16();
                let service_err = ctx.err();
                let code = service_err.code().map(str::to_owned);
                let message = service_err
                    .message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("HTTP {status}: {}", error_chain(service_err)));
                Self {
                    operation,
                    kind: classify(code.as_deref(), Some(status)),
                    code,
                    message,
                    http_status: Some(status),
                }
            }
            SdkError::ResponseError(ctx) => {
                let status = ctx.raw().status().as_u16();
                Self {
                    operation,
                    kind: classify(None, Some(status)),
                    code: None,
                    message: format!("unreadable HTTP {status} response: {}", error_chain(&err)),
                    http_status: Some(status),
                }
            }
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
                Self::transport(operation, error_chain(&err))
            }
            _ => Self {
                operation,
                kind: ErrorKind::Other,
                code: None,
                message: error_chain(&err),
                http_status: None,
            },
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

fn classify(code: Option<&str>, http_status: Option<u16>) -> ErrorKind {
    match code {
        Some(
            "ThrottlingException"
            | "TooManyRequestsException"
            | "Throttling"
            | "RequestLimitExceeded",
        ) => {
            return ErrorKind::Throttling;
        }
        Some("ConflictException") => return ErrorKind::Conflict,
        Some("ResourceNotFoundException") => return ErrorKind::NotFound,
        Some("AccessDeniedException" | "UnrecognizedClientException" | "ExpiredTokenException") => {
            return ErrorKind::AccessDenied;
        }
        Some("ValidationException") => return ErrorKind::Validation,
        Some("ServiceQuotaExceededException") => return ErrorKind::QuotaExceeded,
        Some("InternalServerException" | "ServiceUnavailableException") => {
            return ErrorKind::Server;
        }
        _ => {}
    }
    match http_status {
        Some(429) => ErrorKind::Throttling,
        Some(500..=599) => ErrorKind::Server,
        _ => ErrorKind::Other,
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.operation)?;
        match (&self.code, self.http_status) {
            (Some(code), Some(status)) => write!(f, " ({code}, HTTP {status})")?,
            (Some(code), None) => write!(f, " ({code})")?,
            (None, Some(status)) => write!(f, " (HTTP {status})")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.message)
    }
}

impl StdError for AwsError {}

/// Every failure of the AWS client layer.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Api(#[from] AwsError),

    #[error(
        "{operation} did not complete within the deadline after {attempts} attempt(s){}",
        last_error.as_ref().map(|e| format!("; last error: {e}")).unwrap_or_default()
    )]
    DeadlineExceeded {
        operation: &'static str,
        attempts: u32,
        last_error: Option<AwsError>,
    },

    #[error("{operation} request {request_id} ended with status FAILED: {reason}")]
    OperationFailed {
        operation: &'static str,
        request_id: String,
        reason: String,
    },

    #[error("{operation} request {request_id} was still IN_PROGRESS when the deadline passed")]
    StillInProgress {
        operation: &'static str,
        request_id: String,
    },

    #[error(
        "no IAM Identity Center instance is visible to these credentials in this region; enable IAM Identity \
         Center in the organization's management (or delegated administrator) account and check the provider's region"
    )]
    NoInstance,

    #[error(
        "{} IAM Identity Center instances are visible ({}); set the instance ARN explicitly",
        instance_arns.len(), instance_arns.join(", ")
    )]
    AmbiguousInstance { instance_arns: Vec<String> },

    #[error(
        "group {matcher} not found in identity store {identity_store_id} after {waited:?} ({lookups} lookups); \
         if it is provisioned by SCIM from Entra ID, check that the group is assigned to the provisioning app \
         and that a provisioning cycle (or provision-on-demand) has run"
    )]
    GroupNotFound {
        identity_store_id: String,
        matcher: String,
        waited: Duration,
        lookups: u32,
    },

    #[error(
        "user {matcher} not found in identity store {identity_store_id} after {waited:?} ({lookups} lookups); \
         if it is provisioned by SCIM from Entra ID, check that the user is assigned to the provisioning app \
         and that a provisioning cycle (or provision-on-demand) has run"
    )]
    UserNotFound {
        identity_store_id: String,
        matcher: String,
        waited: Duration,
        lookups: u32,
    },

    #[error("{operation} returned a response without {missing}")]
    MalformedResponse {
        operation: &'static str,
        missing: &'static str,
    },

    #[error(
        "permission set {permission_set_arn} is still assigned ({}); AWS deletes a permission set only \
         after all its account assignments are deleted: remove these assignments (they are not managed by \
         this configuration, or are still being deleted) and run again",
        assignments.join(", ")
    )]
    PermissionSetAssigned {
        permission_set_arn: String,
        assignments: Vec<String>,
    },

    #[error("invalid AWS settings: {0}")]
    InvalidSettings(String),

    #[error(
        "no AWS credentials were found{}. Tried, in order: the environment (AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY), the shared config and credentials files ({profile}; AWS_CONFIG_FILE, \
         AWS_SHARED_CREDENTIALS_FILE), a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN), \
         container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI) and the EC2 instance metadata \
         service. Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE in the environment, or `profile` \
         (optionally with `assume_role`) in the provider's `aws` block",
        if detail.is_empty() { String::new() } else { format!(" ({detail})") }
    )]
    NoCredentials { profile: String, detail: String },

    #[error(
        "no AWS region is configured: set `region` in the provider's `aws` block, or AWS_REGION (or a region in \
         the shared config file's profile)"
    )]
    NoRegion,

    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// The AWS error behind this failure, if AWS answered at all.
    pub fn aws_error(&self) -> Option<&AwsError> {
        match self {
            Error::Api(e) => Some(e),
            Error::DeadlineExceeded { last_error, .. } => last_error.as_ref(),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api(e) if e.is_not_found())
    }

    /// AWS rejected the input itself (`ValidationException`), e.g. an ARN of an instance it does not know.
    pub fn is_validation(&self) -> bool {
        matches!(self, Error::Api(e) if e.kind == ErrorKind::Validation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_prefers_the_error_code_over_the_status() {
        assert_eq!(
            classify(Some("ThrottlingException"), Some(400)),
            ErrorKind::Throttling
        );
        assert_eq!(
            classify(Some("ConflictException"), Some(409)),
            ErrorKind::Conflict
        );
        assert_eq!(
            classify(Some("ResourceNotFoundException"), Some(400)),
            ErrorKind::NotFound
        );
        assert_eq!(classify(None, Some(429)), ErrorKind::Throttling);
        assert_eq!(classify(None, Some(503)), ErrorKind::Server);
        assert_eq!(
            classify(Some("ValidationException"), Some(400)),
            ErrorKind::Validation
        );
        assert_eq!(classify(Some("SomethingNew"), Some(400)), ErrorKind::Other);
    }

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl StdError for Layer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            self.1
                .as_deref()
                .map(|layer| layer as &(dyn StdError + 'static))
        }
    }

    #[test]
    fn error_chain_says_each_cause_once_and_never_the_debug_form() {
        let error = Layer(
            "dispatch failure",
            Some(Box::new(Layer(
                "io error",
                Some(Box::new(Layer("connection refused", None))),
            ))),
        );
        assert_eq!(
            error_chain(&error),
            "dispatch failure: io error: connection refused"
        );
        let repeated = Layer("connection refused", Some(Box::new(Layer("refused", None))));
        assert_eq!(error_chain(&repeated), "connection refused");
        assert!(!error_chain(&error).contains("Layer("));
    }

    #[test]
    fn display_quotes_code_status_and_message() {
        let e = AwsError::new(
            "CreateAccountAssignment",
            "ConflictException",
            "in progress",
            Some(400),
        );
        assert_eq!(
            e.to_string(),
            "CreateAccountAssignment failed (ConflictException, HTTP 400): in progress"
        );
        let deadline = Error::DeadlineExceeded {
            operation: "X",
            attempts: 3,
            last_error: Some(e),
        };
        assert!(
            deadline
                .to_string()
                .contains("after 3 attempt(s); last error: CreateAccountAssignment failed")
        );
    }
}
