//! `list "idbridge_conditional_access_policy"`: the Conditional Access policies that protect an AWS IAM
//! Identity Center gallery application (or one of them), each read as the resource reads it.

use async_trait::async_trait;

use super::{ConditionalAccessPolicyResource, TYPE_NAME};
use crate::framework::{
    Attr, Attribute, Context, Diagnostics, ListRequest, ListResource, ListResults, Model, Resource,
    Schema,
};
use crate::helpers::ids::validate_object_id;
use crate::services::clients::graph_clients;
use crate::services::discovery::gallery_application_policies;

crate::model! {
    #[derive(Clone, Debug, Default)]
    pub struct ConditionalAccessPolicyListConfig {
        pub application_id: Attr<String>,
    }
}

pub struct ConditionalAccessPolicyList;

#[async_trait]
impl ListResource for ConditionalAccessPolicyList {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn config_schema(&self) -> Schema {
        Schema::new()
            .description(
                "Finds the Conditional Access policies that target one AWS IAM Identity Center application (policies \
                 that also target other applications are left out: the resource protects one application).",
            )
            .attribute(
                Attribute::string("application_id")
                    .optional()
                    .validator(|value, path| validate_object_id(value, path, "application"))
                    .description(
                        "Only policies of this application (object id); those of every gallery application when \
                         left out.",
                    ),
            )
    }

    async fn list(
        &self,
        ctx: &Context,
        request: ListRequest,
        results: &ListResults,
    ) -> Result<(), Diagnostics> {
        let config = ConditionalAccessPolicyListConfig::decode(&request.config)?;
        let only = config.application_id.as_str();
        let (_, graph) = graph_clients(ctx).await?;
        for (application, policy) in gallery_application_policies(ctx, &graph).await? {
            if only.is_some_and(|id| id != application.id) {
                continue;
            }
            let imported = ConditionalAccessPolicyResource
                .import_state(ctx, &policy.id)
                .await?;
            if !results
                .send_read(
                    ctx,
                    &ConditionalAccessPolicyResource,
                    policy.display_name,
                    imported,
                )
                .await
            {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model_matches_schema;

    #[test]
    fn config_model_matches_schema() {
        assert_model_matches_schema::<ConditionalAccessPolicyListConfig>(
            &ConditionalAccessPolicyList.config_schema(),
        );
    }
}
