use super::model::IdentityStoreGroupModel as Group;
use super::validate::validate_wait_for;
use super::*;
use crate::clients::aws;
use crate::framework::model::assert_model_matches_schema;

/// The model of a configuration given as a value, as `validate_config` and `read` decode it.
fn config(value: Value) -> Group {
    Group::decode(&value).unwrap()
}

#[test]
fn the_model_has_exactly_the_schema_attributes() {
    assert_model_matches_schema::<Group>(&schema::schema());
    assert!(
        IdentityStoreGroupDataSource
            .schema()
            .check(TYPE_NAME)
            .is_empty()
    );
}

#[test]
fn the_result_is_the_group_found() {
    let selector = config(Value::object([("display_name", Value::from("admins"))]));
    let found = aws::Group {
        identity_store_id: "d-1".into(),
        group_id: "g-1".into(),
        display_name: Some("Admins".into()),
        description: None,
        external_ids: Vec::new(),
    };
    let result = selector.with_group(found);
    assert_eq!(result.id.as_str(), Some("g-1"));
    assert_eq!(result.group_id.as_str(), Some("g-1"));
    assert_eq!(result.identity_store_id.as_str(), Some("d-1"));
    assert_eq!(result.display_name.as_str(), Some("Admins"));
    assert!(result.description.is_null() && result.external_id.is_null());
}

#[test]
fn exactly_one_selector_is_required() {
    let by_name = config(Value::object([("display_name", Value::from("Admins"))]));
    assert_eq!(
        matcher(&by_name).unwrap(),
        Some(GroupMatcher::DisplayName("Admins".into()))
    );
    let by_external = config(Value::object([(
        "external_id",
        Value::object([
            ("issuer", Value::from("https://sts.windows.net/t/")),
            ("id", Value::from("abc")),
        ]),
    )]));
    assert_eq!(
        matcher(&by_external).unwrap(),
        Some(GroupMatcher::ExternalId {
            issuer: "https://sts.windows.net/t/".into(),
            id: "abc".into()
        })
    );
    let both = Group {
        external_id: by_external.external_id.clone(),
        ..by_name.clone()
    };
    assert_eq!(
        matcher(&both).unwrap_err().summary,
        "Conflicting group selectors"
    );
    assert_eq!(
        matcher(&config(Value::object([("display_name", Value::Null)])))
            .unwrap_err()
            .summary,
        "Missing group selector"
    );
    let unknown = config(Value::object([("display_name", Value::unknown())]));
    assert_eq!(matcher(&unknown).unwrap(), None);
}

#[test]
fn wait_for_is_a_duration_and_missing_groups_explain_what_to_do() {
    let path = AttributePath::new("wait_for");
    assert!(validate_wait_for(&Value::from("90s"), &path).is_empty());
    let diags = validate_wait_for(&Value::from("10 minutes"), &path);
    assert_eq!(diags.iter().next().unwrap().path, Some(path));
    let diagnostic = not_found("d-1", &GroupMatcher::DisplayName("Admins".into()));
    assert!(diagnostic.detail.contains("\"Admins\"") && diagnostic.detail.contains("wait_for"));
}
