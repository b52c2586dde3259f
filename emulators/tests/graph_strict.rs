//! The Graph emulator is as strict as Microsoft Graph where the provider depends on it. Each test names the
//! public source of its rule (Graph API reference page, OData specification section or a reported Graph answer).

mod graph_common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use graph_common::{Graph, scim_server};
use idbridge_emulators::graph::GraphConfig;
use serde_json::{Value, json};

fn parsed(text: &Value) -> Value {
    serde_json::from_str(text.as_str().expect("a JSON string")).expect("valid JSON")
}

/// Graph "synchronizationJob: provisionOnDemand", examples 1 and 3: a 200 `stringKeyStringValuePair` whose
/// `key` is a JSON string `{"result": …, "details": {…}}` and whose `value` is a JSON string with the report:
/// `provisioningSteps`, `statusInfo.status` capitalised (`Success`, `Skipped`), `sourceIdentity`/`targetIdentity`
/// with `id` and `type`, `sourceSystem`/`targetSystem` with `name`.
#[tokio::test]
async fn provision_on_demand_answers_in_the_documented_shape() {
    let graph = Graph::default().await;
    let scim = scim_server().await;
    let (_, sp) = graph.instantiate_aws("Shape").await;
    let sp_id = sp["id"].as_str().unwrap();
    let (job_id, rule_id) = graph.provisioning_job(sp_id, &scim).await;
    let ada = graph
        .create_user("ada@contoso.example", Some("Ada"), Some("Lovelace"))
        .await;
    let group = graph.create_group("Shape").await;
    graph.add_member(&group, &ada).await;
    graph.assign(&sp, &group).await;
    let path =
        format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/provisionOnDemand");
    let body = json!({"parameters": [{"ruleId": rule_id, "subjects": [{"objectId": group, "objectTypeName": "Group",
                      "links": {"members": [{"objectId": ada, "objectTypeName": "User"}]}}]}]});

    let (status, answer) = graph.post(&path, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let summary = parsed(&answer["key"]);
    assert_eq!(summary, json!({"result": "Success", "details": {}}));
    let report = parsed(&answer["value"]);
    assert_eq!(report["statusInfo"]["status"], "Success", "{report}");
    assert_eq!(report["action"], "Create");
    assert_eq!(report["sourceIdentity"]["id"], group.as_str());
    assert_eq!(report["sourceIdentity"]["type"], "Group");
    assert_eq!(report["sourceSystem"]["name"], "Azure Active Directory");
    assert_eq!(report["targetSystem"]["name"], "customappsso");
    assert!(report["targetIdentity"]["id"].is_string(), "{report}");
    let steps: Vec<&str> = report["provisioningSteps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(steps[0], "EntryImport");
    assert!(steps.contains(&"EntryExportAdd"), "{steps:?}");
    for step in report["provisioningSteps"].as_array().unwrap() {
        for key in [
            "name",
            "type",
            "status",
            "description",
            "timestamp",
            "details",
        ] {
            assert!(!step[key].is_null(), "step without {key}: {step}");
        }
    }

    // Nothing changed since: Skipped / RedundantExport, as example 1 shows.
    let (_, again) = graph.post(&path, body).await;
    assert_eq!(parsed(&again["key"])["result"], "Skipped");
    assert_eq!(parsed(&again["value"])["statusInfo"]["status"], "Skipped");
}

/// Graph "synchronizationStatus" (code `NotConfigured`: "Job was not configured and never run. No
/// authorization was provided.") and the "Create synchronizationJob" example: a new job answers
/// `NotConfigured`; once credentials are saved it has not run yet (`NotRun`).
#[tokio::test]
async fn a_new_job_without_credentials_is_not_configured() {
    let graph = Graph::default().await;
    let (_, sp) = graph.instantiate_aws("NotConfigured").await;
    let sp_id = sp["id"].as_str().unwrap();
    let sync = format!("/servicePrincipals/{sp_id}/synchronization");
    let (status, job) = graph
        .post(
            &format!("{sync}/jobs"),
            json!({"templateId": "aWSSingleSignon"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    assert_eq!(job["status"]["code"], "NotConfigured");
    assert_eq!(job["schedule"]["state"], "Disabled");
    let job_path = format!("{sync}/jobs/{}", job["id"].as_str().unwrap());
    let secrets = json!({"value": [{"key": "BaseAddress", "value": "https://scim.example/scim/v2/"},
                                   {"key": "SecretToken", "value": "t"}]});
    assert_eq!(
        graph
            .send(Method::PUT, &format!("{sync}/secrets"), Some(secrets))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(graph.get(&job_path).await.1["status"]["code"], "NotRun");
}

/// The AWS IAM Identity Center gallery app gets its reply URL (the ACS URL of one identity store) only when
/// SAML is configured: right after `instantiate` the application's `web.redirectUris` and the service
/// principal's `replyUrls` are empty, so the provider has to set them.
#[tokio::test]
async fn instantiate_leaves_the_reply_urls_empty() {
    let graph = Graph::default().await;
    let (app, sp) = graph.instantiate_aws("Empty reply URLs").await;
    assert_eq!(app["web"]["redirectUris"], json!([]));
    assert_eq!(sp["replyUrls"], json!([]));
    let (_, read) = graph
        .get(&format!("/applications/{}", app["id"].as_str().unwrap()))
        .await;
    assert_eq!(read["web"]["redirectUris"], json!([]));
}

/// OData 4.01 Part 1 Protocol, 11.4.3 "Update an Entity", which Graph's PATCH follows: members of a complex
/// value that the request leaves out keep their values (nested complex values too), while collections are
/// replaced as a whole.
#[tokio::test]
async fn patch_merges_complex_values_and_replaces_collections() {
    let graph = Graph::default().await;
    let (app, _) = graph.instantiate_aws("Merge").await;
    let path = format!("/applications/{}", app["id"].as_str().unwrap());
    let (status, body) = graph
        .patch(
            &path,
            json!({"web": {"logoutUrl": "https://example.com/logout",
                           "implicitGrantSettings": {"enableIdTokenIssuance": true},
                           "redirectUris": ["https://a.example/acs", "https://b.example/acs"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = graph
        .patch(
            &path,
            json!({"web": {"redirectUris": ["https://c.example/acs"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let web = graph.get(&path).await.1["web"].clone();
    assert_eq!(web["redirectUris"], json!(["https://c.example/acs"]));
    assert_eq!(web["logoutUrl"], "https://example.com/logout");
    assert_eq!(web["homePageUrl"], app["web"]["homePageUrl"]);
    assert_eq!(
        web["implicitGrantSettings"],
        json!({"enableAccessTokenIssuance": false, "enableIdTokenIssuance": true})
    );
}

/// Graph "servicePrincipal: addTokenSigningCertificate": a Sign and a Verify key credential and a password
/// credential, all with the same customKeyIdentifier; the password credential and the private key (Sign)
/// share one keyId; endDateTime at most three years ahead.
#[tokio::test]
async fn signing_certificate_credentials_share_ids_as_documented() {
    let graph = Graph::default().await;
    let (_, sp) = graph.instantiate_aws("Keys").await;
    let sp_id = sp["id"].as_str().unwrap();
    let action = format!("/servicePrincipals/{sp_id}/addTokenSigningCertificate");
    let (status, cert) = graph.post(&action, json!({"displayName": "CN=Keys"})).await;
    assert_eq!(status, StatusCode::OK, "{cert}");
    let (_, read) = graph
        .get(&format!(
            "/servicePrincipals/{sp_id}?$select=keyCredentials,passwordCredentials"
        ))
        .await;
    let keys = read["keyCredentials"].as_array().unwrap();
    let by_usage = |usage: &str| keys.iter().find(|k| k["usage"] == usage).unwrap().clone();
    let (sign, verify) = (by_usage("Sign"), by_usage("Verify"));
    let password = read["passwordCredentials"][0].clone();
    assert_eq!(password["keyId"], sign["keyId"]);
    assert_ne!(verify["keyId"], sign["keyId"]);
    assert_eq!(
        cert["keyId"], verify["keyId"],
        "the answer is the public key"
    );
    for credential in [&sign, &verify, &password] {
        assert_eq!(
            credential["customKeyIdentifier"],
            cert["customKeyIdentifier"]
        );
    }
    let too_late = (time::OffsetDateTime::now_utc() + time::Duration::days(4 * 365))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, _) = graph
        .post(
            &action,
            json!({"displayName": "CN=Keys", "endDateTime": too_late}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Graph answers a directory-object id that is not a GUID with 400 `Request_BadRequest` "Invalid object
/// identifier '…'." (reported by Graph users: AzureAD/microsoft-authentication-library-for-dotnet#1321,
/// Azure/active-directory-dotnet-graphapi-b2bportal-web#16), while a well-formed unknown id is a 404.
#[tokio::test]
async fn malformed_object_ids_are_bad_requests() {
    let graph = Graph::default().await;
    for path in [
        "/applications/not-a-guid",
        "/servicePrincipals/AWS%20Admins",
        "/groups/12345",
        "/servicePrincipals/not-a-guid/synchronization/jobs",
        "/directory/deletedItems/not-a-guid",
    ] {
        let (status, body) = graph.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["code"], "Request_BadRequest", "{path}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid object identifier '"),
            "{path}: {body}"
        );
    }
    let group = graph.create_group("Refs").await;
    let (status, body) = graph
        .post(
            &format!("/groups/{group}/members/$ref"),
            json!({"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/someone"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let unknown = uuid::Uuid::new_v4();
    let (status, body) = graph.get(&format!("/applications/{unknown}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "Request_ResourceNotFound");
}

/// The first lag the seeded generator draws for `seed` with a `max_ms` ceiling (the emulator draws one per write).
fn lags(seed: u64, max_ms: u64, count: usize) -> Vec<u64> {
    let mut random = fastrand::Rng::with_seed(seed);
    (0..count).map(|_| random.u64(0..=max_ms)).collect()
}

/// Graph is eventually consistent ("Graph can answer 404 for a while after create"; reads after a PATCH may
/// still show the previous values): with a time-based lag, a new object answers 404 and is missing from lists
/// until its lag has passed, and a PATCHed object answers its previous version until then. The lags come
/// from a seeded generator, so a run can be replayed.
#[tokio::test]
async fn replication_lag_is_time_based_and_seeded() {
    const MAX_MS: u64 = 1500;
    // A seed whose first two draws (the create, then the PATCH) are long enough to observe.
    let seed = (0..)
        .find(|s| lags(*s, MAX_MS, 2).iter().all(|lag| *lag > 600))
        .unwrap();
    let [create_lag, patch_lag] = lags(seed, MAX_MS, 2)[..] else {
        unreachable!()
    };
    let graph = Graph::start(GraphConfig {
        replication_lag: Duration::from_millis(MAX_MS),
        replication_lag_seed: seed,
        ..Default::default()
    })
    .await;
    let created = std::time::Instant::now();
    let (status, group) = graph
        .post("/groups", json!({"displayName": "Lagging", "mailEnabled": false, "mailNickname": "lagging", "securityEnabled": true}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let path = format!("/groups/{}", group["id"].as_str().unwrap());
    assert_eq!(graph.get(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(graph.get("/groups").await.1["value"], json!([]));
    tokio::time::sleep(Duration::from_millis(create_lag + 50).saturating_sub(created.elapsed()))
        .await;
    assert_eq!(graph.get(&path).await.0, StatusCode::OK);
    assert_eq!(
        graph.get("/groups").await.1["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let patched = std::time::Instant::now();
    let (status, _) = graph.patch(&path, json!({"displayName": "Renamed"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(graph.get(&path).await.1["displayName"], "Lagging");
    tokio::time::sleep(Duration::from_millis(patch_lag + 50).saturating_sub(patched.elapsed()))
        .await;
    assert_eq!(graph.get(&path).await.1["displayName"], "Renamed");
}

/// Graph "Delete application" / "List deletedItems" / "Restore deleted item" / "Permanently delete an item":
/// a deleted application (and its service principal) goes to `directory/deletedItems`, is listed under the
/// `microsoft.graph.application` cast (a cast is required), can be restored with its id and configuration, and
/// can be deleted for good.
#[tokio::test]
async fn deleted_applications_go_to_deleted_items() {
    let graph = Graph::default().await;
    let scim = scim_server().await;
    let (app, sp) = graph.instantiate_aws("Recycled").await;
    let (app_id, sp_id) = (app["id"].as_str().unwrap(), sp["id"].as_str().unwrap());
    let (job_id, _) = graph.provisioning_job(sp_id, &scim).await;
    let app_path = format!("/applications/{app_id}");
    assert_eq!(
        graph.send(Method::DELETE, &app_path, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(graph.get(&app_path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        graph.get(&format!("/servicePrincipals/{sp_id}")).await.0,
        StatusCode::NOT_FOUND
    );

    let (status, deleted) = graph
        .get("/directory/deletedItems/microsoft.graph.application")
        .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["value"].as_array().unwrap().len(), 1);
    assert_eq!(deleted["value"][0]["id"], app_id);
    assert!(deleted["value"][0]["deletedDateTime"].is_string());
    let principals = graph
        .get("/directory/deletedItems/microsoft.graph.servicePrincipal")
        .await
        .1;
    assert_eq!(principals["value"][0]["id"], sp_id);
    assert_eq!(
        graph.get("/directory/deletedItems").await.0,
        StatusCode::BAD_REQUEST,
        "the cast is required"
    );
    let (status, item) = graph
        .get(&format!("/directory/deletedItems/{app_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{item}");
    assert_eq!(item["@odata.type"], "#microsoft.graph.application");

    let (status, restored) = graph
        .post(
            &format!("/directory/deletedItems/{app_id}/restore"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored["id"], app_id);
    assert!(restored["deletedDateTime"].is_null());
    assert_eq!(graph.get(&app_path).await.0, StatusCode::OK);
    let job_path = format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}");
    assert_eq!(
        graph.get(&job_path).await.0,
        StatusCode::OK,
        "the service principal came back with its provisioning job"
    );

    graph.send(Method::DELETE, &app_path, None).await;
    assert_eq!(
        graph
            .send(
                Method::DELETE,
                &format!("/directory/deletedItems/{app_id}"),
                None
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let gone = graph
        .get("/directory/deletedItems/microsoft.graph.application")
        .await
        .1;
    assert_eq!(gone["value"], json!([]));
    assert_eq!(
        graph
            .post(
                &format!("/directory/deletedItems/{app_id}/restore"),
                json!({})
            )
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

/// Graph "List group members": OData casts are enabled (`/groups/{id}/members/microsoft.graph.user` lists the
/// members that are users) and `$select` then takes that type's properties, such as `accountEnabled`, which is
/// not a default property of users.
#[tokio::test]
async fn group_members_can_be_listed_by_type_with_their_properties() {
    let graph = Graph::default().await;
    let ada = graph
        .create_user("ada@contoso.example", Some("Ada"), Some("Lovelace"))
        .await;
    let team = graph.create_group("Team").await;
    let nested = graph.create_group("Nested").await;
    graph.add_member(&team, &ada).await;
    graph.add_member(&team, &nested).await;

    let (status, users) = graph
        .get(&format!(
            "/groups/{team}/members/microsoft.graph.user?$select=id,userPrincipalName,accountEnabled"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{users}");
    let users = users["value"].as_array().unwrap();
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0]["id"], ada.as_str());
    assert_eq!(users[0]["userPrincipalName"], "ada@contoso.example");
    assert!(users[0]["accountEnabled"].is_boolean(), "{users:?}");

    let (status, groups) = graph
        .get(&format!(
            "/groups/{team}/members/microsoft.graph.group?$select=id,displayName,securityEnabled"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{groups}");
    let groups = groups["value"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["displayName"], "Nested");

    // A property of another type is not selectable through the cast, as Graph answers.
    let (status, _) = graph
        .get(&format!(
            "/groups/{team}/members/microsoft.graph.group?$select=accountEnabled"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = graph
        .get(&format!("/groups/{team}/members/microsoft.graph.device"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
