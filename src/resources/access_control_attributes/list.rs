//! `list "idbridge_access_control_attributes"`: the instance's access control attribute configuration (there
//! is at most one per instance), read as the resource reads it; nothing when ABAC is off.

use async_trait::async_trait;

use super::{AccessControlAttributesResource, TYPE_NAME};
use crate::framework::{
    Attr, Attribute, Context, Diagnostics, ListRequest, ListResource, ListResults, Model, Resource,
    Schema,
};
use crate::helpers::ids::validate_instance_arn;

crate::model! {
    #[derive(Clone, Debug, Default)]
    pub struct AccessControlAttributesListConfig {
        pub instance_arn: Attr<String>,
    }
}

pub struct AccessControlAttributesList;

#[async_trait]
impl ListResource for AccessControlAttributesList {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn config_schema(&self) -> Schema {
        Schema::new()
            .description(
                "Finds the access control attribute configuration (ABAC) of an IAM Identity Center instance.",
            )
            .attribute(
                Attribute::string("instance_arn")
                    .required()
                    .validator(validate_instance_arn)
                    .description("ARN of the instance, e.g. the `arn` of `data.idbridge_sso_instance`."),
            )
    }

    async fn list(
        &self,
        ctx: &Context,
        request: ListRequest,
        results: &ListResults,
    ) -> Result<(), Diagnostics> {
        let config = AccessControlAttributesListConfig::decode(&request.config)?;
        let instance_arn = config.instance_arn.as_str().unwrap_or_default();
        let imported = AccessControlAttributesResource
            .import_state(ctx, instance_arn)
            .await?;
        // Read even for identities only: an instance with ABAC off has nothing to adopt.
        results
            .read_and_send(
                ctx,
                &AccessControlAttributesResource,
                format!("access control attributes of {instance_arn}"),
                imported,
            )
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model_matches_schema;

    #[test]
    fn config_model_matches_schema() {
        assert_model_matches_schema::<AccessControlAttributesListConfig>(
            &AccessControlAttributesList.config_schema(),
        );
    }
}
