use super::model::RemoteTrust;
use super::*;
use crate::clients::graph::models::{Application, ServicePrincipal, WebApplication};
use crate::framework::model::assert_model_matches_schema;
use crate::saml::IdpFederationMetadata;

fn model_of(config: &Value) -> SamlTrustModel {
    SamlTrustModel::decode(config).expect("a configuration of the schema's attributes")
}

#[test]
fn explicit_urls_are_checked_and_pointed_at() {
    let mut diags = Diagnostics::new();
    let config = Value::object([
        (
            "entity_id",
            Value::from("https://eu-west-1.signin.aws.amazon.com/platform/saml/d-1234567890"),
        ),
        (
            "acs_url",
            Value::from("http://eu-west-1.signin.aws.amazon.com/platform/saml/acs/x"),
        ),
    ]);
    assert!(service_provider(&model_of(&config), &mut diags).is_none());
    let error = diags.iter().find(|d| d.is_error()).unwrap();
    assert_eq!(error.path, Some(AttributePath::new("acs_url")));

    let mut diags = Diagnostics::new();
    let config = Value::object([
        (
            "entity_id",
            Value::from("https://signin.aws.amazon.com/saml"),
        ),
        ("acs_url", Value::from("https://signin.aws.amazon.com/saml")),
    ]);
    assert!(service_provider(&model_of(&config), &mut diags).is_some());
    assert!(!diags.has_errors());
    assert!(
        diags
            .iter()
            .any(|d| d.summary == "Not an IAM Identity Center endpoint")
    );
}

#[test]
fn malformed_metadata_is_an_error_on_the_metadata_attribute() {
    let mut diags = Diagnostics::new();
    let config = Value::object([("aws_metadata_xml", Value::from("<not-metadata/>"))]);
    assert!(service_provider(&model_of(&config), &mut diags).is_none());
    let error = diags.iter().next().unwrap();
    assert!(error.is_error());
    assert_eq!(error.path, Some(AttributePath::new("aws_metadata_xml")));
}

#[test]
fn unknown_inputs_defer_validation() {
    let mut diags = Diagnostics::new();
    let config = Value::object([("aws_metadata_xml", Value::unknown())]);
    assert!(service_provider(&model_of(&config), &mut diags).is_none());
    assert!(diags.is_empty());
}

#[test]
fn the_model_declares_exactly_the_schema() {
    assert_model_matches_schema::<SamlTrustModel>(&schema::schema());
}

#[test]
fn an_imported_trust_reads_the_urls_from_the_application_and_gets_the_defaults() {
    let application = Application {
        id: "app".into(),
        app_id: "client".into(),
        identifier_uris: vec!["https://issuer".into()],
        web: Some(WebApplication {
            redirect_uris: Some(vec!["https://acs-1".into(), "https://acs-2".into()]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let sp = ServicePrincipal {
        id: "sp".into(),
        ..Default::default()
    };
    let metadata = IdpFederationMetadata {
        entity_id: "https://sts.windows.net/tenant/".into(),
        sso_url: "https://login.microsoftonline.com/tenant/saml2".into(),
        sso_endpoints: Vec::new(),
        slo_url: None,
        slo_endpoints: Vec::new(),
        signing_certificates: Vec::new(),
        nameid_formats: Vec::new(),
    };
    let remote = RemoteTrust {
        application: &application,
        service_principal: &sp,
        claims_policy: None,
        metadata_url: "https://metadata".into(),
        metadata_xml: "<EntityDescriptor/>".into(),
        metadata: &metadata,
    };
    let imported = SamlTrustModel {
        id: "app".into(),
        application_id: "app".into(),
        ..Default::default()
    };
    let state = imported.refreshed(&remote);
    assert_eq!(state.entity_id.as_str(), Some("https://issuer"));
    assert_eq!(state.acs_url.as_str(), Some("https://acs-1"));
    assert!(state.sign_on_url.is_null() && state.relay_state.is_null());
    assert!(state.additional_claims.is_null());
    assert_eq!(
        state.certificate_validity_days,
        Attr::Known(DEFAULT_VALIDITY_DAYS)
    );
    assert_eq!(
        state.rotate_before_days,
        Attr::Known(DEFAULT_ROTATE_BEFORE_DAYS)
    );
    assert_eq!(
        state.certificate_display_name.as_str(),
        Some(DEFAULT_CERTIFICATE_NAME)
    );
    assert_eq!(state.idp_metadata_xml.as_str(), Some("<EntityDescriptor/>"));
    assert_eq!(state.service_principal_id.as_str(), Some("sp"));

    // A configured reply URL that the application lists is kept, not replaced by the first one.
    let configured = SamlTrustModel {
        acs_url: "https://acs-2".into(),
        ..imported
    };
    assert_eq!(
        configured.refreshed(&remote).acs_url.as_str(),
        Some("https://acs-2")
    );
}

#[test]
fn outputs_still_unknown_after_apply_start_as_null() {
    let planned = SamlTrustModel {
        application_id: "app".into(),
        certificate_thumbprint: Attr::unknown(),
        idp_sso_url: Attr::unknown(),
        idp_entity_id: "kept".into(),
        ..Default::default()
    };
    let seed = planned.seed_for_refresh();
    assert_eq!(seed.id.as_str(), Some("app"));
    assert!(seed.certificate_thumbprint.is_null());
    assert!(seed.idp_sso_url.is_null());
    assert_eq!(seed.idp_entity_id.as_str(), Some("kept"));
}

#[test]
fn a_removed_certificate_and_an_unassigned_policy_are_planned_again() {
    let whole = SamlTrustModel {
        certificate_thumbprint: "AB".into(),
        claims_mapping_policy_id: "policy".into(),
        ..Default::default()
    };
    let mut planned = whole.clone();
    planned.plan_repairs(&whole);
    assert_eq!(planned, whole, "nothing missing, nothing planned");

    let broken = SamlTrustModel {
        certificate_thumbprint: Attr::Null,
        claims_mapping_policy_id: Attr::Null,
        ..Default::default()
    };
    let mut planned = broken.clone();
    planned.plan_repairs(&broken);
    assert!(planned.certificate_thumbprint.is_unknown());
    assert!(planned.idp_certificate_pem.is_unknown());
    assert!(planned.claims_mapping_policy_id.is_unknown());
}

#[test]
fn a_trust_adopted_without_a_claims_policy_keeps_entra_default_claims_until_a_claim_is_set() {
    let adopted = SamlTrustModel::default();
    let untouched = SamlTrustModel::default();
    assert!(adopted.adopted_with_default_claims(&untouched));
    let sets_nameid = SamlTrustModel {
        nameid_source: "user.mail".into(),
        ..Default::default()
    };
    assert!(!adopted.adopted_with_default_claims(&sets_nameid));
    let managed = SamlTrustModel {
        nameid_source: "user.userprincipalname".into(),
        ..Default::default()
    };
    // A trust that managed a policy and lost it is repaired, not left to the defaults.
    assert!(!managed.adopted_with_default_claims(&untouched));
}
