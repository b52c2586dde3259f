//! Engine and cache tests against an in-memory sso-admin that can throttle, conflict, stay IN_PROGRESS
//! and fail, under tokio's paused clock. Like AWS, it completes an operation by time, however often its
//! status is asked for.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::clients::aws::ErrorKind;

#[derive(Clone, Copy, PartialEq, Eq)]
enum FakeWrite {
    Create,
    Delete,
}

struct PendingRequest {
    write: FakeWrite,
    principal: Principal,
    target: AssignmentTarget,
    completes_at: Instant,
    /// Set once the request has ended.
    outcome: Option<AsyncStatus>,
}

#[derive(Default)]
struct FakeState {
    assignments: BTreeSet<(Principal, AssignmentTarget)>,
    requests: HashMap<String, PendingRequest>,
    /// The next N calls of any operation answer ThrottlingException.
    throttle_next: u32,
    /// The next N Create calls answer ConflictException.
    conflict_next_creates: u32,
    /// Creations on these targets end FAILED.
    failing_targets: BTreeSet<AssignmentTarget>,
    /// How long a request takes (zero: done in the Create answer).
    completion: Duration,
    /// ListAccountAssignmentsForPrincipal answers AccessDeniedException (delegated administrator).
    refuse_principal_listing: bool,
    /// The status listings answer AccessDeniedException (a policy without sso:List…Status).
    refuse_status_listing: bool,
    /// Time each write and status listing spends on the way to the fake (like the emulators' `--latency-ms`).
    latency: Duration,
    outstanding: usize,
    max_outstanding: usize,
    /// Like AWS: a Create/Delete while this many requests are in progress answers ConflictException.
    max_in_progress: Option<usize>,
    calls: BTreeMap<&'static str, u32>,
    /// When the last Create/Delete reached the fake.
    last_write: Option<Instant>,
}

struct FakeApi {
    state: Mutex<FakeState>,
    page_size: usize,
    next_id: AtomicU64,
}

impl FakeApi {
    fn new(page_size: usize) -> Self {
        Self {
            state: Mutex::new(FakeState::default()),
            page_size,
            next_id: AtomicU64::new(1),
        }
    }

    fn with(&self, f: impl FnOnce(&mut FakeState)) {
        f(&mut self.state.lock().unwrap());
    }

    fn calls(&self, op: &str) -> u32 {
        self.state
            .lock()
            .unwrap()
            .calls
            .get(op)
            .copied()
            .unwrap_or(0)
    }

    async fn travel(&self) {
        let latency = self.state.lock().unwrap().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }

