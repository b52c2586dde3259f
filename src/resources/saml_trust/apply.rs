//! Applying and reading a trust: the SAML settings on the application and service principal, the claims
//! policy and the certificate, and the outputs read back from Entra ID's federation metadata.

use super::model::{RemoteTrust, SamlTrustModel};
use super::validate::service_provider;
use crate::clients::graph::GraphClient;
use crate::clients::graph::models::{Application, ServicePrincipal};
use crate::framework::{AttributePath, Context, Diagnostic, Diagnostics};
use crate::helpers::ownership::already_exists;
use crate::helpers::recent_write::{mark_recent_write, mark_seen};
use crate::services::IdbridgeClients;
use crate::services::claims_policies::{assigned_policy, ensure_claims_policy};
use crate::services::saml_sso::{
    MissingServicePrincipal, UrlsBefore, configure_sso, federation_metadata, load_saml_application,
    metadata_url, tenant_of,
};
use crate::services::signing_certificates::{
    active_signing_thumbprint, remove_unused_signing_certificates, rotate_signing_certificate,
};

/// Which apply this is: only a create records the URLs to give back on destroy.
pub(super) enum Change {
    Create,
    Update { rotate_certificate: bool },
}

/// Reads everything into state; `None` when the application is gone or SAML was turned off outside Terraform.
pub(super) async fn refresh(
    ctx: &Context,
    clients: &IdbridgeClients,
    graph: &GraphClient,
    prior: &SamlTrustModel,
) -> Result<Option<SamlTrustModel>, Diagnostics> {
    let application_id = prior.application_id.as_str().unwrap_or_default();
    let Some((application, sp)) =
        load_saml_application(ctx, graph, application_id, MissingServicePrincipal::Gone).await?
    else {
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
    mark_seen(ctx);
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
    let loaded =
        load_saml_application(ctx, graph, application_id, MissingServicePrincipal::Wait).await?;
    let (application, sp) = loaded.ok_or_else(|| {
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
        if !planned.adopt_existing.known().copied().unwrap_or(false) {
            refuse_configured_elsewhere(&application, &sp)?;
        }
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
    if !planned.keeps_entra_default_claims() {
        ensure_claims_policy(graph, &sp, planned.claims_definition()).await?;
    }
    let rotate = matches!(
        change,
        Change::Update {
            rotate_certificate: true
        }
    );
    let none_active = active_signing_thumbprint(&sp).is_none();
    if rotate || none_active {
        let (display_name, validity_days) = planned.next_certificate();
        let thumbprint =
            rotate_signing_certificate(graph, &sp, display_name, validity_days).await?;
        if none_active && matches!(change, Change::Create) {
            remove_unused_signing_certificates(graph, &sp, &thumbprint).await?;
        }
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

/// A trust being created on an application that already signs SAML tokens with a certificate of its own was
/// set up by another configuration (or by hand): refuse, showing the import. A create that stopped half-way
/// (SAML on, no certificate activated yet) is not refused, so the next apply finishes it.
fn refuse_configured_elsewhere(
    application: &Application,
    sp: &ServicePrincipal,
) -> Result<(), Diagnostics> {
    let saml = sp.preferred_single_sign_on_mode.as_deref() == Some("saml");
    match active_signing_thumbprint(sp) {
        Some(thumbprint) if saml => Err(already_exists(
            &format!(
                "The enterprise application {:?} ({}) already has SAML single sign-on with the active signing \
                 certificate {thumbprint}",
                application.display_name, application.id
            ),
            super::TYPE_NAME,
            &application.id,
            "application_id",
        )
        .into()),
        _ => Ok(()),
    }
}
