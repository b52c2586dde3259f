//! External ids through real Terraform against the emulators: `idbridge_group_assignment` with
//! `identity_store_match = "external_id"` and `idbridge_identity_store_group` by `external_id`. In AWS only the SCIM
//! endpoint gives identity store groups `ExternalIds` (the SCIM `externalId`, which Entra's AWS gallery app fills
//! with the group's object id); the emulators' SCIM stand-in does the same, with the issuer
//! `https://scim.aws.com/<SCIM tenant id>`.
//!
//! Fixtures (the enterprise app and its provisioning job, Entra groups, permission sets, identity store groups)
//! are made directly through the emulators' APIs, as in group_assignment.rs.

mod support;

use std::path::Path;
use std::sync::Arc;

use idbridge_acceptance::{
    CheckResult, EmulatorEndpoints, Step, TestCase, acceptance_enabled, checks,
};
use serde_json::{Value, json};
use support::{Graph, Response, http, unique};

const AWS_TEMPLATE: &str = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4";
const RESOURCE: &str = "idbridge_group_assignment.g";
const DATA: &str = "data.idbridge_identity_store_group.g";
const ACCOUNT_1: &str = "111111111111";
const ACCOUNT_2: &str = "222222222222";

const CONFIG: &str = r#"
variable "application_id" { type = string }
variable "group_id" { type = string }
variable "permission_set_arns" { type = list(string) }
variable "account_ids" { type = list(string) }
variable "provision_on_demand" { type = bool }

resource "idbridge_group_assignment" "g" {
  application_id       = var.application_id
  entra_group_id       = var.group_id
  permission_set_arns  = var.permission_set_arns
  account_ids          = var.account_ids
  identity_store_match = "external_id"
  provision_on_demand  = var.provision_on_demand
}
"#;

const DATA_CONFIG: &str = r#"
variable "issuer" { type = string }
variable "external_id" { type = string }

data "idbridge_identity_store_group" "g" {
  external_id {
    issuer = var.issuer
    id     = var.external_id
  }
}
"#;

/// The emulators' answer as JSON, after checking that the call succeeded.
fn json_of(answer: Response, what: &str) -> Value {
    let Response { status, body } = answer;
    assert!(
        (200..300).contains(&status),
        "{what}: HTTP {status}: {body}"
    );
    body
}

fn list(values: &[&str]) -> String {
    serde_json::to_string(values).unwrap()
}

struct Fixture {
    endpoints: EmulatorEndpoints,
    entra: Graph,
}

impl Fixture {
    fn new() -> Fixture {
        let entra = Graph::connect();
        Fixture {
            endpoints: entra.endpoints.clone(),
            entra,
        }
    }

    fn graph(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        json_of(
            self.entra.call(method, path, body),
            &format!("{method} {path}"),
        )
    }

