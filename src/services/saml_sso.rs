//! An application's SAML single sign-on in Entra ID: turning it on with the service provider's (AWS's) URLs and
//! off again (giving back the URLs the application had), the service principal with its signing keys, and the
//! anonymous federation metadata the service provider is given.

use crate::clients::graph::GraphClient;
use crate::clients::graph::models::{
    Application, ApplicationPatch, SamlSingleSignOnSettingsPatch, ServicePrincipal,
    ServicePrincipalPatch, WebApplication,
};
use crate::framework::{Context, Diagnostic, Diagnostics};
use crate::helpers::graph_error;
use crate::saml::{self, IdpFederationMetadata};
use crate::services::IdbridgeClients;
use crate::services::applications::{
    existing_service_principal_of, read_application, service_principal_of,
};
use crate::services::claims_policies::{delete_policies_for_application, remove_claims_policies};
use crate::services::signing_certificates::custom_key_identifier_of;

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

/// How a missing service principal is taken by [`load_saml_application`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingServicePrincipal {
    /// Apply: it may not have replicated yet; wait, then fail.
    Wait,
    /// Read and delete: it existed at the last refresh, so a 404 means deleted (unless written recently).
    Gone,
}

/// The application and its service principal with the SAML settings and signing keys; `None` when the
/// application (or, with [`MissingServicePrincipal::Gone`], its service principal) is gone.
pub async fn load_saml_application(
    ctx: &Context,
    graph: &GraphClient,
    application_id: &str,
    missing: MissingServicePrincipal,
) -> Result<Option<(Application, ServicePrincipal)>, Diagnostics> {
    let Some(application) = read_application(ctx, graph, application_id).await? else {
        return Ok(None);
    };
    let listed = match missing {
        MissingServicePrincipal::Wait => service_principal_of(graph, &application.app_id).await?,
        MissingServicePrincipal::Gone => {
            match existing_service_principal_of(ctx, graph, &application.app_id).await? {
                Some(found) => found,
                None => return Ok(None),
            }
        }
    };
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

/// Entity ID, ACS URL and sign-on URL from the metadata file or the explicit arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProvider {
    pub entity_id: String,
    pub acs_url: String,
    pub sign_on_url: Option<String>,
}

/// The application's identifier and reply URLs before the trust was created (the gallery app comes with its
/// own), kept in private state so that destroying the trust gives the application back as it was.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UrlsBefore {
    pub identifier_uris: Vec<String>,
    pub redirect_uris: Vec<String>,
}

impl UrlsBefore {
    const PRIVATE_KEY: &str = "urls_before";

    pub fn of(application: &Application) -> UrlsBefore {
        UrlsBefore {
            identifier_uris: application.identifier_uris.clone(),
            redirect_uris: application
                .web
                .as_ref()
                .and_then(|web| web.redirect_uris.clone())
                .unwrap_or_default(),
        }
    }

    /// `None` for an imported trust: nothing was recorded.
    pub fn from_private(ctx: &Context) -> Option<UrlsBefore> {
        serde_json::from_value(ctx.private_entry(Self::PRIVATE_KEY)?).ok()
    }

    pub fn to_private(&self, ctx: &Context) {
        if let Ok(value) = serde_json::to_value(self) {
            ctx.set_private_entry(Self::PRIVATE_KEY, value);
        }
    }
}

