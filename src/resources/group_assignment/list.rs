//! `list "idbridge_group_assignment"`: the Entra groups assigned to an AWS IAM Identity Center
//! application, each read as the resource reads it (with its AWS account assignments).

use async_trait::async_trait;

use super::{GroupAssignmentResource, TYPE_NAME};
use crate::framework::{
    Attr, Attribute, Context, Diagnostics, ListRequest, ListResource, ListResults, Model, Schema,
};
use crate::services::discovery::send_assigned;

crate::model! {
    #[derive(Clone, Debug, Default)]
    pub struct GroupAssignmentListConfig {
        pub application_id: Attr<String>,
    }
}

pub struct GroupAssignmentList;

#[async_trait]
impl ListResource for GroupAssignmentList {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn config_schema(&self) -> Schema {
        Schema::new()
            .description("Finds the Entra groups assigned to an AWS IAM Identity Center application, with their account assignments.")
            .attribute(
                Attribute::string("application_id")
                    .required()
                    .description("Object id of the application (the `id` of `idbridge_entra_application`)."),
            )
    }

    async fn list(
        &self,
        ctx: &Context,
        request: ListRequest,
        results: &ListResults,
    ) -> Result<(), Diagnostics> {
        let config = GroupAssignmentListConfig::decode(&request.config)?;
        let application_id = config.application_id.as_str().unwrap_or_default();
        send_assigned(
            ctx,
            results,
            &GroupAssignmentResource,
            application_id,
            "Group",
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model_matches_schema;

    #[test]
    fn config_model_matches_schema() {
        assert_model_matches_schema::<GroupAssignmentListConfig>(
            &GroupAssignmentList.config_schema(),
        );
    }
}
