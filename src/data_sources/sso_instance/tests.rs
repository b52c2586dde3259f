use super::model::SsoInstanceModel;
use super::*;
use crate::clients::aws::Instance;
use crate::framework::Attr;
use crate::framework::model::assert_model_matches_schema;

#[test]
fn the_model_has_exactly_the_schema_attributes() {
    assert_model_matches_schema::<SsoInstanceModel>(&schema::schema());
    assert!(SsoInstanceDataSource.schema().check(TYPE_NAME).is_empty());
}

#[test]
fn the_result_is_the_instance_found_and_keeps_the_timeouts() {
    let timeouts = Value::object([("read", Value::from("2m"))]);
    let config = SsoInstanceModel {
        timeouts: timeouts.clone(),
        ..SsoInstanceModel::default()
    };
    let instance = Instance {
        instance_arn: "arn:aws:sso:::instance/ssoins-1".into(),
        identity_store_id: "d-1".into(),
        name: None,
        owner_account_id: None,
        status: None,
    };
    let result = config.with_instance(instance, Some("eu-west-1".into()));
    assert_eq!(
        result,
        SsoInstanceModel {
            arn: Attr::from("arn:aws:sso:::instance/ssoins-1"),
            identity_store_id: Attr::from("d-1"),
            region: Attr::from("eu-west-1"),
            timeouts,
        }
    );
}
