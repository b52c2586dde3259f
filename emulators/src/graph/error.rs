//! Graph-shaped error responses.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error Graph would answer with: HTTP status, `error.code`, `error.message`. The `innerError` block (date,
/// request-id, client-request-id) is filled in by the request-context middleware, which knows the request ids.
#[derive(Debug, Clone)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub retry_after: Option<String>,
}

/// Marker left on error responses so the middleware can render the body with the request's ids.
#[derive(Debug, Clone)]
pub struct ErrorMarker {
    pub code: String,
    pub message: String,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        GraphError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    /// Directory objects that do not exist (or have not replicated yet) answer this.
    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// What Graph answers for a directory-object id that is not a GUID (reported in Graph users' issues, e.g.
    /// AzureAD/microsoft-authentication-library-for-dotnet#1321).
    pub fn invalid_object_identifier(id: &str) -> Self {
        Self::bad_request(format!("Invalid object identifier '{id}'."))
    }

    pub fn invalid_json() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    }

    pub fn unauthenticated(message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }
}

pub fn render_body(code: &str, message: &str, request_id: &str, client_request_id: &str) -> String {
    let date = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": date, "request-id": request_id, "client-request-id": client_request_id}
        }
    })
    .to_string()
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let placeholder = uuid::Uuid::new_v4().to_string();
        let mut response = (
            self.status,
            [("content-type", "application/json")],
            render_body(&self.code, &self.message, &placeholder, &placeholder),
        )
            .into_response();
        if let Some(retry_after) = self
            .retry_after
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            response.headers_mut().insert("retry-after", retry_after);
        }
        response.extensions_mut().insert(ErrorMarker {
            code: self.code,
            message: self.message,
        });
        response
    }
}

pub type GraphResult<T = Response> = Result<T, GraphError>;
