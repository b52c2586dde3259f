//! `idbridge_permission_set`: an IAM Identity Center permission set with its policies, permissions boundary
//! and tags. Every change is followed by re-provisioning the set to the accounts it is provisioned to, so
//! users signing in get the new permissions without a manual "Update in accounts" in the console.
//!
//! The inline policy is compared as JSON, not as text: whitespace or key order never shows as a diff, and
//! the state keeps the text the user wrote as long as it means the same as what AWS holds.

mod identity;
mod list;
mod model;
mod plan;
mod schema;
mod validate;

use crate::services::clients::{Cloud, check_credentials_at_plan};
use async_trait::async_trait;

use crate::clients::aws::Deadline;
use crate::framework::{
    ApplyError, AttributePath, Context, CreateRequest, Diagnostic, Diagnostics, Field, Model,
    PlanChange, Resource, Schema, UpdateRequest, Value,
};
use crate::helpers::{aws_error, instance_arn_of};
use crate::services::IdbridgeClients;
use crate::services::instances::find_instance;

use crate::services::permission_sets::{Created, Desired, converge, create_or_adopt, fetch_remote};

use model::{PermissionSetModel, created_date, state_from_remote};

pub use list::PermissionSetList;

pub const TYPE_NAME: &str = "idbridge_permission_set";

pub struct PermissionSetResource;

fn deadline(ctx: &Context) -> Deadline {
    Deadline::after(ctx.remaining())
}

/// The permission set and instance ARNs of a state, which every call needs.
fn arns(model: &PermissionSetModel) -> Option<(&str, &str)> {
    Some((
        model.arn.as_str().or(model.id.as_str())?,
        model.instance_arn.as_str()?,
    ))
}

