//! Members on demand through real Terraform: `idbridge_group_assignment` provisions the group's direct user
//! members with it, warns at plan about the members AWS will not get, and heals a member added in Entra later.
//!
//! The emulators run with the scheduled provisioning cycle an hour away and the job started (its first cycle
//! runs before anything is assigned), so only provisioning on demand can bring a member to AWS within the test.

mod assignments_fixture;
mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assignments_fixture::Fixture;
use idbridge_acceptance::{Emulators, Step, TestCase, checks, skipped_without_tf_acc};
use serde_json::json;
use support::unique;

const MEMBERS: &str = "idbridge_group_assignment.members";
const GROUP_ONLY: &str = "idbridge_group_assignment.group_only";
const ACCOUNT: &str = "111111111111";

/// An hour between scheduled cycles: longer than the test.
const CYCLE_AN_HOUR_AWAY: [&str; 2] = ["--provisioning-interval-secs", "3600"];

struct Tenant {
    fx: Fixture,
    app_id: String,
    sp_id: String,
}

impl Tenant {
    /// The app with its job started; returns once the job's first (empty) cycle has run.
    fn new(name: &str) -> Tenant {
        Emulators::configure_shared(&CYCLE_AN_HOUR_AWAY);
        let fx = Fixture::new();
        let (app_id, sp_id) = fx.app(name, &fx.endpoints.scim_token);
        let jobs = fx.graph(
            "GET",
            &format!("/servicePrincipals/{sp_id}/synchronization/jobs"),
            None,
        );
        let job_id = jobs["value"][0]["id"].as_str().unwrap().to_string();
        let job_path = format!("/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}");
        fx.entra.call_ok("POST", &format!("{job_path}/start"), None);
        let started = Instant::now();
        while fx.graph("GET", &job_path, None)["status"]["lastExecution"].is_null() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the job's first cycle did not run"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Tenant { fx, app_id, sp_id }
    }

    fn group(&self, name: &str) -> String {
        let group = self.fx.graph(
            "POST",
            "/groups",
            Some(json!({ "displayName": name, "mailEnabled": false, "mailNickname": name, "securityEnabled": true })),
        );
        group["id"].as_str().unwrap().to_string()
    }

    /// A user with the given surname (`None`: no surname, which AWS's SCIM endpoint refuses); its UPN.
    fn member(&self, group_id: &str, name: &str, surname: Option<&str>) -> String {
        let upn = format!("{name}@example.com");
        let mut body = json!({
            "accountEnabled": true, "displayName": name, "mailNickname": name, "givenName": "Acc",
            "passwordProfile": { "password": "Emulator-Only-1!" }, "userPrincipalName": upn,
        });
        if let Some(surname) = surname {
            body["surname"] = json!(surname);
        }
        let user = self.fx.graph("POST", "/users", Some(body));
        self.add_member(group_id, user["id"].as_str().unwrap());
        upn
    }

    fn add_member(&self, group_id: &str, member_id: &str) {
        self.fx.entra.call_ok(
            "POST",
            &format!("/groups/{group_id}/members/$ref"),
            Some(json!({ "@odata.id": format!("{}/v1.0/directoryObjects/{member_id}", self.fx.endpoints.graph_url) })),
        );
    }

