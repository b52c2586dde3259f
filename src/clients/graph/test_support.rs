//! A scripted HTTP server for the Graph client's tests: each (method, path) answers from a queue of canned
//! responses (the last one repeats) and every request is recorded for assertions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::auth::{Credential, TokenProvider};
use super::client::{GraphClient, RetryPolicy, http_client};

pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT_ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
pub const CLIENT_SECRET: &str = "test-client-secret-value";
pub const ACCESS_TOKEN: &str = "test-access-token-value";

#[derive(Clone)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Canned {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: vec![],
            body: String::new(),
            delay: Duration::ZERO,
        }
    }
    pub fn graph_error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({ "error": { "code": code, "message": message } }),
        )
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
    pub fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
    /// The decoded query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }
}

#[derive(Default)]
struct State {
    scripts: HashMap<(String, String), Vec<Canned>>,
    requests: Vec<Recorded>,
}

#[derive(Clone, Default)]
pub struct MockServer {
    state: Arc<Mutex<State>>,
    pub base: String,
}

impl MockServer {
    /// Starts on 127.0.0.1 with a token endpoint for [`TENANT`] answering [`ACCESS_TOKEN`] for an hour.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handler_state = state.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = handler_state.clone();
                async move { answer(state, method, uri, headers, body).await }
            },
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let server = Self { state, base };
        server.on(
            "POST",
            &format!("/{TENANT}/oauth2/v2.0/token"),
            vec![Canned::json(
                200,
                serde_json::json!({ "token_type": "Bearer", "expires_in": 3600, "access_token": ACCESS_TOKEN }),
            )],
        );
        server
    }

    pub fn on(&self, method: &str, path: &str, responses: Vec<Canned>) {
        self.state
            .lock()
            .unwrap()
            .scripts
            .insert((method.into(), path.into()), responses);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    pub fn graph_endpoint(&self) -> String {
        format!("{}/v1.0", self.base)
    }

    pub fn token_provider(&self) -> TokenProvider {
        TokenProvider::with_credential(
            http_client(Duration::from_secs(10)).unwrap(),
            &self.base,
            "https://graph.microsoft.com/.default",
            Credential::ClientSecret {
                tenant_id: TENANT.into(),
                client_id: CLIENT_ID.into(),
                secret: CLIENT_SECRET.into(),
            },
        )
    }

    pub fn client(&self) -> GraphClient {
        self.client_with(fast_retries())
    }

    pub fn client_with(&self, retry: RetryPolicy) -> GraphClient {
        GraphClient::with_token_provider(
            http_client(Duration::from_secs(10)).unwrap(),
            &self.graph_endpoint(),
            &self.base,
            Arc::new(self.token_provider()),
            retry,
        )
    }
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_elapsed: Duration::from_secs(3),
        replication_timeout: Duration::from_millis(800),
        replication_interval: Duration::from_millis(20),
        request_timeout: Duration::from_secs(10),
    }
}

async fn answer(
    state: Arc<Mutex<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = (method.to_string(), uri.path().to_string());
    let canned = {
        let mut state = state.lock().unwrap();
        state.requests.push(Recorded {
            method: key.0.clone(),
            path: key.1.clone(),
            query: uri.query().map(str::to_string),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        state.scripts.get_mut(&key).map(|queue| {
            if queue.len() > 1 {
                queue.remove(0)
            } else {
                queue[0].clone()
            }
        })
    };
    let Some(canned) = canned else {
        return (
            StatusCode::NOT_IMPLEMENTED,
            format!("no script for {} {}", key.0, key.1),
        )
            .into_response();
    };
    if !canned.delay.is_zero() {
        tokio::time::sleep(canned.delay).await;
    }
    let mut response = Response::builder().status(canned.status);
    if !canned.body.is_empty() {
        response = response.header("content-type", "application/json");
    }
    for (name, value) in &canned.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    response.body(axum::body::Body::from(canned.body)).unwrap()
}
