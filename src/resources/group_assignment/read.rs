//! Read and delete: what of the group's access still exists, and removing all of it that this resource made.

use std::collections::BTreeSet;

use crate::clients::aws::{Deadline, Principal};
use crate::framework::{Context, Diagnostic, Diagnostics};
use crate::helpers::graph_error;
use crate::services::IdbridgeClients;
use crate::services::app_roles::{
    AppLookup, find_app_role_assignment, find_enterprise_app, remove_app_role_assignment,
};
use crate::services::assignments::PrincipalAssignments;
use crate::services::identity_store::{find_provisioned_group, verify_provisioned_group};

use super::members;
use super::model::GroupAssignmentModel;

/// The refreshed state, or `None` when the application or the group is gone.
pub(super) async fn read(
    ctx: &Context,
    state: GroupAssignmentModel,
    deadline: Deadline,
) -> Result<Option<GroupAssignmentModel>, Diagnostics> {
    let clients = IdbridgeClients::from_context(ctx)?;
    let graph = clients.graph().await?;
    let (Some(application_id), Some(group)) = (state.application_id.as_str(), state.group()) else {
        return Err(Diagnostic::error(
            "Incomplete state",
            "The state has no application_id or entra_group_id; remove the resource from state and import it.",
        )
        .into());
    };
    let app = match ctx
        .guard(find_enterprise_app(ctx, &graph, application_id))
        .await?
    {
        AppLookup::Found(app) => app,
        AppLookup::Gone(_) => return Ok(None),
    };
    match graph.get_group(&group.object_id).await {
        Ok(_) => {}
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(graph_error("read the Entra ID group", &e).into()),
    }
    let app_role_assignment_id =
        find_app_role_assignment(&graph, &app, &group, state.app_role_assignment_id.as_str())
            .await?;

    let identity_center = clients.identity_center().await?;
    let instance = ctx
        .guard(
            clients
                .caches()
                .instance(&identity_center, state.instance_arn.as_str(), deadline),
        )
        .await?;
    let identity_store_group_id = match state.identity_store_group_id.as_str() {
        Some(id) => {
            ctx.guard(verify_provisioned_group(
                &graph,
                &identity_center,
                &instance.identity_store_id,
                id,
                &group,
                state.match_mode(),
                deadline,
            ))
            .await?
        }
        None => {
            ctx.guard(find_provisioned_group(
                &graph,
                &identity_center,
                &instance.identity_store_id,
                &group,
                state.match_mode(),
                deadline,
            ))
            .await?
        }
    };
    let mut refreshed = state.clone();
    refreshed.instance_arn = instance.instance_arn.clone().into();
    refreshed.app_role_assignment_id = app_role_assignment_id.into();
    refreshed.identity_store_group_id = identity_store_group_id.clone().into();
    let Some(group_id) = identity_store_group_id else {
        // Never provisioned (or deprovisioned): no assignment can exist.
        refreshed.record_targets(&BTreeSet::new());
        refreshed.record_members(None);
        return Ok(Some(refreshed));
    };
    let members = match state.provisions_members() {
        Some(false) => None,
        _ => Some(
            ctx.guard(Box::pin(members::refresh(
                &clients,
                &graph,
                &identity_center,
                &instance.identity_store_id,
                &group,
                &group_id,
                deadline,
            )))
            .await?,
        ),
    };
    refreshed.record_members(members.as_ref());
    let assignments = PrincipalAssignments {
        identity_center: &identity_center,
        instance_arn: &instance.instance_arn,
        principal: Principal::group(&group_id),
        deadline,
    };
    let existing = match state.desired_targets() {
        // Everything we manage: the configured product plus what an earlier apply recorded.
        Some(_) => {
            assignments
                .assigned_among(ctx, state.managed_targets())
                .await?
        }
        None => {
            // Import: the group's assignments define the sets.
            let all = assignments.all(ctx).await?;
            refreshed.adopt_targets(&all);
            all
        }
    };
    refreshed.complete_read();
    refreshed.record_targets(&existing);
    Ok(Some(refreshed))
}

pub(super) async fn delete(ctx: &Context, state: GroupAssignmentModel) -> Result<(), Diagnostics> {
    let clients = IdbridgeClients::from_context(ctx)?;
    let deadline = Deadline::after(ctx.remaining());
    if let Some(group_id) = state.identity_store_group_id.as_str() {
        let identity_center = clients.identity_center().await?;
        let instance = ctx
            .guard(clients.caches().instance(
                &identity_center,
                state.instance_arn.as_str(),
                deadline,
            ))
            .await?;
        let converged = PrincipalAssignments {
            identity_center: &identity_center,
            instance_arn: &instance.instance_arn,
            principal: Principal::group(group_id),
            deadline,
        }
        .converge(ctx, &BTreeSet::new(), &state.managed_targets(), "delete")
        .await?;
        if let Some(failures) = converged.failures {
            return Err(failures.into());
        }
    }
    let (Some(application_id), Some(assignment_id), Some(group)) = (
        state.application_id.as_str(),
        state.app_role_assignment_id.as_str(),
        state.group(),
    ) else {
        return Ok(());
    };
    let graph = clients.graph().await?;
    match ctx
        .guard(find_enterprise_app(ctx, &graph, application_id))
        .await?
    {
        AppLookup::Found(app) => {
            remove_app_role_assignment(&graph, &app, &group, assignment_id).await
        }
        // The application (and with it its assignments) is gone already.
        AppLookup::Gone(_) => Ok(()),
    }
}
