//! Create and update: assign the group to the app, provision it and wait for it, converge its account
//! assignments. From the first write on, every failure returns a partial state that lets Terraform finish the
//! job or clean it up.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::clients::aws::{AssignmentTarget, Deadline, IdentityCenter, Instance, Principal};
use crate::clients::graph::GraphClient;
use crate::clients::graph::models::SynchronizationJob;
use crate::framework::model::Attr;
use crate::framework::{ApplyError, AttributePath, Context, Diagnostic, Diagnostics, Model, Value};
use crate::helpers::ownership::already_exists;
use crate::services::IdbridgeClients;
use crate::services::app_roles::{
    EnterpriseApp, assign_user_role, find_app_role_assignment, find_enterprise_app,
};
use crate::services::assignments::PrincipalAssignments;
use crate::services::identity_store::{IdentityStoreMatch, check_group_for_new_match_mode};
use crate::services::members::MemberStatus;
use crate::services::principal::EntraPrincipal;
use crate::services::provisioning::{OnDemandJob, Provisioning};

use super::members;
use super::model::GroupAssignmentModel;

/// What create and update start from: the clients, the planned arguments, the enterprise app and the
/// Identity Center instance.
struct Apply {
    clients: Arc<IdbridgeClients>,
    graph: Arc<GraphClient>,
    identity_center: Arc<IdentityCenter>,
    group: EntraPrincipal,
    match_mode: IdentityStoreMatch,
    provision_on_demand: bool,
    provision_members: bool,
    desired: BTreeSet<AssignmentTarget>,
    deadline: Deadline,
    app: EnterpriseApp,
    instance: Instance,
}

