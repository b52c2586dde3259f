//! An AWS-faithful proxy in front of moto for the JSON 1.1 protocols of sso-admin (`SWBExternalService.<Op>`)
//! and identitystore (`AWSIdentityStore.<Op>`). moto stays the store; the proxy adds what real AWS does and moto
//! lacks (ARN shape, missing operations, asynchronous status, quotas, referential checks). Every other request
//! passes through unchanged. Admin API: `/_proxy/config`, `/_proxy/stats`, `/_proxy/reset`, and
//! `/_proxy/external-ids/{id}` through which the SCIM stand-in records the `ExternalIds` AWS's SCIM endpoint sets.

mod identitystore;
mod json;
pub mod model;
mod organizations;
mod sso;
mod state;

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use crate::served::ServedApp;

pub use json::{AwsError, strip_nulls};
use model::{Models, ServiceModel};
use state::ProxyState;
pub use state::{ProxyConfig, Stats};

/// Requests from the SCIM stand-in carry this in their User-Agent (`app/idbridge-scim`): AWS's SCIM endpoint
/// has its own limits, so these calls skip the Identity Center quotas, latency and statistics.
pub const INTERNAL_APP_NAME: &str = "idbridge-scim";

const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
enum Service {
    SsoAdmin,
    IdentityStore,
    Organizations,
}

impl Service {
    fn target_prefix(self) -> &'static str {
        match self {
            Service::SsoAdmin => "SWBExternalService",
            Service::IdentityStore => "AWSIdentityStore",
            Service::Organizations => "AWSOrganizationsV20161128",
        }
    }
    /// moto routes by the SigV4 credential scope's service name.
    fn signing_name(self) -> &'static str {
        match self {
            Service::SsoAdmin => "sso",
            Service::IdentityStore => "identitystore",
            Service::Organizations => "organizations",
        }
    }
}

struct Proxy {
    moto_url: String,
    http: reqwest::Client,
    state: Mutex<ProxyState>,
    models: Arc<Models>,
}

impl Proxy {
    fn model(&self, service: Service) -> &ServiceModel {
        match service {
            Service::SsoAdmin => &self.models.sso_admin,
            Service::IdentityStore => &self.models.identitystore,
            Service::Organizations => &self.models.organizations,
        }
    }

    fn state(&self) -> MutexGuard<'_, ProxyState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Calls one operation on moto and returns its JSON answer (nulls and ARNs untouched).
    async fn moto(
        &self,
        service: Service,
        operation: &str,
        body: &Value,
    ) -> Result<Value, AwsError> {
        let mut body = body.clone();
        {
            let state = self.state();
            rewrite_store_ids(&mut body, &mut |id| state.store_ids.get(id).cloned());
        }
        let response = self
            .http
            .post(format!("{}/", self.moto_url))
            .header("X-Amz-Target", format!("{}.{operation}", service.target_prefix()))
            .header("Content-Type", json::JSON_11)
            .header(
                "Authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=0",
                    service.signing_name()
                ),
            )
            .body(body.to_string())
            .send()
            .await
            .map_err(|err| AwsError::internal(format!("moto unreachable: {err}")))?;
        let status =
            StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let bytes = response
            .bytes()
            .await
            .map_err(|err| AwsError::internal(format!("moto answer unreadable: {err}")))?;
        if !status.is_success() {
            return Err(AwsError::from_moto(status, &bytes));
        }
        if bytes.is_empty() {
            return Ok(json!({}));
        }
        let mut answer: Value = serde_json::from_slice(&bytes)
            .map_err(|err| AwsError::internal(format!("moto answered non-JSON: {err}")))?;
        let mut state = self.state();
        rewrite_store_ids(&mut answer, &mut |moto_id| {
            let aws_id = aws_store_id(moto_id);
            state.store_ids.insert(aws_id.clone(), moto_id.to_owned());
            Some(aws_id)
        });
        Ok(answer)
    }

    /// Counts the call and applies the shared TPS quota.
    fn admit(&self, operation: &str) -> Result<Duration, AwsError> {
        let mut state = self.state();
        state.stats.count_call(operation);
        let config = state.config.clone();
        if config.quotas
            && !state
                .bucket
                .try_take(Instant::now(), config.tps_limit, config.burst)
        {
            state.stats.throttles += 1;
            return Err(AwsError::throttling("Rate exceeded"));
        }
        let latency = config
            .operation_latency_ms
            .get(operation)
            .copied()
            .unwrap_or(config.latency_ms);
        Ok(Duration::from_millis(latency))
    }
}

