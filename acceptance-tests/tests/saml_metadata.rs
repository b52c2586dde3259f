//! `idbridge_aws_saml_metadata` and `provider::idbridge::parse_aws_saml_metadata` through real Terraform: the
//! happy path with a realistic IAM Identity Center file, and every kind of bad file failing with its own
//! diagnostic, pointed at the `xml` argument. No emulator and no credentials: parsing is offline.

use idbridge_acceptance::{Step, TestCase, checks};
use serde_json::Value;

const ENTITY_ID: &str = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-93677c1e5a";
const ACS_URL: &str = "https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/8c2d5f3e-1a4b-4c7d-9e0f-6b3a2d1c4e5f";
const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const DATA: &str = "data.idbridge_aws_saml_metadata.aws";

fn metadata_path() -> String {
    format!(
        "{}/testdata/aws_sso_metadata.xml",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn good_xml() -> String {
    std::fs::read_to_string(metadata_path()).expect("testdata/aws_sso_metadata.xml")
}

/// An HCL quoted string holding `text` verbatim.
fn hcl_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    // `${` and `%{` start templates in HCL strings; doubling the sigil escapes them.
    out.replace("${", "$${").replace("%{", "%%{") + "\""
}

fn data_source(xml: &str) -> String {
    format!(
        "data \"idbridge_aws_saml_metadata\" \"aws\" {{\n  xml = {}\n}}\n",
        hcl_string(xml)
    )
}

fn function_output(xml: &str) -> String {
    format!(
        "output \"parsed\" {{\n  value = provider::idbridge::parse_aws_saml_metadata({})\n}}\n",
        hcl_string(xml)
    )
}

/// A regex matching `text` literally, except that Terraform may wrap lines at any space.
fn loose(text: &str) -> String {
    regex::escape(text)
        .split(' ')
        .collect::<Vec<_>>()
        .join(r"\s+")
}

/// The four ways a file can be wrong, each with the words its diagnostic must contain.
fn bad_inputs() -> Vec<(&'static str, String, &'static str)> {
    let good = good_xml();
    let entity = good
        .lines()
        .filter(|line| !line.starts_with("<?xml"))
        .collect::<Vec<_>>()
        .join("\n");
    let second = entity.replace("d-93677c1e5a", "d-9067000000");
    vec![
        (
            "malformed XML",
            good.replace("</md:SPSSODescriptor>", ""),
            "not well-formed XML",
        ),
        (
            "no SPSSODescriptor",
            format!(
                "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"{ENTITY_ID}\">\
                 <md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\
                 <md:SingleSignOnService Binding=\"{POST}\" Location=\"https://login.example.com/saml2\"/>\
                 </md:IDPSSODescriptor></md:EntityDescriptor>"
            ),
            "no <SPSSODescriptor>",
        ),
        (
            "http ACS URL",
            good.replace(ACS_URL, &ACS_URL.replace("https://", "http://")),
            "only https:// is accepted",
        ),
        (
            "two EntityDescriptors",
            format!(
                "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">\n{entity}\n{second}\n\
                 </md:EntitiesDescriptor>"
            ),
            "describes 2 entities",
        ),
    ]
}

#[test]
fn saml_metadata_data_source_reads_a_realistic_file() {
    let config = format!(
        "provider \"idbridge\" {{}}\n\ndata \"idbridge_aws_saml_metadata\" \"aws\" {{\n  xml = file({})\n}}\n",
        hcl_string(&metadata_path())
    );
    TestCase::new(vec![
        Step::config(config)
            .check(checks::attr_equals(DATA, "entity_id", ENTITY_ID))
            .check(checks::attr_equals(DATA, "acs_url", ACS_URL))
            .check(checks::attr_equals(DATA, "acs_binding", POST))
            .check(checks::attr_equals(DATA, "nameid_format", EMAIL))
            .check(checks::attr_equals(DATA, "want_assertions_signed", "true"))
            .check(checks::attr_absent(DATA, "sign_on_url"))
            .check(checks::attr_equals(DATA, "acs_urls.#", "1"))
            .check(checks::attr_equals(DATA, "acs_urls.0.url", ACS_URL))
            .check(checks::attr_equals(DATA, "acs_urls.0.index", "0"))
            .check(checks::attr_equals(DATA, "acs_urls.0.is_default", "true")),
    ])
    .run();
}

/// No provider block at all, and the function's result used as a value.
#[test]
fn saml_metadata_function_returns_the_same_attributes() {
    let config = format!(
        "locals {{\n  aws = provider::idbridge::parse_aws_saml_metadata(file({}))\n}}\n\
         output \"entity_id\" {{\n  value = local.aws.entity_id\n}}\n\
         output \"parsed\" {{\n  value = local.aws\n}}\n",
        hcl_string(&metadata_path())
    );
    TestCase::new(vec![Step::config(config).check(|state| {
        let parsed = state.output("parsed").ok_or("output parsed missing")?;
        let expect = |key: &str, expected: Value| -> Result<(), String> {
            match parsed.get(key) {
                Some(actual) if *actual == expected => Ok(()),
                actual => Err(format!("parsed.{key}: expected {expected}, got {actual:?}")),
            }
        };
        expect("entity_id", ENTITY_ID.into())?;
        expect("acs_url", ACS_URL.into())?;
        expect("acs_binding", POST.into())?;
        expect("nameid_format", EMAIL.into())?;
        expect("want_assertions_signed", true.into())?;
        expect("sign_on_url", Value::Null)?;
        expect(
            "acs_urls",
            serde_json::json!([{"url": ACS_URL, "binding": POST, "index": 0, "is_default": true}]),
        )?;
        match state.output("entity_id") {
            Some(Value::String(id)) if id == ENTITY_ID => Ok(()),
            other => Err(format!("output entity_id: {other:?}").into()),
        }
    })])
    .run();
}

#[test]
fn saml_metadata_data_source_rejects_bad_files() {
    let steps = bad_inputs()
        .into_iter()
        .map(|(_, xml, expected)| {
            Step::config(data_source(&xml))
                .plan_only()
                .expect_error(&format!(
                    "(?s)Error: Invalid AWS SAML metadata.*{}",
                    loose(expected)
                ))
        })
        .collect();
    TestCase::new(steps).run();
}

#[test]
fn saml_metadata_function_rejects_bad_files() {
    let steps = bad_inputs()
        .into_iter()
        .map(|(_, xml, expected)| {
            Step::config(function_output(&xml))
                .plan_only()
                .expect_error(&format!(
                    "(?s)Error: Invalid function argument.*Invalid\\s+value\\s+for\\s+\"xml\"\\s+parameter:.*{}",
                    loose(expected)
                ))
        })
        .collect();
    TestCase::new(steps).run();
}

/// `terraform validate -json` on `config`, run from a pre hook (the harness writes the step's own config after
/// the hook, and the previous step already wrote versions.tf).
fn validate_json(ctx: &idbridge_acceptance::StepContext, config: &str) -> Result<Value, String> {
    std::fs::write(ctx.config_dir().join("main.tf"), config).map_err(|e| e.to_string())?;
    let output = ctx
        .terraform(&["validate", "-json", "-no-color"])
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&output.stdout).map_err(|e| format!("{e}: {}", output.stdout))
}

