//! `list "idbridge_entra_application"`: the applications made from the AWS IAM Identity Center gallery
//! template, each read as the resource reads it, so generated configuration plans with no changes.

use async_trait::async_trait;

use super::{EntraApplicationResource, TYPE_NAME};
use crate::framework::{
    Attr, Attribute, Context, Diagnostics, ListRequest, ListResource, ListResults, Model, Resource,
    Schema,
};
use crate::services::discovery::gallery_applications;

crate::model! {
    #[derive(Clone, Debug, Default)]
    pub struct EntraApplicationListConfig {
        pub display_name_prefix: Attr<String>,
    }
}

pub struct EntraApplicationList;

#[async_trait]
impl ListResource for EntraApplicationList {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn config_schema(&self) -> Schema {
        Schema::new()
            .description(
                "Finds the applications created from the AWS IAM Identity Center gallery template.",
            )
            .attribute(
                Attribute::string("display_name_prefix")
                    .optional()
                    .description("Only applications whose display name starts with this text."),
            )
    }

    async fn list(
        &self,
        ctx: &Context,
        request: ListRequest,
        results: &ListResults,
    ) -> Result<(), Diagnostics> {
        let config = EntraApplicationListConfig::decode(&request.config)?;
        let prefix = config.display_name_prefix.as_str().unwrap_or_default();
        for application in gallery_applications(ctx).await? {
            if !application.display_name.starts_with(prefix) {
                continue;
            }
            let imported = EntraApplicationResource
                .import_state(ctx, &application.id)
                .await?;
            let name = application.display_name;
            if !results
                .send_read(ctx, &EntraApplicationResource, name, imported)
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
        assert_model_matches_schema::<EntraApplicationListConfig>(
            &EntraApplicationList.config_schema(),
        );
    }
}
