use super::*;
use crate::clients::aws::AssignmentTarget;
use crate::framework::model::{Attr, Set, assert_model_matches_schema};
use crate::framework::{AttributePath, PlanChange};
use crate::helpers::assignment_inputs;
use crate::helpers::{instance_arn_of, is_account_id, is_permission_set_arn};
use crate::services::principal_access::PrincipalAccessModel;
use assignment_inputs::{validate_account_ids, validate_permission_set_arns};
use validate::parse_import_id;

fn added_permission_set_arns(
    config: &GroupAssignmentModel,
    prior: Option<&GroupAssignmentModel>,
) -> Vec<String> {
    assignment_inputs::added_permission_set_arns(
        &config.permission_set_arns,
        prior.map(|p| &p.permission_set_arns),
    )
}

fn check_instance_matches(
    config: &GroupAssignmentModel,
    arns: &[String],
) -> Result<(), crate::framework::Diagnostics> {
    assignment_inputs::check_instance_matches(&config.instance_arn, arns)
}

const ARN: &str = "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0123456789abcdef";
const APP: &str = "11111111-2222-3333-4444-555555555555";
const GROUP: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

fn strings(items: &[&str]) -> Attr<Set<Attr<String>>> {
    Attr::from_known(items.iter().map(|item| item.to_string()))
}

#[test]
fn account_ids_must_be_twelve_digits() {
    assert!(is_account_id("123456789012"));
    assert!(!is_account_id("12345678901"));
    assert!(!is_account_id("1234567890123"));
    assert!(!is_account_id("12345678901a"));
    let path = AttributePath::new("account_ids");
    let diags = validate_account_ids(
        &Value::set([Value::from("123456789012"), Value::from("12345678901")]),
        &path,
    );
    assert_eq!(diags.len(), 1);
    let d = diags.iter().next().unwrap();
    assert_eq!(d.summary, "Invalid AWS account id");
    assert!(d.detail.contains("\"12345678901\""), "{}", d.detail);
    assert_eq!(d.path.as_ref(), Some(&path));
    // Unknown elements are checked at apply, not refused at plan.
    assert!(validate_account_ids(&Value::set([Value::unknown()]), &path).is_empty());
}

#[test]
fn permission_set_arns_have_the_aws_shape() {
    assert!(is_permission_set_arn(ARN));
    assert!(is_permission_set_arn(
        "arn:aws-us-gov:sso:::permissionSet/ssoins-1/ps-2"
    ));
    for bad in [
        "arn:aws:sso:::instance/ssoins-1/ps-2",
        "arn:aws:sso:::permissionSet/ssoins-1",
        "arn:aws:sso:::permissionSet/ssoins-/ps-2",
        "arn:aws:sso:::permissionSet/ssoins-1/ps-2/x",
        "ps-2",
        "",
    ] {
        assert!(!is_permission_set_arn(bad), "{bad}");
    }
    let diags = validate_permission_set_arns(
        &Value::set([Value::from("nope")]),
        &AttributePath::new("permission_set_arns"),
    );
    assert_eq!(diags.len(), 1);
}

#[test]
fn only_new_permission_sets_are_checked_against_their_instance() {
    let a = "arn:aws:sso:::permissionSet/ssoins-aaaa/ps-1";
    let b = "arn:aws-us-gov:sso:::permissionSet/ssoins-bbbb/ps-2";
    let arns = |items: &[&str]| GroupAssignmentModel {
        permission_set_arns: strings(items),
        ..Default::default()
    };
    assert_eq!(
        added_permission_set_arns(&arns(&[a, b, "not-an-arn"]), Some(&arns(&[a]))),
        vec![b.to_string()]
    );
    assert_eq!(
        added_permission_set_arns(&arns(&[a]), None),
        vec![a.to_string()]
    );
    assert_eq!(
        instance_arn_of(b).as_deref(),
        Some("arn:aws-us-gov:sso:::instance/ssoins-bbbb")
    );
    let config = GroupAssignmentModel {
        instance_arn: "arn:aws:sso:::instance/ssoins-aaaa".into(),
        ..arns(&[a])
    };
    assert!(check_instance_matches(&config, &[a.to_string()]).is_ok());
    let errors = check_instance_matches(&config, &[b.to_string()]).unwrap_err();
    assert_eq!(
        errors.iter().next().unwrap().path,
        Some(AttributePath::new("permission_set_arns"))
    );
    // Without instance_arn the instance comes from the ARNs themselves.
    assert!(check_instance_matches(&arns(&[a]), &[b.to_string()]).is_ok());
}