/// Applies the SAML settings of `planned` to the application and service principal.
pub async fn configure_sso(
    graph: &GraphClient,
    application: &Application,
    sp: &ServicePrincipal,
    provider: &ServiceProvider,
    relay_state: Option<&str>,
) -> Result<(), Diagnostics> {
    let app_patch = ApplicationPatch {
        identifier_uris: Some(vec![provider.entity_id.clone()]),
        web: Some(WebApplication {
            redirect_uris: Some(vec![provider.acs_url.clone()]),
            ..Default::default()
        }),
        ..Default::default()
    };
    graph
        .read_after_write(|| graph.update_application(&application.id, &app_patch))
        .await
        .map_err(|e| graph_error("set the identifier and reply URL", &e))?;
    let sp_patch = ServicePrincipalPatch {
        preferred_single_sign_on_mode: Some(Some("saml".into())),
        login_url: Some(provider.sign_on_url.clone()),
        saml_single_sign_on_settings: Some(SamlSingleSignOnSettingsPatch {
            relay_state: relay_state.map(str::to_string),
        }),
        ..Default::default()
    };
    graph
        .read_after_write(|| graph.update_service_principal(&sp.id, &sp_patch))
        .await
        .map_err(|e| graph_error("turn on SAML single sign-on", &e))?;
    Ok(())
}

/// Turns the trust off and removes what it created; the application itself stays.
pub async fn turn_off_saml(
    ctx: &Context,
    graph: &GraphClient,
    application_id: &str,
) -> Result<(), Diagnostics> {
    let Some((application, sp)) =
        load_saml_application(ctx, graph, application_id, MissingServicePrincipal::Gone).await?
    else {
        return policies_of_a_gone_service_principal(ctx, graph, application_id).await;
    };
    match revert_saml(ctx, graph, &application, &sp).await {
        // Deleted meanwhile (e.g. its application destroyed in the same run, with no dependency between the
        // two, as in generated configuration): what was to be reverted went with it.
        Err(failed)
            if load_saml_application(ctx, graph, application_id, MissingServicePrincipal::Gone)
                .await?
                .is_none() =>
        {
            tracing::debug!(
                ?failed,
                "the service principal went away while SAML was turned off"
            );
            policies_of_a_gone_service_principal(ctx, graph, application_id).await
        }
        outcome => outcome,
    }
}

/// The service principal (with its settings and keys) is gone; the policies are tenant objects and stay.
async fn policies_of_a_gone_service_principal(
    ctx: &Context,
    graph: &GraphClient,
    application_id: &str,
) -> Result<(), Diagnostics> {
    if let Some(application) = read_application(ctx, graph, application_id).await? {
        delete_policies_for_application(graph, &application.app_id).await?;
    }
    Ok(())
}

async fn revert_saml(
    ctx: &Context,
    graph: &GraphClient,
    application: &Application,
    sp: &ServicePrincipal,
) -> Result<(), Diagnostics> {
    remove_claims_policies(graph, sp).await?;
    let revert = ServicePrincipalPatch {
        preferred_single_sign_on_mode: Some(None),
        login_url: Some(None),
        saml_single_sign_on_settings: Some(SamlSingleSignOnSettingsPatch { relay_state: None }),
        preferred_token_signing_key_thumbprint: Some(None),
        ..Default::default()
    };
    graph
        .update_service_principal(&sp.id, &revert)
        .await
        .map_err(|e| graph_error("turn off SAML single sign-on", &e))?;
    if let Some(thumbprint) = sp.preferred_token_signing_key_thumbprint.as_deref()
        && let Some(identifier) = custom_key_identifier_of(sp, thumbprint)
    {
        graph
            .remove_token_signing_certificate(&sp.id, &identifier, None)
            .await
            .map_err(|e| graph_error("remove the signing certificate", &e))?;
    }
    // Back to the URLs the application had before the trust; without a record (imported), the
    // identifier is cleared and the reply URL left as it is.
    let revert_urls = match UrlsBefore::from_private(ctx) {
        Some(before) => ApplicationPatch {
            identifier_uris: Some(before.identifier_uris),
            web: Some(WebApplication {
                redirect_uris: Some(before.redirect_uris),
                ..Default::default()
            }),
            ..Default::default()
        },
        None => ApplicationPatch {
            identifier_uris: Some(Vec::new()),
            ..Default::default()
        },
    };
    graph
        .update_application(&application.id, &revert_urls)
        .await
        .map_err(|e| graph_error("restore the identifier and reply URLs", &e))?;
    Ok(())
}
