use std::collections::HashMap;

use super::*;
use crate::framework::{AttributePath, Severity};

fn provider(env: &[(&str, &str)]) -> IdbridgeProvider {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    IdbridgeProvider::with_env(move |name| env.get(name).cloned())
}

/// A provider configuration as Terraform sends it: every attribute present, null unless set.
fn config(entra: &[(&str, Value)], aws: &[(&str, Value)]) -> Value {
    fn block(ty: &crate::framework::Type, set: &[(&str, Value)]) -> Value {
        let crate::framework::Type::Object(object) = ty else {
            unreachable!("blocks are objects")
        };
        let mut value = Value::object(object.attributes.keys().map(|k| (k.clone(), Value::Null)));
        for (name, v) in set {
            value.set_attr(*name, v.clone());
        }
        value
    }
    let ty = config::provider_schema().value_type();
    let crate::framework::Type::Object(object) = &ty else {
        unreachable!()
    };
    let entra = if entra.is_empty() {
        Value::Null
    } else {
        block(&object.attributes["entra"], entra)
    };
    let aws = if aws.is_empty() {
        Value::Null
    } else {
        block(&object.attributes["aws"], aws)
    };
    Value::object([("entra", entra), ("aws", aws)])
}

fn ctx() -> Context {
    Context::for_tests(IdbridgeProvider::TYPE_NAME, None)
}

async fn configure(provider: &IdbridgeProvider, config: Value) -> Arc<IdbridgeClients> {
    let data = provider
        .configure(
            &ctx(),
            ConfigureRequest {
                config,
                terraform_version: "1.15.5".into(),
            },
        )
        .await
        .unwrap();
    data.downcast::<IdbridgeClients>().unwrap()
}

fn s(text: &str) -> Value {
    Value::from(text)
}

#[test]
fn schema_matches_the_contract() {
    let schema = IdbridgeProvider::new().schema();
    assert!(schema.check("idbridge").is_empty());
    let block = |name: &str| {
        &schema
            .block
            .blocks
            .iter()
            .find(|b| b.type_name == name)
            .unwrap()
            .block
    };
    let names = |b: &crate::framework::Block| -> Vec<String> {
        b.attributes.iter().map(|a| a.name.clone()).collect()
    };
    assert_eq!(
        names(block("entra")),
        [
            "tenant_id",
            "client_id",
            "client_secret",
            "client_certificate",
            "client_certificate_path",
            "client_certificate_password",
            "use_oidc",
            "oidc_token",
            "oidc_token_file_path",
            "use_cli",
            "environment",
            "graph_endpoint",
            "login_endpoint"
        ]
    );
    let sensitive: Vec<String> = block("entra")
        .attributes
        .iter()
        .filter(|a| a.sensitive)
        .map(|a| a.name.clone())
        .collect();
    assert_eq!(
        sensitive,
        [
            "client_secret",
            "client_certificate",
            "client_certificate_password",
            "oidc_token"
        ]
    );
    for a in &block("entra").attributes {
        assert!(a.optional, "{} is optional", a.name);
        assert!(a.description.contains("`ARM_") || a.description.contains("`IDBRIDGE_"));
    }
    assert_eq!(names(block("aws")), ["region", "profile", "endpoint_url"]);
    let assume_role = &block("aws").blocks[0];
    assert_eq!(assume_role.type_name, "assume_role");
    assert_eq!(
        names(&assume_role.block),
        ["role_arn", "session_name", "external_id"]
    );
}

