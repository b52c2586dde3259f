//! `idbridge_sso_instance`: the IAM Identity Center instance the provider's AWS credentials see, with its
//! identity store.

use async_trait::async_trait;

use crate::clients::aws::Deadline;
use crate::framework::{
    Attribute, AttributePath, Context, DataSource, Diagnostics, NestedBlock, Operation, Schema,
    Value,
};
use crate::services::IdbridgeClients;
use crate::services::instances::find_instance;

pub const TYPE_NAME: &str = "idbridge_sso_instance";

pub struct SsoInstanceDataSource;

#[async_trait]
impl DataSource for SsoInstanceDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .description(
                "The AWS IAM Identity Center instance visible to the provider's AWS credentials in the configured \
                 region, and its identity store. Fails when there is none, or when there are several and `arn` \
                 does not choose one.",
            )
            .attribute(Attribute::string("arn").optional().computed().description(
                "The instance ARN (`arn:aws:sso:::instance/ssoins-...`). Set it to choose among several \
                 instances; otherwise the only visible instance is used.",
            ))
            .attribute(
                Attribute::string("identity_store_id")
                    .computed()
                    .description("The ID of the instance's identity store (`d-...`)."),
            )
            .attribute(
                Attribute::string("region")
                    .computed()
                    .description("The AWS region the instance was found in."),
            )
            .block(NestedBlock::timeouts(&[Operation::Read]))
    }

    async fn read(&self, ctx: &Context, config: Value) -> Result<Value, Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let identity_center = clients.identity_center().await?;
        let deadline = Deadline::after(ctx.remaining());
        let instance = ctx
            .guard(find_instance(
                &identity_center,
                config.get_str("arn"),
                deadline,
                AttributePath::new("arn"),
            ))
            .await?;
        Ok(config
            .with("arn", instance.instance_arn)
            .with("identity_store_id", instance.identity_store_id)
            .with("region", identity_center.region()))
    }
}