/// The report's diagnostics, without the warning every dev_overrides run carries.
fn diagnostics(report: &Value) -> Vec<Value> {
    let all = report["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    all.into_iter()
        .filter(|d| d["summary"] != "Provider development overrides are in effect")
        .collect()
}

/// Errors and warnings carry the attribute path, so Terraform underlines the `xml = ...` line; metadata of the
/// single-account IAM endpoint passes with a warning.
#[test]
fn saml_metadata_diagnostics_point_at_the_xml_argument() {
    let http_acs = bad_inputs()
        .into_iter()
        .find(|(case, _, _)| *case == "http ACS URL")
        .unwrap()
        .1;
    let iam = good_xml()
        .replace(ENTITY_ID, "https://signin.aws.amazon.com/saml")
        .replace(ACS_URL, "https://signin.aws.amazon.com/saml");
    let with_blank_lines = |xml: &str| {
        format!(
            "data \"idbridge_aws_saml_metadata\" \"aws\" {{\n\n\n  xml = {}\n}}\n",
            hcl_string(xml)
        )
    };
    let (bad_config, iam_config) = (with_blank_lines(&http_acs), with_blank_lines(&iam));
    TestCase::new(vec![
        Step::config(data_source(&good_xml())),
        Step::config(data_source(&good_xml())).pre(move |ctx| {
            let report = validate_json(ctx, &bad_config)?;
            let diags = diagnostics(&report);
            let [diag] = diags.as_slice() else {
                return Err(format!("one diagnostic expected: {report}").into());
            };
            if diag["severity"] != "error" || diag["summary"] != "Invalid AWS SAML metadata" {
                return Err(format!("unexpected diagnostic {diag}").into());
            }
            // Line 4 is `xml = ...`; a diagnostic without a path would point at the block header (line 1).
            if diag["range"]["start"]["line"] != 4 {
                return Err(format!("diagnostic not at the xml argument: {diag}").into());
            }

            let report = validate_json(ctx, &iam_config)?;
            let diags = diagnostics(&report);
            if report["valid"] != true || diags.len() != 2 {
                return Err(format!("two warnings and a valid config expected: {report}").into());
            }
            for diag in &diags {
                let detail = diag["detail"].as_str().unwrap_or_default();
                if diag["severity"] != "warning"
                    || diag["range"]["start"]["line"] != 4
                    || !detail.contains("single-account IAM SAML endpoint")
                {
                    return Err(format!("unexpected warning {diag}").into());
                }
            }
            Ok(())
        }),
    ])
    .run();
}
