//! The provisioning (synchronization) job of the AWS IAM Identity Center application and its secrets in
//! Microsoft Graph: finding the service principal and the AWS template, writing the secrets, starting, pausing and
//! restarting the job. Shared by the SCIM provisioning resource and what else runs the job.

use crate::clients::graph::models::{
    SynchronizationJob, SynchronizationSecret, SynchronizationTemplate, secret_keys,
};
use crate::clients::graph::{GraphClient, GraphError};
use crate::framework::{AttributePath, Diagnostic, Diagnostics, Secret};
use crate::helpers::graph_error;

/// The `factoryTag` (and id) of Entra's provisioning template for the AWS IAM Identity Center gallery app.
const AWS_FACTORY_TAG: &str = "aWSSingleSignon";

/// Synchronization secret that holds Entra's "Scope" setting: `true` syncs all users and groups, `false`
/// only those assigned to the application.
pub const SYNC_ALL_SECRET: &str = "SyncAll";

pub async fn graph_call<T>(
    call: impl Future<Output = Result<T, GraphError>>,
    action: &str,
) -> Result<T, Diagnostics> {
    call.await
        .map_err(|error| graph_error(action, &error).into())
}

pub fn ignore_not_found(result: Result<(), GraphError>, action: &str) -> Result<(), Diagnostics> {
    match result {
        Err(error) if !error.is_not_found() => Err(graph_error(action, &error).into()),
        _ => Ok(()),
    }
}

/// The service principal of the application `application_id` (object id). `None` when the application or its
/// service principal does not exist. `wait` tolerates replication lag right after the application was created.
pub async fn find_service_principal(
    graph: &GraphClient,
    application_id: &str,
    wait: bool,
) -> Result<Option<String>, Diagnostics> {
    let application = if wait {
        graph
            .read_after_write(|| graph.get_application(application_id))
            .await
    } else {
        graph.get_application(application_id).await
    };
    let application = match application {
        Ok(application) => application,
        Err(error) if error.is_not_found() => return Ok(None),
        Err(error) => return Err(graph_error("read the application", &error).into()),
    };
    let lookup = || async {
        let found = graph
            .list_service_principals_by_app_id(&application.app_id)
            .await?;
        match found.into_iter().next() {
            Some(sp) => Ok(sp.id),
            // An empty list right after creation is replication lag: treat it as a 404 so it is waited for.
            None => Err(GraphError::Api(Box::new(crate::clients::graph::ApiError {
                method: "GET".into(),
                path: "/servicePrincipals".into(),
                status: 404,
                code: "Request_ResourceNotFound".into(),
                message: format!("no service principal with appId {}", application.app_id),
                request_id: None,
                client_request_id: String::new(),
            }))),
        }
    };
    let result = if wait {
        graph.read_after_write(lookup).await
    } else {
        lookup().await
    };
    match result {
        Ok(id) => Ok(Some(id)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(graph_error("find the service principal", &error).into()),
    }
}

/// The AWS IAM Identity Center provisioning template among those Graph offers for the application.
pub fn pick_aws_template(
    templates: &[SynchronizationTemplate],
) -> Result<&SynchronizationTemplate, Diagnostic> {
    let is = |t: &SynchronizationTemplate, tag: &str| {
        t.id.eq_ignore_ascii_case(tag)
            || t.factory_tag
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(tag))
    };
    if let Some(template) = templates.iter().find(|t| is(t, AWS_FACTORY_TAG)) {
        return Ok(template);
    }
    let aws_like: Vec<_> = templates
        .iter()
        .filter(|t| {
            t.id.to_ascii_lowercase().contains("aws")
                || t.factory_tag
                    .as_deref()
                    .is_some_and(|f| f.to_ascii_lowercase().contains("aws"))
        })
        .collect();
    if let [only] = aws_like.as_slice() {
        return Ok(only);
    }
    let found = if templates.is_empty() {
        "none".to_owned()
    } else {
        templates
            .iter()
            .map(|t| {
                format!(
                    "{} (factoryTag {})",
                    t.id,
                    t.factory_tag.as_deref().unwrap_or("-")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(Diagnostic::error(
        "No AWS IAM Identity Center provisioning template",
        format!(
            "The application offers no single provisioning template for AWS IAM Identity Center (factoryTag \
             {AWS_FACTORY_TAG}). Templates found: {found}. `application_id` must be an application instantiated \
             from the AWS IAM Identity Center gallery template."
        ),
    ))
}

/// On import, the job made from the AWS template (or the only job).
pub fn pick_aws_job(jobs: Vec<SynchronizationJob>) -> Option<SynchronizationJob> {
    let is_aws = |job: &SynchronizationJob| {
        job.template_id
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(AWS_FACTORY_TAG))
            || job
                .id
                .to_ascii_lowercase()
                .starts_with(&AWS_FACTORY_TAG.to_ascii_lowercase())
    };
    if jobs.len() == 1 {
        return jobs.into_iter().next();
    }
    jobs.into_iter().find(is_aws)
}

/// The job made from `template_id`, if the service principal has one.
pub fn job_from_template(
    jobs: Vec<SynchronizationJob>,
    template_id: &str,
) -> Option<SynchronizationJob> {
    jobs.into_iter().find(|job| {
        job.template_id
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(template_id))
    })
}

/// A job runs when its schedule is active (or, without a schedule, its status says so) and it is not in
/// quarantine.
pub fn job_is_running(job: &SynchronizationJob) -> bool {
    let code = job.status.as_ref().and_then(|s| s.code.as_deref());
    if code == Some("Quarantine") {
        return false;
    }
    match job.schedule.as_ref().and_then(|s| s.state.as_deref()) {
        Some(state) => state == "Active",
        None => code == Some("Active"),
    }
}

/// A secret value Graph shows in clear (not masked with `*`).
pub fn readable_secret<'a>(secrets: &'a [SynchronizationSecret], key: &str) -> Option<&'a str> {
    secrets
        .iter()
        .find(|s| s.key == key)
        .and_then(|s| s.value.as_deref())
        .filter(|v| !v.is_empty() && !v.chars().all(|c| c == '*'))
}

