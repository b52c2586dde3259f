//! Adopting an integration built by hand: objects made through the emulators' APIs (as an admin does in the
//! two consoles) are found by `terraform query` (list resources), the generated configuration imports them by
//! identity, the plan shows only imports, and after the apply the plan is empty. Import by identity of each
//! resource is tested in the resource's own lifecycle test.

mod assignments_fixture;
mod aws_support;
mod support;

use std::time::Duration;

use assignments_fixture::Fixture;
use aws_support::{block_on, endpoints, sso_admin, unique};
use idbridge_acceptance::{CheckResult, State, Step, TestCase, skipped_without_tf_acc};
use serde_json::json;
use support::{AWS_GALLERY_TEMPLATE, Graph, exclusive};

/// The provider configuration comes from the emulators' environment; nothing else is managed yet.
const PROVIDER: &str = "provider \"idbridge\" {}\n";

/// The one resource of `type_name` whose `attribute` is `value` in the adopted state.
fn adopted(
    type_name: &str,
    attribute: &str,
    value: &str,
) -> impl Fn(&State) -> CheckResult + use<> {
    let (type_name, attribute, value) =
        (type_name.to_owned(), attribute.to_owned(), value.to_owned());
    move |state: &State| {
        let found = state
            .resources()
            .iter()
            .filter(|r| r.type_name == type_name && r.attr(&attribute) == Some(value.as_str()))
            .count();
        if found == 1 {
            Ok(())
        } else {
            Err(
                format!("{found} {type_name} with {attribute} = {value:?} in state, expected 1")
                    .into(),
            )
        }
    }
}

#[test]
fn a_console_built_application_and_permission_set_are_adopted_with_one_query() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let graph = Graph::connect();
    // By hand: the gallery application (Entra admin center > Enterprise applications > New) ...
    let app_name = unique("adopt-app");
    let created = graph.call_ok(
        "POST",
        &format!("/applicationTemplates/{AWS_GALLERY_TEMPLATE}/instantiate"),
        Some(json!({ "displayName": app_name })),
    );
    let app_id = created["application"]["id"].as_str().unwrap().to_string();
    // ... and a permission set (IAM Identity Center console > Permission sets > Create).
    let ps_name = unique("adopt");
    let instance_arn = endpoints().sso_instance_arn.clone();
    block_on(
        sso_admin()
            .create_permission_set()
            .instance_arn(&instance_arn)
            .name(&ps_name)
            .description("made in the console")
            .session_duration("PT2H")
            .send(),
    )
    .expect("CreatePermissionSet");

    let query = format!(
        r#"
list "idbridge_entra_application" "apps" {{
  provider         = idbridge
  include_resource = true
  config {{
    display_name_prefix = "{app_name}"
  }}
}}

list "idbridge_permission_set" "sets" {{
  provider         = idbridge
  include_resource = true
  config {{
    instance_arn = "{instance_arn}"
    name_prefix  = "{ps_name}"
  }}
}}
"#
    );
    let generated_app = app_id.clone();
    TestCase::new(vec![
        Step::query(PROVIDER, query)
            .check_generated(move |generated| {
                for expected in [
                    "resource \"idbridge_entra_application\"",
                    "resource \"idbridge_permission_set\"",
                    "identity = {",
                    generated_app.as_str(),
                ] {
                    if !generated.contains(expected) {
                        return Err(
                            format!("the generated configuration lacks {expected:?}").into()
                        );
                    }
                }
                Ok(())
            })
            .check(adopted("idbridge_entra_application", "id", &app_id))
            .check(adopted(
                "idbridge_entra_application",
                "display_name",
                &app_name,
            ))
            .check(adopted("idbridge_permission_set", "name", &ps_name))
            .check(adopted(
                "idbridge_permission_set",
                "session_duration",
                "PT2H",
            )),
    ])
    .with_emulators()
    .run();
}

