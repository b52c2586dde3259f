//! The fixture of the account-assignment tests: the enterprise app with its provisioning job, Entra groups,
//! permission sets and identity store groups made directly through the emulators' APIs (so the tests do not depend
//! on the other resources), and inspection of what the provider did (moto directly, the proxy's statistics).
//! Needs `mod support;` beside `mod assignments_fixture;`.

#![allow(dead_code)] // each test binary uses its own part

use idbridge_acceptance::EmulatorEndpoints;
use serde_json::{Value, json};

use crate::support::{Graph, Response, http};

/// The emulators' answer as JSON, after checking that the call succeeded.
pub fn json_of(answer: Response, what: &str) -> Value {
    let Response { status, body } = answer;
    assert!(
        (200..300).contains(&status),
        "{what}: HTTP {status}: {body}"
    );
    if let Value::String(text) = &body {
        panic!("{what}: the answer is not JSON: {text}");
    }
    body
}

/// Talks to the emulators as a test fixture would: Graph with a token, AWS through the proxy (or moto
/// directly for inspection, which keeps the proxy's statistics to the provider's calls).
pub struct Fixture {
    pub endpoints: EmulatorEndpoints,
    pub entra: Graph,
}

impl Fixture {
    pub fn new() -> Fixture {
        let entra = Graph::connect();
        Fixture {
            endpoints: entra.endpoints.clone(),
            entra,
        }
    }

    pub fn graph(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        json_of(
            self.entra.call(method, path, body),
            &format!("{method} {path}"),
        )
    }

