//! Faults an operator meets, through real Terraform: throttling storms and dropped connections are waited out,
//! creating calls whose answer was lost are not repeated, the provider does not outlive a killed Terraform, and
//! SAML URLs and inline policies AWS would not accept are refused at plan.

mod support;

use std::time::{Duration, Instant};

use idbridge_acceptance::{
    Step, TestCase, checks, pointed_error, process_gone, skipped_without_tf_acc,
};
use serde_json::{Value, json};
use support::{Graph, endpoints, exclusive, unique};

const APP: &str = "idbridge_entra_application.aws";
const SCIM: &str = "idbridge_scim_provisioning.aws";

/// The gallery application with SCIM provisioning: `instantiate` and a job creation, the creating calls.
fn provisioned_app(name: &str) -> String {
    format!(
        r#"
variable "scim_endpoint" {{
  type = string
}}
variable "scim_token" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

resource "idbridge_entra_application" "aws" {{
  display_name = "{name}"
}}

resource "idbridge_scim_provisioning" "aws" {{
  application_id        = idbridge_entra_application.aws.id
  scim_endpoint         = var.scim_endpoint
  scim_token_wo         = var.scim_token
  scim_token_wo_version = 1
}}
"#
    )
}

fn with_scim_vars(step: Step) -> Step {
    let endpoints = endpoints();
    step.var("scim_endpoint", &endpoints.scim_endpoint)
        .var("scim_token", &endpoints.scim_token)
}

/// Removes every fault rule when dropped, also when a test panics, so that the next test (which may start as
/// soon as the serial lock is released) never runs under this one's faults. Declare it after the lock.
struct FaultsRemovedOnDrop;

impl Drop for FaultsRemovedOnDrop {
    fn drop(&mut self) {
        support::admin("DELETE", "/faults", None);
    }
}

fn add_faults(graph: &Graph, rules: &[Value]) {
    for rule in rules {
        let added = graph.admin("POST", "/faults", Some(rule.clone()));
        assert_eq!(added.status, 201, "fault {rule}: {}", added.body);
    }
}

/// Exactly one application named `name` and one provisioning job on its service principal.
fn exactly_one_app_and_job(name: &str) -> idbridge_acceptance::CheckResult {
    let graph = Graph::connect();
    let apps = graph.applications_named(name);
    if apps.len() != 1 {
        return Err(format!(
            "expected one application named {name}, found {}: {apps:?}",
            apps.len()
        )
        .into());
    }
    let app_id = apps[0]["appId"].as_str().unwrap_or_default();
    let sps = graph.call_ok(
        "GET",
        &format!("/servicePrincipals?$filter=appId%20eq%20%27{app_id}%27"),
        None,
    );
    let sps = sps["value"].as_array().cloned().unwrap_or_default();
    if sps.len() != 1 {
        return Err(format!("expected one service principal of {app_id}, found {sps:?}").into());
    }
    let sp_id = sps[0]["id"].as_str().unwrap_or_default();
    let jobs = graph.call_ok(
        "GET",
        &format!("/servicePrincipals/{sp_id}/synchronization/jobs"),
        None,
    );
    let jobs = jobs["value"].as_array().cloned().unwrap_or_default();
    if jobs.len() != 1 {
        return Err(format!(
            "expected one provisioning job, found {}: {jobs:?}",
            jobs.len()
        )
        .into());
    }
    Ok(())
}

fn nothing_named(name: &str) -> idbridge_acceptance::CheckResult {
    let left = Graph::connect().applications_named(name);
    if left.is_empty() {
        Ok(())
    } else {
        Err(format!("applications left after destroy: {left:?}").into())
    }
}

