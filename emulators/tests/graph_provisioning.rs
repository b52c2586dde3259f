//! The provisioning engine against an in-test SCIM server: scheduled cycles, membership changes, scope removal,
//! skipped users, quarantine on 401, credential validation, rate limit of provision on demand.

mod graph_common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use graph_common::{Graph, scim_server};
use idbridge_emulators::graph::GraphConfig;
use serde_json::{Value, json};

fn fast() -> GraphConfig {
    GraphConfig {
        provisioning_interval: Duration::from_millis(50),
        ..Default::default()
    }
}

#[tokio::test]
async fn started_jobs_run_cycles_that_follow_assignments_and_membership() {
    let graph = Graph::start(fast()).await;
    let scim = scim_server().await;
    let (_, sp) = graph.instantiate_aws("Cycles").await;
    let sp_id = sp["id"].as_str().unwrap();
    let (job_id, _) = graph.provisioning_job(sp_id, &scim).await;
    let ada = graph
        .create_user("ada@contoso.example", Some("Ada"), Some("Lovelace"))
        .await;
    let bob = graph
        .create_user("bob@contoso.example", Some("Bob"), Some("Builder"))
        .await;
    let nameless = graph
        .create_user("nameless@contoso.example", None, None)
        .await;
    let group = graph.create_group("Platform").await;
    graph.add_member(&group, &ada).await;
    graph.add_member(&group, &nameless).await;
    let assignment = graph.assign(&sp, &group).await;

    let job_path = format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}");
    assert_eq!(
        graph.post(&format!("{job_path}/start"), json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    scim.wait_for("group with ada", |s| {
        s.groups.len() == 1
            && s.groups[0]["members"]
                .as_array()
                .is_some_and(|m| m.len() == 1)
    })
    .await;
    assert_eq!(
        scim.snapshot().users.len(),
        1,
        "users without given name and surname are skipped"
    );
    let (_, job) = graph.get(&job_path).await;
    assert_eq!(job["status"]["code"], "Active");
    assert_eq!(job["schedule"]["state"], "Active");

    // A new member is added with PATCH ... Add; a removed one with PATCH ... Remove.
    graph.add_member(&group, &bob).await;
    scim.wait_for("bob added", |s| {
        s.groups[0]["members"]
            .as_array()
            .is_some_and(|m| m.len() == 2)
    })
    .await;
    let (status, _) = graph
        .send(
            Method::DELETE,
            &format!("/groups/{group}/members/{ada}/$ref"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    scim.wait_for("ada removed from the group", |s| {
        s.groups[0]["members"]
            .as_array()
            .is_some_and(|m| m.len() == 1)
    })
    .await;
    scim.wait_for("ada disabled once out of scope", |s| {
        s.users
            .iter()
            .any(|u| u["userName"] == "ada@contoso.example" && u["active"] == false)
    })
    .await;
    let patches: Vec<Value> = scim
        .snapshot()
        .requests
        .iter()
        .filter(|(m, p, _, _)| m == "PATCH" && p.starts_with("/Groups/"))
        .map(|r| r.3.clone())
        .collect();
    assert!(patches.iter().any(|p| p["Operations"][0]["op"] == "Add"));
    assert!(patches.iter().any(|p| p["Operations"][0]["op"] == "Remove"));

    // Unassigning the group deletes it in the target.
    let (status, _) = graph
        .send(
            Method::DELETE,
            &format!("/servicePrincipals/{sp_id}/appRoleAssignedTo/{assignment}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    scim.wait_for("group deleted", |s| s.groups.is_empty())
        .await;

    // Pausing stops the cycles.
    assert_eq!(
        graph.post(&format!("{job_path}/pause"), json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    let before = scim.snapshot().requests.len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(scim.snapshot().requests.len(), before);
    let (_, job) = graph.get(&job_path).await;
    assert_eq!(job["status"]["code"], "Paused");
    assert_eq!(
        job["status"]["lastSuccessfulExecution"]["state"],
        "Succeeded"
    );
}

#[tokio::test]
async fn existing_target_objects_are_matched_instead_of_duplicated() {
    let graph = Graph::start(fast()).await;
    let scim = scim_server().await;
    scim.snapshot().users.push(
        json!({"id": "pre-existing", "userName": "ada@contoso.example", "displayName": "old"}),
    );
    let (_, sp) = graph.instantiate_aws("Match").await;
    let sp_id = sp["id"].as_str().unwrap();
    let (job_id, rule_id) = graph.provisioning_job(sp_id, &scim).await;
    let ada = graph
        .create_user("ada@contoso.example", Some("Ada"), Some("Lovelace"))
        .await;
    graph.assign(&sp, &ada).await;
    let (status, result) = graph
        .post(&format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/provisionOnDemand"),
              json!({"parameters": [{"ruleId": rule_id, "subjects": [{"objectId": ada, "objectTypeName": "User"}]}]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let state = scim.snapshot();
    assert_eq!(state.users.len(), 1);
    assert_eq!(state.users[0]["id"], "pre-existing");
    assert_eq!(
        state.users[0]["displayName"], "ada",
        "matched user is updated with Replace operations"
    );
}

#[tokio::test]
async fn a_401_from_the_scim_endpoint_quarantines_the_job() {
    let graph = Graph::start(fast()).await;
    let scim = scim_server().await;
    let (_, sp) = graph.instantiate_aws("Quarantine").await;
    let sp_id = sp["id"].as_str().unwrap();
    let (job_id, _) = graph.provisioning_job(sp_id, &scim).await;
    let ada = graph
        .create_user("ada@contoso.example", Some("Ada"), Some("Lovelace"))
        .await;
    graph.assign(&sp, &ada).await;
    scim.snapshot().reject_all = true;
    let job_path = format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}");
    graph.post(&format!("{job_path}/start"), json!({})).await;
    let job = graph.wait_for_job_code(&job_path, "Quarantine").await;
    assert_eq!(
        job["status"]["quarantine"]["reason"],
        "EncounteredQuarantineException"
    );
    assert_eq!(job["status"]["lastExecution"]["state"], "Failed");
    let calls = scim.snapshot().requests.len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        scim.snapshot().requests.len(),
        calls,
        "no more cycles once quarantined"
    );

    // Validate credentials reports the failure; fixing the endpoint and restarting clears the quarantine.
    let (status, body) = graph
        .post(
            &format!("{job_path}/validateCredentials"),
            json!({"useSavedCredentials": true}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SystemForCrossDomainIdentityManagementCredentialValidationUnavailable")
    );
    scim.snapshot().reject_all = false;
    let (status, _) = graph
        .post(
            &format!("{job_path}/validateCredentials"),
            json!({"useSavedCredentials": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = graph
        .post(&format!("{job_path}/validateCredentials"),
              json!({"credentials": [{"key": "BaseAddress", "value": scim.base_address()}, {"key": "SecretToken", "value": "wrong"}]}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        graph
            .post(
                &format!("{job_path}/restart"),
                json!({"criteria": {"resetScope": "Full"}})
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    scim.wait_for("user provisioned after restart", |s| s.users.len() == 1)
        .await;
    let (_, job) = graph.get(&job_path).await;
    assert_eq!(job["status"]["code"], "Active");
    assert!(job["status"]["quarantine"].is_null());
}

#[tokio::test]
async fn provision_on_demand_checks_rule_scope_and_rate() {
    let graph = Graph::default().await;
    let scim = scim_server().await;
    let (_, sp) = graph.instantiate_aws("OnDemand").await;
    let sp_id = sp["id"].as_str().unwrap();
    let (job_id, rule_id) = graph.provisioning_job(sp_id, &scim).await;
    let group = graph.create_group("Unassigned").await;
    let path =
        format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/provisionOnDemand");
    let body = |rule: &str| json!({"parameters": [{"ruleId": rule, "subjects": [{"objectId": group, "objectTypeName": "Group"}]}]});
    assert_eq!(
        graph.post(&path, body("not-a-rule")).await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, result) = graph.post(&path, body(&rule_id)).await;
    assert_eq!(status, StatusCode::OK);
    let report: Value = serde_json::from_str(result["value"].as_str().unwrap()).unwrap();
    assert_eq!(
        report["statusInfo"]["status"], "Skipped",
        "an unassigned group is out of scope"
    );
    assert!(scim.snapshot().requests.is_empty());
    for _ in 0..4 {
        assert_eq!(graph.post(&path, body(&rule_id)).await.0, StatusCode::OK);
    }
    let (status, throttled) = graph.post(&path, body(&rule_id)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{throttled}");
    // Undeclared parameters are refused before anything runs.
    assert_eq!(
        graph
            .post(&path, json!({"parameters": [], "force": true}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn users_deleted_in_the_target_are_created_again() {
    let graph = Graph::default().await;
    let scim = scim_server().await;
    let (_, sp) = graph.instantiate_aws("Recreate").await;
    let sp_id = sp["id"].as_str().unwrap();
    let (job_id, rule_id) = graph.provisioning_job(sp_id, &scim).await;
    let ada = graph
        .create_user("ada@contoso.example", Some("Ada"), Some("Lovelace"))
        .await;
    graph.assign(&sp, &ada).await;
    let path =
        format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/provisionOnDemand");
    let body = json!({"parameters": [{"ruleId": rule_id, "subjects": [{"objectId": ada, "objectTypeName": "User"}]}]});
    assert_eq!(graph.post(&path, body.clone()).await.0, StatusCode::OK);
    scim.snapshot().users.clear();
    let (status, _) = graph
        .patch(&format!("/users/{ada}"), json!({"displayName": "Ada L."}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, failed) = graph.post(&path, body.clone()).await;
    let report: Value = serde_json::from_str(failed["value"].as_str().unwrap()).unwrap();
    assert_eq!(report["statusInfo"]["status"], "Failure", "{report}");
    let (_, job) = graph
        .get(&format!(
            "/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}"
        ))
        .await;
    assert_eq!(job["status"]["lastExecution"]["state"], "EntryLevelErrors");
    assert_eq!(graph.post(&path, body).await.0, StatusCode::OK);
    let state = scim.snapshot();
    assert_eq!(state.users.len(), 1);
    assert_eq!(state.users[0]["displayName"], "Ada L.");
}

/// Graph "synchronizationJob: provisionOnDemand" (example 3, "Provision a group and two of its members on
/// demand", and synchronizationLinkedObjects): a group subject provisions the group and only the members its
/// `links.members` lists, at most five; the other members wait for a scheduled cycle.
#[tokio::test]
async fn on_demand_provisions_the_group_and_only_its_linked_members() {
    let graph = Graph::start(fast()).await;
    let scim = scim_server().await;
    let (_, sp) = graph.instantiate_aws("Big group").await;
    let sp_id = sp["id"].as_str().unwrap();
    let (job_id, rule_id) = graph.provisioning_job(sp_id, &scim).await;
    let group = graph.create_group("Seven").await;
    let mut users = Vec::new();
    for i in 0..7 {
        let user = graph
            .create_user(
                &format!("user{i}@contoso.example"),
                Some("U"),
                Some(&format!("N{i}")),
            )
            .await;
        graph.add_member(&group, &user).await;
        users.push(user);
    }
    let outsider = graph
        .create_user("outsider@contoso.example", Some("O"), Some("S"))
        .await;
    graph.assign(&sp, &group).await;
    let job_path = format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}");
    let on_demand = |members: &[&String]| {
        let links: Vec<Value> = members
            .iter()
            .map(|m| json!({"objectId": m, "objectTypeName": "User"}))
            .collect();
        json!({"parameters": [{"ruleId": rule_id, "subjects": [{"objectId": group, "objectTypeName": "Group",
               "links": {"members": links}}]}]})
    };

    // No links: the group alone, with no members.
    let (status, answer) = graph
        .post(&format!("{job_path}/provisionOnDemand"), on_demand(&[]))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(scim.snapshot().groups.len(), 1);
    assert!(scim.snapshot().users.is_empty(), "no member was asked for");
    assert_eq!(scim.snapshot().groups[0]["members"], json!([]));

    // Two linked members (and one that is not a member): exactly those two.
    let (status, answer) = graph
        .post(
            &format!("{job_path}/provisionOnDemand"),
            on_demand(&[&users[0], &users[1], &outsider]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let provisioned: Vec<Value> = scim
        .snapshot()
        .users
        .iter()
        .map(|u| u["userName"].clone())
        .collect();
    assert_eq!(
        provisioned,
        [
            json!("user0@contoso.example"),
            json!("user1@contoso.example")
        ]
    );
    assert_eq!(
        scim.snapshot().groups[0]["members"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Six linked members: 400, nothing provisioned.
    let six: Vec<&String> = users.iter().take(6).collect();
    let before = scim.snapshot().requests.len();
    let (status, error) = graph
        .post(&format!("{job_path}/provisionOnDemand"), on_demand(&six))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["error"]["code"], "Request_BadRequest");
    assert_eq!(scim.snapshot().requests.len(), before);

    // A scheduled cycle provisions the rest.
    graph.post(&format!("{job_path}/start"), json!({})).await;
    scim.wait_for("all seven members", |s| {
        s.groups[0]["members"]
            .as_array()
            .is_some_and(|m| m.len() == 7)
    })
    .await;
    assert_eq!(scim.count("POST", "/Groups"), 1);
}
