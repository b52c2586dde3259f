//! Finding what already exists, for list resources (`terraform query`): the gallery applications in the
//! tenant, the groups assigned to one, the permission sets of an instance. Reads only.

use crate::clients::aws::Deadline;
use crate::clients::graph::api::odata_string;
use crate::clients::graph::models::Application;
use crate::clients::graph::{AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID, GraphClient};
use crate::framework::{Context, Diagnostics};
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

/// The groups assigned to the application (object id) through its enterprise application, with their
/// display names, each once; empty when the application or its service principal is gone.
pub async fn assigned_groups(
    ctx: &Context,
    graph: &GraphClient,
    application_id: &str,
) -> Result<Vec<(String, String)>, Diagnostics> {
    let AppLookup::Found(app) = find_enterprise_app(ctx, graph, application_id).await? else {
        return Ok(Vec::new());
    };
    let assignments = graph
        .list_app_role_assignments(&app.service_principal_id)
        .await
        .map_err(|e| graph_error("read the enterprise application's assignments", &e))?;
    let mut groups: Vec<(String, String)> = assignments
        .into_iter()
        .filter(|a| a.principal_type.as_deref() == Some("Group"))
        .map(|a| {
            let name = a
                .principal_display_name
                .unwrap_or_else(|| a.principal_id.clone());
            (a.principal_id, name)
        })
        .collect();
    groups.sort();
    groups.dedup_by(|a, b| a.0 == b.0);
    Ok(groups)
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
