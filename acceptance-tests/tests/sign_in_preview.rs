//! `idbridge_sign_in_preview` and the NameID check of `idbridge_saml_trust`, through real Terraform against the
//! emulators. The enterprise app (with its provisioning job), the Entra users and the permission set are fixtures
//! made through the emulators' APIs; the SAML trust and the group assignment are applied by Terraform, and the
//! previews are read after them (`depends_on`).
//!
//! One case: a user with everything AWS needs (signs in, sees the account, gets the claims), one without a
//! surname (SCIM refuses it), one not assigned to the app; then the NameID switched to `user.mail`, which
//! differs from the userName SCIM sends: the plan warns at `nameid_source` and the complete user's preview
//! names both values.

mod assignments_fixture;
mod support;

use assignments_fixture::Fixture;
use idbridge_acceptance::{Step, TestCase, checks, pointed_error, skipped_without_tf_acc};
use serde_json::{Value, json};
use support::{a_plan_showed, unique};

const ACCOUNT: &str = "111111111111";
const COMPLETE: &str = "data.idbridge_sign_in_preview.complete";
const NO_SURNAME: &str = "data.idbridge_sign_in_preview.no_surname";
const UNASSIGNED: &str = "data.idbridge_sign_in_preview.unassigned";
const DEPARTMENT_CLAIM: &str = "https://aws.amazon.com/SAML/Attributes/AccessControl:Department";

/// The trust, the group assignment and the three previews. `postcondition` adds the check a user would write
/// for someone who must be able to sign in.
fn config(postcondition: bool) -> String {
    let lifecycle = if postcondition {
        r#"
  lifecycle {
    postcondition {
      condition     = length(self.problems) == 0 && contains(self.groups, var.group_name)
      error_message = "The complete user cannot sign in: ${join("; ", self.problems)}"
    }
  }"#
    } else {
        ""
    };
    format!(
        r#"
variable "application_id" {{ type = string }}
variable "group_id" {{ type = string }}
variable "group_name" {{ type = string }}
variable "permission_set_arn" {{ type = string }}
variable "nameid_source" {{ type = string }}
variable "complete_upn" {{ type = string }}
variable "no_surname_upn" {{ type = string }}
variable "unassigned_id" {{ type = string }}

resource "idbridge_saml_trust" "aws" {{
  application_id = var.application_id
  entity_id      = "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067a1b2c3"
  acs_url        = "https://us-east-1.signin.aws.amazon.com/platform/saml/acs/0f6c1d2e-3a4b-4c5d-9e8f-7a6b5c4d3e2f"
  nameid_source  = var.nameid_source
  additional_claims = {{
    "{DEPARTMENT_CLAIM}" = "user.department"
    "https://aws.amazon.com/SAML/Attributes/SessionDuration" = "28800"
  }}
}}

resource "idbridge_group_assignment" "g" {{
  application_id      = var.application_id
  entra_group_id      = var.group_id
  permission_set_arns = [var.permission_set_arn]
  account_ids         = ["{ACCOUNT}"]
}}

data "idbridge_sign_in_preview" "complete" {{
  application_id      = var.application_id
  user_principal_name = var.complete_upn
  depends_on          = [idbridge_saml_trust.aws, idbridge_group_assignment.g]{lifecycle}
}}

data "idbridge_sign_in_preview" "no_surname" {{
  application_id      = var.application_id
  user_principal_name = var.no_surname_upn
  depends_on          = [idbridge_saml_trust.aws, idbridge_group_assignment.g]
}}

data "idbridge_sign_in_preview" "unassigned" {{
  application_id = var.application_id
  user_id        = var.unassigned_id
  depends_on     = [idbridge_saml_trust.aws, idbridge_group_assignment.g]
}}

output "complete_access" {{
  value = data.idbridge_sign_in_preview.complete.access
}}
"#
    )
}

const BOTH_SELECTORS: &str = r#"
data "idbridge_sign_in_preview" "both" {
  application_id      = "11111111-2222-3333-4444-555555555555"
  user_principal_name = "alice@contoso.example"
  user_id             = "11111111-2222-3333-4444-555555555555"
}
"#;

