//! `idbridge_user_assignment`: an Entra ID user gets AWS access in one apply, as a `USER` principal.
//!
//! The same steps as `idbridge_group_assignment`, through the same orchestration
//! (`crate::services::principal_access`): assign the user to the enterprise app, provision it on demand, wait
//! for it in the identity store (by userName or external id), converge the account assignments through the
//! shared engine (20 TPS, 10 outstanding operations across every resource of the run).

mod identity;
mod list;
mod model;
mod schema;
mod validate;

use std::time::Duration;

use crate::framework::{
    ApplyError, Context, CreateRequest, Diagnostic, Diagnostics, Model, Operation, PlanChange,
    Resource, Schema, UpdateRequest, Value, async_trait,
};
use crate::services::principal_access;

pub use list::UserAssignmentList;
use model::UserAssignmentModel;

pub const TYPE_NAME: &str = "idbridge_user_assignment";

pub struct UserAssignmentResource;

#[async_trait]
impl Resource for UserAssignmentResource {
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
        principal_access::modify_plan::<UserAssignmentModel>(ctx, plan).await
    }

    async fn create(&self, ctx: &Context, req: CreateRequest) -> Result<Value, ApplyError> {
        principal_access::create(ctx, UserAssignmentModel::decode(&req.planned)?).await
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let timeout = self.default_timeout(Operation::Read);
        principal_access::read_value::<UserAssignmentModel>(ctx, state, timeout).await
    }

    async fn update(&self, ctx: &Context, req: UpdateRequest) -> Result<Value, ApplyError> {
        let planned = UserAssignmentModel::decode(&req.planned)?;
        let prior = UserAssignmentModel::decode(&req.prior)?;
        principal_access::update(ctx, planned, prior).await
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        principal_access::delete(ctx, UserAssignmentModel::decode(&state)?).await
    }

    async fn import_state(&self, _ctx: &Context, id: &str) -> Result<Value, Diagnostics> {
        let (app, user) = validate::parse_import_id(id).ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Invalid import ID",
                format!(
                    "Expected `<application_id>/<entra_user_id>` (two object ids), got {id:?}."
                ),
            ))
        })?;
        Ok(UserAssignmentModel::imported(id, app, user).encode())
    }
}

#[cfg(test)]
mod tests;
