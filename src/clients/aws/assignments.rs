//! Account assignments: the engine that converges a principal's assignments, and batched reads.
//!
//! Writes: CreateAccountAssignment/DeleteAccountAssignment are asynchronous and AWS lets at most 10 run
//! at once, so each one holds a slot of the process-wide semaphore from the call until its status is
//! terminal. The API does not refuse duplicates, so the engine always looks at what exists first.
//!
//! Reads: a resource asking "is this principal assigned on (account, permission set)" is answered from
//! one paginated ListAccountAssignments per (account, permission set), shared by all resources of a
//! refresh (single-flight, short TTL, dropped when we write to that pair).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ssoadmin::types as sso;
use futures_util::StreamExt;
use futures_util::future::Either;
use futures_util::stream::FuturesUnordered;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::error::{AwsError, Error, ErrorKind};
use super::identity_center::{PAGE_SIZE, next_token};
use super::limits::{AssignmentSlot, ServiceLimits};
use super::retry::{self, Conflicts, Deadline, PollPolicy, RetryPolicy, collect_pages};
use super::status_poller::{ListedStatus, OperationKind, PollCalls, StatusPoller};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalType {
    Group,
    User,
}

/// An identity store group or user.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Principal {
    pub principal_type: PrincipalType,
    pub id: String,
}

impl Principal {
    pub fn group(id: impl Into<String>) -> Self {
        Self {
            principal_type: PrincipalType::Group,
            id: id.into(),
        }
    }
    pub fn user(id: impl Into<String>) -> Self {
        Self {
            principal_type: PrincipalType::User,
            id: id.into(),
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.principal_type {
            PrincipalType::Group => "group",
            PrincipalType::User => "user",
        };
        write!(f, "{kind} {}", self.id)
    }
}

/// A permission set in an AWS account: what a principal is assigned to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssignmentTarget {
    pub permission_set_arn: String,
    pub account_id: String,
}

impl AssignmentTarget {
    pub fn new(permission_set_arn: impl Into<String>, account_id: impl Into<String>) -> Self {
        Self {
            permission_set_arn: permission_set_arn.into(),
            account_id: account_id.into(),
        }
    }
}

impl fmt::Display for AssignmentTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in account {}",
            self.permission_set_arn, self.account_id
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AsyncStatus {
    InProgress,
    Succeeded,
    Failed { reason: String },
}

/// The status of an asynchronous Create/DeleteAccountAssignment request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsyncOperation {
    pub request_id: String,
    pub status: AsyncStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// The sso-admin calls the engine needs, one attempt each (retries and pacing are the engine's job).
