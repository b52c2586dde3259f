//! Finding what already exists, for list resources (`terraform query`): the gallery applications in the
//! tenant, the groups and users assigned to one, the Conditional Access policies that protect one, the
//! permission sets of an instance. Reads only.

use crate::clients::aws::Deadline;
use crate::clients::graph::api::odata_string;
use crate::clients::graph::conditional_access::ConditionalAccessPolicy;
use crate::clients::graph::models::Application;
use crate::clients::graph::{AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID, GraphClient};
use crate::framework::{
    Attr, Attribute, Context, Diagnostics, ListRequest, ListResults, Model, Resource, Schema,
};
use crate::helpers::ids::validate_object_id;
use crate::helpers::{aws_error, graph_error};

use super::app_roles::{AppLookup, find_enterprise_app};
use super::clients::{IdbridgeClients, graph_clients};

/// The applications instantiated from the AWS IAM Identity Center gallery template, by display name.
pub async fn gallery_applications(ctx: &Context) -> Result<Vec<Application>, Diagnostics> {
    let (_, graph) = graph_clients(ctx).await?;
    let filter = format!(
        "applicationTemplateId eq {}",
        odata_string(AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID)
    );
    let mut applications = graph
        .list_applications(&filter)
        .await
        .map_err(|e| graph_error("list the AWS IAM Identity Center applications", &e))?;
    applications.sort_by(|a, b| (&a.display_name, &a.id).cmp(&(&b.display_name, &b.id)));
    Ok(applications)
}

/// The principals of `principal_type` (`Group` or `User`, Graph's `principalType`) assigned to the
/// application (object id) through its enterprise application, with their display names, each once; empty
/// when the application or its service principal is gone.
pub async fn assigned_principals(
    ctx: &Context,
    graph: &GraphClient,
    application_id: &str,
    principal_type: &str,
) -> Result<Vec<(String, String)>, Diagnostics> {
    let AppLookup::Found(app) = find_enterprise_app(ctx, graph, application_id).await? else {
        return Ok(Vec::new());
    };
    let assignments = graph
        .list_app_role_assignments(&app.service_principal_id)
        .await
        .map_err(|e| graph_error("read the enterprise application's assignments", &e))?;
    let mut principals: Vec<(String, String)> = assignments
        .into_iter()
        .filter(|a| a.principal_type.as_deref() == Some(principal_type))
        .map(|a| {
            let name = a
                .principal_display_name
                .unwrap_or_else(|| a.principal_id.clone());
            (a.principal_id, name)
        })
        .collect();
    principals.sort();
    principals.dedup_by(|a, b| a.0 == b.0);
    Ok(principals)
}

crate::model! {
    /// The `config` block of the group and user assignment lists: the application whose assignments to list.
    #[derive(Clone, Debug, Default)]
    pub struct AssignedListConfig {
        pub application_id: Attr<String>,
    }
}

/// The schema of [`AssignedListConfig`]; `principals` says what is listed (e.g. "the Entra groups assigned").
pub fn assigned_list_schema(principals: &str) -> Schema {
    Schema::new()
        .description(format!(
            "Finds {principals} to an AWS IAM Identity Center application, with their account assignments."
        ))
        .attribute(
            Attribute::string("application_id")
                .required()
                .validator(|value, path| validate_object_id(value, path, "application"))
                .description("Object id of the application (the `id` of `idbridge_entra_application`)."),
        )
}

/// Lists the principals of `principal_type` (`Group` or `User`) assigned to the application of the
/// [`AssignedListConfig`], each as `resource` (a group or user assignment, import ID
/// `<application_id>/<principal id>`) imports and reads it, until no more are wanted.
pub async fn list_assigned(
    ctx: &Context,
    request: ListRequest,
    results: &ListResults,
    resource: &dyn Resource,
    principal_type: &str,
) -> Result<(), Diagnostics> {
    let config = AssignedListConfig::decode(&request.config)?;
    let application_id = config.application_id.as_str().unwrap_or_default();
    let (_, graph) = graph_clients(ctx).await?;
    for (principal_id, name) in
        assigned_principals(ctx, &graph, application_id, principal_type).await?
    {
        let imported = resource
            .import_state(ctx, &format!("{application_id}/{principal_id}"))
            .await?;
        if !results.send_read(ctx, resource, name, imported).await {
            break;
        }
    }
    Ok(())
}

/// The Conditional Access policies that target exactly one of the gallery applications (by client id),
/// sorted by name: `idbridge_conditional_access_policy` protects one application, so a policy that also
/// targets others cannot be adopted without a change.
pub async fn gallery_application_policies(
    ctx: &Context,
    graph: &GraphClient,
) -> Result<Vec<(Application, ConditionalAccessPolicy)>, Diagnostics> {
    let applications = gallery_applications(ctx).await?;
    let policies = graph
        .list_conditional_access_policies()
        .await
        .map_err(|e| graph_error("list the Conditional Access policies", &e))?;
    let mut found: Vec<(Application, ConditionalAccessPolicy)> = policies
        .into_iter()
        .filter_map(|policy| {
            let [target] = policy
                .conditions
                .applications
                .include_applications
                .as_slice()
            else {
                return None;
            };
            let application = applications.iter().find(|a| &a.app_id == target)?;
            Some((application.clone(), policy))
        })
        .collect();
    found.sort_by(|a, b| (&a.1.display_name, &a.1.id).cmp(&(&b.1.display_name, &b.1.id)));
    Ok(found)
}

/// The ARNs of the instance's permission sets, every page.
pub async fn permission_set_arns(
    ctx: &Context,
    instance_arn: &str,
) -> Result<Vec<String>, Diagnostics> {
    let identity_center = IdbridgeClients::from_context(ctx)?
        .identity_center()
        .await?;
    identity_center
        .list_permission_sets(instance_arn, Deadline::after(ctx.remaining()))
        .await
        .map_err(|e| aws_error("Unable to list permission sets", &e).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Value;
    use crate::framework::model::assert_model_matches_schema;

    #[test]
    fn assigned_list_config_matches_its_schema() {
        assert_model_matches_schema::<AssignedListConfig>(&assigned_list_schema(
            "the groups assigned",
        ));
    }

    #[test]
    fn an_application_id_that_is_not_an_object_id_is_refused_before_listing() {
        let schema = assigned_list_schema("the groups assigned");
        let config = Value::object([("application_id", Value::from("my-app"))]);
        let diags = crate::framework::schema::validate_config(&schema, &config);
        assert!(diags.has_errors());
        let good = Value::object([(
            "application_id",
            Value::from("00000000-0000-0000-0000-000000000001"),
        )]);
        assert!(crate::framework::schema::validate_config(&schema, &good).is_empty());
    }
}
