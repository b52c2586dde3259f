use super::model::*;
use super::validate::*;
use super::*;
use crate::clients::graph::models::{
    SynchronizationJob, SynchronizationSchedule, SynchronizationStatus, SynchronizationTemplate,
};
use crate::helpers::validate_object_id;
use crate::services::scim_endpoint::*;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn path() -> AttributePath {
    AttributePath::new("x")
}

#[test]
fn scim_endpoint_shape_is_checked() {
    for good in [
        "https://scim.us-east-1.amazonaws.com/abcd1234-ef56-7890-abcd-1234567890ab/scim/v2/",
        "https://scim.eu-central-2.amazonaws.com/Xyz_09/scim/v2",
        "https://scim.us-gov-west-1.amazonaws.com/t1/scim/v2/",
        "https://scim.cn-north-1.amazonaws.com.cn/t1/scim/v2/",
        "http://127.0.0.1:4567/tenant/scim/v2/",
        "https://localhost/whatever",
        "http://[::1]:80/t/scim/v2/",
    ] {
        assert_eq!(check_scim_endpoint(good), Ok(()), "{good}");
    }
    for (bad, why) in [
        (
            "http://scim.us-east-1.amazonaws.com/t/scim/v2/",
            "not an https URL",
        ),
        (
            "https://scim.amazonaws.com/t/scim/v2/",
            "is not scim.<region>",
        ),
        ("https://example.com/t/scim/v2/", "is not scim.<region>"),
        (
            "https://scim.us-east-1.amazonaws.com/scim/v2/",
            "is not /<tenant>/scim/v2/",
        ),
        (
            "https://scim.us-east-1.amazonaws.com/t/scim/v1/",
            "is not /<tenant>/scim/v2/",
        ),
        (
            "https://scim.us-east-1.amazonaws.com:8443/t/scim/v2/",
            "port",
        ),
        (
            "https://scim.us-east-1.amazonaws.com/t/scim/v2/?x=1",
            "query",
        ),
        ("ftp://127.0.0.1/t/scim/v2/", "scheme"),
        ("not a url", "is not a URL"),
    ] {
        let err = check_scim_endpoint(bad).unwrap_err();
        assert!(err.contains(why), "{bad}: {err}");
    }
    let diags = validate_scim_endpoint(&Value::from("https://example.com/"), &path());
    let d = diags.iter().next().unwrap();
    assert_eq!(d.summary, "Invalid SCIM endpoint");
    assert!(
        d.detail
            .contains("https://scim.<region>.amazonaws.com/<tenant>/scim/v2/")
    );
    assert!(validate_scim_endpoint(&Value::unknown(), &path()).is_empty());
}

#[test]
fn token_expiry_warns_within_30_days_and_fails_once_passed() {
    let now = OffsetDateTime::parse("2026-06-01T00:00:00Z", &Rfc3339).unwrap();
    let expired = token_expiry_diagnostics("2026-05-31T23:59:59Z", now, &path());
    assert!(expired.has_errors());
    assert_eq!(
        expired.iter().next().unwrap().summary,
        "SCIM access token expired"
    );
    let soon = token_expiry_diagnostics("2026-06-20T00:00:00+02:00", now, &path());
    assert!(!soon.has_errors());
    let warning = soon.iter().next().unwrap();
    assert_eq!(warning.summary, "SCIM access token expires soon");
    assert!(warning.detail.contains("in 18 days"), "{}", warning.detail);
    assert!(token_expiry_diagnostics("2026-07-02T00:00:00Z", now, &path()).is_empty());
    let invalid = token_expiry_diagnostics("2026-07-02", now, &path());
    assert_eq!(
        invalid.iter().next().unwrap().summary,
        "Invalid token expiry"
    );
}

