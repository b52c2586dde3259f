//! Fidelity of the AWS proxy to AWS's published contracts for sso-admin and identitystore: the botocore service
//! models (`sso-admin/2020-07-20/service-2.json`, `identitystore/2020-06-15/service-2.json` and their
//! `paginators-1.json`, read from the pinned moto's botocore), the AWS API reference pages and the IAM Identity
//! Center user guide. Each test names the source of the rule it checks. Requests are sent as raw JSON 1.1 so
//! that no SDK-side validation stands between the test and the proxy.

use std::time::Duration;

use idbridge_emulators::aws_proxy::model::Models;
use idbridge_emulators::aws_proxy::{self, ProxyConfig, RunningProxy};
use idbridge_emulators::moto::MotoServer;
use serde_json::{Value, json};

struct Env {
    _moto: MotoServer,
    proxy: RunningProxy,
    http: reqwest::Client,
    instance_arn: String,
    store_id: String,
}

async fn env(config: ProxyConfig) -> Env {
    let moto = MotoServer::start()
        .await
        .expect("moto starts (run scripts/setup.sh)");
    let proxy = aws_proxy::start(
        ProxyConfig {
            quotas: false,
            ..config
        },
        &moto.url,
    )
    .await
    .expect("proxy starts");
    let mut env = Env {
        _moto: moto,
        proxy,
        http: reqwest::Client::new(),
        instance_arn: String::new(),
        store_id: String::new(),
    };
    let (_, listed) = env.sso("ListInstances", json!({})).await;
    env.instance_arn = listed["Instances"][0]["InstanceArn"]
        .as_str()
        .unwrap()
        .to_owned();
    env.store_id = listed["Instances"][0]["IdentityStoreId"]
        .as_str()
        .unwrap()
        .to_owned();
    env
}

/// An environment whose asynchronous operations complete `complete_ms` after they start.
async fn completing_in(complete_ms: u64) -> Env {
    env(ProxyConfig {
        complete_ms,
        ..ProxyConfig::default()
    })
    .await
}

impl Env {
    async fn call(&self, target: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/", self.proxy.base_url))
            .header("X-Amz-Target", target)
            .header("Content-Type", "application/x-amz-json-1.1")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .map(|value| value.to_str().unwrap().to_owned());
        let body: Value = response.json().await.unwrap();
        if let Some(error_type) = error_type {
            assert_eq!(body["__type"], error_type.as_str(), "{body}");
        }
        (status, body)
    }

    async fn sso(&self, operation: &str, body: Value) -> (u16, Value) {
        self.call(&format!("SWBExternalService.{operation}"), body)
            .await
    }

    async fn ids(&self, operation: &str, body: Value) -> (u16, Value) {
        self.call(&format!("AWSIdentityStore.{operation}"), body)
            .await
    }

    async fn ok_sso(&self, operation: &str, body: Value) -> Value {
        let (status, answer) = self.sso(operation, body).await;
        assert_eq!(status, 200, "{operation}: {answer}");
        answer
    }

    async fn ok_ids(&self, operation: &str, body: Value) -> Value {
        let (status, answer) = self.ids(operation, body).await;
        assert_eq!(status, 200, "{operation}: {answer}");
        answer
    }

    /// `<verb>InstanceAccessControlAttributeConfiguration`.
    async fn access_control(&self, verb: &str, body: Value) -> (u16, Value) {
        self.sso(
            &format!("{verb}InstanceAccessControlAttributeConfiguration"),
            body,
        )
        .await
    }

