//! What Entra ID publishes and holds for an application's SAML single sign-on: the service principal with its
//! signing keys, and the anonymous federation metadata the service provider (AWS) is given.

use crate::clients::graph::GraphClient;
use crate::clients::graph::models::{Application, ServicePrincipal};
use crate::framework::{Context, Diagnostic, Diagnostics};
use crate::helpers::graph_error;
use crate::saml::{self, IdpFederationMetadata};
use crate::services::IdbridgeClients;
use crate::services::applications::{read_application, service_principal_of};

/// The tenant ID, which the federation metadata URL contains.
pub fn tenant_of(clients: &IdbridgeClients) -> Result<String, Diagnostics> {
    clients
        .entra_settings()?
        .tenant_id
        .clone()
        .ok_or_else(|| {
            Diagnostic::error(
                "Tenant ID required",
                "The federation metadata URL needs the tenant ID: set `tenant_id` in the provider's `entra` block \
                 or ARM_TENANT_ID.",
            )
            .into()
        })
}

/// The anonymous URL of the application's federation metadata.
pub fn metadata_url(graph: &GraphClient, tenant: &str, app_id: &str) -> String {
    format!(
        "{}/{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid={app_id}",
        graph.login_endpoint().trim_end_matches('/')
    )
}

/// Fetches and parses the application's federation metadata.
pub async fn federation_metadata(
    graph: &GraphClient,
    tenant: &str,
    app_id: &str,
) -> Result<(String, IdpFederationMetadata), Diagnostics> {
    let xml = graph
        .fetch_federation_metadata(tenant, app_id)
        .await
        .map_err(|e| graph_error("fetch the federation metadata", &e))?;
    let parsed = saml::parse_idp_federation_metadata(&xml).map_err(|e| {
        Diagnostic::error(
            "Unreadable federation metadata",
            format!(
                "Entra ID's federation metadata for application {app_id} could not be read: {e}."
            ),
        )
    })?;
    Ok((xml, parsed))
}

/// The application and its service principal with the SAML settings and signing keys; `None` when the
/// application is gone.
pub async fn load_saml_application(
    ctx: &Context,
    graph: &GraphClient,
    application_id: &str,
) -> Result<Option<(Application, ServicePrincipal)>, Diagnostics> {
    let Some(application) = read_application(ctx, graph, application_id).await? else {
        return Ok(None);
    };
    let listed = service_principal_of(graph, &application.app_id).await?;
    // keyCredentials are complete (with end dates) only when selected explicitly.
    let sp = graph
        .read_after_write(|| async {
            let url = graph.url(
                &format!("/servicePrincipals/{}", listed.id),
                &[(
                    "$select",
                    "id,appId,displayName,preferredSingleSignOnMode,loginUrl,samlSingleSignOnSettings,\
                     preferredTokenSigningKeyThumbprint,keyCredentials,tags,appRoleAssignmentRequired",
                )],
            );
            graph.get::<ServicePrincipal>(&url).await
        })
        .await
        .map_err(|e| graph_error("read the service principal", &e))?;
    Ok(Some((application, sp)))
}
