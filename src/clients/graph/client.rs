//! The Graph HTTP layer: bearer tokens, retries with backoff, error decoding, paging, replication-lag waits.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rand::Rng;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::auth::{AuthError, TokenProvider};
use super::settings::EntraSettings;
use crate::framework::context::operation_deadline;

/// Bounds for retries. A request is retried until the deadline of the Terraform operation it serves
/// ([`operation_deadline`]: the resource's timeout), or for `max_elapsed` when it serves none; every backoff is
/// capped by `max_delay`, a `Retry-After` is waited out as given.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The retry budget of a request made outside any operation (provider configuration, tests).
    pub max_elapsed: Duration,
    /// How long [`GraphClient::read_after_write`] keeps retrying 404s on objects that were just written.
    pub replication_timeout: Duration,
    pub replication_interval: Duration,
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(300),
            replication_timeout: Duration::from_secs(120),
            replication_interval: Duration::from_secs(2),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// Which failures a request may be sent again after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Throttling, server errors, timeouts and connection failures: for reads and idempotent writes.
    Transient,
    /// Throttling and refused connections only, where Graph cannot have acted: for calls that create objects.
    UnprocessedOnly,
}

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Graph answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),
    #[error("Microsoft Graph {method} {path} could not be sent: {message}")]
    Transport {
        method: String,
        path: String,
        message: String,
    },
    #[error("Microsoft Graph {method} {path} answered a body that is not understood: {message}")]
    Decode {
        method: String,
        path: String,
        message: String,
    },
    #[error("refusing to follow {url}: it is not under the configured Graph endpoint {base}")]
    ForeignUrl { url: String, base: String },
    #[error("{0}")]
    Invalid(String),
}

/// An error answer from Graph. `code` is Graph's `error.code` (e.g. `Request_ResourceNotFound`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Microsoft Graph {method} {path} failed with {status} {code}: {message} (request-id {})", request_id.as_deref().unwrap_or("unknown"))]
pub struct ApiError {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub client_request_id: String,
}

impl GraphError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(error) => Some(error.status),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api(error) => Some(&error.code),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The request may or may not have been carried out: a server error, a timeout or a broken connection.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            Self::Api(error) => error.status >= 500 || error.status == 408,
            Self::Transport { .. } => true,
            _ => false,
        }
    }
}

#[derive(serde::Deserialize, Default)]
struct ErrorEnvelope {
    #[serde(default)]
    error: ErrorBody,
}

#[derive(serde::Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(serde::Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base_url: String,
    tokens: Arc<TokenProvider>,
    retry: RetryPolicy,
    login_endpoint: String,
    /// What this client PATCHed lately, by object URL: Graph serves reads from replicas that may not have a
    /// write yet, so a GET of that object waits (briefly) until it shows the write.
    recent_writes: Arc<Mutex<HashMap<String, (serde_json::Value, Instant)>>>,
}

/// How long after a PATCH a read of the object waits for the write to show, at most.
const READ_YOUR_WRITES_WINDOW: Duration = Duration::from_secs(15);
const READ_YOUR_WRITES_POLL: Duration = Duration::from_millis(250);

/// Whether `read` shows every member of `written`, with PATCH semantics: complex values compared member by
/// member, collections as sets; members the read does not carry (`$select`, write-only) cannot be checked.
fn reflects(read: &serde_json::Value, written: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (read, written) {
        (Value::Object(read), Value::Object(written)) => written
            .iter()
            .all(|(key, value)| read.get(key).is_none_or(|r| reflects(r, value))),
        (Value::Array(read), Value::Array(written)) => {
            read.len() == written.len()
                && written.iter().all(|w| read.iter().any(|r| reflects(r, w)))
        }
        (read, written) => read == written,
    }
}

