//! The one orchestration behind every principal-assignment resource (`idbridge_group_assignment`,
//! `idbridge_user_assignment`): (1) assign the principal the enterprise app's `User` role so it is in the
//! provisioning scope; (2) provision it on demand instead of waiting for the ~40-minute cycle; (3) wait until
//! SCIM has created it in the AWS identity store; (4) converge its account assignments through the shared
//! engine. Read, update and delete likewise. Resources only map their model onto [`PrincipalAccessModel`].
//! From the first write on, every failure returns a partial state that lets Terraform finish or clean up.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use crate::clients::aws::{
    AssignmentTarget, Deadline, IdentityCenter, Instance, Principal, PrincipalType,
};
use crate::clients::graph::GraphClient;
use crate::framework::model::{Attr, Set};
use crate::framework::schema::timeout_from;
use crate::framework::{
    ApplyError, AttributePath, Context, Diagnostic, Diagnostics, Model, Operation, PlanChange,
    Value,
};
use crate::helpers::account_targets::check_some_target;
use crate::helpers::assignment_inputs::{added_permission_set_arns, check_instance_matches};
use crate::helpers::graph_error;
use crate::helpers::ownership::already_exists;

use super::IdbridgeClients;
use super::app_roles::{
    AppLookup, EnterpriseApp, assign_user_role, find_app_role_assignment, find_enterprise_app,
    remove_app_role_assignment,
};
use super::assignments::{PrincipalAssignments, parse_target_key, product, target_key};
use super::clients::{Cloud, check_credentials_at_plan};
use super::identity_store::{
    IdentityStoreMatch, check_for_new_match_mode, find_provisioned, verify_provisioned,
};
use super::members::{
    MemberStatus, first_linked, member_review, missing_member_ids, not_linked, refresh_members,
};
use super::organizations::{AccountTargets, resolve_account_targets};
use super::permission_sets::verify_permission_sets_exist;
use super::principal::{EntraPrincipal, verify_principal_exists};
use super::provisioning::{OnDemandJob, Provisioning};
use crate::clients::graph::models::SynchronizationJob;