    /// The user names in an identity store group.
    fn identity_store_members(&self, group_id: &str) -> BTreeSet<String> {
        let (status, memberships) = self.fx.identity_store(
            "ListGroupMemberships",
            json!({ "GroupId": group_id, "MaxResults": 100 }),
        );
        assert_eq!(status, 200, "ListGroupMemberships: {memberships}");
        memberships["GroupMemberships"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                let user_id = m["MemberId"]["UserId"].as_str().unwrap_or_default();
                let (status, user) = self
                    .fx
                    .identity_store("DescribeUser", json!({ "UserId": user_id }));
                assert_eq!(status, 200, "DescribeUser {user_id}: {user}");
                user["UserName"].as_str().unwrap_or_default().to_string()
            })
            .collect()
    }

    /// The members each provision-on-demand request for `group_id` linked, in order.
    fn on_demand_links(&self, group_id: &str) -> Vec<Vec<String>> {
        let log = self.fx.entra.admin("GET", "/requests", None).body;
        log["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| {
                r["method"] == "POST"
                    && r["path"].as_str().is_some_and(|p| {
                        p.contains(&self.sp_id) && p.ends_with("/provisionOnDemand")
                    })
                    && r["body"]["parameters"][0]["subjects"][0]["objectId"] == group_id
            })
            .map(|r| {
                r["body"]["parameters"][0]["subjects"][0]["links"]["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m["objectId"].as_str().map(str::to_string))
                    .collect()
            })
            .collect()
    }
}

/// The `identity_store_group_id` of the resource at `address`.
fn identity_store_group(
    state: &idbridge_acceptance::State,
    address: &str,
) -> Result<String, idbridge_acceptance::CheckError> {
    Ok(state
        .require(address)?
        .attr("identity_store_group_id")
        .unwrap_or_default()
        .to_string())
}

fn config(app_id: &str, members_group: &str, only_group: &str, permission_set: &str) -> String {
    format!(
        r#"
resource "idbridge_group_assignment" "members" {{
  application_id      = "{app_id}"
  entra_group_id      = "{members_group}"
  permission_set_arns = ["{permission_set}"]
  account_ids         = ["{ACCOUNT}"]
}}

resource "idbridge_group_assignment" "group_only" {{
  application_id      = "{app_id}"
  entra_group_id      = "{only_group}"
  permission_set_arns = ["{permission_set}"]
  account_ids         = ["{ACCOUNT}"]
  provision_members   = false
}}
"#
    )
}

