//! `list "idbridge_group_assignment"`: the Entra groups assigned to an AWS IAM Identity Center
//! application, each read as the resource reads it (with its AWS account assignments).

use async_trait::async_trait;

use super::{GroupAssignmentResource, TYPE_NAME};
use crate::framework::{Context, Diagnostics, ListRequest, ListResource, ListResults, Schema};
use crate::services::discovery::{assigned_list_schema, list_assigned};

pub struct GroupAssignmentList;

#[async_trait]
impl ListResource for GroupAssignmentList {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn config_schema(&self) -> Schema {
        assigned_list_schema("the Entra groups assigned")
    }

    async fn list(
        &self,
        ctx: &Context,
        request: ListRequest,
        results: &ListResults,
    ) -> Result<(), Diagnostics> {
        list_assigned(ctx, request, results, &GroupAssignmentResource, "Group").await
    }
}
