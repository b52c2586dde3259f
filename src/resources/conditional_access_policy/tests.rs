use std::collections::BTreeSet;

use super::model::ConditionalAccessPolicyModel;
use super::validate::{
    cross_checks, validate_built_in_controls, validate_client_app_types, validate_state,
    validate_user_ids,
};
use super::*;
use crate::clients::graph::conditional_access::ConditionalAccessPolicy;
use crate::framework::model::assert_model_matches_schema;

const APP_ID: &str = "11111111-2222-3333-4444-555555555555";
const GROUP: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

fn set(items: &[&str]) -> Attr<BTreeSet<String>> {
    Attr::from(items.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>())
}

fn strings(items: &[&str]) -> Value {
    Value::set(items.iter().map(|s| Value::from(*s)))
}

fn model() -> ConditionalAccessPolicyModel {
    ConditionalAccessPolicyModel {
        display_name: "AWS: require MFA".into(),
        application_id: "99999999-8888-7777-6666-555555555555".into(),
        app_id: APP_ID.into(),
        state: "enabledForReportingButNotEnforced".into(),
        include_groups: set(&[GROUP]),
        built_in_controls: set(&["mfa"]),
        operator: "OR".into(),
        client_app_types: set(&["all"]),
        ..Default::default()
    }
}

#[test]
fn the_model_declares_exactly_the_schema() {
    assert_model_matches_schema::<ConditionalAccessPolicyModel>(&schema::schema());
}

#[test]
fn the_policy_targets_the_app_id_and_round_trips() {
    let model = model();
    let mut remote: ConditionalAccessPolicy = model.desired(APP_ID);
    assert_eq!(
        remote.conditions.applications.include_applications,
        [APP_ID]
    );
    assert_eq!(remote.conditions.client_app_types, ["all"]);
    assert!(remote.conditions.locations.is_none());
    remote.id = "p".into();
    let refreshed = model.refreshed(&remote);
    assert_eq!(refreshed.id, Attr::from("p".to_string()));
    assert_eq!(
        ConditionalAccessPolicyModel {
            id: Attr::Null,
            ..refreshed.clone()
        },
        model
    );
    // Retargeted in the portal: the application shows as unset, so the plan restores it.
    remote.conditions.applications.include_applications = vec!["All".into()];
    assert!(model.refreshed(&remote).application_id.is_null());
}

#[test]
fn no_controls_means_no_grant_controls() {
    let model = ConditionalAccessPolicyModel {
        built_in_controls: Attr::Null,
        operator: Attr::Null,
        ..model()
    };
    let desired = model.desired(APP_ID);
    assert!(desired.grant_controls.is_none());
    let json = serde_json::to_value(&desired).unwrap();
    assert!(json["grantControls"].is_null());
}

#[test]
fn values_are_checked_against_the_csdl_enums() {
    let path = AttributePath::new("x");
    assert!(validate_state(&Value::from("enabledForReportingButNotEnforced"), &path).is_empty());
    assert!(validate_state(&Value::from("reportOnly"), &path).has_errors());
    assert!(validate_built_in_controls(&strings(&["mfa", "compliantDevice"]), &path).is_empty());
    assert!(validate_built_in_controls(&strings(&["mfa", "block"]), &path).has_errors());
    assert!(validate_client_app_types(&strings(&["browser"]), &path).is_empty());
    assert!(validate_client_app_types(&strings(&["easUnsupported"]), &path).has_errors());
    assert!(validate_user_ids(&strings(&["All", GROUP]), &path).is_empty());
    assert!(validate_user_ids(&strings(&["alice@example.com"]), &path).has_errors());
}

#[test]
fn somebody_must_be_included_and_all_stands_alone() {
    let nobody = ConditionalAccessPolicyModel {
        include_groups: Attr::Null,
        ..model()
    };
    assert!(cross_checks(&nobody).has_errors());
    assert!(cross_checks(&model()).is_empty());
    let mixed = ConditionalAccessPolicyModel {
        include_users: set(&["All", GROUP]),
        ..model()
    };
    assert!(cross_checks(&mixed).has_errors());
}
