//! Completion detection for asynchronous account assignment operations, shared by every resource of the
//! provider process: one poller per Identity Center instance.
//!
//! AWS lets 10 Create/DeleteAccountAssignment operations run at once and counts all Identity Center calls
//! against one 20 TPS quota, so a status call per operation spends the budget the writes need. Instead,
//! one `ListAccountAssignmentCreationStatus`/`…DeletionStatus` with `Filter.Status = IN_PROGRESS` (paged)
//! answers for every outstanding operation at once: an operation that is no longer listed has ended, and
//! its slot is freed at that moment. Whether it ended SUCCEEDED or FAILED is settled in batches by one
//! `Filter.Status = FAILED` listing; `Describe…Status` is called only for the few that failed (for AWS's
//! FailureReason) and for every operation when the listings are refused (an IAM policy without
//! `sso:ListAccountAssignment*Status`) or too long to read.
//!
//! When to poll: each operation is first checked when it is expected to have finished (a running estimate
//! of how long operations of its kind take, learned from the listings), then at growing intervals. A poll
//! also waits (briefly) until no other call is queued at the rate limiter: when the quota is the limit,
//! a later poll frees more slots for the same one call; when the slots are the limit, the limiter is idle
//! and the poll goes at once.
//!
//! Presumed ends: AWS's limit counts operations that are still running on its side, not ones we have not
//! seen end yet. Once enough operations of a kind were seen to end, an operation older than both the
//! youngest age at which a listing no longer showed one and the oldest age at which one still ran (plus
//! a margin) gives its slot back without waiting for a listing; listings then only confirm, at most one
//! per [`CONFIRM_INTERVAL`] while others still hold slots. An operation listed running past that age
//! raises it; a ConflictException on a write (AWS counted more running than we presumed) widens the
//! margin.
//!
//! No task is spawned: the waiters take turns driving the poller (whoever holds `driver` runs one round),
//! so the poller lives exactly as long as someone waits and a cancelled waiter hands over cleanly.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::assignments::{AssignmentApi, AsyncOperation, AsyncStatus};
use super::error::{Error, ErrorKind};
use super::limits::{AssignmentSlot, ServiceLimits};
use super::retry::{self, Conflicts, Deadline, RetryPolicy};

/// The two kinds of asynchronous account assignment operations; each has its own status listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationKind {
    Creation,
    Deletion,
}

impl OperationKind {
    pub(crate) fn list_operation(self) -> &'static str {
        match self {
            OperationKind::Creation => "ListAccountAssignmentCreationStatus",
            OperationKind::Deletion => "ListAccountAssignmentDeletionStatus",
        }
    }

    pub(crate) fn describe_operation(self) -> &'static str {
        match self {
            OperationKind::Creation => "DescribeAccountAssignmentCreationStatus",
            OperationKind::Deletion => "DescribeAccountAssignmentDeletionStatus",
        }
    }
}

/// The `Filter.Status` values the poller lists by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListedStatus {
    InProgress,
    Failed,
}

/// Shortest interval between two checks of one operation.
const MIN_STEP: Duration = Duration::from_millis(50);
/// How long an operation is assumed to take before any has been observed.
const INITIAL_ESTIMATE: Duration = Duration::from_millis(250);
/// Ended operations wait at most this long for the listing that tells success from failure, so that
/// one FAILED listing settles many of them (none holds a slot any more).
const SETTLE_DELAY: Duration = Duration::from_secs(2);
/// While other calls are queued at the limiter, settling waits up to this long after the oldest ended
/// operation: each settling listing would take a request the writes need.
const SETTLE_DELAY_BUSY: Duration = Duration::from_secs(5);
/// A poll yields to queued calls at most this long, then queues like any other call.
const MAX_YIELD: Duration = Duration::from_secs(1);
/// Pages of the FAILED listing read before falling back to one Describe per ended operation.
const MAX_FAILED_PAGES: usize = 3;
/// Operations of a kind seen to end before an age alone is trusted to free a slot.
const PRESUME_AFTER_ENDED: u32 = 10;
/// Margin over the presumed completion age: this share of it (doubled per conflict), at least
/// [`MIN_MARGIN`].
const MARGIN_PERCENT: u32 = 2;
const MIN_MARGIN: Duration = Duration::from_millis(10);
/// Doublings of the margin at most (2% × 2⁶ ≈ the age itself).
const MAX_CAUTION: u32 = 6;
/// Listings that free no slot (every due operation's slot was given back at its presumed end) go at
/// most this often while other operations still hold slots.
const CONFIRM_INTERVAL: Duration = Duration::from_secs(1);

