//! Getting an Entra object to AWS now: provision it on demand instead of waiting for the ~40-minute cycle
//! (paced at Entra's limit), then wait until SCIM has created it in the identity store, and when it never
//! arrives, say why (quarantined job, no job, not in scope).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::clients::aws::{Error as AwsClientError, IdentityCenter, Instance, PrincipalType};
use crate::clients::graph::GraphClient;
use crate::clients::graph::models::User;
use crate::clients::graph::models::{
    SynchronizationJob, SynchronizationJobApplicationParameters, SynchronizationJobSubject,
    SynchronizationLinkedObjects, SynchronizationRule,
};
use crate::framework::{Context, Diagnostic, Diagnostics};
use crate::helpers::{aws_error, graph_error};

use super::app_roles::EnterpriseApp;
use super::cache::ServiceCaches;
use super::identity_store::{
    IdentityStoreMatch, accept_found_group, accept_found_user, group_matcher, user_matcher,
};
use super::members::MemberStatus;
use super::principal::EntraPrincipal;

/// Entra's limit for provision on demand: 5 requests per 10 seconds per application.
const ON_DEMAND_LIMIT: usize = 5;
const ON_DEMAND_WINDOW: Duration = Duration::from_secs(10);
/// Added to the window the pacer keeps: a slot is taken when a request leaves, Entra counts it when it arrives,
/// so two requests exactly one window apart can land inside one of Entra's windows (and the 429 retries that
/// follow bypass the pacer). Measured with bench/members.sh: 29 of 69 requests throttled without it.
const ON_DEMAND_MARGIN: Duration = Duration::from_secs(1);
/// Members one group subject may link ("synchronizationJob: provisionOnDemand": at most 5 per request).
pub const ON_DEMAND_MEMBERS_LIMIT: usize = 5;
/// How long an apply without provisioning on demand looks for members already provisioned by a cycle.
const MEMBERS_LOOK_WITHOUT_ON_DEMAND: Duration = Duration::from_secs(20);

/// Both ends of provisioning: the enterprise app's job on the Entra side, the instance's identity store on AWS's.
pub struct Provisioning<'a> {
    pub caches: &'a ServiceCaches,
    pub graph: &'a GraphClient,
    pub identity_center: &'a IdentityCenter,
    pub app: &'a EnterpriseApp,
    pub instance: &'a Instance,
}

/// The app's provisioning job, ready for on-demand requests: the rule that maps the principal's objects.
pub struct OnDemandJob {
    pub job: SynchronizationJob,
    rule_id: String,
}

/// The Entra side of on-demand provisioning alone: the app's job and paced requests, for callers that do not
/// wait for the result in AWS (the provision-on-demand action).
pub struct OnDemandRequests<'a> {
    pub caches: &'a ServiceCaches,
    pub graph: &'a GraphClient,
    pub app: &'a EnterpriseApp,
}

