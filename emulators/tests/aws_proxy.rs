//! The AWS-faithful proxy in front of a real moto server, driven with the AWS SDK clients so that the SDKs'
//! own parsing of every answer is exercised. Each test starts its own moto + proxy.

use std::time::Duration;

use aws_sdk_identitystore::types::{
    AlternateIdentifier, AttributeOperation, ExternalId, UniqueAttribute,
};
use aws_sdk_ssoadmin::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
use aws_sdk_ssoadmin::types::{
    CustomerManagedPolicyReference, PermissionsBoundary, PrincipalType, ProvisionTargetType,
    ProvisioningStatus, StatusValues, Tag, TargetType,
};
use idbridge_emulators::aws_proxy::{self, ProxyConfig, RunningProxy};
use idbridge_emulators::moto::MotoServer;
use serde_json::{Value, json};

struct Env {
    _moto: MotoServer,
    proxy: RunningProxy,
    sso: aws_sdk_ssoadmin::Client,
    ids: aws_sdk_identitystore::Client,
    instance_arn: String,
    store_id: String,
}

fn sso_client(url: &str, retries: bool) -> aws_sdk_ssoadmin::Client {
    let retry = if retries {
        RetryConfig::standard()
    } else {
        RetryConfig::disabled()
    };
    aws_sdk_ssoadmin::Client::from_conf(
        aws_sdk_ssoadmin::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "AKIDEXAMPLE",
                "dummy-secret",
                None,
                None,
                "test",
            ))
            .endpoint_url(url)
            .retry_config(retry)
            .build(),
    )
}

fn ids_client(url: &str) -> aws_sdk_identitystore::Client {
    aws_sdk_identitystore::Client::from_conf(
        aws_sdk_identitystore::Config::builder()
            .behavior_version(aws_sdk_identitystore::config::BehaviorVersion::latest())
            .region(aws_sdk_identitystore::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_identitystore::config::Credentials::new(
                "AKIDEXAMPLE",
                "dummy-secret",
                None,
                None,
                "test",
            ))
            .endpoint_url(url)
            .retry_config(aws_sdk_identitystore::config::retry::RetryConfig::disabled())
            .build(),
    )
}

async fn env(config: ProxyConfig) -> Env {
    let moto = MotoServer::start()
        .await
        .expect("moto starts (run scripts/setup.sh)");
    let proxy = aws_proxy::start(config, &moto.url)
        .await
        .expect("proxy starts");
    let sso = sso_client(&proxy.base_url, false);
    let ids = ids_client(&proxy.base_url);
    let instances = sso.list_instances().send().await.expect("ListInstances");
    let instance = &instances.instances()[0];
    Env {
        instance_arn: instance.instance_arn().unwrap().to_owned(),
        store_id: instance.identity_store_id().unwrap().to_owned(),
        _moto: moto,
        proxy,
        sso,
        ids,
    }
}

fn no_quotas() -> ProxyConfig {
    ProxyConfig {
        quotas: false,
        ..ProxyConfig::default()
    }
}

async fn put_config(env: &Env, patch: Value) {
    let response = reqwest::Client::new()
        .put(format!("{}/_proxy/config", env.proxy.base_url))
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "config update refused: {}",
        response.text().await.unwrap()
    );
}

