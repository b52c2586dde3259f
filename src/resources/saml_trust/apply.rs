//! Applying and reading a trust: the SAML settings on the application and service principal, the claims
//! policy and the certificate, and the outputs read back from Entra ID's federation metadata.

use super::model::{RemoteTrust, SamlTrustModel, UrlsBefore};
use super::validate::{ServiceProvider, service_provider};
use crate::clients::graph::GraphClient;
use crate::clients::graph::models::{
    Application, ApplicationPatch, SamlSingleSignOnSettingsPatch, ServicePrincipal,
    ServicePrincipalPatch, WebApplication,
};
use crate::framework::{AttributePath, Context, Diagnostic, Diagnostics};
use crate::helpers::graph_error;
use crate::helpers::recent_write::mark_recent_write;
use crate::services::IdbridgeClients;
use crate::services::claims_policies::{assigned_policy, ensure_claims_policy};
use crate::services::saml_sso::{
    federation_metadata, load_saml_application, metadata_url, tenant_of,
};
use crate::services::signing_certificates::{custom_key_identifier_of, rotate_signing_certificate};

/// Which apply this is: only a create records the URLs to give back on destroy.
pub(super) enum Change {
    Create,
    Update { rotate_certificate: bool },
}

/// Applies the SAML settings of `planned` to the application and service principal.
async fn configure_sso(
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

/// Reads everything into state; `None` when the application is gone or SAML was turned off outside Terraform.
pub(super) async fn refresh(
    ctx: &Context,
    clients: &IdbridgeClients,
    graph: &GraphClient,
    prior: &SamlTrustModel,
) -> Result<Option<SamlTrustModel>, Diagnostics> {
    let application_id = prior.application_id.as_str().unwrap_or_default();
    let Some((application, sp)) = load_saml_application(ctx, graph, application_id).await? else {
        return Ok(None);
    };
    if sp.preferred_single_sign_on_mode.as_deref() != Some("saml") {
        ctx.warn(
            "SAML single sign-on turned off outside Terraform",
            format!(
                "The enterprise application {} no longer uses SAML single sign-on; the trust will be configured \
                 again.",
                application.display_name
            ),
        );
        return Ok(None);
    }
    let claims_policy = assigned_policy(graph, &sp.id).await?;
    let tenant = tenant_of(clients)?;
    let (metadata_xml, metadata) = federation_metadata(graph, &tenant, &application.app_id).await?;
    Ok(Some(prior.refreshed(&RemoteTrust {
        application: &application,
        service_principal: &sp,
        claims_policy: claims_policy.as_ref(),
        metadata_url: metadata_url(graph, &tenant, &application.app_id),
        metadata_xml,
        metadata: &metadata,
    })))
}

/// Applies the whole plan: SSO settings, claims, and a certificate when none is active or rotation is due.
pub(super) async fn apply(
    ctx: &Context,
    clients: &IdbridgeClients,
    graph: &GraphClient,
    config: &SamlTrustModel,
    planned: &SamlTrustModel,
    change: Change,
) -> Result<SamlTrustModel, Diagnostics> {
    let mut diags = Diagnostics::new();
    // From the configuration: in the plan, entity_id/acs_url are also filled in from the metadata file.
    let provider = service_provider(config, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    let provider = provider.ok_or_else(|| {
        Diagnostics::from(Diagnostic::error(
            "SAML arguments unknown",
            "The SAML arguments are still unknown at apply.",
        ))
    })?;
    let application_id = planned.application_id.as_str().unwrap_or_default();
    let (application, sp) = load_saml_application(ctx, graph, application_id).await?.ok_or_else(|| {
        Diagnostics::from(
            Diagnostic::error(
                "Application not found",
                format!("No Entra ID application has the object ID {application_id}; pass `idbridge_entra_application.<name>.id`."),
            )
            .at(AttributePath::new("application_id")),
        )
    })?;
    // Only before the trust's first write are these the application's own URLs; after an import they are the
    // trust's, and destroy must not "restore" them.
    if matches!(change, Change::Create) {
        UrlsBefore::of(&application).to_private(ctx);
    }
    configure_sso(
        graph,
        &application,
        &sp,
        &provider,
        planned.relay_state.as_str(),
    )
    .await?;
    ensure_claims_policy(graph, &sp, planned.claims_definition()).await?;
    let rotate = matches!(
        change,
        Change::Update {
            rotate_certificate: true
        }
    );
    if rotate || sp.preferred_token_signing_key_thumbprint.is_none() {
        let (display_name, validity_days) = planned.next_certificate();
        rotate_signing_certificate(graph, &sp, display_name, validity_days).await?;
    }
    mark_recent_write(ctx);
    refresh(ctx, clients, graph, &planned.seed_for_refresh())
        .await?
        .ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "SAML configuration did not stick",
                "The application or its SAML mode disappeared right after it was configured.",
            ))
        })
}

/// Turns the trust off and removes what it created; the application itself stays.
pub(super) async fn remove(
    ctx: &Context,
    graph: &GraphClient,
    application_id: &str,
) -> Result<(), Diagnostics> {
    let Some((application, sp)) = load_saml_application(ctx, graph, application_id).await? else {
        return Ok(());
    };
    if let Some(policy) = assigned_policy(graph, &sp.id).await? {
        graph
            .unassign_claims_mapping_policy(&sp.id, &policy.id)
            .await
            .map_err(|e| graph_error("unassign the claims mapping policy", &e))?;
        match graph.delete_claims_mapping_policy(&policy.id).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                return Err(graph_error("delete the claims mapping policy", &e).into());
            }
        }
    }
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
        && let Some(identifier) = custom_key_identifier_of(&sp, thumbprint)
    {
        graph
            .remove_token_signing_certificate(&sp.id, &identifier)
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
