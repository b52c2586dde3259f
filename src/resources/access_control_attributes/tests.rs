use super::model::AttributeModel;
use super::validate::{unique_keys, validate_key, validate_source};
use super::*;
use crate::clients::aws::AccessControlAttribute;
use crate::framework::Attr;
use crate::framework::model::assert_model_matches_schema;

#[test]
fn the_model_declares_exactly_the_schema() {
    assert_model_matches_schema::<AccessControlAttributesModel>(&schema::schema());
}

#[test]
fn keys_follow_the_api_reference() {
    let path = AttributePath::new("key");
    for good in [
        "CostCenter",
        "cost center",
        "a.b:c/d=e+f-g@h_i",
        "Abteilung",
    ] {
        assert!(validate_key(&Value::from(good), &path).is_empty(), "{good}");
    }
    for bad in ["", "cost,center", "tag*", &"k".repeat(129)] {
        let errors = validate_key(&Value::from(bad), &path);
        assert!(errors.has_errors(), "{bad:?}");
        assert_eq!(errors.iter().next().unwrap().path, Some(path.clone()));
    }
    assert!(validate_key(&Value::unknown(), &path).is_empty());
}

#[test]
fn a_source_is_exactly_one_path() {
    let path = AttributePath::new("source");
    let list = |items: &[&str]| Value::list(items.iter().map(|s| Value::from(*s)));
    assert!(validate_source(&list(&["${path:enterprise.costCenter}"]), &path).is_empty());
    assert!(validate_source(&list(&[]), &path).has_errors());
    assert!(validate_source(&list(&["${path:a}", "${path:b}"]), &path).has_errors());
    assert!(validate_source(&list(&[&"x".repeat(257)]), &path).has_errors());
}

#[test]
fn duplicate_keys_are_refused() {
    let attribute = |key: &str| AttributeModel {
        key: key.into(),
        source: Attr::Known(vec!["${path:name.givenName}".into()]),
    };
    assert!(unique_keys(&[attribute("a"), attribute("b")]).is_empty());
    assert!(unique_keys(&[attribute("a"), attribute("a")]).has_errors());
}

#[test]
fn the_state_lists_what_aws_holds_sorted_by_key() {
    let remote = AccessControlConfiguration {
        attributes: vec![
            AccessControlAttribute {
                key: "z".into(),
                sources: vec!["${path:name.familyName}".into()],
            },
            AccessControlAttribute {
                key: "a".into(),
                sources: vec!["${path:enterprise.costCenter}".into()],
            },
        ],
        status: Some("ENABLED".into()),
        status_reason: None,
    };
    let state = AccessControlAttributesModel::default()
        .refreshed("arn:aws:sso:::instance/ssoins-1", &remote);
    assert_eq!(state.id.as_str(), Some("arn:aws:sso:::instance/ssoins-1"));
    assert_eq!(state.status.as_str(), Some("ENABLED"));
    let keys: Vec<_> = state
        .attribute
        .0
        .iter()
        .map(|a| a.key.as_str().unwrap())
        .collect();
    assert_eq!(keys, ["a", "z"]);
    assert_eq!(state.desired(), {
        let mut sorted = remote.attributes.clone();
        sorted.sort();
        sorted
    });
}
