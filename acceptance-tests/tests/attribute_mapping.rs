//! `attribute_mapping` and `removed_targets` of `idbridge_scim_provisioning` through real Terraform against the
//! emulators, end to end: a cost center set on an Entra user is mapped to the SCIM enterprise extension, pushed
//! by the Graph emulator's provisioning engine (on demand) to the SCIM stand-in, and read back from the identity
//! store user (identitystore DescribeUser with `Extensions: ["aws:identitystore:enterprise"]`).

mod support;

use idbridge_acceptance::{
    CheckResult, State, Step, StepContext, TestCase, checks, pointed_error, skipped_without_tf_acc,
};
use serde_json::{Value, json};
use support::{AWS_GALLERY_TEMPLATE, Graph, endpoints, http, unique};

const ADDRESS: &str = "idbridge_scim_provisioning.this";
const COST_CENTER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter";
const DEPARTMENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";

fn config(mappings: &str) -> String {
    format!(
        r#"
variable "application_id" {{ type = string }}
variable "scim_endpoint" {{ type = string }}
variable "scim_token" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

resource "idbridge_scim_provisioning" "this" {{
  application_id = var.application_id
  scim_endpoint  = var.scim_endpoint
  scim_token_wo  = var.scim_token
{mappings}
}}
"#
    )
}

fn mapping(target: &str, kind: &str, value: &str) -> String {
    let value = serde_json::to_string(value).unwrap().replace("${", "$${");
    let target = serde_json::to_string(target).unwrap();
    format!("  attribute_mapping {{\n    target = {target}\n    {kind} = {value}\n  }}\n")
}

/// The AWS app, with a user that has a cost center and a department in Entra, assigned to it.
/// Returns (application object id, service principal id, user object id, user principal name).
fn fixture(graph: &Graph, name: &str) -> (String, String, String, String) {
    let created = graph.call_ok(
        "POST",
        &format!("/applicationTemplates/{AWS_GALLERY_TEMPLATE}/instantiate"),
        Some(json!({ "displayName": name })),
    );
    let application_id = created["application"]["id"].as_str().unwrap().to_string();
    let sp = created["servicePrincipal"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let upn = format!("{name}@example.com");
    let user = graph.call_ok(
        "POST",
        "/users",
        Some(json!({
            "accountEnabled": true, "displayName": format!("{name} Ada"), "mailNickname": name,
            "passwordProfile": { "password": "Emulator-Only-1!" }, "userPrincipalName": upn,
            "givenName": "Ada", "surname": "Lovelace", "mail": upn, "department": "Research",
            "employeeOrgData": { "costCenter": "CC-4711", "division": "Engines" },
        })),
    );
    let user_id = user["id"].as_str().unwrap().to_string();
    let app_roles =
        graph.call_ok("GET", &format!("/servicePrincipals/{sp}"), None)["appRoles"].clone();
    let role = app_roles
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["displayName"] == "User")
        .and_then(|r| r["id"].as_str())
        .expect("the gallery app has a User role")
        .to_string();
    graph.call_ok(
        "POST",
        &format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
        Some(json!({ "principalId": user_id, "resourceId": sp, "appRoleId": role })),
    );
    (application_id, sp, user_id, upn)
}

fn job_id(state: &State) -> Result<String, idbridge_acceptance::CheckError> {
    Ok(state
        .require(ADDRESS)?
        .attr("job_id")
        .ok_or("no job_id in state")?
        .to_string())
}

