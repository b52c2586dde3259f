//! `idbridge_access_control_attributes`: the instance's access control attribute configuration (ABAC), i.e. which
//! identity store user attributes AWS passes to accounts as session tags. One configuration per instance, so
//! create refuses to adopt one that exists already (import it instead), and destroy turns ABAC off.

mod identity;
mod list;
mod model;
mod schema;
mod validate;

use crate::services::clients::{Cloud, check_credentials_at_plan};
use std::time::Duration;

use crate::clients::aws::{AccessControlConfiguration, Deadline, IdentityCenter};
use crate::framework::{
    ApplyError, AttributePath, Context, CreateRequest, Diagnostic, Diagnostics, Model, PlanChange,
    Resource, Schema, UpdateRequest, Value, async_trait,
};
use crate::helpers::{aws_error, is_instance_arn};
use crate::services::IdbridgeClients;
use crate::services::instances::find_instance;

pub use list::AccessControlAttributesList;
pub use model::AccessControlAttributesModel;

pub const TYPE_NAME: &str = "idbridge_access_control_attributes";

/// How often a configuration being created is looked at again.
const STATUS_POLL: Duration = Duration::from_millis(500);

pub struct AccessControlAttributesResource;

fn deadline(ctx: &Context) -> Deadline {
    Deadline::after(ctx.remaining())
}

/// Reads the configuration until AWS reports it in effect; a failed creation is an error with AWS's reason.
async fn wait_enabled(
    ic: &IdentityCenter,
    instance_arn: &str,
    ctx: &Context,
) -> Result<AccessControlConfiguration, Diagnostics> {
    loop {
        let current = ic
            .describe_access_control_attributes(instance_arn, deadline(ctx))
            .await
            .map_err(|e| aws_error("Cannot read the access control attributes", &e))?
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Access control attributes disappeared",
                    format!(
                        "The configuration of {instance_arn} is gone right after it was written."
                    ),
                ))
            })?;
        match current.status.as_deref() {
            Some("CREATION_IN_PROGRESS") => tokio::time::sleep(STATUS_POLL).await,
            Some("CREATION_FAILED") => {
                return Err(Diagnostic::error(
                    "Access control attributes not enabled",
                    format!(
                        "IAM Identity Center could not enable the configuration: {}.",
                        current
                            .status_reason
                            .as_deref()
                            .unwrap_or("no reason given")
                    ),
                )
                .at(AttributePath::new("attribute"))
                .into());
            }
            _ => return Ok(current),
        }
    }
}

#[async_trait]
impl Resource for AccessControlAttributesResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn identity_schema(&self) -> Option<crate::framework::IdentitySchema> {
        Some(identity::identity_schema())
    }

    fn default_timeout(&self, _operation: crate::framework::Operation) -> Duration {
        Duration::from_secs(5 * 60)
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        match AccessControlAttributesModel::decode(config) {
            Ok(config) => validate::unique_keys(&config.attribute.0),
            // Unknown blocks (dynamic blocks over unknown values) are checked at apply.
            Err(_) => Diagnostics::new(),
        }
    }

    async fn modify_plan(&self, ctx: &Context, plan: &mut PlanChange) -> Result<(), Diagnostics> {
        if plan.is_destroy() {
            return Ok(());
        }
        check_credentials_at_plan(ctx, &[Cloud::Aws]).await?;
        let mut planned = AccessControlAttributesModel::decode(&plan.planned)?;
        // The status only changes when the attributes do; otherwise it keeps the value read.
        if !plan.is_create() {
            let prior = AccessControlAttributesModel::decode(&plan.prior)?;
            planned.status = if prior.attribute == planned.attribute {
                prior.status
            } else {
                crate::framework::Attr::unknown()
            };
            plan.planned = planned.encode();
        }
        Ok(())
    }

    async fn create(&self, ctx: &Context, request: CreateRequest) -> Result<Value, ApplyError> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let ic = clients.identity_center().await?;
        let planned = AccessControlAttributesModel::decode(&request.planned)?;
        let instance = ctx
            .guard(find_instance(
                &ic,
                planned.instance_arn.as_str(),
                deadline(ctx),
                AttributePath::new("instance_arn"),
            ))
            .await?;
        let instance_arn = instance.instance_arn;
        let existing = ctx
            .guard(async {
                ic.describe_access_control_attributes(&instance_arn, deadline(ctx))
                    .await
                    .map_err(|e| aws_error("Cannot read the access control attributes", &e).into())
            })
            .await?;
        if existing.is_some() {
            return Err(Diagnostic::error(
                "Access control attributes already configured",
                format!(
                    "The instance {instance_arn} already has an access control attribute configuration (made in \
                     the console or by another configuration). Import it instead of creating a second owner: \
                     `import {{ to = idbridge_access_control_attributes.<name>  id = \"{instance_arn}\" }}`."
                ),
            )
            .at(AttributePath::new("instance_arn"))
            .into());
        }
        let desired = planned.desired();
        let enabled = ctx
            .guard(async {
                ic.create_access_control_attributes(&instance_arn, &desired, deadline(ctx))
                    .await
                    .map_err(|e| aws_error("Cannot configure the access control attributes", &e))?;
                wait_enabled(&ic, &instance_arn, ctx).await
            })
            .await?;
        Ok(planned.refreshed(&instance_arn, &enabled).encode())
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let ic = clients.identity_center().await?;
        let state = AccessControlAttributesModel::decode(&state)?;
        let Some(instance_arn) = state.instance_arn.known().cloned() else {
            return Ok(None);
        };
        let remote = ctx
            .guard(async {
                ic.describe_access_control_attributes(&instance_arn, deadline(ctx))
                    .await
                    .map_err(|e| aws_error("Cannot read the access control attributes", &e).into())
            })
            .await?;
        Ok(remote.map(|remote| state.refreshed(&instance_arn, &remote).encode()))
    }

    async fn update(&self, ctx: &Context, request: UpdateRequest) -> Result<Value, ApplyError> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let ic = clients.identity_center().await?;
        let planned = AccessControlAttributesModel::decode(&request.planned)?;
        let prior = AccessControlAttributesModel::decode(&request.prior)?;
        let instance_arn = prior.instance_arn.as_str().unwrap_or_default().to_string();
        let desired = planned.desired();
        let enabled = ctx
            .guard(async {
                ic.update_access_control_attributes(&instance_arn, &desired, deadline(ctx))
                    .await
                    .map_err(|e| aws_error("Cannot update the access control attributes", &e))?;
                wait_enabled(&ic, &instance_arn, ctx).await
            })
            .await?;
        Ok(planned.refreshed(&instance_arn, &enabled).encode())
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let ic = clients.identity_center().await?;
        let state = AccessControlAttributesModel::decode(&state)?;
        let Some(instance_arn) = state.instance_arn.known().cloned() else {
            return Ok(());
        };
        ctx.guard(async {
            ic.delete_access_control_attributes(&instance_arn, deadline(ctx))
                .await
                .map_err(|e| aws_error("Cannot turn off the access control attributes", &e).into())
        })
        .await
    }

    async fn import_state(&self, _ctx: &Context, id: &str) -> Result<Value, Diagnostics> {
        if !is_instance_arn(id) {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!(
                    "{id:?} is not an IAM Identity Center instance ARN. Import with the instance ARN \
                     (arn:aws:sso:::instance/ssoins-...), the `arn` of data.idbridge_sso_instance."
                ),
            )
            .into());
        }
        Ok(AccessControlAttributesModel {
            id: id.into(),
            instance_arn: id.into(),
            ..Default::default()
        }
        .encode())
    }
}

#[cfg(test)]
mod tests;
