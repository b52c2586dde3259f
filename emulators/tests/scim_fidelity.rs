//! Fidelity of the SCIM endpoint stand-in against AWS's "IAM Identity Center SCIM implementation developer guide"
//! (docs.aws.amazon.com/singlesignon/latest/developerguide/, cited by page and section) and RFC 7643/7644: one
//! test per rule, each naming where the rule comes from.

mod scim_common;

use std::time::Duration;

use idbridge_emulators::scim::ScimConfig;
use reqwest::Method;
use scim_common::{Env, GROUP_SCHEMA, env, env_with, patch, urlencode, user};
use serde_json::{Value, json};

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

fn assert_status(answer: &(u16, Value), expected: u16, what: &str) {
    assert_eq!(answer.0, expected, "{what}: {}", answer.1);
}

/// `method path` with `body` must answer `status`; the answer's body.
async fn expect_answer(
    env: &Env,
    method: Method,
    path: &str,
    body: Option<Value>,
    status: u16,
    what: &str,
) -> Value {
    let answer = env.call(method, path, body).await;
    assert_status(&answer, status, what);
    answer.1
}

/// PATCH `at` with `operations` must be a ValidationException.
async fn assert_patch_refused(env: &Env, at: &str, operations: Value, what: &str) {
    expect_answer(env, Method::PATCH, at, Some(patch(operations)), 400, what).await;
}

async fn filtered(env: &Env, resource: &str, filter: &str) -> (u16, Value) {
    env.get(&format!("{resource}?filter={}", urlencode(filter)))
        .await
}

/// AWS's error bodies as its endpoint sends them (quoted in slashdevops/idp-scim-sync#30 and #45): `schema` (sic),
/// `detail`, `status` as a string, `exceptionRequestId`, `timeStamp` (`2022-01-26 16:50:48.135`), no `scimType`.
#[tokio::test]
async fn errors_have_the_aws_shape() {
    let env = env().await;
    let (status, body) = env
        .get("Users/9067729b3d-00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(status, 404, "{body}");
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "detail",
            "exceptionRequestId",
            "schema",
            "status",
            "timeStamp"
        ]
    );
    assert_eq!(body["schema"], json!([ERROR_SCHEMA]));
    assert_eq!(body["status"], "404");
    assert!(uuid::Uuid::parse_str(body["exceptionRequestId"].as_str().unwrap()).is_ok());
    let stamp = body["timeStamp"].as_str().unwrap();
    let shape: String = stamp
        .chars()
        .map(|c| if c.is_ascii_digit() { 'n' } else { c })
        .collect();
    assert_eq!(shape, "nnnn-nn-nn nn:nn:nn.nnn", "{stamp}");

    let (status, body) = env
        .call(
            Method::POST,
            "Users",
            Some(json!({"schemas": [], "userName": "x"})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Request is unparsable, syntactically incorrect, or violates schema."),
        "{body}"
    );
}

/// Every operation's error table: UnauthorizedException (401) "Authorization header is invalid or missing. This
/// error also occurs if the tenant ID is incorrect."
#[tokio::test]
async fn a_wrong_tenant_id_is_unauthorized() {
    let env = env().await;
    let wrong_tenant = format!(
        "{}/{}/scim/v2/ServiceProviderConfig",
        env.scim.base_url,
        uuid::Uuid::new_v4()
    );
    let response = env
        .http
        .get(wrong_tenant)
        .bearer_auth(&env.scim.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "401");
    assert_status(&env.get("ServiceProviderConfig").await, 200, "right tenant");
}

