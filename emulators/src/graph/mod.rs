//! Microsoft Graph v1.0 + Entra login-host emulator with a SCIM provisioning engine. See `README.md` beside this
//! file for endpoints, the `/_emulator/` admin API, defaults and known divergences from real Graph.

mod admin;
mod auth;
mod certs;
mod conditional_access;
pub mod csdl;
mod directory;
mod engine;
mod error;
mod federation;
mod objects;
mod odata;
mod state;
mod sync;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

pub use objects::{AWS_SYNC_TEMPLATE_ID, AWS_TEMPLATE_ID, CUSTOM_TEMPLATE_ID};
pub use sync::AWS_RULE_ID;

/// Tenant id the emulator answers for unless configured otherwise.
pub const DEFAULT_TENANT_ID: &str = "6f1f3b6e-0d52-4c1e-9a57-2f6f0e6d7a10";
/// Client (application) id of the app registration the provider signs in as.
pub const DEFAULT_CLIENT_ID: &str = "0b5e8a4c-3d1f-4f7a-b2c9-8e6d4a1f2c3b";
/// Client secret of that app registration (a fixed test value, never a real credential).
pub const DEFAULT_CLIENT_SECRET: &str = "idbridge-emulator-client-secret";

#[derive(Clone)]
pub struct GraphConfig {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// PEM certificate registered on the app: client assertions must be RS256 JWTs signed by its key.
    pub client_certificate_pem: Option<String>,
    /// Pause between the scheduled cycles of a started synchronization job (Entra: ~40 minutes).
    pub provisioning_interval: Duration,
    /// Default page size of collections (Graph: 100); small values make clients exercise `@odata.nextLink`.
    pub page_size: usize,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Longest replication lag of a write (Graph is eventually consistent): each created object answers 404
    /// and each PATCH keeps answering the previous version for a time drawn between 0 and this. Zero: none.
    pub replication_lag: Duration,
    /// Seed of the generator that draws the lags, so that a run can be replayed.
    pub replication_lag_seed: u64,
}

impl Default for GraphConfig {
    fn default() -> Self {
        GraphConfig {
            tenant_id: DEFAULT_TENANT_ID.into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            client_certificate_pem: None,
            provisioning_interval: Duration::from_secs(20),
            page_size: 100,
            port: 0,
            replication_lag: Duration::ZERO,
            replication_lag_seed: 0,
        }
    }
}

impl std::fmt::Debug for GraphConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphConfig")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field(
                "client_certificate_pem",
                &self
                    .client_certificate_pem
                    .as_ref()
                    .map(|_| "<certificate>"),
            )
            .field("provisioning_interval", &self.provisioning_interval)
            .field("page_size", &self.page_size)
            .field("port", &self.port)
            .field("replication_lag", &self.replication_lag)
            .field("replication_lag_seed", &self.replication_lag_seed)
            .finish()
    }
}

/// A running emulator. Dropping it (or calling `shutdown`) stops the listener, open connections and every
/// provisioning job.
pub struct RunningGraph {
    /// `http://127.0.0.1:PORT`: Graph is at `{base_url}/v1.0`, the login host at `{base_url}/{tenant}/...`.
    pub base_url: String,
    pub tenant_id: String,
    shutdown: watch::Sender<bool>,
    state: Arc<state::AppState>,
}

impl RunningGraph {
    /// `{base_url}/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.base_url, self.tenant_id)
    }

    pub fn graph_url(&self) -> String {
        format!("{}/v1.0", self.base_url)
    }

    /// Stops the emulator; the same as dropping it, spelled out for readers of test code.
    pub fn shutdown(self) {}
}

impl Drop for RunningGraph {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.state.store().stop_all_jobs();
    }
}

/// Adds Graph's `request-id` / `client-request-id` headers and fills the ids into error bodies.
async fn request_context(request: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = request
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    let consistent = request
        .headers()
        .contains_key(state::CONSISTENT_READ_HEADER);
    let mut response = state::CONSISTENT_READ
        .scope(consistent, next.run(request))
        .await;
    if let Some(marker) = response.extensions().get::<error::ErrorMarker>().cloned() {
        let body = error::render_body(
            &marker.code,
            &marker.message,
            &request_id,
            &client_request_id,
        );
        response.headers_mut().remove("content-length");
        *response.body_mut() = axum::body::Body::from(body);
    }
    for (name, value) in [
        ("request-id", &request_id),
        ("client-request-id", &client_request_id),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn router(state: Arc<state::AppState>) -> Router {
    let graph = directory::routes()
        .merge(sync::routes())
        .merge(conditional_access::routes())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_bearer,
        ));
    let login = Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            axum::routing::post(auth::token),
        )
        .route(
            "/{tenant}/federationmetadata/2007-06/federationmetadata.xml",
            axum::routing::get(federation::federation_metadata),
        );
    Router::new()
        .merge(graph)
        .merge(login)
        .merge(admin::routes())
        .fallback(unknown_segment)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            admin::faults_and_log,
        ))
        .layer(middleware::from_fn(request_context))
        .with_state(state)
}

/// Graph's answer for a URL it has no resource for.
async fn unknown_segment(request: Request) -> error::GraphError {
    let segment = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    error::GraphError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "BadRequest",
        format!("Resource not found for the segment '{segment}'."),
    )
}

/// Starts the emulator on 127.0.0.1. Fails if the port cannot be bound or the Graph CSDL (needed for strict body
/// checking) cannot be found: set `IDBRIDGE_GRAPH_CSDL` or place `shared/graph/v1.0-cleanMetadata.xml` beside the
/// repository.
pub async fn start(config: GraphConfig) -> std::io::Result<RunningGraph> {
    let model = tokio::task::spawn_blocking(csdl::model)
        .await
        .map_err(std::io::Error::other)?
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e))?;
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], config.port))).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(std::io::Error::other)?;
    let tenant_id = config.tenant_id.clone();
    let admin = admin::AdminState::from_config(&config);
    let state = Arc::new(state::AppState {
        config,
        base_url: base_url.clone(),
        model,
        store: Mutex::new(Default::default()),
        admin: Mutex::new(admin),
        tokens: Mutex::new(Default::default()),
        http,
        tenant_signing: OnceLock::new(),
    });
    let (shutdown, shutdown_rx) = watch::channel(false);
    tokio::spawn(accept_loop(listener, state.clone(), shutdown_rx));
    Ok(RunningGraph {
        base_url,
        tenant_id,
        shutdown,
        state,
    })
}

/// Serves connections one task each, so that a "dropped connection" fault can close exactly its own socket.
async fn accept_loop(
    listener: TcpListener,
    state: Arc<state::AppState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let app = router(state.clone());
    loop {
        let stream = tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let kill = Arc::new(Notify::new());
        let connection_kill = admin::ConnectionKill(kill.clone());
        let app = app.clone();
        let state = state.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(connection_kill.clone());
                // Resolved before routing: alternate keys are not path segments of their own, and Graph's
                // segment names are case-insensitive while the router's are not.
                if let Some(path) = directory::canonical_path(&state, request.uri().path()) {
                    let query = request
                        .uri()
                        .query()
                        .map(|q| format!("?{q}"))
                        .unwrap_or_default();
                    if let Ok(uri) = format!("{path}{query}").parse() {
                        *request.uri_mut() = uri;
                    }
                }
                tower::ServiceExt::oneshot(app.clone(), request)
            },
        );
        let mut connection_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = kill.notified() => {}
                _ = connection_shutdown.changed() => {}
            }
        });
    }
}
