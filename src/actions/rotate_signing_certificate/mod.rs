//! `idbridge_rotate_signing_certificate`: rotates the SAML token signing certificate of an AWS IAM Identity
//! Center application now: a new certificate is added, made the active one, the previous one removed, and
//! the new thumbprint and expiry reported (to upload the new IdP metadata to AWS).

use async_trait::async_trait;

use crate::framework::{
    Action, ActionProgress, Attr, Attribute, AttributePath, Context, Diagnostic, Diagnostics,
    Model, Schema, Value,
};
use crate::helpers::graph_error;
use crate::services::applications::{read_application, service_principal_of};
use crate::services::clients::graph_clients;
use crate::services::signing_certificates::{certificate_expiry, rotate_signing_certificate};

pub const TYPE_NAME: &str = "idbridge_rotate_signing_certificate";

/// What Entra ID names the certificates it makes for SAML applications.
const DEFAULT_CERTIFICATE_NAME: &str = "CN=Microsoft Azure Federated SSO Certificate";
const DEFAULT_VALIDITY_DAYS: i64 = 1095;

crate::model! {
    #[derive(Clone, Debug, Default)]
    pub struct RotateSigningCertificateModel {
        pub application_id: Attr<String>,
        pub certificate_display_name: Attr<String>,
        pub certificate_validity_days: Attr<i64>,
    }
}

pub struct RotateSigningCertificateAction;

fn schema() -> Schema {
    Schema::new()
        .description(
            "Rotates the SAML token signing certificate of an AWS IAM Identity Center application now: adds a new \
             certificate, activates it, removes the previous one, and reports the new thumbprint and expiry. AWS \
             rejects sign-ins signed with the new certificate until the new IdP metadata is uploaded to IAM \
             Identity Center; an `idbridge_saml_trust` managing the application shows the new thumbprint at its \
             next refresh.",
        )
        .attribute(super::application_id_attribute())
        .attribute(
            Attribute::string("certificate_display_name")
                .optional()
                .description(format!("Subject of the new certificate (starts with `CN=`); `{DEFAULT_CERTIFICATE_NAME}` when left out.")),
        )
        .attribute(
            Attribute::number("certificate_validity_days")
                .optional()
                .description(format!("Validity of the new certificate in days; {DEFAULT_VALIDITY_DAYS} (3 years) when left out.")),
        )
}

#[async_trait]
impl Action for RotateSigningCertificateAction {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let Ok(config) = RotateSigningCertificateModel::decode(config) else {
            return diags;
        };
        if let Some(name) = config.certificate_display_name.as_str()
            && !name.starts_with("CN=")
        {
            diags.error_at(
                AttributePath::new("certificate_display_name"),
                "Invalid certificate name",
                format!("{name:?} must start with `CN=`, e.g. `CN=AWS IAM Identity Center`."),
            );
        }
        if let Some(days) = config.certificate_validity_days.known()
            && !(1..=3650).contains(days)
        {
            diags.error_at(
                AttributePath::new("certificate_validity_days"),
                "Invalid validity",
                format!("{days} days is out of range; use 1 to 3650."),
            );
        }
        diags
    }

    async fn invoke(
        &self,
        ctx: &Context,
        config: Value,
        progress: &ActionProgress,
    ) -> Result<(), Diagnostics> {
        let config = RotateSigningCertificateModel::decode(&config)?;
        let application_id = config.application_id.as_str().unwrap_or_default();
        let name = config
            .certificate_display_name
            .as_str()
            .unwrap_or(DEFAULT_CERTIFICATE_NAME);
        let days = config
            .certificate_validity_days
            .known()
            .copied()
            .unwrap_or(DEFAULT_VALIDITY_DAYS);
        let (_, graph) = graph_clients(ctx).await?;
        let application = read_application(ctx, &graph, application_id)
            .await?
            .ok_or_else(|| {
                Diagnostics::from(
                    Diagnostic::error(
                        "Application not found",
                        format!("No application with object id {application_id} exists."),
                    )
                    .at(AttributePath::new("application_id")),
                )
            })?;
        let sp = service_principal_of(&graph, &application.app_id).await?;
        let previous = sp.preferred_token_signing_key_thumbprint.clone();
        progress
            .report(format!(
                "Creating a signing certificate {name} valid {days} days"
            ))
            .await;
        let thumbprint = ctx
            .guard(rotate_signing_certificate(&graph, &sp, name, days))
            .await?;
        let now = graph
            .read_after_write(|| graph.get_service_principal(&sp.id))
            .await
            .map_err(|e| graph_error("read the enterprise application", &e))?;
        let expiry = certificate_expiry(&now, &thumbprint).unwrap_or_else(|| "unknown".into());
        progress
            .report(format!(
                "Active signing certificate is now {thumbprint} (expires {expiry}){}",
                previous
                    .map(|p| format!("; {p} was removed"))
                    .unwrap_or_default()
            ))
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model_matches_schema;

    #[test]
    fn model_matches_schema() {
        assert_model_matches_schema::<RotateSigningCertificateModel>(&schema());
    }

    #[tokio::test]
    async fn names_and_validity_are_checked_at_validation() {
        let ctx = Context::for_tests(TYPE_NAME, None);
        let config = Value::object([
            (
                "application_id",
                Value::from("00000000-0000-0000-0000-000000000001"),
            ),
            ("certificate_display_name", Value::from("AWS")),
            ("certificate_validity_days", Value::from(0)),
        ]);
        let diags = RotateSigningCertificateAction
            .validate_config(&ctx, &config)
            .await;
        let summaries: Vec<_> = diags.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(
            summaries,
            vec!["Invalid certificate name", "Invalid validity"]
        );
    }
}