impl OnDemandRequests<'_> {
    /// The enterprise app's provisioning job, if it has one.
    pub async fn job(&self) -> Result<Option<SynchronizationJob>, Diagnostics> {
        Ok(self
            .graph
            .list_synchronization_jobs(&self.app.service_principal_id)
            .await
            .map_err(|e| graph_error("read the provisioning job", &e))?
            .into_iter()
            .next())
    }

    /// The job ready for on-demand requests for `principal`: not quarantined, with a rule for its objects.
    pub async fn on_demand_job(
        &self,
        job: &SynchronizationJob,
        principal: &EntraPrincipal,
    ) -> Result<OnDemandJob, Diagnostics> {
        if let Some(quarantined) = quarantine_message(job, principal) {
            return Err(quarantined);
        }
        let rules = self
            .graph
            .list_synchronization_rules(&self.app.service_principal_id, &job.id)
            .await
            .map_err(|e| graph_error("read the provisioning job's schema", &e))?;
        let Some(rule) = pick_rule(&rules, principal.object_type_name()) else {
            return Err(Diagnostic::error(
                format!("No provisioning rule for {}s", principal.noun()),
                format!(
                    "The provisioning job {} has no rule that maps {}s.",
                    job.id,
                    principal.noun()
                ),
            )
            .into());
        };
        Ok(OnDemandJob {
            job: job.clone(),
            rule_id: rule.id.clone(),
        })
    }

    /// One provision-on-demand request for `principal` and (for a group) the member users `linked`, at most
    /// Entra's [`ON_DEMAND_MEMBERS_LIMIT`]; paced by the job's shared window.
    pub async fn request(
        &self,
        on_demand: &OnDemandJob,
        principal: &EntraPrincipal,
        linked: &[String],
    ) -> Result<(), Diagnostics> {
        let (sp, job_id) = (&self.app.service_principal_id, &on_demand.job.id);
        let links = (!linked.is_empty()).then(|| SynchronizationLinkedObjects {
            members: linked
                .iter()
                .map(|id| SynchronizationJobSubject {
                    object_id: id.clone(),
                    object_type_name: "User".into(),
                    links: None,
                })
                .collect(),
        });
        self.caches.on_demand.for_job(job_id).acquire().await;
        tracing::info!(principal = %principal.object_id, job = %job_id, members = linked.len(), "provisioning on demand");
        let report = self
            .graph
            .provision_on_demand(
                sp,
                job_id,
                &[SynchronizationJobApplicationParameters {
                    rule_id: on_demand.rule_id.clone(),
                    subjects: vec![SynchronizationJobSubject {
                        object_id: principal.object_id.clone(),
                        object_type_name: principal.object_type_name().into(),
                        links,
                    }],
                }],
            )
            .await
            .map_err(|e| graph_error("provision on demand", &e))?;
        // Graph writes the result in `key` and the report in `value`, in any of the documented shapes.
        let outcome = report.on_demand_outcome();
        if outcome.is_failure() {
            let description = &outcome.description;
            // A credential failure quarantines the job: say so rather than wait for nothing.
            let now = self
                .graph
                .get_synchronization_job(sp, job_id)
                .await
                .map_err(|e| graph_error("read the provisioning job", &e))?;
            if let Some(quarantined) = quarantine_message(&now, principal) {
                return Err(quarantined);
            }
            tracing::warn!(%description, "provision on demand reported a failure; waiting anyway");
        }
        Ok(())
    }
}

/// Provisions the principal on demand now (paced at Entra's limit, a quarantine explained) without waiting
/// for it in AWS, for the provision-on-demand action. A group goes with the member users `members`, at most
/// [`ON_DEMAND_MEMBERS_LIMIT`] linked per request (the group is the subject of each). Returns the job used;
/// an error when the application has no provisioning job.
pub async fn provision_now(
    caches: &ServiceCaches,
    graph: &GraphClient,
    app: &EnterpriseApp,
    principal: &EntraPrincipal,
    members: &[String],
) -> Result<SynchronizationJob, Diagnostics> {
    let requests = OnDemandRequests { caches, graph, app };
    let Some(job) = requests.job().await? else {
        return Err(Diagnostic::error(
            "No provisioning job",
            "The enterprise application has no provisioning job, so nothing can be provisioned on demand. \
             Configure provisioning first (idbridge_scim_provisioning).",
        )
        .into());
    };
    let on_demand = requests.on_demand_job(&job, principal).await?;
    let mut linked = members.chunks(ON_DEMAND_MEMBERS_LIMIT);
    requests
        .request(&on_demand, principal, linked.next().unwrap_or_default())
        .await?;
    for more in linked {
        requests.request(&on_demand, principal, more).await?;
    }
    Ok(on_demand.job)
}

