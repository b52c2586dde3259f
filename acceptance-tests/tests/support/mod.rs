//! What the acceptance tests need beyond the harness: the one plain HTTP client for the emulators (the Graph
//! API with a token, the Graph emulator's `/_emulator/` admin API, the AWS proxy's `/_proxy/` API), without
//! pulling an HTTP client crate into the harness.

#![allow(dead_code)] // each test binary uses its own subset

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use idbridge_acceptance::{EmulatorEndpoints, Emulators};
use serde_json::{Value, json};

/// The "AWS IAM Identity Center (successor to AWS SSO)" gallery application template.
pub const AWS_GALLERY_TEMPLATE: &str = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4";

/// The emulators are shared by every test of a binary, and fault/lag settings are global: tests that use
/// them run one at a time.
static EMULATOR_LOCK: Mutex<()> = Mutex::new(());

pub fn exclusive() -> MutexGuard<'static, ()> {
    EMULATOR_LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

pub struct Response {
    pub status: u16,
    /// The JSON answer; `Null` when the answer is empty, a JSON string holding the text when it is not JSON.
    pub body: Value,
}

/// The shared emulators' endpoints (starting them on first use).
pub fn endpoints() -> &'static EmulatorEndpoints {
    Emulators::shared()
        .expect("the emulators start (the case itself would have failed otherwise)")
        .endpoints()
}

/// One HTTP/1.1 request to a `http://127.0.0.1:port` base URL; panics when the emulator cannot be reached.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Response {
    try_http(method, url, headers, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// [`http`] for hooks and checks that report a failure instead of panicking.
pub fn try_http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Response> {
    let rest = url
        .strip_prefix("http://")
        .expect("emulator URLs are plain http");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = TcpStream::connect(authority)?;
    // A stuck emulator fails the test instead of hanging it.
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.unwrap_or("");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, payload) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let payload = if chunked {
        dechunk(payload)
    } else {
        payload.to_string()
    };
    let body = if payload.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&payload).unwrap_or(Value::String(payload))
    };
    Ok(Response { status, body })
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// A call to the Graph emulator's admin API (no token needed), e.g. `admin("PUT", "/settings", Some(json!({...})))`.
pub fn admin(method: &str, path: &str, body: Option<Value>) -> Response {
    let body = body.map(|b| b.to_string());
    http(
        method,
        &format!("{}/_emulator{path}", endpoints().graph_url),
        &[("Content-Type", "application/json")],
        body.as_deref(),
    )
}

/// The shared emulators' Graph side.
pub struct Graph {
    pub endpoints: EmulatorEndpoints,
    token: String,
}