/// What the orchestration reads and writes in a principal-assignment resource's model. The attributes every
/// such resource shares (`with_assignment_attributes`) are reached through the accessors
/// [`principal_access_attributes!`](crate::principal_access_attributes) writes; the targets' logic is here
/// once, in the default methods.
pub trait PrincipalAccessModel: Model + Clone + Send + Sync + 'static {
    /// The attribute naming the Entra object (`entra_group_id`, `entra_user_id`).
    const PRINCIPAL_ATTRIBUTE: &'static str;
    /// The resource type, for the import hint of an "already exists" error.
    const TYPE_NAME: &'static str;
    fn principal(&self) -> Option<EntraPrincipal>;
    /// The principal's id in the identity store (`identity_store_group_id`, `identity_store_user_id`).
    fn store_id(&self) -> &Attr<String>;
    fn set_store_id(&mut self, id: Attr<String>);
    fn match_mode(&self) -> IdentityStoreMatch;
    /// Defaults and the id after read.
    fn complete_read(&mut self);
    /// Defaults, the id and the ids that stay, filled in at plan from the configuration and the prior state.
    fn complete_plan(&mut self, config: &Self, prior: Option<&Self>);
    /// The composed id (`<application_id>/<principal id>`), the import ID.
    fn import_id(&self) -> String;
    /// Whether the group's members are provisioned and tracked too (groups only).
    fn provisions_members(&self) -> bool {
        false
    }
    /// `provisioned_member_count`/`missing_members` from the members' status (null without one).
    fn record_members(&mut self, _status: Option<&MemberStatus>) {}
    /// Whether the plan already says what the member attributes are after the apply (the prior, settled or
    /// left to the provisioning cycle): the apply must then return exactly that.
    fn members_are_planned(&self) -> bool {
        false
    }

    // The shared attributes (`principal_access_attributes!`).
    fn application_id(&self) -> &Attr<String>;
    fn instance_arn(&self) -> &Attr<String>;
    fn set_instance_arn(&mut self, arn: String);
    fn app_role_assignment_id(&self) -> &Attr<String>;
    fn set_app_role_assignment_id(&mut self, id: Attr<String>);
    fn permission_set_arns(&self) -> &StringSet;
    fn set_permission_set_arns(&mut self, arns: StringSet);
    fn account_ids(&self) -> &StringSet;
    fn set_account_ids(&mut self, ids: StringSet);
    fn organizational_unit_ids(&self) -> &StringSet;
    fn account_tags(&self) -> &Attr<BTreeMap<String, String>>;
    fn exclude_account_ids(&self) -> &StringSet;
    fn target_account_ids(&self) -> &Attr<BTreeSet<String>>;
    fn set_target_account_ids(&mut self, ids: Attr<BTreeSet<String>>);
    /// `assignments`: `<account_id>/<permission_set_arn>` keys.
    fn assignments(&self) -> &Attr<BTreeSet<String>>;
    fn set_assignments(&mut self, keys: Attr<BTreeSet<String>>);
    /// Whether to provision on demand (default true).
    fn provision_on_demand(&self) -> bool;
    /// Whether create takes over a principal that already has the app role (`adopt_existing`); otherwise
    /// it is refused, since two states managing one assignment would each remove the access on destroy.
    fn adopts_existing(&self) -> bool;

    /// The permission-set × account product wanted, or `None` while any part is unknown.
    fn desired_targets(&self) -> Option<BTreeSet<AssignmentTarget>> {
        let arns = self.permission_set_arns().wholly_known()?;
        let accounts = self.target_accounts()?;
        Some(product(arns, &accounts))
    }
    /// What an earlier apply or read recorded.
    fn recorded_targets(&self) -> BTreeSet<AssignmentTarget> {
        self.assignments()
            .known()
            .into_iter()
            .flatten()
            .filter_map(|key| parse_target_key(key))
            .collect()
    }
    fn record_targets(&mut self, targets: &BTreeSet<AssignmentTarget>) {
        self.set_assignments(Attr::Known(targets.iter().map(target_key).collect()));
    }
    /// Marks the planned `assignments` unknown.
    fn clear_assignments(&mut self) {
        self.set_assignments(Attr::unknown());
    }
    /// An import's permission sets and accounts, from the assignments the principal has.
    fn adopt_targets(&mut self, targets: &BTreeSet<AssignmentTarget>) {
        let arns: BTreeSet<&String> = targets.iter().map(|t| &t.permission_set_arn).collect();
        let accounts: BTreeSet<String> = targets.iter().map(|t| t.account_id.clone()).collect();
        self.set_permission_set_arns(Attr::from_known(arns.into_iter().cloned()));
        self.set_account_ids(Attr::from_known(accounts.iter().cloned()));
        self.set_target_account_ids(Attr::Known(accounts));
    }
    /// The configured organization targets, or `None` while any of them is unknown.
    fn account_targets(&self) -> Option<AccountTargets> {
        AccountTargets::from_attributes(
            self.account_ids(),
            self.organizational_unit_ids(),
            self.account_tags(),
            self.exclude_account_ids(),
        )
    }
    /// Whether the configuration sets `account_ids`, `organizational_unit_ids` or `account_tags`.
    fn names_some_target(&self) -> bool {
        !(self.account_ids().is_null()
            && self.organizational_unit_ids().is_null()
            && self.account_tags().is_null())
    }

    /// The accounts assigned in: what the last plan resolved, else (a state of an earlier version, or before
    /// any plan) the account ids alone when no organization target is set.
    fn target_accounts(&self) -> Option<BTreeSet<String>> {
        if let Some(resolved) = self.target_account_ids().known() {
            return Some(resolved.clone());
        }
        let targets = self.account_targets()?;
        (!targets.needs_organization()).then(|| targets.explicit())
    }

    /// Everything the resource manages: what it recorded plus what it wants, so that removing one deletes
    /// exactly those assignments and never ones made elsewhere.
    fn managed_targets(&self) -> BTreeSet<AssignmentTarget> {
        let mut managed = self.recorded_targets();
        managed.extend(self.desired_targets().unwrap_or_default());
        managed
    }
}