impl Provisioning<'_> {
    fn on_demand(&self) -> OnDemandRequests<'_> {
        OnDemandRequests {
            caches: self.caches,
            graph: self.graph,
            app: self.app,
        }
    }

    /// The enterprise app's provisioning job, if it has one.
    pub async fn job(&self) -> Result<Option<SynchronizationJob>, Diagnostics> {
        self.on_demand().job().await
    }

    /// See [`OnDemandRequests::on_demand_job`].
    pub async fn on_demand_job(
        &self,
        job: &SynchronizationJob,
        principal: &EntraPrincipal,
    ) -> Result<OnDemandJob, Diagnostics> {
        self.on_demand().on_demand_job(job, principal).await
    }

    /// See [`OnDemandRequests::request`].
    pub async fn request(
        &self,
        on_demand: &OnDemandJob,
        principal: &EntraPrincipal,
        linked: &[String],
    ) -> Result<(), Diagnostics> {
        self.on_demand().request(on_demand, principal, linked).await
    }

    /// Provisions the group or user on demand (a group with the members `linked`) when `on_demand` is given,
    /// then waits for it in the identity store until the operation's time is nearly up. Returns its identity
    /// store id.
    pub async fn principal_and_wait(
        &self,
        ctx: &Context,
        principal: &EntraPrincipal,
        mode: IdentityStoreMatch,
        job: Option<&SynchronizationJob>,
        on_demand: Option<&OnDemandJob>,
        linked: &[String],
    ) -> Result<String, Diagnostics> {
        let (graph, app) = (self.graph, self.app);
        match on_demand {
            Some(on_demand) => self.request(on_demand, principal, linked).await?,
            None if job.is_none() => tracing::warn!(
                "the enterprise application has no provisioning job; waiting for the {} to be provisioned otherwise",
                principal.noun()
            ),
            None => {}
        }
        let wait = ctx.remaining().saturating_sub(Duration::from_secs(1));
        let store = &self.instance.identity_store_id;
        let found = match principal.kind {
            PrincipalType::Group => {
                let matcher = group_matcher(graph, principal).await?;
                self.identity_center
                    .wait_for_group(store, &matcher, wait)
                    .await
                    .map(|group| accept_found_group(group, &principal.object_id, mode))
            }
            PrincipalType::User => {
                let matcher = user_matcher(graph, principal).await?;
                self.identity_center
                    .wait_for_user(store, &matcher, wait)
                    .await
                    .map(|user| accept_found_user(user, &principal.object_id, mode))
            }
        };
        match found {
            Ok(accepted) => accepted,
            Err(
                error
                @ (AwsClientError::GroupNotFound { .. } | AwsClientError::UserNotFound { .. }),
            ) => Err(never_arrived(graph, app, job, principal, &error).await),
            Err(error) => Err(aws_error(
                &format!(
                    "Cannot look up the {} in the identity store",
                    principal.noun()
                ),
                &error,
            )
            .into()),
        }
    }
}

impl Provisioning<'_> {
    /// Provisions the member users `to_request` of `group` on demand (group plus at most five members per
    /// request, when `on_demand`), then waits until every `eligible` member is in the identity store group
    /// `group_id`. An error naming the members still missing when the operation's time is nearly up.
    pub async fn members_and_wait(
        &self,
        ctx: &Context,
        group: &EntraPrincipal,
        group_id: &str,
        eligible: &[User],
        to_request: &[String],
        on_demand: Option<&OnDemandJob>,
    ) -> Result<MemberStatus, Diagnostics> {
        if let Some(on_demand) = on_demand {
            for linked in to_request.chunks(ON_DEMAND_MEMBERS_LIMIT) {
                self.request(on_demand, group, linked).await?;
            }
        }
        // Without provisioning on demand the members come with the scheduled cycle (about 40 minutes): look
        // briefly and report who is missing (`missing_members`) instead of holding the apply until its timeout.
        let wait = match on_demand {
            Some(_) => ctx.remaining(),
            None => ctx.remaining().min(MEMBERS_LOOK_WITHOUT_ON_DEMAND),
        }
        .saturating_sub(Duration::from_secs(1));
        let status = self
            .caches
            .members
            .wait_for(
                self.identity_center,
                &self.instance.identity_store_id,
                group_id,
                eligible,
                wait,
            )
            .await?;
        if status.missing.is_empty() || on_demand.is_none() {
            return Ok(status);
        }
        let names: Vec<&str> = status.missing.iter().map(String::as_str).collect();
        Err(Diagnostic::error(
            "Group members not provisioned to AWS",
            format!(
                "{} member(s) of the group are not in the identity store group {group_id} yet: {}. They were \
                 provisioned on demand; the job's provisioning logs in Entra ID say why AWS did not take them. \
                 Run apply again to provision them, raise the create/update timeout, or set \
                 `provision_members = false` to leave members to the provisioning cycle.",
                names.len(),
                names.join(", "),
            ),
        )
        .at(group.path())
        .into())
    }
}

