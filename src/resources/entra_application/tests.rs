use super::model::{EntraApplicationModel, HIDE_APP_TAG, app_role_ids, service_principal_tags};
use super::validate::non_blank;
use super::*;
use crate::clients::graph::models::AppRole;
use crate::framework::model::assert_model_matches_schema;

fn role(value: &str, id: &str) -> AppRole {
    AppRole {
        id: id.into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

#[test]
fn gallery_roles_without_value_are_known_by_display_name() {
    let application = Application {
        app_roles: vec![AppRole {
            id: "m-1".into(),
            display_name: Some("msiam_access".into()),
            value: None,
            ..Default::default()
        }],
        ..Default::default()
    };
    assert_eq!(app_role_ids(&application)["msiam_access"], "m-1");
}

#[test]
fn hide_app_tag_is_added_and_removed_without_touching_other_tags() {
    let current = vec!["WindowsAzureActiveDirectoryIntegratedApp".to_string()];
    let hidden = service_principal_tags(&current, true);
    assert_eq!(
        hidden,
        ["WindowsAzureActiveDirectoryIntegratedApp", "HideApp"]
    );
    assert_eq!(service_principal_tags(&hidden, false), current);
    assert_eq!(
        service_principal_tags(&hidden, true),
        hidden,
        "no duplicate HideApp"
    );
}

#[test]
fn app_role_ids_keep_only_the_roles_assignments_use() {
    let application = Application {
        app_roles: vec![
            role("User", "u-1"),
            role("msiam_access", "m-1"),
            role("Other", "o-1"),
        ],
        ..Default::default()
    };
    let map = app_role_ids(&application);
    assert_eq!(map.len(), 2);
    assert_eq!(map["User"], "u-1");
    assert_eq!(map["msiam_access"], "m-1");
}

#[test]
fn unset_notes_and_tags_stay_null_when_remote_is_empty() {
    let application = Application {
        id: "app".into(),
        app_id: "client".into(),
        display_name: "AWS".into(),
        notes: Some(String::new()),
        ..Default::default()
    };
    let service_principal = ServicePrincipal {
        id: "sp".into(),
        tags: vec![HIDE_APP_TAG.into()],
        app_role_assignment_required: true,
        ..Default::default()
    };
    let prior = EntraApplicationModel::default();
    let state = prior.refreshed(Some("tenant"), &application, &service_principal, vec![]);
    assert!(state.notes.is_null());
    assert!(state.tags.is_null());
    assert_eq!(state.hide_from_my_apps, Attr::Known(true));
    assert_eq!(
        state.template_id.as_str(),
        Some(AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID)
    );

    let prior = EntraApplicationModel {
        notes: "x".into(),
        tags: Attr::Known(["a".to_string()].into()),
        ..Default::default()
    };
    let remote = Application {
        notes: Some("changed".into()),
        tags: vec!["b".into()],
        ..application
    };
    let state = prior.refreshed(None, &remote, &service_principal, vec!["o".into()]);
    assert_eq!(state.notes.as_str(), Some("changed"));
    assert_eq!(state.tags, Attr::Known(["b".to_string()].into()));
    assert_eq!(state.owners, Attr::Known(["o".to_string()].into()));
}

#[test]
fn blank_display_names_are_refused_at_plan_time() {
    let path = AttributePath::new("display_name");
    assert!(non_blank(&Value::from("  "), &path).has_errors());
    assert!(non_blank(&Value::from("x".repeat(257)), &path).has_errors());
    assert!(!non_blank(&Value::from("AWS IAM Identity Center"), &path).has_errors());
    assert!(!non_blank(&Value::unknown(), &path).has_errors());
}

#[test]
fn the_model_declares_exactly_the_schema() {
    assert_model_matches_schema::<EntraApplicationModel>(&schema::schema());
}