impl Apply {
    async fn open(ctx: &Context, planned: &GroupAssignmentModel) -> Result<Apply, Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let graph = clients.graph().await?;
        let identity_center = clients.identity_center().await?;
        let application_id = required(&planned.application_id, "application_id")?;
        let group = EntraPrincipal::group(
            required(&planned.entra_group_id, "entra_group_id")?,
            "entra_group_id",
        );
        let desired = planned.desired_targets().ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Unknown assignments",
                "`permission_set_arns` and `account_ids` must be known at apply time.",
            ))
        })?;
        let deadline = Deadline::after(ctx.remaining());
        let app = ctx
            .guard(find_enterprise_app(ctx, &graph, application_id))
            .await?
            .required()?;
        let instance = ctx
            .guard(clients.caches().instance(
                &identity_center,
                planned.instance_arn.as_str(),
                deadline,
            ))
            .await?;
        Ok(Apply {
            graph,
            identity_center,
            group,
            match_mode: planned.match_mode(),
            provision_on_demand: planned.provision_on_demand.known().copied().unwrap_or(true),
            provision_members: planned.provisions_members().unwrap_or(true),
            desired,
            deadline,
            app,
            instance,
            clients,
        })
    }

    fn provisioning(&self) -> Provisioning<'_> {
        Provisioning {
            caches: self.clients.caches(),
            graph: &self.graph,
            identity_center: &self.identity_center,
            app: &self.app,
            instance: &self.instance,
        }
    }

    /// The provisioning job and, when provisioning on demand, the job ready for requests.
    async fn on_demand(
        &self,
        provisioning: &Provisioning<'_>,
    ) -> Result<(Option<SynchronizationJob>, Option<OnDemandJob>), Diagnostics> {
        let job = provisioning.job().await?;
        let on_demand = match job.as_ref().filter(|_| self.provision_on_demand) {
            Some(job) => Some(provisioning.on_demand_job(job, &self.group).await?),
            None => None,
        };
        Ok((job, on_demand))
    }

    /// Steps (2) and (3): the group (with its first members) provisioned and found in the identity store,
    /// then the rest of its members. The group id, and the members' status or why they are not all there.
    async fn provision_and_wait(
        &self,
        ctx: &Context,
    ) -> Result<(String, Result<Option<MemberStatus>, Diagnostics>), Diagnostics> {
        let provisioning = self.provisioning();
        let (job, on_demand) = ctx.guard(self.on_demand(&provisioning)).await?;
        let review = match self.provision_members {
            true => Some(
                ctx.guard(members::member_review(
                    &self.clients,
                    &self.graph,
                    &self.group,
                ))
                .await?,
            ),
            false => None,
        };
        let linked = match (&review, &on_demand) {
            (Some(review), Some(_)) => members::first_linked(review),
            _ => Vec::new(),
        };
        // Boxed: the whole chain of nested futures is too deep for the compiler to lay out inline.
        let group_id = ctx
            .guard(Box::pin(provisioning.group_and_wait(
                ctx,
                &self.group,
                self.match_mode,
                job.as_ref(),
                on_demand.as_ref(),
                &linked,
            )))
            .await?;
        let Some(review) = review else {
            return Ok((group_id, Ok(None)));
        };
        let status = ctx
            .guard(Box::pin(provisioning.members_and_wait(
                ctx,
                &self.group,
                &group_id,
                &review.eligible,
                &members::not_linked(&review, &linked),
                on_demand.as_ref(),
            )))
            .await
            .map(Some);
        Ok((group_id, status))
    }

    /// Update of a group already provisioned: its members that are missing, provisioned and waited for.
    async fn heal_members(
        &self,
        ctx: &Context,
        group_id: &str,
    ) -> Result<Option<MemberStatus>, Diagnostics> {
        if !self.provision_members {
            return Ok(None);
        }
        let provisioning = self.provisioning();
        let review = ctx
            .guard(members::member_review(
                &self.clients,
                &self.graph,
                &self.group,
            ))
            .await?;
        let missing = ctx
            .guard(members::missing_member_ids(
                ctx,
                &provisioning,
                group_id,
                &review,
            ))
            .await?;
        let on_demand = if missing.is_empty() {
            None
        } else {
            ctx.guard(self.on_demand(&provisioning)).await?.1
        };
        ctx.guard(Box::pin(provisioning.members_and_wait(
            ctx,
            &self.group,
            group_id,
            &review.eligible,
            &missing,
            on_demand.as_ref(),
        )))
        .await
        .map(Some)
    }

    /// Step (4), shared by create and update: converge and turn the outcome into state or a partial state.
    async fn converge(
        &self,
        ctx: &Context,
        group_id: &str,
        known: &BTreeSet<AssignmentTarget>,
        mut state: GroupAssignmentModel,
    ) -> Result<Value, ApplyError> {
        let converged = PrincipalAssignments {
            identity_center: &self.identity_center,
            instance_arn: &self.instance.instance_arn,
            principal: Principal::group(group_id),
            deadline: self.deadline,
        }
        .converge(ctx, &self.desired, known, "apply")
        .await
        .map_err(|d| ApplyError::from(d).with_partial_state(state.encode()))?;
        state.record_targets(&converged.existing);
        match converged.failures {
            None => Ok(state.encode()),
            Some(failures) => Err(ApplyError::from(failures).with_partial_state(state.encode())),
        }
    }
}

fn required<'a>(value: &'a Attr<String>, name: &str) -> Result<&'a str, Diagnostics> {
    value.as_str().ok_or_else(|| {
        Diagnostic::error(
            "Missing value",
            format!("`{name}` must be known at apply time."),
        )
        .at(AttributePath::new(name))
        .into()
    })
}