/// One status listing, read page by page.
struct Listing {
    ids: HashSet<String>,
    /// Read to its end (not cut at the page limit).
    complete: bool,
    /// When its first page was sent: operations registered after it may be missing from it.
    sent: Instant,
}

/// What a waiter learns about its operation.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Progress {
    Running,
    /// No longer IN_PROGRESS: its slot is free; success or failure not known yet.
    Ended,
    Done(AsyncStatus),
}

struct TrackedOperation {
    kind: OperationKind,
    /// When the Create/Delete answer arrived: every time below is measured from here.
    registered: Instant,
    next_check: Instant,
    checks: u32,
    /// Send time of the last listing that still showed it IN_PROGRESS when it was due for a check.
    seen_in_progress: Option<Instant>,
    /// Send time of the first listing that no longer showed it.
    ended_at: Option<Instant>,
    /// First checked at the estimate (not at a presumed end): its outcome tunes the estimate.
    tests_estimate: bool,
    progress: watch::Sender<Progress>,
}

/// When to look for the end of an operation of one kind: its age at the first check, tuned from the
/// outcomes of first checks so that most of them (about four in five) find the operation ended. A check
/// that comes too early costs a listing and a step's delay; one that comes too late holds a slot idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Estimate(Duration);

impl Estimate {
    /// Adjustment unit: 2% of the estimate, at least 5 ms.
    fn unit(self) -> Duration {
        (self.0 / 50).max(Duration::from_millis(5))
    }

    /// `lo`: the operation was still listed at this age (`None`: never seen running); `hi`: it was gone at
    /// this age. Never seen running: the estimate may be late, so it creeps down (and moves towards `hi`
    /// when that is earlier). Seen running: the first check was early, so the estimate rises above the
    /// midpoint of what was learned. Four creeps down for one rise keep first checks right ~80% of the time.
    fn learn(&mut self, lo: Option<Duration>, hi: Duration) {
        let unit = self.unit();
        self.0 = match lo {
            None => self.0.saturating_sub(unit / 5).min((self.0 * 3 + hi) / 4),
            Some(lo) => (self.0 + unit * 4 / 5).max((lo + hi) / 2),
        }
        .max(MIN_STEP);
    }

    fn step(self, checks: u32, max: Duration) -> Duration {
        (self.0 / 20)
            .max(MIN_STEP)
            .saturating_mul(1 << checks.saturating_sub(1).min(16))
            .min(max)
    }
}

/// What the listings taught about one kind of operation.
#[derive(Clone, Copy, Debug)]
struct Timing {
    estimate: Estimate,
    /// The longest age at which a listing still showed an operation of this kind IN_PROGRESS (one took
    /// at least that long).
    longest_running: Duration,
    /// The youngest age at which a listing no longer showed one (when operations take about the same
    /// time, none takes longer).
    shortest_ended: Option<Duration>,
    /// Operations seen to end.
    ended: u32,
    /// Doublings of the margin: one per ConflictException answered to a write while presuming (at most
    /// one per [`CONFIRM_INTERVAL`]: writes in flight together meet the same conflict).
    caution: u32,
    caution_raised: Option<Instant>,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            estimate: Estimate(INITIAL_ESTIMATE),
            longest_running: Duration::ZERO,
            shortest_ended: None,
            ended: 0,
            caution: 0,
            caution_raised: None,
        }
    }
}

impl Timing {
    /// The age from which an operation is presumed ended on AWS's side, once enough were seen to end:
    /// past the youngest age one was seen ended at and the oldest one was seen running at. Ages count
    /// from the write's answer to a listing's send, so a write sent at that age reaches AWS after the
    /// operation ended (the trips there take about as long).
    ///
    /// Trusted only when it is close to the estimate (within a quarter): an ended age seen by a late
    /// listing (say, one queued behind many reads) says little, and checks at the estimate then free
    /// slots sooner and teach better ages.
    fn presumed_end(&self) -> Option<Duration> {
        let base = self.longest_running.max(self.shortest_ended?);
        let trusted = self.ended >= PRESUME_AFTER_ENDED && base <= self.estimate.0 * 5 / 4;
        trusted.then(|| base + (base * MARGIN_PERCENT / 100 * (1 << self.caution)).max(MIN_MARGIN))
    }
}

/// The calls the poller makes, with the engine's pacing and retries.
pub(crate) struct PollCalls<'a, A> {
    pub api: &'a A,
    pub instance_arn: &'a str,
    pub limits: &'a ServiceLimits,
    pub retry: &'a RetryPolicy,
    /// Longest interval between two checks of one operation.
    pub max_interval: Duration,
}

