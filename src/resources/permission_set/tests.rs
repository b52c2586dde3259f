use std::collections::{BTreeMap, BTreeSet};

use super::model::PolicyReferenceModel;
use super::validate::*;
use super::*;
use crate::clients::aws::{CustomerManagedPolicyRef, PermissionSet, PermissionsBoundary};
use crate::framework::model::assert_model_matches_schema;
use crate::framework::{Attr, Set};
use crate::helpers::aws_inputs::*;
use crate::helpers::equivalent::same_json;
use crate::services::permission_sets::{Remote, policy_ref};

#[test]
fn the_model_has_exactly_the_schema_attributes() {
    assert_model_matches_schema::<PermissionSetModel>(&schema::schema());
}

#[test]
fn session_duration_must_be_15_minutes_to_12_hours() {
    let path = AttributePath::new("session_duration");
    for ok in ["PT15M", "PT1H", "PT12H", "PT720M"] {
        assert!(
            validate_session_duration(&Value::from(ok), &path).is_empty(),
            "{ok}"
        );
    }
    let diags = validate_session_duration(&Value::from("PT13H"), &path);
    let diagnostic = diags.iter().next().unwrap();
    assert_eq!(diagnostic.summary, "Session duration out of range");
    assert_eq!(diagnostic.path, Some(path.clone()));
    assert!(
        diagnostic.detail.contains("13 hour(s)"),
        "{}",
        diagnostic.detail
    );
    assert!(!validate_session_duration(&Value::from("PT14M"), &path).is_empty());
    assert!(!validate_session_duration(&Value::from("one hour"), &path).is_empty());
    assert!(validate_session_duration(&Value::unknown(), &path).is_empty());
}

#[test]
fn managed_policy_arns_must_have_the_aws_managed_shape() {
    for ok in [
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
    ] {
        assert!(is_aws_managed_policy_arn(ok), "{ok}");
    }
    for bad in [
        "ReadOnlyAccess",
        "arn:aws:iam::123456789012:policy/Mine",
        "arn:aws:iam::aws:role/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/",
        "arn:aws:iam::aws:policy/a//b",
        "arn:aws:iam:aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/Read Only",
    ] {
        assert!(!is_aws_managed_policy_arn(bad), "{bad}");
    }
    let path = AttributePath::new("managed_policy_arns");
    let set = Value::set([
        Value::from("arn:aws:iam::aws:policy/ReadOnlyAccess"),
        Value::from("nope"),
    ]);
    let diags = validate_managed_policy_arns(&set, &path);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags.iter().next().unwrap().path, Some(path));
}

