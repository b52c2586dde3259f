//! The SCIM endpoint stand-in over HTTP with moto behind the AWS proxy, and an identitystore client on the same
//! store, for the SCIM integration tests.
#![allow(dead_code)]

use aws_sdk_identitystore::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_identitystore::types::{AlternateIdentifier, ExternalId};
use idbridge_emulators::aws_proxy::{self, ProxyConfig, RunningProxy};
use idbridge_emulators::moto::MotoServer;
use idbridge_emulators::scim::{self, RunningScim, ScimConfig};
use serde_json::{Value, json};

pub struct Env {
    _moto: MotoServer,
    pub proxy: RunningProxy,
    pub scim: RunningScim,
    pub http: reqwest::Client,
    pub ids: aws_sdk_identitystore::Client,
    pub store_id: String,
}

pub async fn env() -> Env {
    env_with(ScimConfig::default()).await
}

pub async fn env_with(config: ScimConfig) -> Env {
    let moto = MotoServer::start()
        .await
        .expect("moto starts (run scripts/setup.sh)");
    let proxy = aws_proxy::start(ProxyConfig::default(), &moto.url)
        .await
        .unwrap();
    let scim = scim::start(config, &proxy.base_url).await.unwrap();
    let ids = aws_sdk_identitystore::Client::from_conf(
        aws_sdk_identitystore::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "AKIDEXAMPLE",
                "dummy-secret",
                None,
                None,
                "test",
            ))
            .endpoint_url(&proxy.base_url)
            .build(),
    );
    let instances = reqwest::Client::new()
        .post(format!("{}/", proxy.base_url))
        .header("X-Amz-Target", "SWBExternalService.ListInstances")
        .header("Content-Type", "application/x-amz-json-1.1")
        .body("{}")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let store_id = instances["Instances"][0]["IdentityStoreId"]
        .as_str()
        .unwrap()
        .to_owned();
    Env {
        _moto: moto,
        proxy,
        scim,
        http: reqwest::Client::new(),
        ids,
        store_id,
    }
}

impl Env {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.scim.endpoint))
            .bearer_auth(&self.scim.token);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/scim+json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap()
            },
        )
    }

    pub async fn create_user(&self, user_name: &str) -> String {
        let (status, body) = self
            .call(reqwest::Method::POST, "Users", Some(user(user_name)))
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }
}

impl Env {
    /// POST /Groups with `members` (user ids); the id of the new group.
    pub async fn create_group(&self, display_name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "Groups",
                Some(json!({"schemas": [GROUP_SCHEMA], "displayName": display_name, "members": members})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// GET `path` (relative to the SCIM base address).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
}

pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

pub fn user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "externalId": format!("ext-{user_name}"),
        "displayName": format!("{user_name} Display"),
        "name": {"givenName": "Given", "familyName": "Family"},
        "emails": [{"value": format!("{user_name}@example.com"), "type": "work", "primary": true}],
        "active": true
    })
}

pub fn patch(operations: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The look-up key of an identity-store group or user by the external id SCIM gave it.
pub fn by_external_id(issuer: &str, id: &str) -> AlternateIdentifier {
    AlternateIdentifier::ExternalId(
        ExternalId::builder()
            .issuer(issuer)
            .id(id)
            .build()
            .expect("issuer and id are set"),
    )
}
