//! `idbridge_group_assignment`: an Entra ID group gets AWS access in one apply.
//!
//! Create: (1) assign the group to the enterprise app (`appRoleAssignedTo`, role `User`) so it is in the
//! provisioning scope; (2) `provisionOnDemand` the group instead of waiting for the ~40-minute cycle;
//! (3) wait until SCIM has created the group in the AWS identity store; (4) converge the account
//! assignments (permission sets × accounts) through the shared assignment engine, which paces calls at the
//! 20 TPS quota and keeps at most 10 asynchronous operations outstanding across every resource of the run.
//! The steps are the services' (`crate::services`), shared with every principal-assignment resource.
//!
//! Reads are served from the engine's batched cache: one ListAccountAssignments per (account, permission
//! set) per refresh, shared by all resources, so drift detection costs one call per pair, not per resource.

mod access;
mod identity;
mod list;
mod members;
mod model;
mod schema;
mod validate;

use std::time::Duration;

use crate::framework::{
    ApplyError, Context, CreateRequest, Diagnostic, Diagnostics, Model, Operation, PlanChange,
    Resource, Schema, UpdateRequest, Value, async_trait,
};
use crate::services::principal_access;

use model::GroupAssignmentModel;

pub use list::GroupAssignmentList;

pub const TYPE_NAME: &str = "idbridge_group_assignment";

pub struct GroupAssignmentResource;

#[async_trait]
impl Resource for GroupAssignmentResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn default_timeout(&self, operation: Operation) -> Duration {
        match operation {
            // A provisioning cycle takes about 40 minutes when provision on demand is off.
            Operation::Create => Duration::from_secs(45 * 60),
            _ => Duration::from_secs(20 * 60),
        }
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn identity_schema(&self) -> Option<crate::framework::IdentitySchema> {
        Some(identity::identity_schema())
    }

    async fn modify_plan(&self, ctx: &Context, plan: &mut PlanChange) -> Result<(), Diagnostics> {
        principal_access::modify_plan::<GroupAssignmentModel>(ctx, plan).await?;
        if plan.is_destroy() {
            return Ok(());
        }
        members::preflight(ctx, &GroupAssignmentModel::decode(&plan.config)?).await
    }

    async fn create(&self, ctx: &Context, req: CreateRequest) -> Result<Value, ApplyError> {
        principal_access::create(ctx, GroupAssignmentModel::decode(&req.planned)?).await
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let timeout = self.default_timeout(Operation::Read);
        principal_access::read_value::<GroupAssignmentModel>(ctx, state, timeout).await
    }

    async fn update(&self, ctx: &Context, req: UpdateRequest) -> Result<Value, ApplyError> {
        let planned = GroupAssignmentModel::decode(&req.planned)?;
        let prior = GroupAssignmentModel::decode(&req.prior)?;
        principal_access::update(ctx, planned, prior).await
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        principal_access::delete(ctx, GroupAssignmentModel::decode(&state)?).await
    }

    async fn import_state(&self, _ctx: &Context, id: &str) -> Result<Value, Diagnostics> {
        let (app, group) = validate::parse_import_id(id).ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Invalid import ID",
                format!(
                    "Expected `<application_id>/<entra_group_id>` (two object ids), got {id:?}."
                ),
            ))
        })?;
        Ok(GroupAssignmentModel::imported(id, app, group).encode())
    }
}

#[cfg(test)]
mod tests;
