use std::collections::{BTreeMap, BTreeSet};

use super::model::SignInPreviewModel as Preview;
use super::*;
use crate::framework::model::assert_model_matches_schema;
use crate::services::sign_in::SignInPreview;

const APP: &str = "11111111-2222-3333-4444-555555555555";

#[test]
fn the_model_has_exactly_the_schema_attributes() {
    assert_model_matches_schema::<Preview>(&schema::schema());
    assert!(SignInPreviewDataSource.schema().check(TYPE_NAME).is_empty());
}

#[test]
fn exactly_one_user_selector_is_required() {
    let config = |fields: Vec<(&str, Value)>| Preview::decode(&Value::object(fields)).unwrap();
    let by_upn = config(vec![("user_principal_name", Value::from("a@b.example"))]);
    assert!(check_user_selector(&by_upn).is_ok());
    let both = config(vec![
        ("user_principal_name", Value::from("a@b.example")),
        ("user_id", Value::from(APP)),
    ]);
    let conflict = check_user_selector(&both).unwrap_err();
    assert_eq!(conflict.path, Some(AttributePath::new("user_id")));
    assert_eq!(
        check_user_selector(&config(vec![])).unwrap_err().summary,
        "Missing user"
    );
    let unknown = config(vec![("user_id", Value::unknown())]);
    assert!(check_user_selector(&unknown).is_ok());
}

#[test]
fn the_result_is_the_preview_with_an_id_of_application_and_user() {
    let config = Preview {
        application_id: APP.into(),
        user_principal_name: "alice@contoso.example".into(),
        ..Preview::default()
    };
    let preview = SignInPreview {
        user_id: "u-1".into(),
        user_principal_name: Some("alice@contoso.example".into()),
        instance_arn: "arn:aws:sso:::instance/ssoins-1".into(),
        name_id: Some("alice@contoso.example".into()),
        claims: BTreeMap::from([("c".to_string(), "v".to_string())]),
        identity_store_user_id: Some("is-1".into()),
        groups: BTreeSet::from(["AWS-Developers".to_string()]),
        access: BTreeSet::from([
            "111111111111/arn:aws:sso:::permissionSet/ssoins-1/ps-1".to_string()
        ]),
        problems: Vec::new(),
    };
    let result = config.with_preview(preview);
    assert_eq!(result.id.as_str(), Some(format!("{APP}/u-1").as_str()));
    assert_eq!(result.user_id.as_str(), Some("u-1"));
    assert_eq!(result.identity_store_user_id.as_str(), Some("is-1"));
    assert_eq!(result.problems.known().map(Vec::len), Some(0));
    assert!(result.timeouts.is_null());
    // A user SCIM has not provisioned has a null identity store user and empty sets, never unknowns.
    let unprovisioned = Preview::default().with_preview(SignInPreview::default());
    assert!(unprovisioned.identity_store_user_id.is_null());
    assert_eq!(unprovisioned.access.known().map(BTreeSet::len), Some(0));
}