    pub fn aws_call(&self, base: &str, service: &str, target: &str, body: Value) -> (u16, Value) {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
        );
        let answer = http(
            "POST",
            &format!("{base}/"),
            &[
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", target),
                ("Authorization", &auth),
            ],
            Some(&body.to_string()),
        );
        (answer.status, answer.body)
    }

    pub fn sso(&self, op: &str, body: Value) -> Value {
        let (status, value) = self.aws_call(
            &self.endpoints.aws_endpoint_url,
            "sso",
            &format!("SWBExternalService.{op}"),
            body,
        );
        assert_eq!(status, 200, "{op}: {value}");
        value
    }

    /// moto itself: inspection without touching the proxy's statistics. moto's permission set ARNs have
    /// `instance/` where AWS has `permissionSet/`.
    pub fn moto_sso(&self, op: &str, mut body: Value) -> Value {
        if let Some(arn) = body["PermissionSetArn"].as_str() {
            body["PermissionSetArn"] = json!(arn.replace(":permissionSet/", ":instance/"));
        }
        let (status, value) = self.aws_call(
            &self.endpoints.moto_url,
            "sso",
            &format!("SWBExternalService.{op}"),
            body,
        );
        assert_eq!(status, 200, "moto {op}: {value}");
        value
    }

    pub fn app(&self, name: &str, scim_token: &str) -> (String, String) {
        self.entra.provisioned_app(name, scim_token)
    }

    pub fn group(&self, name: &str) -> String {
        self.entra.group_with_member(name)
    }

    pub fn permission_set(&self, name: &str) -> String {
        let out = self.sso(
            "CreatePermissionSet",
            json!({ "InstanceArn": self.endpoints.sso_instance_arn, "Name": name, "SessionDuration": "PT1H" }),
        );
        out["PermissionSet"]["PermissionSetArn"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Group principal ids assigned on (account, permission set), as moto stores them (duplicates kept).
    pub fn assigned(&self, account: &str, permission_set_arn: &str) -> Vec<String> {
        let out = self.moto_sso(
            "ListAccountAssignments",
            json!({ "InstanceArn": self.endpoints.sso_instance_arn, "AccountId": account, "PermissionSetArn": permission_set_arn }),
        );
        out["AccountAssignments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["PrincipalId"].as_str().map(str::to_string))
            .collect()
    }

    pub fn delete_assignment_out_of_band(
        &self,
        account: &str,
        permission_set_arn: &str,
        principal: &str,
    ) {
        self.moto_sso(
            "DeleteAccountAssignment",
            json!({
                "InstanceArn": self.endpoints.sso_instance_arn, "TargetId": account, "TargetType": "AWS_ACCOUNT",
                "PermissionSetArn": permission_set_arn, "PrincipalType": "GROUP", "PrincipalId": principal,
            }),
        );
    }

    pub fn app_role_assignments(&self, sp_id: &str) -> Vec<Value> {
        self.graph(
            "GET",
            &format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"),
            None,
        )["value"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Gives a group or user the gallery app's `User` role directly in Graph, as another configuration or the
    /// portal would.
    pub fn assign_to_app(&self, sp_id: &str, principal_id: &str) {
        let user_role = self.graph("GET", &format!("/servicePrincipals/{sp_id}"), None)["appRoles"]
            .as_array()
            .and_then(|roles| {
                roles
                    .iter()
                    .find(|r| r["displayName"] == "User" || r["value"] == "User")
                    .and_then(|r| r["id"].as_str().map(str::to_string))
            })
            .expect("the gallery app has a User role");
        self.graph(
            "POST",
            &format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"),
            Some(
                json!({ "principalId": principal_id, "resourceId": sp_id, "appRoleId": user_role }),
            ),
        );
    }

    pub fn proxy_stats(&self) -> Value {
        json_of(
            http(
                "GET",
                &format!("{}/_proxy/stats", self.endpoints.aws_endpoint_url),
                &[],
                None,
            ),
            "proxy stats",
        )
    }

    pub fn proxy_config(&self, config: Value) {
        let answer = http(
            "PUT",
            &format!("{}/_proxy/config", self.endpoints.aws_endpoint_url),
            &[("Content-Type", "application/json")],
            Some(&config.to_string()),
        );
        assert!(
            (200..300).contains(&answer.status),
            "proxy config: {} {}",
            answer.status,
            answer.body
        );
    }

    /// identitystore through the AWS proxy (which overlays `ExternalIds`).
    pub fn identity_store(&self, op: &str, mut body: Value) -> (u16, Value) {
        body["IdentityStoreId"] = json!(self.endpoints.identity_store_id);
        self.aws_call(
            &self.endpoints.aws_endpoint_url,
            "identitystore",
            &format!("AWSIdentityStore.{op}"),
            body,
        )
    }
    /// The issuer of the `ExternalIds` the SCIM stand-in writes: `https://scim.aws.com/<tenant id>`, the tenant id
    /// being the first path segment of `http://127.0.0.1:P/<tenant id>/scim/v2/`.
    pub fn scim_issuer(&self) -> String {
        let path = self
            .endpoints
            .scim_endpoint
            .trim_start_matches("http://")
            .split_once('/')
            .map(|(_, path)| path)
            .unwrap_or_default();
        let tenant = path.split('/').next().unwrap_or_default();
        format!("https://scim.aws.com/{tenant}")
    }
    pub fn scim(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let auth = format!("Bearer {}", self.endpoints.scim_token);
        let body = body.map(|b| b.to_string());
        json_of(
            http(
                method,
                &format!("{}{path}", self.endpoints.scim_endpoint),
                &[
                    ("Authorization", &auth),
                    ("Content-Type", "application/scim+json"),
                ],
                body.as_deref(),
            ),
            &format!("SCIM {method} {path}"),
        )
    }
    /// `[(issuer, id)]` of an identity store group, as `DescribeGroup` answers them.
    pub fn external_ids(&self, group_id: &str) -> Vec<(String, String)> {
        let (status, group) = self.identity_store("DescribeGroup", json!({ "GroupId": group_id }));
        assert_eq!(status, 200, "DescribeGroup {group_id}: {group}");
        group["ExternalIds"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["Issuer"].as_str().unwrap_or_default().to_string(),
                    e["Id"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

pub fn list(values: &[&str]) -> String {
    serde_json::to_string(values).unwrap()
}

pub fn op_count(stats: &Value, op: &str) -> u64 {
    stats["calls_by_operation"][op].as_u64().unwrap_or(0)
}