    async fn permission_set(&self, name: &str) -> String {
        let created = self
            .ok_sso(
                "CreatePermissionSet",
                json!({"InstanceArn": self.instance_arn, "Name": name}),
            )
            .await;
        created["PermissionSet"]["PermissionSetArn"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn group(&self, name: &str) -> String {
        let created = self
            .ok_ids(
                "CreateGroup",
                json!({"IdentityStoreId": self.store_id, "DisplayName": name}),
            )
            .await;
        created["GroupId"].as_str().unwrap().to_owned()
    }

    fn assignment(&self, permission_set_arn: &str, account: &str, group_id: &str) -> Value {
        json!({
            "InstanceArn": self.instance_arn, "PermissionSetArn": permission_set_arn,
            "TargetId": account, "TargetType": "AWS_ACCOUNT",
            "PrincipalType": "GROUP", "PrincipalId": group_id,
        })
    }
}

/// A ValidationException (HTTP 400, `__type` and `Message`) whose message names the member.
fn assert_validation(answer: (u16, Value), member: &str) {
    let (status, body) = answer;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], "ValidationException", "{body}");
    let message = body["Message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("'{member}'")),
        "the message should name '{member}': {message}"
    );
}

fn assert_error(answer: (u16, Value), error_type: &str) {
    let (status, body) = answer;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], error_type, "{body}");
}

#[test]
fn the_models_are_the_pinned_botocore_ones() {
    // botocore data/sso-admin/2020-07-20 and data/identitystore/2020-06-15, as moto's botocore ships them.
    let models = Models::get().expect("botocore models load");
    for (model, operation) in [
        (&models.sso_admin, "CreatePermissionSet"),
        (
            &models.sso_admin,
            "CreateInstanceAccessControlAttributeConfiguration",
        ),
        (&models.identitystore, "GetGroupId"),
    ] {
        assert!(model.has_operation(operation), "{operation}");
    }
    let paginator = models
        .sso_admin
        .paginator("ListAccountsForProvisionedPermissionSet")
        .expect("paginators-1.json is loaded");
    assert_eq!(paginator.result_key, "AccountIds");
    assert_eq!(paginator.limit_key.as_deref(), Some("MaxResults"));
    assert_eq!(
        models
            .aws_managed_policy_paths
            .get("ViewOnlyAccess")
            .map(String::as_str),
        Some("/job-function/")
    );
}

