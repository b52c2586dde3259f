//! `list "idbridge_saml_trust"`: the SAML trusts of the AWS IAM Identity Center gallery applications (or of
//! one), each read as the resource reads it; applications without one are skipped.

use async_trait::async_trait;

use super::{SamlTrustResource, TYPE_NAME};
use crate::framework::{
    Attr, Attribute, Context, Diagnostics, ListRequest, ListResource, ListResults, Model, Resource,
    Schema,
};
use crate::services::discovery::gallery_applications;

crate::model! {
    #[derive(Clone, Debug, Default)]
    pub struct SamlTrustListConfig {
        pub application_id: Attr<String>,
    }
}

pub struct SamlTrustList;

#[async_trait]
impl ListResource for SamlTrustList {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn config_schema(&self) -> Schema {
        Schema::new()
            .description("Finds the SAML trusts of the AWS IAM Identity Center applications.")
            .attribute(Attribute::string("application_id").optional().description(
                "Only this application (object id); all gallery applications when left out.",
            ))
    }

    async fn list(
        &self,
        ctx: &Context,
        request: ListRequest,
        results: &ListResults,
    ) -> Result<(), Diagnostics> {
        let config = SamlTrustListConfig::decode(&request.config)?;
        let only = config.application_id.as_str();
        for application in gallery_applications(ctx).await? {
            if only.is_some_and(|id| id != application.id) {
                continue;
            }
            // Read even for identities only: the read tells a configured application from a bare one.
            let imported = SamlTrustResource.import_state(ctx, &application.id).await?;
            let name = application.display_name;
            if !results
                .read_and_send(ctx, &SamlTrustResource, name, imported)
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
        assert_model_matches_schema::<SamlTrustListConfig>(&SamlTrustList.config_schema());
    }
}