    fn assigned(&self, principal: &Principal) -> BTreeSet<AssignmentTarget> {
        let state = self.state.lock().unwrap();
        state
            .assignments
            .iter()
            .filter(|(p, _)| p == principal)
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// Counts the call, ends the requests whose time has come and applies injected throttling.
    fn enter(&self, op: &'static str) -> Result<std::sync::MutexGuard<'_, FakeState>, AwsError> {
        let mut state = self.state.lock().unwrap();
        Self::settle(&mut state);
        *state.calls.entry(op).or_default() += 1;
        if state.throttle_next > 0 {
            state.throttle_next -= 1;
            return Err(AwsError::new(
                op,
                "ThrottlingException",
                "Rate exceeded",
                Some(400),
            ));
        }
        Ok(state)
    }

    fn page<T: Clone>(&self, all: Vec<T>, token: Option<String>) -> Page<T> {
        let start: usize = token.map_or(0, |t| t.parse().unwrap());
        let end = (start + self.page_size).min(all.len());
        Page {
            items: all[start..end].to_vec(),
            next_token: (end < all.len()).then(|| end.to_string()),
        }
    }

    fn start(
        &self,
        op: &'static str,
        write: FakeWrite,
        principal: &Principal,
        target: &AssignmentTarget,
    ) -> Result<AsyncOperation, AwsError> {
        let mut state = self.enter(op)?;
        if write == FakeWrite::Create && state.conflict_next_creates > 0 {
            state.conflict_next_creates -= 1;
            return Err(AwsError::new(
                op,
                "ConflictException",
                "permission set is being provisioned",
                Some(400),
            ));
        }
        if state
            .max_in_progress
            .is_some_and(|limit| state.outstanding >= limit)
        {
            return Err(AwsError::new(
                op,
                "ConflictException",
                "too many account assignment operations in progress",
                Some(400),
            ));
        }
        let request_id = format!("req-{}", self.next_id.fetch_add(1, Ordering::SeqCst));
        state.last_write = Some(Instant::now());
        state.outstanding += 1;
        state.max_outstanding = state.max_outstanding.max(state.outstanding);
        let completes_at = Instant::now() + state.completion;
        state.requests.insert(
            request_id.clone(),
            PendingRequest {
                write,
                principal: principal.clone(),
                target: target.clone(),
                completes_at,
                outcome: None,
            },
        );
        Self::settle(&mut state);
        Ok(Self::status(&state, &request_id))
    }

    /// Ends every request whose completion time has passed and applies its effect.
    fn settle(state: &mut FakeState) {
        let now = Instant::now();
        let due: Vec<String> = state
            .requests
            .iter()
            .filter(|(_, r)| r.outcome.is_none() && r.completes_at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            let request = &state.requests[&id];
            let key = (request.principal.clone(), request.target.clone());
            let outcome = match request.write {
                FakeWrite::Create if state.failing_targets.contains(&request.target) => {
                    AsyncStatus::Failed {
                        reason: "Received a 404 status error: Not supported account".into(),
                    }
                }
                FakeWrite::Create => {
                    state.assignments.insert(key);
                    AsyncStatus::Succeeded
                }
                FakeWrite::Delete => {
                    state.assignments.remove(&key);
                    AsyncStatus::Succeeded
                }
            };
            state.requests.get_mut(&id).unwrap().outcome = Some(outcome);
            state.outstanding -= 1;
        }
    }

    fn status(state: &FakeState, request_id: &str) -> AsyncOperation {
        let request = state.requests.get(request_id).expect("unknown request id");
        AsyncOperation {
            request_id: request_id.to_owned(),
            status: request.outcome.clone().unwrap_or(AsyncStatus::InProgress),
        }
    }

    fn poll(&self, op: &'static str, request_id: &str) -> Result<AsyncOperation, AwsError> {
        let state = self.enter(op)?;
        Ok(Self::status(&state, request_id))
    }

    fn list_status(
        &self,
        kind: OperationKind,
        status: ListedStatus,
        token: Option<String>,
    ) -> Result<Page<String>, AwsError> {
        let all: Vec<String> = {
            let state = self.enter(kind.list_operation())?;
            if state.refuse_status_listing {
                return Err(AwsError::new(
                    kind.list_operation(),
                    "AccessDeniedException",
                    "not authorized to perform sso:ListAccountAssignmentCreationStatus",
                    Some(400),
                ));
            }
            let wanted_write = match kind {
                OperationKind::Creation => FakeWrite::Create,
                OperationKind::Deletion => FakeWrite::Delete,
            };
            let mut ids: Vec<String> = state
                .requests
                .iter()
                .filter(|(_, r)| r.write == wanted_write)
                .filter(|(_, r)| match status {
                    ListedStatus::InProgress => r.outcome.is_none(),
                    ListedStatus::Failed => matches!(r.outcome, Some(AsyncStatus::Failed { .. })),
                })
                .map(|(id, _)| id.clone())
                .collect();
            ids.sort();
            ids
        };
        Ok(self.page(all, token))
    }
}

impl AssignmentApi for Arc<FakeApi> {
    async fn list_assignments(
        &self,
        _: &str,
        target: &AssignmentTarget,
        token: Option<String>,
    ) -> Result<Page<Principal>, AwsError> {
        let all: Vec<Principal> = {
            let state = self.enter("ListAccountAssignments")?;
            state
                .assignments
                .iter()
                .filter(|(_, t)| t == target)
                .map(|(p, _)| p.clone())
                .collect()
        };
        // Some latency so that concurrent askers really overlap.
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(self.page(all, token))
    }

    async fn list_assignments_for_principal(
        &self,
        _: &str,
        principal: &Principal,
        token: Option<String>,
    ) -> Result<Page<AssignmentTarget>, AwsError> {
        let all: Vec<AssignmentTarget> = {
            let state = self.enter("ListAccountAssignmentsForPrincipal")?;
            if state.refuse_principal_listing {
                return Err(AwsError::new(
                    "ListAccountAssignmentsForPrincipal",
                    "AccessDeniedException",
                    "not called from the management account",
                    Some(400),
                ));
            }
            state
                .assignments
                .iter()
                .filter(|(p, _)| p == principal)
                .map(|(_, t)| t.clone())
                .collect()
        };
        Ok(self.page(all, token))
    }

    async fn create_assignment(
        &self,
        _: &str,
        principal: &Principal,
        target: &AssignmentTarget,
    ) -> Result<AsyncOperation, AwsError> {
        self.travel().await;
        self.start(
            "CreateAccountAssignment",
            FakeWrite::Create,
            principal,
            target,
        )
    }

    async fn creation_status(&self, _: &str, request_id: &str) -> Result<AsyncOperation, AwsError> {
        self.poll("DescribeAccountAssignmentCreationStatus", request_id)
    }

    async fn delete_assignment(
        &self,
        _: &str,
        principal: &Principal,
        target: &AssignmentTarget,
    ) -> Result<AsyncOperation, AwsError> {
        self.travel().await;
        self.start(
            "DeleteAccountAssignment",
            FakeWrite::Delete,
            principal,
            target,
        )
    }

    async fn deletion_status(&self, _: &str, request_id: &str) -> Result<AsyncOperation, AwsError> {
        self.poll("DescribeAccountAssignmentDeletionStatus", request_id)
    }

    async fn list_operations(
        &self,
        _: &str,
        kind: OperationKind,
        status: ListedStatus,
        token: Option<String>,
    ) -> Result<Page<String>, AwsError> {
        self.travel().await;
        self.list_status(kind, status, token)
    }
}

const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-1111111111111111";

fn engine(api: &Arc<FakeApi>, limits: Arc<ServiceLimits>) -> AssignmentEngine<Arc<FakeApi>> {
    AssignmentEngine::new(
        api.clone(),
        INSTANCE,
        limits,
        RetryPolicy::default(),
        PollPolicy {
            first: Duration::from_millis(200),
            max: Duration::from_secs(2),
        },
        Arc::new(AssignmentCache::new(Duration::from_secs(30))),
    )
}

fn fast_limits() -> Arc<ServiceLimits> {
    ServiceLimits::new(1000.0, 1000, 10)
}

fn target(ps: u32, account: u32) -> AssignmentTarget {
    AssignmentTarget::new(
        format!("arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-{ps:016}"),
        format!("{account:012}"),
    )
}

fn set(targets: &[AssignmentTarget]) -> BTreeSet<AssignmentTarget> {
    targets.iter().cloned().collect()
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(600))
}

#[tokio::test(start_paused = true)]
async fn engine_creates_missing_adopts_existing_and_deletes_only_known() {
    let api = Arc::new(FakeApi::new(100));
    let group = Principal::group("g-1");
    let (a, b, c, known, foreign) = (
        target(1, 1),
        target(1, 2),
        target(2, 1),
        target(3, 1),
        target(4, 1),
    );
    api.with(|s| {
        s.assignments.insert((group.clone(), a.clone()));
        s.assignments.insert((group.clone(), known.clone()));
        s.assignments.insert((group.clone(), foreign.clone()));
    });
    let engine = engine(&api, fast_limits());

    let outcome = engine
        .ensure_assignments(
            &group,
            &set(&[a.clone(), b.clone(), c.clone()]),
            &BTreeSet::from([known.clone()]),
            deadline(),
        )
        .await
        .unwrap();

    assert!(outcome.is_complete());
    assert_eq!(outcome.created, set(&[b.clone(), c.clone()]));
    assert_eq!(outcome.adopted, BTreeSet::from([a.clone()]));
    assert_eq!(outcome.deleted, set(&[known]));
    assert_eq!(outcome.existing, set(&[a.clone(), b.clone(), c.clone()]));
    assert_eq!(
        api.assigned(&group),
        set(&[a, b, c, foreign]),
        "unmanaged assignment left alone"
    );
    assert_eq!(
        api.calls("CreateAccountAssignment"),
        2,
        "no duplicate create for the existing assignment"
    );
    assert_eq!(api.calls("DeleteAccountAssignment"), 1);
}

#[tokio::test(start_paused = true)]
async fn engine_is_idempotent_on_a_second_run() {
    let api = Arc::new(FakeApi::new(100));
    let group = Principal::group("g-1");
    let desired = set(&[target(1, 1), target(1, 2), target(2, 2)]);
    let engine = engine(&api, fast_limits());
    let first = engine
        .ensure_assignments(&group, &desired, &BTreeSet::new(), deadline())
        .await
        .unwrap();
    let second = engine
        .ensure_assignments(&group, &desired, &first.existing, deadline())
        .await
        .unwrap();
    assert_eq!(second.created.len(), 0);
    assert_eq!(second.adopted, desired);
    assert_eq!(second.existing, desired);
    assert_eq!(api.calls("CreateAccountAssignment"), 3);
}

#[tokio::test(start_paused = true)]
async fn engine_detects_completion_from_status_listings_not_per_operation_describes() {
    let api = Arc::new(FakeApi::new(100));
    api.with(|s| s.completion = Duration::from_millis(700));
    let group = Principal::group("g-1");
    let engine = engine(&api, fast_limits());
    let desired = set(&[target(1, 1), target(1, 2), target(2, 3)]);
    let outcome = engine
        .ensure_assignments(&group, &desired, &BTreeSet::new(), deadline())
        .await
        .unwrap();
    assert_eq!(outcome.created, desired);
    assert_eq!(api.assigned(&group), desired);
    assert_eq!(api.calls("DescribeAccountAssignmentCreationStatus"), 0);
    let listings = api.calls("ListAccountAssignmentCreationStatus");
    assert!(
        (2..=8).contains(&listings),
        "{listings} listings answered for three operations together"
    );

    let outcome = engine
        .ensure_assignments(&group, &BTreeSet::new(), &desired, deadline())
        .await
        .unwrap();
    assert_eq!(outcome.deleted, desired);
    assert!(outcome.existing.is_empty());
    assert_eq!(api.calls("DescribeAccountAssignmentDeletionStatus"), 0);
    assert!(api.calls("ListAccountAssignmentDeletionStatus") >= 2);
    assert!(api.assigned(&group).is_empty());
}

#[tokio::test(start_paused = true)]
async fn engine_describes_each_operation_when_status_listings_are_refused() {
    let api = Arc::new(FakeApi::new(100));
    api.with(|s| {
        s.completion = Duration::from_millis(300);
        s.refuse_status_listing = true;
        s.failing_targets.insert(target(1, 2));
    });
    let group = Principal::group("g-1");
    let engine = engine(&api, fast_limits());
    let outcome = engine
        .ensure_assignments(
            &group,
            &set(&[target(1, 1), target(1, 2)]),
            &BTreeSet::new(),
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.created, set(&[target(1, 1)]));
    assert!(
        matches!(&outcome.failed[0].1, Error::OperationFailed { reason, .. } if reason.contains("Not supported account"))
    );
    assert_eq!(
        api.calls("ListAccountAssignmentCreationStatus"),
        1,
        "the refusal is remembered"
    );
    assert!(api.calls("DescribeAccountAssignmentCreationStatus") >= 2);
}

#[tokio::test(start_paused = true)]
async fn engine_partial_failure_reports_exactly_what_exists() {
    let api = Arc::new(FakeApi::new(100));
    let (ok1, ok2, bad) = (target(1, 1), target(1, 2), target(1, 3));
    api.with(|s| {
        s.failing_targets.insert(bad.clone());
        s.completion = Duration::from_millis(200);
    });
    let group = Principal::group("g-1");
    let engine = engine(&api, fast_limits());
    let outcome = engine
        .ensure_assignments(
            &group,
            &set(&[ok1.clone(), ok2.clone(), bad.clone()]),
            &BTreeSet::new(),
            deadline(),
        )
        .await
        .unwrap();

    assert_eq!(outcome.existing, set(&[ok1.clone(), ok2.clone()]));
    assert_eq!(
        outcome.existing,
        api.assigned(&group),
        "reported state equals the real state"
    );
    assert_eq!(outcome.failed.len(), 1);
    let (failed_target, error) = &outcome.failed[0];
    assert_eq!(failed_target, &bad);
    assert!(
        matches!(error, Error::OperationFailed { reason, .. } if reason.contains("Not supported account")),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn engine_retries_throttling_and_conflicts() {
    let api = Arc::new(FakeApi::new(100));
    api.with(|s| {
        s.throttle_next = 4;
        s.conflict_next_creates = 3;
    });
    let limits = fast_limits();
    let group = Principal::group("g-1");
    let desired: BTreeSet<_> = (0..5).map(|i| target(1, i)).collect();
    let outcome = engine(&api, limits.clone())
        .ensure_assignments(&group, &desired, &BTreeSet::new(), deadline())
        .await
        .unwrap();
    assert!(outcome.is_complete(), "{:?}", outcome.failed);
    assert_eq!(api.assigned(&group), desired);
    let counters = limits.counters.snapshot();
    assert_eq!(counters.throttles, 4);
    assert_eq!(counters.conflicts, 3);
    assert_eq!(counters.retries, 7);
}

#[tokio::test(start_paused = true)]
async fn engine_never_exceeds_the_outstanding_operation_limit() {
    let api = Arc::new(FakeApi::new(100));
    api.with(|s| s.completion = Duration::from_millis(300));
    let limits = ServiceLimits::new(1000.0, 1000, 3);
    let group = Principal::group("g-1");
    let desired: BTreeSet<_> = (0..30).map(|i| target(i % 3, i)).collect();
    let outcome = engine(&api, limits.clone())
        .ensure_assignments(&group, &desired, &BTreeSet::new(), deadline())
        .await
        .unwrap();
    assert_eq!(outcome.created.len(), 30);
    let max = api.state.lock().unwrap().max_outstanding;
    assert_eq!(
        max, 3,
        "AWS saw at most (and, with 30 queued, exactly) 3 outstanding operations"
    );
    assert_eq!(
        limits
            .counters
            .snapshot()
            .max_outstanding_assignment_operations,
        3
    );
}

#[tokio::test(start_paused = true)]
async fn engine_leaves_operations_still_in_progress_at_the_deadline_out_of_state() {
    let api = Arc::new(FakeApi::new(100));
    api.with(|s| s.completion = Duration::from_secs(3600));
    let group = Principal::group("g-1");
    let start = Instant::now();
    let outcome = engine(&api, fast_limits())
        .ensure_assignments(
            &group,
            &set(&[target(1, 1)]),
            &BTreeSet::new(),
            Deadline::after(Duration::from_secs(20)),
        )
        .await
        .unwrap();
    assert!(outcome.existing.is_empty());
    assert!(
        matches!(outcome.failed[0].1, Error::StillInProgress { .. }),
        "{}",
        outcome.failed[0].1
    );
    assert!(start.elapsed() <= Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn engine_reads_many_targets_with_one_listing_per_principal() {
    let api = Arc::new(FakeApi::new(100));
    let group = Principal::group("g-1");
    let desired: BTreeSet<_> = (0..50).map(|i| target(1, i)).collect();
    api.with(|s| {
        for t in desired.iter().take(20) {
            s.assignments.insert((group.clone(), t.clone()));
        }
    });
    let outcome = engine(&api, fast_limits())
        .ensure_assignments(&group, &desired, &BTreeSet::new(), deadline())
        .await
        .unwrap();
    assert_eq!(outcome.adopted.len(), 20);
    assert_eq!(outcome.created.len(), 30);
    assert_eq!(api.calls("ListAccountAssignmentsForPrincipal"), 1);
    assert_eq!(api.calls("ListAccountAssignments"), 0);
}

#[tokio::test(start_paused = true)]
async fn cache_answers_concurrent_readers_with_one_call_per_pair() {
    let api = Arc::new(FakeApi::new(100));
    let pair = target(1, 1);
    let other = target(2, 1);
    api.with(|s| {
        for g in 0..10 {
            s.assignments
                .insert((Principal::group(format!("g-{g}")), pair.clone()));
        }
    });
    let limits = fast_limits();
    let engine = engine(&api, limits.clone());
    let d = deadline();
    let readers = (0..10).map(|g| {
        let principal = Principal::group(format!("g-{g}"));
        let (engine, pair) = (&engine, &pair);
        async move { engine.is_assigned(&principal, pair, d).await.unwrap() }
    });
    let answers = futures_util::future::join_all(readers).await;
    assert!(answers.iter().all(|a| *a));
    assert_eq!(
        api.calls("ListAccountAssignments"),
        1,
        "ten concurrent readers, one call"
    );
    assert!(
        !engine
            .is_assigned(&Principal::group("g-0"), &other, d)
            .await
            .unwrap()
    );
    assert_eq!(
        api.calls("ListAccountAssignments"),
        2,
        "a different pair is its own call"
    );
    let counters = limits.counters.snapshot();
    assert_eq!((counters.cache_hits, counters.cache_misses), (9, 2));

    // A write by us drops the pair; the next read sees the new principal.
    let newcomer = Principal::user("u-1");
    engine
        .ensure_assignments(
            &newcomer,
            &BTreeSet::from([pair.clone()]),
            &BTreeSet::new(),
            d,
        )
        .await
        .unwrap();
    assert!(engine.is_assigned(&newcomer, &pair, d).await.unwrap());
    let lists_after_write = api.calls("ListAccountAssignments");

    // Within the TTL the answer is reused; after it, refetched.
    engine.is_assigned(&newcomer, &pair, d).await.unwrap();
    assert_eq!(api.calls("ListAccountAssignments"), lists_after_write);
    tokio::time::advance(Duration::from_secs(31)).await;
    engine.is_assigned(&newcomer, &pair, d).await.unwrap();
    assert_eq!(api.calls("ListAccountAssignments"), lists_after_write + 1);
}

#[tokio::test(start_paused = true)]
async fn cache_reads_every_page() {
    let api = Arc::new(FakeApi::new(2));
    let pair = target(1, 1);
    api.with(|s| {
        for g in 0..5 {
            s.assignments
                .insert((Principal::group(format!("g-{g}")), pair.clone()));
        }
    });
    let principals = engine(&api, fast_limits())
        .principals_assigned(&pair, deadline())
        .await
        .unwrap();
    assert_eq!(principals.len(), 5);
    assert_eq!(api.calls("ListAccountAssignments"), 3);
}

#[tokio::test(start_paused = true)]
async fn cache_does_not_keep_errors() {
    let api = Arc::new(FakeApi::new(100));
    let engine = AssignmentEngine::new(
        api.clone(),
        INSTANCE,
        fast_limits(),
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        PollPolicy::default(),
        Arc::new(AssignmentCache::new(Duration::from_secs(30))),
    );
    api.with(|s| s.throttle_next = 1);
    let err = engine
        .principals_assigned(&target(1, 1), deadline())
        .await
        .unwrap_err();
    assert_eq!(err.aws_error().unwrap().kind, ErrorKind::Throttling);
    assert!(
        engine
            .principals_assigned(&target(1, 1), deadline())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(start_paused = true)]
async fn bulk_thousand_assignments_are_paced_at_twenty_per_second() {
    let api = Arc::new(FakeApi::new(100));
    api.with(|s| s.completion = Duration::from_millis(200));
    let limits = ServiceLimits::new(20.0, 1, 10);
    let engine = engine(&api, limits.clone());
    // A hundred resources converging at once, as Terraform runs them: every one shares the engine's limits.
    let groups: Vec<Principal> = (0..100)
        .map(|g| Principal::group(format!("g-{g:03}")))
        .collect();
    let desired: BTreeSet<_> = (0..10).map(|a| target(a % 2, a)).collect();
    let (known, deadline) = (BTreeSet::new(), Deadline::after(Duration::from_secs(3600)));
    let start = Instant::now();
    let outcomes = futures_util::future::join_all(
        groups
            .iter()
            .map(|group| engine.ensure_assignments(group, &desired, &known, deadline)),
    )
    .await;
    let elapsed = start.elapsed();

    let created: usize = outcomes
        .iter()
        .map(|o| o.as_ref().unwrap().created.len())
        .sum();
    assert_eq!(created, 1000);
    let counters = limits.counters.snapshot();
    let calls = |op: &str| counters.calls_by_operation.get(op).copied().unwrap_or(0);
    // Completion is detected by the shared listings: no status call per operation, and one listing
    // answers for several operations (a regression to per-operation polling needs >= 1000 status calls).
    assert_eq!(calls("DescribeAccountAssignmentCreationStatus"), 0);
    let listings = calls("ListAccountAssignmentCreationStatus");
    assert!(
        listings <= 1000 / 5,
        "{listings} status listings for 1000 operations"
    );
    assert_eq!(counters.total_calls, 100 + 1000 + listings);
    assert_eq!(counters.throttles, 0);
    assert!(counters.max_outstanding_assignment_operations <= 10);
    let calls_floor = Duration::from_millis((counters.total_calls - 1) * 50);
    assert!(elapsed >= calls_floor, "{elapsed:?}: faster than 20 TPS");
    assert!(
        elapsed < calls_floor + Duration::from_secs(5),
        "{elapsed:?}: pacing wastes time; {counters}"
    );
}

#[tokio::test(start_paused = true)]
async fn engine_falls_back_to_per_target_reads_when_principal_listing_is_refused() {
    let api = Arc::new(FakeApi::new(100));
    let group = Principal::group("g-1");
    let desired: BTreeSet<_> = (0..4).map(|i| target(1, i)).collect();
    api.with(|s| {
        s.refuse_principal_listing = true;
        s.assignments.insert((group.clone(), target(1, 0)));
    });
    let engine = engine(&api, fast_limits());
    let outcome = engine
        .ensure_assignments(&group, &desired, &BTreeSet::new(), deadline())
        .await
        .unwrap();
    assert_eq!(outcome.adopted, BTreeSet::from([target(1, 0)]));
    assert_eq!(outcome.created.len(), 3);
    assert_eq!(api.calls("ListAccountAssignmentsForPrincipal"), 1);
    assert_eq!(api.calls("ListAccountAssignments"), 4);

    // The refusal is remembered: the next principal goes straight to per-target reads.
    let other = Principal::group("g-2");
    engine
        .ensure_assignments(&other, &desired, &BTreeSet::new(), deadline())
        .await
        .unwrap();
    assert_eq!(api.calls("ListAccountAssignmentsForPrincipal"), 1);
    // Three reads: the pair nobody wrote to is still cached, the three we created were invalidated.
    assert_eq!(api.calls("ListAccountAssignments"), 7);
}

#[tokio::test(start_paused = true)]
async fn a_read_during_an_operation_is_not_served_after_it_completes() {
    let api = Arc::new(FakeApi::new(100));
    api.with(|s| s.completion = Duration::from_millis(700));
    let engine = engine(&api, fast_limits());
    let group = Principal::group("g-1");
    let pair = target(1, 1);
    let d = deadline();
    let (desired, known) = (BTreeSet::from([pair.clone()]), BTreeSet::new());
    let write = engine.ensure_assignments(&group, &desired, &known, d);
    let read_meanwhile = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        engine.is_assigned(&group, &pair, d).await.unwrap()
    };
    let (outcome, seen_meanwhile) = tokio::join!(write, read_meanwhile);
    assert_eq!(outcome.unwrap().created.len(), 1);
    assert!(!seen_meanwhile, "the creation was still in progress");
    assert!(
        engine.is_assigned(&group, &pair, d).await.unwrap(),
        "completion dropped the stale entry"
    );
}

/// The bench's phases under the paused clock (40 ms per call, 20 TPS, 10 slots, every operation done
/// `complete` after it reached the fake): virtual time of each phase over its physical floor
/// `max(N / 20 TPS, N × T / 10 slots)` and its status listings per operation.
struct PhaseRun {
    elapsed: Duration,
    /// From the last write reaching the fake to the end of the phase.
    tail: Duration,
    floor: Duration,
    listings: u64,
    operations: u64,
}

impl PhaseRun {
    fn ratio(&self) -> f64 {
        self.elapsed.as_secs_f64() / self.floor.as_secs_f64()
    }
}

async fn simulate_phases(groups: u32, accounts: u32, complete: Duration) -> [PhaseRun; 3] {
    let api = Arc::new(FakeApi::new(100));
    api.with(|s| {
        s.completion = complete;
        s.latency = Duration::from_millis(40);
        s.max_in_progress = Some(10);
    });
    let limits = ServiceLimits::new(20.0, 1, 10);
    let engine = engine(&api, limits.clone());
    let principals: Vec<Principal> = (0..groups)
        .map(|g| Principal::group(format!("g-{g:03}")))
        .collect();
    let on = |ps| -> BTreeSet<AssignmentTarget> { (0..accounts).map(|a| target(ps, a)).collect() };
    let deadline = Deadline::after(Duration::from_secs(36_000));
    let mut runs = Vec::new();
    // apply, move to the second permission set, destroy.
    for (desired, known, operations) in [
        (on(0), BTreeSet::new(), 1),
        (on(1), on(0), 2),
        (BTreeSet::new(), on(1), 1),
    ] {
        let before = limits.counters.snapshot();
        let start = Instant::now();
        let outcomes = futures_util::future::join_all(
            principals
                .iter()
                .map(|p| engine.ensure_assignments(p, &desired, &known, deadline)),
        )
        .await;
        let elapsed = start.elapsed();
        let tail = api
            .state
            .lock()
            .unwrap()
            .last_write
            .map_or(Duration::ZERO, |at| Instant::now() - at);
        assert!(
            outcomes
                .iter()
                .all(|o| o.as_ref().unwrap().failed.is_empty())
        );
        let counters = limits.counters.snapshot().since(&before);
        assert_eq!(counters.throttles, 0);
        // Slots given back at presumed ends must not make AWS count more than 10 running.
        assert_eq!(counters.conflicts, 0, "{counters}");
        let listings = counters
            .calls_by_operation
            .iter()
            .filter(|(op, _)| op.ends_with("Status"))
            .map(|(_, n)| n)
            .sum();
        let n = u64::from(groups * accounts) * operations;
        let floor = Duration::from_secs_f64(
            (n as f64 / 20.0).max(n as f64 * complete.as_secs_f64() / 10.0),
        );
        runs.push(PhaseRun {
            elapsed,
            tail,
            floor,
            listings,
            operations: n,
        });
    }
    runs.try_into().ok().unwrap()
}

fn describe(runs: &[PhaseRun; 3]) -> String {
    ["apply", "move", "destroy"]
        .iter()
        .zip(runs)
        .map(|(phase, run)| {
            format!(
                "{phase}: {:.1} s for a {:.1} s floor ({:.3}x), {:.3} listings per operation, \
                 {} ms after the last write",
                run.elapsed.as_secs_f64(),
                run.floor.as_secs_f64(),
                run.ratio(),
                run.listings as f64 / run.operations as f64,
                run.tail.as_millis()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every phase of both bench shapes at completion time `complete_ms` stays within the given listings per
/// operation and ratio to the physical floor.
async fn assert_schedule(complete_ms: u64, max_listings_per_operation: f64, max_ratio: f64) {
    for (groups, accounts) in [(5, 100), (25, 20)] {
        let runs = simulate_phases(groups, accounts, Duration::from_millis(complete_ms)).await;
        let report = describe(&runs);
        println!("{groups} x {accounts} at T = {complete_ms} ms: {report}");
        for run in &runs {
            let per_operation = run.listings as f64 / run.operations as f64;
            assert!(
                per_operation <= max_listings_per_operation && run.ratio() <= max_ratio,
                "{groups} x {accounts} at T = {complete_ms} ms: {report}"
            );
        }
    }
}

// T = 200 ms: the 20 TPS quota binds, so every listing takes a write's place. Slots come back at the
// presumed end (no listing needed), and listings only confirm, about one a second (plus a FAILED one
// every few seconds): well under one per ten writes. Waiting for a listing to free each slot would
// cost one per ~7 writes (at most 7 of the 10 slots are older than T at any listing).
#[tokio::test(start_paused = true)]
async fn schedule_frees_slots_at_presumed_ends_and_lists_rarely_when_the_quota_binds() {
    assert_schedule(200, 0.06, 1.12).await;
}

// T = 1000 ms: the 10 slots bind. Each slot comes back just after its operation ended on AWS's side
// (the presumed end learned from the listings), so a slot is held little more than T plus one trip.
#[tokio::test(start_paused = true)]
async fn schedule_gives_each_slot_back_right_after_its_operation_ended_when_slots_bind() {
    assert_schedule(1000, 0.25, 1.08).await;
}

// AWS slows down in the middle of a run (T from 200 to 500 ms): operations presumed ended are still
// listed running, so the presumed end rises; AWS never counts more than 10 running (the fake answers
// ConflictException like AWS would), and the few conflicts are retried.
#[tokio::test(start_paused = true)]
async fn presumed_ends_follow_operations_that_slow_down() {
    let api = Arc::new(FakeApi::new(100));
    api.with(|s| {
        s.completion = Duration::from_millis(200);
        s.latency = Duration::from_millis(40);
        s.max_in_progress = Some(10);
    });
    let limits = ServiceLimits::new(20.0, 1, 10);
    let engine = engine(&api, limits.clone());
    let principals: Vec<Principal> = (0..5).map(|g| Principal::group(format!("g-{g}"))).collect();
    let desired: BTreeSet<_> = (0..100).map(|a| target(0, a)).collect();
    let slow_down = {
        let api = api.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(8)).await;
            api.with(|s| s.completion = Duration::from_millis(500));
        })
    };
    let (none, deadline) = (BTreeSet::new(), Deadline::after(Duration::from_secs(3600)));
    let outcomes = futures_util::future::join_all(
        principals
            .iter()
            .map(|p| engine.ensure_assignments(p, &desired, &none, deadline)),
    )
    .await;
    slow_down.await.unwrap();
    for outcome in outcomes {
        let outcome = outcome.unwrap();
        assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
        assert_eq!(outcome.created.len(), 100);
    }
    let counters = limits.counters.snapshot();
    assert!(api.state.lock().unwrap().max_outstanding <= 10);
    assert!(counters.conflicts <= 10, "{counters}");
}

// Terraform starts every resource at once, and each queues all its writes for the ten slots: a write
// waiting for a slot must not hold the state of the AWS call it has not made yet (about 7 KB each in a
// debug build), or a thousand queued writes cost megabytes of the provider's memory.
#[test]
fn a_write_waiting_for_a_slot_is_small() {
    let config = aws_sdk_ssoadmin::Config::builder()
        .behavior_version(aws_sdk_ssoadmin::config::BehaviorVersion::latest())
        .region(aws_sdk_ssoadmin::config::Region::new("us-east-1"))
        .build();
    let engine = AssignmentEngine::new(
        SdkAssignmentApi::new(aws_sdk_ssoadmin::Client::from_conf(config)),
        INSTANCE,
        fast_limits(),
        RetryPolicy::default(),
        PollPolicy::default(),
        Arc::new(AssignmentCache::new(Duration::from_secs(30))),
    );
    let (group, target) = (Principal::group("g-1"), target(0, 0));
    let write = engine.write_one(Write::Create, &group, &target, deadline());
    let size = std::mem::size_of_val(&write);
    assert!(size <= 1024, "a queued write takes {size} bytes");
}

// A refresh reads a resource naming many pairs with one ListAccountAssignmentsForPrincipal (100 pairs:
// one page, not 100 reads) and a narrow one per pair, through the cache its neighbours share.
#[tokio::test(start_paused = true)]
async fn refresh_reads_wide_resources_per_principal_and_narrow_ones_per_pair() {
    let api = Arc::new(FakeApi::new(100));
    let wide_group = Principal::group("g-wide");
    let narrow_group = Principal::group("g-narrow");
    let wide: BTreeSet<_> = (0..WIDE_RESOURCE_TARGETS as u32 * 2)
        .map(|i| target(1, i))
        .collect();
    let narrow: BTreeSet<_> = (0..WIDE_RESOURCE_TARGETS as u32 - 1)
        .map(|i| target(2, i))
        .collect();
    api.with(|s| {
        for t in wide.iter().step_by(2) {
            s.assignments.insert((wide_group.clone(), t.clone()));
        }
        s.assignments.insert((narrow_group.clone(), target(2, 0)));
    });
    let engine = engine(&api, fast_limits());
    let found = engine
        .assigned_among(&wide_group, &wide, deadline())
        .await
        .unwrap();
    assert_eq!(found, wide.iter().step_by(2).cloned().collect());
    assert_eq!(api.calls("ListAccountAssignmentsForPrincipal"), 1);
    assert_eq!(api.calls("ListAccountAssignments"), 0);

    let found = engine
        .assigned_among(&narrow_group, &narrow, deadline())
        .await
        .unwrap();
    assert_eq!(found, BTreeSet::from([target(2, 0)]));
    assert_eq!(api.calls("ListAccountAssignmentsForPrincipal"), 1);
    assert_eq!(api.calls("ListAccountAssignments"), narrow.len() as u32);
}

// Where AWS refuses the per-principal listing (a delegated administrator), a wide refresh reads per pair.
#[tokio::test(start_paused = true)]
async fn refresh_of_a_wide_resource_falls_back_to_pair_reads_when_principal_listing_is_refused() {
    let api = Arc::new(FakeApi::new(100));
    let group = Principal::group("g-1");
    let wide: BTreeSet<_> = (0..WIDE_RESOURCE_TARGETS as u32)
        .map(|i| target(1, i))
        .collect();
    api.with(|s| {
        s.refuse_principal_listing = true;
        s.assignments.insert((group.clone(), target(1, 3)));
    });
    let found = engine(&api, fast_limits())
        .assigned_among(&group, &wide, deadline())
        .await
        .unwrap();
    assert_eq!(found, BTreeSet::from([target(1, 3)]));
    assert_eq!(api.calls("ListAccountAssignments"), wide.len() as u32);
}
