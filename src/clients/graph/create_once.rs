//! Calls that create objects are not idempotent: after a server error, a timeout or a dropped connection Graph may
//! or may not have acted, and sending the call again may make a second object (RFC 9110 §9.2.2: a client does not
//! retry a non-idempotent request unless it can tell that the first was not applied). So such a failure is
//! followed by a look for the object the call would have made (by a name the caller chose, by principal and role,
//! by template); only when it is not there is the call sent again, up to the operation's deadline. Objects a
//! replayed call may still have doubled (a replica that did not show the first one yet) are removed afterwards.

use std::future::Future;

use reqwest::Method;
use serde_json::json;
use tokio::time::Instant;

use super::client::{GraphClient, GraphError, Replay};
use super::models::{AppRoleAssignment, Application, SynchronizationJob};
use crate::framework::context::operation_deadline;

/// Looks after an ambiguous failure, before the call is sent again: a few replication intervals.
const LOOKBACK_PROBES: u32 = 3;

/// What [`GraphClient::create_once`] made or found, and whether the call was sent more than once.
pub(crate) struct Created<T> {
    pub value: T,
    pub replayed: bool,
}

impl GraphClient {
    /// Runs `create` until it succeeds, fails for good or the operation's deadline comes; after each ambiguous
    /// failure `find` is asked (a few times, replication lag) for the object the call may have made, which is
    /// then returned as if the call had answered it. `create` replays throttling and refused connections itself.
    pub(crate) async fn create_once<T, C, CF, F, FF>(
        &self,
        what: &str,
        mut create: C,
        mut find: F,
    ) -> Result<Created<T>, GraphError>
    where
        C: FnMut() -> CF,
        CF: Future<Output = Result<T, GraphError>>,
        F: FnMut() -> FF,
        FF: Future<Output = Result<Option<T>, GraphError>>,
    {
        let policy = self.retry_policy();
        let deadline = operation_deadline().unwrap_or_else(|| Instant::now() + policy.max_elapsed);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match create().await {
                Ok(value) => {
                    return Ok(Created {
                        value,
                        replayed: attempt > 1,
                    });
                }
                Err(error) if error.is_ambiguous() => error,
                Err(error) => return Err(error),
            };
            tracing::debug!(target: "idbridge::graph", what, attempt, error = %error, "a creating call failed ambiguously; looking for what it may have created");
            for probe in 1..=LOOKBACK_PROBES {
                match find().await {
                    Ok(Some(value)) => {
                        return Ok(Created {
                            value,
                            replayed: attempt > 1,
                        });
                    }
                    Ok(None) => {}
                    Err(lookup) if lookup.is_not_found() || lookup.is_ambiguous() => {}
                    Err(lookup) => return Err(lookup),
                }
                if probe < LOOKBACK_PROBES {
                    tokio::time::sleep(policy.replication_interval).await;
                }
            }
            let delay = self.backoff(attempt);
            if Instant::now() + delay >= deadline {
                return Err(error);
            }
            tracing::debug!(target: "idbridge::graph", what, attempt, delay_ms = delay.as_millis() as u64, "nothing was created; sending the call again");
            tokio::time::sleep(delay).await;
        }
    }

    /// `POST …/appRoleAssignedTo`, at most one assignment of the role to the principal: after an ambiguous failure
    /// the assignment is looked for by principal and role, and Graph's "already exists" answer to a replay is
    /// answered with the assignment that exists.
    pub(crate) async fn create_app_role_assignment_once(
        &self,
        url: &str,
        assignment: &AppRoleAssignment,
    ) -> Result<AppRoleAssignment, GraphError> {
        let resource = assignment.resource_id.as_str();
        let find = || async {
            Ok(self
                .list_app_role_assignments(resource)
                .await?
                .into_iter()
                .find(|existing| {
                    existing.principal_id == assignment.principal_id
                        && existing.app_role_id == assignment.app_role_id
                }))
        };
        let created = self
            .create_once(
                "app role assignment",
                || {
                    self.send_json_with(
                        Replay::UnprocessedOnly,
                        Method::POST,
                        url,
                        Some(assignment),
                    )
                },
                find,
            )
            .await;
        match created {
            Ok(created) => Ok(created.value),
            Err(error) if is_duplicate_assignment(&error) => {
                // An earlier attempt did land: the assignment is there, only not in the lists we read yet.
                self.read_after_write(|| async {
                    find().await?.ok_or_else(|| error.clone_not_found())
                })
                .await
            }
            Err(error) => Err(error),
        }
    }

    /// `POST …/synchronization/jobs` for `template_id`, making one job: after an ambiguous failure a job of that
    /// template that was not there before is taken as the one created; a replay that doubled it deletes the twin.
    pub(crate) async fn create_synchronization_job_once(
        &self,
        service_principal_id: &str,
        url: &str,
        template_id: &str,
    ) -> Result<SynchronizationJob, GraphError> {
        let before: Vec<String> = self
            .list_synchronization_jobs(service_principal_id)
            .await?
            .into_iter()
            .map(|job| job.id)
            .collect();
        let new_jobs = || async {
            Ok::<_, GraphError>(
                self.list_synchronization_jobs(service_principal_id)
                    .await?
                    .into_iter()
                    .filter(|job| {
                        !before.contains(&job.id) && job.template_id.as_deref() == Some(template_id)
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let body = json!({ "templateId": template_id });
        let created = self
            .create_once(
                "provisioning job",
                || self.send_json_with(Replay::UnprocessedOnly, Method::POST, url, Some(&body)),
                || async { Ok(new_jobs().await?.into_iter().next()) },
            )
            .await?;
        if created.replayed {
            for twin in new_jobs().await? {
                if twin.id != created.value.id {
                    tracing::debug!(target: "idbridge::graph", job = %twin.id, "removing the job a replayed create doubled");
                    self.delete_synchronization_job(service_principal_id, &twin.id)
                        .await?;
                }
            }
        }
        Ok(created.value)
    }

    /// Deletes every application named `marker_name` (from template `template_id`) other than `keep`, and its
    /// service principal: the twins a replayed `instantiate` made.
    pub(crate) async fn remove_instantiated_twins(
        &self,
        template_id: &str,
        marker_name: &str,
        keep: &Application,
    ) -> Result<(), GraphError> {
        for twin in self
            .applications_named(template_id, marker_name)
            .await?
            .into_iter()
            .filter(|app| app.id != keep.id)
        {
            tracing::debug!(target: "idbridge::graph", application = %twin.id, "removing the application a replayed instantiate doubled");
            for sp in self.list_service_principals_by_app_id(&twin.app_id).await? {
                ignore_not_found(self.delete_service_principal(&sp.id).await)?;
            }
            ignore_not_found(self.delete_application(&twin.id).await)?;
        }
        Ok(())
    }
}

fn ignore_not_found(result: Result<(), GraphError>) -> Result<(), GraphError> {
    match result {
        Err(error) if !error.is_not_found() => Err(error),
        _ => Ok(()),
    }
}

/// Graph's answer to assigning a role a principal already has ("Permission being assigned already exists on the
/// object", 400 Request_BadRequest).
fn is_duplicate_assignment(error: &GraphError) -> bool {
    matches!(error, GraphError::Api(api) if api.status == 400 && api.message.contains("already exists"))
}

impl GraphError {
    /// A 404 standing for "not visible yet" in place of `self`, for [`GraphClient::read_after_write`].
    fn clone_not_found(&self) -> GraphError {
        match self {
            GraphError::Api(api) => GraphError::Api(Box::new(super::client::ApiError {
                status: 404,
                code: "Request_ResourceNotFound".into(),
                ..(**api).clone()
            })),
            other => GraphError::Invalid(other.to_string()),
        }
    }
}
