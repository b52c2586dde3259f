//! `idbridge_sign_in_preview`: what signing in to AWS IAM Identity Center will give one Entra user, and every
//! reason it would fail, so that a `check` block or a postcondition can prove that an apply let people in.
//! The work is in `services::sign_in`; this module decodes, validates and encodes.

mod model;
mod schema;

use async_trait::async_trait;

use crate::framework::{
    AttributePath, Context, DataSource, Diagnostic, Diagnostics, Model, Schema, Value,
};
use crate::services::IdbridgeClients;
use crate::services::sign_in::{SignInRequest, preview};

use model::SignInPreviewModel;

pub const TYPE_NAME: &str = "idbridge_sign_in_preview";

pub struct SignInPreviewDataSource;

/// Exactly one of `user_id` and `user_principal_name` (unknown ones are checked again at read).
fn check_user_selector(config: &SignInPreviewModel) -> Result<(), Diagnostic> {
    let (id, upn) = (&config.user_id, &config.user_principal_name);
    if id.is_unknown() || upn.is_unknown() {
        return Ok(());
    }
    match (id.is_null(), upn.is_null()) {
        (false, false) => Err(Diagnostic::error(
            "Conflicting user selectors",
            "Set either `user_id` or `user_principal_name`, not both.",
        )
        .at(AttributePath::new("user_id"))),
        (true, true) => Err(Diagnostic::error(
            "Missing user",
            "Set `user_principal_name` (e.g. \"alice@contoso.com\") or `user_id` (the user's object id).",
        )),
        _ => Ok(()),
    }
}

#[async_trait]
impl DataSource for SignInPreviewDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        match SignInPreviewModel::decode(config) {
            Ok(config) => check_user_selector(&config)
                .err()
                .map(Diagnostics::from)
                .unwrap_or_default(),
            Err(diagnostics) => diagnostics,
        }
    }

    async fn read(&self, ctx: &Context, config: Value) -> Result<Value, Diagnostics> {
        let config = SignInPreviewModel::decode(&config)?;
        check_user_selector(&config)?;
        let clients = IdbridgeClients::from_context(ctx)?;
        let request = SignInRequest {
            application_id: config.application_id.as_str().unwrap_or_default(),
            user_id: config.user_id.as_str(),
            user_principal_name: config.user_principal_name.as_str(),
            instance_arn: config.instance_arn.as_str(),
        };
        let found = ctx.guard(preview(ctx, &clients, request)).await?;
        Ok(config.with_preview(found).encode())
    }
}

#[cfg(test)]
mod tests;