impl Proxy {
    /// The operation's server fault, for the configured share of calls (`server_error_percent`).
    fn injected_fault(&self, service: Service, operation: &str) -> Option<AwsError> {
        let mut state = self.state();
        let percent = state.config.server_error_percent.min(100);
        if percent == 0 || fastrand::u32(0..100) >= percent {
            return None;
        }
        let fault = self.model(service).server_fault(operation)?;
        state.stats.server_errors += 1;
        Some(AwsError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            fault,
            "The request processing has failed because of an unknown error, exception or failure (injected).",
        ))
    }
}

/// A running proxy; stops when [`RunningProxy::stop`] is called or it is dropped.
#[derive(Debug)]
pub struct RunningProxy {
    pub base_url: String,
    server: ServedApp,
}

impl RunningProxy {
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// Starts the proxy on a free 127.0.0.1 port in front of the moto server at `moto_url`.
pub async fn start(config: ProxyConfig, moto_url: &str) -> io::Result<RunningProxy> {
    let models = tokio::task::spawn_blocking(Models::get)
        .await
        .map_err(io::Error::other)??;
    let proxy = Arc::new(Proxy {
        models,
        moto_url: moto_url.trim_end_matches('/').to_owned(),
        http: reqwest::Client::builder()
            .build()
            .map_err(io::Error::other)?,
        state: Mutex::new(ProxyState::new(config)),
    });
    let app = Router::new()
        .route("/_proxy/config", get(get_config).put(put_config))
        .route("/_proxy/stats", get(get_stats))
        .route("/_proxy/calls", get(get_calls))
        .route("/_proxy/reset", post(reset))
        .route(
            "/_proxy/external-ids/{id}",
            get(get_external_ids).put(put_external_ids),
        )
        .route("/_proxy/extensions/{id}", put(put_extensions))
        .fallback(handle)
        .with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    Ok(RunningProxy {
        base_url,
        server: ServedApp::spawn(listener, app),
    })
}

async fn get_config(State(proxy): State<Arc<Proxy>>) -> Response {
    axum::Json(proxy.state().config.clone()).into_response()
}

/// Accepts a partial object: the given members replace the current ones.
async fn put_config(State(proxy): State<Arc<Proxy>>, body: Bytes) -> Response {
    let patch: Value = match serde_json::from_slice(&body) {
        Ok(Value::Object(patch)) => Value::Object(patch),
        _ => return (StatusCode::BAD_REQUEST, "body must be a JSON object").into_response(),
    };
    let mut state = proxy.state();
    let mut merged = serde_json::to_value(&state.config).unwrap_or_default();
    if let (Some(target), Some(source)) = (merged.as_object_mut(), patch.as_object()) {
        for (key, value) in source {
            target.insert(key.clone(), value.clone());
        }
    }
    match serde_json::from_value::<ProxyConfig>(merged) {
        Ok(config) => {
            state.config = config.clone();
            axum::Json(config).into_response()
        }
        Err(err) => (
            StatusCode::BAD_REQUEST,
            format!("invalid configuration: {err}"),
        )
            .into_response(),
    }
}

/// An emulator-only record PUT by the SCIM stand-in: the body parsed by `parse`, then stored by `store`; 204, or
/// 400 with the reason.
fn put_record<T>(
    proxy: &Proxy,
    id: &str,
    body: &Bytes,
    parse: impl FnOnce(&Value) -> Result<T, String>,
    store: impl FnOnce(&Proxy, &str, T),
) -> Response {
    let parsed = serde_json::from_slice::<Value>(body)
        .map_err(|err| format!("body is not JSON: {err}"))
        .and_then(|body| parse(&body));
    match parsed {
        Ok(record) => {
            store(proxy, id, record);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(message) => (StatusCode::BAD_REQUEST, message).into_response(),
    }
}

/// `{"ExternalIds": [{"Issuer", "Id"}]}` for a group or user id; an empty list clears them. Emulator-only: in AWS
/// the SCIM endpoint writes them and the public API cannot.
async fn put_external_ids(
    State(proxy): State<Arc<Proxy>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    put_record(
        &proxy,
        &id,
        &body,
        identitystore::parse_external_ids,
        identitystore::set_external_ids,
    )
}

/// `{"Extensions": {"aws:identitystore:enterprise": {...}}}` for a user id; `{}` clears them. Emulator-only: in
/// AWS the SCIM endpoint stores the enterprise extension itself.
async fn put_extensions(
    State(proxy): State<Arc<Proxy>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    put_record(
        &proxy,
        &id,
        &body,
        identitystore::parse_extensions,
        identitystore::set_extensions,
    )
}

/// What is recorded for a group or user id (`{"ExternalIds": []}` when nothing is), for inspection.
async fn get_external_ids(State(proxy): State<Arc<Proxy>>, Path(id): Path<String>) -> Response {
    let recorded = proxy
        .state()
        .external_ids
        .get(&id)
        .cloned()
        .unwrap_or_default();
    axum::Json(json!({ "ExternalIds": recorded })).into_response()
}

async fn get_stats(State(proxy): State<Arc<Proxy>>) -> Response {
    let stats = &proxy.state().stats;
    axum::Json(json!({
        "total_calls": stats.total_calls,
        "calls_by_operation": stats.calls_by_operation,
        "throttles": stats.throttles,
        "conflicts": stats.conflicts,
        "server_errors": stats.server_errors,
    }))
    .into_response()
}

/// Every call since start (or reset) as `[unix_ms, operation]`, oldest first.
async fn get_calls(State(proxy): State<Arc<Proxy>>) -> Response {
    axum::Json(json!({ "calls": proxy.state().stats.call_log })).into_response()
}

async fn reset(State(proxy): State<Arc<Proxy>>) -> Response {
    proxy.state().reset();
    match proxy
        .http
        .post(format!("{}/moto-api/reset", proxy.moto_url))
        .send()
        .await
    {
        Ok(response) if response.status().is_success() => StatusCode::NO_CONTENT.into_response(),
        Ok(response) => (
            StatusCode::BAD_GATEWAY,
            format!("moto reset answered HTTP {}", response.status()),
        )
            .into_response(),
        Err(err) => (StatusCode::BAD_GATEWAY, format!("moto unreachable: {err}")).into_response(),
    }
}

async fn handle(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default();
    let service = match target.split_once('.') {
        Some(("SWBExternalService", _)) => Service::SsoAdmin,
        Some(("AWSIdentityStore", _)) => Service::IdentityStore,
        Some(("AWSOrganizationsV20161128", _)) => Service::Organizations,
        _ => return pass_through(&proxy, request).await,
    };
    let operation = target
        .split_once('.')
        .map(|(_, op)| op.to_owned())
        .unwrap_or_default();
    let internal = request
        .headers()
        .get("user-agent")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|agent| agent.contains(&format!("app/{INTERNAL_APP_NAME}")));
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut response = answer(&proxy, service, &operation, internal, request.into_body()).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    response
}

async fn answer(
    proxy: &Proxy,
    service: Service,
    operation: &str,
    internal: bool,
    body: Body,
) -> Response {
    if !proxy.model(service).has_operation(operation) {
        return AwsError::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("{} has no operation {operation}", service.target_prefix()),
        )
        .into_response();
    }
    if let Service::Organizations = service {
        count_organizations_call(proxy, operation);
    } else if !internal {
        match proxy.admit(operation) {
            Ok(latency) if !latency.is_zero() => tokio::time::sleep(latency).await,
            Ok(_) => {}
            Err(error) => return error.into_response(),
        }
    }
    if !internal && let Some(fault) = proxy.injected_fault(service, operation) {
        return fault.into_response();
    }
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(err) => {
            return AwsError::validation(format!("request body unreadable: {err}")).into_response();
        }
    };
    let input: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(value @ Value::Object(_)) => value,
            _ => {
                return AwsError::new(
                    StatusCode::BAD_REQUEST,
                    "SerializationException",
                    "request body is not a JSON object",
                )
                .into_response();
            }
        }
    };
    if let Err(mut error) = proxy.model(service).validate(operation, &input) {
        if matches!(service, Service::Organizations) && error.error_type == "ValidationException" {
            // Organizations' own name for a request the model refuses.
            error.error_type = "InvalidInputException".into();
        }
        return error.into_response();
    }
    let result = match service {
        Service::SsoAdmin => sso::dispatch(proxy, operation, input).await,
        Service::IdentityStore => identitystore::dispatch(proxy, operation, input).await,
        Service::Organizations => organizations::dispatch(proxy, operation, input).await,
    };
    match result {
        Ok(output) => json::ok(output),
        Err(error) => {
            if error.error_type == "ConflictException" {
                proxy.state().stats.conflicts += 1;
            }
            error.into_response()
        }
    }
}