#[test]
fn object_ids_and_scopes_are_validated() {
    assert!(is_object_id("0b5e8a4c-3d1f-4f7a-b2c9-8e6d4a1f2c3b"));
    assert!(!is_object_id("0b5e8a4c-3d1f-4f7a-b2c9-8e6d4a1f2c3"));
    assert!(!is_object_id("../applications"));
    assert!(validate_object_id(&Value::from("nope"), &path(), "application id").has_errors());
    assert!(validate_scope(&Value::from("all"), &path()).is_empty());
    assert!(validate_scope(&Value::from("assigned"), &path()).is_empty());
    assert!(validate_scope(&Value::from("everyone"), &path()).has_errors());
}

fn template(id: &str, factory_tag: Option<&str>) -> SynchronizationTemplate {
    SynchronizationTemplate {
        id: id.into(),
        factory_tag: factory_tag.map(Into::into),
        ..Default::default()
    }
}

#[test]
fn the_aws_template_is_discovered_or_the_error_lists_what_was_found() {
    let templates = [
        template("other", Some("salesforce")),
        template("x1", Some("awssinglesignon")),
    ];
    assert_eq!(pick_aws_template(&templates).unwrap().id, "x1");
    let by_name = [
        template("gsuite", None),
        template("AwsIdentityCenterV2", None),
    ];
    assert_eq!(
        pick_aws_template(&by_name).unwrap().id,
        "AwsIdentityCenterV2"
    );
    let err = pick_aws_template(&[template("gsuite", Some("gsuite"))]).unwrap_err();
    assert!(
        err.detail.contains("gsuite (factoryTag gsuite)"),
        "{}",
        err.detail
    );
    let err = pick_aws_template(&[]).unwrap_err();
    assert!(err.detail.contains("Templates found: none"));
    let ambiguous = [template("aws1", None), template("aws2", None)];
    assert!(pick_aws_template(&ambiguous).is_err());
}

fn job(schedule: Option<&str>, code: Option<&str>) -> SynchronizationJob {
    SynchronizationJob {
        id: "aWSSingleSignon.tenant.1".into(),
        template_id: Some("aWSSingleSignon".into()),
        schedule: schedule.map(|state| SynchronizationSchedule {
            state: Some(state.into()),
            ..Default::default()
        }),
        status: Some(SynchronizationStatus {
            code: code.map(Into::into),
            ..Default::default()
        }),
    }
}

#[test]
fn a_job_runs_only_when_active_and_not_quarantined() {
    assert!(job_is_running(&job(Some("Active"), Some("Active"))));
    assert!(job_is_running(&job(Some("Active"), Some("NotRun"))));
    assert!(!job_is_running(&job(Some("Paused"), Some("Paused"))));
    assert!(!job_is_running(&job(Some("Disabled"), Some("NotRun"))));
    assert!(!job_is_running(&job(Some("Active"), Some("Quarantine"))));
    assert!(job_is_running(&job(None, Some("Active"))));
}

#[test]
fn import_picks_the_aws_job() {
    let mut other = job(None, None);
    other.id = "salesforce.t.2".into();
    other.template_id = Some("salesforce".into());
    let aws = job(None, None);
    assert_eq!(
        pick_aws_job(vec![other.clone(), aws]).unwrap().id,
        "aWSSingleSignon.tenant.1"
    );
    assert_eq!(
        pick_aws_job(vec![other.clone()]).unwrap().id,
        "salesforce.t.2"
    );
    assert!(pick_aws_job(Vec::new()).is_none());
}

#[test]
fn job_status_fills_the_computed_attributes() {
    let job: SynchronizationJob = serde_json::from_value(json!({
        "id": "j",
        "status": {
            "code": "Quarantine",
            "countSuccessiveCompleteFailures": 3,
            "lastExecution": {"state": "Failed", "timeEnded": "2026-01-02T00:00:00Z"},
            "lastSuccessfulExecution": {"state": "Succeeded", "timeEnded": "2026-01-01T00:00:00Z"},
            "quarantine": {"reason": "EncounteredQuarantineException"}
        }
    }))
    .unwrap();
    let mut model = ScimProvisioningModel::default();
    model.set_job_status(&job);
    let state = model.encode();
    assert_eq!(state.get_str("status"), Some("Quarantine"));
    assert_eq!(state.get_str("last_execution_state"), Some("Failed"));
    assert_eq!(
        state.get_str("quarantine_reason"),
        Some("EncounteredQuarantineException")
    );
    assert_eq!(state.get_i64("error_count"), Some(3));
    assert_eq!(
        state.get_str("last_successful_execution_at"),
        Some("2026-01-01T00:00:00Z")
    );

    let fresh: SynchronizationJob = serde_json::from_value(
        json!({"id": "j", "status": {"code": "NotRun", "quarantine": null}}),
    )
    .unwrap();
    model.set_job_status(&fresh);
    let state = model.encode();
    assert!(state.get("quarantine_reason").is_null());
    assert!(state.get("last_successful_execution_at").is_null());
    assert_eq!(state.get_i64("error_count"), Some(0));
}