/// Inside `impl PrincipalAccessModel for M`: the accessors of the attributes every principal-assignment
/// model has under the same names (`application_id`, `instance_arn`, `app_role_assignment_id`,
/// `permission_set_arns`, the targets, `assignments`, `provision_on_demand`, `adopt_existing`).
#[macro_export]
macro_rules! principal_access_attributes {
    () => {
        fn application_id(&self) -> &$crate::framework::model::Attr<String> {
            &self.application_id
        }
        fn instance_arn(&self) -> &$crate::framework::model::Attr<String> {
            &self.instance_arn
        }
        fn set_instance_arn(&mut self, arn: String) {
            self.instance_arn = arn.into();
        }
        fn app_role_assignment_id(&self) -> &$crate::framework::model::Attr<String> {
            &self.app_role_assignment_id
        }
        fn set_app_role_assignment_id(&mut self, id: $crate::framework::model::Attr<String>) {
            self.app_role_assignment_id = id;
        }
        fn permission_set_arns(&self) -> &$crate::services::principal_access::StringSet {
            &self.permission_set_arns
        }
        fn set_permission_set_arns(&mut self, arns: $crate::services::principal_access::StringSet) {
            self.permission_set_arns = arns;
        }
        fn account_ids(&self) -> &$crate::services::principal_access::StringSet {
            &self.account_ids
        }
        fn set_account_ids(&mut self, ids: $crate::services::principal_access::StringSet) {
            self.account_ids = ids;
        }
        fn organizational_unit_ids(&self) -> &$crate::services::principal_access::StringSet {
            &self.organizational_unit_ids
        }
        fn account_tags(
            &self,
        ) -> &$crate::framework::model::Attr<std::collections::BTreeMap<String, String>> {
            &self.account_tags
        }
        fn exclude_account_ids(&self) -> &$crate::services::principal_access::StringSet {
            &self.exclude_account_ids
        }
        fn target_account_ids(
            &self,
        ) -> &$crate::framework::model::Attr<std::collections::BTreeSet<String>> {
            &self.target_account_ids
        }
        fn set_target_account_ids(
            &mut self,
            ids: $crate::framework::model::Attr<std::collections::BTreeSet<String>>,
        ) {
            self.target_account_ids = ids;
        }
        fn assignments(
            &self,
        ) -> &$crate::framework::model::Attr<std::collections::BTreeSet<String>> {
            &self.assignments
        }
        fn set_assignments(
            &mut self,
            keys: $crate::framework::model::Attr<std::collections::BTreeSet<String>>,
        ) {
            self.assignments = keys;
        }
        fn provision_on_demand(&self) -> bool {
            self.provision_on_demand.known().copied().unwrap_or(true)
        }
        fn adopts_existing(&self) -> bool {
            self.adopt_existing.known().copied().unwrap_or(false)
        }
    };
}

/// A set-of-strings attribute, as the shared accessors return it.
pub type StringSet = Attr<Set<Attr<String>>>;

/// `modify_plan` of a principal-assignment resource: some target is named, newly referenced permission sets
/// exist in the right instance, defaults are set and the targets resolved.
pub async fn modify_plan<M: PrincipalAccessModel>(
    ctx: &Context,
    plan: &mut PlanChange,
) -> Result<(), Diagnostics> {
    if plan.is_destroy() {
        return Ok(());
    }
    check_credentials_at_plan(ctx, &[Cloud::Entra, Cloud::Aws]).await?;
    let config = M::decode(&plan.config)?;
    let prior = if plan.prior.is_null() {
        None
    } else {
        Some(M::decode(&plan.prior)?)
    };
    check_some_target(config.names_some_target())?;
    let added = added_permission_set_arns(
        config.permission_set_arns(),
        prior.as_ref().map(|p| p.permission_set_arns()),
    );
    check_instance_matches(config.instance_arn(), &added)?;
    verify_permission_sets_exist(ctx, &added, "permission_set_arns").await?;
    // A new principal id must name an existing object: a name or a typo would otherwise fail after apply
    // has already assigned nothing.
    if let Some(principal) = config.principal()
        && prior
            .as_ref()
            .and_then(|prior| prior.principal())
            .map(|p| p.object_id)
            != Some(principal.object_id.clone())
    {
        verify_principal_exists(ctx, &principal).await?;
    }
    let mut planned = M::decode(&plan.planned)?;
    planned.complete_plan(&config, prior.as_ref());
    if let Some(prior) = &prior {
        // The ids stay as long as the app role assignment and the provisioned principal do; when read
        // found one gone (null), apply makes or finds a new one.
        let kept = |value: &Attr<String>| match value {
            Attr::Null => Attr::unknown(),
            other => other.clone(),
        };
        planned.set_app_role_assignment_id(kept(prior.app_role_assignment_id()));
        planned.set_store_id(kept(prior.store_id()));
    }
    // Boxed: keeps the callers' futures shallow enough for the compiler to lay out.
    Box::pin(plan_targets(ctx, &config, &mut planned)).await?;
    plan.planned = planned.encode();
    Ok(())
}