async fn stats(env: &Env) -> Value {
    reqwest::get(format!("{}/_proxy/stats", env.proxy.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn permission_set(env: &Env, name: &str) -> String {
    let created = env
        .sso
        .create_permission_set()
        .instance_arn(&env.instance_arn)
        .name(name)
        .session_duration("PT1H")
        .tags(
            Tag::builder()
                .key("team")
                .value("platform")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreatePermissionSet");
    created
        .permission_set()
        .unwrap()
        .permission_set_arn()
        .unwrap()
        .to_owned()
}

/// A well-formed permission set ARN of the same instance that names no permission set.
fn unknown_permission_set(arn: &str) -> String {
    let (instance, _) = arn.rsplit_once('/').unwrap();
    format!("{instance}/ps-0000000000000000")
}

async fn group(env: &Env, name: &str) -> String {
    env.ids
        .create_group()
        .identity_store_id(&env.store_id)
        .display_name(name)
        .send()
        .await
        .expect("CreateGroup")
        .group_id
}

/// CreateAccountAssignment of `group_id` on `account`.
fn assign_group(
    env: &Env,
    permission_set_arn: &str,
    account: String,
    group_id: &str,
) -> impl Future<
    Output = Result<
        aws_sdk_ssoadmin::operation::create_account_assignment::CreateAccountAssignmentOutput,
        aws_sdk_ssoadmin::error::SdkError<
            aws_sdk_ssoadmin::operation::create_account_assignment::CreateAccountAssignmentError,
        >,
    >,
> {
    env.sso
        .create_account_assignment()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(permission_set_arn)
        .target_id(account)
        .target_type(TargetType::AwsAccount)
        .principal_type(PrincipalType::Group)
        .principal_id(group_id)
        .send()
}

/// A user with what AWS requires (user name, display name, given and family name).
async fn user(env: &Env, user_name: &str, given_name: &str, family_name: &str) -> String {
    env.ids
        .create_user()
        .identity_store_id(&env.store_id)
        .user_name(user_name)
        .display_name(format!("{given_name} {family_name}"))
        .name(
            aws_sdk_identitystore::types::Name::builder()
                .given_name(given_name)
                .family_name(family_name)
                .build(),
        )
        .send()
        .await
        .expect("CreateUser")
        .user_id
}

/// DescribeAccountAssignmentCreationStatus of the request `created` started.
async fn creation_status(
    env: &Env,
    created: &aws_sdk_ssoadmin::operation::create_account_assignment::CreateAccountAssignmentOutput,
) -> aws_sdk_ssoadmin::operation::describe_account_assignment_creation_status::DescribeAccountAssignmentCreationStatusOutput{
    let request_id = created
        .account_assignment_creation_status()
        .and_then(|status| status.request_id())
        .expect("CreateAccountAssignment answers a request id");
    env.sso
        .describe_account_assignment_creation_status()
        .instance_arn(&env.instance_arn)
        .account_assignment_creation_request_id(request_id)
        .send()
        .await
        .expect("DescribeAccountAssignmentCreationStatus")
}

#[tokio::test]
async fn permission_set_arns_have_the_real_shape_and_missing_operations_work() {
    let env = env(no_quotas()).await;
    let arn = permission_set(&env, "Admin").await;
    let instance_id = env.instance_arn.rsplit('/').next().unwrap();
    assert!(
        arn.starts_with(&format!("arn:aws:sso:::permissionSet/{instance_id}/ps-")),
        "{arn}"
    );

    let described = env
        .sso
        .describe_permission_set()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.permission_set().unwrap().permission_set_arn(),
        Some(arn.as_str())
    );
    // moto answers the default session duration as a number, which the SDK cannot parse; AWS says "PT1H".
    let defaulted = env
        .sso
        .create_permission_set()
        .instance_arn(&env.instance_arn)
        .name("Defaults")
        .send()
        .await
        .expect("CreatePermissionSet without SessionDuration parses");
    assert_eq!(
        defaulted.permission_set().unwrap().session_duration(),
        Some("PT1H")
    );
    env.sso
        .delete_permission_set()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(
            defaulted
                .permission_set()
                .unwrap()
                .permission_set_arn()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let listed = env
        .sso
        .list_permission_sets()
        .instance_arn(&env.instance_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.permission_sets(), std::slice::from_ref(&arn));

    let instance = env
        .sso
        .describe_instance()
        .instance_arn(&env.instance_arn)
        .send()
        .await
        .expect("DescribeInstance");
    assert_eq!(instance.identity_store_id(), Some(env.store_id.as_str()));
    assert_eq!(
        instance.status().map(|status| status.as_str()),
        Some("ACTIVE")
    );

    let tags = env
        .sso
        .list_tags_for_resource()
        .instance_arn(&env.instance_arn)
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].key(), "team");
    env.sso
        .tag_resource()
        .instance_arn(&env.instance_arn)
        .resource_arn(&arn)
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .unwrap();
    env.sso
        .untag_resource()
        .instance_arn(&env.instance_arn)
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = env
        .sso
        .list_tags_for_resource()
        .instance_arn(&env.instance_arn)
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = tags.tags().iter().map(|tag| tag.key()).collect();
    assert_eq!(keys, ["env"]);

    let missing = env
        .sso
        .get_permissions_boundary_for_permission_set()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(&arn)
        .send()
        .await;
    assert!(
        missing
            .unwrap_err()
            .into_service_error()
            .is_resource_not_found_exception()
    );
    env.sso
        .put_permissions_boundary_to_permission_set()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(&arn)
        .permissions_boundary(
            PermissionsBoundary::builder()
                .customer_managed_policy_reference(
                    CustomerManagedPolicyReference::builder()
                        .name("Boundary")
                        .path("/")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let boundary = env
        .sso
        .get_permissions_boundary_for_permission_set()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        boundary
            .permissions_boundary()
            .unwrap()
            .customer_managed_policy_reference()
            .unwrap()
            .name(),
        "Boundary"
    );
    env.sso
        .delete_permissions_boundary_from_permission_set()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(&arn)
        .send()
        .await
        .unwrap();

    let unknown = unknown_permission_set(&arn);
    let error = env
        .sso
        .tag_resource()
        .instance_arn(&env.instance_arn)
        .resource_arn(&unknown)
        .tags(Tag::builder().key("a").value("b").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(error.into_service_error().is_resource_not_found_exception());
}

#[tokio::test]
async fn a_second_permission_set_with_the_same_name_is_a_conflict() {
    let env = env(no_quotas()).await;
    permission_set(&env, "Unique").await;
    let error = env
        .sso
        .create_permission_set()
        .instance_arn(&env.instance_arn)
        .name("Unique")
        .send()
        .await
        .expect_err("a duplicate name is refused");
    let service_error = error.into_service_error();
    assert!(service_error.is_conflict_exception(), "{service_error:?}");
    let listed = env
        .sso
        .list_permission_sets()
        .instance_arn(&env.instance_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.permission_sets().len(), 1);
    permission_set(&env, "Other").await;
}

#[tokio::test]
async fn bodies_are_json_11_without_nulls_and_errors_have_the_aws_shape() {
    let env = env(no_quotas()).await;
    let http = reqwest::Client::new();
    let call = |target: &'static str, body: Value| {
        http.post(format!("{}/", env.proxy.base_url))
            .header("X-Amz-Target", target)
            .header("Content-Type", "application/x-amz-json-1.1")
            .body(body.to_string())
            .send()
    };
    let response = call(
        "SWBExternalService.ListPermissionSets",
        json!({"InstanceArn": env.instance_arn}),
    )
    .await
    .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/x-amz-json-1.1"
    );
    let text = response.text().await.unwrap();
    assert!(!text.contains("null"), "{text}");

    let response = call(
        "AWSIdentityStore.DescribeGroup",
        json!({"IdentityStoreId": env.store_id, "GroupId": "c3793162-9581-4645-84e1-6f5f2c23ed5b"}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "ResourceNotFoundException"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["__type"], "ResourceNotFoundException");
    assert!(body["Message"].is_string());
}

#[tokio::test]
async fn account_assignments_are_asynchronous_until_the_completion_time() {
    let env = env(ProxyConfig {
        complete_ms: 600,
        ..no_quotas()
    })
    .await;
    let arn = permission_set(&env, "ReadOnly").await;
    let group_id = group(&env, "Engineers").await;
    let created = env
        .sso
        .create_account_assignment()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(&arn)
        .target_id("111111111111")
        .target_type(TargetType::AwsAccount)
        .principal_type(PrincipalType::Group)
        .principal_id(&group_id)
        .send()
        .await
        .unwrap();
    let status = created.account_assignment_creation_status().unwrap();
    assert_eq!(status.status(), Some(&StatusValues::InProgress));
    assert_eq!(status.permission_set_arn(), Some(arn.as_str()));
    // However often it is polled, it completes by time.
    for _ in 0..3 {
        let polled = creation_status(&env, &created).await;
        assert_eq!(
            polled
                .account_assignment_creation_status()
                .unwrap()
                .status(),
            Some(&StatusValues::InProgress)
        );
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let polled = creation_status(&env, &created).await;
    assert_eq!(
        polled
            .account_assignment_creation_status()
            .unwrap()
            .status(),
        Some(&StatusValues::Succeeded)
    );
    let assignments = env
        .sso
        .list_account_assignments()
        .instance_arn(&env.instance_arn)
        .account_id("111111111111")
        .permission_set_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        assignments.account_assignments()[0].principal_id(),
        Some(group_id.as_str())
    );
    let listed = env
        .sso
        .list_account_assignment_creation_status()
        .instance_arn(&env.instance_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.account_assignments_creation_status()[0].status(),
        Some(&StatusValues::Succeeded)
    );

    let provisioned = env
        .sso
        .provision_permission_set()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(&arn)
        .target_type(ProvisionTargetType::AllProvisionedAccounts)
        .send()
        .await
        .unwrap();
    let provisioning = provisioned.permission_set_provisioning_status().unwrap();
    assert_eq!(provisioning.status(), Some(&StatusValues::InProgress));
    let request_id = provisioning.request_id().unwrap().to_owned();
    let mut final_status = None;
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let polled = env
            .sso
            .describe_permission_set_provisioning_status()
            .instance_arn(&env.instance_arn)
            .provision_permission_set_request_id(&request_id)
            .send()
            .await
            .unwrap();
        final_status = polled
            .permission_set_provisioning_status()
            .unwrap()
            .status()
            .cloned();
    }
    assert_eq!(final_status, Some(StatusValues::Succeeded));
    let listed = env
        .sso
        .list_permission_set_provisioning_status()
        .instance_arn(&env.instance_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.permission_sets_provisioning_status().len(), 1);

    let deleted = env
        .sso
        .delete_account_assignment()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(&arn)
        .target_id("111111111111")
        .target_type(TargetType::AwsAccount)
        .principal_type(PrincipalType::Group)
        .principal_id(&group_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted
            .account_assignment_deletion_status()
            .unwrap()
            .status(),
        Some(&StatusValues::InProgress)
    );
}

#[tokio::test]
async fn assignments_to_unknown_principals_or_permission_sets_fail_like_aws() {
    let env = env(ProxyConfig {
        complete_ms: 0,
        ..no_quotas()
    })
    .await;
    let arn = permission_set(&env, "Billing").await;
    let unknown_principal = "c3793162-9581-4645-84e1-6f5f2c23ed5b";
    let created = assign_group(&env, &arn, "111111111111".into(), unknown_principal)
        .await
        .unwrap();
    let polled = creation_status(&env, &created).await;
    let status = polled.account_assignment_creation_status().unwrap();
    assert_eq!(status.status(), Some(&StatusValues::Failed));
    assert!(status.failure_reason().unwrap().contains(unknown_principal));
    let assignments = env
        .sso
        .list_account_assignments()
        .instance_arn(&env.instance_arn)
        .account_id("111111111111")
        .permission_set_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(assignments.account_assignments().is_empty());

    let group_id = group(&env, "Finance").await;
    let unknown_set = unknown_permission_set(&arn);
    let error = assign_group(&env, &unknown_set, "111111111111".into(), &group_id)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_resource_not_found_exception(), "{error:?}");
    let error = assign_group(&env, &arn, "1234".into(), &group_id)
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_validation_exception(), "{error:?}");
    let error = assign_group(&env, &arn, "111111111111".into(), "not-a-principal")
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_validation_exception(), "{error:?}");

    put_config(&env, json!({"fail_principal_ids": [group_id]})).await;
    let created = assign_group(&env, &arn, "111111111111".into(), &group_id)
        .await
        .unwrap();
    let polled = creation_status(&env, &created).await;
    assert_eq!(
        polled
            .account_assignment_creation_status()
            .unwrap()
            .status(),
        Some(&StatusValues::Failed)
    );
    put_config(&env, json!({"fail_principal_ids": []})).await;
    let created = assign_group(&env, &arn, "111111111111".into(), &group_id)
        .await
        .unwrap();
    let polled = creation_status(&env, &created).await;
    assert_eq!(
        polled
            .account_assignment_creation_status()
            .unwrap()
            .status(),
        Some(&StatusValues::Succeeded)
    );

    let accounts = env
        .sso
        .list_accounts_for_provisioned_permission_set()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        accounts.account_ids(),
        ["111111111111"],
        "moto would answer its own account"
    );
    let provisioned = env
        .sso
        .list_permission_sets_provisioned_to_account()
        .instance_arn(&env.instance_arn)
        .account_id("111111111111")
        .send()
        .await
        .unwrap();
    assert_eq!(provisioned.permission_sets(), std::slice::from_ref(&arn));

    // The same assignment again: accepted, but AWS keeps one (account, permission set, principal) tuple.
    assign_group(&env, &arn, "111111111111".into(), &group_id)
        .await
        .unwrap();
    let assignments = env
        .sso
        .list_account_assignments()
        .instance_arn(&env.instance_arn)
        .account_id("111111111111")
        .permission_set_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(assignments.account_assignments().len(), 1);
}

