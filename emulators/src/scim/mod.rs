//! Stand-in for the AWS IAM Identity Center SCIM endpoint (`https://scim.<region>.amazonaws.com/<tenant>/scim/v2/`):
//! SCIM 2.0 Users and Groups with AWS's documented limitations, bearer-token auth, and the data written into
//! identitystore through the AWS API so sso-admin/identitystore callers see what a provisioning engine pushed.

mod filter;
mod listing;
mod patch;
mod resources;
mod schemas;
mod store;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::served::ServedApp;

use resources::Extras;
use store::Store;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// The `Issuer` of the identitystore `ExternalIds` that the SCIM `externalId` becomes. AWS does not document its
/// value; identitystore answers for SCIM-provisioned users and groups seen in public code carry issuers starting
/// with `https://scim.aws.com/`, so the stand-in uses that prefix followed by its tenant id.
pub fn external_id_issuer(tenant_id: &str) -> String {
    format!("https://scim.aws.com/{tenant_id}")
}
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Tenant and token the endpoint accepts (AWS shows both in the console when automatic provisioning is enabled).
#[derive(Clone)]
pub struct ScimConfig {
    pub tenant_id: String,
    pub token: String,
    pub region: String,
    /// Requests per second the endpoint answers before it throttles with HTTP 429 (`ThrottlingException`, in
    /// every operation's error table of the guide); `None` (the default) never throttles. AWS does not publish
    /// the SCIM rate, so tests choose one to drive a client's backoff and quarantine paths.
    pub requests_per_second: Option<u32>,
}

impl Default for ScimConfig {
    fn default() -> ScimConfig {
        let token: String = (0..3)
            .map(|_| uuid::Uuid::new_v4().simple().to_string())
            .collect();
        ScimConfig {
            tenant_id: uuid::Uuid::new_v4().to_string(),
            token,
            region: "us-east-1".into(),
            requests_per_second: None,
        }
    }
}

impl fmt::Debug for ScimConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ScimConfig")
            .field("tenant_id", &self.tenant_id)
            .field("token", &"<redacted>")
            .field("region", &self.region)
            .field("requests_per_second", &self.requests_per_second)
            .finish()
    }
}

/// A SCIM error as AWS's endpoint answers it. RFC 7644 §3.12 defines `schemas`, `status`, `scimType` and `detail`;
/// AWS's answers (quoted in public bug reports, e.g. slashdevops/idp-scim-sync#30 and #45) carry `schema` (sic),
/// `detail`, `status`, `exceptionRequestId` and `timeStamp`, and no `scimType`.
#[derive(Debug, Clone)]
pub struct ScimError {
    pub status: u16,
    pub detail: String,
}

/// The `detail` AWS gives every `ValidationException` (slashdevops/idp-scim-sync#30, awslabs/ssosync#71).
pub const VALIDATION_DETAIL: &str =
    "Request is unparsable, syntactically incorrect, or violates schema.";
/// The `detail` AWS gives a `ConflictException` (slashdevops/idp-scim-sync#45; AWS re:Post "Refused to create a
/// new, duplicate resource").
pub const DUPLICATE_DETAIL: &str = "Refused to create a new, duplicate resource.";

impl ScimError {
    pub fn new(status: u16, detail: impl Into<String>) -> ScimError {
        ScimError {
            status,
            detail: detail.into(),
        }
    }
    /// `ValidationException` (HTTP 400): "Request cannot be parsed, is syntactically incorrect, or violates schema.
    /// This error also occurs if the operation is unsupported." (the guide's error table of every operation).
    /// AWS's detail is always the same sentence; the reason follows it so tests and logs can tell cases apart.
    pub fn validation(reason: impl std::fmt::Display) -> ScimError {
        ScimError::new(400, format!("{VALIDATION_DETAIL} {reason}"))
    }
    /// `ConflictException` (HTTP 409): "User already exists." / "Group already exists.".
    pub fn conflict(reason: impl std::fmt::Display) -> ScimError {
        ScimError::new(409, format!("{DUPLICATE_DETAIL} {reason}"))
    }
    pub fn not_found(detail: impl Into<String>) -> ScimError {
        ScimError::new(404, detail)
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let body = json!({
            "schema": [ERROR_SCHEMA],
            "detail": self.detail,
            "status": self.status.to_string(),
            "exceptionRequestId": uuid::Uuid::new_v4().to_string(),
            "timeStamp": error_time_stamp(SystemTime::now()),
        });
        let mut response = scim_response(
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &body,
        );
        if self.status == 429 {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// `2022-01-26 16:50:48.135`: UTC with milliseconds, the form of AWS's `timeStamp`.
fn error_time_stamp(time: SystemTime) -> String {
    let millis = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| since.as_millis())
        .unwrap_or_default();
    let seconds = (millis / 1000) as i64;
    let formatted = aws_smithy_types::DateTime::from_secs(seconds)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default();
    // `2022-01-26T16:50:48Z` → `2022-01-26 16:50:48.135`
    format!(
        "{}.{:03}",
        formatted.trim_end_matches('Z').replacen('T', " ", 1),
        millis % 1000
    )
}

pub(crate) fn scim_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SCIM_CONTENT_TYPE),
    );
    response
}

