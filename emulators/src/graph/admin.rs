//! The test-control API under `/_emulator/` (faults, replication lag, request log, reset) and the middleware that
//! applies faults and records requests.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use regex::Regex;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::error::GraphError;
use super::state::{AppState, Store};

/// Lets a handler close the TCP connection it is being served on (for "dropped connection" faults).
#[derive(Clone)]
pub struct ConnectionKill(pub Arc<Notify>);

#[derive(Debug, Clone)]
pub enum FaultAction {
    Status {
        status: StatusCode,
        retry_after: Option<RetryAfter>,
    },
    DropConnection,
    Delay(Duration),
}

#[derive(Debug, Clone)]
pub enum RetryAfter {
    Seconds(u64),
    /// Rendered as an HTTP-date this many seconds after the fault fires.
    HttpDateIn(u64),
}

#[derive(Debug, Clone)]
pub struct FaultRule {
    pub id: u64,
    pub method: Option<Method>,
    pub path: Regex,
    pub action: FaultAction,
    pub remaining: Option<u32>,
    pub probability: f64,
    /// The request is carried out first and only its answer is replaced (or the connection dropped): the
    /// "response lost after the server acted" case RFC 9110 §9.2.2 warns about for non-idempotent requests.
    pub after_handler: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub body: Value,
}

#[derive(Default)]
pub struct AdminState {
    pub faults: Vec<FaultRule>,
    next_fault_id: u64,
    /// Reads that answer 404 for each object created from now on.
    pub replication_lag_reads: u32,
    /// Longest time-based replication lag of a write (0: none); each write draws its own from `lag_random`.
    pub replication_lag_ms: u64,
    /// Seeded, so that a run's lags can be replayed.
    pub lag_random: fastrand::Rng,
    /// How many upcoming successful instantiate calls answer 404 anyway.
    pub instantiate_not_found: u32,
    pub log: Vec<LoggedRequest>,
    pub page_size: Option<usize>,
}

impl AdminState {
    /// The settings a fresh (or reset) emulator starts with.
    pub fn from_config(config: &super::GraphConfig) -> AdminState {
        AdminState {
            replication_lag_ms: config.replication_lag.as_millis() as u64,
            lag_random: fastrand::Rng::with_seed(config.replication_lag_seed),
            ..AdminState::default()
        }
    }

    fn take_fault(&mut self, method: &Method, path: &str) -> Option<(FaultAction, bool)> {
        let index = self.faults.iter().position(|rule| {
            rule.method.as_ref().is_none_or(|m| m == method)
                && rule.path.is_match(path)
                && rule.remaining != Some(0)
                && (rule.probability >= 1.0 || fastrand::f64() < rule.probability)
        })?;
        let rule = &mut self.faults[index];
        if let Some(remaining) = rule.remaining.as_mut() {
            *remaining -= 1;
        }
        Some((rule.action.clone(), rule.after_handler))
    }
}

fn fault_error(status: StatusCode, retry_after: Option<&RetryAfter>) -> GraphError {
    let (code, message) = match status.as_u16() {
        429 => ("TooManyRequests", "Too many requests."),
        503 => (
            "serviceNotAvailable",
            "The service is temporarily unavailable. Please retry later.",
        ),
        504 => ("UnknownError", "The operation timed out."),
        _ => ("UnknownError", "Injected fault."),
    };
    let mut error = GraphError::new(status, code, message);
    error.retry_after = retry_after.map(|r| match r {
        RetryAfter::Seconds(s) => s.to_string(),
        RetryAfter::HttpDateIn(s) => {
            httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(*s))
        }
    });
    error
}