#[tokio::test]
async fn validation_points_at_the_offending_attribute() {
    let p = provider(&[]);
    let cases = [
        (
            config(
                &[
                    ("client_certificate", s("TUlJ")),
                    ("client_certificate_path", s("/tmp/c.p12")),
                ],
                &[],
            ),
            AttributePath::new("entra").attribute("client_certificate_path"),
            "Conflicting configuration arguments",
        ),
        (
            config(
                &[
                    ("oidc_token", Value::unknown()),
                    ("oidc_token_file_path", s("/var/run/token")),
                ],
                &[],
            ),
            AttributePath::new("entra").attribute("oidc_token_file_path"),
            "Conflicting configuration arguments",
        ),
        (
            config(&[("environment", s("mars"))], &[]),
            AttributePath::new("entra").attribute("environment"),
            "Unknown cloud environment",
        ),
        (
            config(&[("graph_endpoint", s("http://graph.example.com"))], &[]),
            AttributePath::new("entra").attribute("graph_endpoint"),
            "Invalid endpoint",
        ),
        (
            config(&[("login_endpoint", s("ftp://login"))], &[]),
            AttributePath::new("entra").attribute("login_endpoint"),
            "Invalid endpoint",
        ),
        (
            config(&[("client_certificate", s("not base64 !"))], &[]),
            AttributePath::new("entra").attribute("client_certificate"),
            "Invalid client certificate",
        ),
        (
            config(&[], &[("region", s("EU West"))]),
            AttributePath::new("aws").attribute("region"),
            "Invalid AWS region",
        ),
        (
            config(&[], &[("endpoint_url", s("localhost:5000"))]),
            AttributePath::new("aws").attribute("endpoint_url"),
            "Invalid endpoint",
        ),
        (
            config(
                &[],
                &[(
                    "assume_role",
                    Value::object([
                        ("role_arn", s("arn:aws:iam::12345:user/bob")),
                        ("session_name", Value::Null),
                        ("external_id", Value::Null),
                    ]),
                )],
            ),
            AttributePath::new("aws")
                .attribute("assume_role")
                .attribute("role_arn"),
            "Invalid role ARN",
        ),
    ];
    for (config, path, summary) in cases {
        let diags = p.validate_config(&ctx(), &config).await;
        let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 1, "{summary}: {diags:?}");
        assert_eq!(errors[0].summary, summary);
        assert_eq!(errors[0].path.as_ref(), Some(&path));
    }
}

#[tokio::test]
async fn valid_and_partly_unknown_configurations_pass_validation() {
    let p = provider(&[]);
    for config in [
        config(&[], &[]),
        Value::Null,
        config(
            &[
                ("tenant_id", s("t")),
                ("client_id", s("c")),
                ("client_secret", s("secret")),
                ("environment", s("usgovernment")),
                ("graph_endpoint", s("http://127.0.0.1:4000")),
                ("login_endpoint", Value::unknown()),
            ],
            &[
                ("region", s("eu-west-1")),
                ("endpoint_url", s("http://127.0.0.1:5000")),
                (
                    "assume_role",
                    Value::object([
                        ("role_arn", s("arn:aws:iam::123456789012:role/idbridge")),
                        ("session_name", Value::Null),
                        ("external_id", Value::Null),
                    ]),
                ),
            ],
        ),
        config(&[("environment", Value::unknown())], &[]),
    ] {
        let diags = p.validate_config(&ctx(), &config).await;
        assert!(diags.is_empty(), "{diags:?}");
    }
}

#[tokio::test]
async fn an_empty_configuration_needs_no_credentials_until_a_client_is_used() {
    let clients = configure(&provider(&[]), config(&[], &[])).await;
    assert!(!clients.graph_is_built());
    assert!(!clients.identity_center_is_built());
    let settings = clients.entra_settings().unwrap();
    assert_eq!(settings.graph_endpoint, "https://graph.microsoft.com/v1.0");
    assert_eq!(clients.aws_settings().unwrap(), &Default::default());

    // Without ARM_USE_CLI=false the Azure CLI is the fallback credential, so force "no credential at all".
    let clients = configure(
        &provider(&[]),
        config(&[("use_cli", Value::from(false))], &[]),
    )
    .await;
    let diags = clients.graph().await.unwrap_err();
    let diag = diags.iter().next().unwrap();
    assert_eq!(diag.summary, "Cannot set up the Microsoft Graph client");
    assert!(
        diag.detail.contains("No Entra ID credential"),
        "{}",
        diag.detail
    );
    assert!(!clients.graph_is_built());
}

#[tokio::test]
async fn configuration_wins_over_the_environment_and_the_graph_client_is_built_once() {
    let p = provider(&[
        ("ARM_TENANT_ID", "env-tenant"),
        ("ARM_CLIENT_ID", "env-client"),
        ("ARM_CLIENT_SECRET", "env-secret"),
        ("IDBRIDGE_GRAPH_ENDPOINT", "http://127.0.0.1:1"),
    ]);
    let clients = configure(&p, config(&[("tenant_id", s("cfg-tenant"))], &[])).await;
    let settings = clients.entra_settings().unwrap();
    assert_eq!(settings.tenant_id.as_deref(), Some("cfg-tenant"));
    assert_eq!(settings.client_id.as_deref(), Some("env-client"));
    assert_eq!(settings.graph_endpoint, "http://127.0.0.1:1/v1.0");
    assert!(!clients.graph_is_built());
    let first = clients.graph().await.unwrap();
    let second = clients.graph().await.unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert!(clients.graph_is_built());
    assert_eq!(first.base_url(), "http://127.0.0.1:1/v1.0");
}