#[test]
fn desired_targets_are_the_product_of_both_sets() {
    let model = GroupAssignmentModel {
        permission_set_arns: strings(&[ARN, "arn:aws:sso:::permissionSet/ssoins-1/ps-2"]),
        account_ids: strings(&["111111111111", "222222222222", "333333333333"]),
        ..Default::default()
    };
    let targets = model.desired_targets().unwrap();
    assert_eq!(targets.len(), 6);
    assert!(targets.contains(&AssignmentTarget::new(ARN, "222222222222")));
    let unknown = GroupAssignmentModel {
        account_ids: Attr::unknown(),
        ..model.clone()
    };
    assert_eq!(unknown.desired_targets(), None);
    let partly = GroupAssignmentModel {
        account_ids: Attr::Known(Set(vec![Attr::unknown()])),
        ..model
    };
    assert_eq!(partly.desired_targets(), None);
}

#[test]
fn import_ids_are_two_object_ids() {
    assert_eq!(
        parse_import_id(&format!("{APP}/{GROUP}")),
        Some((APP, GROUP))
    );
    assert_eq!(parse_import_id(APP), None);
    assert_eq!(parse_import_id(&format!("{APP}/not-a-guid")), None);
    assert_eq!(parse_import_id(&format!("{APP}/{GROUP}/x")), None);
}

#[tokio::test]
async fn plan_sets_defaults_id_and_the_planned_assignments() {
    let config = GroupAssignmentModel {
        application_id: APP.into(),
        entra_group_id: GROUP.into(),
        permission_set_arns: strings(&[ARN]),
        account_ids: strings(&["123456789012"]),
        ..Default::default()
    };
    let mut plan = PlanChange {
        config: config.encode(),
        prior: Value::Null,
        planned: GroupAssignmentModel {
            assignments: Attr::unknown(),
            ..config
        }
        .encode(),
        requires_replace: Vec::new(),
    };
    let ctx = Context::for_tests(TYPE_NAME, None);
    GroupAssignmentResource
        .modify_plan(&ctx, &mut plan)
        .await
        .unwrap();
    let planned = GroupAssignmentModel::decode(&plan.planned).unwrap();
    assert_eq!(planned.id.as_str(), Some(format!("{APP}/{GROUP}").as_str()));
    assert_eq!(planned.identity_store_match.as_str(), Some("display_name"));
    assert_eq!(planned.provision_on_demand.known(), Some(&true));
    assert_eq!(
        planned.assignments,
        Attr::Known([format!("123456789012/{ARN}")].into())
    );
}

#[tokio::test]
async fn plan_keeps_the_ids_of_what_exists_and_replans_what_read_found_gone() {
    let prior = GroupAssignmentModel {
        application_id: APP.into(),
        entra_group_id: GROUP.into(),
        permission_set_arns: strings(&[ARN]),
        account_ids: strings(&["123456789012"]),
        app_role_assignment_id: Attr::Null,
        identity_store_group_id: "g-1".into(),
        ..Default::default()
    };
    let mut plan = PlanChange {
        config: prior.encode(),
        prior: prior.encode(),
        planned: GroupAssignmentModel {
            app_role_assignment_id: Attr::unknown(),
            identity_store_group_id: Attr::unknown(),
            ..prior.clone()
        }
        .encode(),
        requires_replace: Vec::new(),
    };
    let ctx = Context::for_tests(TYPE_NAME, None);
    GroupAssignmentResource
        .modify_plan(&ctx, &mut plan)
        .await
        .unwrap();
    let planned = GroupAssignmentModel::decode(&plan.planned).unwrap();
    assert_eq!(planned.identity_store_group_id.as_str(), Some("g-1"));
    assert!(planned.app_role_assignment_id.is_unknown());
}

#[tokio::test]
async fn an_import_holds_the_two_ids_and_nothing_else() {
    let id = format!("{APP}/{GROUP}");
    let ctx = Context::for_tests(TYPE_NAME, None);
    let imported = GroupAssignmentResource
        .import_state(&ctx, &id)
        .await
        .unwrap();
    let state = GroupAssignmentModel::decode(&imported).unwrap();
    assert_eq!(state, GroupAssignmentModel::imported(&id, APP, GROUP));
    assert!(state.permission_set_arns.is_null() && state.desired_targets().is_none());
    let bad = GroupAssignmentResource
        .import_state(&ctx, APP)
        .await
        .unwrap_err();
    assert_eq!(bad.iter().next().unwrap().summary, "Invalid import ID");
}

#[test]
fn the_model_matches_the_schema() {
    assert_model_matches_schema::<GroupAssignmentModel>(&GroupAssignmentResource.schema());
}

#[test]
fn schema_is_consistent() {
    assert!(GroupAssignmentResource.schema().check(TYPE_NAME).is_empty());
}
