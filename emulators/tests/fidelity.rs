//! Fidelity of the Graph emulator against Microsoft's CSDL: every JSON body the emulator answers with, on every
//! endpoint it implements, may only use properties the CSDL declares for the returned type (or its base types),
//! with JSON values of a compatible kind. Needs `shared/graph/v1.0-cleanMetadata.xml` beside the repository or
//! `IDBRIDGE_GRAPH_CSDL`; without it the test fails and says where it looked.

mod graph_common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use graph_common::{Graph, scim_server};
use idbridge_emulators::graph::csdl::{self, Model};
use idbridge_emulators::graph::{AWS_TEMPLATE_ID, GraphConfig};
use serde_json::{Value, json};

fn model() -> Arc<Model> {
    csdl::model()
        .unwrap_or_else(|e| panic!("the fidelity test needs the Microsoft Graph CSDL: {e}"))
}

struct Checker {
    model: Arc<Model>,
    checked: usize,
}

impl Checker {
    fn entity(&mut self, what: &str, type_name: &str, body: &Value) {
        assert!(
            self.model.has_type(type_name),
            "{type_name} is not in the CSDL"
        );
        let problems = self.model.check_object(type_name, body);
        assert!(
            problems.is_empty(),
            "{what} ({type_name}) disagrees with the CSDL:\n{}\nbody: {body:#}",
            problems
                .iter()
                .map(|p| format!("  {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            body.get("@odata.context").is_none_or(Value::is_string),
            "{what}: @odata.context must be a string"
        );
        self.checked += 1;
    }

    fn collection(&mut self, what: &str, type_name: &str, body: &Value) {
        let object = body
            .as_object()
            .unwrap_or_else(|| panic!("{what}: not a JSON object: {body}"));
        for key in object.keys() {
            assert!(
                key == "value" || key.starts_with("@odata."),
                "{what}: unexpected top-level member '{key}' in a collection"
            );
        }
        let items = body["value"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no value array: {body}"));
        for (i, item) in items.iter().enumerate() {
            self.entity(&format!("{what}[{i}]"), type_name, item);
        }
        self.checked += 1;
    }

    /// Graph error bodies are not described by the CSDL; their documented shape is checked instead.
    fn error(&mut self, what: &str, body: &Value) {
        let error = &body["error"];
        assert!(
            error["code"].is_string() && error["message"].is_string(),
            "{what}: {body}"
        );
        let inner = &error["innerError"];
        for key in ["date", "request-id", "client-request-id"] {
            assert!(
                inner[key].is_string(),
                "{what}: innerError.{key} missing: {body}"
            );
        }
        assert_eq!(
            body.as_object().unwrap().len(),
            1,
            "{what}: only 'error' at the top level"
        );
        self.checked += 1;
    }
}

async fn get_ok(graph: &Graph, path: &str) -> Value {
    let (status, body) = graph.get(path).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

#[tokio::test]
async fn every_response_body_conforms_to_the_csdl() {
    let mut check = Checker {
        model: model(),
        checked: 0,
    };
    let graph = Graph::start(GraphConfig {
        provisioning_interval: Duration::from_millis(50),
        page_size: 2,
        ..Default::default()
    })
    .await;
    let scim = scim_server().await;

    check.collection(
        "list templates",
        "microsoft.graph.applicationTemplate",
        &get_ok(&graph, "/applicationTemplates").await,
    );
    check.entity(
        "get template",
        "microsoft.graph.applicationTemplate",
        &get_ok(&graph, &format!("/applicationTemplates/{AWS_TEMPLATE_ID}")).await,
    );
    check.collection(
        "filtered templates",
        "microsoft.graph.applicationTemplate",
        &get_ok(
            &graph,
            "/applicationTemplates?$filter=displayName eq 'Custom'&$select=id,displayName",
        )
        .await,
    );

    let (status, instantiated) = graph
        .post(
            &format!("/applicationTemplates/{AWS_TEMPLATE_ID}/instantiate"),
            json!({"displayName": "Fidelity"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    check.entity(
        "instantiate",
        "microsoft.graph.applicationServicePrincipal",
        &instantiated,
    );
    let (app, sp) = (
        instantiated["application"].clone(),
        instantiated["servicePrincipal"].clone(),
    );
    let (app_id, sp_id) = (
        app["id"].as_str().unwrap().to_string(),
        sp["id"].as_str().unwrap().to_string(),
    );
    graph.instantiate_aws("Fidelity 2").await;
    graph.instantiate_aws("Fidelity 3").await;

    check.collection(
        "list applications (page 1)",
        "microsoft.graph.application",
        &get_ok(&graph, "/applications").await,
    );
    let first = get_ok(&graph, "/servicePrincipals").await;
    check.collection(
        "list service principals",
        "microsoft.graph.servicePrincipal",
        &first,
    );
    let next = first["@odata.nextLink"]
        .as_str()
        .expect("page size 2 with 3 objects pages")
        .to_string();
    check.collection(
        "list service principals (page 2)",
        "microsoft.graph.servicePrincipal",
        &get_ok(&graph, &next).await,
    );
    check.entity(
        "get application",
        "microsoft.graph.application",
        &get_ok(&graph, &format!("/applications/{app_id}")).await,
    );
    check.collection("filter applications", "microsoft.graph.application",
        &get_ok(&graph, &format!("/applications?$filter=applicationTemplateId eq '{AWS_TEMPLATE_ID}' and displayName eq 'Fidelity'")).await);

    graph.patch(&format!("/servicePrincipals/{sp_id}"), json!({"preferredSingleSignOnMode": "saml", "loginUrl": "https://d-1.awsapps.com/start", "notes": "n", "samlSingleSignOnSettings": {"relayState": "https://console.aws.amazon.com/"}})).await;
    graph.patch(&format!("/applications/{app_id}"), json!({"identifierUris": ["https://us-east-1.signin.aws.amazon.com/platform/saml/d-1"], "web": {"redirectUris": ["https://us-east-1.signin.aws.amazon.com/platform/saml/acs/1"]}, "notes": "n", "tags": ["idbridge"]})).await;
    let in_two_years = (time::OffsetDateTime::now_utc() + time::Duration::days(730))
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, cert) = graph
        .post(
            &format!("/servicePrincipals/{sp_id}/addTokenSigningCertificate"),
            json!({"displayName": "CN=Fidelity", "endDateTime": in_two_years}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cert}");
    check.entity(
        "addTokenSigningCertificate",
        "microsoft.graph.selfSignedCertificate",
        &cert,
    );
    graph
        .patch(
            &format!("/servicePrincipals/{sp_id}"),
            json!({"preferredTokenSigningKeyThumbprint": cert["thumbprint"]}),
        )
        .await;
    check.entity(
        "get service principal",
        "microsoft.graph.servicePrincipal",
        &get_ok(&graph, &format!("/servicePrincipals/{sp_id}")).await,
    );
    check.entity("get keyCredentials", "microsoft.graph.servicePrincipal", &get_ok(&graph, &format!("/servicePrincipals/{sp_id}?$select=keyCredentials,preferredTokenSigningKeyThumbprint")).await);

    let (status, policy) = graph.post("/policies/claimsMappingPolicies", json!({"definition": ["{\"ClaimsMappingPolicy\":{\"Version\":1,\"IncludeBasicClaimSet\":\"true\"}}"], "displayName": "Fidelity claims", "isOrganizationDefault": false})).await;
    assert_eq!(status, StatusCode::CREATED);
    check.entity(
        "create claims policy",
        "microsoft.graph.claimsMappingPolicy",
        &policy,
    );
    let policy_id = policy["id"].as_str().unwrap();
    check.entity(
        "get claims policy",
        "microsoft.graph.claimsMappingPolicy",
        &get_ok(
            &graph,
            &format!("/policies/claimsMappingPolicies/{policy_id}"),
        )
        .await,
    );
    check.collection(
        "list claims policies",
        "microsoft.graph.claimsMappingPolicy",
        &get_ok(&graph, "/policies/claimsMappingPolicies").await,
    );
    graph.post(&format!("/servicePrincipals/{sp_id}/claimsMappingPolicies/$ref"), json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/policies/claimsMappingPolicies/{policy_id}")})).await;
    check.collection(
        "claims policies of SP",
        "microsoft.graph.claimsMappingPolicy",
        &get_ok(
            &graph,
            &format!("/servicePrincipals/{sp_id}/claimsMappingPolicies"),
        )
        .await,
    );

    let (status, user) = graph.post("/users", json!({"accountEnabled": true, "displayName": "Ada", "mailNickname": "ada", "userPrincipalName": "ada@contoso.example", "givenName": "Ada", "surname": "Lovelace", "mail": "ada@contoso.example", "passwordProfile": {"password": "Emulat0r!pass"}})).await;
    assert_eq!(status, StatusCode::CREATED);
    check.entity("create user", "microsoft.graph.user", &user);
    let user_id = user["id"].as_str().unwrap().to_string();
    check.entity(
        "get user",
        "microsoft.graph.user",
        &get_ok(&graph, &format!("/users/{user_id}")).await,
    );
    check.collection(
        "list users",
        "microsoft.graph.user",
        &get_ok(
            &graph,
            "/users?$filter=userPrincipalName eq 'ada@contoso.example'",
        )
        .await,
    );
    let (status, group) = graph.post("/groups", json!({"displayName": "Fidelity", "mailEnabled": false, "mailNickname": "fidelity", "securityEnabled": true, "description": "d"})).await;
    assert_eq!(status, StatusCode::CREATED);
    check.entity("create group", "microsoft.graph.group", &group);
    let group_id = group["id"].as_str().unwrap().to_string();
    graph.add_member(&group_id, &user_id).await;
    check.entity(
        "get group",
        "microsoft.graph.group",
        &get_ok(&graph, &format!("/groups/{group_id}")).await,
    );
    check.collection(
        "list groups",
        "microsoft.graph.group",
        &get_ok(&graph, "/groups").await,
    );
    check.collection(
        "group members",
        "microsoft.graph.directoryObject",
        &get_ok(&graph, &format!("/groups/{group_id}/members")).await,
    );
    graph.post(&format!("/applications/{app_id}/owners/$ref"), json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{user_id}")})).await;
    check.collection(
        "application owners",
        "microsoft.graph.directoryObject",
        &get_ok(&graph, &format!("/applications/{app_id}/owners")).await,
    );

    let role = sp["appRoles"][0]["id"].clone();
    let (status, assignment) = graph
        .post(
            &format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"),
            json!({"principalId": group_id, "resourceId": sp_id, "appRoleId": role}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    check.entity(
        "assign app role",
        "microsoft.graph.appRoleAssignment",
        &assignment,
    );
    check.collection(
        "appRoleAssignedTo",
        "microsoft.graph.appRoleAssignment",
        &get_ok(
            &graph,
            &format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"),
        )
        .await,
    );

    // Synchronization.
    check.collection(
        "sync templates",
        "microsoft.graph.synchronizationTemplate",
        &get_ok(
            &graph,
            &format!("/servicePrincipals/{sp_id}/synchronization/templates"),
        )
        .await,
    );
    let (job_id, rule_id) = graph.provisioning_job(&sp_id, &scim).await;
    let sync = format!("/servicePrincipals/{sp_id}/synchronization");
    check.entity(
        "template schema",
        "microsoft.graph.synchronizationSchema",
        &get_ok(&graph, &format!("{sync}/templates/aWSSingleSignon/schema")).await,
    );
    check.entity(
        "job schema",
        "microsoft.graph.synchronizationSchema",
        &get_ok(&graph, &format!("{sync}/jobs/{job_id}/schema")).await,
    );
    check.entity(
        "new job",
        "microsoft.graph.synchronizationJob",
        &get_ok(&graph, &format!("{sync}/jobs/{job_id}")).await,
    );
    check.collection(
        "secrets",
        "microsoft.graph.synchronizationSecretKeyStringValuePair",
        &get_ok(&graph, &format!("{sync}/secrets")).await,
    );
    let (status, on_demand) = graph.post(&format!("{sync}/jobs/{job_id}/provisionOnDemand"), json!({"parameters": [{"ruleId": rule_id, "subjects": [{"objectId": group_id, "objectTypeName": "Group"}]}]})).await;
    assert_eq!(status, StatusCode::OK, "{on_demand}");
    check.entity(
        "provisionOnDemand",
        "microsoft.graph.stringKeyStringValuePair",
        &on_demand,
    );
    graph
        .post(&format!("{sync}/jobs/{job_id}/start"), json!({}))
        .await;
    scim.wait_for("a scheduled cycle", |s| s.requests.len() > 4)
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    check.entity(
        "running job",
        "microsoft.graph.synchronizationJob",
        &get_ok(&graph, &format!("{sync}/jobs/{job_id}")).await,
    );
    scim.snapshot().reject_all = true;
    graph
        .post(
            &format!("{sync}/jobs/{job_id}/restart"),
            json!({"criteria": {"resetScope": "Full"}}),
        )
        .await;
    let job = graph
        .wait_for_job_code(&format!("{sync}/jobs/{job_id}"), "Quarantine")
        .await;
    check.entity(
        "quarantined job",
        "microsoft.graph.synchronizationJob",
        &job,
    );
    check.collection(
        "list jobs",
        "microsoft.graph.synchronizationJob",
        &get_ok(&graph, &format!("{sync}/jobs")).await,
    );

    // The deleted-items container (Graph "List deletedItems", "Get deleted item", "Restore deleted item").
    let (recycled, _) = graph.instantiate_aws("Fidelity recycled").await;
    let recycled_id = recycled["id"].as_str().unwrap();
    graph
        .send(
            Method::DELETE,
            &format!("/applications/{recycled_id}"),
            None,
        )
        .await;
    check.collection(
        "deleted applications",
        "microsoft.graph.application",
        &get_ok(
            &graph,
            "/directory/deletedItems/microsoft.graph.application",
        )
        .await,
    );
    check.collection(
        "deleted service principals",
        "microsoft.graph.servicePrincipal",
        &get_ok(
            &graph,
            "/directory/deletedItems/microsoft.graph.servicePrincipal",
        )
        .await,
    );
    check.entity(
        "deleted item",
        "microsoft.graph.application",
        &get_ok(&graph, &format!("/directory/deletedItems/{recycled_id}")).await,
    );
    let (status, restored) = graph
        .post(
            &format!("/directory/deletedItems/{recycled_id}/restore"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    check.entity("restored item", "microsoft.graph.application", &restored);

    // Error bodies.
    let (_, not_found) = graph
        .get(&format!("/applications/{}", uuid::Uuid::new_v4()))
        .await;
    check.error("404", &not_found);
    let (_, bad) = graph
        .patch(&format!("/applications/{app_id}"), json!({"bogus": 1}))
        .await;
    check.error("400", &bad);
    let (_, malformed) = graph.get("/servicePrincipals/not-a-guid").await;
    check.error("malformed id", &malformed);
    let (_, validation) = graph
        .post(
            &format!("{sync}/jobs/{job_id}/validateCredentials"),
            json!({"useSavedCredentials": true}),
        )
        .await;
    check.error("validateCredentials", &validation);
    let unauthenticated: Value = graph
        .http
        .get(graph.url("/applications"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check.error("401", &unauthenticated);
    assert_eq!(
        graph
            .send(Method::DELETE, &format!("{sync}/jobs/{job_id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );

    assert!(
        check.checked >= 40,
        "only {} bodies were checked",
        check.checked
    );
}
