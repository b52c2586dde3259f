//! The Entra application and its service principal as resources find them: waiting out replication lag after
//! our own writes, and telling a deleted object from a slow one.

use crate::clients::graph::models::{Application, ServicePrincipal};
use crate::clients::graph::{GraphClient, GraphError, odata_string};
use crate::framework::{Context, Diagnostic, Diagnostics};
use crate::helpers::graph_error;
use crate::helpers::recent_write::written_recently;

/// Reads the application, waiting out replication lag when it was written recently; `None` when it is gone.
pub async fn read_application(
    ctx: &Context,
    graph: &GraphClient,
    object_id: &str,
) -> Result<Option<Application>, Diagnostics> {
    let recent = written_recently(ctx, graph.retry_policy().replication_timeout);
    let result = if recent {
        graph
            .read_after_write(|| graph.get_application(object_id))
            .await
    } else {
        graph.get_application(object_id).await
    };
    match result {
        Ok(application) => Ok(Some(application)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(graph_error(&format!("read application {object_id}"), &error).into()),
    }
}

const SP_MISSING: &str = "Service principal missing";

/// The service principal of `app_id`, waiting out replication lag; an error when there is none.
pub async fn service_principal_of(
    graph: &GraphClient,
    app_id: &str,
) -> Result<ServicePrincipal, Diagnostics> {
    let found = graph
        .read_after_write(|| async {
            match graph
                .list_service_principals_by_app_id(app_id)
                .await?
                .into_iter()
                .next()
            {
                Some(found) => graph.get_service_principal(&found.id).await,
                None => Err(GraphError::Api(Box::new(crate::clients::graph::ApiError {
                    method: "GET".into(),
                    path: "/servicePrincipals".into(),
                    status: 404,
                    code: "Request_ResourceNotFound".into(),
                    message: format!("no service principal for appId {app_id}"),
                    request_id: None,
                    client_request_id: String::new(),
                }))),
            }
        })
        .await;
    found.map_err(|error| {
        if error.is_not_found() {
            Diagnostic::error(
                SP_MISSING,
                format!(
                    "The application with client ID {app_id} has no service principal (enterprise application) in \
                     Entra ID; it was probably deleted outside Terraform. Delete the application too (or run \
                     `terraform apply -replace=...`) so that a complete one is instantiated again."
                ),
            )
            .into()
        } else {
            graph_error(&format!("read the service principal of {app_id}"), &error).into()
        }
    })
}

/// The service principal of `app_id` for a read or a delete: the object existed at the last refresh, so a 404 means
/// it was deleted (`None`, at once) unless this provider wrote it recently, when replication lag is waited out.
pub async fn existing_service_principal_of(
    ctx: &Context,
    graph: &GraphClient,
    app_id: &str,
) -> Result<Option<ServicePrincipal>, Diagnostics> {
    if written_recently(ctx, graph.retry_policy().replication_timeout) {
        return match service_principal_of(graph, app_id).await {
            Ok(found) => Ok(Some(found)),
            Err(diagnostics) if diagnostics.iter().any(|d| d.summary == SP_MISSING) => Ok(None),
            Err(diagnostics) => Err(diagnostics),
        };
    }
    let listed = graph
        .list_service_principals_by_app_id(app_id)
        .await
        .map_err(|e| graph_error(&format!("read the service principal of {app_id}"), &e))?;
    let Some(listed) = listed.into_iter().next() else {
        return Ok(None);
    };
    match graph.get_service_principal(&listed.id).await {
        Ok(found) => Ok(Some(found)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => {
            Err(graph_error(&format!("read the service principal of {app_id}"), &error).into())
        }
    }
}

/// The gallery application is instantiated under `"<display name> (creating <uuid>)"` and renamed once both
/// objects exist (`GraphClient::instantiate_application_safely`). That name is decided before the request, so
/// it marks what an interrupted create (Terraform or the provider killed, the connection lost) left behind.
fn is_half_made(name: &str, display_name: &str) -> bool {
    name.strip_prefix(display_name)
        .and_then(|rest| rest.strip_prefix(" (creating "))
        .and_then(|rest| rest.strip_suffix(')'))
        .is_some_and(|marker| uuid::Uuid::parse_str(marker).is_ok())
}

/// Deletes the applications (with their service principals) that an interrupted create of `display_name` left
/// under its temporary name; returns their object ids. Create calls it first, so a retried apply ends with
/// exactly one application, and delete calls it last, so destroy leaves none.
pub async fn remove_half_made_applications(
    graph: &GraphClient,
    template_id: &str,
    display_name: &str,
) -> Result<Vec<String>, Diagnostics> {
    let filter = format!(
        "applicationTemplateId eq {} and startswith(displayName,{})",
        odata_string(template_id),
        odata_string(&format!("{display_name} (creating "))
    );
    let found = graph
        .list_applications(&filter)
        .await
        .map_err(|e| graph_error("look for applications left by an interrupted create", &e))?;
    let mut removed = Vec::new();
    for application in found
        .into_iter()
        .filter(|app| is_half_made(&app.display_name, display_name))
    {
        let service_principals = graph
            .list_service_principals_by_app_id(&application.app_id)
            .await
            .map_err(|e| {
                graph_error(
                    "look for the service principal of a half-made application",
                    &e,
                )
            })?;
        for sp in service_principals {
            match graph.delete_service_principal(&sp.id).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    return Err(graph_error("delete a half-made service principal", &e).into());
                }
            }
        }
        match graph.delete_application(&application.id).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(graph_error("delete a half-made application", &e).into()),
        }
        removed.push(application.id);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_temporary_name_of_this_display_name_marks_a_half_made_application() {
        let id = "0f6c1d2e-3a4b-4c5d-9e8f-7a6b5c4d3e2f";
        assert!(is_half_made(&format!("AWS (creating {id})"), "AWS"));
        assert!(!is_half_made("AWS", "AWS"));
        assert!(!is_half_made(&format!("AWS prod (creating {id})"), "AWS"));
        assert!(!is_half_made("AWS (creating soon)", "AWS"));
    }
}