const ENTITY_ID: &str = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-9067a1b2c3";
const ACS_URL: &str = "https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/0f6c1d2e-3a4b-4c5d-9e8f-7a6b5c4d3e2f";
const ACCOUNT: &str = "111111111111";

/// By hand in the Entra admin center: Single sign-on > SAML (Identifier, Reply URL), a new signing certificate
/// made active.
fn saml_by_hand(fx: &Fixture, app_id: &str, sp: &str) {
    fx.graph(
        "PATCH",
        &format!("/applications/{app_id}"),
        Some(json!({"identifierUris": [ENTITY_ID], "web": {"redirectUris": [ACS_URL]}})),
    );
    let certificate = fx.graph(
        "POST",
        &format!("/servicePrincipals/{sp}/addTokenSigningCertificate"),
        Some(json!({"displayName": "CN=Microsoft Azure Federated SSO Certificate"})),
    );
    fx.graph(
        "PATCH",
        &format!("/servicePrincipals/{sp}"),
        Some(json!({
            "preferredSingleSignOnMode": "saml",
            "preferredTokenSigningKeyThumbprint": certificate["thumbprint"],
        })),
    );
}

/// The identity store id of what the provisioning cycle brought over (`DisplayName` for a group, `UserName`
/// for a user), waiting for the cycle.
fn provisioned(fx: &Fixture, operation: &str, attribute: &str, value: &str) -> String {
    for _ in 0..100 {
        let (status, found) = fx.identity_store(
            operation,
            json!({"AlternateIdentifier": {"UniqueAttribute": {"AttributePath": attribute, "AttributeValue": value}}}),
        );
        if status == 200 {
            let id = found["GroupId"].as_str().or(found["UserId"].as_str());
            return id.expect("an identity store id").to_string();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the provisioning cycle did not bring {value} to the identity store");
}

/// IAM Identity Center > AWS accounts > Assign users or groups.
fn account_assignment_by_hand(fx: &Fixture, principal_type: &str, principal_id: &str, arn: &str) {
    let created = fx.sso(
        "CreateAccountAssignment",
        json!({
            "InstanceArn": fx.endpoints.sso_instance_arn, "TargetId": ACCOUNT, "TargetType": "AWS_ACCOUNT",
            "PermissionSetArn": arn, "PrincipalType": principal_type, "PrincipalId": principal_id,
        }),
    );
    assert_ne!(
        created["AccountAssignmentCreationStatus"]["Status"], "FAILED",
        "{created}"
    );
}

fn list_block(type_name: &str, config: &str) -> String {
    format!(
        "list \"{type_name}\" \"found\" {{\n  provider         = idbridge\n  include_resource = true\n  config {{\n{config}\n  }}\n}}\n"
    )
}

#[test]
fn a_console_built_integration_is_adopted_with_one_query_and_plans_only_imports() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let fx = Fixture::new();
    let name = unique("adopt-all");
    // Enterprise applications > New > AWS IAM Identity Center, provisioning set to Automatic with the SCIM
    // endpoint and token, SAML configured, a group and a user assigned, then "Start provisioning".
    let (app_id, sp) = fx.app(&name, &fx.endpoints.scim_token);
    saml_by_hand(&fx, &app_id, &sp);
    let group_id = fx.group(&format!("{name}-grp"));
    let user_name = format!("{name}-direct@example.com");
    let user = fx.graph(
        "POST",
        "/users",
        Some(json!({
            "accountEnabled": true, "displayName": format!("{name} direct"), "givenName": "Direct", "surname": "User",
            "mailNickname": format!("{name}-direct"), "userPrincipalName": user_name,
            "passwordProfile": {"password": "Emulator-Only-1!"},
        })),
    );
    let user_id = user["id"].as_str().unwrap().to_string();
    // Users and groups > Add user/group, with the application's `User` role.
    fx.assign_to_app(&sp, &group_id);
    fx.assign_to_app(&sp, &user_id);
    let jobs = fx.graph(
        "GET",
        &format!("/servicePrincipals/{sp}/synchronization/jobs"),
        None,
    );
    let job = jobs["value"][0]["id"].as_str().unwrap().to_string();
    fx.graph(
        "POST",
        &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/start"),
        None,
    );
    // Entra > Protection > Conditional Access: MFA for the group on this application, report-only.
    let client_id = fx.graph("GET", &format!("/applications/{app_id}"), None)["appId"].clone();
    fx.graph(
        "POST",
        "/identity/conditionalAccess/policies",
        Some(json!({
            "displayName": format!("{name} MFA"), "state": "enabledForReportingButNotEnforced",
            "conditions": {
                "applications": {"includeApplications": [client_id]},
                "users": {"includeGroups": [group_id]},
                "clientAppTypes": ["all"],
            },
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
        })),
    );
    // IAM Identity Center: a permission set, assigned to the provisioned group and user on one account.
    let permission_set = fx.permission_set(&unique("adopt-ps"));
    let store_group = provisioned(&fx, "GetGroupId", "displayName", &format!("{name}-grp"));
    let store_user = provisioned(&fx, "GetUserId", "userName", &user_name);
    account_assignment_by_hand(&fx, "GROUP", &store_group, &permission_set);
    account_assignment_by_hand(&fx, "USER", &store_user, &permission_set);
    // Settings > Attributes for access control: one session tag.
    fx.sso(
        "CreateInstanceAccessControlAttributeConfiguration",
        json!({
            "InstanceArn": fx.endpoints.sso_instance_arn,
            "InstanceAccessControlAttributeConfiguration": {"AccessControlAttributes": [
                {"Key": "Department", "Value": {"Source": ["${path:enterprise.department}"]}},
            ]},
        }),
    );

    let by_application = format!("    application_id = \"{app_id}\"");
    let query = [
        list_block(
            "idbridge_entra_application",
            &format!("    display_name_prefix = \"{name}\""),
        ),
        list_block("idbridge_saml_trust", &by_application),
        list_block("idbridge_scim_provisioning", &by_application),
        list_block("idbridge_group_assignment", &by_application),
        list_block("idbridge_user_assignment", &by_application),
        list_block("idbridge_conditional_access_policy", &by_application),
        list_block(
            "idbridge_access_control_attributes",
            &format!("    instance_arn = \"{}\"", fx.endpoints.sso_instance_arn),
        ),
    ]
    .concat();
    let secret = fx.endpoints.scim_token.clone();
    TestCase::new(vec![
        Step::query(PROVIDER, query)
            .check_generated(move |generated| {
                if generated.contains(&secret) {
                    return Err("the SCIM token is in the generated configuration".into());
                }
                Ok(())
            })
            .check(adopted("idbridge_entra_application", "id", &app_id))
            .check(adopted("idbridge_saml_trust", "entity_id", ENTITY_ID))
            .check(adopted("idbridge_scim_provisioning", "enabled", "true"))
            .check(adopted(
                "idbridge_group_assignment",
                "entra_group_id",
                &group_id,
            ))
            .check(adopted(
                "idbridge_user_assignment",
                "entra_user_id",
                &user_id,
            ))
            .check(adopted(
                "idbridge_conditional_access_policy",
                "application_id",
                &app_id,
            ))
            .check(adopted(
                "idbridge_access_control_attributes",
                "attribute.0.key",
                "Department",
            ))
            .check(move |state: &State| {
                let assignments = state
                    .resources()
                    .iter()
                    .filter(|r| r.type_name.ends_with("_assignment"))
                    .filter(|r| r.attr("permission_set_arns.0") == Some(permission_set.as_str()))
                    .count();
                if assignments == 2 {
                    Ok(())
                } else {
                    Err(
                        format!("{assignments} of the 2 assignments hold the permission set")
                            .into(),
                    )
                }
            }),
    ])
    .with_emulators()
    .run();
}
