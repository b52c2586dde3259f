//! `idbridge_saml_trust`: SAML single sign-on of the AWS IAM Identity Center enterprise application.
//!
//! Configures the service provider side in Entra ID (identifier, reply URL, sign-on URL, relay state), the claims
//! (NameID and extra attributes through a claims mapping policy), and a token signing certificate that is made
//! active (Entra does not activate a new certificate by itself). The outputs are what the IAM Identity Center
//! console asks for, taken from Entra's published federation metadata for the application.
//!
//! Certificate rotation is planned: once the active certificate is within `rotate_before_days` of expiry, the
//! plan marks the certificate outputs as changing and warns that the new metadata must be uploaded to AWS; the
//! apply then creates a new certificate, activates it and removes the old one.

mod apply;
mod identity;
mod list;
mod model;
mod nameid_check;
mod schema;
mod validate;

use crate::services::clients::{Cloud, check_credentials_at_plan};
use async_trait::async_trait;
use time::OffsetDateTime;

use crate::framework::{
    ApplyError, Attr, AttributePath, Context, CreateRequest, Diagnostic, Diagnostics, Model,
    PlanChange, Resource, Schema, UpdateRequest, Value,
};
use crate::saml::nameid_formats;
use crate::services::clients::graph_clients;
use crate::services::signing_certificates::days_left;

use crate::services::saml_sso::turn_off_saml;
use apply::{Change, apply, refresh};
pub use model::SamlTrustModel;
use validate::{rotation_within_validity, service_provider};

pub use list::SamlTrustList;

pub const TYPE_NAME: &str = "idbridge_saml_trust";

const DEFAULT_NAMEID_SOURCE: &str = "user.userprincipalname";
const DEFAULT_CERTIFICATE_NAME: &str = "CN=Microsoft Azure Federated SSO Certificate";
pub(super) const DEFAULT_VALIDITY_DAYS: i64 = 1095;
pub(super) const DEFAULT_ROTATE_BEFORE_DAYS: i64 = 30;

pub struct SamlTrustResource;

/// Sets `planned` to `default` where the configuration leaves the attribute unset.
fn default_unset<T>(configured: &Attr<T>, planned: &mut Attr<T>, default: T) {
    if configured.is_null() {
        *planned = Attr::Known(default);
    }
}