#[tokio::test]
async fn identity_center_calls_are_throttled_at_20_tps_after_the_burst() {
    let env = env(ProxyConfig::default()).await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // refill what env() used
    let started = std::time::Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let sso = env.sso.clone();
        calls.spawn(async move { sso.list_instances().send().await });
    }
    let (mut succeeded, mut throttled) = (0, 0);
    while let Some(result) = calls.join_next().await {
        match result.unwrap() {
            Ok(_) => succeeded += 1,
            Err(error) => {
                let error = error.into_service_error();
                assert!(error.is_throttling_exception(), "{error:?}");
                throttled += 1;
            }
        }
    }
    // The 20-call burst plus at most what the 20 TPS rate refilled while the calls were in flight (a loaded
    // machine spreads the calls out, so the bound follows the measured time).
    let refilled = (started.elapsed().as_secs_f64() * 20.0).ceil() as usize;
    assert!(
        (20..=20 + refilled).contains(&succeeded) && throttled > 0,
        "succeeded {succeeded}, throttled {throttled}, refill allowance {refilled}"
    );
    assert_eq!(succeeded + throttled, 40);
    let stats = stats(&env).await;
    assert_eq!(stats["throttles"], throttled);
    assert_eq!(stats["calls_by_operation"]["ListInstances"], 41);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    env.sso
        .list_instances()
        .send()
        .await
        .expect("quota refilled after a second");

    // The SDK's standard retry mode absorbs throttling with backoff, as real clients must.
    let retrying = sso_client(&env.proxy.base_url, true);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..25 {
        let sso = retrying.clone();
        calls.spawn(async move { sso.list_instances().send().await });
    }
    let mut failures = 0;
    while let Some(result) = calls.join_next().await {
        failures += usize::from(result.unwrap().is_err());
    }
    assert!(failures < 5, "{failures} calls failed despite retries");
}