/// `read` of a principal-assignment resource on wire values, within the `read` timeout.
pub async fn read_value<M: PrincipalAccessModel>(
    ctx: &Context,
    state: Value,
    default_timeout: Duration,
) -> Result<Option<Value>, Diagnostics> {
    let deadline = Deadline::after(timeout_from(&state, Operation::Read, default_timeout));
    let state = M::decode(&state)?;
    Ok(read(ctx, state, deadline)
        .await?
        .map(|refreshed| refreshed.encode()))
}

/// At plan: `target_account_ids` and `assignments` are what the organization says now, so an account that
/// joined or left an OU is a change.
pub async fn plan_targets<M: PrincipalAccessModel>(
    ctx: &Context,
    config: &M,
    planned: &mut M,
) -> Result<(), Diagnostics> {
    let Some(targets) = config.account_targets() else {
        planned.set_target_account_ids(Attr::unknown());
        planned.clear_assignments();
        return Ok(());
    };
    let resolved = resolve_account_targets(ctx, &targets, Deadline::after(ctx.remaining())).await?;
    planned.set_target_account_ids(Attr::Known(resolved));
    match planned.desired_targets() {
        Some(desired) => planned.record_targets(&desired),
        None => planned.clear_assignments(),
    }
    Ok(())
}

fn aws_principal(principal: &EntraPrincipal, store_id: &str) -> Principal {
    match principal.kind {
        PrincipalType::Group => Principal::group(store_id),
        PrincipalType::User => Principal::user(store_id),
    }
}

fn missing(name: &str) -> Diagnostics {
    Diagnostic::error(
        "Missing value",
        format!("`{name}` must be known at apply time."),
    )
    .at(AttributePath::new(name))
    .into()
}

fn required<'a>(value: &'a Attr<String>, name: &str) -> Result<&'a str, Diagnostics> {
    value.as_str().ok_or_else(|| missing(name))
}

/// What create and update start from: the clients, the planned principal and targets, the enterprise app
/// and the Identity Center instance.
struct Apply {
    clients: Arc<IdbridgeClients>,
    graph: Arc<GraphClient>,
    identity_center: Arc<IdentityCenter>,
    principal: EntraPrincipal,
    match_mode: IdentityStoreMatch,
    provision_on_demand: bool,
    provision_members: bool,
    desired: BTreeSet<AssignmentTarget>,
    deadline: Deadline,
    app: EnterpriseApp,
    instance: Instance,
}