pub(crate) struct StatusPoller {
    operations: Mutex<HashMap<String, TrackedOperation>>,
    timings: Mutex<HashMap<OperationKind, Timing>>,
    /// No settling listing before this instant (set after one failed, so errors do not spin).
    settle_not_before: Mutex<Instant>,
    /// When the last IN_PROGRESS listing was sent (spaces the listings that only confirm).
    last_listing: Mutex<Option<Instant>>,
    driver: tokio::sync::Mutex<()>,
    registered: Notify,
    /// Wakes waiters when a presumed end changed (their slot may be due back sooner or later).
    presumption_changed: Notify,
    /// Set once a status listing was refused: from then on every operation is described on its own.
    listing_refused: AtomicBool,
}

impl Default for StatusPoller {
    fn default() -> Self {
        Self {
            operations: Mutex::new(HashMap::new()),
            timings: Mutex::new(HashMap::new()),
            settle_not_before: Mutex::new(Instant::now()),
            last_listing: Mutex::new(None),
            driver: tokio::sync::Mutex::new(()),
            registered: Notify::new(),
            presumption_changed: Notify::new(),
            listing_refused: AtomicBool::new(false),
        }
    }
}

/// Stops tracking an operation whose waiter went away (deadline, cancellation).
struct Untrack<'a> {
    poller: &'a StatusPoller,
    request_id: &'a str,
}

impl Drop for Untrack<'_> {
    fn drop(&mut self) {
        self.poller.lock().remove(self.request_id);
    }
}

impl StatusPoller {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, TrackedOperation>> {
        self.operations.lock().expect("status poller lock poisoned")
    }

    fn timing(&self, kind: OperationKind) -> Timing {
        *self
            .timings
            .lock()
            .expect("timings lock poisoned")
            .entry(kind)
            .or_default()
    }

    fn estimate(&self, kind: OperationKind) -> Estimate {
        self.timing(kind).estimate
    }

    /// The age from which an operation of `kind` gives its slot back without a listing saying it ended
    /// (never while listings are refused: then nothing is learned about ages).
    fn presumed_end(&self, kind: OperationKind) -> Option<Duration> {
        if self.listing_refused.load(Ordering::Relaxed) {
            return None;
        }
        self.timing(kind).presumed_end()
    }

    /// AWS refused a write with ConflictException: it may count more operations running than we
    /// presumed, so the margin doubles (a conflict for another reason only makes us a little slower).
    pub(crate) fn note_conflict(&self) {
        let now = Instant::now();
        let mut timings = self.timings.lock().expect("timings lock poisoned");
        for timing in timings.values_mut() {
            let recently = timing
                .caution_raised
                .is_some_and(|at| now < at + CONFIRM_INTERVAL);
            if timing.presumed_end().is_some() && timing.caution < MAX_CAUTION && !recently {
                timing.caution += 1;
                timing.caution_raised = Some(now);
                self.presumption_changed.notify_waiters();
                tracing::debug!(
                    caution = timing.caution,
                    "conflict while presuming ends; wider margin"
                );
            }
        }
    }

    /// Waits until `started` (as the Create/Delete call answered it) is terminal. `slot` is released the
    /// moment the operation is seen to have ended. FAILED becomes [`Error::OperationFailed`] with AWS's
    /// FailureReason; an operation still running at the deadline becomes [`Error::StillInProgress`].
    pub(crate) async fn wait<A: AssignmentApi>(
        &self,
        calls: &PollCalls<'_, A>,
        kind: OperationKind,
        operation: &'static str,
        started: AsyncOperation,
        mut slot: Option<AssignmentSlot<'_>>,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let request_id = started.request_id;
        let failed = |reason| Error::OperationFailed {
            operation,
            request_id: request_id.clone(),
            reason,
        };
        match started.status {
            AsyncStatus::Succeeded => return Ok(()),
            AsyncStatus::Failed { reason } => return Err(failed(reason)),
            AsyncStatus::InProgress => {}
        }
        let (mut progress, registered) = self.track(kind, &request_id);
        let _untrack = Untrack {
            poller: self,
            request_id: &request_id,
        };
        loop {
            let current = progress.borrow_and_update().clone();
            match current {
                Progress::Done(AsyncStatus::Succeeded) => return Ok(()),
                Progress::Done(AsyncStatus::Failed { reason }) => return Err(failed(reason)),
                Progress::Ended => drop(slot.take()),
                Progress::Running | Progress::Done(AsyncStatus::InProgress) => {}
            }
            let presumption_changed = self.presumption_changed.notified();
            let release_at = self.slot_release(kind, registered, slot.is_some());
            let presumed_ended = tokio::time::sleep_until(release_at.unwrap_or(deadline.instant()));
            tokio::select! {
                biased;
                changed = progress.changed() => {
                    if changed.is_err() && !matches!(*progress.borrow(), Progress::Done(_)) {
                        // Untracked by someone else: cannot happen while we hold the receiver.
                        return Err(Error::StillInProgress { operation, request_id: request_id.clone() });
                    }
                }
                _ = tokio::time::sleep_until(deadline.instant()) => {
                    return Err(Error::StillInProgress { operation, request_id: request_id.clone() });
                }
                _ = presumed_ended, if release_at.is_some() => drop(slot.take()),
                _ = presumption_changed, if slot.is_some() => {}
                _turn = self.driver.lock() => {
                    // The round may take a while (it waits for its turn at the limiter): our own slot
                    // is still given back at its presumed end meanwhile.
                    let round = self.drive_one_round(calls, deadline);
                    tokio::pin!(round);
                    loop {
                        let presumption_changed = self.presumption_changed.notified();
                        let release_at = self.slot_release(kind, registered, slot.is_some());
                        let presumed_ended =
                            tokio::time::sleep_until(release_at.unwrap_or(deadline.instant()));
                        tokio::select! {
                            _ = &mut round => break,
                            _ = presumed_ended, if release_at.is_some() => drop(slot.take()),
                            _ = presumption_changed, if slot.is_some() => {}
                        }
                    }
                }
            }
        }
    }