#[tokio::test]
async fn the_eleventh_outstanding_assignment_is_a_conflict() {
    let env = env(ProxyConfig {
        complete_ms: 2_000,
        tps_limit: 1000,
        burst: 1000,
        ..ProxyConfig::default()
    })
    .await;
    let arn = permission_set(&env, "Ops").await;
    let group_id = group(&env, "Operators").await;
    let assign = |account: String| assign_group(&env, &arn, account, &group_id);
    for account in 0..10 {
        assign(format!("1000000000{account:02}"))
            .await
            .expect("within the outstanding limit");
    }
    let error = assign("100000000010".into())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_conflict_exception(), "{error:?}");
    assert_eq!(stats(&env).await["conflicts"], 1);

    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assign("100000000010".into())
        .await
        .expect("slots free once the earlier requests completed");
}

#[tokio::test]
async fn identitystore_updates_are_visible_to_reads_and_lookups() {
    let env = env(no_quotas()).await;
    let group_id = group(&env, "Old name").await;
    env.ids
        .update_group()
        .identity_store_id(&env.store_id)
        .group_id(&group_id)
        .operations(
            AttributeOperation::builder()
                .attribute_path("displayName")
                .attribute_value(aws_smithy_types::Document::String("New name".into()))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("UpdateGroup");
    let by_name = |name: &'static str| {
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
    assert_eq!(by_name("New name").await.unwrap().group_id, group_id);
    assert!(
        by_name("Old name")
            .await
            .unwrap_err()
            .into_service_error()
            .is_resource_not_found_exception()
    );
    let described = env
        .ids
        .describe_group()
        .identity_store_id(&env.store_id)
        .group_id(&group_id)
        .send()
        .await
        .unwrap();
    assert_eq!(described.display_name(), Some("New name"));

    let user_id = user(&env, "ada", "Ada", "Lovelace").await;
    let add = |user: String| {
        env.ids
            .create_group_membership()
            .identity_store_id(&env.store_id)
            .group_id(&group_id)
            .member_id(aws_sdk_identitystore::types::MemberId::UserId(user))
            .send()
    };
    add(user_id.clone()).await.expect("first membership");
    let duplicate = add(user_id).await.unwrap_err().into_service_error();
    assert!(duplicate.is_conflict_exception(), "{duplicate:?}");
    let unknown_user = add("c3793162-9581-4645-84e1-6f5f2c23ed5b".into())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        unknown_user.is_resource_not_found_exception(),
        "{unknown_user:?}"
    );

    let unknown_store = env
        .ids
        .list_groups()
        .identity_store_id("d-0000000000")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        unknown_store.is_resource_not_found_exception(),
        "{unknown_store:?}"
    );
}

