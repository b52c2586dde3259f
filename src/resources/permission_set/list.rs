//! `list "idbridge_permission_set"`: the permission sets of an IAM Identity Center instance, optionally
//! those whose name starts with a prefix, each read as the resource reads it.

use async_trait::async_trait;

use super::model::PermissionSetModel;
use super::{PermissionSetResource, TYPE_NAME};
use crate::framework::{
    Attr, Attribute, AttributePath, Context, Diagnostics, ListRequest, ListResource, ListResults,
    Listed, Model, Resource, Schema, Value,
};
use crate::helpers::ids::is_instance_arn;
use crate::services::discovery::permission_set_arns;

crate::model! {
    #[derive(Clone, Debug, Default)]
    pub struct PermissionSetListConfig {
        pub instance_arn: Attr<String>,
        pub name_prefix: Attr<String>,
    }
}

pub struct PermissionSetList;

#[async_trait]
impl ListResource for PermissionSetList {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn config_schema(&self) -> Schema {
        Schema::new()
            .description("Finds the permission sets of an IAM Identity Center instance.")
            .attribute(Attribute::string("instance_arn").required().description(
                "ARN of the instance, e.g. the `arn` of `data.idbridge_sso_instance`.",
            ))
            .attribute(
                Attribute::string("name_prefix")
                    .optional()
                    .description("Only permission sets whose name starts with this text."),
            )
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let Ok(config) = PermissionSetListConfig::decode(config) else {
            return diags;
        };
        if let Some(arn) = config.instance_arn.as_str()
            && !is_instance_arn(arn)
        {
            diags.error_at(
                AttributePath::new("instance_arn"),
                "Invalid instance ARN",
                format!("{arn:?} is not an IAM Identity Center instance ARN (arn:aws:sso:::instance/ssoins-...)."),
            );
        }
        diags
    }

    async fn list(
        &self,
        ctx: &Context,
        request: ListRequest,
        results: &ListResults,
    ) -> Result<(), Diagnostics> {
        let config = PermissionSetListConfig::decode(&request.config)?;
        let instance_arn = config.instance_arn.as_str().unwrap_or_default();
        let prefix = config.name_prefix.as_str().unwrap_or_default();
        for arn in permission_set_arns(ctx, instance_arn).await? {
            // The name (display name and filter) needs the read; it is one call per permission set.
            let imported = PermissionSetResource.import_state(ctx, &arn).await?;
            let Some(state) = results.read(ctx, &PermissionSetResource, imported).await else {
                continue;
            };
            let name = PermissionSetModel::decode(&state)?
                .name
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if !name.starts_with(prefix) {
                continue;
            }
            let found = Listed {
                display_name: name,
                state,
            };
            if !results.send(found).await {
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
        assert_model_matches_schema::<PermissionSetListConfig>(&PermissionSetList.config_schema());
    }

    #[tokio::test]
    async fn an_instance_arn_that_is_not_one_is_refused_at_validation() {
        let ctx = Context::for_tests(TYPE_NAME, None);
        let config = Value::object([
            ("instance_arn", Value::from("ssoins-123")),
            ("name_prefix", Value::Null),
        ]);
        let diags = PermissionSetList.validate_config(&ctx, &config).await;
        assert_eq!(
            diags.iter().map(|d| d.summary.as_str()).collect::<Vec<_>>(),
            vec!["Invalid instance ARN"]
        );
    }
}