#[test]
fn masked_secrets_are_not_read_back() {
    let secrets = vec![
        SynchronizationSecret {
            key: "BaseAddress".into(),
            value: Some("https://e/".into()),
        },
        SynchronizationSecret {
            key: "SecretToken".into(),
            value: Some("********".into()),
        },
        SynchronizationSecret {
            key: "SyncAll".into(),
            value: Some(String::new()),
        },
    ];
    assert_eq!(readable_secret(&secrets, "BaseAddress"), Some("https://e/"));
    assert_eq!(readable_secret(&secrets, "SecretToken"), None);
    assert_eq!(readable_secret(&secrets, "SyncAll"), None);
    assert_eq!(readable_secret(&secrets, "Missing"), None);
}

fn config(token: Option<&str>) -> Value {
    Value::Null
        .with("application_id", "0b5e8a4c-3d1f-4f7a-b2c9-8e6d4a1f2c3b")
        .with("scim_endpoint", "http://127.0.0.1:1/t/scim/v2/")
        .with("scim_token_wo", token)
        .with("scim_token_wo_version", Value::Null)
        .with("enabled", Value::Null)
        .with("scope", Value::Null)
}

#[tokio::test]
async fn plan_sets_defaults_and_requires_the_token_when_secrets_are_sent() {
    let resource = ScimProvisioningResource;
    let ctx = Context::for_tests(TYPE_NAME, None);

    let mut create = PlanChange {
        config: config(Some("tok")),
        prior: Value::Null,
        planned: config(None)
            .with("enabled", Value::unknown())
            .with("scope", Value::unknown()),
        requires_replace: Vec::new(),
    };
    resource.modify_plan(&ctx, &mut create).await.unwrap();
    assert_eq!(create.planned.get_bool("enabled"), Some(true));
    assert_eq!(create.planned.get_str("scope"), Some("assigned"));
    assert_eq!(
        create.planned.get_str("id"),
        Some("0b5e8a4c-3d1f-4f7a-b2c9-8e6d4a1f2c3b")
    );

    let mut tokenless = create.clone();
    tokenless.config = config(None);
    let err = resource
        .modify_plan(&ctx, &mut tokenless)
        .await
        .unwrap_err();
    let d = err.iter().next().unwrap();
    assert_eq!(d.summary, "Missing SCIM access token");
    assert_eq!(d.path, Some(AttributePath::new("scim_token_wo")));

    // A job paused out of band reads as enabled = false; the default brings it back to true.
    let prior = config(None)
        .with("enabled", false)
        .with("scope", "assigned");
    let mut drift = PlanChange {
        config: config(None),
        prior: prior.clone(),
        planned: prior.clone(),
        requires_replace: Vec::new(),
    };
    resource.modify_plan(&ctx, &mut drift).await.unwrap();
    assert_eq!(drift.planned.get_bool("enabled"), Some(true));

    // Bumping the version without the token cannot re-send it.
    let mut bump = drift.clone();
    bump.config = config(None).with("scim_token_wo_version", 2);
    bump.planned = bump.planned.with("scim_token_wo_version", 2);
    assert!(resource.modify_plan(&ctx, &mut bump).await.is_err());
}