async fn put_external_ids(env: &Env, id: &str, body: Value) -> reqwest::StatusCode {
    reqwest::Client::new()
        .put(format!("{}/_proxy/external-ids/{id}", env.proxy.base_url))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

async fn recorded_external_ids(env: &Env, id: &str) -> Value {
    reqwest::get(format!("{}/_proxy/external-ids/{id}", env.proxy.base_url))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["ExternalIds"]
        .clone()
}

fn external_id(issuer: &str, id: &str) -> AlternateIdentifier {
    AlternateIdentifier::ExternalId(ExternalId::builder().issuer(issuer).id(id).build().unwrap())
}

#[tokio::test]
async fn recorded_external_ids_are_read_and_looked_up_like_aws() {
    const ISSUER: &str = "https://scim.aws.com/tenant";
    let env = env(no_quotas()).await;
    let group_id = group(&env, "Provisioned").await;
    let other_group = group(&env, "Made by hand").await;
    let user_id = user(&env, "grace", "Grace", "Hopper").await;
    for (id, external) in [(&group_id, "entra-group"), (&user_id, "entra-user")] {
        assert_eq!(
            put_external_ids(
                &env,
                id,
                json!({"ExternalIds": [{"Issuer": ISSUER, "Id": external}]})
            )
            .await,
            204
        );
    }
    for bad in [
        json!({"ExternalIds": [{"Issuer": ISSUER}]}),
        json!({"Ids": []}),
    ] {
        assert_eq!(put_external_ids(&env, &group_id, bad).await, 400);
    }

    let described = env
        .ids
        .describe_group()
        .identity_store_id(&env.store_id)
        .group_id(&group_id)
        .send()
        .await
        .unwrap();
    let ids = described.external_ids();
    assert_eq!(
        (ids.len(), ids[0].issuer(), ids[0].id()),
        (1, ISSUER, "entra-group")
    );
    let listed = env
        .ids
        .list_groups()
        .identity_store_id(&env.store_id)
        .send()
        .await
        .unwrap();
    for listed_group in listed.groups() {
        let expected = usize::from(listed_group.group_id() == group_id);
        assert_eq!(
            listed_group.external_ids().len(),
            expected,
            "{listed_group:?}"
        );
    }
    let user = env
        .ids
        .describe_user()
        .identity_store_id(&env.store_id)
        .user_id(&user_id)
        .send()
        .await
        .unwrap();
    assert_eq!(user.external_ids()[0].id(), "entra-user");
    let users = env
        .ids
        .list_users()
        .identity_store_id(&env.store_id)
        .send()
        .await
        .unwrap();
    assert_eq!(users.users()[0].external_ids()[0].issuer(), ISSUER);

    let group_by = |issuer: &'static str, id: &'static str| {
        env.ids
            .get_group_id()
            .identity_store_id(&env.store_id)
            .alternate_identifier(external_id(issuer, id))
            .send()
    };
    assert_eq!(
        group_by(ISSUER, "entra-group").await.unwrap().group_id,
        group_id
    );
    for (issuer, id) in [
        ("https://scim.aws.com/other", "entra-group"),
        (ISSUER, "entra-user"),
        (ISSUER, "nobody"),
    ] {
        let missing = group_by(issuer, id).await.unwrap_err().into_service_error();
        assert!(
            missing.is_resource_not_found_exception(),
            "{issuer} {id}: {missing:?}"
        );
    }
    let found_user = env
        .ids
        .get_user_id()
        .identity_store_id(&env.store_id)
        .alternate_identifier(external_id(ISSUER, "entra-user"))
        .send()
        .await
        .unwrap();
    assert_eq!(found_user.user_id, user_id);

    // Raw JSON: a union with both members, and an ExternalId without Issuer, are ValidationExceptions.
    let raw = |body: Value| {
        reqwest::Client::new()
            .post(format!("{}/", env.proxy.base_url))
            .header("X-Amz-Target", "AWSIdentityStore.GetGroupId")
            .header("Content-Type", "application/x-amz-json-1.1")
            .body(body.to_string())
            .send()
    };
    for alternate in [
        json!({"ExternalId": {"Issuer": ISSUER, "Id": "entra-group"},
               "UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": "Provisioned"}}),
        json!({"ExternalId": {"Id": "entra-group"}}),
    ] {
        let answer =
            raw(json!({"IdentityStoreId": env.store_id, "AlternateIdentifier": alternate}))
                .await
                .unwrap();
        assert_eq!(answer.status(), 400);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["__type"], "ValidationException", "{body}");
    }

    // An empty list clears them, deleting a group (or user) forgets them, and so does a reset.
    assert_eq!(
        put_external_ids(&env, &group_id, json!({"ExternalIds": []})).await,
        204
    );
    assert!(
        group_by(ISSUER, "entra-group")
            .await
            .unwrap_err()
            .into_service_error()
            .is_resource_not_found_exception()
    );
    // Without external ids AWS leaves the member out (the model's list has at least one entry); moto says `[]`.
    let described: Value = reqwest::Client::new()
        .post(format!("{}/", env.proxy.base_url))
        .header("X-Amz-Target", "AWSIdentityStore.DescribeGroup")
        .header("Content-Type", "application/x-amz-json-1.1")
        .body(json!({"IdentityStoreId": env.store_id, "GroupId": group_id}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(described["GroupId"], json!(group_id), "{described}");
    assert!(described.get("ExternalIds").is_none(), "{described}");
    put_external_ids(
        &env,
        &other_group,
        json!({"ExternalIds": [{"Issuer": ISSUER, "Id": "x"}]}),
    )
    .await;
    env.ids
        .delete_group()
        .identity_store_id(&env.store_id)
        .group_id(&other_group)
        .send()
        .await
        .unwrap();
    assert_eq!(recorded_external_ids(&env, &other_group).await, json!([]));
    assert_eq!(
        recorded_external_ids(&env, &user_id).await[0]["Id"],
        "entra-user"
    );
    reqwest::Client::new()
        .post(format!("{}/_proxy/reset", env.proxy.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(recorded_external_ids(&env, &user_id).await, json!([]));
}

#[tokio::test]
async fn latency_is_added_per_call_and_per_operation() {
    let env = env(no_quotas()).await;
    put_config(
        &env,
        json!({"latency_ms": 150, "operation_latency_ms": {"ListPermissionSets": 400}}),
    )
    .await;
    let timed = std::time::Instant::now();
    env.sso.list_instances().send().await.unwrap();
    let instances_took = timed.elapsed();
    let timed = std::time::Instant::now();
    env.sso
        .list_permission_sets()
        .instance_arn(&env.instance_arn)
        .send()
        .await
        .unwrap();
    let permission_sets_took = timed.elapsed();
    assert!(
        instances_took >= Duration::from_millis(150),
        "{instances_took:?}"
    );
    assert!(
        permission_sets_took >= Duration::from_millis(400),
        "{permission_sets_took:?}"
    );
    let config: Value = reqwest::get(format!("{}/_proxy/config", env.proxy.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["latency_ms"], 150);
    let refused = reqwest::Client::new()
        .put(format!("{}/_proxy/config", env.proxy.base_url))
        .json(&json!({"no_such_setting": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn reset_clears_the_proxy_and_moto() {
    let env = env(no_quotas()).await;
    permission_set(&env, "Temporary").await;
    let response = reqwest::Client::new()
        .post(format!("{}/_proxy/reset", env.proxy.base_url))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let instances = env.sso.list_instances().send().await.unwrap();
    let instance_arn = instances.instances()[0].instance_arn().unwrap();
    let listed = env
        .sso
        .list_permission_sets()
        .instance_arn(instance_arn)
        .send()
        .await
        .unwrap();
    assert!(listed.permission_sets().is_empty());
    assert_eq!(
        stats(&env).await["calls_by_operation"]["ListPermissionSets"],
        1
    );
}

/// Accounts of a permission set, optionally only those with (or without) its latest version.
async fn provisioned_accounts(
    env: &Env,
    arn: &str,
    status: Option<ProvisioningStatus>,
) -> Vec<String> {
    env.sso
        .list_accounts_for_provisioned_permission_set()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(arn)
        .set_provisioning_status(status)
        .send()
        .await
        .expect("ListAccountsForProvisionedPermissionSet")
        .account_ids()
        .to_vec()
}

/// `ProvisionPermissionSet`, waiting out the `ConflictException` AWS answers while an earlier provisioning of the
/// same set is still `IN_PROGRESS` (sso-admin API reference, ProvisionPermissionSet errors).
async fn provision(env: &Env, arn: &str, target: ProvisionTargetType, account: Option<&str>) {
    let started = std::time::Instant::now();
    loop {
        let answer = env
            .sso
            .provision_permission_set()
            .instance_arn(&env.instance_arn)
            .permission_set_arn(arn)
            .target_type(target.clone())
            .set_target_id(account.map(str::to_string))
            .send()
            .await;
        match answer {
            Ok(_) => return,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conflict_exception())
                    && started.elapsed() < std::time::Duration::from_secs(20) =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            Err(e) => panic!("ProvisionPermissionSet: {e:?}"),
        }
    }
}

#[tokio::test]
async fn a_changed_permission_set_is_outdated_in_its_accounts_until_provisioned() {
    let env = env(no_quotas()).await;
    let arn = permission_set(&env, "Outdated").await;
    let group_id = group(&env, "Operators").await;
    for account in ["111111111111", "222222222222"] {
        assign_group(&env, &arn, account.into(), &group_id)
            .await
            .unwrap();
    }
    let outdated = || {
        provisioned_accounts(
            &env,
            &arn,
            Some(ProvisioningStatus::LatestPermissionSetNotProvisioned),
        )
    };
    assert!(
        outdated().await.is_empty(),
        "assigning provisions the latest version"
    );

    // Tags never reach the accounts; a policy does.
    env.sso
        .tag_resource()
        .instance_arn(&env.instance_arn)
        .resource_arn(&arn)
        .tags(Tag::builder().key("k").value("v").build().unwrap())
        .send()
        .await
        .unwrap();
    assert!(outdated().await.is_empty());
    env.sso
        .attach_managed_policy_to_permission_set()
        .instance_arn(&env.instance_arn)
        .permission_set_arn(&arn)
        .managed_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    assert_eq!(outdated().await, ["111111111111", "222222222222"]);
    assert!(
        provisioned_accounts(
            &env,
            &arn,
            Some(ProvisioningStatus::LatestPermissionSetProvisioned)
        )
        .await
        .is_empty()
    );

    // One account, then all of them.
    provision(
        &env,
        &arn,
        ProvisionTargetType::AwsAccount,
        Some("111111111111"),
    )
    .await;
    assert_eq!(outdated().await, ["222222222222"]);

    // A failed provisioning leaves the account outdated.
    put_config(&env, json!({ "fail_permission_set_arns": [arn] })).await;
    provision(
        &env,
        &arn,
        ProvisionTargetType::AllProvisionedAccounts,
        None,
    )
    .await;
    assert_eq!(outdated().await, ["222222222222"]);
    put_config(&env, json!({ "fail_permission_set_arns": [] })).await;
    provision(
        &env,
        &arn,
        ProvisionTargetType::AllProvisionedAccounts,
        None,
    )
    .await;
    assert!(outdated().await.is_empty());
    assert_eq!(
        provisioned_accounts(&env, &arn, None).await,
        ["111111111111", "222222222222"]
    );
}

/// Fault injection answers with the server fault the botocore model lists for the operation (sso-admin and
/// identitystore: `InternalServerException`, marked `"fault": true`, i.e. HTTP 500) and acts on nothing.
#[tokio::test]
async fn injected_server_faults_use_the_models_fault_shape_and_change_nothing() {
    let env = env(no_quotas()).await;
    put_config(&env, json!({ "server_error_percent": 100 })).await;
    let error = env
        .sso
        .create_permission_set()
        .instance_arn(&env.instance_arn)
        .name("never-made")
        .send()
        .await
        .expect_err("every call faults");
    let raw = error.raw_response().expect("an HTTP answer");
    assert_eq!(raw.status().as_u16(), 500);
    let error = error.into_service_error();
    assert!(error.is_internal_server_exception(), "{error:?}");
    let lookup = env
        .ids
        .list_groups()
        .identity_store_id(&env.store_id)
        .send()
        .await
        .expect_err("identitystore faults too")
        .into_service_error();
    assert!(lookup.is_internal_server_exception(), "{lookup:?}");

    put_config(&env, json!({ "server_error_percent": 0 })).await;
    let listed = env
        .sso
        .list_permission_sets()
        .instance_arn(&env.instance_arn)
        .send()
        .await
        .expect("no faults at 0 %");
    assert!(
        listed.permission_sets().is_empty(),
        "the faulted create made nothing: {:?}",
        listed.permission_sets()
    );
    assert_eq!(stats(&env).await["server_errors"], 2);
}