#[test]
fn group_members_are_provisioned_on_demand_warned_about_and_healed() {
    if skipped_without_tf_acc() {
        return;
    }
    let name = unique("acc-gm");
    let tenant = Arc::new(Tenant::new(&name));
    // 12 user members (two of them incomplete) and a nested group with a member of its own.
    let group = tenant.group(&format!("{name}-team"));
    let mut eligible = BTreeSet::new();
    for i in 0..10 {
        eligible.insert(tenant.member(&group, &format!("{name}-u{i}"), Some("Complete")));
    }
    let no_surname = tenant.member(&group, &format!("{name}-nosurname"), None);
    let no_given_name = {
        let upn = format!("{name}-nogiven@example.com");
        let user = tenant.fx.graph(
            "POST",
            "/users",
            Some(json!({
                "accountEnabled": true, "displayName": "No Given", "mailNickname": format!("{name}-nogiven"),
                "surname": "Incomplete", "passwordProfile": { "password": "Emulator-Only-1!" },
                "userPrincipalName": upn,
            })),
        );
        tenant.add_member(&group, user["id"].as_str().unwrap());
        upn
    };
    let nested_name = format!("{name}-nested");
    let nested = tenant.group(&nested_name);
    let nested_member = tenant.member(&nested, &format!("{name}-inner"), Some("Nested"));
    tenant.add_member(&group, &nested);
    // Only the group goes to AWS for this one.
    let only_group = tenant.group(&format!("{name}-solo"));
    let solo_member = tenant.member(&only_group, &format!("{name}-solo-u"), Some("Solo"));
    let permission_set = tenant.fx.permission_set(&format!("{name}-ps"));
    let hcl = config(&tenant.app_id, &group, &only_group, &permission_set);

    let (t1, group1, eligible1) = (tenant.clone(), group.clone(), eligible.clone());
    let (solo1, nested_member1) = (solo_member.clone(), nested_member.clone());
    let step_create = Step::config(hcl.clone())
        .check(checks::attr_equals(MEMBERS, "provisioned_member_count", "10"))
        .check(checks::attr_equals(MEMBERS, "missing_members.#", "0"))
        .check(checks::attr_equals(GROUP_ONLY, "provision_members", "false"))
        .check(checks::attr_absent(GROUP_ONLY, "provisioned_member_count"))
        .check(move |state| {
            let members_group = identity_store_group(state, MEMBERS)?;
            let in_aws = t1.identity_store_members(&members_group);
            if in_aws != eligible1 {
                return Err(format!(
                    "the identity store group holds {in_aws:?}, expected the 10 eligible {eligible1:?}"
                )
                .into());
            }
            if in_aws.contains(&nested_member1) {
                return Err("a nested group's member was provisioned".into());
            }
            // Group plus at most five members per request: two requests carry the ten.
            let links = t1.on_demand_links(&group1);
            if links.len() != 2 || links.iter().any(|l| l.len() > 5) {
                return Err(format!("expected two requests of at most 5 members: {links:?}").into());
            }
            let solo_group = identity_store_group(state, GROUP_ONLY)?;
            let solo_in_aws = t1.identity_store_members(&solo_group);
            if !solo_in_aws.is_empty() {
                return Err(format!(
                    "provision_members = false provisioned {solo_in_aws:?} ({solo1} should wait for the cycle)"
                )
                .into());
            }
            Ok(())
        });

    // A member added in Entra ID afterwards is drift at plan; the plan's warnings name the members AWS will
    // not get.
    let late_member: Arc<Mutex<String>> = Arc::default();
    let (t2, group2, late2, late_name) = (
        tenant.clone(),
        group.clone(),
        late_member.clone(),
        format!("{name}-late"),
    );
    let (no_surname2, no_given2, nested2) = (
        no_surname.clone(),
        no_given_name.clone(),
        nested_name.clone(),
    );
    let step_drift = Step::config(hcl.clone())
        .plan_only()
        .pre(move |ctx| {
            let plan = ctx.terraform(&["plan", "-no-color", "-input=false"])?;
            let text = format!("{}{}", plan.stdout, plan.stderr);
            for named in [&no_surname2, &no_given2, &nested2] {
                if !text.contains(named.as_str()) {
                    return Err(format!("the plan's warnings do not name {named}:\n{text}").into());
                }
            }
            if !text.contains("no surname") || !text.contains("Nested groups are not provisioned") {
                return Err(format!("the plan's warnings do not say why:\n{text}").into());
            }
            *late2.lock().unwrap() = t2.member(&group2, &late_name, Some("Late"));
            Ok(())
        })
        .expect_non_empty_plan()
        .plan_check({
            let late = late_member.clone();
            move |plan| {
                let change = plan
                    .change(MEMBERS)
                    .ok_or("no change planned for the group")?;
                let late = late.lock().unwrap().clone();
                let before = &change.before["missing_members"];
                if change.actions != ["update"] || *before != json!([late]) {
                    return Err(format!(
                        "expected an update with missing_members [{late}], got {:?} {before}",
                        change.actions
                    )
                    .into());
                }
                if plan
                    .change(GROUP_ONLY)
                    .is_some_and(|c| c.actions != ["no-op"])
                {
                    return Err("the group-only assignment changed".into());
                }
                Ok(())
            }
        });

    let (t3, late3) = (tenant.clone(), late_member.clone());
    let step_heal = Step::config(hcl)
        .check(checks::attr_equals(
            MEMBERS,
            "provisioned_member_count",
            "11",
        ))
        .check(checks::attr_equals(MEMBERS, "missing_members.#", "0"))
        .check(move |state| {
            let members_group = identity_store_group(state, MEMBERS)?;
            let late = late3.lock().unwrap().clone();
            if t3.identity_store_members(&members_group).contains(&late) {
                Ok(())
            } else {
                Err(format!("{late} was not provisioned by the second apply").into())
            }
        });

    TestCase::new(vec![
        step_create,
        step_drift,
        step_heal,
        Step::import(MEMBERS).import_id(format!("{}/{group}", tenant.app_id)),
    ])
    .with_emulators()
    .run();
}
