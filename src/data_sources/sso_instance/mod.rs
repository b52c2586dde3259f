//! `idbridge_sso_instance`: the IAM Identity Center instance the provider's AWS credentials see, with its
//! identity store.

mod model;
mod schema;

use async_trait::async_trait;

use crate::clients::aws::Deadline;
use crate::framework::{AttributePath, Context, DataSource, Diagnostics, Model, Schema, Value};
use crate::services::IdbridgeClients;
use crate::services::instances::find_instance;

use model::SsoInstanceModel;

pub const TYPE_NAME: &str = "idbridge_sso_instance";

pub struct SsoInstanceDataSource;

#[async_trait]
impl DataSource for SsoInstanceDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    async fn read(&self, ctx: &Context, config: Value) -> Result<Value, Diagnostics> {
        let config = SsoInstanceModel::decode(&config)?;
        let clients = IdbridgeClients::from_context(ctx)?;
        let identity_center = clients.identity_center().await?;
        let deadline = Deadline::after(ctx.remaining());
        let instance = ctx
            .guard(find_instance(
                &identity_center,
                config.arn.as_str(),
                deadline,
                AttributePath::new("arn"),
            ))
            .await?;
        Ok(config
            .with_instance(instance, identity_center.region())
            .encode())
    }
}

#[cfg(test)]
mod tests;