fn logged_requests(graph: &Graph) -> Vec<Value> {
    graph.admin("GET", "/requests", None).body["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Applies [`provisioned_app`] under `faults` (removed once the apply is done: the checks' own Graph calls are not
/// the provider's), checks that exactly one application and one job exist, destroys, and returns the Graph
/// request log of the case.
fn provisioned_app_under_faults(prefix: &str, faults: &[Value]) -> Vec<Value> {
    let _serial = exclusive();
    let _faults = FaultsRemovedOnDrop;
    let graph = Graph::connect();
    let name = unique(prefix);
    graph.admin("DELETE", "/requests", None);
    add_faults(&graph, faults);
    let (check_name, destroy_name) = (name.clone(), name.clone());
    let result = TestCase::new(vec![
        with_scim_vars(Step::config(provisioned_app(&name)))
            .check(checks::attr_equals(APP, "display_name", &name))
            .check(checks::attr_equals(SCIM, "status", "Active"))
            .check(move |_| {
                support::admin("DELETE", "/faults", None);
                exactly_one_app_and_job(&check_name)
            }),
    ])
    .with_emulators()
    .secret(endpoints().scim_token.clone())
    .check_destroy(move |_| nothing_named(&destroy_name))
    .try_run();
    let requests = logged_requests(&graph);
    if let Err(failure) = result {
        panic!("{failure}");
    }
    requests
}

/// 40 throttled answers in a row (`Retry-After: 1`), longer than any fixed attempt count, and one Graph request
/// in five dropped without an answer: the create goes through and nothing is doubled.
#[test]
fn a_throttling_storm_and_dropped_connections_are_waited_out() {
    if skipped_without_tf_acc() {
        return;
    }
    let requests = provisioned_app_under_faults(
        "acc-res-storm",
        &[
            json!({ "path": "^/v1\\.0/applicationTemplates/[^/]+$", "method": "GET", "status": 429,
                    "retryAfterSeconds": 1, "count": 40 }),
            json!({ "path": "^/v1\\.0/", "dropConnection": true, "probability": 0.2 }),
        ],
    );
    let answered = |status: u64| requests.iter().filter(|r| r["status"] == status).count();
    assert!(
        answered(429) >= 40,
        "the storm fired: {} throttled answers",
        answered(429)
    );
    assert!(answered(0) > 0, "connections were dropped: {}", answered(0));
}

/// Graph carried out `instantiate` and the job creation but the answers were lost (a 503, a dropped connection):
/// the objects are found and used, the calls are not sent again, and nothing is left behind.
#[test]
fn creating_calls_whose_answer_was_lost_are_not_repeated() {
    if skipped_without_tf_acc() {
        return;
    }
    let requests = provisioned_app_under_faults(
        "acc-res-lost",
        &[
            json!({ "path": "^/v1\\.0/applicationTemplates/[^/]+/instantiate$", "method": "POST",
                    "status": 503, "afterHandler": true, "count": 1 }),
            json!({ "path": "^/v1\\.0/servicePrincipals/[^/]+/synchronization/jobs$", "method": "POST",
                    "dropConnection": true, "afterHandler": true, "count": 1 }),
        ],
    );
    let posts_to = |suffix: &str| {
        requests
            .iter()
            .filter(|r| {
                r["method"] == "POST" && r["path"].as_str().is_some_and(|p| p.ends_with(suffix))
            })
            .collect::<Vec<_>>()
    };
    let instantiates = posts_to("/instantiate");
    assert_eq!(
        instantiates.len(),
        1,
        "instantiate sent once: {instantiates:?}"
    );
    assert_eq!(instantiates[0]["status"], 503, "the fault fired");
    let job_creates = posts_to("/synchronization/jobs");
    assert_eq!(
        job_creates.len(),
        1,
        "job creation sent once: {job_creates:?}"
    );
    assert_eq!(job_creates[0]["status"], 0, "the fault fired");
}

/// Terraform killed (SIGKILL, so it cannot tell the provider) while the provider waits on Graph: the provider
/// notices and exits within the 10 seconds issue #17 allows; the next apply runs normally.
#[test]
fn the_provider_exits_when_terraform_is_killed_mid_apply() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let _faults = FaultsRemovedOnDrop;
    let graph = Graph::connect();
    let name = unique("acc-res-kill");
    let config = format!(
        "resource \"idbridge_entra_application\" \"aws\" {{\n  display_name = \"{name}\"\n}}\n"
    );
    let destroy_name = name.clone();
    let result = TestCase::new(vec![
        Step::config(config.clone()),
        Step::config(config).pre(|ctx| {
            // The refresh of the apply hangs on Graph, so the provider is busy when Terraform dies.
            let fault = Graph::connect().admin(
                "POST",
                "/faults",
                Some(
                    json!({ "path": "^/v1\\.0/applications/[^/]+$", "method": "GET",
                             "delayMs": 120000, "count": 1 }),
                ),
            );
            if fault.status != 201 {
                return Err(format!("fault: {}", fault.body).into());
            }
            let running = ctx
                .spawn_terraform(&["apply", "-auto-approve", "-input=false", "-no-color"])
                .map_err(|e| e.to_string())?;
            let waiting_since = Instant::now();
            let provider = loop {
                let faults = Graph::connect().admin("GET", "/faults", None).body;
                let fired = faults["faults"]
                    .as_array()
                    .is_some_and(|rules| rules.iter().any(|rule| rule["remaining"] == 0));
                let providers = running.children_named("terraform-provi");
                if fired && let Some(pid) = providers.first() {
                    break *pid;
                }
                if waiting_since.elapsed() > Duration::from_secs(120) {
                    return Err("the apply never reached the delayed read".into());
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            running.kill().map_err(|e| e.to_string())?;
            let killed_at = Instant::now();
            while !process_gone(provider) {
                if killed_at.elapsed() > Duration::from_secs(10) {
                    return Err(format!(
                        "provider process {provider} still running 10 s after Terraform was killed"
                    )
                    .into());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Graph::connect().admin("DELETE", "/faults", None);
            Ok(())
        }),
    ])
    .with_emulators()
    .check_destroy(move |_| nothing_named(&destroy_name))
    .try_run();
    graph.admin("DELETE", "/faults", None);
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Metadata edited to send assertions elsewhere, by host or by a `user@host` URL, is refused at plan with the
/// attribute and the host named, before anything is created.
#[test]
fn saml_urls_outside_aws_are_refused_at_plan() {
    if skipped_without_tf_acc() {
        return;
    }
    let metadata = format!(
        "{}/tests/testdata/aws_sso_metadata.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let trust = |trust_body: &str| {
        format!(
            r#"
resource "idbridge_entra_application" "aws" {{
  display_name = "{}"
}}

resource "idbridge_saml_trust" "aws" {{
  application_id = idbridge_entra_application.aws.id
{trust_body}
}}
"#,
            unique("acc-res-saml")
        )
    };
    let foreign_host = trust(&format!(
        "  aws_metadata_xml = replace(file(\"{metadata}\"), \"eu-west-1.signin.aws.amazon.com\", \"signin.evil.example.com\")"
    ));
    let userinfo = trust(
        "  entity_id = \"https://eu-west-1.signin.aws.amazon.com/platform/saml/d-9067a1b2c3\"\n  acs_url   = \"https://us-east-1.signin.aws.amazon.com@evil.example.com/platform/saml/acs/x\"",
    );
    TestCase::new(vec![
        Step::config(foreign_host)
            .expect_error(&format!(
                "{}.*signin.evil.example.com",
                pointed_error("Not an AWS sign-in URL", "aws_metadata_xml")
            ))
            .check(checks::no_resources),
        Step::config(userinfo)
            .expect_error(&format!(
                "{}.*evil.example.com.*user name or password",
                pointed_error("Not an AWS sign-in URL", "acs_url")
            ))
            .check(checks::no_resources),
    ])
    .with_emulators()
    .run();
}

/// An inline policy over IAM Identity Center's 10,240 significant bytes fails at plan, not at AWS.
#[test]
fn an_inline_policy_over_the_aws_limit_is_refused_at_plan() {
    if skipped_without_tf_acc() {
        return;
    }
    let config = r#"
resource "idbridge_permission_set" "big" {
  name          = "acc-res-big-policy"
  instance_arn  = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
  inline_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "s3:GetObject"
      Resource = [for i in range(400) : "arn:aws:s3:::bucket-${i}/a/long/enough/prefix/*"]
    }]
  })
}
"#;
    TestCase::new(vec![
        Step::config(config)
            .expect_error(&format!(
                "{}.*not whitespace.*10240",
                pointed_error("Inline policy too large", "inline_policy")
            ))
            .check(checks::no_resources),
    ])
    .with_emulators()
    .run();
}