/// Applies matching fault rules, then records the request and its final status in the log.
pub async fn faults_and_log(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    if path.starts_with("/_emulator") {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let query = request.uri().query().map(str::to_string);
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let logged_body = redacted_body(&path, &bytes);
    let (fault, after_handler) = match state.admin().take_fault(&method, &path) {
        Some((action, after_handler)) => (Some(action), after_handler),
        None => (None, false),
    };
    // An after-handler fault lets the handler act first; the client then gets the fault instead of its answer
    // (a delay only holds the answer back).
    let served = if after_handler {
        Some(
            next.clone()
                .run(Request::from_parts(
                    parts.clone(),
                    Body::from(bytes.clone()),
                ))
                .await,
        )
    } else {
        None
    };
    let response = match fault {
        Some(FaultAction::Status {
            status,
            retry_after,
        }) => fault_error(status, retry_after.as_ref()).into_response(),
        Some(FaultAction::DropConnection) => {
            // Logged with status 0: no response is ever sent.
            state.admin().log.push(LoggedRequest {
                method: method.to_string(),
                path,
                query,
                status: 0,
                body: logged_body,
            });
            if let Some(kill) = parts.extensions.get::<ConnectionKill>() {
                kill.0.notify_one();
            }
            // The connection task drops this future together with the socket.
            std::future::pending::<()>().await;
            unreachable!("the connection is closed before this point")
        }
        Some(FaultAction::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            match served {
                Some(response) => response,
                None => {
                    next.run(Request::from_parts(parts, Body::from(bytes)))
                        .await
                }
            }
        }
        None => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    };
    state.admin().log.push(LoggedRequest {
        method: method.to_string(),
        path,
        query,
        status: response.status().as_u16(),
        body: logged_body,
    });
    response
}

/// Keeps secrets out of the request log: client secrets/assertions on the token endpoint and every
/// synchronization secret other than the base address.
fn redacted_body(path: &str, bytes: &Bytes) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if path.ends_with("/oauth2/v2.0/token") {
        let pairs: serde_json::Map<String, Value> = url_decoded_pairs(bytes)
            .into_iter()
            .map(|(k, v)| {
                let shown = if k == "client_secret" || k == "client_assertion" {
                    "***".to_string()
                } else {
                    v
                };
                (k, Value::String(shown))
            })
            .collect();
        return Value::Object(pairs);
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut value) => {
            if path.contains("/synchronization/") {
                redact_secret_values(&mut value);
            }
            value
        }
        Err(_) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}

fn redact_secret_values(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(redact_secret_values),
        Value::Object(map) => {
            let is_secret_pair = map
                .get("key")
                .and_then(Value::as_str)
                .is_some_and(|k| k != "BaseAddress");
            if is_secret_pair && map.contains_key("value") {
                map.insert("value".into(), Value::String("***".into()));
            }
            map.values_mut().for_each(redact_secret_values);
        }
        _ => {}
    }
}

pub fn url_decoded_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultRequest {
    method: Option<String>,
    path: String,
    status: Option<u16>,
    retry_after_seconds: Option<u64>,
    retry_after_http_date_in_seconds: Option<u64>,
    #[serde(default)]
    drop_connection: bool,
    delay_ms: Option<u64>,
    count: Option<u32>,
    probability: Option<f64>,
    #[serde(default)]
    after_handler: bool,
}

fn admin_error(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

async fn add_fault(
    State(state): State<Arc<AppState>>,
    Json(request): Json<FaultRequest>,
) -> Response {
    let path = match Regex::new(&request.path) {
        Ok(path) => path,
        Err(e) => return admin_error(format!("path is not a valid regex: {e}")),
    };
    let method = match request
        .method
        .as_deref()
        .map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()))
    {
        None => None,
        Some(Ok(method)) => Some(method),
        Some(Err(_)) => return admin_error("method is not an HTTP method"),
    };
    let retry_after = match (
        request.retry_after_seconds,
        request.retry_after_http_date_in_seconds,
    ) {
        (Some(_), Some(_)) => {
            return admin_error("give retryAfterSeconds or retryAfterHttpDateInSeconds, not both");
        }
        (Some(s), None) => Some(RetryAfter::Seconds(s)),
        (None, Some(s)) => Some(RetryAfter::HttpDateIn(s)),
        (None, None) => None,
    };
    let action = match (request.status, request.drop_connection, request.delay_ms) {
        (Some(code), false, None) => match StatusCode::from_u16(code) {
            Ok(status) if status.is_client_error() || status.is_server_error() => {
                FaultAction::Status {
                    status,
                    retry_after,
                }
            }
            _ => return admin_error("status must be a 4xx or 5xx code"),
        },
        (None, true, None) => FaultAction::DropConnection,
        (None, false, Some(ms)) => FaultAction::Delay(Duration::from_millis(ms)),
        _ => return admin_error("give exactly one of status, dropConnection, delayMs"),
    };
    let probability = request.probability.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&probability) {
        return admin_error("probability must be between 0 and 1");
    }
    let mut admin = state.admin();
    admin.next_fault_id += 1;
    let id = admin.next_fault_id;
    admin.faults.push(FaultRule {
        id,
        method,
        path,
        action,
        remaining: request.count,
        probability,
        after_handler: request.after_handler,
    });
    (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
}

/// The rules in place with what is left of their counts: lets a test see that a fault has fired (a delayed
/// request is logged only once it is answered).
async fn list_faults(State(state): State<Arc<AppState>>) -> Json<Value> {
    let faults: Vec<Value> = state
        .admin()
        .faults
        .iter()
        .map(|rule| json!({"id": rule.id, "path": rule.path.as_str(), "remaining": rule.remaining}))
        .collect();
    Json(json!({ "faults": faults }))
}

