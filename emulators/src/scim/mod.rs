//! Stand-in for the AWS IAM Identity Center SCIM endpoint (`https://scim.<region>.amazonaws.com/<tenant>/scim/v2/`):
//! SCIM 2.0 Users and Groups with AWS's documented limitations, bearer-token auth, and the data written into
//! identitystore through the AWS API so sso-admin/identitystore callers see what a provisioning engine pushed.

mod filter;
mod patch;
mod resources;
mod schemas;
mod store;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

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
            .finish()
    }
}

/// A SCIM protocol error (RFC 7644 §3.12).
#[derive(Debug, Clone)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: String) -> ScimError {
        ScimError {
            status,
            scim_type,
            detail,
        }
    }
    pub fn invalid_filter(detail: String) -> ScimError {
        ScimError::new(400, Some("invalidFilter"), detail)
    }
    pub fn invalid_path(detail: String) -> ScimError {
        ScimError::new(400, Some("invalidPath"), detail)
    }
    pub fn invalid_syntax(detail: impl Into<String>) -> ScimError {
        ScimError::new(400, Some("invalidSyntax"), detail.into())
    }
    pub fn invalid_value(detail: impl Into<String>) -> ScimError {
        ScimError::new(400, Some("invalidValue"), detail.into())
    }
    pub fn no_target(detail: impl Into<String>) -> ScimError {
        ScimError::new(400, Some("noTarget"), detail.into())
    }
    pub fn uniqueness(detail: impl Into<String>) -> ScimError {
        ScimError::new(409, Some("uniqueness"), detail.into())
    }
    pub fn not_found(detail: impl Into<String>) -> ScimError {
        ScimError::new(404, None, detail.into())
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({"schemas": [ERROR_SCHEMA], "status": self.status.to_string(), "detail": self.detail});
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = json!(scim_type);
        }
        scim_response(
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &body,
        )
    }
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
}

impl Scim {
    fn extras(&self) -> MutexGuard<'_, HashMap<String, Extras>> {
        self.extras
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
    if *tenant != scim.config.tenant_id {
        return ScimError::not_found("TENANT does not exist").into_response();
    }
    if !authorized(&headers, &scim.config.token) {
        return ScimError::new(
            401,
            None,
            "The authorization header is invalid or missing".into(),
        )
        .into_response();
    }
    let result = route(&scim, &method, rest, &query, &body).await;
    result.unwrap_or_else(IntoResponse::into_response)
}

fn parse_body(body: &Bytes) -> Result<Value, ScimError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(ScimError::invalid_syntax(
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
        ("PUT", ["Groups", id]) => resources::replace_group(scim, id, parse_body(body)?).await,
        ("PATCH", ["Groups", id]) => resources::patch_group(scim, id, parse_body(body)?).await,
        ("DELETE", ["Groups", id]) => resources::delete_group(scim, id).await,
        (_, ["Me" | "Bulk" | ".search", ..]) | (_, [_, ".search"]) => Err(ScimError::new(
            501,
            None,
            "This endpoint is not supported by the IAM Identity Center SCIM implementation".into(),
        )),
        (
            _,
            [
                "Users" | "Groups" | "ServiceProviderConfig" | "ResourceTypes" | "Schemas",
                ..,
            ],
        ) => Err(ScimError::new(
            405,
            None,
            format!("{method} is not supported here"),
        )),
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
    fn debug_output_never_shows_the_token() {
        let config = ScimConfig::default();
        assert!(!format!("{config:?}").contains(&config.token));
    }
}