    /// When a slot still held by an operation of `kind` registered at `registered` goes back by age.
    fn slot_release(
        &self,
        kind: OperationKind,
        registered: Instant,
        held: bool,
    ) -> Option<Instant> {
        held.then(|| self.presumed_end(kind))
            .flatten()
            .map(|presumed| registered + presumed)
    }

    /// Starts tracking an operation; returns its progress and the instant its age counts from.
    fn track(&self, kind: OperationKind, request_id: &str) -> (watch::Receiver<Progress>, Instant) {
        let now = Instant::now();
        let (sender, receiver) = watch::channel(Progress::Running);
        // Presumed ended: its slot is back then, and the first check only confirms.
        let presumed = self.presumed_end(kind);
        let first_check = now + presumed.unwrap_or(self.estimate(kind).0);
        self.lock().insert(
            request_id.to_owned(),
            TrackedOperation {
                kind,
                registered: now,
                next_check: first_check,
                checks: 0,
                seen_in_progress: None,
                ended_at: None,
                tests_estimate: presumed.is_none(),
                progress: sender,
            },
        );
        self.registered.notify_waiters();
        (receiver, now)
    }

    /// When the next round has work: a check of a running operation, or the settling of ended ones.
    fn next_due(&self) -> Option<Instant> {
        [self.next_check(), self.settle_due(SETTLE_DELAY)]
            .into_iter()
            .flatten()
            .min()
    }

    /// The earliest check of a running operation.
    fn next_check(&self) -> Option<Instant> {
        self.next_checks().into_values().min()
    }

    /// The kinds with a check due at `now`, the one with the oldest due check first.
    fn due_kinds(&self, now: Instant) -> Vec<OperationKind> {
        let mut kinds: Vec<(Instant, OperationKind)> = self
            .next_checks()
            .into_iter()
            .filter(|(_, at)| *at <= now)
            .map(|(kind, at)| (at, kind))
            .collect();
        kinds.sort_by_key(|(at, _)| *at);
        kinds.into_iter().map(|(_, kind)| kind).collect()
    }

    /// The earliest check of each kind's running operations. A check that frees no slot (the operation
    /// is presumed ended by then) waits until [`CONFIRM_INTERVAL`] after the last listing, or until no
    /// operation holds a slot any more (then nothing else is coming soon to share the listing with).
    fn next_checks(&self) -> HashMap<OperationKind, Instant> {
        let presumed = [
            self.presumed_end(OperationKind::Creation),
            self.presumed_end(OperationKind::Deletion),
        ];
        let released_at = |op: &TrackedOperation| {
            presumed[usize::from(op.kind == OperationKind::Deletion)].map(|age| op.registered + age)
        };
        let mut freeing: HashMap<OperationKind, Instant> = HashMap::new();
        let mut confirming: HashMap<OperationKind, Instant> = HashMap::new();
        // When the last running operation gives its slot back (`None`: one never does by age). Not
        // "now or later": a due time that moves with the clock is never reached (`due_kinds(now)` with an
        // earlier `now` would find nothing due, and the round would spin until the spacing ran out).
        let mut latest_release: Option<Instant> = None;
        let mut released_by_age = true;
        for op in self.lock().values().filter(|op| op.ended_at.is_none()) {
            let released = released_at(op);
            released_by_age &= released.is_some();
            latest_release = latest_release.max(released);
            let checks = if released.is_none_or(|at| op.next_check < at) {
                &mut freeing
            } else {
                &mut confirming
            };
            let at = checks.entry(op.kind).or_insert(op.next_check);
            *at = (*at).min(op.next_check);
        }
        let spaced = self
            .last_listing
            .lock()
            .expect("listing lock poisoned")
            .map(|at| at + CONFIRM_INTERVAL);
        let all_released = latest_release.filter(|_| released_by_age);
        let gate = match (spaced, all_released) {
            (Some(spaced), Some(all)) => Some(spaced.min(all)),
            (spaced, _) => spaced,
        };
        for (kind, at) in confirming {
            let at = gate.map_or(at, |gate| at.max(gate));
            let earliest = freeing.entry(kind).or_insert(at);
            *earliest = (*earliest).min(at);
        }
        freeing
    }