/// The job's User attribute mappings in Graph: target → source (`[name]`-style expression).
fn user_mappings(sp: &str, job: &str) -> Result<Value, idbridge_acceptance::CheckError> {
    let schema = Graph::connect().call_ok(
        "GET",
        &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/schema"),
        None,
    );
    let mappings = schema["synchronizationRules"][0]["objectMappings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["sourceObjectName"] == "User")
        .map(|m| m["attributeMappings"].clone())
        .ok_or("the schema has no User object mapping")?;
    Ok(mappings
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["targetAttributeName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                m["source"]["expression"].clone(),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into())
}

fn schema_maps(
    sp: String,
    expected: Vec<(&'static str, Option<&'static str>)>,
) -> impl Fn(&State) -> CheckResult {
    move |state| {
        let held = user_mappings(&sp, &job_id(state)?)?;
        for (target, expression) in &expected {
            let actual = held.get(*target).and_then(Value::as_str);
            if actual != *expression {
                return Err(format!("{target} maps {actual:?}, expected {expression:?}").into());
            }
        }
        Ok(())
    }
}

/// One identitystore call through the AWS proxy (JSON 1.1).
fn identitystore(operation: &str, body: Value) -> Value {
    let answer = http(
        "POST",
        &endpoints().aws_endpoint_url,
        &[
            ("X-Amz-Target", &format!("AWSIdentityStore.{operation}")),
            ("Content-Type", "application/x-amz-json-1.1"),
        ],
        Some(&body.to_string()),
    );
    assert_eq!(answer.status, 200, "{operation}: {}", answer.body);
    answer.body
}

/// Provisions the user on demand (the rule id from the job's schema, as Graph's reference says) and reads its
/// enterprise attributes back from the identity store.
fn provisioned_enterprise_attributes(sp: &str, job: &str, user_id: &str, upn: &str) -> Value {
    let graph = Graph::connect();
    let jobs = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}");
    let schema = graph.call_ok("GET", &format!("{jobs}/schema"), None);
    let rule = schema["synchronizationRules"][0]["id"].clone();
    let answer = graph.call_ok(
        "POST",
        &format!("{jobs}/provisionOnDemand"),
        Some(json!({"parameters": [{"ruleId": rule, "subjects": [{"objectId": user_id, "objectTypeName": "User"}]}]})),
    );
    // "Skipped" when the job's first cycle pushed the user already ("source and target already match").
    assert!(
        answer["key"]
            .as_str()
            .is_some_and(|k| k.contains("Success") || k.contains("Skipped")),
        "on demand: {answer}"
    );
    let store = &endpoints().identity_store_id;
    let found = identitystore(
        "GetUserId",
        json!({"IdentityStoreId": store, "AlternateIdentifier": {"UniqueAttribute": {"AttributePath": "userName", "AttributeValue": upn}}}),
    );
    let user = identitystore(
        "DescribeUser",
        json!({"IdentityStoreId": store, "UserId": found["UserId"], "Extensions": ["aws:identitystore:enterprise"]}),
    );
    user["Extensions"]["aws:identitystore:enterprise"].clone()
}

#[test]
fn attribute_mappings_flow_to_the_identity_store_with_import_update_drift_and_destroy() {
    if skipped_without_tf_acc() {
        return;
    }
    let graph = Graph::connect();
    let name = unique("acc-map");
    let (application_id, sp, user_id, upn) = fixture(&graph, &name);
    let vars = |step: Step| {
        step.var("application_id", &application_id)
            .var("scim_endpoint", &endpoints().scim_endpoint)
            .var("scim_token", &endpoints().scim_token)
    };
    let first = config(&format!(
        "{}{}",
        mapping(COST_CENTER, "source", "employeeOrgData.costCenter"),
        mapping(DEPARTMENT, "source", "department"),
    ));
    let second = config(&format!(
        "{}{}  removed_targets = [\"name.formatted\"]\n",
        mapping(COST_CENTER, "source", "employeeOrgData.costCenter"),
        mapping(
            DEPARTMENT,
            "expression",
            "Join(\" \", [department], [jobTitle])"
        ),
    ));
    let (sp_flow, user_flow, upn_flow) = (sp.clone(), user_id.clone(), upn.clone());
    let flows_to_the_identity_store = move |state: &State| -> CheckResult {
        let job = job_id(state)?;
        let enterprise = provisioned_enterprise_attributes(&sp_flow, &job, &user_flow, &upn_flow);
        if enterprise["costCenter"] != "CC-4711" || enterprise["department"] != "Research" {
            return Err(format!(
                "the identity store user's enterprise attributes are {enterprise}"
            )
            .into());
        }
        Ok(())
    };
    let sp_drift = sp.clone();
    TestCase::new(vec![
        // Targets AWS's SCIM endpoint does not take are refused at plan, with nothing created.
        vars(Step::config(config(&mapping("ims[type eq \"work\"].value", "source", "mail"))))
            // A set block has no path Terraform can point into: the error names the resource and the target.
            .expect_error("Unsupported attribute mapping target(?s).*ims\\[type eq .*does not support")
            .check(checks::no_resources),
        vars(Step::config(config(&mapping(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeType",
            "source",
            "employeeType",
        ))))
        .expect_error("Unsupported attribute mapping target(?s).*enterprise extension attributes"),
        vars(Step::config(config(&format!(
            "{}  removed_targets = [\"{}\"]\n",
            mapping("title", "source", "jobTitle"),
            "title"
        ))))
        .expect_error(&pointed_error("Target both mapped and removed", "removed_targets")),
        vars(Step::config(first.clone()))
            .check(schema_maps(
                sp.clone(),
                vec![
                    (COST_CENTER, Some("[employeeOrgData.costCenter]")),
                    (DEPARTMENT, Some("[department]")),
                    ("userName", Some("[userPrincipalName]")),
                    ("name.formatted", Some("Join(\" \", [givenName], [surname])")),
                ],
            ))
            .check(flows_to_the_identity_store),
        // Which targets the configuration manages is not in Graph: an import manages none until configured.
        vars(Step::import(ADDRESS)).ignore([
            "attribute_mapping",
            "removed_targets",
            // The job's status moves on with each cycle; the token is write-only.
            "status",
            "last_execution_state",
            "last_successful_execution_at",
            "error_count",
            "quarantine_reason",
            "scim_token_wo_version",
        ]),
        vars(Step::config(second.clone())).check(schema_maps(
            sp.clone(),
            vec![
                (COST_CENTER, Some("[employeeOrgData.costCenter]")),
                (DEPARTMENT, Some("Join(\" \", [department], [jobTitle])")),
                ("name.formatted", None),
                ("userName", Some("[userPrincipalName]")),
            ],
        )),
        // Changed in the portal: the cost center now comes from another attribute and the removed default is
        // back. The plan shows both; apply restores them.
        vars(Step::config(second.clone()))
            .plan_only()
            .expect_non_empty_plan()
            .pre(move |ctx: &StepContext| {
                let job = job_id(&ctx.state()?)?;
                let graph = Graph::connect();
                let path = format!("/servicePrincipals/{sp_drift}/synchronization/jobs/{job}/schema");
                let mut schema = graph.call_ok("GET", &path, None);
                let users = schema["synchronizationRules"][0]["objectMappings"]
                    .as_array_mut()
                    .and_then(|m| m.iter_mut().find(|m| m["sourceObjectName"] == "User"))
                    .and_then(|m| m["attributeMappings"].as_array_mut())
                    .ok_or("no User mappings")?;
                for m in users.iter_mut() {
                    if m["targetAttributeName"] == COST_CENTER {
                        m["source"] = json!({"expression": "[division]", "name": "division", "parameters": [], "type": "Attribute"});
                    }
                }
                users.push(json!({"defaultValue": null, "exportMissingReferences": false, "flowBehavior": "FlowWhenChanged",
                    "flowType": "Always", "matchingPriority": 0, "targetAttributeName": "name.formatted",
                    "source": {"expression": "[displayName]", "name": "displayName", "parameters": [], "type": "Attribute"}}));
                schema.as_object_mut().unwrap().remove("@odata.context");
                let answer = graph.call("PUT", &path, Some(schema));
                if answer.status != 204 {
                    return Err(format!("PUT schema: HTTP {}: {}", answer.status, answer.body).into());
                }
                Ok(())
            }),
        vars(Step::config(second)).check(schema_maps(
            sp.clone(),
            vec![(COST_CENTER, Some("[employeeOrgData.costCenter]")), ("name.formatted", None)],
        )),
    ])
    .with_emulators()
    .run();
}

const TRUST: &str = "idbridge_saml_trust.aws";
const ACCESS_CONTROL: &str = "https://aws.amazon.com/SAML/Attributes/AccessControl:";

fn saml_config(name: &str, access_control: &str) -> String {
    format!(
        r#"
resource "idbridge_entra_application" "aws" {{
  display_name = "{name}"
}}

resource "idbridge_saml_trust" "aws" {{
  application_id            = idbridge_entra_application.aws.id
  aws_metadata_xml          = file("{}/tests/testdata/aws_sso_metadata.xml")
  access_control_attributes = {{ {access_control} }}
}}
"#,
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The claims mapping policy assigned to the trust's service principal: (policy id, its ClaimsSchema).
fn claims_policy(state: &State) -> Result<(String, Value), idbridge_acceptance::CheckError> {
    let sp = state
        .require(TRUST)?
        .attr("service_principal_id")
        .ok_or("no service principal")?
        .to_string();
    let policies = Graph::connect().call_ok(
        "GET",
        &format!("/servicePrincipals/{sp}/claimsMappingPolicies"),
        None,
    );
    let policy = &policies["value"][0];
    let definition: Value =
        serde_json::from_str(policy["definition"][0].as_str().ok_or("no definition")?)?;
    Ok((
        policy["id"].as_str().unwrap_or_default().to_string(),
        definition["ClaimsMappingPolicy"]["ClaimsSchema"].clone(),
    ))
}

/// The policy sends exactly these AccessControl claims (key → user attribute).
fn sends_access_control(
    expected: &'static [(&'static str, &'static str)],
) -> impl Fn(&State) -> CheckResult {
    move |state| {
        let (_, schema) = claims_policy(state)?;
        let mut sent: Vec<(String, String)> = schema
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                let key = c["SamlClaimType"].as_str()?.strip_prefix(ACCESS_CONTROL)?;
                Some((
                    key.to_string(),
                    format!("{}.{}", c["Source"].as_str()?, c["ID"].as_str()?),
                ))
            })
            .collect();
        sent.sort();
        let wanted: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if sent != wanted {
            return Err(format!("the claims policy sends {sent:?}, expected {wanted:?}").into());
        }
        Ok(())
    }
}

#[test]
fn saml_trust_sends_access_control_claims_with_import_update_drift_and_destroy() {
    if skipped_without_tf_acc() {
        return;
    }
    let name = unique("acc-saml-abac");
    let first = saml_config(&name, "CostCenter = \"user.employeeorgdata.costcenter\"");
    let second = saml_config(
        &name,
        "CostCenter = \"user.employeeorgdata.costcenter\", Department = \"user.department\"",
    );
    TestCase::new(vec![
        Step::config(saml_config(&name, "\"cost*center\" = \"user.department\""))
            .expect_error(&pointed_error("Invalid access control attribute key", "access_control_attributes"))
            .check(checks::no_resources),
        Step::config(first).check(sends_access_control(&[("CostCenter", "user.employeeorgdata.costcenter")])),
        Step::import(TRUST).ignore(["aws_metadata_xml", "idp_metadata_xml"]),
        Step::config(second.clone()).check(sends_access_control(&[
            ("CostCenter", "user.employeeorgdata.costcenter"),
            ("Department", "user.department"),
        ])),
        // The claims edited in the portal: the Department claim is gone. The plan shows it; apply restores it.
        Step::config(second.clone())
            .plan_only()
            .expect_non_empty_plan()
            .pre(|ctx: &StepContext| {
                let (id, schema) = claims_policy(&ctx.state()?)?;
                let kept: Vec<Value> = schema
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|c| c["SamlClaimType"] != format!("{ACCESS_CONTROL}Department").as_str())
                    .cloned()
                    .collect();
                let definition = json!({"ClaimsMappingPolicy": {"Version": 1, "IncludeBasicClaimSet": "true", "ClaimsSchema": kept}});
                Graph::connect().call_ok(
                    "PATCH",
                    &format!("/policies/claimsMappingPolicies/{id}"),
                    Some(json!({"definition": [definition.to_string()]})),
                );
                Ok(())
            }),
        Step::config(second).check(sends_access_control(&[
            ("CostCenter", "user.employeeorgdata.costcenter"),
            ("Department", "user.department"),
        ])),
    ])
    .with_emulators()
    .run();
}