async fn clear_faults(State(state): State<Arc<AppState>>) -> StatusCode {
    state.admin().faults.clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    replication_lag_reads: Option<u32>,
    replication_lag_ms: Option<u64>,
    replication_lag_seed: Option<u64>,
    instantiate_not_found: Option<u32>,
    page_size: Option<usize>,
}

async fn remove_fault(
    State(state): State<Arc<AppState>>,
    axum::extract::Path(id): axum::extract::Path<u64>,
) -> StatusCode {
    let mut admin = state.admin();
    let before = admin.faults.len();
    admin.faults.retain(|rule| rule.id != id);
    if admin.faults.len() < before {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn update_settings(
    State(state): State<Arc<AppState>>,
    Json(settings): Json<Settings>,
) -> Response {
    if settings.page_size == Some(0) {
        return admin_error("pageSize must be at least 1");
    }
    let mut admin = state.admin();
    if let Some(reads) = settings.replication_lag_reads {
        admin.replication_lag_reads = reads;
    }
    if let Some(ms) = settings.replication_lag_ms {
        admin.replication_lag_ms = ms;
    }
    if let Some(seed) = settings.replication_lag_seed {
        admin.lag_random = fastrand::Rng::with_seed(seed);
    }
    if let Some(times) = settings.instantiate_not_found {
        admin.instantiate_not_found = times;
    }
    if let Some(size) = settings.page_size {
        admin.page_size = Some(size);
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn read_log(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({"requests": state.admin().log}))
}

async fn clear_log(State(state): State<Arc<AppState>>) -> StatusCode {
    state.admin().log.clear();
    StatusCode::NO_CONTENT
}

async fn reset(State(state): State<Arc<AppState>>) -> StatusCode {
    {
        let mut store = state.store();
        store.stop_all_jobs();
        *store = Store::default();
    }
    *state.admin() = AdminState::from_config(&state.config);
    state
        .tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
    StatusCode::NO_CONTENT
}

pub fn routes() -> axum::Router<Arc<AppState>> {
    use axum::routing::{post, put};
    axum::Router::new()
        .route("/_emulator/reset", post(reset))
        .route(
            "/_emulator/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
        .route(
            "/_emulator/faults/{id}",
            axum::routing::delete(remove_fault),
        )
        .route("/_emulator/settings", put(update_settings))
        .route(
            "/_emulator/requests",
            axum::routing::get(read_log).delete(clear_log),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(method: Option<Method>, path: &str, remaining: Option<u32>) -> FaultRule {
        FaultRule {
            id: 1,
            method,
            path: Regex::new(path).unwrap(),
            action: FaultAction::DropConnection,
            remaining,
            probability: 1.0,
            after_handler: false,
        }
    }

    #[test]
    fn fault_rules_match_method_and_path_and_count_down() {
        let mut admin = AdminState::default();
        admin
            .faults
            .push(rule(Some(Method::POST), "/instantiate$", Some(2)));
        assert!(
            admin
                .take_fault(&Method::GET, "/v1.0/applicationTemplates/x/instantiate")
                .is_none()
        );
        assert!(
            admin
                .take_fault(&Method::POST, "/v1.0/applications")
                .is_none()
        );
        assert!(
            admin
                .take_fault(&Method::POST, "/v1.0/applicationTemplates/x/instantiate")
                .is_some()
        );
        assert!(
            admin
                .take_fault(&Method::POST, "/v1.0/applicationTemplates/x/instantiate")
                .is_some()
        );
        assert!(
            admin
                .take_fault(&Method::POST, "/v1.0/applicationTemplates/x/instantiate")
                .is_none()
        );
    }

    #[test]
    fn secrets_are_redacted_from_the_log() {
        let token = redacted_body(
            "/t/oauth2/v2.0/token",
            &Bytes::from_static(b"client_id=a&client_secret=s3cret"),
        );
        assert_eq!(token["client_secret"], "***");
        assert_eq!(token["client_id"], "a");
        let body = br#"{"value":[{"key":"BaseAddress","value":"http://x"},{"key":"SecretToken","value":"tok"}]}"#;
        let secrets = redacted_body(
            "/v1.0/servicePrincipals/1/synchronization/secrets",
            &Bytes::from_static(body),
        );
        assert_eq!(secrets["value"][0]["value"], "http://x");
        assert_eq!(secrets["value"][1]["value"], "***");
    }
}
