//! The Entra application and its service principal as resources find them: waiting out replication lag after
//! our own writes, and telling a deleted object from a slow one.

use crate::clients::graph::models::{Application, ServicePrincipal};
use crate::clients::graph::{GraphClient, GraphError};
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