/// RFC 7643 §4.1.1: `userName` has uniqueness "server" and caseExact false; RFC 7644 §3.3: a duplicate → 409.
/// CreateUser/PutUser errors: ConflictException (409) "User already exists."
#[tokio::test]
async fn user_name_is_unique_without_regard_to_case() {
    let env = env().await;
    let alice = env.create_user("alice@example.com").await;
    let mut shouting = user("ALICE@EXAMPLE.COM");
    shouting["emails"] = json!([{"value": "other@example.com", "primary": true}]);
    shouting["externalId"] = json!("ext-other");
    expect_answer(
        &env,
        Method::POST,
        "Users",
        Some(shouting.clone()),
        409,
        "same userName in capitals",
    )
    .await;
    let listed = filtered(&env, "Users", r#"userName eq "Alice@Example.com""#).await;
    assert_eq!(
        listed.1["Resources"][0]["id"],
        alice.as_str(),
        "{}",
        listed.1
    );

    let bob = env.create_user("bob@example.com").await;
    let mut renamed = user("bob@example.com");
    renamed["userName"] = json!("ALICE@example.com");
    expect_answer(
        &env,
        Method::PUT,
        &format!("Users/{bob}"),
        Some(renamed),
        409,
        "PutUser onto alice's userName",
    )
    .await;
    let rename =
        patch(json!([{"op": "replace", "path": "userName", "value": "Alice@example.com"}]));
    expect_answer(
        &env,
        Method::PATCH,
        &format!("Users/{bob}"),
        Some(rename),
        409,
        "PatchUser onto alice's userName",
    )
    .await;
    // A user keeps its own userName through a change of case.
    let recase = patch(json!([{"op": "replace", "path": "userName", "value": "BOB@example.com"}]));
    expect_answer(
        &env,
        Method::PATCH,
        &format!("Users/{bob}"),
        Some(recase),
        200,
        "own userName in other case",
    )
    .await;
}

/// AWS re:Post "How can I troubleshoot the 'Refused to create a new, duplicate resource' error with IAM Identity
/// Center SCIM provisioning?": the error occurs when "the username, email address, or external ID attributes
/// aren't a unique value" (and for groups, the external ID).
#[tokio::test]
async fn a_primary_email_and_an_external_id_belong_to_one_user_or_group() {
    let env = env().await;
    env.create_user("alice").await;
    let mut same_email = user("carol");
    same_email["emails"] = json!([{"value": "ALICE@example.com", "type": "work", "primary": true}]);
    let answer = env.call(Method::POST, "Users", Some(same_email)).await;
    assert_status(&answer, 409, "email of alice, other case");
    assert!(
        answer.1["detail"]
            .as_str()
            .unwrap()
            .starts_with("Refused to create a new, duplicate resource."),
        "{}",
        answer.1
    );
    let mut same_external_id = user("dave");
    same_external_id["externalId"] = json!("ext-alice");
    expect_answer(
        &env,
        Method::POST,
        "Users",
        Some(same_external_id),
        409,
        "externalId of alice",
    )
    .await;
    let erin = env.create_user("erin").await;
    let take_email = patch(json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "alice@example.com"}
    ]));
    expect_answer(
        &env,
        Method::PATCH,
        &format!("Users/{erin}"),
        Some(take_email),
        409,
        "PatchUser onto alice's email",
    )
    .await;

    let group = env.create_group("Ops", &[]).await;
    let external_id = patch(json!([{"op": "add", "path": "externalId", "value": "entra-ops"}]));
    expect_answer(
        &env,
        Method::PATCH,
        &format!("Groups/{group}"),
        Some(external_id),
        204,
        "first group with the externalId",
    )
    .await;
    let answer = env
        .call(
            Method::POST,
            "Groups",
            Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "Ops-2", "externalId": "entra-ops"})),
        )
        .await;
    assert_status(&answer, 409, "second group with the externalId");
}

/// CreateUser and PutUser constraints: "The emails attribute value must be marked as primary."
#[tokio::test]
async fn emails_must_be_marked_primary() {
    let env = env().await;
    for emails in [
        json!([{"value": "frank@example.com", "type": "work"}]),
        json!([{"value": "frank@example.com", "type": "work", "primary": false}]),
    ] {
        let mut frank = user("frank");
        frank["emails"] = emails.clone();
        expect_answer(
            &env,
            Method::POST,
            "Users",
            Some(frank),
            400,
            &format!("CreateUser with {emails}"),
        )
        .await;
    }
    let mut without_email = user("frank");
    without_email.as_object_mut().unwrap().remove("emails");
    let (status, created) = env.call(Method::POST, "Users", Some(without_email)).await;
    assert_eq!(status, 201, "emails are optional: {created}");
    let id = created["id"].as_str().unwrap();
    let mut not_primary = user("frank");
    not_primary["emails"] = json!([{"value": "frank@example.com", "primary": false}]);
    expect_answer(
        &env,
        Method::PUT,
        &format!("Users/{id}"),
        Some(not_primary),
        400,
        "PutUser with a non-primary email",
    )
    .await;
    let demote =
        patch(json!([{"op": "replace", "path": "emails", "value": [{"value": "f@example.com"}]}]));
    expect_answer(
        &env,
        Method::PATCH,
        &format!("Users/{id}"),
        Some(demote),
        400,
        "PatchUser leaving a non-primary email",
    )
    .await;
}

