use super::*;
use crate::framework::model::{Attr, Set, assert_model_matches_schema};
use crate::framework::{AttributePath, PlanChange};
use crate::services::identity_store::IdentityStoreMatch;
use crate::services::principal_access::PrincipalAccessModel;
use model::parse_match;

const ARN: &str = "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0123456789abcdef";
const APP: &str = "11111111-2222-3333-4444-555555555555";
const USER: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

fn strings(items: &[&str]) -> Attr<Set<Attr<String>>> {
    Attr::from_known(items.iter().map(|item| item.to_string()))
}

#[test]
fn the_model_matches_the_schema() {
    assert_model_matches_schema::<UserAssignmentModel>(&UserAssignmentResource.schema());
    assert!(UserAssignmentResource.schema().check(TYPE_NAME).is_empty());
}

#[test]
fn users_match_by_user_name_or_external_id() {
    assert_eq!(
        parse_match("user_name"),
        Some(IdentityStoreMatch::DisplayName)
    );
    assert_eq!(
        parse_match("external_id"),
        Some(IdentityStoreMatch::ExternalId)
    );
    assert_eq!(parse_match("display_name"), None);
    let diags = validate::validate_match(
        &Value::from("display_name"),
        &AttributePath::new("identity_store_match"),
    );
    assert_eq!(diags.len(), 1);
}

#[test]
fn the_principal_is_a_user() {
    let model = UserAssignmentModel {
        entra_user_id: USER.into(),
        ..Default::default()
    };
    let principal = model.principal().unwrap();
    assert_eq!(principal.noun(), "user");
    assert_eq!(principal.object_type_name(), "User");
    assert_eq!(principal.path(), AttributePath::new("entra_user_id"));
}

#[tokio::test]
async fn plan_sets_defaults_id_and_the_planned_assignments() {
    let config = UserAssignmentModel {
        application_id: APP.into(),
        entra_user_id: USER.into(),
        permission_set_arns: strings(&[ARN]),
        account_ids: strings(&["123456789012"]),
        ..Default::default()
    };
    let mut plan = PlanChange {
        config: config.encode(),
        prior: Value::Null,
        planned: UserAssignmentModel {
            assignments: Attr::unknown(),
            target_account_ids: Attr::unknown(),
            ..config
        }
        .encode(),
        requires_replace: Vec::new(),
    };
    let ctx = Context::for_tests(TYPE_NAME, None);
    UserAssignmentResource
        .modify_plan(&ctx, &mut plan)
        .await
        .unwrap();
    let planned = UserAssignmentModel::decode(&plan.planned).unwrap();
    assert_eq!(planned.id.as_str(), Some(format!("{APP}/{USER}").as_str()));
    assert_eq!(planned.identity_store_match.as_str(), Some("user_name"));
    assert_eq!(
        planned.target_account_ids,
        Attr::Known(["123456789012".to_string()].into())
    );
    assert_eq!(
        planned.assignments,
        Attr::Known([format!("123456789012/{ARN}")].into())
    );
}

#[tokio::test]
async fn a_plan_without_any_target_is_an_error_at_account_ids() {
    let config = UserAssignmentModel {
        application_id: APP.into(),
        entra_user_id: USER.into(),
        permission_set_arns: strings(&[ARN]),
        ..Default::default()
    };
    let mut plan = PlanChange {
        config: config.encode(),
        prior: Value::Null,
        planned: config.encode(),
        requires_replace: Vec::new(),
    };
    let ctx = Context::for_tests(TYPE_NAME, None);
    let errors = UserAssignmentResource
        .modify_plan(&ctx, &mut plan)
        .await
        .unwrap_err();
    let error = errors.iter().next().unwrap();
    assert_eq!(error.summary, "No target accounts");
    assert_eq!(error.path, Some(AttributePath::new("account_ids")));
}

#[tokio::test]
async fn an_import_holds_the_two_ids_and_nothing_else() {
    let id = format!("{APP}/{USER}");
    let ctx = Context::for_tests(TYPE_NAME, None);
    let imported = UserAssignmentResource
        .import_state(&ctx, &id)
        .await
        .unwrap();
    let state = UserAssignmentModel::decode(&imported).unwrap();
    assert_eq!(state, UserAssignmentModel::imported(&id, APP, USER));
    assert!(state.desired_targets().is_none());
    assert!(
        UserAssignmentResource
            .import_state(&ctx, APP)
            .await
            .is_err()
    );
}