/// Implemented by the SDK and, in tests, by an in-memory fake that injects failures.
pub trait AssignmentApi: Send + Sync {
    fn list_assignments(
        &self,
        instance_arn: &str,
        target: &AssignmentTarget,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<Principal>, AwsError>> + Send;

    fn list_assignments_for_principal(
        &self,
        instance_arn: &str,
        principal: &Principal,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<AssignmentTarget>, AwsError>> + Send;

    fn create_assignment(
        &self,
        instance_arn: &str,
        principal: &Principal,
        target: &AssignmentTarget,
    ) -> impl Future<Output = Result<AsyncOperation, AwsError>> + Send;

    fn creation_status(
        &self,
        instance_arn: &str,
        request_id: &str,
    ) -> impl Future<Output = Result<AsyncOperation, AwsError>> + Send;

    fn delete_assignment(
        &self,
        instance_arn: &str,
        principal: &Principal,
        target: &AssignmentTarget,
    ) -> impl Future<Output = Result<AsyncOperation, AwsError>> + Send;

    fn deletion_status(
        &self,
        instance_arn: &str,
        request_id: &str,
    ) -> impl Future<Output = Result<AsyncOperation, AwsError>> + Send;

    /// One page of the request ids of `kind` with `status` (`List…CreationStatus`/`…DeletionStatus` with
    /// `Filter.Status`).
    fn list_operations(
        &self,
        instance_arn: &str,
        kind: OperationKind,
        status: ListedStatus,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<String>, AwsError>> + Send;
}

/// [`AssignmentApi`] over the AWS SDK.
#[derive(Clone)]
pub struct SdkAssignmentApi {
    sso: aws_sdk_ssoadmin::Client,
}

impl SdkAssignmentApi {
    pub fn new(sso: aws_sdk_ssoadmin::Client) -> Self {
        Self { sso }
    }
}

fn to_sso_principal_type(t: PrincipalType) -> sso::PrincipalType {
    match t {
        PrincipalType::Group => sso::PrincipalType::Group,
        PrincipalType::User => sso::PrincipalType::User,
    }
}

fn from_sso_principal(
    principal_type: Option<&sso::PrincipalType>,
    id: Option<&str>,
    operation: &'static str,
) -> Result<Principal, AwsError> {
    let principal_type = match principal_type {
        Some(sso::PrincipalType::Group) => PrincipalType::Group,
        Some(sso::PrincipalType::User) => PrincipalType::User,
        other => {
            return Err(AwsError::malformed(
                operation,
                format!("unexpected PrincipalType {other:?}"),
            ));
        }
    };
    let id = id.ok_or_else(|| AwsError::malformed(operation, "assignment without PrincipalId"))?;
    Ok(Principal {
        principal_type,
        id: id.to_owned(),
    })
}

/// An asynchronous operation's status from the fields all sso-admin status shapes share.
pub(crate) fn async_operation(
    request_id: Option<&str>,
    status: Option<&sso::StatusValues>,
    failure_reason: Option<&str>,
    operation: &'static str,
) -> Result<AsyncOperation, AwsError> {
    let request_id =
        request_id.ok_or_else(|| AwsError::malformed(operation, "response without RequestId"))?;
    let status = match status {
        Some(sso::StatusValues::Succeeded) => AsyncStatus::Succeeded,
        Some(sso::StatusValues::Failed) => AsyncStatus::Failed {
            reason: failure_reason
                .unwrap_or("no FailureReason given")
                .to_owned(),
        },
        _ => AsyncStatus::InProgress,
    };
    Ok(AsyncOperation {
        request_id: request_id.to_owned(),
        status,
    })
}

fn from_sso_status(
    status: Option<&sso::AccountAssignmentOperationStatus>,
    operation: &'static str,
) -> Result<AsyncOperation, AwsError> {
    let status = status
        .ok_or_else(|| AwsError::malformed(operation, "response without an operation status"))?;
    async_operation(
        status.request_id(),
        status.status(),
        status.failure_reason(),
        operation,
    )
}

impl AssignmentApi for SdkAssignmentApi {
    async fn list_assignments(
        &self,
        instance_arn: &str,
        target: &AssignmentTarget,
        next_token_in: Option<String>,
    ) -> Result<Page<Principal>, AwsError> {
        const OP: &str = "ListAccountAssignments";
        let out = self
            .sso
            .list_account_assignments()
            .instance_arn(instance_arn)
            .account_id(&target.account_id)
            .permission_set_arn(&target.permission_set_arn)
            .max_results(PAGE_SIZE)
            .set_next_token(next_token_in)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        let items = out
            .account_assignments()
            .iter()
            .map(|a| from_sso_principal(a.principal_type(), a.principal_id(), OP))
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            next_token: next_token(out.next_token()),
        })
    }

    async fn list_assignments_for_principal(
        &self,
        instance_arn: &str,
        principal: &Principal,
        next_token_in: Option<String>,
    ) -> Result<Page<AssignmentTarget>, AwsError> {
        const OP: &str = "ListAccountAssignmentsForPrincipal";
        let out = self
            .sso
            .list_account_assignments_for_principal()
            .instance_arn(instance_arn)
            .principal_type(to_sso_principal_type(principal.principal_type))
            .principal_id(&principal.id)
            .max_results(PAGE_SIZE)
            .set_next_token(next_token_in)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        let mut items = Vec::new();
        for a in out.account_assignments() {
            // The operation lists the accounts the principal "has access to"; keep only assignments made to
            // this very principal, so that a user's access through a group never counts as its own.
            let assigned_to = from_sso_principal(a.principal_type(), a.principal_id(), OP)?;
            if &assigned_to != principal {
                continue;
            }
            let (Some(ps), Some(account)) = (a.permission_set_arn(), a.account_id()) else {
                return Err(AwsError::malformed(
                    OP,
                    "assignment without PermissionSetArn/AccountId",
                ));
            };
            items.push(AssignmentTarget::new(ps, account));
        }
        Ok(Page {
            items,
            next_token: next_token(out.next_token()),
        })
    }

    async fn create_assignment(
        &self,
        instance_arn: &str,
        principal: &Principal,
        target: &AssignmentTarget,
    ) -> Result<AsyncOperation, AwsError> {
        const OP: &str = "CreateAccountAssignment";
        let out = self
            .sso
            .create_account_assignment()
            .instance_arn(instance_arn)
            .target_id(&target.account_id)
            .target_type(sso::TargetType::AwsAccount)
            .permission_set_arn(&target.permission_set_arn)
            .principal_type(to_sso_principal_type(principal.principal_type))
            .principal_id(&principal.id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        from_sso_status(out.account_assignment_creation_status(), OP)
    }

    async fn creation_status(
        &self,
        instance_arn: &str,
        request_id: &str,
    ) -> Result<AsyncOperation, AwsError> {
        const OP: &str = "DescribeAccountAssignmentCreationStatus";
        let out = self
            .sso
            .describe_account_assignment_creation_status()
            .instance_arn(instance_arn)
            .account_assignment_creation_request_id(request_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        from_sso_status(out.account_assignment_creation_status(), OP)
    }

    async fn delete_assignment(
        &self,
        instance_arn: &str,
        principal: &Principal,
        target: &AssignmentTarget,
    ) -> Result<AsyncOperation, AwsError> {
        const OP: &str = "DeleteAccountAssignment";
        let out = self
            .sso
            .delete_account_assignment()
            .instance_arn(instance_arn)
            .target_id(&target.account_id)
            .target_type(sso::TargetType::AwsAccount)
            .permission_set_arn(&target.permission_set_arn)
            .principal_type(to_sso_principal_type(principal.principal_type))
            .principal_id(&principal.id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        from_sso_status(out.account_assignment_deletion_status(), OP)
    }

    async fn deletion_status(
        &self,
        instance_arn: &str,
        request_id: &str,
    ) -> Result<AsyncOperation, AwsError> {
        const OP: &str = "DescribeAccountAssignmentDeletionStatus";
        let out = self
            .sso
            .describe_account_assignment_deletion_status()
            .instance_arn(instance_arn)
            .account_assignment_deletion_request_id(request_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        from_sso_status(out.account_assignment_deletion_status(), OP)
    }

    async fn list_operations(
        &self,
        instance_arn: &str,
        kind: OperationKind,
        status: ListedStatus,
        next_token_in: Option<String>,
    ) -> Result<Page<String>, AwsError> {
        let op = kind.list_operation();
        let filter = sso::OperationStatusFilter::builder()
            .status(match status {
                ListedStatus::InProgress => sso::StatusValues::InProgress,
                ListedStatus::Failed => sso::StatusValues::Failed,
            })
            .build();
        // The two listings differ only in their builder and output member (distinct SDK types).
        macro_rules! page {
            ($list:ident, $member:ident) => {{
                let out = self
                    .sso
                    .$list()
                    .instance_arn(instance_arn)
                    .filter(filter)
                    .max_results(PAGE_SIZE)
                    .set_next_token(next_token_in)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(op, e))?;
                (out.$member().to_vec(), next_token(out.next_token()))
            }};
        }
        let (listed, token) = match kind {
            OperationKind::Creation => page!(
                list_account_assignment_creation_status,
                account_assignments_creation_status
            ),
            OperationKind::Deletion => page!(
                list_account_assignment_deletion_status,
                account_assignments_deletion_status
            ),
        };
        let items = listed
            .iter()
            .map(|status| {
                status
                    .request_id()
                    .map(str::to_owned)
                    .ok_or_else(|| AwsError::malformed(op, "status without RequestId"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            next_token: token,
        })
    }
}

type PrincipalSet = Arc<BTreeSet<Principal>>;
type CacheKey = (String, AssignmentTarget);

struct CacheEntry {
    /// Filled once by the first asker; later askers for the same key await the same fill.
    fetched: OnceCell<(Instant, PrincipalSet)>,
}

/// Principals assigned per (instance, account, permission set), shared by all resources of a process.
pub struct AssignmentCache {
    ttl: Duration,
    entries: Mutex<HashMap<CacheKey, Arc<CacheEntry>>>,
}

impl AssignmentCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entry(&self, key: &CacheKey) -> Arc<CacheEntry> {
        let mut entries = self.entries.lock().expect("assignment cache lock poisoned");
        let fresh = |e: &CacheEntry| {
            e.fetched
                .get()
                .is_none_or(|(at, _)| at.elapsed() < self.ttl)
        };
        match entries.get(key) {
            Some(e) if fresh(e) => e.clone(),
            _ => {
                let e = Arc::new(CacheEntry {
                    fetched: OnceCell::new(),
                });
                entries.insert(key.clone(), e.clone());
                e
            }
        }
    }

    /// Returns the cached set or runs `fetch` once for all concurrent askers of the same key.
    /// Returns whether this call was served without running `fetch`.
    async fn get_or_fetch<F, Fut>(
        &self,
        key: CacheKey,
        fetch: F,
    ) -> Result<(PrincipalSet, bool), Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<PrincipalSet, Error>>,
    {
        let entry = self.entry(&key);
        let mut ran_fetch = false;
        let (_, set) = entry
            .fetched
            .get_or_try_init(|| {
                ran_fetch = true;
                let fut = fetch();
                async move { fut.await.map(|set| (Instant::now(), set)) }
            })
            .await?;
        Ok((set.clone(), !ran_fetch))
    }

    /// Forgets a pair after we wrote to it.
    pub fn invalidate(&self, instance_arn: &str, target: &AssignmentTarget) {
        self.entries
            .lock()
            .expect("assignment cache lock poisoned")
            .remove(&(instance_arn.to_owned(), target.clone()));
    }

    fn is_fresh(&self, key: &CacheKey) -> bool {
        self.entries
            .lock()
            .expect("assignment cache lock poisoned")
            .get(key)
            .and_then(|e| e.fetched.get())
            .is_some_and(|(at, _)| at.elapsed() < self.ttl)
    }
}

/// The exact result of converging one principal, also after partial failure.
#[derive(Debug, Default)]
pub struct AssignmentOutcome {
    /// Managed targets (desired or known) that exist now: write this to state.
    pub existing: BTreeSet<AssignmentTarget>,
    pub created: BTreeSet<AssignmentTarget>,
    /// Desired targets that already existed and were not created again.
    pub adopted: BTreeSet<AssignmentTarget>,
    pub deleted: BTreeSet<AssignmentTarget>,
    pub failed: Vec<(AssignmentTarget, Error)>,
}

impl AssignmentOutcome {
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Write {
    Create,
    Delete,
}

impl Write {
    /// The AWS operation that starts it and the kind of asynchronous operation it starts.
    fn operation(self) -> (&'static str, OperationKind) {
        match self {
            Write::Create => ("CreateAccountAssignment", OperationKind::Creation),
            Write::Delete => ("DeleteAccountAssignment", OperationKind::Deletion),
        }
    }
}

/// From this many uncached targets a refresh reads the principal's assignments in one listing rather than
/// each (account, permission set) pair.
pub const WIDE_RESOURCE_TARGETS: usize = 50;

/// A converge reads per principal as soon as two targets lack a fresh cache entry: one listing instead of two
/// or more pair reads, which its writes would have to wait for anyway.
const CONVERGE_PER_PRINCIPAL_FROM: usize = 2;

/// Converges account assignments and serves batched reads for one Identity Center instance.
pub struct AssignmentEngine<A> {
    api: A,
    instance_arn: String,
    limits: Arc<ServiceLimits>,
    retry: RetryPolicy,
    poll: PollPolicy,
    cache: Arc<AssignmentCache>,
    /// Detects the completion of every Create/Delete of this instance with shared status listings.
    poller: StatusPoller,
    /// Set once ListAccountAssignmentsForPrincipal was refused: AWS allows it only from the management
    /// account of an organization instance, not from a delegated administrator or an account instance.
    per_principal_listing_refused: AtomicBool,
}

impl<A: AssignmentApi> AssignmentEngine<A> {
    pub fn new(
        api: A,
        instance_arn: &str,
        limits: Arc<ServiceLimits>,
        retry: RetryPolicy,
        poll: PollPolicy,
        cache: Arc<AssignmentCache>,
    ) -> Self {
        Self {
            api,
            instance_arn: instance_arn.to_owned(),
            limits,
            retry,
            poll,
            cache,
            poller: StatusPoller::default(),
            per_principal_listing_refused: AtomicBool::new(false),
        }
    }

    pub fn limits(&self) -> &Arc<ServiceLimits> {
        &self.limits
    }

    /// Principals assigned on a target: one paginated ListAccountAssignments per target and refresh,
    /// however many resources ask.
    pub async fn principals_assigned(
        &self,
        target: &AssignmentTarget,
        deadline: Deadline,
    ) -> Result<PrincipalSet, Error> {
        let key = (self.instance_arn.clone(), target.clone());
        // Boxed: every resource of a refresh asks for all its targets at once, and all but the first
        // asker of a pair only wait; they need not carry the listing's state.
        let (set, hit) = self
            .cache
            .get_or_fetch(key, || Box::pin(self.list_target(target, deadline)))
            .await?;
        self.limits.counters.record_cache(hit);
        Ok(set)
    }

    pub async fn is_assigned(
        &self,
        principal: &Principal,
        target: &AssignmentTarget,
        deadline: Deadline,
    ) -> Result<bool, Error> {
        Ok(self
            .principals_assigned(target, deadline)
            .await?
            .contains(principal))
    }

    /// Every assignment of a principal across all accounts (uncached; one paginated call).
    pub async fn assignments_of(
        &self,
        principal: &Principal,
        deadline: Deadline,
    ) -> Result<BTreeSet<AssignmentTarget>, Error> {
        let targets = collect_pages(|token| async move {
            let page = retry::run(
                &self.limits,
                &self.retry,
                "ListAccountAssignmentsForPrincipal",
                Conflicts::Fail,
                deadline,
                || {
                    self.api.list_assignments_for_principal(
                        &self.instance_arn,
                        principal,
                        token.clone(),
                    )
                },
            )
            .await?;
            Ok((page.items, page.next_token))
        })
        .await?;
        Ok(targets.into_iter().collect())
    }

    pub(crate) async fn list_target(
        &self,
        target: &AssignmentTarget,
        deadline: Deadline,
    ) -> Result<PrincipalSet, Error> {
        let principals = collect_pages(|token| async move {
            let page = retry::run(
                &self.limits,
                &self.retry,
                "ListAccountAssignments",
                Conflicts::Fail,
                deadline,
                || {
                    self.api
                        .list_assignments(&self.instance_arn, target, token.clone())
                },
            )
            .await?;
            Ok((page.items, page.next_token))
        })
        .await?;
        Ok(Arc::new(principals.into_iter().collect()))
    }

    /// Which of `targets` the principal is assigned to now, for a refresh. Per (account, permission set)
    /// pair through the shared cache, so resources naming the same pairs share each read; a resource
    /// naming at least [`WIDE_RESOURCE_TARGETS`] pairs is read with one
    /// ListAccountAssignmentsForPrincipal instead (one page answers up to 100 of them, and the pair reads
    /// would pay off only if more than that many resources shared them).
    pub async fn assigned_among(
        &self,
        principal: &Principal,
        targets: &BTreeSet<AssignmentTarget>,
        deadline: Deadline,
    ) -> Result<BTreeSet<AssignmentTarget>, Error> {
        self.current_assignments(principal, targets, WIDE_RESOURCE_TARGETS, deadline)
            .await
    }

    /// Which of `targets` the principal is assigned to now. Uses fresh cache entries when fewer than
    /// `per_principal_from` targets lack one; otherwise one ListAccountAssignmentsForPrincipal listing
    /// answers for all targets at once (≈ n/100 calls instead of n), falling back to per-target reads
    /// where AWS refuses that operation.
    async fn current_assignments(
        &self,
        principal: &Principal,
        targets: &BTreeSet<AssignmentTarget>,
        per_principal_from: usize,
        deadline: Deadline,
    ) -> Result<BTreeSet<AssignmentTarget>, Error> {
        let uncached = targets
            .iter()
            .filter(|t| {
                !self
                    .cache
                    .is_fresh(&(self.instance_arn.clone(), (*t).clone()))
            })
            .count();
        if uncached >= per_principal_from
            && !self.per_principal_listing_refused.load(Ordering::Relaxed)
        {
            match self.assignments_of(principal, deadline).await {
                Ok(all) => return Ok(all.intersection(targets).cloned().collect()),
                Err(Error::Api(e))
                    if matches!(e.kind, ErrorKind::AccessDenied | ErrorKind::Validation) =>
                {
                    tracing::info!(error = %e, "falling back to one ListAccountAssignments per permission set and account");
                    self.per_principal_listing_refused
                        .store(true, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
        let checks = targets.iter().map(|target| async move {
            Ok::<_, Error>(
                self.is_assigned(principal, target, deadline)
                    .await?
                    .then(|| target.clone()),
            )
        });
        let found = futures_util::future::try_join_all(checks).await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// Makes `principal` assigned to exactly `desired` among the targets it manages: creates what is
    /// missing (after checking it does not exist already), deletes what is in `known_existing` but no
    /// longer desired. Writes run concurrently, bounded by the process-wide limiter and semaphore.
    /// Returns `Err` only when nothing was changed (the initial read failed); otherwise the outcome says
    /// exactly what exists, including after partial failure.
    pub async fn ensure_assignments(
        &self,
        principal: &Principal,
        desired: &BTreeSet<AssignmentTarget>,
        known_existing: &BTreeSet<AssignmentTarget>,
        deadline: Deadline,
    ) -> Result<AssignmentOutcome, Error> {
        let managed: BTreeSet<AssignmentTarget> = desired.union(known_existing).cloned().collect();
        let current = self
            .current_assignments(principal, &managed, CONVERGE_PER_PRINCIPAL_FROM, deadline)
            .await?;

        let mut outcome = AssignmentOutcome {
            existing: current.clone(),
            adopted: desired.intersection(&current).cloned().collect(),
            ..Default::default()
        };
        let to_create = desired.difference(&current).map(|t| (Write::Create, t));
        let to_delete = known_existing
            .difference(desired)
            .filter(|t| current.contains(*t))
            .map(|t| (Write::Delete, t));
        let mut writes: FuturesUnordered<_> = to_create
            .chain(to_delete)
            .map(|(write, target)| async move {
                (
                    write,
                    target,
                    self.write_one(write, principal, target, deadline).await,
                )
            })
            .collect();

        while let Some((write, target, result)) = writes.next().await {
            match (write, result) {
                (Write::Create, Ok(())) => {
                    outcome.existing.insert(target.clone());
                    outcome.created.insert(target.clone());
                }
                (Write::Delete, Ok(())) => {
                    outcome.existing.remove(target);
                    outcome.deleted.insert(target.clone());
                }
                (_, Err(error)) => {
                    tracing::warn!(%principal, %target, ?write, %error, "account assignment change failed");
                    outcome.failed.push((target.clone(), error));
                }
            }
        }
        outcome.failed.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(outcome)
    }

    async fn write_one(
        &self,
        write: Write,
        principal: &Principal,
        target: &AssignmentTarget,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let result = self
            .write_and_wait(write, principal, target, deadline)
            .await;
        // Whatever the result (even a failed attempt may have reached AWS), our cached view of this
        // target is stale now that the operation has ended.
        self.cache.invalidate(&self.instance_arn, target);
        result
    }

    async fn write_and_wait(
        &self,
        write: Write,
        principal: &Principal,
        target: &AssignmentTarget,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let (start_op, _) = write.operation();
        let Ok(slot) =
            tokio::time::timeout_at(deadline.instant(), self.limits.assignment_slot()).await
        else {
            return Err(Error::DeadlineExceeded {
                operation: start_op,
                attempts: 0,
                last_error: None,
            });
        };
        // Boxed: a run queues every write of every resource at once (a thousand, say) for ten slots;
        // only the writes past the slot carry the several-KB state of the AWS call and the status wait.
        Box::pin(self.start_and_wait(write, principal, target, slot, deadline)).await
    }

    async fn start_and_wait(
        &self,
        write: Write,
        principal: &Principal,
        target: &AssignmentTarget,
        slot: AssignmentSlot<'_>,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let (start_op, kind) = write.operation();
        // ConflictException here means another operation on the same permission set is running (e.g.
        // provisioning) or AWS counts more operations running than the poller presumed; retrying is
        // what AWS recommends, and the poller presumes more carefully from then on.
        let started = retry::run(
            &self.limits,
            &self.retry,
            start_op,
            Conflicts::Retry,
            deadline,
            || async {
                let answer = match write {
                    Write::Create => Either::Left(self.api.create_assignment(
                        &self.instance_arn,
                        principal,
                        target,
                    )),
                    Write::Delete => Either::Right(self.api.delete_assignment(
                        &self.instance_arn,
                        principal,
                        target,
                    )),
                }
                .await;
                if answer
                    .as_ref()
                    .is_err_and(|e| e.kind == ErrorKind::Conflict)
                {
                    self.poller.note_conflict();
                }
                answer
            },
        )
        .await;
        let operation = match started {
            Err(e) if write == Write::Delete && e.is_not_found() => return Ok(()),
            other => other?,
        };
        let calls = PollCalls {
            api: &self.api,
            instance_arn: &self.instance_arn,
            limits: &self.limits,
            retry: &self.retry,
            max_interval: self.poll.max,
        };
        self.poller
            .wait(&calls, kind, start_op, operation, Some(slot), deadline)
            .await
    }
}

#[cfg(test)]
#[path = "assignments_tests.rs"]
mod tests;