#[test]
fn inline_policy_must_be_a_json_object_and_compares_semantically() {
    let path = AttributePath::new("inline_policy");
    assert!(validate_inline_policy(&Value::from(r#"{"Version":"2012-10-17"}"#), &path).is_empty());
    let diags = validate_inline_policy(&Value::from(r#"{"Version": "2012-10-17",}"#), &path);
    assert_eq!(
        diags.iter().next().unwrap().summary,
        "Invalid inline policy"
    );
    assert_eq!(diags.iter().next().unwrap().path, Some(path.clone()));
    assert!(!validate_inline_policy(&Value::from("[1]"), &path).is_empty());
    assert!(same_json(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#,
        "{\n  \"Statement\": [ { \"Action\": \"s3:*\", \"Effect\": \"Allow\" } ],\n  \"Version\": \"2012-10-17\"\n}"
    ));
    assert!(!same_json(r#"{"a":[1,2]}"#, r#"{"a":[2,1]}"#));
}

#[test]
fn names_follow_the_service_pattern() {
    let path = AttributePath::new("name");
    assert!(validate_name(&Value::from("Admin_Team-1+x=y,z.@"), &path).is_empty());
    assert!(!validate_name(&Value::from("has space"), &path).is_empty());
    assert!(!validate_name(&Value::from("x".repeat(33)), &path).is_empty());
    assert!(!validate_name(&Value::from(""), &path).is_empty());
}

#[test]
fn instance_is_derived_from_the_permission_set_arn() {
    assert_eq!(
        instance_arn_of("arn:aws:sso:::permissionSet/ssoins-1234/ps-abcd").as_deref(),
        Some("arn:aws:sso:::instance/ssoins-1234")
    );
    assert_eq!(
        instance_arn_of("arn:aws-us-gov:sso:::permissionSet/ssoins-1/ps-2").as_deref(),
        Some("arn:aws-us-gov:sso:::instance/ssoins-1")
    );
    for bad in [
        "ps-abcd",
        "arn:aws:sso:::permissionSet/ssoins-1234",
        "arn:aws:sso:::permissionSet/ssoins-1/ps-2/x",
        "arn:aws:iam:::permissionSet/ssoins-1/ps-2",
        "arn:aws:sso:::permissionSet/ssoins-/ps-2",
    ] {
        assert_eq!(instance_arn_of(bad), None, "{bad}");
    }
}

fn remote() -> Remote {
    Remote {
        set: PermissionSet {
            arn: "arn:aws:sso:::permissionSet/ssoins-1/ps-1".into(),
            name: "ops".into(),
            description: Some("d".into()),
            session_duration: Some("PT60M".into()),
            relay_state: None,
            created_epoch_seconds: Some(0),
        },
        inline: Some(r#"{"b":1,"a":2}"#.into()),
        managed: BTreeSet::new(),
        customer: [policy_ref("p", None)].into_iter().collect(),
        boundary: Some(PermissionsBoundary::CustomerManagedPolicy(
            CustomerManagedPolicyRef {
                name: "b".into(),
                path: None,
            },
        )),
        tags: BTreeMap::new(),
        outdated_accounts: BTreeSet::new(),
    }
}

fn known_strings(items: &[&str]) -> Attr<Set<Attr<String>>> {
    Attr::Known(Set(items.iter().map(|&item| item.into()).collect()))
}

#[test]
fn refreshed_state_keeps_equivalent_spellings_and_shows_real_changes() {
    let prior = PermissionSetModel {
        session_duration: "PT1H".into(),
        inline_policy: "{\"a\": 2, \"b\": 1}".into(),
        tags: Attr::Null,
        managed_policy_arns: Attr::Null,
        ..PermissionSetModel::default()
    };
    let state = state_from_remote(&prior, "arn:aws:sso:::instance/ssoins-1", &remote());
    assert_eq!(state.session_duration.as_str(), Some("PT1H"));
    assert_eq!(state.inline_policy.as_str(), Some("{\"a\": 2, \"b\": 1}"));
    assert!(state.tags.is_null() && state.managed_policy_arns.is_null());
    assert_eq!(state.created_date.as_str(), Some("1970-01-01T00:00:00Z"));
    assert_eq!(state.id.as_str(), state.arn.as_str());
    assert_eq!(
        state.customer_managed_policy,
        Attr::Known(Set(vec![PolicyReferenceModel {
            name: "p".into(),
            path: "/".into()
        }]))
    );
    assert_eq!(
        state
            .permissions_boundary
            .known()
            .and_then(|boundary| boundary.customer_managed_policy.known())
            .and_then(|reference| reference.path.as_str()),
        Some("/")
    );

    let mut changed = remote();
    changed.inline = Some(r#"{"a":3}"#.into());
    changed.tags.insert("team".into(), "x".into());
    let state = state_from_remote(&prior, "arn:aws:sso:::instance/ssoins-1", &changed);
    assert_eq!(state.inline_policy.as_str(), Some(r#"{"a":3}"#));
    assert_eq!(
        state.tags,
        Attr::Known(BTreeMap::from([("team".to_string(), "x".into())]))
    );
    assert_eq!(state.outdated_accounts, known_strings(&[]));

    let mut outdated = remote();
    outdated.outdated_accounts.insert("111111111111".into());
    let state = state_from_remote(&prior, "arn:aws:sso:::instance/ssoins-1", &outdated);
    assert_eq!(state.outdated_accounts, known_strings(&["111111111111"]));
}

#[test]
fn desired_state_reads_the_plan_with_default_paths() {
    let planned = Value::object([
        ("name", Value::from("ops")),
        ("session_duration", Value::from("PT2H")),
        (
            "managed_policy_arns",
            Value::set([Value::from("arn:aws:iam::aws:policy/ReadOnlyAccess")]),
        ),
        (
            "customer_managed_policy",
            Value::set([Value::object([
                ("name", Value::from("p")),
                ("path", Value::Null),
            ])]),
        ),
        (
            "permissions_boundary",
            Value::object([(
                "managed_policy_arn",
                Value::from("arn:aws:iam::aws:policy/PowerUserAccess"),
            )]),
        ),
        ("tags", Value::map([("a", Value::from("b"))])),
    ]);
    let desired = Desired::from_plan(&PermissionSetModel::decode(&planned).unwrap());
    assert_eq!(desired.session_duration, "PT2H");
    assert!(desired.customer.contains(&policy_ref("p", Some("/"))));
    assert_eq!(
        desired.boundary,
        Some(PermissionsBoundary::ManagedPolicy {
            arn: "arn:aws:iam::aws:policy/PowerUserAccess".into()
        })
    );
    assert_eq!(
        desired.tags,
        BTreeMap::from([("a".to_string(), "b".to_string())])
    );
}

#[test]
fn plan_fills_default_paths_only_where_the_configuration_has_none() {
    let config = Value::set([
        Value::object([("name", Value::from("a")), ("path", Value::Null)]),
        Value::object([("name", Value::from("b")), ("path", Value::unknown())]),
    ]);
    let planned = Value::set([
        Value::object([("name", Value::from("a")), ("path", Value::unknown())]),
        Value::object([("name", Value::from("b")), ("path", Value::unknown())]),
    ]);
    let references = |value: &Value| {
        Set::<PolicyReferenceModel>::decode_field(value, &AttributePath::root())
            .unwrap()
            .0
    };
    let mut planned = references(&planned);
    plan::default_paths(&references(&config), &mut planned);
    let paths: Vec<&Attr<String>> = planned.iter().map(|e| &e.path).collect();
    assert_eq!(paths[0], &Attr::from("/"));
    assert!(paths[1].is_unknown());
}

#[tokio::test]
async fn reformatted_inline_policy_plans_no_change() {
    let prior = PermissionSetModel {
        name: "ops".into(),
        session_duration: "PT1H".into(),
        inline_policy: r#"{"a":1,"b":2}"#.into(),
        outdated_accounts: known_strings(&[]),
        ..PermissionSetModel::default()
    };
    let config = PermissionSetModel {
        inline_policy: "{ \"b\": 2,\n \"a\": 1 }".into(),
        session_duration: Attr::Null,
        ..prior.clone()
    };
    let mut plan = PlanChange {
        config: config.encode(),
        prior: prior.encode(),
        planned: PermissionSetModel {
            session_duration: Attr::unknown(),
            ..config.clone()
        }
        .encode(),
        requires_replace: Vec::new(),
    };
    let ctx = Context::for_tests(TYPE_NAME, None);
    PermissionSetResource
        .modify_plan(&ctx, &mut plan)
        .await
        .unwrap();
    assert_eq!(plan.planned, prior.encode());

    let changed = PermissionSetModel {
        inline_policy: r#"{"a":1}"#.into(),
        ..config
    };
    let mut plan = PlanChange {
        config: changed.encode(),
        prior: prior.encode(),
        planned: changed.encode(),
        requires_replace: Vec::new(),
    };
    PermissionSetResource
        .modify_plan(&ctx, &mut plan)
        .await
        .unwrap();
    let planned = PermissionSetModel::decode(&plan.planned).unwrap();
    assert_eq!(planned.inline_policy.as_str(), Some(r#"{"a":1}"#));
    assert_eq!(planned.session_duration.as_str(), Some("PT1H"));
}

#[tokio::test]
async fn boundary_needs_exactly_one_kind() {
    let ctx = Context::for_tests(TYPE_NAME, None);
    let both = Value::object([(
        "permissions_boundary",
        Value::object([
            (
                "managed_policy_arn",
                Value::from("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            ),
            (
                "customer_managed_policy",
                Value::object([("name", Value::from("x"))]),
            ),
        ]),
    )]);
    let diags = PermissionSetResource.validate_config(&ctx, &both).await;
    assert_eq!(diags.len(), 1);
    let neither = Value::object([(
        "permissions_boundary",
        Value::object([
            ("managed_policy_arn", Value::Null),
            ("customer_managed_policy", Value::Null),
        ]),
    )]);
    assert_eq!(
        PermissionSetResource
            .validate_config(&ctx, &neither)
            .await
            .len(),
        1
    );
    let one = Value::object([(
        "permissions_boundary",
        Value::object([(
            "managed_policy_arn",
            Value::from("arn:aws:iam::aws:policy/ReadOnlyAccess"),
        )]),
    )]);
    assert!(
        PermissionSetResource
            .validate_config(&ctx, &one)
            .await
            .is_empty()
    );
    assert!(PermissionSetResource.schema().check(TYPE_NAME).is_empty());
}

/// A plan whose values come from other resources: whatever is unknown (whole collections, nested
/// attributes, map values, refined strings) must reach Terraform again exactly as it came.
#[test]
fn a_plan_with_unknown_values_decodes_and_encodes_back_unchanged() {
    let refined = Value::unknown_refined(crate::framework::Refinements {
        string_prefix: Some("arn:aws:iam::aws:policy/".into()),
        ..crate::framework::Refinements::not_null()
    });
    let planned = PermissionSetModel {
        name: "ops".into(),
        ..PermissionSetModel::default()
    }
    .encode();
    let mut planned = match planned {
        Value::Object(attributes) => attributes,
        other => panic!("not an object: {other:?}"),
    };
    for (attribute, value) in [
        ("id", Value::unknown()),
        ("managed_policy_arns", Value::set([refined])),
        ("tags", Value::map([("team", Value::unknown())])),
        (
            "customer_managed_policy",
            Value::set([Value::object([
                ("name", Value::unknown()),
                ("path", Value::unknown()),
            ])]),
        ),
        (
            "permissions_boundary",
            Value::object([
                ("managed_policy_arn", Value::Null),
                ("customer_managed_policy", Value::unknown()),
            ]),
        ),
        ("outdated_accounts", Value::unknown()),
        ("timeouts", Value::object([("create", Value::from("5m"))])),
    ] {
        planned.insert(attribute.into(), value);
    }
    let planned = Value::Object(planned);
    assert_eq!(
        PermissionSetModel::decode(&planned).unwrap().encode(),
        planned
    );
}