#[tokio::test]
async fn requests_are_checked_against_the_service_models() {
    let env = env(ProxyConfig::default()).await;
    let instance = env.instance_arn.clone();
    let create = |name: &str| json!({"InstanceArn": instance, "Name": name});

    // PermissionSetName: pattern [\w+=,.@-]+, length 1..32.
    assert_validation(
        env.sso("CreatePermissionSet", create("has spaces")).await,
        "name",
    );
    assert_validation(
        env.sso("CreatePermissionSet", create(&"a".repeat(33)))
            .await,
        "name",
    );
    env.permission_set(&"a".repeat(32)).await;
    // Required members: CreatePermissionSetRequest requires Name and InstanceArn.
    let (_, body) = env
        .sso("CreatePermissionSet", json!({"InstanceArn": instance}))
        .await;
    assert_eq!(body["__type"], "ValidationException");
    assert!(
        body["Message"]
            .as_str()
            .unwrap()
            .contains("Value null at 'name' failed to satisfy constraint: Member must not be null"),
        "{body}"
    );
    // InstanceArn: pattern arn:aws…:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}.
    assert_validation(
        env.sso(
            "ListPermissionSets",
            json!({"InstanceArn": "arn:aws:sso:::instance/ssoins-short"}),
        )
        .await,
        "instanceArn",
    );
    // MaxResults: integer 1..100.
    for max in [0, 101] {
        assert_validation(
            env.sso(
                "ListPermissionSets",
                json!({"InstanceArn": instance, "MaxResults": max}),
            )
            .await,
            "maxResults",
        );
    }
    // SessionDuration: IAM Identity Center user guide, "Set session duration": 1 to 12 hours.
    let mut long_session = create("LongSession");
    long_session["SessionDuration"] = json!("PT13H");
    assert_validation(
        env.sso("CreatePermissionSet", long_session).await,
        "sessionDuration",
    );
    let arn = env.permission_set("Policies").await;
    // PermissionSetPolicyDocument: length 1..32768.
    let oversize = format!(r#"{{"Statement":"{}"}}"#, "x".repeat(32_768));
    assert_validation(
        env.sso(
            "PutInlinePolicyToPermissionSet",
            json!({"InstanceArn": instance, "PermissionSetArn": arn, "InlinePolicy": oversize}),
        )
        .await,
        "inlinePolicy",
    );
    // TagKey pattern ([\p{L}\p{Z}\p{N}_.:/=+\-@]*) inside a list of structures: the path names the item.
    assert_validation(
        env.sso(
            "TagResource",
            json!({"InstanceArn": instance, "ResourceArn": arn, "Tags": [{"Key": "bad*key", "Value": "v"}]}),
        )
        .await,
        "tags.1.member.key",
    );
    // TagList: at most 75 entries.
    let tags: Vec<Value> = (0..76)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
        .collect();
    assert_validation(
        env.sso(
            "TagResource",
            json!({"InstanceArn": instance, "ResourceArn": arn, "Tags": tags}),
        )
        .await,
        "tags",
    );
    // Enum TargetType [AWS_ACCOUNT]; PrincipalId pattern; TargetId pattern \d{12}.
    let group_id = env.group("Validated").await;
    let mut assignment = env.assignment(&arn, "111111111111", &group_id);
    assignment["TargetType"] = json!("ORGANIZATIONAL_UNIT");
    assert_validation(
        env.sso("CreateAccountAssignment", assignment).await,
        "targetType",
    );
    assert_validation(
        env.sso(
            "CreateAccountAssignment",
            env.assignment(&arn, "1111111111112", &group_id),
        )
        .await,
        "targetId",
    );
    // Nested structures: CustomerManagedPolicyReference.Name is a ManagedPolicyName (length 1..128).
    assert_validation(
        env.sso(
            "AttachCustomerManagedPolicyReferenceToPermissionSet",
            json!({"InstanceArn": instance, "PermissionSetArn": arn,
                   "CustomerManagedPolicyReference": {"Name": "n".repeat(129)}}),
        )
        .await,
        "customerManagedPolicyReference.name",
    );
    // Wrong JSON types are not validation but deserialization failures.
    assert_error(
        env.sso(
            "ListPermissionSets",
            json!({"InstanceArn": instance, "MaxResults": "ten"}),
        )
        .await,
        "SerializationException",
    );
    // identitystore: ResourceId pattern; a malformed id is invalid, not unknown.
    assert_validation(
        env.ids(
            "DescribeGroup",
            json!({"IdentityStoreId": env.store_id, "GroupId": "not-a-group-id"}),
        )
        .await,
        "groupId",
    );
    assert_validation(
        env.ids(
            "ListGroups",
            json!({"IdentityStoreId": env.store_id, "MaxResults": 101}),
        )
        .await,
        "maxResults",
    );
    // AlternateIdentifier is a union: exactly one member.
    assert_validation(
        env.ids(
            "GetGroupId",
            json!({"IdentityStoreId": env.store_id, "AlternateIdentifier": {}}),
        )
        .await,
        "alternateIdentifier",
    );
}

#[tokio::test]
async fn unknown_operations_are_refused() {
    // JSON 1.1 protocol: a target the service model does not have is UnknownOperationException (HTTP 400).
    let env = env(ProxyConfig::default()).await;
    assert_error(
        env.sso("DescribeEverything", json!({})).await,
        "UnknownOperationException",
    );
    assert_error(
        env.ids("ListEverything", json!({})).await,
        "UnknownOperationException",
    );
}

/// Every item of a listing, read with `MaxResults: 1` by following `NextToken`; each page holds at most one.
async fn page_through(env: &Env, operation: &str, request: Value, result_key: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut token: Option<Value> = None;
    for _ in 0..20 {
        let mut body = request.clone();
        body["MaxResults"] = json!(1);
        if let Some(token) = token.take() {
            body["NextToken"] = token;
        }
        let page = env.ok_sso(operation, body).await;
        let page_items = page[result_key].as_array().cloned().unwrap_or_default();
        assert!(page_items.len() <= 1, "{operation}: {page}");
        items.extend(page_items);
        match page.get("NextToken") {
            Some(next) => token = Some(next.clone()),
            None => return items,
        }
    }
    panic!("{operation} never stopped answering NextToken");
}

#[tokio::test]
async fn every_list_pages_per_the_model_paginators() {
    // paginators-1.json of sso-admin: input_token/output_token NextToken, limit_key MaxResults.
    let env = completing_in(0).await;
    let instance = json!({"InstanceArn": env.instance_arn});
    let group_id = env.group("Paged").await;
    let mut sets = Vec::new();
    for name in ["PagedA", "PagedB", "PagedC"] {
        sets.push(env.permission_set(name).await);
    }
    let accounts = ["111111111111", "222222222222", "333333333333"];
    for account in accounts {
        env.ok_sso(
            "CreateAccountAssignment",
            env.assignment(&sets[0], account, &group_id),
        )
        .await;
    }
    for arn in &sets {
        env.ok_sso(
            "CreateAccountAssignment",
            env.assignment(arn, accounts[0], &group_id),
        )
        .await;
        env.ok_sso(
            "ProvisionPermissionSet",
            json!({"InstanceArn": env.instance_arn, "PermissionSetArn": arn, "TargetType": "ALL_PROVISIONED_ACCOUNTS"}),
        )
        .await;
    }
    env.ok_sso(
        "DeleteAccountAssignment",
        env.assignment(&sets[1], accounts[0], &group_id),
    )
    .await;
    env.ok_sso(
        "DeleteAccountAssignment",
        env.assignment(&sets[2], accounts[0], &group_id),
    )
    .await;

    let mut for_set = instance.clone();
    for_set["PermissionSetArn"] = json!(sets[0]);
    let mut for_account = instance.clone();
    for_account["AccountId"] = json!(accounts[0]);
    for (operation, request, result_key, expected) in [
        (
            "ListAccountAssignmentCreationStatus",
            instance.clone(),
            "AccountAssignmentsCreationStatus",
            6,
        ),
        (
            "ListAccountAssignmentDeletionStatus",
            instance.clone(),
            "AccountAssignmentsDeletionStatus",
            2,
        ),
        (
            "ListPermissionSetProvisioningStatus",
            instance.clone(),
            "PermissionSetsProvisioningStatus",
            3,
        ),
        (
            "ListAccountsForProvisionedPermissionSet",
            for_set.clone(),
            "AccountIds",
            3,
        ),
        (
            "ListPermissionSetsProvisionedToAccount",
            for_account,
            "PermissionSets",
            3,
        ),
        ("ListPermissionSets", instance.clone(), "PermissionSets", 3),
    ] {
        let items = page_through(&env, operation, request, result_key).await;
        assert_eq!(items.len(), expected, "{operation}: {items:?}");
    }
    // Filter.Status narrows before paging (ListAccountAssignmentCreationStatus's OperationStatusFilter).
    let mut in_progress = instance.clone();
    in_progress["Filter"] = json!({"Status": "IN_PROGRESS"});
    assert!(
        page_through(
            &env,
            "ListAccountAssignmentCreationStatus",
            in_progress,
            "AccountAssignmentsCreationStatus"
        )
        .await
        .is_empty()
    );
    // A token that this service did not hand out is refused.
    let mut forged = instance.clone();
    forged["NextToken"] = json!("Zm9yZ2Vk");
    assert_error(
        env.sso("ListAccountAssignmentCreationStatus", forged).await,
        "ValidationException",
    );
}

#[tokio::test]
async fn conflicts_are_answered_like_aws() {
    let env = completing_in(700).await;
    let arn = env.permission_set("Assigned").await;
    let group_id = env.group("Holders").await;
    let delete = json!({"InstanceArn": env.instance_arn, "PermissionSetArn": arn});
    let assignment = env.assignment(&arn, "111111111111", &group_id);
    let refused = |when: &'static str| {
        let delete = delete.clone();
        let env = &env;
        async move {
            let (status, body) = env.sso("DeletePermissionSet", delete).await;
            assert_eq!(
                (status, body["__type"].as_str()),
                (400, Some("ConflictException")),
                "{when}: {body}"
            );
        }
    };
    env.ok_sso("CreateAccountAssignment", assignment.clone())
        .await;
    // DeletePermissionSet while the set is assigned: ConflictException (terraform-provider-aws#26757 shows
    // AWS's answer), while the assignment is being created, once it exists, and while its deletion runs.
    refused("assignment being created").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    refused("assignment created").await;
    env.ok_sso("DeleteAccountAssignment", assignment).await;
    refused("assignment being deleted").await;
    tokio::time::sleep(Duration::from_millis(800)).await;

    // ProvisionPermissionSet while a provisioning of the same set is IN_PROGRESS: ConflictException
    // (ProvisionPermissionSet API reference, errors).
    let provision = json!({"InstanceArn": env.instance_arn, "PermissionSetArn": arn, "TargetType": "ALL_PROVISIONED_ACCOUNTS"});
    env.ok_sso("ProvisionPermissionSet", provision.clone())
        .await;
    assert_error(
        env.sso("ProvisionPermissionSet", provision.clone()).await,
        "ConflictException",
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    env.ok_sso("ProvisionPermissionSet", provision).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    env.ok_sso("DeletePermissionSet", delete).await;
}

#[tokio::test]
async fn aws_managed_policies_with_a_path_are_accepted() {
    // ManagedPolicyArn pattern arn:aws…:iam::aws:policy((/[A-Za-z0-9\.,\+@=_-]+)*)/(…): paths are part of the
    // ARN (IAM user guide, "AWS managed policies for job functions").
    let env = env(ProxyConfig::default()).await;
    let arn = env.permission_set("Viewers").await;
    let body = |policy: &str| json!({"InstanceArn": env.instance_arn, "PermissionSetArn": arn, "ManagedPolicyArn": policy});
    let with_paths = [
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        "arn:aws:iam::aws:policy/service-role/AWSAppSyncPushToCloudWatchLogs",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ];
    for policy in with_paths {
        env.ok_sso("AttachManagedPolicyToPermissionSet", body(policy))
            .await;
    }
    let attached = || async {
        let listed = env
            .ok_sso(
                "ListManagedPoliciesInPermissionSet",
                json!({"InstanceArn": env.instance_arn, "PermissionSetArn": arn}),
            )
            .await;
        let mut arns: Vec<String> = listed["AttachedManagedPolicies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|policy| policy["Arn"].as_str().unwrap().to_owned())
            .collect();
        arns.sort_unstable();
        arns
    };
    let mut expected = with_paths.map(str::to_owned).to_vec();
    expected.sort_unstable();
    assert_eq!(attached().await, expected);
    // A policy under a path it does not live in does not exist.
    for unknown in [
        "arn:aws:iam::aws:policy/job-function/ReadOnlyAccessTypo",
        "arn:aws:iam::aws:policy/service-role/ViewOnlyAccess",
    ] {
        assert_error(
            env.sso("AttachManagedPolicyToPermissionSet", body(unknown))
                .await,
            "ResourceNotFoundException",
        );
    }
    env.ok_sso("DetachManagedPolicyFromPermissionSet", body(with_paths[0]))
        .await;
    expected.retain(|arn| arn != with_paths[0]);
    assert_eq!(attached().await, expected);
}

#[tokio::test]
async fn identitystore_answers_carry_the_members_the_model_requires() {
    // identitystore service model: DescribeGroupResponse requires GroupArn and Revision, GetGroupIdResponse
    // GroupArn, DescribeUserResponse UserArn and Revision; the Revision changes with each update.
    let env = env(ProxyConfig::default()).await;
    let models = Models::get().unwrap();
    let group_id = env.group("Required").await;
    let described = env
        .ok_ids(
            "DescribeGroup",
            json!({"IdentityStoreId": env.store_id, "GroupId": group_id}),
        )
        .await;
    let required = |shape: &str| -> Vec<String> {
        models.identitystore.shape(shape).unwrap()["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|member| member.as_str().unwrap().to_owned())
            .collect()
    };
    for member in required("DescribeGroupResponse") {
        assert!(described.get(&member).is_some(), "{member}: {described}");
    }
    assert_eq!(
        described["GroupArn"],
        format!("arn:aws:identitystore:::group/{group_id}")
    );
    assert_eq!(described["Revision"], "1");
    let updated = env
        .ok_ids(
            "UpdateGroup",
            json!({"IdentityStoreId": env.store_id, "GroupId": group_id,
                   "Operations": [{"AttributePath": "description", "AttributeValue": "changed"}]}),
        )
        .await;
    for member in required("UpdateGroupResponse") {
        assert!(updated.get(&member).is_some(), "{member}: {updated}");
    }
    assert_eq!(updated["Revision"], "2");
    let found = env
        .ok_ids(
            "GetGroupId",
            json!({"IdentityStoreId": env.store_id,
                   "AlternateIdentifier": {"UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": "Required"}}}),
        )
        .await;
    for member in required("GetGroupIdResponse") {
        assert!(found.get(&member).is_some(), "{member}: {found}");
    }
    let listed = env
        .ok_ids("ListGroups", json!({"IdentityStoreId": env.store_id}))
        .await;
    for member in required("Group") {
        assert!(
            listed["Groups"][0].get(&member).is_some(),
            "{member}: {listed}"
        );
    }
    let user = env
        .ok_ids(
            "CreateUser",
            json!({"IdentityStoreId": env.store_id, "UserName": "ada", "DisplayName": "Ada",
                   "Name": {"GivenName": "Ada", "FamilyName": "Lovelace"}}),
        )
        .await;
    for member in required("CreateUserResponse") {
        assert!(user.get(&member).is_some(), "{member}: {user}");
    }
}

#[tokio::test]
async fn asynchronous_requests_complete_by_time_not_by_polls() {
    // Account assignment creation is asynchronous (CreateAccountAssignment API reference): the status is
    // IN_PROGRESS until AWS finishes, whatever the caller polls.
    let env = completing_in(600).await;
    let arn = env.permission_set("Timed").await;
    let group_id = env.group("Timed").await;
    let created = env
        .ok_sso(
            "CreateAccountAssignment",
            env.assignment(&arn, "111111111111", &group_id),
        )
        .await;
    let request_id = created["AccountAssignmentCreationStatus"]["RequestId"].clone();
    let describe =
        json!({"InstanceArn": env.instance_arn, "AccountAssignmentCreationRequestId": request_id});
    for _ in 0..20 {
        let polled = env
            .ok_sso("DescribeAccountAssignmentCreationStatus", describe.clone())
            .await;
        assert_eq!(
            polled["AccountAssignmentCreationStatus"]["Status"],
            "IN_PROGRESS"
        );
    }
    tokio::time::sleep(Duration::from_millis(650)).await;
    let polled = env
        .ok_sso("DescribeAccountAssignmentCreationStatus", describe)
        .await;
    assert_eq!(
        polled["AccountAssignmentCreationStatus"]["Status"],
        "SUCCEEDED"
    );
}

#[tokio::test]
async fn new_resources_lag_behind_their_creation_when_asked_to() {
    // Eventual consistency: ConflictExceptionMessage of the sso-admin model ("the previous write did not have
    // time to propagate"); reads shortly after a create may not see it yet.
    let env = env(ProxyConfig {
        read_lag_ms: 700,
        ..ProxyConfig::default()
    })
    .await;
    let group_id = env.group("Lagging").await;
    let describe = json!({"IdentityStoreId": env.store_id, "GroupId": group_id});
    assert_error(
        env.ids("DescribeGroup", describe.clone()).await,
        "ResourceNotFoundException",
    );
    let listed = env
        .ok_ids("ListGroups", json!({"IdentityStoreId": env.store_id}))
        .await;
    assert_eq!(listed["Groups"].as_array().unwrap().len(), 0);
    let arn = env.permission_set("Lagging").await;
    let describe_set = json!({"InstanceArn": env.instance_arn, "PermissionSetArn": arn});
    assert_error(
        env.sso("DescribePermissionSet", describe_set.clone()).await,
        "ResourceNotFoundException",
    );
    tokio::time::sleep(Duration::from_millis(750)).await;
    env.ok_ids("DescribeGroup", describe).await;
    env.ok_sso("DescribePermissionSet", describe_set).await;
}

#[tokio::test]
async fn access_control_attributes_follow_the_api_reference() {
    // Create/Describe/Update/DeleteInstanceAccessControlAttributeConfiguration (sso-admin API reference):
    // Describe answers Status CREATION_IN_PROGRESS, then ENABLED; AccessControlAttributeValueSourceList holds
    // exactly one source; AccessControlAttributeKey follows its pattern.
    let env = completing_in(500).await;
    let instance = json!({"InstanceArn": env.instance_arn});
    let configuration = |key: &str, sources: Vec<&str>| {
        let mut body = instance.clone();
        body["InstanceAccessControlAttributeConfiguration"] =
            json!({"AccessControlAttributes": [{"Key": key, "Value": {"Source": sources}}]});
        body
    };
    let attribute = |described: &Value, member: &str| {
        described["InstanceAccessControlAttributeConfiguration"]["AccessControlAttributes"][0]
            .pointer(member)
            .cloned()
    };
    let member = "instanceAccessControlAttributeConfiguration.accessControlAttributes.1.member";
    assert_error(
        env.access_control("Describe", instance.clone()).await,
        "ResourceNotFoundException",
    );
    assert_validation(
        env.access_control("Create", configuration("CostCenter", vec![]))
            .await,
        &format!("{member}.value.source"),
    );
    let cost_center = vec!["${path:enterprise.costCenter}"];
    assert_validation(
        env.access_control("Create", configuration("Cost*Center", cost_center.clone()))
            .await,
        &format!("{member}.key"),
    );
    let (status, _) = env
        .access_control("Create", configuration("CostCenter", cost_center))
        .await;
    assert_eq!(status, 200);
    let (_, described) = env.access_control("Describe", instance.clone()).await;
    assert_eq!(described["Status"], "CREATION_IN_PROGRESS", "{described}");
    assert_eq!(
        attribute(&described, "/Value/Source/0"),
        Some(json!("${path:enterprise.costCenter}"))
    );
    assert_error(
        env.access_control(
            "Create",
            configuration("Other", vec!["${path:name.givenName}"]),
        )
        .await,
        "ConflictException",
    );
    tokio::time::sleep(Duration::from_millis(550)).await;
    let department = configuration("Department", vec!["${path:enterprise.department}"]);
    assert_eq!(env.access_control("Update", department).await.0, 200);
    let (_, described) = env.access_control("Describe", instance.clone()).await;
    assert_eq!(described["Status"], "ENABLED", "{described}");
    assert_eq!(attribute(&described, "/Key"), Some(json!("Department")));
    assert_eq!(env.access_control("Delete", instance.clone()).await.0, 200);
    assert_error(
        env.access_control("Delete", instance.clone()).await,
        "ResourceNotFoundException",
    );
}