/// Merges a later PATCH body into an earlier one (complex values member by member).
fn merge_write(into: &mut serde_json::Value, later: serde_json::Value) {
    match (into, later) {
        (serde_json::Value::Object(into), serde_json::Value::Object(later)) => {
            for (key, value) in later {
                match into.get_mut(&key) {
                    Some(current @ serde_json::Value::Object(_)) if value.is_object() => {
                        merge_write(current, value)
                    }
                    _ => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (into, later) => *into = later,
    }
}

fn object_key(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("base_url", &self.base_url)
            .field("tokens", &self.tokens)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// The HTTP client both token and Graph requests use: rustls, no cookies, a user agent naming us.
pub fn http_client(request_timeout: Duration) -> Result<reqwest::Client, GraphError> {
    reqwest::Client::builder()
        .user_agent(concat!(
            "terraform-provider-idbridge/",
            env!("CARGO_PKG_VERSION")
        ))
        .timeout(request_timeout)
        .connect_timeout(Duration::from_secs(15))
        .build()
        .map_err(|error| GraphError::Invalid(format!("cannot build the HTTP client: {error}")))
}

impl GraphClient {
    pub fn new(settings: &EntraSettings, retry: RetryPolicy) -> Result<Self, GraphError> {
        let http = http_client(retry.request_timeout)?;
        let tokens = Arc::new(TokenProvider::new(http.clone(), settings)?);
        Ok(Self::with_token_provider(
            http,
            &settings.graph_endpoint,
            &settings.login_endpoint,
            tokens,
            retry,
        ))
    }

    pub fn with_token_provider(
        http: reqwest::Client,
        graph_endpoint: &str,
        login_endpoint: &str,
        tokens: Arc<TokenProvider>,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            http,
            base_url: graph_endpoint.trim_end_matches('/').to_string(),
            tokens,
            retry,
            login_endpoint: login_endpoint.trim_end_matches('/').to_string(),
            recent_writes: Arc::default(),
        }
    }

    fn recent_writes(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (serde_json::Value, Instant)>> {
        self.recent_writes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The write a read of `url` still has to show, if this client PATCHed that object lately.
    fn pending_write(&self, url: &str) -> Option<(serde_json::Value, Instant)> {
        let mut writes = self.recent_writes();
        writes.retain(|_, (_, at)| at.elapsed() < READ_YOUR_WRITES_WINDOW);
        writes.get(&object_key(url)).cloned()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn login_endpoint(&self) -> &str {
        &self.login_endpoint
    }

    pub fn token_provider(&self) -> &Arc<TokenProvider> {
        &self.tokens
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// `path` relative to the base (`/applications/…`), with query pairs encoded here.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> String {
        let mut url = format!("{}{}", self.base_url, path);
        if !query.is_empty() {
            let encoded: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query.iter().copied())
                .finish()
                // Graph accepts %20, and `+` inside $filter literals is ambiguous for some proxies.
                .replace('+', "%20");
            url.push('?');
            url.push_str(&encoded);
        }
        url
    }

    /// Sends one request (retrying transient failures) and decodes a JSON answer; `()`-like callers use
    /// [`Self::send_no_content`].
    pub async fn send_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<T, GraphError> {
        self.send_json_with(Replay::Transient, method, url, body)
            .await
    }

    /// As [`Self::send_json`], choosing which failures may be replayed: creating calls use
    /// [`Replay::UnprocessedOnly`] so an ambiguous failure never creates a second object.
    pub async fn send_json_with<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        replay: Replay,
        method: Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<T, GraphError> {
        let (_, bytes) = self.send(replay, method.clone(), url, body).await?;
        serde_json::from_slice(&bytes).map_err(|error| GraphError::Decode {
            method: method.to_string(),
            path: log_path(url, &self.base_url),
            message: error.to_string(),
        })
    }

    pub async fn send_no_content<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<(), GraphError> {
        self.send(Replay::Transient, method.clone(), url, body)
            .await?;
        let key = object_key(url);
        if method == Method::PATCH
            && let Some(written) = body.and_then(|b| serde_json::to_value(b).ok())
        {
            let mut writes = self.recent_writes();
            let entry = writes.entry(key).or_insert_with(|| {
                (
                    serde_json::Value::Object(Default::default()),
                    Instant::now(),
                )
            });
            merge_write(&mut entry.0, written);
            entry.1 = Instant::now();
        } else if method == Method::DELETE {
            self.recent_writes().remove(&key);
        }
        Ok(())
    }

    /// A GET; if this client PATCHed the object lately, repeated (for a few seconds at most) until the answer
    /// shows that write, so that a read right after a write does not see a replica's older version.
    pub async fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T, GraphError> {
        let Some((written, at)) = self.pending_write(url) else {
            return self.send_json::<T, ()>(Method::GET, url, None).await;
        };
        loop {
            let read: serde_json::Value = self.send_json::<_, ()>(Method::GET, url, None).await?;
            let caught_up = reflects(&read, &written);
            if caught_up || at.elapsed() + READ_YOUR_WRITES_POLL >= READ_YOUR_WRITES_WINDOW {
                if caught_up {
                    self.recent_writes().remove(&object_key(url));
                }
                return serde_json::from_value(read).map_err(|error| GraphError::Decode {
                    method: "GET".into(),
                    path: log_path(url, &self.base_url),
                    message: error.to_string(),
                });
            }
            tracing::debug!(target: "idbridge::graph", path = %log_path(url, &self.base_url), "read does not show this client's write yet; waiting for replication");
            tokio::time::sleep(READ_YOUR_WRITES_POLL).await;
        }
    }

    /// GET every page of a collection, following `@odata.nextLink` (only within the Graph endpoint, so the token
    /// is never sent elsewhere).
    pub async fn list_all<T: DeserializeOwned>(&self, url: &str) -> Result<Vec<T>, GraphError> {
        let mut items = Vec::new();
        let mut next = Some(url.to_string());
        while let Some(url) = next.take() {
            if !url.starts_with(&format!("{}/", self.base_url)) {
                return Err(GraphError::ForeignUrl {
                    url,
                    base: self.base_url.clone(),
                });
            }
            let page: Page<T> = self.get(&url).await?;
            items.extend(page.value);
            next = page.next_link;
        }
        Ok(items)
    }

    /// Runs `operation` until it stops answering 404, for up to `replication_timeout`: Entra objects can be
    /// missing from some replicas for a while after they were created or changed.
    pub async fn read_after_write<T, F, Fut>(&self, mut operation: F) -> Result<T, GraphError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, GraphError>>,
    {
        let deadline = Instant::now() + self.retry.replication_timeout;
        loop {
            match operation().await {
                Err(error)
                    if error.is_not_found()
                        && Instant::now() + self.retry.replication_interval < deadline =>
                {
                    tracing::debug!(target: "idbridge::graph", error = %error, "object not visible yet, waiting for replication");
                    tokio::time::sleep(self.retry.replication_interval).await;
                }
                other => return other,
            }
        }
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        replay: Replay,
        method: Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<(StatusCode, Vec<u8>), GraphError> {
        let path = log_path(url, &self.base_url);
        let body = body.map(serde_json::to_vec).transpose().map_err(|error| {
            GraphError::Invalid(format!("cannot encode the request body: {error}"))
        })?;
        let deadline = operation_deadline()
            .unwrap_or_else(|| tokio::time::Instant::now() + self.retry.max_elapsed);
        let mut attempt: u32 = 0;
        let mut refreshed_after_401 = false;
        loop {
            attempt += 1;
            let token = self.tokens.token().await?;
            let client_request_id = uuid::Uuid::new_v4().to_string();
            // A request never outlives the operation: a hung connection ends when the operation's time is up.
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let mut request = self
                .http
                .request(method.clone(), url)
                .timeout(
                    self.retry
                        .request_timeout
                        .min(remaining.max(Duration::from_millis(1))),
                )
                .bearer_auth(&token.token)
                .header("client-request-id", &client_request_id)
                .header("return-client-request-id", "true")
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            // reqwest's own text is only "error sending request for url …"; the cause (refused, reset, TLS)
            // is in its sources.
            let transport_failure = |error: &reqwest::Error| GraphError::Transport {
                method: method.to_string(),
                path: path.clone(),
                message: crate::clients::error_chain(error),
            };
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let request_id = header(&response, "request-id");
                    let retry_after = header(&response, "retry-after")
                        .and_then(|value| parse_retry_after(&value));
                    tracing::debug!(target: "idbridge::graph", method = %method, path = %path, status = status.as_u16(), attempt, request_id = request_id.as_deref().unwrap_or(""), client_request_id = %client_request_id, "graph request");
                    match response.bytes().await {
                        Ok(bytes) => Ok((status, request_id, retry_after, bytes)),
                        // The answer was cut off: Graph acted on the request, so only idempotent calls replay.
                        Err(error) => Err((transport_failure(&error), replay == Replay::Transient)),
                    }
                }
                Err(error) => {
                    tracing::debug!(target: "idbridge::graph", method = %method, path = %path, attempt, client_request_id = %client_request_id, error = %error, "graph request failed to send");
                    let replayable = match replay {
                        Replay::Transient => {
                            error.is_connect() || error.is_timeout() || error.is_request()
                        }
                        // Only a refused connection proves the request never reached Graph.
                        Replay::UnprocessedOnly => error.is_connect(),
                    };
                    Err((transport_failure(&error), replayable))
                }
            };
            let (retry_after, failure) = match outcome {
                Err((failure, false)) => return Err(failure),
                Err((failure, true)) => (None, failure),
                Ok((status, _, _, bytes)) if status.is_success() => {
                    return Ok((status, bytes.to_vec()));
                }
                Ok((status, request_id, retry_after, bytes)) => {
                    let envelope: ErrorEnvelope =
                        serde_json::from_slice(&bytes).unwrap_or_default();
                    let failure = GraphError::Api(Box::new(ApiError {
                        method: method.to_string(),
                        path: path.clone(),
                        status: status.as_u16(),
                        code: if envelope.error.code.is_empty() {
                            status.canonical_reason().unwrap_or("error").to_string()
                        } else {
                            envelope.error.code
                        },
                        message: envelope.error.message,
                        request_id,
                        client_request_id,
                    }));
                    if status == StatusCode::UNAUTHORIZED && !refreshed_after_401 {
                        // A token revoked or rotated server-side: fetch a fresh one once, then give up.
                        refreshed_after_401 = true;
                        self.tokens.invalidate().await;
                        attempt -= 1;
                        continue;
                    }
                    let replayable = match replay {
                        Replay::Transient => is_retryable(status),
                        // Throttled requests are rejected before any work is done.
                        Replay::UnprocessedOnly => status == StatusCode::TOO_MANY_REQUESTS,
                    };
                    if !replayable {
                        return Err(failure);
                    }
                    (retry_after, failure)
                }
            };
            let delay = retry_after.unwrap_or_else(|| self.backoff(attempt));
            // A retry that could not be answered before the deadline is not worth sending.
            if tokio::time::Instant::now() + delay >= deadline {
                return Err(failure);
            }
            tracing::debug!(target: "idbridge::graph", method = %method, path = %path, attempt, delay_ms = delay.as_millis() as u64, error = %failure, "retrying graph request");
            tokio::time::sleep(delay).await;
        }
    }

    /// Exponential backoff with "equal jitter": half fixed, half random, so parallel callers spread out.
    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self
            .retry
            .base_delay
            .saturating_mul(1u32 << (attempt - 1).min(16));
        let capped = exponential.min(self.retry.max_delay);
        let half = capped / 2;
        let jitter = rand::rng().random_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter)
    }
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 424 | 429 | 500 | 502 | 503 | 504)
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

/// `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The URL path and query relative to the Graph base, for logs and errors.
fn log_path(url: &str, base: &str) -> String {
    url.strip_prefix(base).unwrap_or(url).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::graph::test_support::*;
    use serde_json::{Value, json};

    const APPS: &str = "/v1.0/applications";

    fn ok_page(values: Value) -> Canned {
        Canned::json(200, json!({ "value": values }))
    }

    #[test]
    fn reads_reflect_writes_with_patch_semantics() {
        let read = json!({"displayName": "a", "tags": ["y", "x"], "web": {"redirectUris": ["u"], "logoutUrl": null}});
        assert!(reflects(
            &read,
            &json!({"displayName": "a", "tags": ["x", "y"]})
        ));
        assert!(reflects(
            &read,
            &json!({"web": {"redirectUris": ["u"]}, "notes": "not selected"})
        ));
        assert!(!reflects(&read, &json!({"displayName": "b"})));
        assert!(!reflects(&read, &json!({"tags": ["x"]})));
        let mut merged = json!({"displayName": "a", "web": {"logoutUrl": "l"}});
        merge_write(
            &mut merged,
            json!({"web": {"redirectUris": ["u"]}, "tags": []}),
        );
        assert_eq!(
            merged,
            json!({"displayName": "a", "web": {"logoutUrl": "l", "redirectUris": ["u"]}, "tags": []})
        );
    }

    /// Graph is eventually consistent: a GET right after a PATCH may still answer the previous version.
    #[tokio::test]
    async fn a_read_after_a_patch_waits_until_it_shows_the_write() {
        let server = MockServer::start().await;
        let app = format!("{APPS}/1");
        server.on("PATCH", &app, vec![Canned::empty(204)]);
        server.on(
            "GET",
            &app,
            vec![
                Canned::json(200, json!({"id": "1", "displayName": "old"})),
                Canned::json(200, json!({"id": "1", "displayName": "new"})),
            ],
        );
        let client = server.client();
        let url = client.url("/applications/1", &[]);
        client
            .send_no_content(Method::PATCH, &url, Some(&json!({"displayName": "new"})))
            .await
            .unwrap();
        let read: Value = client.get(&url).await.unwrap();
        assert_eq!(read["displayName"], "new");
        assert_eq!(server.requests_to("GET", &app).len(), 2);
        // Once seen, reads are single calls again.
        let _: Value = client.get(&url).await.unwrap();
        assert_eq!(server.requests_to("GET", &app).len(), 3);
    }

    #[tokio::test]
    async fn throttling_honours_retry_after_seconds() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            APPS,
            vec![
                Canned::graph_error(429, "TooManyRequests", "slow down").header("Retry-After", "1"),
                ok_page(json!([])),
            ],
        );
        let client = server.client();
        let started = Instant::now();
        let apps: Vec<Value> = client
            .list_all(&client.url("/applications", &[]))
            .await
            .unwrap();
        assert!(apps.is_empty());
        assert!(
            started.elapsed() >= Duration::from_millis(950),
            "waited {:?}",
            started.elapsed()
        );
        assert_eq!(server.requests_to("GET", APPS).len(), 2);
    }

    #[tokio::test]
    async fn throttling_honours_retry_after_http_date() {
        let server = MockServer::start().await;
        let when = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
        server.on(
            "GET",
            APPS,
            vec![
                Canned::graph_error(429, "TooManyRequests", "slow down")
                    .header("Retry-After", &when),
                ok_page(json!([])),
            ],
        );
        let client = server.client();
        let started = Instant::now();
        client
            .get::<Value>(&client.url("/applications", &[]))
            .await
            .unwrap();
        // HTTP-dates have whole-second precision, so the wait is between one and two seconds.
        assert!(
            started.elapsed() >= Duration::from_millis(950),
            "waited {:?}",
            started.elapsed()
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn retry_after_forms_are_parsed() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "past dates mean now"
        );
        let future = parse_retry_after(&httpdate::fmt_http_date(
            SystemTime::now() + Duration::from_secs(30),
        ))
        .unwrap();
        assert!(future > Duration::from_secs(28) && future <= Duration::from_secs(30));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[tokio::test]
    async fn server_errors_are_retried_until_the_operation_deadline() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            APPS,
            vec![Canned::graph_error(503, "serviceUnavailable", "try later")],
        );
        let client = server.client();
        let started = tokio::time::Instant::now();
        let deadline = started + Duration::from_millis(600);
        let error = crate::framework::context::with_operation_deadline(
            deadline,
            client.get::<Value>(&client.url("/applications", &[])),
        )
        .await
        .unwrap_err();
        assert_eq!(error.status(), Some(503));
        assert!(tokio::time::Instant::now() <= deadline + Duration::from_millis(100));
        // Backoff of 10-40 ms: far more attempts than any fixed count would allow in that time.
        assert!(server.requests_to("GET", APPS).len() > 8);
    }

    /// A storm longer than any attempt count: 40 throttled answers in a row are waited out.
    #[tokio::test]
    async fn a_long_throttling_storm_is_waited_out_within_the_deadline() {
        let server = MockServer::start().await;
        let mut answers: Vec<Canned> = (0..40)
            .map(|_| {
                Canned::graph_error(429, "TooManyRequests", "slow down").header("Retry-After", "0")
            })
            .collect();
        answers.push(ok_page(json!([])));
        server.on("GET", APPS, answers);
        let client = server.client();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        crate::framework::context::with_operation_deadline(
            deadline,
            client.get::<Value>(&client.url("/applications", &[])),
        )
        .await
        .unwrap();
        assert_eq!(server.requests_to("GET", APPS).len(), 41);
    }

    #[tokio::test]
    async fn each_retryable_status_is_retried_until_success() {
        for status in [408, 424, 500, 502, 503, 504] {
            let server = MockServer::start().await;
            server.on(
                "GET",
                APPS,
                vec![
                    Canned::graph_error(status, "transient", "x"),
                    ok_page(json!([])),
                ],
            );
            let client = server.client();
            client
                .get::<Value>(&client.url("/applications", &[]))
                .await
                .unwrap();
            assert_eq!(server.requests_to("GET", APPS).len(), 2, "status {status}");
        }
    }

    #[tokio::test]
    async fn retry_after_beyond_the_time_budget_fails_at_once() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            APPS,
            vec![
                Canned::graph_error(429, "TooManyRequests", "later").header("Retry-After", "3600"),
            ],
        );
        let client = server.client();
        let started = Instant::now();
        let error = client
            .get::<Value>(&client.url("/applications", &[]))
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(429));
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(server.requests_to("GET", APPS).len(), 1);
    }

    #[tokio::test]
    async fn client_errors_are_not_retried_and_keep_graph_details() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            APPS,
            vec![
                Canned::graph_error(400, "Request_BadRequest", "Invalid filter clause")
                    .header("request-id", "req-123"),
            ],
        );
        let client = server.client();
        let error = client
            .get::<Value>(&client.url("/applications", &[("$filter", "bad")]))
            .await
            .unwrap_err();
        assert_eq!(server.requests_to("GET", APPS).len(), 1);
        let GraphError::Api(api) = &error else {
            panic!("{error:?}")
        };
        assert_eq!(api.code, "Request_BadRequest");
        assert_eq!(api.request_id.as_deref(), Some("req-123"));
        assert_eq!(
            error.to_string(),
            "Microsoft Graph GET /applications?%24filter=bad failed with 400 Request_BadRequest: Invalid filter clause (request-id req-123)"
        );
    }

    #[tokio::test]
    async fn connection_failures_are_retried_then_reported() {
        // A port that was just free: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let server = MockServer::start().await;
        let client = GraphClient::with_token_provider(
            http_client(Duration::from_secs(5)).unwrap(),
            &format!("http://{address}/v1.0"),
            &server.base,
            Arc::new(server.token_provider()),
            fast_retries(),
        );
        let error = client
            .get::<Value>(&client.url("/applications", &[]))
            .await
            .unwrap_err();
        assert!(matches!(error, GraphError::Transport { .. }), "{error:?}");
        // The cause is said, not only reqwest's "error sending request".
        let text = error.to_string().to_lowercase();
        assert!(
            text.contains("refused") || text.contains("connect"),
            "{text}"
        );
        // One token request: the cached token served every attempt.
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn every_request_has_its_own_client_request_id_and_the_bearer_token() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            APPS,
            vec![Canned::graph_error(500, "x", "y"), ok_page(json!([]))],
        );
        let client = server.client();
        client
            .get::<Value>(&client.url("/applications", &[]))
            .await
            .unwrap();
        let requests = server.requests_to("GET", APPS);
        let ids: Vec<String> = requests
            .iter()
            .map(|r| r.headers["client-request-id"].to_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 2);
        assert_ne!(ids[0], ids[1]);
        assert!(ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()));
        assert_eq!(
            requests[0].headers["authorization"],
            format!("Bearer {ACCESS_TOKEN}").as_str()
        );
    }

    #[tokio::test]
    async fn unauthorized_refreshes_the_token_once() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            APPS,
            vec![
                Canned::graph_error(
                    401,
                    "InvalidAuthenticationToken",
                    "Access token has expired",
                ),
                ok_page(json!([])),
            ],
        );
        let client = server.client();
        client
            .get::<Value>(&client.url("/applications", &[]))
            .await
            .unwrap();
        assert_eq!(
            server
                .requests_to("POST", &format!("/{TENANT}/oauth2/v2.0/token"))
                .len(),
            2
        );

        server.on(
            "GET",
            APPS,
            vec![Canned::graph_error(
                401,
                "InvalidAuthenticationToken",
                "nope",
            )],
        );
        let error = client
            .get::<Value>(&client.url("/applications", &[]))
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(401));
    }

    #[tokio::test]
    async fn paging_follows_next_links() {
        let server = MockServer::start().await;
        let base = server.graph_endpoint();
        server.on("GET", APPS, vec![Canned::json(200, json!({ "value": [1, 2], "@odata.nextLink": format!("{base}/applications/page2?$skiptoken=abc") }))]);
        server.on(
            "GET",
            "/v1.0/applications/page2",
            vec![Canned::json(
                200,
                json!({ "value": [3], "@odata.nextLink": format!("{base}/applications/page3") }),
            )],
        );
        server.on("GET", "/v1.0/applications/page3", vec![ok_page(json!([4]))]);
        let client = server.client();
        let all: Vec<u32> = client
            .list_all(&client.url("/applications", &[]))
            .await
            .unwrap();
        assert_eq!(all, [1, 2, 3, 4]);
        assert_eq!(
            server.requests_to("GET", "/v1.0/applications/page2")[0]
                .query
                .as_deref(),
            Some("$skiptoken=abc")
        );
    }

    #[tokio::test]
    async fn next_link_outside_the_endpoint_is_refused() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            APPS,
            vec![Canned::json(
                200,
                json!({ "value": [1], "@odata.nextLink": "https://attacker.example/v1.0/next" }),
            )],
        );
        let client = server.client();
        let error = client
            .list_all::<u32>(&client.url("/applications", &[]))
            .await
            .unwrap_err();
        assert!(matches!(error, GraphError::ForeignUrl { .. }), "{error:?}");
    }

    #[tokio::test]
    async fn read_after_write_waits_out_replication_lag() {
        let server = MockServer::start().await;
        let not_found = Canned::graph_error(
            404,
            "Request_ResourceNotFound",
            "Resource 'x' does not exist",
        );
        server.on(
            "GET",
            "/v1.0/applications/app-1",
            vec![
                not_found.clone(),
                not_found,
                Canned::json(200, json!({ "id": "app-1", "appId": "a" })),
            ],
        );
        let client = server.client();
        let application = client
            .read_after_write(|| client.get_application("app-1"))
            .await
            .unwrap();
        assert_eq!(application.id, "app-1");
        assert_eq!(
            server.requests_to("GET", "/v1.0/applications/app-1").len(),
            3
        );
    }

    #[tokio::test]
    async fn read_after_write_gives_up_after_the_replication_timeout() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            "/v1.0/applications/gone",
            vec![Canned::graph_error(
                404,
                "Request_ResourceNotFound",
                "Resource 'gone' does not exist",
            )],
        );
        let client = server.client();
        let started = Instant::now();
        let error = client
            .read_after_write(|| client.get_application("gone"))
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some("Request_ResourceNotFound"));
        assert!(started.elapsed() < fast_retries().replication_timeout + Duration::from_secs(3));
        assert!(server.requests_to("GET", "/v1.0/applications/gone").len() > 2);
    }

    #[test]
    fn backoff_grows_and_stays_within_bounds() {
        let tokens = Arc::new(TokenProvider::with_credential(
            reqwest::Client::new(),
            "http://127.0.0.1:9",
            "s",
            crate::clients::graph::Credential::AzureCli {
                tenant_id: None,
                executable: "az".into(),
            },
        ));
        let retry = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        let client = GraphClient::with_token_provider(
            reqwest::Client::new(),
            "http://g/v1.0",
            "http://l",
            tokens,
            retry,
        );
        for attempt in 1..=10 {
            let expected_cap = Duration::from_millis(100 * (1u64 << (attempt - 1)))
                .min(Duration::from_millis(1000));
            for _ in 0..20 {
                let delay = client.backoff(attempt);
                assert!(
                    delay >= expected_cap / 2 && delay <= expected_cap,
                    "attempt {attempt}: {delay:?}"
                );
            }
        }
    }

    #[derive(Clone, Default)]
    struct CapturedLogs(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for CapturedLogs {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn logs_name_requests_but_never_secrets() {
        // A process-wide subscriber: thread-scoped ones miss events whose callsite interest another test thread
        // cached first. Other tests' events land here too, which only widens the secret check below.
        static LOGS: std::sync::OnceLock<CapturedLogs> = std::sync::OnceLock::new();
        let logs = LOGS.get_or_init(|| {
            let logs = CapturedLogs::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other test installs a subscriber");
            logs
        });

        let server = MockServer::start().await;
        let secrets_path = "/v1.0/servicePrincipals/sp-1/synchronization/secrets";
        server.on(
            "PUT",
            secrets_path,
            vec![
                Canned::graph_error(503, "busy", "later"),
                Canned::empty(204),
            ],
        );
        let client = server.client();
        let secrets = [crate::clients::graph::models::SynchronizationSecret {
            key: "SecretToken".into(),
            value: Some("scim-bearer-token-value".into()),
        }];
        client
            .put_synchronization_secrets("sp-1", &secrets)
            .await
            .unwrap();
        tracing::info!(client = ?client, "client state");

        let output = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert!(output.contains("graph request"), "{output}");
        assert!(
            output.contains("/servicePrincipals/sp-1/synchronization/secrets"),
            "{output}"
        );
        assert!(
            output.contains("status=503") && output.contains("status=204"),
            "{output}"
        );
        assert!(output.contains("client_request_id="), "{output}");
        for secret in [
            "scim-bearer-token-value",
            ACCESS_TOKEN,
            CLIENT_SECRET,
            "Bearer",
        ] {
            assert!(
                !output.contains(secret),
                "{secret} leaked into the logs:\n{output}"
            );
        }
    }
}