struct Scim {
    config: ScimConfig,
    endpoint: String,
    /// See [`external_id_issuer`].
    issuer: String,
    store: Store,
    /// SCIM attributes identitystore's API cannot hold (externalId, active, enterprise extension, meta), by id.
    extras: Mutex<HashMap<String, Extras>>,
    throttle: Option<Mutex<TokenBucket>>,
}

impl Scim {
    fn extras(&self) -> MutexGuard<'_, HashMap<String, Extras>> {
        self.extras
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `false` when the request is over the configured rate.
    fn admit(&self) -> bool {
        self.throttle.as_ref().is_none_or(|bucket| {
            bucket
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take(Instant::now())
        })
    }
}

/// A token bucket holding one second's worth of requests, refilled continuously.
#[derive(Debug)]
struct TokenBucket {
    per_second: f64,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    fn new(per_second: u32) -> TokenBucket {
        let per_second = f64::from(per_second.max(1));
        TokenBucket {
            per_second,
            tokens: per_second,
            refilled: Instant::now(),
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.per_second);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A running SCIM endpoint; stops on [`RunningScim::stop`] or drop.
pub struct RunningScim {
    pub base_url: String,
    /// The SCIM base address as AWS shows it: `<base_url>/<tenant_id>/scim/v2/`.
    pub endpoint: String,
    pub token: String,
    pub tenant_id: String,
    /// The `Issuer` of the `ExternalIds` this endpoint gives what it provisions ([`external_id_issuer`]).
    pub external_id_issuer: String,
    server: ServedApp,
}

impl fmt::Debug for RunningScim {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RunningScim")
            .field("endpoint", &self.endpoint)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl RunningScim {
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// Starts the endpoint on a free 127.0.0.1 port. `aws_endpoint` is where identitystore/sso-admin answer: the
/// AWS-faithful proxy (moto alone lacks UpdateUser/UpdateGroup, which PUT and PATCH need).
pub async fn start(config: ScimConfig, aws_endpoint: &str) -> io::Result<RunningScim> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let endpoint = format!("{base_url}/{}/scim/v2/", config.tenant_id);
    let scim = Arc::new(Scim {
        store: Store::new(aws_endpoint, &config.region),
        endpoint: endpoint.clone(),
        issuer: external_id_issuer(&config.tenant_id),
        config: config.clone(),
        extras: Mutex::new(HashMap::new()),
        throttle: config
            .requests_per_second
            .map(|rate| Mutex::new(TokenBucket::new(rate))),
    });
    let app = Router::new().fallback(handle).with_state(scim);
    Ok(RunningScim {
        base_url,
        endpoint,
        token: config.token,
        external_id_issuer: external_id_issuer(&config.tenant_id),
        tenant_id: config.tenant_id,
        server: ServedApp::spawn(listener, app),
    })
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, presented)) = value.split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && constant_time_eq(presented.trim().as_bytes(), token.as_bytes())
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

async fn handle(
    State(scim): State<Arc<Scim>>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let [tenant, "scim", "v2", rest @ ..] = segments.as_slice() else {
        return ScimError::not_found(format!("no SCIM endpoint at {}", uri.path())).into_response();
    };
    // The guide's error tables: UnauthorizedException (401) "Authorization header is invalid or missing. This error
    // also occurs if the tenant ID is incorrect."
    if *tenant != scim.config.tenant_id || !authorized(&headers, &scim.config.token) {
        return ScimError::new(401, "The authorization header is invalid or missing.")
            .into_response();
    }
    if !scim.admit() {
        return ScimError::new(429, "Too many requests exceeded the limits.").into_response();
    }
    let result = route(&scim, &method, rest, &query, &body).await;
    result.unwrap_or_else(IntoResponse::into_response)
}

fn parse_body(body: &Bytes) -> Result<Value, ScimError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(ScimError::validation(
            "the request body must be a JSON object",
        )),
    }
}