#[tokio::test]
async fn import_needs_an_object_id() {
    let resource = ScimProvisioningResource;
    let ctx = Context::for_tests(TYPE_NAME, None);
    let state = resource
        .import_state(&ctx, "0b5e8a4c-3d1f-4f7a-b2c9-8e6d4a1f2c3b")
        .await
        .unwrap();
    assert_eq!(
        state.get_str("application_id"),
        Some("0b5e8a4c-3d1f-4f7a-b2c9-8e6d4a1f2c3b")
    );
    assert!(state.get("scim_token_wo_version").is_null());
    let err = resource.import_state(&ctx, "my-app").await.unwrap_err();
    assert_eq!(err.iter().next().unwrap().summary, "Invalid import ID");
}

#[test]
fn the_token_is_redacted_in_debug_output() {
    let token = ScimToken::new("super-secret-token");
    assert!(!format!("{token:?}").contains("super-secret"));
}

/// A SCIM endpoint stand-in that accepts one token and one tenant.
async fn scim_stub() -> String {
    use axum::extract::Path as UrlPath;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/{tenant}/scim/v2/ServiceProviderConfig",
        get(
            |UrlPath(tenant): UrlPath<String>, headers: HeaderMap| async move {
                if tenant != "good-tenant" {
                    return (StatusCode::NOT_FOUND, "TENANT does not exist");
                }
                match headers.get("authorization").and_then(|v| v.to_str().ok()) {
                    Some("Bearer good-token") => (StatusCode::OK, "{}"),
                    _ => (StatusCode::UNAUTHORIZED, "unauthorized"),
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

#[tokio::test]
async fn preflight_reports_a_rejected_token_and_a_wrong_tenant_at_their_attributes() {
    let base = scim_stub().await;
    let good = format!("{base}/good-tenant/scim/v2/");
    preflight(&good, &ScimToken::new("good-token"))
        .await
        .unwrap();
    preflight(good.trim_end_matches('/'), &ScimToken::new("good-token"))
        .await
        .unwrap();

    let err = preflight(&good, &ScimToken::new("wrong-token-value"))
        .await
        .unwrap_err();
    let d = err.iter().next().unwrap();
    assert_eq!(d.summary, "SCIM access token rejected");
    assert!(
        d.detail.contains(
            "the SCIM access token was rejected: generate a new one in IAM Identity Center"
        ),
        "{}",
        d.detail
    );
    assert_eq!(d.path, Some(AttributePath::new("scim_token_wo")));
    assert!(!d.detail.contains("wrong-token-value"));

    let err = preflight(
        &format!("{base}/other/scim/v2/"),
        &ScimToken::new("good-token"),
    )
    .await
    .unwrap_err();
    let d = err.iter().next().unwrap();
    assert!(
        d.detail
            .contains("TENANT does not exist: the SCIM endpoint URL is wrong"),
        "{}",
        d.detail
    );
    assert_eq!(d.path, Some(AttributePath::new("scim_endpoint")));

    // Nothing listens on port 1.
    let err = preflight(
        "http://127.0.0.1:1/t/scim/v2/",
        &ScimToken::new("good-token"),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.iter().next().unwrap().summary,
        "SCIM endpoint unreachable"
    );
}

#[test]
fn other_answers_point_at_the_endpoint() {
    let err = preflight_verdict(500, "u").unwrap_err();
    let d = err.iter().next().unwrap();
    assert!(d.detail.contains("answered 500"));
    assert_eq!(d.path, Some(AttributePath::new("scim_endpoint")));
    assert!(preflight_verdict(204, "u").is_ok());
}

#[test]
fn the_model_declares_exactly_the_schema() {
    crate::framework::model::assert_model_matches_schema::<ScimProvisioningModel>(&schema::schema());
}

#[test]
fn the_status_outputs_are_unknown_when_an_apply_is_planned() {
    let mut planned = ScimProvisioningModel {
        status: "Paused".into(),
        error_count: 0.into(),
        last_successful_execution_at: "2026-01-01T00:00:00Z".into(),
        ..Default::default()
    };
    planned.status_changes_on_apply();
    assert!(planned.status.is_unknown());
    assert!(planned.error_count.is_unknown());
    assert!(planned.last_successful_execution_at.is_unknown());
}