impl Graph {
    pub fn connect() -> Graph {
        let endpoints = endpoints().clone();
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
            endpoints.client_id, endpoints.client_secret
        );
        let answer = http(
            "POST",
            &format!(
                "{}/{}/oauth2/v2.0/token",
                endpoints.login_url, endpoints.tenant_id
            ),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(&form),
        );
        assert_eq!(answer.status, 200, "token: {}", answer.body);
        let token = answer.body["access_token"].as_str().unwrap().to_string();
        Graph { endpoints, token }
    }

    /// A Graph v1.0 call, e.g. `graph.call("GET", "/applications/{id}", None)`.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Response {
        let auth = format!("Bearer {}", self.token);
        let body = body.map(|b| b.to_string());
        http(
            method,
            &format!("{}/v1.0{path}", self.endpoints.graph_url),
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
                // The tests inspect the true state; the provider alone meets the replication lag.
                ("X-Idbridge-Consistent-Read", "true"),
            ],
            body.as_deref(),
        )
    }

    /// A Graph call that must succeed; its JSON answer.
    pub fn call_ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let Response { status, body } = self.call(method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: HTTP {status}: {body}"
        );
        body
    }

    /// The AWS gallery app with a provisioning job whose secrets point at the emulator's SCIM endpoint, as an
    /// admin sets it up by hand. Returns (application object id, service principal id).
    pub fn provisioned_app(&self, name: &str, scim_token: &str) -> (String, String) {
        let created = self.call_ok(
            "POST",
            &format!("/applicationTemplates/{AWS_GALLERY_TEMPLATE}/instantiate"),
            Some(json!({ "displayName": name })),
        );
        let app_id = created["application"]["id"].as_str().unwrap().to_string();
        let sp_id = created["servicePrincipal"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let templates = self.call_ok(
            "GET",
            &format!("/servicePrincipals/{sp_id}/synchronization/templates"),
            None,
        );
        let template = templates["value"][0]["id"].as_str().unwrap().to_string();
        self.call_ok(
            "POST",
            &format!("/servicePrincipals/{sp_id}/synchronization/jobs"),
            Some(json!({ "templateId": template })),
        );
        self.call_ok(
            "PUT",
            &format!("/servicePrincipals/{sp_id}/synchronization/secrets"),
            Some(json!({ "value": [
                { "key": "BaseAddress", "value": self.endpoints.scim_endpoint },
                { "key": "SecretToken", "value": scim_token },
            ]})),
        );
        (app_id, sp_id)
    }

    /// An Entra group with one member who has everything AWS requires of a user. Returns its object id.
    pub fn group_with_member(&self, name: &str) -> String {
        let group = self.call_ok(
            "POST",
            "/groups",
            Some(json!({ "displayName": name, "mailEnabled": false, "mailNickname": name, "securityEnabled": true })),
        );
        let group_id = group["id"].as_str().unwrap().to_string();
        let user = self.call_ok(
            "POST",
            "/users",
            Some(json!({
                "accountEnabled": true, "displayName": format!("{name} member"), "mailNickname": format!("{name}-m"),
                "passwordProfile": { "password": "Emulator-Only-1!" },
                "userPrincipalName": format!("{name}-member@example.com"), "givenName": "Acc", "surname": name,
            })),
        );
        self.call_ok(
            "POST",
            &format!("/groups/{group_id}/members/$ref"),
            Some(json!({ "@odata.id": format!("{}/v1.0/directoryObjects/{}", self.endpoints.graph_url, user["id"].as_str().unwrap()) })),
        );
        group_id
    }

    /// An admin API call, e.g. `graph.admin("PUT", "/settings", Some(json!({...})))`.
    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Response {
        admin(method, path, body)
    }

    /// Applications whose display name starts with `prefix`.
    pub fn applications_named(&self, prefix: &str) -> Vec<Value> {
        let filter = format!("startswith(displayName,'{prefix}')")
            .replace(' ', "%20")
            .replace('\'', "%27");
        let answer = self.call("GET", &format!("/applications?$filter={filter}"), None);
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body["value"].as_array().cloned().unwrap_or_default()
    }

    /// Creates a user (for owners and assignments) and returns its object id.
    pub fn create_user(&self, name: &str) -> String {
        let answer = self.call(
            "POST",
            "/users",
            Some(serde_json::json!({
                "accountEnabled": true,
                "displayName": name,
                "mailNickname": name,
                "userPrincipalName": format!("{name}-{}@idbridge.example", std::process::id()),
                "passwordProfile": { "password": "Acc-Test-Passw0rd!" }
            })),
        );
        assert_eq!(answer.status, 201, "{}", answer.body);
        answer.body["id"].as_str().unwrap().to_string()
    }
}

/// A unique suffix so concurrent or repeated runs never collide on names; short enough for AWS names
/// (permission sets allow 32 characters).
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}-{}-{nanos:x}", std::process::id() % 10_000)
}

/// Whether the output of one of the case's plans so far (its `logs/*plan.stdout`, JSON diagnostics included)
/// contains every one of `texts`: how a test sees a plan-time warning.
pub fn a_plan_showed(work_dir: &std::path::Path, texts: &[&str]) -> std::io::Result<bool> {
    Ok(std::fs::read_dir(work_dir.join("logs"))?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().ends_with("plan.stdout"))
        .any(|entry| {
            std::fs::read_to_string(entry.path())
                .is_ok_and(|text| texts.iter().all(|wanted| text.contains(wanted)))
        }))
}