/// Organizations: moto is the store and answers every read the provider makes; the proxy adds `Account.Paths`
/// (see [`organizations`]), request validation against the model (AWS answers `InvalidInputException` for it, e.g. `MaxResults` above 20,
/// where moto pages 100 accounts at a time), AWS's content type without JSON nulls, and counts the calls in the
/// statistics as `organizations:<Op>` (sso-admin has a `ListTagsForResource` too). Organizations has its own
/// quotas, so the Identity Center TPS bucket and latency do not apply.
fn count_organizations_call(proxy: &Proxy, operation: &str) {
    proxy
        .state()
        .stats
        .count_call(&format!("organizations:{operation}"));
}

/// moto's identity store ids are `d-` and ten letters or digits; AWS's (and the model's pattern) are `d-` and
/// ten hex digits. The proxy answers a stable hex id per moto id and maps it back on the way to moto.
fn aws_store_id(moto_id: &str) -> String {
    let hex_tail = moto_id.strip_prefix("d-").is_some_and(|tail| {
        tail.len() == 10
            && tail
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    });
    if hex_tail {
        return moto_id.to_owned();
    }
    // FNV-1a: stable across runs and Rust versions, unlike the standard library's hasher.
    let hash = moto_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("d-{:010x}", hash & 0xff_ffff_ffff)
}