async fn route(
    scim: &Scim,
    method: &Method,
    path: &[&str],
    query: &HashMap<String, String>,
    body: &Bytes,
) -> Result<Response, ScimError> {
    let ok = |value: Value| Ok(scim_response(StatusCode::OK, &value));
    match (method.as_str(), path) {
        ("GET", ["ServiceProviderConfig"]) => ok(schemas::service_provider_config()),
        ("GET", ["ResourceTypes"]) => ok(schemas::list(schemas::resource_types())),
        ("GET", ["ResourceTypes", name]) => ok(schemas::find(schemas::resource_types(), name)?),
        ("GET", ["Schemas"]) => ok(schemas::list(schemas::schemas())),
        ("GET", ["Schemas", id]) => ok(schemas::find(schemas::schemas(), id)?),
        ("GET", ["Users"]) => resources::list_users(scim, query).await,
        ("POST", ["Users"]) => resources::create_user(scim, parse_body(body)?).await,
        ("GET", ["Users", id]) => resources::get_user(scim, id, query).await,
        ("PUT", ["Users", id]) => resources::replace_user(scim, id, parse_body(body)?).await,
        ("PATCH", ["Users", id]) => resources::patch_user(scim, id, parse_body(body)?).await,
        ("DELETE", ["Users", id]) => resources::delete_user(scim, id).await,
        ("GET", ["Groups"]) => resources::list_groups(scim, query).await,
        ("POST", ["Groups"]) => resources::create_group(scim, parse_body(body)?).await,
        ("GET", ["Groups", id]) => resources::get_group(scim, id, query).await,
        ("PATCH", ["Groups", id]) => resources::patch_group(scim, id, parse_body(body)?).await,
        ("DELETE", ["Groups", id]) => resources::delete_group(scim, id).await,
        // The discovery endpoints are read only; the guide names no error for other methods.
        (_, ["ServiceProviderConfig" | "ResourceTypes" | "Schemas", ..]) => Err(ScimError::new(
            405,
            format!("{method} is not supported here"),
        )),
        // The guide's supported operations have no PutGroup (nor /Me, /Bulk, /.search: "Limitations from SCIM
        // specification"); an unsupported operation is a ValidationException.
        (_, ["Users" | "Groups" | "Me" | "Bulk" | ".search", ..]) => {
            Err(ScimError::validation(format!(
                "{method} /{} is not supported by the IAM Identity Center SCIM implementation",
                path.join("/")
            )))
        }
        _ => Err(ScimError::not_found("no such SCIM resource")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_is_checked_exactly() {
        let mut headers = HeaderMap::new();
        assert!(!authorized(&headers, "secret"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer secret"),
        );
        assert!(authorized(&headers, "secret"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer secre"),
        );
        assert!(!authorized(&headers, "secret"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic secret"),
        );
        assert!(!authorized(&headers, "secret"));
    }

    #[test]
    fn the_bucket_admits_one_seconds_worth_then_refills() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(2);
        bucket.refilled = start;
        assert!(bucket.take(start));
        assert!(bucket.take(start));
        assert!(!bucket.take(start));
        assert!(bucket.take(start + std::time::Duration::from_millis(500)));
        assert!(!bucket.take(start + std::time::Duration::from_millis(500)));
    }

    #[test]
    fn error_time_stamps_have_the_aws_form() {
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_643_215_848_135);
        assert_eq!(error_time_stamp(time), "2022-01-26 16:50:48.135");
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let config = ScimConfig::default();
        assert!(!format!("{config:?}").contains(&config.token));
    }
}