    /// When ended operations are to be settled: `delay` after the oldest of them ended, or at once when
    /// nothing is running any more (then nothing else would tell their waiters).
    fn settle_due(&self, delay: Duration) -> Option<Instant> {
        let operations = self.lock();
        let any_running = operations.values().any(|op| op.ended_at.is_none());
        let not_before = *self.settle_not_before.lock().expect("settle lock poisoned");
        operations
            .values()
            .filter_map(|op| op.ended_at)
            .min()
            .map(|ended| if any_running { ended + delay } else { ended }.max(not_before))
    }

    /// One round: waits until something is due (or `deadline`), yields to queued calls, then lists the
    /// kinds with operations due and settles ended operations when that is due.
    async fn drive_one_round<A: AssignmentApi>(
        &self,
        calls: &PollCalls<'_, A>,
        deadline: Deadline,
    ) {
        loop {
            let registered = self.registered.notified();
            let Some(due) = self.next_due() else {
                return;
            };
            let now = Instant::now();
            if due <= now {
                break;
            }
            if deadline.instant() <= now {
                return;
            }
            tracing::trace!(
                check_in = ?self.next_check().map(|at| at.saturating_duration_since(now)),
                settle_in = ?self.settle_due(SETTLE_DELAY).map(|at| at.saturating_duration_since(now)),
                "status poller waits"
            );
            tokio::select! {
                _ = tokio::time::sleep_until(due.min(deadline.instant())) => {}
                _ = registered => {}
            }
        }
        let limiter = &calls.limits.limiter;
        if self.next_check().is_none_or(|check| check > Instant::now()) {
            // Only settling is due. It frees no slot, so while other calls are queued at the limiter (the
            // quota binds) it waits for a gap, up to SETTLE_DELAY_BUSY.
            let now = Instant::now();
            let latest = self.settle_due(SETTLE_DELAY_BUSY);
            if limiter.next_free_slot() > now && latest.is_some_and(|at| at > now) {
                let registered = self.registered.notified();
                let wake = [latest, self.next_check(), Some(limiter.next_free_slot())]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(now)
                    .min(deadline.instant());
                tokio::select! {
                    _ = tokio::time::sleep_until(wake) => {}
                    _ = registered => {}
                }
                return;
            }
            return self.settle_ended(calls, deadline).await;
        }
        let yield_until = (Instant::now() + MAX_YIELD).min(deadline.instant());
        loop {
            let free = limiter.next_free_slot();
            if free <= Instant::now() || Instant::now() >= yield_until {
                break;
            }
            tokio::time::sleep_until(free.min(yield_until)).await;
        }

        // The kind with the most overdue check first; the other only if the limiter is still idle after
        // it (when creates and deletes run together and the quota binds, one listing per round frees
        // as many slots as the writes queued behind it can use).
        for (at, kind) in self.due_kinds(Instant::now()).into_iter().enumerate() {
            if at > 0 && limiter.next_free_slot() > Instant::now() {
                break;
            }
            self.check_running(calls, kind, deadline).await;
        }
        let now = Instant::now();
        let settle_delay = if limiter.next_free_slot() > now {
            SETTLE_DELAY_BUSY
        } else {
            SETTLE_DELAY
        };
        if self.settle_due(settle_delay).is_some_and(|due| due <= now) {
            self.settle_ended(calls, deadline).await;
        }
    }