/// Why the principal did not appear in the identity store in time, as far as the job tells.
async fn never_arrived(
    graph: &GraphClient,
    app: &EnterpriseApp,
    job: Option<&SynchronizationJob>,
    principal: &EntraPrincipal,
    error: &AwsClientError,
) -> Diagnostics {
    let mut detail = format!("{error}.");
    match job {
        Some(job) => match graph
            .get_synchronization_job(&app.service_principal_id, &job.id)
            .await
        {
            Ok(job) => {
                if let Some(quarantined) = quarantine_message(&job, principal) {
                    return quarantined;
                }
                detail.push_str(&format!(
                    " The provisioning job {} is in state {}.",
                    job.id,
                    job_code(&job)
                ));
            }
            Err(err) => detail.push_str(&format!(" The job could not be read: {err}.")),
        },
        None => detail.push_str(
            " The enterprise application has no provisioning job (idbridge_scim_provisioning).",
        ),
    }
    detail.push_str(&format!(
        " Likely causes: the job is not started or its SCIM token expired, or the {} is not in the \
         provisioning scope.",
        principal.noun()
    ));
    Diagnostic::error(
        format!("{} not provisioned to AWS", principal.object_type_name()),
        detail,
    )
    .into()
}

/// The rule that provisions `object_type_name` objects (the AWS template has a single rule mapping both
/// users and groups).
fn pick_rule<'a>(
    rules: &'a [SynchronizationRule],
    object_type_name: &str,
) -> Option<&'a SynchronizationRule> {
    rules
        .iter()
        .find(|r| {
            r.object_mappings
                .iter()
                .any(|m| m.source_object_name.as_deref() == Some(object_type_name))
        })
        .or_else(|| rules.first())
}

fn job_code(job: &SynchronizationJob) -> String {
    job.status
        .as_ref()
        .and_then(|s| s.code.clone())
        .unwrap_or_else(|| "unknown".into())
}

/// An error naming the quarantine and its reason when the job is quarantined.
fn quarantine_message(job: &SynchronizationJob, principal: &EntraPrincipal) -> Option<Diagnostics> {
    let status = job.status.as_ref()?;
    let quarantine = status.quarantine.as_ref().filter(|q| !q.is_null());
    if status.code.as_deref() != Some("Quarantine") && quarantine.is_none() {
        return None;
    }
    let q = quarantine.cloned().unwrap_or_default();
    let reason = q["reason"].as_str().unwrap_or("unknown reason");
    let code = q["error"]["code"].as_str().unwrap_or("");
    let message = q["error"]["message"].as_str().unwrap_or("");
    Some(
        Diagnostic::error(
            "Provisioning job is quarantined",
            format!(
                "The provisioning job {} of the enterprise application is in quarantine ({reason}{}{}), so \
                 the {} cannot reach AWS. This usually means the SCIM token was rejected (expired or \
                 revoked): generate a new token in IAM Identity Center, update idbridge_scim_provisioning \
                 (scim_token_wo and scim_token_wo_version), which restarts the job, then apply again.{}",
                job.id,
                if code.is_empty() { "" } else { ", " },
                code,
                principal.noun(),
                if message.is_empty() {
                    String::new()
                } else {
                    format!(" Entra says: {message}")
                }
            ),
        )
        .into(),
    )
}

