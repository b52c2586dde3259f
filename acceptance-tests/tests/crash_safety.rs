//! Crash-safe create through real Terraform: Terraform and the provider are killed (SIGKILL to the process
//! group) in the middle of creating each Entra resource, while the Graph emulator holds the next request; the
//! following apply must end with exactly one object, and destroy with none.

mod integrity_support;
mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};

use idbridge_acceptance::{
    CheckResult, PROVIDER_SOURCE, Step, StepContext, TestCase, skipped_without_tf_acc,
};
use integrity_support::{app_config, attr, marked_policies};
use serde_json::{Value, json};
use support::{Graph, admin, endpoints, exclusive, unique};

const APP: &str = "idbridge_entra_application.aws";
const TRUST: &str = "idbridge_saml_trust.aws";
const SCIM: &str = "idbridge_scim_provisioning.aws";

fn trust_config(name: &str) -> String {
    format!(
        "{}\nresource \"idbridge_saml_trust\" \"aws\" {{\n  application_id = idbridge_entra_application.aws.id\n  \
         aws_metadata_xml = file(\"{}/tests/testdata/aws_sso_metadata.xml\")\n}}\n",
        app_config(name),
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The SCIM job's `enabled` is left to its default, so a job paused outside Terraform differs only by a default.
fn scim_config(name: &str) -> String {
    let endpoints = endpoints();
    format!(
        "{}\nvariable \"scim_token\" {{\n  type      = string\n  sensitive = true\n  ephemeral = true\n}}\n\n\
         resource \"idbridge_scim_provisioning\" \"aws\" {{\n  application_id = idbridge_entra_application.aws.id\n  \
         scim_endpoint  = \"{}\"\n  scim_token_wo  = var.scim_token\n}}\n",
        trust_config(name),
        endpoints.scim_endpoint
    )
}

fn requests() -> Vec<Value> {
    admin("GET", "/requests", None).body["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn logged(method: &str, path_suffix: &str) -> bool {
    requests().iter().any(|r| {
        r["method"] == method
            && (200..300).contains(&r["status"].as_u64().unwrap_or(0))
            && r["path"].as_str().is_some_and(|p| p.ends_with(path_suffix))
    })
}

/// Writes `config` as the next step would, then runs `terraform apply` and kills it once the request
/// `after` (method, path suffix) has succeeded, while the emulator holds the request matching `hold`.
fn apply_killed(
    ctx: &StepContext,
    config: &str,
    after: (&'static str, &'static str),
    hold: (&str, &str),
) -> CheckResult {
    write_config(ctx.config_dir(), config)?;
    admin("DELETE", "/requests", None);
    let fault = admin(
        "POST",
        "/faults",
        Some(json!({ "method": hold.0, "path": hold.1, "delayMs": 60_000, "count": 1 })),
    );
    if fault.status != 201 {
        return Err(format!("adding the hold: {} {}", fault.status, fault.body).into());
    }
    let output = ctx.terraform_killed_when(
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &|| logged(after.0, after.1),
    );
    admin("DELETE", "/faults", None);
    let output = output?;
    if output.success() {
        return Err("the apply finished before it could be killed".into());
    }
    if !logged(after.0, after.1) {
        return Err(format!(
            "the apply failed before {} {}:\n{}",
            after.0, after.1, output.stderr
        )
        .into());
    }
    Ok(())
}

fn write_config(dir: &Path, config: &str) -> CheckResult {
    std::fs::write(dir.join("main.tf"), config).map_err(|e| e.to_string())?;
    let versions = format!(
        "terraform {{\n  required_providers {{\n    idbridge = {{\n      source = \"{PROVIDER_SOURCE}\"\n    }}\n  }}\n}}\n"
    );
    std::fs::write(dir.join("versions.tf"), versions).map_err(|e| e.to_string())?;
    Ok(())
}

/// Exactly one application (and one service principal) carries the name, none the temporary one.
fn one_application(name: &str) -> CheckResult {
    let graph = Graph::connect();
    let apps = graph.applications_named(name);
    if apps.len() != 1 || apps[0]["displayName"] != name {
        let names: Vec<&Value> = apps.iter().map(|a| &a["displayName"]).collect();
        return Err(format!("expected one application named {name}, found {names:?}").into());
    }
    let app_id = apps[0]["appId"].as_str().unwrap_or_default();
    let sps = graph.call(
        "GET",
        &format!("/servicePrincipals?$filter=appId%20eq%20%27{app_id}%27"),
        None,
    );
    if sps.body["value"].as_array().map(Vec::len) != Some(1) {
        return Err(format!("expected one service principal for {app_id}: {}", sps.body).into());
    }
    Ok(())
}

fn jobs_of(sp_id: &str) -> Vec<Value> {
    Graph::connect()
        .call(
            "GET",
            &format!("/servicePrincipals/{sp_id}/synchronization/jobs"),
            None,
        )
        .body["value"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_create_killed_midway_is_finished_by_the_next_apply_and_destroy_leaves_nothing() {
    if skipped_without_tf_acc() {
        return;
    }
    let _serial = exclusive();
    let name = unique("acc-crash");
    let token = endpoints().scim_token.clone();
    let client_id: Arc<Mutex<String>> = Arc::default();
    let (remember, destroyed_client) = (client_id.clone(), client_id);
    let (app_hcl, trust_hcl, scim_hcl) =
        (app_config(&name), trust_config(&name), scim_config(&name));
    let (n1, n2) = (name.clone(), name.clone());
    let (a1, t1, s1) = (app_hcl.clone(), trust_hcl.clone(), scim_hcl.clone());
    TestCase::new(vec![
        // Killed after instantiate, while the rename is held: the app exists under its temporary name.
        Step::config(app_hcl)
            .pre(move |ctx| {
                apply_killed(
                    ctx,
                    &a1,
                    ("POST", "/instantiate"),
                    ("PATCH", "^/v1.0/applications/"),
                )
            })
            .check(move |_| one_application(&n1)),
        // Killed after the claims policy was created, while its assignment is held.
        Step::config(trust_hcl)
            .pre(move |ctx| {
                apply_killed(
                    ctx,
                    &t1,
                    ("POST", "/policies/claimsMappingPolicies"),
                    ("POST", "/claimsMappingPolicies/\\$ref$"),
                )
            })
            .check(move |state| {
                let app_id = attr(state, APP, "client_id")?;
                let policies = marked_policies(&app_id);
                let assigned = attr(state, TRUST, "claims_mapping_policy_id")?;
                if policies.len() != 1 || policies[0]["id"] != assigned.as_str() {
                    return Err(format!(
                        "expected only the assigned policy {assigned}: {policies:?}"
                    )
                    .into());
                }
                *remember.lock().unwrap() = app_id;
                one_application(&n2)
            }),
        // Killed after the provisioning job was created, while its secrets are held.
        Step::config(scim_hcl)
            .pre(move |ctx| {
                apply_killed(
                    ctx,
                    &s1,
                    ("POST", "/synchronization/jobs"),
                    ("PUT", "/synchronization/secrets$"),
                )
            })
            .check(|state| {
                let sp_id = attr(state, TRUST, "service_principal_id")?;
                let jobs = jobs_of(&sp_id);
                if jobs.len() != 1 || jobs[0]["id"] != attr(state, SCIM, "job_id")?.as_str() {
                    return Err(format!("expected exactly the job in state: {jobs:?}").into());
                }
                Ok(())
            }),
        // A job paused outside Terraform differs from the default `enabled = true` only; one apply starts it
        // again without an inconsistent result (status and timestamps are planned unknown).
        Step::config(scim_config(&name))
            .pre(|ctx| {
                let state = ctx.state()?;
                let (sp_id, job_id) = (
                    attr(&state, TRUST, "service_principal_id")?,
                    attr(&state, SCIM, "job_id")?,
                );
                let paused = Graph::connect().call(
                    "POST",
                    &format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/pause"),
                    None,
                );
                if paused.status != 204 {
                    return Err(format!("pause: {} {}", paused.status, paused.body).into());
                }
                Ok(())
            })
            .check(idbridge_acceptance::checks::attr_equals(
                SCIM, "status", "Active",
            )),
    ])
    .env("TF_VAR_scim_token", token.clone())
    .secret(token)
    .with_emulators()
    .check_destroy(move |_| {
        let graph = Graph::connect();
        let left = graph.applications_named(&name);
        if !left.is_empty() {
            return Err(format!("applications left after destroy: {left:?}").into());
        }
        let client = destroyed_client.lock().unwrap().clone();
        let policies = marked_policies(&client);
        if !policies.is_empty() {
            return Err(format!("claims policies left after destroy: {policies:?}").into());
        }
        Ok(())
    })
    .run();
}