/// Creates an Entra user from `fields` (plus what every user needs) and returns its object id.
fn user(fx: &Fixture, nickname: &str, fields: Value) -> String {
    let mut body = json!({
        "accountEnabled": true, "mailNickname": nickname,
        "passwordProfile": { "password": "Emulator-Only-1!" },
    });
    body.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    fx.graph("POST", "/users", Some(body))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn add_member(fx: &Fixture, group_id: &str, user_id: &str) {
    let reference = format!("{}/v1.0/directoryObjects/{user_id}", fx.endpoints.graph_url);
    fx.entra.call_ok(
        "POST",
        &format!("/groups/{group_id}/members/$ref"),
        Some(json!({ "@odata.id": reference })),
    );
}

/// Assigns the group to the app and provisions it with its members on demand, as an admin would in the portal,
/// so that the users are in the identity store however `idbridge_group_assignment` provisions.
fn assign_and_provision(fx: &Fixture, sp_id: &str, group_id: &str, members: &[&str]) {
    let sp = fx.graph("GET", &format!("/servicePrincipals/{sp_id}"), None);
    let user_role = sp["appRoles"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|role| role["displayName"] == "User")
        .and_then(|role| role["id"].as_str())
        .expect("the gallery app has a User role")
        .to_string();
    fx.graph(
        "POST",
        &format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"),
        Some(json!({ "principalId": group_id, "resourceId": sp_id, "appRoleId": user_role })),
    );
    let jobs = fx.graph(
        "GET",
        &format!("/servicePrincipals/{sp_id}/synchronization/jobs"),
        None,
    );
    let job_id = jobs["value"][0]["id"].as_str().unwrap().to_string();
    let schema = fx.graph(
        "GET",
        &format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/schema"),
        None,
    );
    let rule_id = schema["synchronizationRules"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let linked: Vec<Value> = members
        .iter()
        .map(|id| json!({ "objectId": id, "objectTypeName": "User" }))
        .collect();
    fx.graph(
        "POST",
        &format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/provisionOnDemand"),
        Some(json!({ "parameters": [{ "ruleId": rule_id, "subjects": [
            { "objectId": group_id, "objectTypeName": "Group", "links": { "members": linked } }
        ]}]})),
    );
}

/// The problems of a preview, or an error naming the address.
fn problems(state: &idbridge_acceptance::State, address: &str) -> Result<Vec<String>, String> {
    let resource = state.require(address).map_err(|e| e.to_string())?;
    Ok(resource.values()["problems"]
        .as_array()
        .ok_or_else(|| format!("{address}.problems is not a list"))?
        .iter()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect())
}

/// Exactly the problems starting with `labels`, in that order.
fn has_problems(
    address: &'static str,
    labels: &'static [&'static str],
) -> impl Fn(&idbridge_acceptance::State) -> idbridge_acceptance::CheckResult {
    move |state| {
        let found = problems(state, address)?;
        let starts: Vec<bool> = found
            .iter()
            .zip(labels)
            .map(|(problem, label)| problem.starts_with(&format!("{label}:")))
            .collect();
        if found.len() == labels.len() && starts.iter().all(|ok| *ok) {
            Ok(())
        } else {
            Err(format!("{address}: expected problems {labels:?}, got {found:?}").into())
        }
    }
}

#[test]
fn sign_in_preview_of_complete_incomplete_unassigned_users_and_a_nameid_mismatch() {
    if skipped_without_tf_acc() {
        return;
    }
    let fx = Fixture::new();
    let name = unique("acc-sip");
    let (app_id, sp_id) = fx.app(&name, &fx.endpoints.scim_token);
    let group_name = format!("{name}-grp");
    let group_id = fx.graph(
        "POST",
        "/groups",
        Some(json!({ "displayName": group_name, "mailEnabled": false, "mailNickname": group_name, "securityEnabled": true })),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let complete_upn = format!("{name}-alice@example.com");
    let complete_mail = format!("{name}-alice.smith@mail.example.com");
    let alice = user(
        &fx,
        &format!("{name}-alice"),
        json!({ "userPrincipalName": complete_upn, "mail": complete_mail, "givenName": "Alice",
                "surname": "Smith", "displayName": "Alice Smith", "department": "Engineering" }),
    );
    let no_surname_upn = format!("{name}-bob@example.com");
    let bob = user(
        &fx,
        &format!("{name}-bob"),
        json!({ "userPrincipalName": no_surname_upn, "givenName": "Bob", "displayName": "Bob" }),
    );
    let carol = user(
        &fx,
        &format!("{name}-carol"),
        json!({ "userPrincipalName": format!("{name}-carol@example.com"), "givenName": "Carol",
                "surname": "Jones", "displayName": "Carol Jones" }),
    );
    add_member(&fx, &group_id, &alice);
    add_member(&fx, &group_id, &bob);
    assign_and_provision(&fx, &sp_id, &group_id, &[&alice, &bob]);
    let permission_set = fx.permission_set(&name);

    let vars = |step: Step, nameid_source: &str| {
        step.var("application_id", app_id.clone())
            .var("group_id", group_id.clone())
            .var("group_name", group_name.clone())
            .var("permission_set_arn", permission_set.clone())
            .var("nameid_source", nameid_source)
            .var("complete_upn", complete_upn.clone())
            .var("no_surname_upn", no_surname_upn.clone())
            .var("unassigned_id", carol.clone())
    };
    let access = format!("{ACCOUNT}/{permission_set}");
    let access_list = json!([access.clone()]);

    let signs_in = vars(Step::config(config(true)), "user.userprincipalname")
        .check(checks::attr_equals(COMPLETE, "name_id", &complete_upn))
        .check(checks::attr_equals(COMPLETE, "user_id", &alice))
        .check(checks::attr_set(COMPLETE, "identity_store_user_id"))
        .check(checks::attr_equals(COMPLETE, "groups.#", "1"))
        .check(checks::attr_equals(COMPLETE, "groups.0", &group_name))
        .check(checks::attr_equals(COMPLETE, "access.#", "1"))
        .check(checks::attr_equals(COMPLETE, "access.0", &access))
        .check(checks::attr_equals(
            COMPLETE,
            &format!("claims.{DEPARTMENT_CLAIM}"),
            "Engineering",
        ))
        .check(checks::attr_equals(
            COMPLETE,
            "claims.https://aws.amazon.com/SAML/Attributes/SessionDuration",
            "28800",
        ))
        .check(has_problems(COMPLETE, &[]))
        .check(move |state| {
            let output = state.output("complete_access").cloned().unwrap_or_default();
            if output == access_list {
                Ok(())
            } else {
                Err(format!("output complete_access is {output}, expected {access_list}").into())
            }
        })
        // SCIM refuses a user without surname, so it never reaches the identity store.
        .check(has_problems(
            NO_SURNAME,
            &["rejected by SCIM", "not provisioned"],
        ))
        .check(checks::attr_absent(NO_SURNAME, "identity_store_user_id"))
        .check(checks::attr_equals(NO_SURNAME, "access.#", "0"))
        .check(move |state| {
            let found = problems(state, NO_SURNAME)?;
            if found[0].contains("has no surname") {
                Ok(())
            } else {
                Err(format!("the SCIM problem does not name the surname: {}", found[0]).into())
            }
        })
        .check(has_problems(
            UNASSIGNED,
            &["not assigned to the application", "not provisioned"],
        ))
        .check(checks::attr_equals(UNASSIGNED, "groups.#", "0"));

    let (upn, mail) = (complete_upn.clone(), complete_mail.clone());
    let mismatch = vars(Step::config(config(false)), "user.mail")
        .check(checks::attr_equals(COMPLETE, "name_id", &complete_mail))
        .check(has_problems(COMPLETE, &["NameID mismatch"]))
        .check(move |state| {
            let found = problems(state, COMPLETE)?;
            if found[0].contains(&format!("{mail:?}")) && found[0].contains(&format!("{upn:?}")) {
                Ok(())
            } else {
                Err(format!("the mismatch does not name both values: {}", found[0]).into())
            }
        });

    // The apply of the mismatch showed the plan-time warning, pointed at `nameid_source`.
    let warned = vars(Step::config(config(false)).plan_only(), "user.mail").pre(|ctx| {
        let texts = [
            "NameID differs from the SCIM userName",
            "whose mail differs from their userPrincipalName",
            "nameid_source",
        ];
        if a_plan_showed(ctx.work_dir(), &texts)? {
            Ok(())
        } else {
            Err("no plan warned that the NameID differs from the SCIM userName".into())
        }
    });

    TestCase::new(vec![
        Step::config(BOTH_SELECTORS)
            .expect_error(&pointed_error("Conflicting user selectors", "user_id")),
        signs_in,
        mismatch,
        warned,
    ])
    .with_emulators()
    .run();
}
