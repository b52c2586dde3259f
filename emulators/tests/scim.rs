//! The SCIM endpoint stand-in over HTTP, with identitystore (moto behind the proxy) checked through the AWS SDK.

mod scim_common;

use aws_sdk_identitystore::types::{AlternateIdentifier, UniqueAttribute};
use scim_common::{by_external_id, env, patch, urlencode, user};
use serde_json::{Value, json};

#[tokio::test]
async fn bearer_token_and_tenant_are_checked() {
    let env = env().await;
    let anonymous = env
        .http
        .get(format!("{}Users", env.scim.endpoint))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(
        body["schema"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(body["status"], "401");
    let wrong = env
        .http
        .get(format!("{}Users", env.scim.endpoint))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let other_tenant = env
        .http
        .get(format!(
            "{}/00000000-0000-0000-0000-000000000000/scim/v2/Users",
            env.scim.base_url
        ))
        .bearer_auth(&env.scim.token)
        .send()
        .await
        .unwrap();
    // The guide's error tables: UnauthorizedException "also occurs if the tenant ID is incorrect".
    assert_eq!(other_tenant.status(), 401);
    let (status, config) = env
        .call(reqwest::Method::GET, "ServiceProviderConfig", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
}

#[tokio::test]
async fn users_crud_filters_and_aws_limitations() {
    let env = env().await;
    let id = env.create_user("alice").await;
    let (status, body) = env
        .call(reqwest::Method::POST, "Users", Some(user("alice")))
        .await;
    assert_eq!(status, 409, "{body}");
    let mut incomplete = user("bob");
    incomplete["name"] = json!({"givenName": "Bob"});
    assert_eq!(
        env.call(reqwest::Method::POST, "Users", Some(incomplete))
            .await
            .0,
        400
    );
    let mut two_emails = user("carol");
    two_emails["emails"] = json!([{"value": "a@x.com", "primary": true}, {"value": "b@x.com"}]);
    assert_eq!(
        env.call(reqwest::Method::POST, "Users", Some(two_emails))
            .await
            .0,
        400
    );

    let (status, fetched) = env
        .call(reqwest::Method::GET, &format!("Users/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(fetched["userName"], "alice");
    assert_eq!(fetched["externalId"], "ext-alice");
    assert_eq!(fetched["emails"][0]["value"], "alice@example.com");

    env.create_user("dave").await;
    for filter in [r#"userName eq "alice""#, r#"externalId eq "ext-alice""#] {
        let (status, listed) = env
            .call(
                reqwest::Method::GET,
                &format!("Users?filter={}", urlencode(filter)),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(listed["totalResults"], 1, "{filter}: {listed}");
        assert_eq!(listed["Resources"][0]["id"], id.as_str());
    }
    let (_, all) = env.call(reqwest::Method::GET, "Users", None).await;
    assert_eq!(all["totalResults"], 2);
    assert_eq!(
        env.call(
            reqwest::Method::GET,
            &format!("Users?filter={}", urlencode(r#"userName co "a""#)),
            None
        )
        .await
        .0,
        400
    );

    let mut replaced = user("alice");
    replaced["displayName"] = json!("Alice Replaced");
    let (status, body) = env
        .call(reqwest::Method::PUT, &format!("Users/{id}"), Some(replaced))
        .await;
    assert_eq!(
        (status, body["displayName"].as_str()),
        (200, Some("Alice Replaced"))
    );

    // Entra ID's PATCH style: capitalised ops, "False" strings, filtered paths, no-path objects.
    let entra = patch(json!([
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "alice@corp.example"},
        {"op": "Add", "value": {"name.familyName": "Liddell", "title": "Engineer"}}
    ]));
    let (status, body) = env
        .call(reqwest::Method::PATCH, &format!("Users/{id}"), Some(entra))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], false);
    assert_eq!(body["emails"][0]["value"], "alice@corp.example");
    assert_eq!(body["name"]["familyName"], "Liddell");

    // SCIM traffic has its own limits on AWS: it never counts against the Identity Center API quota.
    let stats: Value = reqwest::get(format!("{}/_proxy/stats", env.proxy.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats["total_calls"], 1,
        "only the test's own ListInstances: {stats}"
    );

    let described = env
        .ids
        .describe_user()
        .identity_store_id(&env.store_id)
        .user_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(described.display_name(), Some("Alice Replaced"));
    assert_eq!(described.name().unwrap().family_name(), Some("Liddell"));
    assert_eq!(described.emails()[0].value(), Some("alice@corp.example"));

    assert_eq!(
        env.call(reqwest::Method::DELETE, &format!("Users/{id}"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        env.call(reqwest::Method::GET, &format!("Users/{id}"), None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn groups_and_members_land_in_identitystore() {
    let env = env().await;
    let alice = env.create_user("alice").await;
    let bob = env.create_user("bob").await;
    let (status, group) = env
        .call(
            reqwest::Method::POST,
            "Groups",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "AWS-Admins", "externalId": "entra-object-id"})),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["id"].as_str().unwrap().to_owned();

    let lookup = |name: &'static str| {
        env.ids
            .get_group_id()
            .identity_store_id(&env.store_id)
            .alternate_identifier(AlternateIdentifier::UniqueAttribute(
                UniqueAttribute::builder()
                    .attribute_path("displayName")
                    .attribute_value(aws_smithy_types::Document::String(name.into()))
                    .build()
                    .unwrap(),
            ))
            .send()
    };
    assert_eq!(lookup("AWS-Admins").await.unwrap().group_id, group_id);

    let add = patch(
        json!([{"op": "Add", "path": "members", "value": [{"value": alice}, {"value": bob}]}]),
    );
    let (status, body) = env
        .call(
            reqwest::Method::PATCH,
            &format!("Groups/{group_id}"),
            Some(add),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let memberships = env
        .ids
        .list_group_memberships()
        .identity_store_id(&env.store_id)
        .group_id(&group_id)
        .send()
        .await
        .unwrap();
    assert_eq!(memberships.group_memberships().len(), 2);

    let member_filter = urlencode(&format!(r#"id eq "{group_id}" and members eq "{alice}""#));
    let (_, listed) = env
        .call(
            reqwest::Method::GET,
            &format!("Groups?filter={member_filter}"),
            None,
        )
        .await;
    assert_eq!(listed["totalResults"], 1);
    let (_, listed) = env
        .call(
            reqwest::Method::GET,
            &format!(
                "Groups?filter={}",
                urlencode(r#"externalId eq "entra-object-id""#)
            ),
            None,
        )
        .await;
    assert_eq!(listed["Resources"][0]["id"], group_id.as_str());

    let remove = patch(json!([{"op": "remove", "path": format!("members[value eq \"{alice}\"]")}]));
    assert_eq!(
        env.call(
            reqwest::Method::PATCH,
            &format!("Groups/{group_id}"),
            Some(remove)
        )
        .await
        .0,
        204
    );
    let (_, listed) = env
        .call(
            reqwest::Method::GET,
            &format!("Groups?filter={member_filter}"),
            None,
        )
        .await;
    assert_eq!(listed["totalResults"], 0);
    let remove_all = patch(json!([{"op": "remove", "path": "members"}]));
    assert_eq!(
        env.call(
            reqwest::Method::PATCH,
            &format!("Groups/{group_id}"),
            Some(remove_all)
        )
        .await
        .0,
        400
    );

    let rename =
        patch(json!([{"op": "Replace", "path": "displayName", "value": "AWS-Administrators"}]));
    assert_eq!(
        env.call(
            reqwest::Method::PATCH,
            &format!("Groups/{group_id}"),
            Some(rename)
        )
        .await
        .0,
        204
    );
    assert_eq!(
        lookup("AWS-Administrators").await.unwrap().group_id,
        group_id
    );
    let (_, fetched) = env
        .call(reqwest::Method::GET, &format!("Groups/{group_id}"), None)
        .await;
    assert_eq!(fetched["displayName"], "AWS-Administrators");
    assert!(
        fetched.get("members").is_none(),
        "AWS returns no members on GET"
    );

    assert_eq!(
        env.call(reqwest::Method::DELETE, &format!("Groups/{group_id}"), None)
            .await
            .0,
        204
    );
    assert!(
        lookup("AWS-Administrators")
            .await
            .unwrap_err()
            .into_service_error()
            .is_resource_not_found_exception()
    );
}

/// What AWS's SCIM endpoint does inside AWS: the SCIM `externalId` becomes the identitystore `ExternalIds` entry
/// (issuer: the endpoint's), follows replacement, PATCH and removal, and `GetGroupId`/`GetUserId` find it.
#[tokio::test]
async fn external_ids_follow_scim_writes_into_identitystore() {
    let env = env().await;
    let issuer = env.scim.external_id_issuer.clone();
    assert_eq!(
        issuer,
        format!("https://scim.aws.com/{}", env.scim.tenant_id)
    );
    let group_external_ids = |group_id: String| {
        let env = &env;
        async move {
            env.ids
                .describe_group()
                .identity_store_id(&env.store_id)
                .group_id(group_id)
                .send()
                .await
                .unwrap()
                .external_ids()
                .iter()
                .map(|e| (e.issuer().to_owned(), e.id().to_owned()))
                .collect::<Vec<_>>()
        }
    };
    let group_by = |id: &str| {
        env.ids
            .get_group_id()
            .identity_store_id(&env.store_id)
            .alternate_identifier(by_external_id(&issuer, id))
            .send()
    };

    let (status, group) = env
        .call(
            reqwest::Method::POST,
            "Groups",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "AWS-Ops", "externalId": "entra-ops"})),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["id"].as_str().unwrap().to_owned();
    assert_eq!(
        group_external_ids(group_id.clone()).await,
        [(issuer.clone(), "entra-ops".to_owned())]
    );
    assert_eq!(group_by("entra-ops").await.unwrap().group_id, group_id);

    let replace = patch(json!([{"op": "Replace", "path": "externalId", "value": "entra-ops-2"}]));
    let (status, body) = env
        .call(
            reqwest::Method::PATCH,
            &format!("Groups/{group_id}"),
            Some(replace),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(group_by("entra-ops-2").await.unwrap().group_id, group_id);
    assert!(
        group_by("entra-ops")
            .await
            .unwrap_err()
            .into_service_error()
            .is_resource_not_found_exception()
    );
    let remove = patch(json!([{"op": "Remove", "path": "externalId"}]));
    env.call(
        reqwest::Method::PATCH,
        &format!("Groups/{group_id}"),
        Some(remove),
    )
    .await;
    assert_eq!(group_external_ids(group_id.clone()).await, []);
    let add = patch(json!([{"op": "Add", "path": "externalId", "value": "entra-ops-3"}]));
    let (status, body) = env
        .call(
            reqwest::Method::PATCH,
            &format!("Groups/{group_id}"),
            Some(add),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        group_external_ids(group_id.clone()).await,
        [(issuer.clone(), "entra-ops-3".to_owned())]
    );

    let user_id = env.create_user("erin").await;
    let user_by = |id: &str| {
        env.ids
            .get_user_id()
            .identity_store_id(&env.store_id)
            .alternate_identifier(by_external_id(&issuer, id))
            .send()
    };
    assert_eq!(user_by("ext-erin").await.unwrap().user_id, user_id);
    let listed = env
        .ids
        .list_users()
        .identity_store_id(&env.store_id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.users()[0].external_ids()[0].id(), "ext-erin");
    let remove = patch(json!([{"op": "remove", "path": "externalId"}]));
    let (status, body) = env
        .call(
            reqwest::Method::PATCH,
            &format!("Users/{user_id}"),
            Some(remove),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("externalId").is_none(), "{body}");
    assert!(
        user_by("ext-erin")
            .await
            .unwrap_err()
            .into_service_error()
            .is_resource_not_found_exception()
    );
    let mut replaced = user("erin");
    replaced["externalId"] = json!("ext-erin-2");
    env.call(
        reqwest::Method::PUT,
        &format!("Users/{user_id}"),
        Some(replaced),
    )
    .await;
    assert_eq!(user_by("ext-erin-2").await.unwrap().user_id, user_id);

    // Deleting through SCIM deletes through identitystore, where the proxy forgets the ids.
    for path in [format!("Groups/{group_id}"), format!("Users/{user_id}")] {
        assert_eq!(env.call(reqwest::Method::DELETE, &path, None).await.0, 204);
    }
    for id in [&group_id, &user_id] {
        let recorded: Value =
            reqwest::get(format!("{}/_proxy/external-ids/{id}", env.proxy.base_url))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        assert_eq!(recorded["ExternalIds"], json!([]), "{id}");
    }
}