#[async_trait]
impl Resource for PermissionSetResource {
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
        match PermissionSetModel::decode(config) {
            Ok(config) => validate::validate_boundary(&config),
            Err(diagnostics) => diagnostics,
        }
    }

    async fn modify_plan(&self, ctx: &Context, plan: &mut PlanChange) -> Result<(), Diagnostics> {
        if plan.is_destroy() {
            return Ok(());
        }
        check_credentials_at_plan(ctx, &[Cloud::Aws]).await?;
        let config = PermissionSetModel::decode(&plan.config)?;
        let prior =
            Option::<PermissionSetModel>::decode_field(&plan.prior, &AttributePath::root())?;
        let mut planned = PermissionSetModel::decode(&plan.planned)?;
        plan::modify(&config, prior.as_ref(), &mut planned);
        plan.planned = planned.encode();
        Ok(())
    }

    async fn create(&self, ctx: &Context, request: CreateRequest) -> Result<Value, ApplyError> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let ic = clients.identity_center().await?;
        let deadline = deadline(ctx);
        let planned = PermissionSetModel::decode(&request.planned)?;
        let instance_arn = match planned.instance_arn.as_str() {
            Some(arn) => arn.to_owned(),
            None => {
                ctx.guard(find_instance(
                    &ic,
                    None,
                    deadline,
                    AttributePath::new("instance_arn"),
                ))
                .await?
                .instance_arn
            }
        };
        let desired = Desired::from_plan(&planned);
        let adopt_existing = planned.adopt_existing.known().copied().unwrap_or(false);
        let Created { remote, adopted } = ctx
            .guard(create_or_adopt(
                &ic,
                &instance_arn,
                &desired,
                adopt_existing,
                deadline,
            ))
            .await?;
        let arn = remote.set.arn.clone();
        if adopted && !adopt_existing {
            ctx.warn(
                "Permission set created by a retried request adopted",
                format!(
                    "AWS refused to create permission set {:?} because one with that name already exists \
                     ({arn}); it carries this create's marker, so an earlier attempt of this create succeeded \
                     but its answer was lost. It is now managed by Terraform.",
                    desired.name
                ),
            );
        }
        let mut state = PermissionSetModel {
            id: arn.as_str().into(),
            arn: arn.as_str().into(),
            instance_arn: instance_arn.as_str().into(),
            created_date: created_date(&remote.set),
            ..planned
        };
        let converged = ctx
            .guard(converge(
                &ic,
                &instance_arn,
                &arn,
                &remote,
                &desired,
                deadline,
            ))
            .await;
        if let Err(diagnostics) = converged {
            // Saved (tainted) so the half-configured permission set is not orphaned.
            let partial = match fetch_remote(&ic, &instance_arn, &arn, deadline).await {
                Ok(Some(remote)) => state_from_remote(&state, &instance_arn, &remote),
                _ => state,
            };
            return Err(ApplyError::from(diagnostics).with_partial_state(partial.encode()));
        }
        if !state.created_date.is_known() {
            let set = ctx
                .guard(async {
                    ic.describe_permission_set(&instance_arn, &arn, deadline)
                        .await
                        .map_err(|e| aws_error("Cannot read the new permission set", &e).into())
                })
                .await
                .map_err(|d| ApplyError::from(d).with_partial_state(state.encode()))?;
            state.created_date = created_date(&set);
        }
        Ok(state.encode())
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let ic = clients.identity_center().await?;
        let state = PermissionSetModel::decode(&state)?;
        let Some((arn, instance_arn)) = arns(&state) else {
            return Err(Diagnostic::error(
                "Incomplete permission set state",
                "The state has no permission set or instance ARN. Remove the resource from the state and import \
                 it by its permission set ARN.",
            )
            .into());
        };
        let remote = ctx
            .guard(async {
                fetch_remote(&ic, instance_arn, arn, deadline(ctx))
                    .await
                    .map_err(|e| aws_error("Cannot read the permission set", &e).into())
            })
            .await?;
        Ok(remote.map(|remote| state_from_remote(&state, instance_arn, &remote).encode()))
    }

    async fn update(&self, ctx: &Context, request: UpdateRequest) -> Result<Value, ApplyError> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let ic = clients.identity_center().await?;
        let deadline = deadline(ctx);
        let planned = PermissionSetModel::decode(&request.planned)?;
        let (Some(arn), Some(instance_arn)) = (planned.arn.as_str(), planned.instance_arn.as_str())
        else {
            return Err(Diagnostic::error(
                "Incomplete permission set state",
                "The plan has no permission set or instance ARN; this is a bug in the provider.",
            )
            .into());
        };
        let desired = Desired::from_plan(&planned);
        let result = ctx
            .guard(async {
                let current = fetch_remote(&ic, instance_arn, arn, deadline)
                    .await
                    .map_err(|e| aws_error("Cannot read the permission set", &e))?
                    .ok_or_else(|| {
                        Diagnostic::error(
                            "Permission set deleted outside Terraform",
                            format!(
                                "{arn} no longer exists. Run `terraform apply` again: the refresh removes it from \
                                 the state and the plan creates it anew."
                            ),
                        )
                    })?;
                converge(&ic, instance_arn, arn, &current, &desired, deadline).await
            })
            .await;
        match result {
            Ok(()) => Ok(planned.encode()),
            Err(diagnostics) => {
                let partial = match fetch_remote(&ic, instance_arn, arn, deadline).await {
                    Ok(Some(remote)) => {
                        let prior = PermissionSetModel::decode(&request.prior)?;
                        state_from_remote(&prior, instance_arn, &remote).encode()
                    }
                    _ => request.prior.clone(),
                };
                Err(ApplyError::from(diagnostics).with_partial_state(partial))
            }
        }
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let ic = clients.identity_center().await?;
        let state = PermissionSetModel::decode(&state)?;
        let (Some(arn), Some(instance_arn)) = (state.arn.as_str(), state.instance_arn.as_str())
        else {
            return Ok(());
        };
        ctx.guard(async {
            match ic
                .delete_permission_set(instance_arn, arn, deadline(ctx))
                .await
            {
                Ok(()) => Ok(()),
                Err(e) if e.is_not_found() => Ok(()),
                Err(e) => Err(aws_error("Cannot delete the permission set", &e).into()),
            }
        })
        .await
    }

    async fn import_state(&self, _ctx: &Context, id: &str) -> Result<Value, Diagnostics> {
        let Some(instance_arn) = instance_arn_of(id) else {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!(
                    "{id:?} is not a permission set ARN. Import with the ARN, e.g. \
                     `arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef`."
                ),
            )
            .into());
        };
        // Everything else null: the read that follows the import fills it in.
        Ok(PermissionSetModel {
            id: id.into(),
            arn: id.into(),
            instance_arn: instance_arn.into(),
            ..PermissionSetModel::default()
        }
        .encode())
    }
}

#[cfg(test)]
mod tests;