#[async_trait]
impl Resource for SamlTrustResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn identity_schema(&self) -> Option<crate::framework::IdentitySchema> {
        Some(identity::identity_schema())
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let config = match SamlTrustModel::decode(config) {
            Ok(config) => config,
            Err(diags) => return diags,
        };
        let mut diags = Diagnostics::new();
        service_provider(&config, &mut diags);
        diags.extend(rotation_within_validity(&config));
        diags
    }

    async fn modify_plan(&self, ctx: &Context, plan: &mut PlanChange) -> Result<(), Diagnostics> {
        if plan.is_destroy() {
            return Ok(());
        }
        check_credentials_at_plan(ctx, &[Cloud::Entra]).await?;
        let config = SamlTrustModel::decode(&plan.config)?;
        let mut planned = SamlTrustModel::decode(&plan.planned)?;
        let adopted_with_default_claims = !plan.is_create()
            && SamlTrustModel::decode(&plan.prior)?.adopted_with_default_claims(&config);
        if adopted_with_default_claims {
            // Entra issues its default claims and there is no policy to manage: plan none, like the state.
            planned.nameid_source = Attr::Null;
            planned.nameid_format = Attr::Null;
        } else {
            default_unset(
                &config.nameid_source,
                &mut planned.nameid_source,
                DEFAULT_NAMEID_SOURCE.to_string(),
            );
            default_unset(
                &config.nameid_format,
                &mut planned.nameid_format,
                nameid_formats::EMAIL_ADDRESS.to_string(),
            );
        }
        default_unset(
            &config.certificate_display_name,
            &mut planned.certificate_display_name,
            DEFAULT_CERTIFICATE_NAME.to_string(),
        );
        default_unset(
            &config.certificate_validity_days,
            &mut planned.certificate_validity_days,
            DEFAULT_VALIDITY_DAYS,
        );
        default_unset(
            &config.rotate_before_days,
            &mut planned.rotate_before_days,
            DEFAULT_ROTATE_BEFORE_DAYS,
        );
        let mut diags = Diagnostics::new();
        let provider = service_provider(&config, &mut diags);
        if diags.has_errors() {
            return Err(diags);
        }
        if let Some(provider) = provider {
            planned.entity_id = provider.entity_id.into();
            planned.acs_url = provider.acs_url.into();
        }
        nameid_check::warn_on_nameid_mismatch(ctx, &planned).await;
        if !plan.is_create() {
            let prior = SamlTrustModel::decode(&plan.prior)?;
            planned.plan_repairs(&prior);
            if adopted_with_default_claims {
                planned.claims_mapping_policy_id = Attr::Null;
            }
            let rotate_before = planned
                .rotate_before_days
                .known()
                .copied()
                .unwrap_or(DEFAULT_ROTATE_BEFORE_DAYS);
            if let Some(left) = prior
                .certificate_expires_at
                .as_str()
                .and_then(|expiry| days_left(expiry, OffsetDateTime::now_utc()))
                && left < rotate_before
            {
                for output in planned.certificate_outputs_mut() {
                    *output = Attr::unknown();
                }
                ctx.add_diagnostic(
                    Diagnostic::warning(
                        "SAML signing certificate will be rotated",
                        format!(
                            "The active token signing certificate expires in {left} days (rotate_before_days = \
                             {rotate_before}). This apply creates a new certificate, activates it and removes the \
                             old one. Sign-in to AWS fails until the new `idp_metadata_xml` (or \
                             `idp_certificate_pem`) is uploaded in IAM Identity Center: Settings > Identity source \
                             > Actions > Manage authentication > Manage SAML 2.0 authentication."
                        ),
                    )
                    .at(AttributePath::new("certificate_thumbprint")),
                );
            }
        }
        plan.planned = planned.encode();
        Ok(())
    }

    async fn create(&self, ctx: &Context, request: CreateRequest) -> Result<Value, ApplyError> {
        let (clients, graph) = graph_clients(ctx).await?;
        let config = SamlTrustModel::decode(&request.config)?;
        let planned = SamlTrustModel::decode(&request.planned)?;
        let state = ctx
            .guard(apply(
                ctx,
                &clients,
                &graph,
                &config,
                &planned,
                Change::Create,
            ))
            .await?;
        Ok(state.encode())
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let (clients, graph) = graph_clients(ctx).await?;
        let state = SamlTrustModel::decode(&state)?;
        if state.application_id.as_str().is_none() {
            return Ok(None);
        }
        let refreshed = ctx.guard(refresh(ctx, &clients, &graph, &state)).await?;
        Ok(refreshed.map(|model| model.encode()))
    }

    async fn update(&self, ctx: &Context, request: UpdateRequest) -> Result<Value, ApplyError> {
        let (clients, graph) = graph_clients(ctx).await?;
        let config = SamlTrustModel::decode(&request.config)?;
        let planned = SamlTrustModel::decode(&request.planned)?;
        let change = Change::Update {
            rotate_certificate: planned.certificate_thumbprint.is_unknown(),
        };
        let state = ctx
            .guard(apply(ctx, &clients, &graph, &config, &planned, change))
            .await?;
        Ok(state.encode())
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        let (_, graph) = graph_clients(ctx).await?;
        let state = SamlTrustModel::decode(&state)?;
        let application_id = state.application_id.as_str().unwrap_or_default();
        ctx.guard(turn_off_saml(ctx, &graph, application_id)).await
    }

    async fn import_state(&self, _ctx: &Context, id: &str) -> Result<Value, Diagnostics> {
        if id.trim().is_empty() || id.contains('/') {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!("{id:?} is not an application object ID; import with the application's object ID."),
            )
            .into());
        }
        Ok(SamlTrustModel {
            id: id.into(),
            application_id: id.into(),
            ..Default::default()
        }
        .encode())
    }
}

#[cfg(test)]
mod tests;