/// Rewrites every `IdentityStoreId` member's value for which `map` has a replacement.
fn rewrite_store_ids(value: &mut Value, map: &mut dyn FnMut(&str) -> Option<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                match member {
                    Value::String(id) if key == "IdentityStoreId" => {
                        if let Some(replacement) = map(id) {
                            *id = replacement;
                        }
                    }
                    other => rewrite_store_ids(other, map),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rewrite_store_ids(item, map)),
        _ => {}
    }
}

/// Forwards a request moto answers as is (other services, moto's own API).
async fn pass_through(proxy: &Proxy, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        return (StatusCode::BAD_REQUEST, "request body unreadable").into_response();
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let Ok(method) = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()) else {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    };
    let mut forward = proxy
        .http
        .request(method, format!("{}{path}", proxy.moto_url))
        .body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            forward = forward.header(name.as_str(), value.as_bytes());
        }
    }
    let response = match forward.send().await {
        Ok(response) => response,
        Err(err) => {
            return (StatusCode::BAD_GATEWAY, format!("moto unreachable: {err}")).into_response();
        }
    };
    let status =
        StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap_or_default();
    let mut answer = (status, bytes).into_response();
    for (name, value) in &headers {
        let hop_by_hop =
            name == "content-length" || name == "transfer-encoding" || name == "connection";
        if !hop_by_hop
            && let (Ok(name), Ok(value)) = (
                axum::http::HeaderName::from_bytes(name.as_str().as_bytes()),
                HeaderValue::from_bytes(value.as_bytes()),
            )
        {
            answer.headers_mut().insert(name, value);
        }
    }
    answer
}