    /// Request ids listed with `status`, reading at most `max_pages` pages.
    async fn list<A: AssignmentApi>(
        &self,
        calls: &PollCalls<'_, A>,
        kind: OperationKind,
        status: ListedStatus,
        max_pages: usize,
        deadline: Deadline,
    ) -> Result<Listing, Error> {
        let mut ids = HashSet::new();
        let mut token = None;
        let mut sent = None;
        for _ in 0..max_pages {
            let first_page = sent.is_none();
            let mut attempt_sent = Instant::now();
            let page = retry::run(
                calls.limits,
                calls.retry,
                kind.list_operation(),
                Conflicts::Fail,
                deadline,
                || {
                    // After the limiter's wait: what the listing shows is as of (about) now.
                    attempt_sent = Instant::now();
                    calls
                        .api
                        .list_operations(calls.instance_arn, kind, status, token.clone())
                },
            )
            .await?;
            if first_page {
                sent = Some(attempt_sent);
            }
            ids.extend(page.items);
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        Ok(Listing {
            ids,
            complete: token.is_none(),
            sent: sent.unwrap_or_else(Instant::now),
        })
    }

    /// Remembers a refused listing (AccessDenied: the caller's policy lacks the List…Status permission;
    /// Validation/UnknownOperation: an endpoint without it) and describes operations one by one from then on.
    fn note_listing_error(&self, kind: OperationKind, error: &Error) {
        let refused = error.aws_error().is_some_and(|e| {
            matches!(e.kind, ErrorKind::AccessDenied | ErrorKind::Validation)
                || e.code.as_deref() == Some("UnknownOperationException")
        });
        if refused && !self.listing_refused.swap(true, Ordering::Relaxed) {
            tracing::info!(operation = kind.list_operation(), %error,
                "status listing refused; describing each account assignment operation instead");
        } else if !refused {
            tracing::debug!(operation = kind.list_operation(), %error, "status listing failed; retrying later");
        }
    }

    /// Reschedules the operations of `kind` due at `now` after a listing that did not answer.
    fn postpone_due(&self, kind: OperationKind, now: Instant, max: Duration) {
        let estimate = self.estimate(kind);
        for op in self.lock().values_mut() {
            if op.kind == kind && op.ended_at.is_none() && op.next_check <= now {
                op.checks += 1;
                op.next_check = now + estimate.step(op.checks, max);
            }
        }
    }

    /// Finishes an operation: its waiter learns the status; it is no longer tracked.
    fn finish(&self, request_id: &str, status: AsyncStatus) {
        if let Some(op) = self.lock().remove(request_id) {
            op.progress.send_replace(Progress::Done(status));
        }
    }

    /// Lists the running operations of `kind`; those no longer listed have ended and free their slots.
    async fn check_running<A: AssignmentApi>(
        &self,
        calls: &PollCalls<'_, A>,
        kind: OperationKind,
        deadline: Deadline,
    ) {
        let now = Instant::now();
        if self.listing_refused.load(Ordering::Relaxed) {
            return self.describe_due(calls, kind, now, deadline).await;
        }
        let listing = match self
            .list(calls, kind, ListedStatus::InProgress, usize::MAX, deadline)
            .await
        {
            Ok(listing) => listing,
            Err(error) => {
                self.note_listing_error(kind, &error);
                self.postpone_due(kind, now, calls.max_interval);
                return;
            }
        };
        let sent = listing.sent;
        let previous = self
            .last_listing
            .lock()
            .expect("listing lock poisoned")
            .replace(sent);
        tracing::debug!(
            ?kind,
            running = listing.ids.len(),
            tracked = self.lock().len(),
            presumed_end = ?self.presumed_end(kind),
            since_last_listing = ?previous.map(|at| sent - at),
            "status listing"
        );
        let mut timing = self.timing(kind);
        let mut operations = self.lock();
        for (request_id, op) in operations.iter_mut() {
            // An operation whose answer arrived after the listing was sent may not be in it yet.
            if op.kind != kind || op.ended_at.is_some() {
                continue;
            }
            if op.registered >= sent {
                op.next_check = op.next_check.max(sent + MIN_STEP);
                continue;
            }
            if listing.ids.contains(request_id) {
                timing.longest_running = timing.longest_running.max(sent - op.registered);
                // Only a check that was due says the estimate was early; a listing made for older
                // operations sees the young ones running as a matter of course.
                if op.next_check <= sent {
                    op.seen_in_progress = Some(sent);
                    op.checks += 1;
                    op.next_check = sent + timing.estimate.step(op.checks, calls.max_interval);
                }
            } else {
                op.ended_at = Some(sent);
                let age = sent - op.registered;
                timing.ended = timing.ended.saturating_add(1);
                timing.shortest_ended = Some(timing.shortest_ended.map_or(age, |at| at.min(age)));
                if op.tests_estimate {
                    timing
                        .estimate
                        .learn(op.seen_in_progress.map(|seen| seen - op.registered), age);
                }
                op.progress.send_replace(Progress::Ended);
            }
        }
        drop(operations);
        let mut timings = self.timings.lock().expect("timings lock poisoned");
        let stored = timings.entry(kind).or_default();
        // A conflict noted meanwhile keeps its caution.
        if stored.caution > timing.caution {
            timing.caution = stored.caution;
            timing.caution_raised = stored.caution_raised;
        }
        let changed = stored.presumed_end() != timing.presumed_end();
        *stored = timing;
        drop(timings);
        if changed {
            self.presumption_changed.notify_waiters();
        }
    }

    /// Without listings: one Describe per due operation.
    async fn describe_due<A: AssignmentApi>(
        &self,
        calls: &PollCalls<'_, A>,
        kind: OperationKind,
        now: Instant,
        deadline: Deadline,
    ) {
        let due: Vec<String> = self
            .lock()
            .iter()
            .filter(|(_, op)| op.kind == kind && op.ended_at.is_none() && op.next_check <= now)
            .map(|(id, _)| id.clone())
            .collect();
        let answers = futures_util::future::join_all(
            due.iter()
                .map(|id| async move { (id, self.describe(calls, kind, id, deadline).await) }),
        )
        .await;
        let estimate = self.estimate(kind);
        for (request_id, answer) in answers {
            match answer {
                Ok(AsyncOperation {
                    status: AsyncStatus::InProgress,
                    ..
                })
                | Err(_) => {
                    if let Some(op) = self.lock().get_mut(request_id) {
                        op.checks += 1;
                        op.next_check = now + estimate.step(op.checks, calls.max_interval);
                    }
                }
                Ok(terminal) => self.finish(request_id, terminal.status),
            }
        }
    }

    /// Tells success from failure for every ended operation: one FAILED listing per kind, then a
    /// Describe for each failed one (for its FailureReason), or for each one when the listing is refused
    /// or longer than [`MAX_FAILED_PAGES`].
    async fn settle_ended<A: AssignmentApi>(&self, calls: &PollCalls<'_, A>, deadline: Deadline) {
        for kind in [OperationKind::Creation, OperationKind::Deletion] {
            let ended: Vec<String> = self
                .lock()
                .iter()
                .filter(|(_, op)| op.kind == kind && op.ended_at.is_some())
                .map(|(id, _)| id.clone())
                .collect();
            if ended.is_empty() {
                continue;
            }
            let failed = if self.listing_refused.load(Ordering::Relaxed) {
                None
            } else {
                match self
                    .list(
                        calls,
                        kind,
                        ListedStatus::Failed,
                        MAX_FAILED_PAGES,
                        deadline,
                    )
                    .await
                {
                    Ok(Listing {
                        ids,
                        complete: true,
                        ..
                    }) => Some(ids),
                    Ok(_) => None,
                    Err(error) => {
                        self.note_listing_error(kind, &error);
                        *self.settle_not_before.lock().expect("settle lock poisoned") =
                            Instant::now() + SETTLE_DELAY;
                        continue;
                    }
                }
            };
            let to_describe: Vec<&String> = match &failed {
                Some(failed) => {
                    for id in ended.iter().filter(|id| !failed.contains(*id)) {
                        self.finish(id, AsyncStatus::Succeeded);
                    }
                    ended.iter().filter(|id| failed.contains(*id)).collect()
                }
                None => ended.iter().collect(),
            };
            let answers = futures_util::future::join_all(
                to_describe
                    .into_iter()
                    .map(|id| async move { (id, self.describe(calls, kind, id, deadline).await) }),
            )
            .await;
            for (request_id, answer) in answers {
                match answer {
                    Ok(terminal) if terminal.status != AsyncStatus::InProgress => {
                        self.finish(request_id, terminal.status)
                    }
                    // Listed again later, or the Describe failed: settled in a later round.
                    _ => {
                        *self.settle_not_before.lock().expect("settle lock poisoned") =
                            Instant::now() + SETTLE_DELAY;
                    }
                }
            }
        }
    }

    async fn describe<A: AssignmentApi>(
        &self,
        calls: &PollCalls<'_, A>,
        kind: OperationKind,
        request_id: &str,
        deadline: Deadline,
    ) -> Result<AsyncOperation, Error> {
        retry::run(
            calls.limits,
            calls.retry,
            kind.describe_operation(),
            Conflicts::Fail,
            deadline,
            || match kind {
                OperationKind::Creation => futures_util::future::Either::Left(
                    calls.api.creation_status(calls.instance_arn, request_id),
                ),
                OperationKind::Deletion => futures_util::future::Either::Right(
                    calls.api.deletion_status(calls.instance_arn, request_id),
                ),
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// First checks of operations that all end at `threshold` (age), each checked first at the
    /// estimate and then at the poller's steps: (share of first checks that found it ended, mean delay
    /// of the detection after the end), over the last half of `operations`.
    fn first_checks(threshold: Duration, operations: usize) -> (f64, Duration) {
        let mut estimate = Estimate(INITIAL_ESTIMATE);
        let (mut right, mut delay) = (0, Duration::ZERO);
        for n in 0..operations {
            let mut age = estimate.0;
            let mut lo = None;
            let mut checks = 0;
            while age < threshold {
                lo = Some(age);
                checks += 1;
                age += estimate.step(checks, Duration::from_secs(8));
            }
            if n >= operations / 2 {
                right += usize::from(lo.is_none());
                delay += age - threshold;
            }
            estimate.learn(lo, age);
        }
        let counted = operations - operations / 2;
        (right as f64 / counted as f64, delay / counted as u32)
    }

    #[test]
    fn estimate_settles_just_after_slow_and_fast_completions() {
        for (threshold_ms, max_delay_ms) in [(960, 30), (120, 20)] {
            let (right, delay) = first_checks(Duration::from_millis(threshold_ms), 400);
            assert!(
                right >= 0.7 && delay <= Duration::from_millis(max_delay_ms),
                "completion at {threshold_ms} ms: {right} of first checks right, seen {delay:?} after it"
            );
        }
    }

    #[test]
    fn estimate_rises_past_an_early_first_check() {
        let mut estimate = Estimate(Duration::from_millis(250));
        estimate.learn(
            Some(Duration::from_millis(600)),
            Duration::from_millis(1000),
        );
        assert_eq!(estimate.0, Duration::from_millis(800));
        // Seen ended at its first check: a small step down, never below what a later end shows.
        let before = estimate.0;
        estimate.learn(None, Duration::from_millis(900));
        assert!(estimate.0 < before && estimate.0 > Duration::from_millis(790));
    }

    fn timing(
        estimate_ms: u64,
        longest_running_ms: u64,
        shortest_ended_ms: u64,
        ended: u32,
    ) -> Timing {
        Timing {
            estimate: Estimate(Duration::from_millis(estimate_ms)),
            longest_running: Duration::from_millis(longest_running_ms),
            shortest_ended: Some(Duration::from_millis(shortest_ended_ms)),
            ended,
            ..Timing::default()
        }
    }

    /// A poller that has already learned `timing` for creations.
    fn poller_with(timing: Timing) -> StatusPoller {
        let poller = StatusPoller::default();
        poller
            .timings
            .lock()
            .unwrap()
            .insert(OperationKind::Creation, timing);
        poller
    }

    #[test]
    fn ends_are_presumed_only_from_enough_close_observations() {
        // Past both the youngest ended and the oldest running age, plus 2% (at least 10 ms).
        assert_eq!(
            timing(1000, 950, 980, 10).presumed_end(),
            Some(Duration::from_micros(999_600))
        );
        assert_eq!(
            timing(200, 190, 160, 10).presumed_end(),
            Some(Duration::from_millis(200))
        );
        // Too few ends seen, or an ended age far past the estimate (a late listing): not trusted.
        assert_eq!(timing(1000, 950, 980, 9).presumed_end(), None);
        assert_eq!(timing(240, 0, 5000, 10).presumed_end(), None);
        assert_eq!(Timing::default().presumed_end(), None);
    }

    // Regression: the confirming check of the last operations was due "now" whenever asked, so a round that
    // asked again a moment later found nothing due and spun until the listing spacing ran out (a 1 s tail
    // after every apply).
    #[tokio::test(start_paused = true)]
    async fn a_check_due_once_all_slots_are_back_stays_due() {
        let poller = poller_with(timing(200, 190, 160, 10));
        *poller.last_listing.lock().unwrap() = Some(Instant::now());
        let (_progress, registered) = poller.track(OperationKind::Creation, "req-1");
        let released = registered + poller.presumed_end(OperationKind::Creation).unwrap();
        assert_eq!(
            poller.next_check(),
            Some(released),
            "confirmed at its presumed end"
        );
        tokio::time::advance(Duration::from_millis(300)).await;
        let asked = Instant::now();
        assert_eq!(poller.next_check(), Some(released));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(poller.due_kinds(asked), vec![OperationKind::Creation]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_conflict_widens_the_margin_once_per_interval() {
        let poller = poller_with(timing(1000, 950, 980, 10));
        let presumed = || poller.presumed_end(OperationKind::Creation).unwrap();
        let before = presumed();
        poller.note_conflict();
        let once = presumed();
        poller.note_conflict();
        assert!(once > before, "{once:?} after {before:?}");
        assert_eq!(
            presumed(),
            once,
            "writes in flight together meet one conflict"
        );
        tokio::time::advance(CONFIRM_INTERVAL).await;
        poller.note_conflict();
        assert!(presumed() > once);
    }
}
