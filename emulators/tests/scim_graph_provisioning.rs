//! The whole chain the provider relies on: a group assigned to the AWS gallery app in the Graph emulator is pushed
//! by its provisioning engine (provision on demand) to the AWS SCIM endpoint stand-in, and then resolves through
//! identitystore `GetGroupId` (by display name, and by the Entra object id as `ExternalId`) and can be assigned a
//! permission set via sso-admin, as on real AWS.

mod graph_common;

use aws_sdk_identitystore::types::{AlternateIdentifier, ExternalId, UniqueAttribute};
use axum::http::{Method, StatusCode};
use graph_common::Graph;
use idbridge_emulators::aws_proxy::{self, ProxyConfig};
use idbridge_emulators::moto::MotoServer;
use idbridge_emulators::scim::{self, ScimConfig};
use serde_json::{Value, json};

#[tokio::test]
async fn group_provisioned_by_the_graph_engine_resolves_through_get_group_id() {
    let moto = MotoServer::start().await.expect("moto starts");
    let proxy = aws_proxy::start(
        ProxyConfig {
            complete_ms: 0,
            ..ProxyConfig::default()
        },
        &moto.url,
    )
    .await
    .unwrap();
    let scim = scim::start(ScimConfig::default(), &proxy.base_url)
        .await
        .unwrap();
    let graph = Graph::default().await;

    let (_, sp) = graph.instantiate_aws("AWS IAM Identity Center").await;
    let sp_id = sp["id"].as_str().unwrap();
    let (status, templates) = graph
        .get(&format!(
            "/servicePrincipals/{sp_id}/synchronization/templates"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{templates}");
    let (status, job) = graph
        .post(
            &format!("/servicePrincipals/{sp_id}/synchronization/jobs"),
            json!({"templateId": templates["value"][0]["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let job_id = job["id"].as_str().unwrap();
    let (status, _) = graph
        .send(
            Method::PUT,
            &format!("/servicePrincipals/{sp_id}/synchronization/secrets"),
            Some(json!({"value": [{"key": "BaseAddress", "value": scim.endpoint}, {"key": "SecretToken", "value": scim.token}]})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, schema) = graph
        .get(&format!(
            "/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/schema"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{schema}");
    let rule_id = schema["synchronizationRules"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let user = graph
        .create_user("grace@contoso.example", Some("Grace"), Some("Hopper"))
        .await;
    let group = graph.create_group("AWS Platform Admins").await;
    graph.add_member(&group, &user).await;
    graph.assign(&sp, &group).await;
    let (status, result) = graph
        .post(
            &format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/provisionOnDemand"),
            json!({"parameters": [{"ruleId": rule_id, "subjects": [{"objectId": group, "objectTypeName": "Group",
                   "links": {"members": [{"objectId": user, "objectTypeName": "User"}]}}]}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let report: Value = serde_json::from_str(result["value"].as_str().unwrap()).unwrap();
    assert_eq!(report["statusInfo"]["status"], "Success", "{report}");

    let config = aws_sdk_identitystore::Config::builder()
        .behavior_version(aws_sdk_identitystore::config::BehaviorVersion::latest())
        .region(aws_sdk_identitystore::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_identitystore::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(&proxy.base_url)
        .build();
    let ids = aws_sdk_identitystore::Client::from_conf(config);
    let sso = aws_sdk_ssoadmin::Client::from_conf(
        aws_sdk_ssoadmin::Config::builder()
            .behavior_version(aws_sdk_ssoadmin::config::BehaviorVersion::latest())
            .region(aws_sdk_ssoadmin::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ssoadmin::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .endpoint_url(&proxy.base_url)
            .build(),
    );
    let instances = sso.list_instances().send().await.unwrap();
    let instance = &instances.instances()[0];
    let store_id = instance.identity_store_id().unwrap();
    let group_id = ids
        .get_group_id()
        .identity_store_id(store_id)
        .alternate_identifier(AlternateIdentifier::UniqueAttribute(
            UniqueAttribute::builder()
                .attribute_path("displayName")
                .attribute_value(aws_smithy_types::Document::String(
                    "AWS Platform Admins".into(),
                ))
                .build()
                .unwrap(),
        ))
        .send()
        .await
        .expect("the provisioned group resolves by display name")
        .group_id;
    // Entra's AWS gallery app maps objectId -> externalId; AWS shows it as the group's ExternalIds.
    let described = ids
        .describe_group()
        .identity_store_id(store_id)
        .group_id(&group_id)
        .send()
        .await
        .unwrap();
    let external_ids = described.external_ids();
    assert_eq!(external_ids.len(), 1, "{described:?}");
    assert_eq!(
        (external_ids[0].issuer(), external_ids[0].id()),
        (scim.external_id_issuer.as_str(), group.as_str())
    );
    let by_external_id = ids
        .get_group_id()
        .identity_store_id(store_id)
        .alternate_identifier(AlternateIdentifier::ExternalId(
            ExternalId::builder()
                .issuer(&scim.external_id_issuer)
                .id(&group)
                .build()
                .unwrap(),
        ))
        .send()
        .await
        .expect("the provisioned group resolves by its external id");
    assert_eq!(by_external_id.group_id, group_id);
    let members = ids
        .list_group_memberships()
        .identity_store_id(store_id)
        .group_id(&group_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        members.group_memberships().len(),
        1,
        "the group's member was provisioned too"
    );

    let permission_set = sso
        .create_permission_set()
        .instance_arn(instance.instance_arn().unwrap())
        .name("PlatformAdmin")
        .send()
        .await
        .unwrap();
    let assignment = sso
        .create_account_assignment()
        .instance_arn(instance.instance_arn().unwrap())
        .permission_set_arn(
            permission_set
                .permission_set()
                .unwrap()
                .permission_set_arn()
                .unwrap(),
        )
        .target_id("123456789012")
        .target_type(aws_sdk_ssoadmin::types::TargetType::AwsAccount)
        .principal_type(aws_sdk_ssoadmin::types::PrincipalType::Group)
        .principal_id(&group_id)
        .send()
        .await
        .unwrap();
    let request_id = assignment
        .account_assignment_creation_status()
        .unwrap()
        .request_id()
        .unwrap();
    let status = sso
        .describe_account_assignment_creation_status()
        .instance_arn(instance.instance_arn().unwrap())
        .account_assignment_creation_request_id(request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status
            .account_assignment_creation_status()
            .unwrap()
            .status(),
        Some(&aws_sdk_ssoadmin::types::StatusValues::Succeeded),
        "{status:?}"
    );
}