/// CreateGroup constraints: "A maximum of 100 members can be added in a single request."
#[tokio::test]
async fn create_group_takes_at_most_100_members() {
    let env = env().await;
    let alice = env.create_user("alice").await;
    let members: Vec<Value> = (0..101).map(|_| json!({"value": alice})).collect();
    let answer = env
        .call(
            Method::POST,
            "Groups",
            Some(json!({"schemas": [GROUP_SCHEMA], "displayName": "Crowd", "members": members})),
        )
        .await;
    assert_status(&answer, 400, "101 members");
    let listed = filtered(&env, "Groups", r#"displayName eq "Crowd""#).await;
    assert_eq!(
        listed.1["totalResults"], 0,
        "nothing was created: {}",
        listed.1
    );
    let group = env.create_group("Crowd", &[&alice]).await;
    let member_filter = format!(r#"id eq "{group}" and members eq "{alice}""#);
    assert_eq!(
        filtered(&env, "Groups", &member_filter).await.1["totalResults"],
        1
    );
}

/// PatchGroup "Examples": AWS's own request, sent verbatim (a path-less `replace` whose value carries an `id`
/// besides the new `displayName`), answers 204 and renames the group.
#[tokio::test]
async fn the_guides_patch_group_example_is_accepted_verbatim() {
    let env = env().await;
    let group = env.create_group("Group Foo", &[]).await;
    let example: Value = serde_json::from_str(
        r#"{
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{
                "op": "replace",
                "value": {
                    "id": "9067729b3d-07124c20-d960-4a47-93ff-460d76461f81",
                    "displayName": "Group Foo New"
                }
            }]
        }"#,
    )
    .unwrap();
    let answer = env
        .call(Method::PATCH, &format!("Groups/{group}"), Some(example))
        .await;
    assert_status(&answer, 204, "the guide's example");
    let (_, fetched) = env.get(&format!("Groups/{group}")).await;
    assert_eq!(fetched["displayName"], "Group Foo New");
    assert_eq!(
        fetched["id"],
        group.as_str(),
        "the id in the value changes nothing"
    );
}

/// PatchGroup constraints: "Only displayName, members, and externalId attributes are allowed in the request"; "A
/// maximum of 100 membership changes are allowed in a single request"; "Not supported": replacing or removing all
/// memberships in one request → ValidationException (400).
#[tokio::test]
async fn patch_group_allows_only_its_attributes_and_100_member_changes() {
    let env = env().await;
    let alice = env.create_user("alice").await;
    let group = env.create_group("Ops", &[&alice]).await;
    let at = format!("Groups/{group}");
    let too_many: Vec<Value> = (0..101).map(|_| json!({"value": alice})).collect();
    for (operations, what) in [
        (
            json!([{"op": "add", "path": "members", "value": too_many}]),
            "101 member changes",
        ),
        (
            json!([{"op": "replace", "path": "members", "value": [{"value": alice}]}]),
            "replace members",
        ),
        (
            json!([{"op": "remove", "path": "members"}]),
            "remove all members",
        ),
        (
            json!([{"op": "replace", "path": "description", "value": "x"}]),
            "another attribute",
        ),
    ] {
        assert_patch_refused(&env, &at, operations, what).await;
    }
}

/// The guide's "Supported API operations" list CreateGroup, DeleteGroup, GetGroup, ListGroups and PatchGroup, but
/// no PutGroup; an unsupported operation is a ValidationException (400) in every error table.
#[tokio::test]
async fn put_group_is_not_supported() {
    let env = env().await;
    let group = env.create_group("Ops", &[]).await;
    let replacement = json!({"schemas": [GROUP_SCHEMA], "displayName": "Ops Replaced"});
    expect_answer(
        &env,
        Method::PUT,
        &format!("Groups/{group}"),
        Some(replacement),
        400,
        "PUT /Groups/{id}",
    )
    .await;
    assert_eq!(
        env.get(&format!("Groups/{group}")).await.1["displayName"],
        "Ops"
    );
}