/// A sliding-window pacer: at most `limit` acquisitions per `window`.
pub struct SlidingWindow {
    limit: usize,
    window: Duration,
    recent: Mutex<VecDeque<Instant>>,
}

impl SlidingWindow {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            recent: Mutex::new(VecDeque::new()),
        }
    }

    /// Waits until a slot is free in the window, then takes it.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                while recent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    recent.pop_front();
                }
                if recent.len() < self.limit {
                    recent.push_back(now);
                    return;
                }
                self.window - now.duration_since(recent[0])
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// One pacer per provisioning job, shared by every resource of the configured provider (Terraform runs up
/// to 10 at once against the same app).
#[derive(Default)]
pub struct OnDemandPacers {
    windows: Mutex<HashMap<String, Arc<SlidingWindow>>>,
}

impl OnDemandPacers {
    pub fn for_job(&self, job_id: &str) -> Arc<SlidingWindow> {
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(job_id.to_owned())
            .or_insert_with(|| {
                Arc::new(SlidingWindow::new(
                    ON_DEMAND_LIMIT,
                    ON_DEMAND_WINDOW + ON_DEMAND_MARGIN,
                ))
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> EntraPrincipal {
        EntraPrincipal::group("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "entra_group_id")
    }

    #[test]
    fn the_group_rule_is_picked_and_on_demand_reports_parse() {
        let rules: Vec<SynchronizationRule> = serde_json::from_value(serde_json::json!([
            {"id": "users-only", "objectMappings": [{"sourceObjectName": "User"}]},
            {"id": "groups", "objectMappings": [{"sourceObjectName": "User"}, {"sourceObjectName": "Group"}]}
        ]))
        .unwrap();
        assert_eq!(pick_rule(&rules, "Group").unwrap().id, "groups");
        assert_eq!(pick_rule(&[], "Group"), None);
    }

    #[test]
    fn quarantine_is_explained_with_its_reason() {
        let job: SynchronizationJob = serde_json::from_value(serde_json::json!({
            "id": "job-1",
            "status": {"code": "Quarantine", "quarantine": {
                "reason": "EncounteredQuarantineException",
                "error": {"code": "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable", "message": "401"}
            }}
        }))
        .unwrap();
        let diags = quarantine_message(&job, &group()).unwrap();
        let d = diags.iter().next().unwrap();
        assert_eq!(d.summary, "Provisioning job is quarantined");
        assert!(d.detail.contains("EncounteredQuarantineException"));
        assert!(d.detail.contains("CredentialValidationUnavailable"));
        assert!(d.detail.contains("SCIM token"));
        let active: SynchronizationJob = serde_json::from_value(
            serde_json::json!({"id": "job-2", "status": {"code": "Active", "quarantine": null}}),
        )
        .unwrap();
        assert!(quarantine_message(&active, &group()).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_on_demand_window_allows_five_per_ten_seconds() {
        let window = SlidingWindow::new(5, Duration::from_secs(10));
        let start = Instant::now();
        for _ in 0..5 {
            window.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_millis(1));
        window.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(10));
        for _ in 0..4 {
            window.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_secs(11));
        window.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn each_job_has_its_own_pacer_and_every_caller_shares_it() {
        let pacers = OnDemandPacers::default();
        assert!(Arc::ptr_eq(
            &pacers.for_job("job-1"),
            &pacers.for_job("job-1")
        ));
        let start = Instant::now();
        for _ in 0..ON_DEMAND_LIMIT {
            pacers.for_job("job-1").acquire().await;
        }
        // Another job's window is untouched by job-1's five requests.
        pacers.for_job("job-2").acquire().await;
        assert!(start.elapsed() < Duration::from_millis(1));
        pacers.for_job("job-1").acquire().await;
        assert!(start.elapsed() >= ON_DEMAND_WINDOW);
    }
}