impl Apply {
    async fn open<M: PrincipalAccessModel>(
        ctx: &Context,
        planned: &M,
    ) -> Result<Apply, Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let graph = clients.graph().await?;
        let identity_center = clients.identity_center().await?;
        let application_id = required(planned.application_id(), "application_id")?;
        let principal = planned
            .principal()
            .ok_or_else(|| missing(M::PRINCIPAL_ATTRIBUTE))?;
        let desired = planned.desired_targets().ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Unknown assignments",
                "`permission_set_arns` and the target accounts must be known at apply time.",
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
                planned.instance_arn().as_str(),
                deadline,
            ))
            .await?;
        let provision_members =
            principal.kind == PrincipalType::Group && planned.provisions_members();
        Ok(Apply {
            graph,
            identity_center,
            principal,
            match_mode: planned.match_mode(),
            provision_on_demand: planned.provision_on_demand(),
            provision_members,
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
            Some(job) => Some(provisioning.on_demand_job(job, &self.principal).await?),
            None => None,
        };
        Ok((job, on_demand))
    }

    /// Steps (2) and (3): the principal (a group with its first members) provisioned and found in the
    /// identity store, then the rest of a group's members. The identity store id, and the members' status
    /// (`None` when not provisioning members) or why they are not all there.
    async fn provision_and_wait(
        &self,
        ctx: &Context,
    ) -> Result<(String, Result<Option<MemberStatus>, Diagnostics>), Diagnostics> {
        let provisioning = self.provisioning();
        let (job, on_demand) = ctx.guard(self.on_demand(&provisioning)).await?;
        let review = match self.provision_members {
            true => Some(
                ctx.guard(member_review(&self.clients, &self.graph, &self.principal))
                    .await?,
            ),
            false => None,
        };
        let linked = match (&review, &on_demand) {
            (Some(review), Some(_)) => first_linked(review),
            _ => Vec::new(),
        };
        // Boxed: the whole chain of nested futures is too deep for the compiler to lay out inline.
        let store_id = ctx
            .guard(Box::pin(provisioning.principal_and_wait(
                ctx,
                &self.principal,
                self.match_mode,
                job.as_ref(),
                on_demand.as_ref(),
                &linked,
            )))
            .await?;
        let Some(review) = review else {
            return Ok((store_id, Ok(None)));
        };
        let status = ctx
            .guard(Box::pin(provisioning.members_and_wait(
                ctx,
                &self.principal,
                &store_id,
                &review.eligible,
                &not_linked(&review, &linked),
                on_demand.as_ref(),
            )))
            .await
            .map(Some);
        Ok((store_id, status))
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
            .guard(member_review(&self.clients, &self.graph, &self.principal))
            .await?;
        let missing = ctx
            .guard(missing_member_ids(ctx, &provisioning, group_id, &review))
            .await?;
        let on_demand = if missing.is_empty() {
            None
        } else {
            ctx.guard(self.on_demand(&provisioning)).await?.1
        };
        ctx.guard(Box::pin(provisioning.members_and_wait(
            ctx,
            &self.principal,
            group_id,
            &review.eligible,
            &missing,
            on_demand.as_ref(),
        )))
        .await
        .map(Some)
    }

    /// Step (4), shared by create and update: converge and turn the outcome into state or a partial state.
    async fn converge<M: PrincipalAccessModel>(
        &self,
        ctx: &Context,
        store_id: &str,
        known: &BTreeSet<AssignmentTarget>,
        mut state: M,
    ) -> Result<Value, ApplyError> {
        let converged = PrincipalAssignments {
            identity_center: &self.identity_center,
            instance_arn: &self.instance.instance_arn,
            principal: aws_principal(&self.principal, store_id),
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

pub async fn create<M: PrincipalAccessModel>(
    ctx: &Context,
    planned: M,
) -> Result<Value, ApplyError> {
    let apply = Apply::open(ctx, &planned).await?;
    if !planned.adopts_existing() {
        ctx.guard(refuse_assigned_elsewhere(&apply, &planned))
            .await?;
    }
    let app_role_assignment_id = ctx
        .guard(assign_user_role(&apply.graph, &apply.app, &apply.principal))
        .await?;
    // From here on something exists remotely.
    let mut state = planned;
    state.set_instance_arn(apply.instance.instance_arn.clone());
    state.set_app_role_assignment_id(app_role_assignment_id.into());
    state.set_store_id(Attr::Null);
    state.record_targets(&BTreeSet::new());
    state.record_members(None);
    let (store_id, members) = apply
        .provision_and_wait(ctx)
        .await
        .map_err(|d| ApplyError::from(d).with_partial_state(state.encode()))?;
    state.set_store_id(store_id.clone().into());
    record_members(&mut state, members)?;
    apply
        .converge(ctx, &store_id, &BTreeSet::new(), state)
        .await
}

/// A principal that already has the app's `User` role was assigned by another configuration (or by hand):
/// two states managing one assignment would each remove its access on destroy. Refused unless opted in.
async fn refuse_assigned_elsewhere<M: PrincipalAccessModel>(
    apply: &Apply,
    planned: &M,
) -> Result<(), Diagnostics> {
    let Some(existing) =
        find_app_role_assignment(&apply.graph, &apply.app, &apply.principal, None).await?
    else {
        return Ok(());
    };
    let noun = apply.principal.noun();
    let mut kind = noun.to_owned();
    kind[..1].make_ascii_uppercase();
    Err(already_exists(
        &format!(
            "{kind} {} is already assigned to the enterprise application {} (app role assignment {existing})",
            apply.principal.object_id, apply.app.service_principal_id
        ),
        M::TYPE_NAME,
        &planned.import_id(),
        M::PRINCIPAL_ATTRIBUTE,
    )
    .into())
}

/// The members' status into the state, or the error with a state whose null member attributes make the
/// next plan provision them again.
fn record_members<M: PrincipalAccessModel>(
    state: &mut M,
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

pub async fn update<M: PrincipalAccessModel>(
    ctx: &Context,
    planned: M,
    prior: M,
) -> Result<Value, ApplyError> {
    let apply = Apply::open(ctx, &planned).await?;
    let mut state = planned;
    state.set_instance_arn(apply.instance.instance_arn.clone());
    if !state.app_role_assignment_id().is_known() {
        let id = ctx
            .guard(assign_user_role(&apply.graph, &apply.app, &apply.principal))
            .await?;
        state.set_app_role_assignment_id(id.into());
    }
    state.record_targets(&prior.recorded_targets());
    let store_id = match prior.store_id().as_str() {
        Some(id) => {
            if apply.match_mode == IdentityStoreMatch::ExternalId
                && prior.match_mode() != IdentityStoreMatch::ExternalId
            {
                ctx.guard(check_for_new_match_mode(
                    &apply.identity_center,
                    &apply.instance.identity_store_id,
                    id,
                    &apply.principal,
                    apply.deadline,
                ))
                .await?;
            }
            state.set_store_id(id.to_owned().into());
            let planned_members = state.members_are_planned();
            match apply.heal_members(ctx, id).await {
                // The cycle may have brought members since the plan; Terraform requires the planned
                // values, and the next refresh shows the new ones.
                Ok(_) if planned_members => {}
                members => record_members(&mut state, members)?,
            }
            id.to_owned()
        }
        None => match apply.provision_and_wait(ctx).await {
            Ok((id, members)) => {
                state.set_store_id(id.clone().into());
                record_members(&mut state, members)?;
                id
            }
            Err(diags) => {
                state.set_store_id(Attr::Null);
                state.record_members(None);
                return Err(ApplyError::from(diags).with_partial_state(state.encode()));
            }
        },
    };
    state.set_store_id(store_id.clone().into());
    apply
        .converge(ctx, &store_id, &prior.managed_targets(), state)
        .await
}

/// Whether the Entra object still exists.
async fn principal_exists(
    graph: &GraphClient,
    principal: &EntraPrincipal,
) -> Result<bool, Diagnostics> {
    let found = match principal.kind {
        PrincipalType::Group => graph.get_group(&principal.object_id).await.map(drop),
        PrincipalType::User => graph.get_user(&principal.object_id).await.map(drop),
    };
    match found {
        Ok(()) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(graph_error(&format!("read the Entra ID {}", principal.noun()), &e).into()),
    }
}

/// The refreshed state, or `None` when the application or the principal is gone. Reads of the assignments
/// come from the engine's batched cache: one ListAccountAssignments per (account, permission set) per refresh,
/// shared by all resources.
pub async fn read<M: PrincipalAccessModel>(
    ctx: &Context,
    state: M,
    deadline: Deadline,
) -> Result<Option<M>, Diagnostics> {
    let clients = IdbridgeClients::from_context(ctx)?;
    let graph = clients.graph().await?;
    let (Some(application_id), Some(principal)) =
        (state.application_id().as_str(), state.principal())
    else {
        return Err(Diagnostic::error(
            "Incomplete state",
            format!(
                "The state has no application_id or {}; remove the resource from state and import it.",
                M::PRINCIPAL_ATTRIBUTE
            ),
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
    if !principal_exists(&graph, &principal).await? {
        return Ok(None);
    }
    let app_role_assignment_id = find_app_role_assignment(
        &graph,
        &app,
        &principal,
        state.app_role_assignment_id().as_str(),
    )
    .await?;

    let identity_center = clients.identity_center().await?;
    let instance = ctx
        .guard(
            clients
                .caches()
                .instance(&identity_center, state.instance_arn().as_str(), deadline),
        )
        .await?;
    let store_id = match state.store_id().as_str() {
        // A recorded principal is re-resolved when it is gone (or now another Entra object's).
        Some(id) => {
            ctx.guard(verify_provisioned(
                &graph,
                &identity_center,
                &instance.identity_store_id,
                id,
                &principal,
                state.match_mode(),
                deadline,
            ))
            .await?
        }
        None => {
            ctx.guard(find_provisioned(
                &graph,
                &identity_center,
                &instance.identity_store_id,
                &principal,
                state.match_mode(),
                deadline,
            ))
            .await?
        }
    };
    let mut refreshed = state.clone();
    refreshed.set_instance_arn(instance.instance_arn.clone());
    refreshed.set_app_role_assignment_id(app_role_assignment_id.into());
    refreshed.set_store_id(store_id.clone().into());
    let Some(store_id) = store_id else {
        // Never provisioned (or deprovisioned): no assignment can exist.
        refreshed.record_targets(&BTreeSet::new());
        refreshed.record_members(None);
        return Ok(Some(refreshed));
    };
    let members = match principal.kind == PrincipalType::Group && state.provisions_members() {
        false => None,
        true => Some(
            ctx.guard(Box::pin(refresh_members(
                &clients,
                &graph,
                &identity_center,
                &instance.identity_store_id,
                &principal,
                &store_id,
                deadline,
            )))
            .await?,
        ),
    };
    refreshed.record_members(members.as_ref());
    let assignments = PrincipalAssignments {
        identity_center: &identity_center,
        instance_arn: &instance.instance_arn,
        principal: aws_principal(&principal, &store_id),
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
            // Import: the principal's assignments define the sets.
            let all = assignments.all(ctx).await?;
            refreshed.adopt_targets(&all);
            all
        }
    };
    refreshed.complete_read();
    refreshed.record_targets(&existing);
    Ok(Some(refreshed))
}

/// Removes every account assignment the resource manages, then the app role assignment.
pub async fn delete<M: PrincipalAccessModel>(ctx: &Context, state: M) -> Result<(), Diagnostics> {
    let clients = IdbridgeClients::from_context(ctx)?;
    let deadline = Deadline::after(ctx.remaining());
    if let (Some(store_id), Some(principal)) = (state.store_id().as_str(), state.principal()) {
        let identity_center = clients.identity_center().await?;
        let instance = ctx
            .guard(clients.caches().instance(
                &identity_center,
                state.instance_arn().as_str(),
                deadline,
            ))
            .await?;
        let converged = PrincipalAssignments {
            identity_center: &identity_center,
            instance_arn: &instance.instance_arn,
            principal: aws_principal(&principal, store_id),
            deadline,
        }
        .converge(ctx, &BTreeSet::new(), &state.managed_targets(), "delete")
        .await?;
        if let Some(failures) = converged.failures {
            return Err(failures.into());
        }
    }
    let (Some(application_id), Some(assignment_id), Some(principal)) = (
        state.application_id().as_str(),
        state.app_role_assignment_id().as_str(),
        state.principal(),
    ) else {
        return Ok(());
    };
    let graph = clients.graph().await?;
    match ctx
        .guard(find_enterprise_app(ctx, &graph, application_id))
        .await?
    {
        AppLookup::Found(app) => {
            remove_app_role_assignment(&graph, &app, &principal, assignment_id).await
        }
        // The application (and with it its assignments) is gone already.
        AppLookup::Gone(_) => Ok(()),
    }
}
