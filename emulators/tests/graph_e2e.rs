//! End to end over plain HTTP: token → gallery app → SAML → signing certificate → federation metadata →
//! provisioning job → assignment → provision on demand reaching a SCIM server.

mod graph_common;

use axum::http::{Method, StatusCode};
use graph_common::{Graph, scim_server};
use idbridge_emulators::graph::AWS_TEMPLATE_ID;
use serde_json::{Value, json};

#[tokio::test]
async fn saml_and_provisioning_end_to_end() {
    let graph = Graph::default().await;
    let scim = scim_server().await;

    // Gallery app.
    let (status, template) = graph.get("/applicationTemplates?$filter=displayName eq 'AWS IAM Identity Center (successor to AWS Single Sign-On)'").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(template["value"][0]["id"], AWS_TEMPLATE_ID);
    let (app, sp) = graph.instantiate_aws("AWS Prod").await;
    let (app_id, sp_id) = (app["id"].as_str().unwrap(), sp["id"].as_str().unwrap());
    assert_eq!(
        app["web"]["redirectUris"],
        json!([]),
        "set with the SAML trust"
    );
    assert_eq!(sp["appRoleAssignmentRequired"], true);
    let role_names: Vec<&str> = sp["appRoles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(role_names, ["User", "msiam_access"]);

    // SAML settings on both objects.
    let acs = "https://us-east-1.signin.aws.amazon.com/platform/saml/acs/5f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c";
    let (status, body) = graph
        .patch(&format!("/servicePrincipals/{sp_id}"), json!({"preferredSingleSignOnMode": "saml", "loginUrl": "https://d-1234567890.awsapps.com/start", "samlSingleSignOnSettings": {"relayState": "https://console.aws.amazon.com/"}}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = graph
        .patch(&format!("/applications/{app_id}"), json!({"identifierUris": ["https://us-east-1.signin.aws.amazon.com/platform/saml/d-1234567890"], "web": {"redirectUris": [acs]}}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, read_back) = graph.get(&format!("/servicePrincipals/{sp_id}")).await;
    assert_eq!(
        read_back["samlSingleSignOnSettings"]["relayState"],
        "https://console.aws.amazon.com/"
    );
    assert_eq!(read_back["replyUrls"], json!([acs]));

    // Signing certificate, activated.
    let (status, cert) = graph
        .post(
            &format!("/servicePrincipals/{sp_id}/addTokenSigningCertificate"),
            json!({"displayName": "CN=AWS Prod SAML", "endDateTime": "2029-06-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cert}");
    let thumbprint = cert["thumbprint"].as_str().unwrap().to_string();
    let (status, body) = graph
        .patch(
            &format!("/servicePrincipals/{sp_id}"),
            json!({"preferredTokenSigningKeyThumbprint": thumbprint}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, keys) = graph
        .get(&format!(
            "/servicePrincipals/{sp_id}?$select=keyCredentials"
        ))
        .await;
    let usages: Vec<&str> = keys["keyCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["usage"].as_str().unwrap())
        .collect();
    assert_eq!(usages, ["Sign", "Verify"]);
    assert_eq!(
        keys["keyCredentials"][0]["customKeyIdentifier"],
        keys["keyCredentials"][1]["customKeyIdentifier"]
    );

    // Federation metadata advertises exactly that certificate.
    let metadata = graph
        .http
        .get(format!(
            "{}/{}/federationmetadata/2007-06/federationmetadata.xml?appid={}",
            graph.server.base_url,
            graph.server.tenant_id,
            app["appId"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc = roxmltree::Document::parse(&metadata).unwrap();
    assert_eq!(
        doc.root_element().attribute("entityID").unwrap(),
        format!("https://sts.windows.net/{}/", graph.server.tenant_id)
    );
    let idp = doc
        .descendants()
        .find(|n| n.has_tag_name("IDPSSODescriptor"))
        .unwrap();
    let advertised = idp
        .descendants()
        .find(|n| n.has_tag_name("X509Certificate"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(advertised, cert["key"].as_str().unwrap());

    // Provisioning: job from the discovered template, a group with a member assigned to the app.
    let (job_id, rule_id) = graph.provisioning_job(sp_id, &scim).await;
    let user = graph
        .create_user("ada@contoso.example", Some("Ada"), Some("Lovelace"))
        .await;
    let group = graph.create_group("AWS Admins").await;
    graph.add_member(&group, &user).await;
    graph.assign(&sp, &group).await;
    // The member is provisioned because the request links it (Graph "synchronizationJob: provisionOnDemand").
    let (status, result) = graph
        .post(&format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/provisionOnDemand"),
              json!({"parameters": [{"ruleId": rule_id, "subjects": [{"objectId": group, "objectTypeName": "Group",
                     "links": {"members": [{"objectId": user, "objectTypeName": "User"}]}}]}]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let report: Value = serde_json::from_str(result["value"].as_str().unwrap()).unwrap();
    assert_eq!(report["statusInfo"]["status"], "Success", "{report}");

    {
        let state = scim.snapshot();
        assert_eq!(state.users.len(), 1);
        assert_eq!(state.users[0]["userName"], "ada@contoso.example");
        assert_eq!(state.users[0]["name"]["givenName"], "Ada");
        assert_eq!(state.groups.len(), 1);
        assert_eq!(state.groups[0]["displayName"], "AWS Admins");
        assert_eq!(state.groups[0]["externalId"], group.as_str());
        assert_eq!(
            state.groups[0]["members"],
            json!([{"value": state.users[0]["id"]}])
        );
        // Look-ups came before the creates, as Entra does.
        let order: Vec<(String, String)> = state
            .requests
            .iter()
            .map(|(m, p, _, _)| (m.clone(), p.clone()))
            .collect();
        let first_user_get = order
            .iter()
            .position(|r| r == &("GET".to_string(), "/Users".to_string()))
            .unwrap();
        let user_post = order
            .iter()
            .position(|r| r == &("POST".to_string(), "/Users".to_string()))
            .unwrap();
        assert!(first_user_get < user_post);
    }

    // A second on-demand run creates nothing new.
    let (status, _) = graph
        .post(&format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/provisionOnDemand"),
              json!({"parameters": [{"ruleId": rule_id, "subjects": [{"objectId": group, "objectTypeName": "Group"}]}]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(scim.count("POST", "/Users"), 1);
    assert_eq!(scim.count("POST", "/Groups"), 1);

    let (_, job) = graph
        .get(&format!(
            "/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}"
        ))
        .await;
    assert_eq!(job["status"]["lastExecution"]["state"], "Succeeded");
    let (_, secrets) = graph
        .get(&format!(
            "/servicePrincipals/{sp_id}/synchronization/secrets"
        ))
        .await;
    let token = secrets["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "SecretToken")
        .unwrap();
    assert_ne!(
        token["value"],
        scim.token.as_str(),
        "GET secrets masks the token"
    );

    // Alternate-key addressing by appId.
    let by_app_id = format!(
        "/servicePrincipals(appId='{}')",
        app["appId"].as_str().unwrap()
    );
    let (status, found) = graph.get(&by_app_id).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["id"], sp_id);
    let lower_case = format!("/serviceprincipals/{sp_id}/synchronization/Jobs");
    assert_eq!(
        graph.get(&lower_case).await.0,
        StatusCode::OK,
        "segment names are case-insensitive"
    );
    let (status, _) = graph
        .get("/applications(appId='00000000-0000-0000-0000-00000000beef')")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Deleting the application removes its service principal.
    assert_eq!(
        graph
            .send(Method::DELETE, &format!("/applications/{app_id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        graph.get(&format!("/servicePrincipals/{sp_id}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn claims_mapping_policies_are_assigned_listed_and_removed() {
    let graph = Graph::default().await;
    let (_, sp) = graph.instantiate_aws("Claims").await;
    let sp_id = sp["id"].as_str().unwrap();
    let definition = r#"{"ClaimsMappingPolicy":{"Version":1,"IncludeBasicClaimSet":"true","ClaimsSchema":[{"Source":"user","ID":"userprincipalname","SamlClaimType":"https://aws.amazon.com/SAML/Attributes/RoleSessionName"}]}}"#;
    let (status, policy) = graph
        .post(
            "/policies/claimsMappingPolicies",
            json!({"definition": [definition], "displayName": "AWS claims"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{policy}");
    let policy_id = policy["id"].as_str().unwrap();
    let reference = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/policies/claimsMappingPolicies/{policy_id}")});
    assert_eq!(
        graph
            .post(
                &format!("/servicePrincipals/{sp_id}/claimsMappingPolicies/$ref"),
                reference.clone()
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        graph
            .post(
                &format!("/servicePrincipals/{sp_id}/claimsMappingPolicies/$ref"),
                reference
            )
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (_, listed) = graph
        .get(&format!("/servicePrincipals/{sp_id}/claimsMappingPolicies"))
        .await;
    assert_eq!(listed["value"][0]["id"], policy_id);
    let (status, _) = graph
        .send(
            Method::DELETE,
            &format!("/servicePrincipals/{sp_id}/claimsMappingPolicies/{policy_id}/$ref"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listed) = graph
        .get(&format!("/servicePrincipals/{sp_id}/claimsMappingPolicies"))
        .await;
    assert_eq!(listed["value"], json!([]));
    let (status, body) = graph
        .patch(
            &format!("/policies/claimsMappingPolicies/{policy_id}"),
            json!({"definition": ["not json"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn graph_validates_saml_properties_like_entra() {
    let graph = Graph::default().await;
    let (app, sp) = graph.instantiate_aws("Validation").await;
    let (app_id, sp_id) = (app["id"].as_str().unwrap(), sp["id"].as_str().unwrap());
    let (status, body) = graph
        .patch(
            &format!("/applications/{app_id}"),
            json!({"identifierUris": ["not a uri"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "Request_BadRequest");
    assert!(body["error"]["innerError"]["request-id"].is_string());
    let (status, _) = graph.patch(&format!("/servicePrincipals/{sp_id}"), json!({"preferredTokenSigningKeyThumbprint": "00112233445566778899AABBCCDDEEFF00112233"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = graph
        .patch(
            &format!("/servicePrincipals/{sp_id}"),
            json!({"preferredSingleSignOnMode": "kerberos"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = graph
        .post(
            &format!("/servicePrincipals/{sp_id}/addTokenSigningCertificate"),
            json!({"displayName": "no prefix"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Identifier URIs are unique in the tenant.
    let (other, _) = graph.instantiate_aws("Other").await;
    let uri =
        json!({"identifierUris": ["https://us-east-1.signin.aws.amazon.com/platform/saml/d-1"]});
    assert_eq!(
        graph
            .patch(&format!("/applications/{app_id}"), uri.clone())
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        graph
            .patch(
                &format!("/applications/{}", other["id"].as_str().unwrap()),
                uri
            )
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    // Assignments check the role and the principal.
    let group = graph.create_group("Devs").await;
    let (status, _) = graph
        .post(&format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"), json!({"principalId": group, "resourceId": sp_id, "appRoleId": uuid::Uuid::new_v4().to_string()}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = graph
        .post(&format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"), json!({"principalId": uuid::Uuid::new_v4().to_string(), "resourceId": sp_id, "appRoleId": sp["appRoles"][0]["id"]}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let assignment = graph.assign(&sp, &group).await;
    let (_, listed) = graph
        .get(&format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"))
        .await;
    assert_eq!(listed["value"][0]["principalType"], "Group");
    assert_eq!(
        graph
            .send(
                Method::DELETE,
                &format!("/servicePrincipals/{sp_id}/appRoleAssignedTo/{assignment}"),
                None
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn strict_body_checking_rejects_undeclared_properties_and_parameters() {
    let graph = Graph::default().await;
    let (app, sp) = graph.instantiate_aws("Strict").await;
    let (status, body) = graph
        .patch(
            &format!("/applications/{}", app["id"].as_str().unwrap()),
            json!({"identifierUri": ["https://x.example"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "Request_BadRequest");
    assert!(
        body["error"]["message"].as_str().unwrap().contains(
            "Property 'identifierUri' does not exist on type 'microsoft.graph.application'"
        )
    );
    let (status, body) = graph
        .patch(
            &format!("/servicePrincipals/{}", sp["id"].as_str().unwrap()),
            json!({"samlSingleSignOnSettings": {"relay": "x"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = graph
        .post(
            &format!("/applicationTemplates/{AWS_TEMPLATE_ID}/instantiate"),
            json!({"displayName": "x", "description": "y"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'description'"),
        "{body}"
    );
    let (status, _) = graph
        .patch(
            &format!("/servicePrincipals/{}", sp["id"].as_str().unwrap()),
            json!({"appRoleAssignmentRequired": "yes"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
