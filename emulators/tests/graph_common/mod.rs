//! Helpers shared by the Graph emulator's integration tests: a signed-in client and a tiny SCIM server that
//! records what the provisioning engine sends.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use idbridge_emulators::graph::{self, GraphConfig, RunningGraph};
use reqwest::Client;
use serde_json::{Value, json};

pub struct Graph {
    pub server: RunningGraph,
    pub http: Client,
    pub token: String,
}

impl Graph {
    pub async fn start(config: GraphConfig) -> Graph {
        let server = graph::start(config.clone()).await.expect("emulator starts");
        let http = Client::new();
        let response = http
            .post(server.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", config.client_id.as_str()),
                ("client_secret", config.client_secret.as_str()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let token = response.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        Graph {
            server,
            http,
            token,
        }
    }

    pub async fn default() -> Graph {
        Graph::start(GraphConfig::default()).await
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}/v1.0{path}", self.server.base_url)
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> StatusCode {
        let mut request = self
            .http
            .request(method, format!("{}/_emulator/{path}", self.server.base_url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        StatusCode::from_u16(request.send().await.unwrap().status().as_u16()).unwrap()
    }

    pub async fn request_log(&self) -> Vec<Value> {
        let log: Value = self
            .http
            .get(format!("{}/_emulator/requests", self.server.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        log["requests"].as_array().unwrap().clone()
    }

    /// Instantiates the AWS gallery app; returns (application, servicePrincipal).
    pub async fn instantiate_aws(&self, name: &str) -> (Value, Value) {
        let (status, body) = self
            .post(
                &format!(
                    "/applicationTemplates/{}/instantiate",
                    graph::AWS_TEMPLATE_ID
                ),
                json!({"displayName": name}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["application"].clone(),
            body["servicePrincipal"].clone(),
        )
    }

    pub async fn create_user(
        &self,
        upn: &str,
        given: Option<&str>,
        surname: Option<&str>,
    ) -> String {
        let mut body = json!({"accountEnabled": true, "displayName": upn.split('@').next().unwrap(), "mailNickname": upn.split('@').next().unwrap(),
                              "userPrincipalName": upn, "mail": upn, "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Emulat0r!pass"}});
        if let Some(given) = given {
            body["givenName"] = json!(given);
        }
        if let Some(surname) = surname {
            body["surname"] = json!(surname);
        }
        let (status, user) = self.post("/users", body).await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        user["id"].as_str().unwrap().to_string()
    }

    pub async fn create_group(&self, name: &str) -> String {
        let (status, group) = self
            .post("/groups", json!({"displayName": name, "mailEnabled": false, "mailNickname": name.replace(' ', ""), "securityEnabled": true}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{group}");
        group["id"].as_str().unwrap().to_string()
    }

    pub async fn add_member(&self, group: &str, member: &str) {
        let (status, body) = self
            .post(&format!("/groups/{group}/members/$ref"), json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{member}")}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    pub async fn assign(&self, sp: &Value, principal: &str) -> String {
        let role = sp["appRoles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["displayName"] == "User")
            .unwrap()["id"]
            .clone();
        let sp_id = sp["id"].as_str().unwrap();
        let (status, body) = self
            .post(
                &format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"),
                json!({"principalId": principal, "resourceId": sp_id, "appRoleId": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Creates a job from the discovered AWS template and saves credentials for `scim`; returns (job id, rule id).
    pub async fn provisioning_job(&self, sp_id: &str, scim: &ScimServer) -> (String, String) {
        let (status, templates) = self
            .get(&format!(
                "/servicePrincipals/{sp_id}/synchronization/templates"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{templates}");
        let template_id = templates["value"][0]["id"]
            .as_str()
            .expect("a synchronization template")
            .to_string();
        let (status, job) = self
            .post(
                &format!("/servicePrincipals/{sp_id}/synchronization/jobs"),
                json!({"templateId": template_id}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{job}");
        let job_id = job["id"].as_str().unwrap().to_string();
        let (status, _) = self
            .send(
                Method::PUT,
                &format!("/servicePrincipals/{sp_id}/synchronization/secrets"),
                Some(json!({"value": [{"key": "BaseAddress", "value": scim.base_address()}, {"key": "SecretToken", "value": scim.token}]})),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, schema) = self
            .get(&format!(
                "/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/schema"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{schema}");
        (
            job_id,
            schema["synchronizationRules"][0]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    }
}

impl Graph {
    /// Polls a synchronization job until its status code is `code` (the engine runs in the background).
    pub async fn wait_for_job_code(&self, job_path: &str, code: &str) -> Value {
        let mut job = Value::Null;
        for _ in 0..800 {
            job = self.get(job_path).await.1;
            if job["status"]["code"] == code {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("job never reached status {code}: {job}");
    }
}

#[derive(Default)]
pub struct ScimState {
    pub users: Vec<Value>,
    pub groups: Vec<Value>,
    /// (method, path, query, body) of every request received.
    pub requests: Vec<(String, String, Option<String>, Value)>,
    pub reject_all: bool,
}

pub struct ScimServer {
    pub url: String,
    pub token: String,
    pub state: Arc<Mutex<ScimState>>,
    _task: tokio::task::JoinHandle<()>,
}

impl ScimServer {
    pub fn base_address(&self) -> String {
        format!("{}/scim/v2/", self.url)
    }

    pub fn snapshot(&self) -> std::sync::MutexGuard<'_, ScimState> {
        self.state.lock().unwrap()
    }

    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.snapshot()
            .requests
            .iter()
            .filter(|(m, p, _, _)| m == method && p.starts_with(path_prefix))
            .count()
    }

    /// Waits until `check` holds (the engine runs in the background).
    pub async fn wait_for(&self, what: &str, check: impl Fn(&ScimState) -> bool) {
        // Generous: the machine running the tests may be busy.
        for _ in 0..800 {
            if check(&self.snapshot()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "timed out waiting for: {what}; requests: {:#?}",
            self.snapshot().requests
        );
    }
}

type Shared = (Arc<Mutex<ScimState>>, String);

fn authorized(headers: &HeaderMap, shared: &Shared) -> bool {
    !shared.0.lock().unwrap().reject_all
        && headers.get("authorization").and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {}", shared.1))
}

fn filter_value(query: &Option<String>) -> Option<(String, String)> {
    let pairs: HashMap<String, String> = url::form_urlencoded::parse(query.as_deref()?.as_bytes())
        .into_owned()
        .collect();
    let filter = pairs.get("filter")?;
    let (attribute, rest) = filter.split_once(" eq ")?;
    Some((attribute.to_string(), rest.trim_matches('"').to_string()))
}

async fn scim_handler(
    State(shared): State<Shared>,
    method: Method,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    shared.0.lock().unwrap().requests.push((
        method.to_string(),
        format!("/{path}"),
        query.clone(),
        body.clone(),
    ));
    if !authorized(&headers, &shared) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "401", "detail": "Unauthorized"}))).into_response();
    }
    let mut state = shared.0.lock().unwrap();
    let segments: Vec<&str> = path.split('/').collect();
    let (collection, id) = (segments[0], segments.get(1).copied());
    let resources = match collection {
        "Users" => &mut state.users,
        "Groups" => &mut state.groups,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match (method.as_str(), id) {
        ("GET", None) => {
            let found: Vec<Value> = match filter_value(&query) {
                Some((attribute, value)) => resources
                    .iter()
                    .filter(|r| r[&attribute] == value.as_str())
                    .cloned()
                    .collect(),
                None => resources.clone(),
            };
            axum::Json(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": found.len(), "Resources": found})).into_response()
        }
        ("POST", None) => {
            let mut created = body;
            created["id"] = json!(uuid::Uuid::new_v4().to_string());
            resources.push(created.clone());
            (StatusCode::CREATED, axum::Json(created)).into_response()
        }
        ("PATCH", Some(id)) => {
            let Some(resource) = resources.iter_mut().find(|r| r["id"] == id) else {
                return StatusCode::NOT_FOUND.into_response();
            };
            for op in body["Operations"].as_array().into_iter().flatten() {
                let path = op["path"].as_str().unwrap_or_default();
                match (
                    op["op"]
                        .as_str()
                        .unwrap_or_default()
                        .to_ascii_lowercase()
                        .as_str(),
                    path,
                ) {
                    ("add", "members") => {
                        let members = resource["members"].as_array_mut().unwrap();
                        members.extend(op["value"].as_array().unwrap().iter().cloned());
                    }
                    ("remove", "members") => {
                        let gone: Vec<Value> = op["value"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|v| v["value"].clone())
                            .collect();
                        resource["members"]
                            .as_array_mut()
                            .unwrap()
                            .retain(|m| !gone.contains(&m["value"]));
                    }
                    ("replace", path) => resource[path] = op["value"].clone(),
                    _ => {}
                }
            }
            if collection == "Groups" {
                StatusCode::NO_CONTENT.into_response()
            } else {
                axum::Json(resource.clone()).into_response()
            }
        }
        ("DELETE", Some(id)) => {
            resources.retain(|r| r["id"] != id);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

pub async fn scim_server() -> ScimServer {
    let token = format!("scim-token-{}", uuid::Uuid::new_v4());
    let state = Arc::new(Mutex::new(ScimState::default()));
    let app = Router::new()
        .route(
            "/scim/v2/{*path}",
            get(scim_handler)
                .post(scim_handler)
                .patch(scim_handler)
                .delete(scim_handler),
        )
        .with_state((state.clone(), token.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    ScimServer {
        url,
        token,
        state,
        _task: task,
    }
}
