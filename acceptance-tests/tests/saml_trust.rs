//! `idbridge_saml_trust` through real Terraform against the Graph emulator.

mod support;

use std::sync::{Arc, Mutex};

use idbridge_acceptance::{
    Plan, State, Step, TestCase, checks, pointed_error, skipped_without_tf_acc,
};
use serde_json::json;
use support::{Graph, a_plan_showed, exclusive, unique};

const TRUST: &str = "idbridge_saml_trust.aws";
const APP: &str = "idbridge_entra_application.aws";
const ENTITY_ID: &str = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-9067a1b2c3";
const ACS_URL: &str = "https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/0f6c1d2e-3a4b-4c5d-9e8f-7a6b5c4d3e2f";

fn testdata(name: &str) -> String {
    format!("{}/tests/testdata/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn config(name: &str, trust_body: &str) -> String {
    format!(
        r#"
resource "idbridge_entra_application" "aws" {{
  display_name = "{name}"
}}

resource "idbridge_saml_trust" "aws" {{
  application_id = idbridge_entra_application.aws.id
{trust_body}
}}
"#
    )
}

fn with_metadata(extra: &str) -> String {
    format!(
        "  aws_metadata_xml = file(\"{}\")\n{extra}",
        testdata("aws_sso_metadata.xml")
    )
}

fn attr(state: &State, address: &str, path: &str) -> Result<String, String> {
    let resource = state.require(address).map_err(|e| e.to_string())?;
    resource
        .attr(path)
        .map(str::to_string)
        .ok_or_else(|| format!("{address}.{path} is absent"))
}

/// The certificate in the emulator's federation metadata is the active one, and the outputs match it.
fn outputs_match_federation_metadata(state: &State) -> idbridge_acceptance::CheckResult {
    let graph = Graph::connect();
    let client_id = attr(state, APP, "client_id")?;
    let sp_id = attr(state, TRUST, "service_principal_id")?;
    let thumbprint = attr(state, TRUST, "certificate_thumbprint")?;
    let sp = graph
        .call("GET", &format!("/servicePrincipals/{sp_id}"), None)
        .body;
    if sp["preferredSingleSignOnMode"] != "saml" {
        return Err(format!("SSO mode is not saml: {}", sp["preferredSingleSignOnMode"]).into());
    }
    if !sp["preferredTokenSigningKeyThumbprint"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case(&thumbprint))
    {
        return Err(format!(
            "active thumbprint {} is not {thumbprint}",
            sp["preferredTokenSigningKeyThumbprint"]
        )
        .into());
    }
    let url = format!(
        "{}/{}/federationmetadata/2007-06/federationmetadata.xml?appid={client_id}",
        graph.endpoints.login_url, graph.endpoints.tenant_id
    );
    if attr(state, TRUST, "idp_metadata_url")? != url {
        return Err(format!("idp_metadata_url differs from {url}").into());
    }
    let metadata = support::http("GET", &url, &[], None).body;
    let metadata = metadata.as_str().ok_or("metadata is not text")?;
    let pem = attr(state, TRUST, "idp_certificate_pem")?;
    let base64: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    if !metadata.contains(&base64) {
        return Err(
            "the federation metadata does not carry the certificate in idp_certificate_pem".into(),
        );
    }
    let tenant = &graph.endpoints.tenant_id;
    if attr(state, TRUST, "idp_entity_id")? != format!("https://sts.windows.net/{tenant}/") {
        return Err("idp_entity_id is not Entra's issuer".into());
    }
    if attr(state, TRUST, "idp_sso_url")?
        != format!("https://login.microsoftonline.com/{tenant}/saml2")
    {
        return Err("idp_sso_url is not Entra's SAML endpoint".into());
    }
    let app_id = attr(state, APP, "id")?;
    let app = graph
        .call("GET", &format!("/applications/{app_id}"), None)
        .body;
    if app["identifierUris"] != json!([ENTITY_ID]) || app["web"]["redirectUris"] != json!([ACS_URL])
    {
        return Err(format!("identifier/reply URL not set: {app}").into());
    }
    Ok(())
}

fn claims_definition(state: &State) -> Result<String, String> {
    let policy = attr(state, TRUST, "claims_mapping_policy_id")?;
    let body = Graph::connect()
        .call(
            "GET",
            &format!("/policies/claimsMappingPolicies/{policy}"),
            None,
        )
        .body;
    Ok(body["definition"][0]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

#[test]
fn saml_trust_lifecycle() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let name = unique("acc-saml");
    let first = config(&name, &with_metadata(""));
    let second = config(
        &name,
        &with_metadata(
            r#"  relay_state = "https://console.aws.amazon.com/"
  additional_claims = {
    "https://aws.amazon.com/SAML/Attributes/SessionDuration" = "28800"
  }"#,
        ),
    );
    let sp_of_destroyed: Arc<Mutex<Option<String>>> = Arc::default();
    let remember = sp_of_destroyed.clone();
    let app_only = format!(
        "resource \"idbridge_entra_application\" \"aws\" {{\n  display_name = \"{name}\"\n}}\n"
    );
    // (identifierUris, web.redirectUris) of the gallery application before any trust.
    let urls_before: Arc<Mutex<serde_json::Value>> = Arc::default();
    let (record, compare) = (urls_before.clone(), urls_before);
    let urls_of = |state: &State| -> Result<serde_json::Value, idbridge_acceptance::CheckError> {
        let app_id = attr(state, APP, "id")?;
        let app = Graph::connect()
            .call("GET", &format!("/applications/{app_id}"), None)
            .body;
        Ok(json!([app["identifierUris"], app["web"]["redirectUris"]]))
    };
    TestCase::new(vec![
        Step::config(app_only.clone()).check(move |state| {
            *record.lock().unwrap() = urls_of(state)?;
            Ok(())
        }),
        Step::config(first)
            .check(checks::attr_equals(TRUST, "entity_id", ENTITY_ID))
            .check(checks::attr_equals(TRUST, "acs_url", ACS_URL))
            .check(checks::attr_equals(
                TRUST,
                "nameid_source",
                "user.userprincipalname",
            ))
            .check(checks::attr_equals(
                TRUST,
                "nameid_format",
                "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            ))
            .check(checks::attr_matches(
                TRUST,
                "certificate_thumbprint",
                "^[0-9A-Fa-f]{40}$",
            ))
            .check(checks::attr_matches(
                TRUST,
                "certificate_expires_at",
                r"^\d{4}-\d\d-\d\dT",
            ))
            .check(checks::attr_matches(
                TRUST,
                "idp_metadata_xml",
                "EntityDescriptor",
            ))
            .check(outputs_match_federation_metadata)
            .check(|state| {
                let definition = claims_definition(state)?;
                if definition.contains("userprincipalname") && definition.contains("emailAddress") {
                    Ok(())
                } else {
                    Err(format!("unexpected claims policy: {definition}").into())
                }
            }),
        // The metadata file cannot be recovered from Entra ID, and the metadata document has a fresh ID per fetch.
        Step::import(TRUST).ignore(["aws_metadata_xml", "idp_metadata_xml"]),
        // By the resource identity Terraform stored with the state (application_id), with the service provider
        // named by its URLs (what an import can read back) so the import block plans no change.
        Step::import(TRUST)
            .import_by_identity()
            .with_config(config(
                &name,
                &format!("  entity_id = \"{ENTITY_ID}\"\n  acs_url   = \"{ACS_URL}\""),
            ))
            .ignore(["aws_metadata_xml", "idp_metadata_xml"]),
        Step::config(second.clone())
            .plan_only()
            .expect_non_empty_plan()
            .plan_check(|plan: &Plan| {
                let change = plan.change(TRUST).ok_or("no change")?;
                if change.actions == ["update"] {
                    Ok(())
                } else {
                    Err(format!("expected update in place, got {:?}", change.actions).into())
                }
            }),
        Step::config(second)
            .check(checks::attr_equals(
                TRUST,
                "relay_state",
                "https://console.aws.amazon.com/",
            ))
            .check(move |state| {
                let definition = claims_definition(state)?;
                if !definition.contains("SessionDuration") || !definition.contains("28800") {
                    return Err(format!("claims not updated: {definition}").into());
                }
                let sp_id = attr(state, TRUST, "service_principal_id")?;
                let sp = Graph::connect()
                    .call("GET", &format!("/servicePrincipals/{sp_id}"), None)
                    .body;
                if sp["samlSingleSignOnSettings"]["relayState"] != "https://console.aws.amazon.com/"
                {
                    return Err(format!("relay state not set: {sp}").into());
                }
                *remember.lock().unwrap() = Some(sp_id);
                Ok(())
            }),
        // Destroying only the trust reverts the application, URLs included.
        Step::config(app_only).check(move |state| {
            let before = compare.lock().unwrap().clone();
            let after = urls_of(state)?;
            if after != before {
                return Err(format!("URLs not restored: before {before}, after {after}").into());
            }
            let sp_id = sp_of_destroyed.lock().unwrap().clone().ok_or("no sp id")?;
            let graph = Graph::connect();
            let sp = graph
                .call("GET", &format!("/servicePrincipals/{sp_id}"), None)
                .body;
            if !sp["preferredSingleSignOnMode"].is_null()
                || !sp["preferredTokenSigningKeyThumbprint"].is_null()
            {
                return Err(format!("SAML not reverted: {sp}").into());
            }
            let policies = graph
                .call(
                    "GET",
                    &format!("/servicePrincipals/{sp_id}/claimsMappingPolicies"),
                    None,
                )
                .body;
            if policies["value"].as_array().is_some_and(|p| !p.is_empty()) {
                return Err(format!("claims policy still assigned: {policies}").into());
            }
            let keys = graph
                .call(
                    "GET",
                    &format!("/servicePrincipals/{sp_id}?$select=keyCredentials"),
                    None,
                )
                .body;
            if keys["keyCredentials"]
                .as_array()
                .is_some_and(|k| !k.is_empty())
            {
                return Err(format!("signing certificate not removed: {keys}").into());
            }
            Ok(())
        }),
    ])
    .with_emulators()
    .run();
}

#[test]
fn saml_trust_drift_when_sso_mode_changes_outside() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let hcl = config(&unique("acc-saml-drift"), &with_metadata(""));
    TestCase::new(vec![
        Step::config(hcl.clone()),
        Step::config(hcl.clone())
            .plan_only()
            .pre(|ctx| {
                let state = ctx.state().map_err(|e| e.to_string())?;
                let sp_id = attr(&state, TRUST, "service_principal_id")?;
                let answer = Graph::connect().call(
                    "PATCH",
                    &format!("/servicePrincipals/{sp_id}"),
                    Some(json!({ "preferredSingleSignOnMode": "password" })),
                );
                if answer.status != 204 {
                    return Err(format!("out-of-band PATCH answered {}", answer.status).into());
                }
                Ok(())
            })
            .expect_non_empty_plan()
            .plan_check(|plan| {
                let change = plan.change(TRUST).ok_or("no change planned")?;
                if change.actions == ["create"] {
                    Ok(())
                } else {
                    Err(format!(
                        "expected the trust to be configured again, got {:?}",
                        change.actions
                    )
                    .into())
                }
            }),
        // Applying restores SAML (the claims policy is reused, not duplicated).
        Step::config(hcl).check(outputs_match_federation_metadata),
    ])
    .with_emulators()
    .run();
}

#[test]
fn saml_trust_bad_inputs_fail_at_plan_and_create_nothing() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let name = unique("acc-saml-bad");
    let malformed = config(
        &name,
        "  aws_metadata_xml = \"<EntityDescriptor>not metadata\"",
    );
    let http_acs = config(
        &name,
        &format!(
            "  entity_id = \"{ENTITY_ID}\"\n  acs_url   = \"http://eu-west-1.signin.aws.amazon.com/platform/saml/acs/x\""
        ),
    );
    let http_in_file = config(
        &name,
        &format!(
            "  aws_metadata_xml = file(\"{}\")",
            testdata("aws_sso_metadata_http_acs.xml")
        ),
    );
    TestCase::new(vec![
        Step::config(malformed)
            .expect_error(&format!(
                "{}.*not well-formed XML",
                pointed_error("Invalid AWS SAML metadata", "aws_metadata_xml")
            ))
            .check(checks::no_resources),
        Step::config(http_acs)
            .expect_error(&format!(
                "{}.*only https",
                pointed_error("Invalid Assertion Consumer Service URL", "acs_url")
            ))
            .check(checks::no_resources),
        Step::config(http_in_file)
            .expect_error(&format!(
                "{}.*https",
                pointed_error("Invalid AWS SAML metadata", "aws_metadata_xml")
            ))
            .check(checks::no_resources),
    ])
    .with_emulators()
    .check_destroy(
        move |_| match Graph::connect().applications_named(&name).as_slice() {
            [] => Ok(()),
            other => Err(format!("nothing should have been created: {other:?}").into()),
        },
    )
    .run();
}

#[test]
fn saml_trust_rotates_a_certificate_close_to_expiry() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let name = unique("acc-saml-rotate");
    let short = config(
        &name,
        &with_metadata("  certificate_validity_days = 10\n  rotate_before_days = 5"),
    );
    let rotating = config(
        &name,
        &with_metadata("  certificate_validity_days = 400\n  rotate_before_days = 30"),
    );
    let first_thumbprint: Arc<Mutex<String>> = Arc::default();
    let remember = first_thumbprint.clone();
    TestCase::new(vec![
        Step::config(short).check(move |state| {
            *remember.lock().unwrap() = attr(state, TRUST, "certificate_thumbprint")?;
            Ok(())
        }),
        Step::config(rotating.clone())
            .plan_only()
            .expect_non_empty_plan()
            .plan_check(|plan| {
                let change = plan.change(TRUST).ok_or("no change")?;
                if change.actions != ["update"] {
                    return Err(format!("expected update, got {:?}", change.actions).into());
                }
                let unknown = plan.json()["resource_changes"]
                    .as_array()
                    .and_then(|changes| changes.iter().find(|c| c["address"] == TRUST))
                    .map(|c| c["change"]["after_unknown"].clone())
                    .unwrap_or_default();
                for name in [
                    "certificate_thumbprint",
                    "certificate_expires_at",
                    "idp_certificate_pem",
                    "idp_metadata_xml",
                ] {
                    if unknown[name] != true {
                        return Err(format!("{name} is not planned to change: {unknown}").into());
                    }
                }
                Ok(())
            }),
        Step::config(rotating.clone())
            .check(outputs_match_federation_metadata)
            .check(move |state| {
                let new = attr(state, TRUST, "certificate_thumbprint")?;
                let old = first_thumbprint.lock().unwrap().clone();
                if new.eq_ignore_ascii_case(&old) {
                    return Err("the certificate was not rotated".into());
                }
                let sp_id = attr(state, TRUST, "service_principal_id")?;
                let keys = Graph::connect()
                    .call(
                        "GET",
                        &format!("/servicePrincipals/{sp_id}?$select=keyCredentials"),
                        None,
                    )
                    .body;
                let count = keys["keyCredentials"].as_array().map(Vec::len).unwrap_or(0);
                if count != 2 {
                    return Err(format!(
                        "expected only the new Sign+Verify keys, found {count}: {keys}"
                    )
                    .into());
                }
                Ok(())
            }),
        // The rotation plan warned that the new metadata must be uploaded to AWS (JSON diagnostics in its output).
        Step::config(rotating).plan_only().pre(|ctx| {
            let texts = [
                "SAML signing certificate will be rotated",
                "uploaded in IAM Identity Center",
            ];
            if a_plan_showed(ctx.work_dir(), &texts)? {
                Ok(())
            } else {
                Err("no plan showed the rotation warning".into())
            }
        }),
    ])
    .with_emulators()
    .run();
}

/// What docs/resources/saml_trust.md says about importing a trust configured from the metadata file: Entra ID
/// cannot give the file back, so the first plan after the import is an in-place update that only sets
/// `aws_metadata_xml`, and the plans after applying it are empty.
#[test]
fn after_import_a_metadata_file_configuration_plans_one_update_of_aws_metadata_xml() {
    let _serial = exclusive();
    let hcl = config(&unique("acc-saml-import"), &with_metadata(""));
    TestCase::new(vec![
        Step::config(hcl.clone()),
        Step::config(hcl.clone())
            .pre(|ctx| {
                let id = attr(&ctx.state()?, TRUST, "id")?;
                ctx.terraform(&["state", "rm", TRUST])?;
                ctx.terraform(&["import", "-input=false", TRUST, &id])?;
                Ok(())
            })
            .plan_only()
            .expect_non_empty_plan()
            .plan_check(|plan: &Plan| {
                let change = plan.change(TRUST).ok_or("no change for the trust")?;
                if change.actions != ["update"] {
                    return Err(
                        format!("expected an update in place, got {:?}", change.actions).into(),
                    );
                }
                let before = change.before.as_object().ok_or("no prior state")?;
                let after = change.after.as_object().ok_or("no planned state")?;
                let changed: Vec<&String> = after
                    .iter()
                    .filter(|(key, value)| before.get(*key) != Some(*value))
                    .map(|(key, _)| key)
                    .collect();
                if changed != ["aws_metadata_xml"] {
                    return Err(format!(
                        "expected only aws_metadata_xml to change, got {changed:?}"
                    )
                    .into());
                }
                Ok(())
            }),
        // Applying it leaves empty plans behind (the harness checks both refresh modes).
        Step::config(hcl),
    ])
    .with_emulators()
    .run();
}

/// docs/resources/saml_trust.md, Destroy: "for an imported trust the identifier is cleared and the reply URL left".
/// The update after the import must not record the trust's own URLs as the ones to restore, or destroy would put
/// the AWS identifier back instead of clearing it.
#[test]
fn destroying_an_imported_and_updated_trust_clears_the_identifier_and_leaves_the_reply_url() {
    let _serial = exclusive();
    let name = unique("acc-saml-import-destroy");
    let hcl = config(&name, &with_metadata(""));
    let app_only = format!(
        "resource \"idbridge_entra_application\" \"aws\" {{\n  display_name = \"{name}\"\n}}\n"
    );
    TestCase::new(vec![
        Step::config(hcl.clone()),
        // The import, then an apply of the in-place update it plans (it sets `aws_metadata_xml`).
        Step::config(hcl).pre(|ctx| {
            let id = attr(&ctx.state()?, TRUST, "id")?;
            ctx.terraform(&["state", "rm", TRUST])?;
            ctx.terraform(&["import", "-input=false", TRUST, &id])?;
            Ok(())
        }),
        Step::config(app_only).check(|state| {
            let app_id = attr(state, APP, "id")?;
            let app = Graph::connect()
                .call("GET", &format!("/applications/{app_id}"), None)
                .body;
            if app["identifierUris"] != json!([]) {
                return Err(format!(
                    "identifier not cleared after destroying an imported trust: {}",
                    app["identifierUris"]
                )
                .into());
            }
            if app["web"]["redirectUris"] != json!([ACS_URL]) {
                return Err(format!(
                    "reply URL not left as the trust set it: {}",
                    app["web"]["redirectUris"]
                )
                .into());
            }
            Ok(())
        }),
    ])
    .with_emulators()
    .run();
}