pub(super) async fn create(
    ctx: &Context,
    planned: GroupAssignmentModel,
) -> Result<Value, ApplyError> {
    let apply = Apply::open(ctx, &planned).await?;
    if !planned.adopt_existing.known().copied().unwrap_or(false) {
        ctx.guard(refuse_assigned_elsewhere(&apply, &planned))
            .await?;
    }
    let app_role_assignment_id = ctx
        .guard(assign_user_role(&apply.graph, &apply.app, &apply.group))
        .await?;
    // From here on something exists remotely.
    let mut state = planned;
    state.instance_arn = apply.instance.instance_arn.clone().into();
    state.app_role_assignment_id = app_role_assignment_id.into();
    state.identity_store_group_id = Attr::Null;
    state.record_targets(&BTreeSet::new());
    state.record_members(None);
    let (group_id, members) = apply
        .provision_and_wait(ctx)
        .await
        .map_err(|d| ApplyError::from(d).with_partial_state(state.encode()))?;
    state.identity_store_group_id = group_id.clone().into();
    record_members(&mut state, members)?;
    apply
        .converge(ctx, &group_id, &BTreeSet::new(), state)
        .await
}

/// A group that already has the app's `User` role was assigned by another configuration (or by hand): two
/// states managing one assignment would each remove the group's access on destroy. Refused unless opted in.
async fn refuse_assigned_elsewhere(
    apply: &Apply,
    planned: &GroupAssignmentModel,
) -> Result<(), Diagnostics> {
    let Some(existing) =
        find_app_role_assignment(&apply.graph, &apply.app, &apply.group, None).await?
    else {
        return Ok(());
    };
    let import_id = planned.composed_id().into_known().unwrap_or_default();
    Err(already_exists(
        &format!(
            "Group {} is already assigned to the enterprise application {} (app role assignment {existing})",
            apply.group.object_id, apply.app.service_principal_id
        ),
        super::TYPE_NAME,
        &import_id,
        "entra_group_id",
    )
    .into())
}

/// The members' status into the state, or the error with a state whose null member attributes make the
/// next plan provision them again.
fn record_members(
    state: &mut GroupAssignmentModel,
    members: Result<Option<MemberStatus>, Diagnostics>,
) -> Result<(), ApplyError> {
    match members {
        Ok(status) => {
            state.record_members(status.as_ref());
            Ok(())
        }
        Err(diags) => {
            state.record_members(None);
            Err(ApplyError::from(diags).with_partial_state(state.encode()))
        }
    }
}

pub(super) async fn update(
    ctx: &Context,
    planned: GroupAssignmentModel,
    prior: GroupAssignmentModel,
) -> Result<Value, ApplyError> {
    let apply = Apply::open(ctx, &planned).await?;
    let mut state = planned;
    state.instance_arn = apply.instance.instance_arn.clone().into();
    if !state.app_role_assignment_id.is_known() {
        let id = ctx
            .guard(assign_user_role(&apply.graph, &apply.app, &apply.group))
            .await?;
        state.app_role_assignment_id = id.into();
    }
    state.record_targets(&prior.recorded_targets());
    let group_id = match prior.identity_store_group_id.as_str() {
        Some(id) => {
            if apply.match_mode == IdentityStoreMatch::ExternalId
                && prior.match_mode() != IdentityStoreMatch::ExternalId
            {
                ctx.guard(check_group_for_new_match_mode(
                    &apply.identity_center,
                    &apply.instance.identity_store_id,
                    id,
                    &apply.group.object_id,
                    apply.deadline,
                ))
                .await?;
            }
            state.identity_store_group_id = id.into();
            let members = apply.heal_members(ctx, id).await;
            record_members(&mut state, members)?;
            id.to_owned()
        }
        None => match apply.provision_and_wait(ctx).await {
            Ok((id, members)) => {
                state.identity_store_group_id = id.clone().into();
                record_members(&mut state, members)?;
                id
            }
            Err(diags) => {
                state.identity_store_group_id = Attr::Null;
                state.record_members(None);
                return Err(ApplyError::from(diags).with_partial_state(state.encode()));
            }
        },
    };
    state.identity_store_group_id = group_id.clone().into();
    apply
        .converge(ctx, &group_id, &prior.managed_targets(), state)
        .await
}