    fn aws_call(&self, base: &str, service: &str, target: &str, body: Value) -> (u16, Value) {
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

    fn sso(&self, op: &str, body: Value) -> Value {
        let (status, value) = self.aws_call(
            &self.endpoints.aws_endpoint_url,
            "sso",
            &format!("SWBExternalService.{op}"),
            body,
        );
        assert_eq!(status, 200, "{op}: {value}");
        value
    }

    /// identitystore through the AWS proxy (which overlays `ExternalIds`).
    fn identity_store(&self, op: &str, mut body: Value) -> (u16, Value) {
        body["IdentityStoreId"] = json!(self.endpoints.identity_store_id);
        self.aws_call(
            &self.endpoints.aws_endpoint_url,
            "identitystore",
            &format!("AWSIdentityStore.{op}"),
            body,
        )
    }

    /// moto itself, for inspection and out-of-band changes; moto's permission set ARNs have `instance/` where
    /// AWS has `permissionSet/`.
    fn moto_sso(&self, op: &str, mut body: Value) -> Value {
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

    /// The issuer of the `ExternalIds` the SCIM stand-in writes: `https://scim.aws.com/<tenant id>`, the tenant id
    /// being the first path segment of `http://127.0.0.1:P/<tenant id>/scim/v2/`.
    fn scim_issuer(&self) -> String {
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

    fn scim(&self, method: &str, path: &str, body: Option<Value>) -> Value {
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

    /// The enterprise app with a provisioning job whose secrets point at the emulator's SCIM endpoint; the job is
    /// not started, so only provision on demand pushes groups. Returns (application object id, service principal id).
    fn app(&self, name: &str) -> (String, String) {
        let created = self.graph(
            "POST",
            &format!("/applicationTemplates/{AWS_TEMPLATE}/instantiate"),
            Some(json!({ "displayName": name })),
        );
        let app_id = created["application"]["id"].as_str().unwrap().to_string();
        let sp_id = created["servicePrincipal"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let templates = self.graph(
            "GET",
            &format!("/servicePrincipals/{sp_id}/synchronization/templates"),
            None,
        );
        let template = templates["value"][0]["id"].as_str().unwrap().to_string();
        self.graph(
            "POST",
            &format!("/servicePrincipals/{sp_id}/synchronization/jobs"),
            Some(json!({ "templateId": template })),
        );
        self.graph(
            "PUT",
            &format!("/servicePrincipals/{sp_id}/synchronization/secrets"),
            Some(json!({ "value": [
                { "key": "BaseAddress", "value": self.endpoints.scim_endpoint },
                { "key": "SecretToken", "value": self.endpoints.scim_token },
            ]})),
        );
        (app_id, sp_id)
    }

    /// An Entra group with one member who has everything AWS requires of a user.
    fn group(&self, name: &str) -> String {
        let group = self.graph(
            "POST",
            "/groups",
            Some(json!({ "displayName": name, "mailEnabled": false, "mailNickname": name, "securityEnabled": true })),
        );
        let group_id = group["id"].as_str().unwrap().to_string();
        let user = self.graph(
            "POST",
            "/users",
            Some(json!({
                "accountEnabled": true, "displayName": format!("{name} member"), "mailNickname": format!("{name}-m"),
                "passwordProfile": { "password": "Emulator-Only-1!" },
                "userPrincipalName": format!("{name}-member@example.com"), "givenName": "Acc", "surname": name,
            })),
        );
        self.graph(
            "POST",
            &format!("/groups/{group_id}/members/$ref"),
            Some(json!({ "@odata.id": format!("{}/v1.0/directoryObjects/{}", self.endpoints.graph_url, user["id"].as_str().unwrap()) })),
        );
        group_id
    }

    fn permission_set(&self, name: &str) -> String {
        let out = self.sso(
            "CreatePermissionSet",
            json!({ "InstanceArn": self.endpoints.sso_instance_arn, "Name": name, "SessionDuration": "PT1H" }),
        );
        out["PermissionSet"]["PermissionSetArn"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Group principal ids assigned on (account, permission set), as moto stores them.
    fn assigned(&self, account: &str, permission_set_arn: &str) -> Vec<String> {
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

    fn app_role_assignments(&self, sp_id: &str) -> Vec<Value> {
        self.graph(
            "GET",
            &format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"),
            None,
        )["value"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// `[(issuer, id)]` of an identity store group, as `DescribeGroup` answers them.
    fn external_ids(&self, group_id: &str) -> Vec<(String, String)> {
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

const REFUSED: &str = "Identity store group does not come from this Entra ID group";

/// The harness's error text has no source ranges; the apply's `-json` output in the work directory has them.
fn refusal_points_at_identity_store_match(work_dir: &Path) -> CheckResult {
    let mut snippets = Vec::new();
    for entry in std::fs::read_dir(work_dir.join("logs"))? {
        let path = entry?.path();
        if !path.to_string_lossy().ends_with("apply.stdout") {
            continue;
        }
        for line in std::fs::read_to_string(&path)?.lines() {
            let Ok(message) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if message["diagnostic"]["summary"] == REFUSED {
                snippets.push(message["diagnostic"]["snippet"]["code"].clone());
            }
        }
    }
    match snippets.first().and_then(Value::as_str) {
        Some(code) if code.trim() == r#"identity_store_match = "external_id""# => Ok(()),
        _ => {
            Err(format!("the refusal does not point at identity_store_match: {snippets:?}").into())
        }
    }
}

/// The whole chain: the Entra group is assigned to the app, provisioned on demand by the emulator's engine over
/// SCIM, found in the identity store by display name and accepted because its `ExternalIds` hold the Entra
/// object id; the assignments are created; a second plan is empty; destroy removes everything.
#[test]
fn group_assignment_matches_the_provisioned_group_by_external_id() {
    if !acceptance_enabled() {
        return;
    }
    let fx = Arc::new(Fixture::new());
    let name = unique("acc-ext");
    let (app_id, sp_id) = fx.app(&name);
    let group_id = fx.group(&format!("{name}-grp"));
    let ps = fx.permission_set(&format!("{name}-ps"));

    let (fx1, ps1, grp1) = (fx.clone(), ps.clone(), group_id.clone());
    let apply = Step::config(CONFIG)
        .var("application_id", app_id.clone())
        .var("group_id", group_id.clone())
        .var("permission_set_arns", list(&[&ps]))
        .var("account_ids", list(&[ACCOUNT_1, ACCOUNT_2]))
        .var("provision_on_demand", "true")
        .check(checks::attr_equals(
            RESOURCE,
            "identity_store_match",
            "external_id",
        ))
        .check(checks::attr_equals(RESOURCE, "assignments.#", "2"))
        .check(move |state| -> CheckResult {
            let principal = state
                .require(RESOURCE)?
                .attr("identity_store_group_id")
                .ok_or("identity_store_group_id is not set")?
                .to_string();
            let external_ids = fx1.external_ids(&principal);
            let expected = (fx1.scim_issuer(), grp1.clone());
            if !external_ids.contains(&expected) {
                return Err(format!(
                    "group {principal} has ExternalIds {external_ids:?}, expected {expected:?}"
                )
                .into());
            }
            for account in [ACCOUNT_1, ACCOUNT_2] {
                let found = fx1
                    .assigned(account, &ps1)
                    .iter()
                    .filter(|p| **p == principal)
                    .count();
                if found != 1 {
                    return Err(format!("{account}: {found} assignments of {principal}").into());
                }
            }
            Ok(())
        });

    let (fx2, ps2, sp2, grp2) = (fx.clone(), ps.clone(), sp_id.clone(), group_id.clone());
    TestCase::new(vec![apply])
        .with_emulators()
        .check_destroy(move |_| {
            for account in [ACCOUNT_1, ACCOUNT_2] {
                if !fx2.assigned(account, &ps2).is_empty() {
                    return Err(format!("{account}/{ps2} still assigned after destroy").into());
                }
            }
            if fx2
                .app_role_assignments(&sp2)
                .iter()
                .any(|a| a["principalId"] == grp2.as_str())
            {
                return Err("app role assignment left after destroy".into());
            }
            Ok(())
        })
        .run();
}

/// A group with the Entra group's display name already exists in the identity store, created there directly (so
/// without external ids) and holding an account assignment of its own. With provisioning not reaching it, the
/// apply must refuse that group, pointing at `identity_store_match`; destroy must remove what the apply made (the
/// app role assignment) and leave the other group and its assignment alone.
#[test]
fn group_assignment_refuses_a_same_named_group_without_the_external_id() {
    if !acceptance_enabled() {
        return;
    }
    let fx = Arc::new(Fixture::new());
    let name = unique("acc-exn");
    let (app_id, sp_id) = fx.app(&name);
    let group_name = format!("{name}-grp");
    let group_id = fx.group(&group_name);
    let ps = fx.permission_set(&format!("{name}-ps"));
    let (status, foreign) =
        fx.identity_store("CreateGroup", json!({ "DisplayName": group_name.clone() }));
    assert_eq!(status, 200, "CreateGroup: {foreign}");
    let foreign = foreign["GroupId"].as_str().unwrap().to_string();
    fx.moto_sso(
        "CreateAccountAssignment",
        json!({
            "InstanceArn": fx.endpoints.sso_instance_arn, "TargetId": ACCOUNT_1, "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": ps, "PrincipalType": "GROUP", "PrincipalId": foreign,
        }),
    );

    let refused = || {
        Step::config(CONFIG)
            .var("application_id", app_id.clone())
            .var("group_id", group_id.clone())
            .var("permission_set_arns", list(&[&ps]))
            .var("account_ids", list(&[ACCOUNT_1, ACCOUNT_2]))
            // Provision on demand would let Entra take the same-named group over (its matching attribute is the
            // display name) and write the object id into it; without it nothing changes the other group.
            .var("provision_on_demand", "false")
            .expect_error(&format!(
                r#"(?s){REFUSED}.*{foreign}.*{group_id}.*identity_store_match"#
            ))
    };
    // The second apply replaces the tainted resource the first one left: its refresh and destroy must not take
    // the other group for this one either. Its hook checks that the first error pointed at the attribute.
    let again = refused().pre(|ctx| refusal_points_at_identity_store_match(ctx.work_dir()));

    let (fx2, ps2, sp2, grp2, foreign2) = (
        fx.clone(),
        ps.clone(),
        sp_id.clone(),
        group_id.clone(),
        foreign.clone(),
    );
    TestCase::new(vec![refused(), again])
        .with_emulators()
        .check_destroy(move |_| {
            if fx2.assigned(ACCOUNT_1, &ps2) != [foreign2.clone()] {
                return Err(format!(
                    "the other group's assignment on {ACCOUNT_1} was touched: {:?}",
                    fx2.assigned(ACCOUNT_1, &ps2)
                )
                .into());
            }
            if !fx2.assigned(ACCOUNT_2, &ps2).is_empty() {
                return Err(format!("{ACCOUNT_2}/{ps2} assigned").into());
            }
            if !fx2.external_ids(&foreign2).is_empty() {
                return Err("the other group got external ids".into());
            }
            if fx2
                .app_role_assignments(&sp2)
                .iter()
                .any(|a| a["principalId"] == grp2.as_str())
            {
                return Err("app role assignment left after destroy".into());
            }
            Ok(())
        })
        .run();
}

/// A group pushed through the SCIM endpoint is found by its external id (issuer and id), not by another issuer.
#[test]
fn identity_store_group_found_by_external_id() {
    if !acceptance_enabled() {
        return;
    }
    let fx = Fixture::new();
    let name = unique("acc-exd");
    let external_id = format!("{name}-object-id");
    let created = fx.scim(
        "POST",
        "Groups",
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name, "externalId": external_id,
        })),
    );
    let scim_id = created["id"].as_str().unwrap().to_string();
    let issuer = fx.scim_issuer();

    TestCase::new(vec![
        Step::config(DATA_CONFIG)
            .var("issuer", issuer.clone())
            .var("external_id", external_id.clone())
            .check(checks::attr_equals(DATA, "group_id", &scim_id))
            .check(checks::attr_equals(DATA, "display_name", &name))
            .check(checks::attr_equals(
                DATA,
                "identity_store_id",
                &fx.endpoints.identity_store_id,
            )),
        Step::config(DATA_CONFIG)
            .var("issuer", "https://scim.aws.com/another-tenant")
            .var("external_id", external_id.clone())
            .expect_error(r#"(?s)Group not found in the identity store.*with external id"#),
    ])
    .with_emulators()
    .run();
    fx.scim("DELETE", &format!("Groups/{scim_id}"), None);
}