/// CreateUser, PutUser and PatchUser "Not supported": "ims, photos, x509Certificates, entitlements, and password";
/// PatchUser constraints: "Modification is only allowed for the userName, active, externalId, displayName, …,
/// emails, addresses, and phoneNumbers attributes."
#[tokio::test]
async fn password_and_other_unsupported_attributes_are_refused() {
    let env = env().await;
    let mut with_password = user("grace");
    with_password["password"] = json!("Secret-123");
    expect_answer(
        &env,
        Method::POST,
        "Users",
        Some(with_password),
        400,
        "CreateUser with a password",
    )
    .await;
    let grace = env.create_user("grace").await;
    let at = format!("Users/{grace}");
    for (operations, what) in [
        (
            json!([{"op": "replace", "path": "password", "value": "Secret-123"}]),
            "password by path",
        ),
        (
            json!([{"op": "replace", "value": {"password": "Secret-123"}}]),
            "password without path",
        ),
        (
            json!([{"op": "add", "path": "photos", "value": [{"value": "https://x"}]}]),
            "photos",
        ),
        (
            json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]),
            "groups",
        ),
    ] {
        assert_patch_refused(&env, &at, operations, what).await;
    }
}

/// PatchUser constraints: "The operation must be specified", "The path is required for a remove operation", "A
/// value is required for add and replace", "The remove patch operation is not supported for userName or active";
/// "Not supported: Multiple PATCH operations on userName or active attribute".
#[tokio::test]
async fn patch_user_follows_the_guides_operation_rules() {
    let env = env().await;
    let heidi = env.create_user("heidi").await;
    let at = format!("Users/{heidi}");
    for (operations, what) in [
        (json!([{"path": "title", "value": "x"}]), "no op"),
        (json!([{"op": "remove"}]), "remove without path"),
        (json!([{"op": "add", "path": "title"}]), "add without value"),
        (json!([{"op": "remove", "path": "active"}]), "remove active"),
        (
            json!([
                {"op": "replace", "path": "userName", "value": "heidi2"},
                {"op": "replace", "path": "userName", "value": "heidi3"}
            ]),
            "two operations on userName",
        ),
        (
            json!([
                {"op": "replace", "path": "active", "value": false},
                {"op": "replace", "value": {"active": true}}
            ]),
            "two operations on active",
        ),
    ] {
        assert_patch_refused(&env, &at, operations, what).await;
    }
    let allowed = patch(json!([
        {"op": "replace", "path": "userName", "value": "heidi2"},
        {"op": "replace", "path": "active", "value": false},
        {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Ops"}
    ]));
    expect_answer(
        &env,
        Method::PATCH,
        &at,
        Some(allowed),
        200,
        "one operation each",
    )
    .await;
}

/// ListUsers constraints: "Supported filter combinations: (userName), (externalId), (groups.value), (id and
/// manager), (manager and id)"; ListGroups: "(displayName), (externalId), (members.value), (id and member), and
/// (member and id)"; both: "Supported comparison operator in filters: eq", "Filter must be specified as
/// <filterAttribute> eq "<filterValue>"". Anything else is a ValidationException.
#[tokio::test]
async fn only_the_documented_filters_are_accepted() {
    let env = env().await;
    env.create_user("ivan").await;
    for filter in [
        r#"displayName eq "ivan Display""#,
        r#"emails.value eq "ivan@example.com""#,
        r#"userName eq "ivan" and externalId eq "ext-ivan""#,
        r#"userName co "iv""#,
        r#"userName eq "ivan" or userName eq "judy""#,
        "userName eq ivan",
        r#"name.familyName eq "Family""#,
    ] {
        assert_status(&filtered(&env, "Users", filter).await, 400, filter);
    }
    for filter in [r#"userName eq "ivan""#, r#"externalId eq "ext-ivan""#] {
        let answer = filtered(&env, "Users", filter).await;
        assert_eq!(answer.1["totalResults"], 1, "{filter}: {}", answer.1);
    }
    env.create_group("Ops", &[]).await;
    for filter in [
        r#"members eq "u-1""#,
        r#"displayName eq "Ops" and externalId eq "e""#,
        r#"meta.created eq "2020-01-01""#,
    ] {
        assert_status(&filtered(&env, "Groups", filter).await, 400, filter);
    }
    assert_eq!(
        filtered(&env, "Groups", r#"displayName eq "ops""#).await.1["totalResults"],
        1,
        "RFC 7643 §4.2: displayName has caseExact false"
    );
}

/// ListGroups errors: "ResourceNotFoundException: When filter querying with a nonexisting member." (404); the
/// (members.value) filter and the ListUsers (groups.value) filter find a user's groups and a group's users.
#[tokio::test]
async fn member_filters_find_memberships() {
    let env = env().await;
    let judy = env.create_user("judy").await;
    let karl = env.create_user("karl").await;
    let ops = env.create_group("Ops", &[&judy]).await;
    env.create_group("Dev", &[&karl]).await;

    let groups = filtered(&env, "Groups", &format!(r#"members.value eq "{judy}""#)).await;
    assert_eq!(groups.1["totalResults"], 1, "{}", groups.1);
    assert_eq!(groups.1["Resources"][0]["id"], ops.as_str());
    let unknown = "9067729b3d-11111111-2222-3333-4444-555555555555";
    assert_status(
        &filtered(&env, "Groups", &format!(r#"members.value eq "{unknown}""#)).await,
        404,
        "a member that does not exist",
    );

    let users = filtered(&env, "Users", &format!(r#"groups.value eq "{ops}""#)).await;
    assert_eq!(users.1["totalResults"], 1, "{}", users.1);
    assert_eq!(users.1["Resources"][0]["id"], judy.as_str());

    let manager = patch(json!([{"op": "add",
        "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "value": judy}]));
    expect_answer(
        &env,
        Method::PATCH,
        &format!("Users/{karl}"),
        Some(manager),
        200,
        "karl's manager",
    )
    .await;
    let managed = filtered(
        &env,
        "Users",
        &format!(r#"id eq "{karl}" and manager eq "{judy}""#),
    )
    .await;
    assert_eq!(managed.1["totalResults"], 1, "{}", managed.1);
    let not_managed = filtered(
        &env,
        "Users",
        &format!(r#"manager eq "{karl}" and id eq "{judy}""#),
    )
    .await;
    assert_eq!(not_managed.1["totalResults"], 0, "{}", not_managed.1);
}

/// ListUsers/ListGroups "Query Parameters": `count` 1..100 (default 100); with `cursor` (empty on the first
/// request, pattern [-a-zA-Z0-9+=/:_]*) the answer has `itemsPerPage` and `nextCursor` instead of `totalResults`
/// and `startIndex`; "as long as nextCursor is present in the response, additional pages are available".
#[tokio::test]
async fn lists_page_with_cursors() {
    let env = env().await;
    let mut created = Vec::new();
    for name in ["ann", "ben", "cid"] {
        created.push(env.create_user(name).await);
    }
    let (status, first) = env.get("Users?cursor&count=2").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["itemsPerPage"], 2);
    assert!(
        first.get("totalResults").is_none() && first.get("startIndex").is_none(),
        "{first}"
    );
    let next = first["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let (_, second) = env
        .get(&format!("Users?cursor={}&count=2", urlencode(&next)))
        .await;
    assert_eq!(second["itemsPerPage"], 1, "{second}");
    assert!(second.get("nextCursor").is_none(), "last page: {second}");
    let mut seen: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|page| page["Resources"].as_array().unwrap().clone())
        .map(|user| user["id"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    created.sort();
    assert_eq!(seen, created, "every user exactly once");

    let (_, unpaged) = env.get("Users?count=2").await;
    assert_eq!(
        (
            unpaged["totalResults"].clone(),
            unpaged["itemsPerPage"].clone()
        ),
        (json!(3), json!(2))
    );
    for query in [
        "Users?count=0",
        "Users?count=101",
        "Users?cursor=not%20a%20cursor",
        "Users?cursor=forged",
    ] {
        assert_status(&env.get(query).await, 400, query);
    }
    env.create_group("Ops", &[]).await;
    env.create_group("Dev", &[]).await;
    let (_, groups) = env.get("Groups?cursor=&count=1").await;
    assert_eq!(groups["itemsPerPage"], 1, "{groups}");
    assert!(groups["nextCursor"].is_string(), "{groups}");
}

/// Every operation's error table: ThrottlingException (429) "Too many requests exceeded the limits." The rate is
/// not published, so the stand-in throttles only when told to (`requests_per_second`), and then answers 429 with
/// `Retry-After` until the rate allows again.
#[tokio::test]
async fn throttles_over_the_configured_rate_only() {
    let env = env_with(ScimConfig {
        requests_per_second: Some(3),
        ..ScimConfig::default()
    })
    .await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..8 {
        let response = env
            .http
            .get(format!("{}ServiceProviderConfig", env.scim.endpoint))
            .bearer_auth(&env.scim.token)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            retry_after = response.headers().get("retry-after").cloned();
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["status"], "429");
        }
    }
    assert!(
        statuses.iter().take(3).all(|status| *status == 200),
        "{statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(retry_after.unwrap(), "1");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_status(
        &env.get("ServiceProviderConfig").await,
        200,
        "after a second",
    );

    let unthrottled = scim_common::env().await;
    for _ in 0..20 {
        assert_status(
            &unthrottled.get("ServiceProviderConfig").await,
            200,
            "default config",
        );
    }
}