/// Saves the SCIM endpoint, the token and the scope in one PUT: Graph replaces the whole collection.
pub async fn put_secrets(
    graph: &GraphClient,
    service_principal_id: &str,
    endpoint: &str,
    token: &Secret,
    sync_all: bool,
) -> Result<(), Diagnostics> {
    let secrets = [
        (secret_keys::BASE_ADDRESS, endpoint),
        (secret_keys::SECRET_TOKEN, token.expose()),
        (SYNC_ALL_SECRET, if sync_all { "true" } else { "false" }),
    ]
    .map(|(key, value)| SynchronizationSecret {
        key: key.to_owned(),
        value: Some(value.to_owned()),
    });
    graph_call(
        graph.put_synchronization_secrets(service_principal_id, &secrets),
        "save the SCIM endpoint and token",
    )
    .await
}

/// Entra's own test of the saved endpoint and token; its message explains what is wrong.
pub async fn validate_saved_credentials(
    graph: &GraphClient,
    service_principal_id: &str,
    job_id: &str,
) -> Result<(), Diagnostics> {
    match graph
        .validate_synchronization_credentials(service_principal_id, job_id, &[])
        .await
    {
        Ok(()) => Ok(()),
        Err(GraphError::Api(error)) if error.status == 400 => Err(Diagnostic::error(
            "Entra ID could not validate the SCIM credentials",
            format!(
                "Entra ID tested the SCIM endpoint with the token and answered: {} Check `scim_endpoint` and \
                 `scim_token_wo`.",
                error.message
            ),
        )
        .at(AttributePath::new("scim_token_wo"))
        .into()),
        Err(error) => Err(graph_error("validate the SCIM credentials", &error).into()),
    }
}

pub async fn set_running(
    graph: &GraphClient,
    service_principal_id: &str,
    job_id: &str,
    enabled: bool,
    quarantined: bool,
) -> Result<(), Diagnostics> {
    if !enabled {
        return graph_call(
            graph.pause_synchronization_job(service_principal_id, job_id),
            "pause the provisioning job",
        )
        .await;
    }
    if quarantined {
        // Only a restart clears the quarantine.
        return graph_call(
            graph.restart_synchronization_job(
                service_principal_id,
                job_id,
                Some("QuarantineState"),
            ),
            "restart the provisioning job",
        )
        .await;
    }
    graph_call(
        graph.start_synchronization_job(service_principal_id, job_id),
        "start the provisioning job",
    )
    .await
}