#[tokio::test]
async fn a_broken_environment_only_fails_entra_users() {
    let clients = configure(&provider(&[("ARM_ENVIRONMENT", "mars")]), Value::Null).await;
    let diags = clients.graph().await.unwrap_err();
    let diag = diags.iter().next().unwrap();
    assert_eq!(diag.summary, "Invalid Microsoft Entra ID configuration");
    assert!(diag.detail.contains("mars"));
    assert!(clients.aws_settings().is_ok());
}

#[tokio::test]
async fn unknown_values_defer_the_affected_cloud_only() {
    let clients = configure(
        &provider(&[]),
        config(
            &[("client_secret", Value::unknown())],
            &[("region", s("eu-west-1"))],
        ),
    )
    .await;
    let diags = clients.graph().await.unwrap_err();
    assert_eq!(
        diags.iter().next().unwrap().summary,
        "Microsoft Entra ID configuration not known yet"
    );
    assert_eq!(
        clients.aws_settings().unwrap().region.as_deref(),
        Some("eu-west-1")
    );

    let clients = configure(
        &provider(&[]),
        config(
            &[],
            &[(
                "assume_role",
                Value::object([
                    ("role_arn", Value::unknown()),
                    ("session_name", Value::Null),
                    ("external_id", Value::Null),
                ]),
            )],
        ),
    )
    .await;
    let Err(diags) = clients.identity_center().await else {
        panic!("an unknown aws block must not build the client");
    };
    assert_eq!(diags.iter().next().unwrap().severity, Severity::Error);
    assert!(diags.iter().next().unwrap().detail.contains("`aws` block"));
    assert!(clients.entra_settings().is_ok());
}

#[tokio::test]
async fn aws_settings_map_one_to_one() {
    let clients = configure(
        &provider(&[]),
        config(
            &[],
            &[
                ("region", s("eu-central-1")),
                ("profile", s("sso-admin")),
                ("endpoint_url", s("http://127.0.0.1:5000")),
                (
                    "assume_role",
                    Value::object([
                        ("role_arn", s("arn:aws:iam::123456789012:role/idbridge")),
                        ("session_name", s("tf")),
                        ("external_id", s("ext-1")),
                    ]),
                ),
            ],
        ),
    )
    .await;
    let aws = clients.aws_settings().unwrap();
    assert_eq!(aws.region.as_deref(), Some("eu-central-1"));
    assert_eq!(aws.profile.as_deref(), Some("sso-admin"));
    assert_eq!(aws.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
    let role = aws.assume_role.as_ref().unwrap();
    assert_eq!(role.role_arn, "arn:aws:iam::123456789012:role/idbridge");
    assert_eq!(role.session_name.as_deref(), Some("tf"));
    assert_eq!(role.external_id.as_deref(), Some("ext-1"));
    assert!(!clients.identity_center_is_built());
}

#[test]
fn debug_output_never_shows_secrets() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let clients = runtime.block_on(configure(
        &provider(&[("ARM_OIDC_TOKEN", "env-oidc-token-value")]),
        config(&[("client_secret", s("super-secret-value"))], &[]),
    ));
    let text = format!("{clients:?}");
    assert!(!text.contains("super-secret-value"), "{text}");
    assert!(!text.contains("env-oidc-token-value"), "{text}");
    assert!(text.contains("redacted"));
}

#[test]
fn offers_the_saml_data_source_and_function() {
    let p = IdbridgeProvider::new();
    let names: Vec<String> = p
        .data_sources()
        .iter()
        .map(|d| d.type_name().to_owned())
        .collect();
    for expected in [
        "idbridge_aws_saml_metadata",
        "idbridge_sso_instance",
        "idbridge_identity_store_group",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let resources: Vec<String> = p
        .resources()
        .iter()
        .map(|r| r.type_name().to_owned())
        .collect();
    assert!(
        resources.iter().any(|r| r == "idbridge_permission_set"),
        "{resources:?}"
    );
    let functions: Vec<String> = p.functions().iter().map(|f| f.definition().name).collect();
    assert_eq!(functions, ["parse_aws_saml_metadata"]);
}

/// Adoption covers every resource: each declares an identity that matches its state schema (import by
/// identity, `terraform query`) and each has a list resource.
#[test]
fn every_resource_has_an_identity_and_a_list_resource() {
    let p = IdbridgeProvider::new();
    let listed: Vec<String> = p
        .list_resources()
        .iter()
        .map(|l| l.type_name().to_owned())
        .collect();
    for resource in p.resources() {
        let name = resource.type_name();
        let identity = resource
            .identity_schema()
            .unwrap_or_else(|| panic!("{name} has no resource identity"));
        let problems = identity.check(name, &resource.schema());
        assert!(problems.is_empty(), "{name}: {problems:?}");
        assert!(
            listed.iter().any(|l| l == name),
            "{name} has no list resource"
        );
    }
}
