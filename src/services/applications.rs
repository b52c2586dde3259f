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
                "Service principal missing",
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
