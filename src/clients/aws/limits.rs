//! Process-wide protection of the IAM Identity Center quotas: all sso-admin and identitystore calls share
//! 20 transactions per second, and at most 10 asynchronous account-assignment operations may be outstanding
//! (AWS IAM Identity Center user guide, quotas; neither is adjustable). Every resource of one provider
//! process goes through the same [`ServiceLimits`], so a plan with thousands of assignments paces itself
//! instead of collecting ThrottlingExceptions.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// The Identity Center APIs' shared quota.
pub const IDENTITY_CENTER_TPS: f64 = 20.0;
/// Outstanding asynchronous CreateAccountAssignment/DeleteAccountAssignment operations allowed by AWS.
pub const MAX_OUTSTANDING_ASSIGNMENT_OPERATIONS: usize = 10;

/// Paces calls with the generic cell rate algorithm: each caller reserves the next free slot, so callers
/// are served in arrival order and no caller can starve. With `burst == 1` the process never sends more
/// than `rate` calls in any one-second window. The rate halves on every throttle (other processes or the
/// console share the same quota) and creeps back on successes.
pub struct RateLimiter {
    max_rate: f64,
    min_rate: f64,
    burst: u32,
    state: Mutex<PacerState>,
}

struct PacerState {
    /// Theoretical arrival time of the next call.
    next_slot: Instant,
    rate: f64,
    last_cut: Option<Instant>,
}

const THROTTLE_CUT_SPACING: Duration = Duration::from_secs(1);

impl RateLimiter {
    pub fn new(rate_per_second: f64, burst: u32) -> Self {
        assert!(
            rate_per_second > 0.0 && burst >= 1,
            "rate limiter needs a positive rate and burst"
        );
        Self {
            max_rate: rate_per_second,
            min_rate: (rate_per_second / 10.0).max(0.5).min(rate_per_second),
            burst,
            state: Mutex::new(PacerState {
                next_slot: Instant::now(),
                rate: rate_per_second,
                last_cut: None,
            }),
        }
    }

    /// Waits for this caller's slot. Cancelling the wait forfeits the slot (keeps pacing conservative).
    pub async fn acquire(&self) {
        let start = {
            let mut state = self.state.lock().expect("rate limiter lock poisoned");
            let now = Instant::now();
            let interval = Duration::from_secs_f64(1.0 / state.rate);
            let tolerance = interval * (self.burst - 1);
            let slot = state.next_slot.max(now);
            state.next_slot = slot + interval;
            slot.checked_sub(tolerance).map_or(now, |t| t.max(now))
        };
        tokio::time::sleep_until(start).await;
    }

    /// When a caller arriving now would be served: `now` or earlier when nobody is queued. Lets a
    /// low-priority caller (the status poller) go after the calls already waiting.
    pub fn next_free_slot(&self) -> Instant {
        let state = self.state.lock().expect("rate limiter lock poisoned");
        let interval = Duration::from_secs_f64(1.0 / state.rate);
        let tolerance = interval * (self.burst - 1);
        state
            .next_slot
            .checked_sub(tolerance)
            .unwrap_or(state.next_slot)
    }

    /// Called when AWS answered with a throttling error. Many calls in flight are usually throttled
    /// together, so the rate is cut at most once per second.
    pub fn on_throttle(&self) {
        let mut state = self.state.lock().expect("rate limiter lock poisoned");
        let now = Instant::now();
        if state
            .last_cut
            .is_some_and(|at| now.duration_since(at) < THROTTLE_CUT_SPACING)
        {
            return;
        }
        state.last_cut = Some(now);
        state.rate = (state.rate / 2.0).max(self.min_rate);
    }

    /// Called after a successful call: additive recovery towards the configured rate.
    pub fn on_success(&self) {
        let mut state = self.state.lock().expect("rate limiter lock poisoned");
        if state.rate < self.max_rate {
            state.rate = (state.rate + self.max_rate / 80.0).min(self.max_rate);
        }
    }

    pub fn current_rate(&self) -> f64 {
        self.state.lock().expect("rate limiter lock poisoned").rate
    }
}

/// Call and retry counters for diagnostics and benchmarks.
#[derive(Default)]
pub struct Counters {
    calls: Mutex<BTreeMap<&'static str, u64>>,
    throttles: AtomicU64,
    conflicts: AtomicU64,
    retries: AtomicU64,
    server_errors: AtomicU64,
    transport_errors: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    max_outstanding_assignment_operations: AtomicUsize,
}

impl Counters {
    pub(crate) fn record_call(&self, operation: &'static str) {
        *self
            .calls
            .lock()
            .expect("counters lock poisoned")
            .entry(operation)
            .or_default() += 1;
    }
    pub(crate) fn record_error(&self, kind: super::ErrorKind) {
        let counter = match kind {
            super::ErrorKind::Throttling => &self.throttles,
            super::ErrorKind::Conflict => &self.conflicts,
            super::ErrorKind::Server => &self.server_errors,
            super::ErrorKind::Transport => &self.transport_errors,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn record_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn record_cache(&self, hit: bool) {
        let counter = if hit {
            &self.cache_hits
        } else {
            &self.cache_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> CountersSnapshot {
        let calls_by_operation: BTreeMap<String, u64> = self
            .calls
            .lock()
            .expect("counters lock poisoned")
            .iter()
            .map(|(op, n)| ((*op).to_owned(), *n))
            .collect();
        CountersSnapshot {
            total_calls: calls_by_operation.values().sum(),
            calls_by_operation,
            throttles: self.throttles.load(Ordering::Relaxed),
            conflicts: self.conflicts.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            server_errors: self.server_errors.load(Ordering::Relaxed),
            transport_errors: self.transport_errors.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            cache_misses: self.cache_misses.load(Ordering::Relaxed),
            max_outstanding_assignment_operations: self
                .max_outstanding_assignment_operations
                .load(Ordering::Relaxed),
        }
    }
}

/// A point-in-time copy of [`Counters`]; `Display` prints one line per figure for benchmark output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountersSnapshot {
    /// API attempts (including retries) by operation name.
    pub calls_by_operation: BTreeMap<String, u64>,
    pub total_calls: u64,
    pub throttles: u64,
    pub conflicts: u64,
    pub retries: u64,
    pub server_errors: u64,
    pub transport_errors: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub max_outstanding_assignment_operations: usize,
}

impl CountersSnapshot {
    /// What happened between `before` and this snapshot. The outstanding-operation figure is a
    /// high-water mark and is kept as is.
    pub fn since(&self, before: &CountersSnapshot) -> CountersSnapshot {
        let calls_by_operation = self
            .calls_by_operation
            .iter()
            .map(|(op, n)| {
                (
                    op.clone(),
                    n - before.calls_by_operation.get(op).copied().unwrap_or(0),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        CountersSnapshot {
            calls_by_operation,
            total_calls: self.total_calls - before.total_calls,
            throttles: self.throttles - before.throttles,
            conflicts: self.conflicts - before.conflicts,
            retries: self.retries - before.retries,
            server_errors: self.server_errors - before.server_errors,
            transport_errors: self.transport_errors - before.transport_errors,
            cache_hits: self.cache_hits - before.cache_hits,
            cache_misses: self.cache_misses - before.cache_misses,
            max_outstanding_assignment_operations: self.max_outstanding_assignment_operations,
        }
    }
}

impl fmt::Display for CountersSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "total API calls:            {}", self.total_calls)?;
        for (op, n) in &self.calls_by_operation {
            writeln!(f, "  {op:<44} {n}")?;
        }
        writeln!(f, "throttling errors:          {}", self.throttles)?;
        writeln!(f, "conflict errors:            {}", self.conflicts)?;
        writeln!(f, "server errors:              {}", self.server_errors)?;
        writeln!(f, "transport errors:           {}", self.transport_errors)?;
        writeln!(f, "retries:                    {}", self.retries)?;
        writeln!(f, "assignment cache hits:      {}", self.cache_hits)?;
        writeln!(f, "assignment cache misses:    {}", self.cache_misses)?;
        write!(
            f,
            "max outstanding async ops:  {}",
            self.max_outstanding_assignment_operations
        )
    }
}

/// The limiter, the outstanding-operation semaphore and the counters, shared by all clients of a process.
pub struct ServiceLimits {
    pub limiter: RateLimiter,
    pub counters: Counters,
    assignment_slots: Semaphore,
    outstanding: AtomicUsize,
}

impl ServiceLimits {
    pub fn new(
        rate_per_second: f64,
        burst: u32,
        max_outstanding_assignment_operations: usize,
    ) -> Arc<Self> {
        Arc::new(Self {
            limiter: RateLimiter::new(rate_per_second, burst),
            counters: Counters::default(),
            assignment_slots: Semaphore::new(max_outstanding_assignment_operations),
            outstanding: AtomicUsize::new(0),
        })
    }

    /// The one instance every Identity Center client of this process shares.
    pub fn process_wide() -> Arc<Self> {
        static SHARED: OnceLock<Arc<ServiceLimits>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                Self::new(
                    IDENTITY_CENTER_TPS,
                    1,
                    MAX_OUTSTANDING_ASSIGNMENT_OPERATIONS,
                )
            })
            .clone()
    }

    /// Waits for one of the outstanding asynchronous assignment operation slots. Hold the slot from the
    /// Create/Delete call until its status is terminal.
    pub async fn assignment_slot(&self) -> AssignmentSlot<'_> {
        let permit = self
            .assignment_slots
            .acquire()
            .await
            .expect("assignment semaphore is never closed");
        let now = self.outstanding.fetch_add(1, Ordering::SeqCst) + 1;
        self.counters
            .max_outstanding_assignment_operations
            .fetch_max(now, Ordering::SeqCst);
        AssignmentSlot {
            _permit: permit,
            outstanding: &self.outstanding,
        }
    }
}

/// One outstanding asynchronous assignment operation; frees its slot on drop.
pub struct AssignmentSlot<'a> {
    _permit: SemaphorePermit<'a>,
    outstanding: &'a AtomicUsize,
}

impl Drop for AssignmentSlot<'_> {
    fn drop(&mut self) {
        self.outstanding.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn limiter_spaces_calls_at_the_configured_rate() {
        let limiter = RateLimiter::new(20.0, 1);
        let start = Instant::now();
        for _ in 0..100 {
            limiter.acquire().await;
        }
        // The first call goes at once, the other 99 are 50 ms apart.
        assert_eq!(start.elapsed(), Duration::from_millis(99 * 50));
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_never_exceeds_the_rate_in_any_second_under_concurrency() {
        let limiter = Arc::new(RateLimiter::new(20.0, 1));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let limiter = limiter.clone();
            tasks.push(tokio::spawn(async move {
                limiter.acquire().await;
                Instant::now()
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap());
        }
        times.sort();
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 20,
                "{in_window} calls in the second after {:?}",
                *t - start
            );
        }
        assert!(*times.last().unwrap() - start >= Duration::from_millis(199 * 50));
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_allows_a_burst_then_paces() {
        let limiter = RateLimiter::new(10.0, 5);
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn throttles_halve_the_rate_and_successes_restore_it() {
        let limiter = RateLimiter::new(20.0, 1);
        limiter.on_throttle();
        assert_eq!(limiter.current_rate(), 10.0);
        limiter.on_throttle();
        assert_eq!(
            limiter.current_rate(),
            10.0,
            "a burst of throttles cuts the rate once"
        );
        for _ in 0..4 {
            tokio::time::advance(Duration::from_millis(1001)).await;
            limiter.on_throttle();
        }
        assert_eq!(
            limiter.current_rate(),
            2.0,
            "floor is a tenth of the configured rate"
        );
        for _ in 0..200 {
            limiter.on_success();
        }
        assert_eq!(limiter.current_rate(), 20.0);
    }

    #[test]
    fn snapshot_difference_counts_only_what_happened_in_between() {
        let counters = Counters::default();
        counters.record_call("ListInstances");
        counters.record_error(super::super::ErrorKind::Throttling);
        let before = counters.snapshot();
        counters.record_call("ListInstances");
        counters.record_call("CreatePermissionSet");
        counters.record_retry();
        let delta = counters.snapshot().since(&before);
        assert_eq!(delta.total_calls, 2);
        assert_eq!(delta.calls_by_operation.len(), 2);
        assert_eq!(delta.calls_by_operation["ListInstances"], 1);
        assert_eq!((delta.throttles, delta.retries), (0, 1));
        assert!(delta.to_string().contains("total API calls:            2"));
    }

    #[tokio::test(start_paused = true)]
    async fn assignment_slots_bound_outstanding_operations() {
        let limits = ServiceLimits::new(1000.0, 1, 3);
        let running = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let limits = limits.clone();
            let running = running.clone();
            tasks.push(tokio::spawn(async move {
                let _slot = limits.assignment_slot().await;
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(now <= 3, "{now} operations outstanding");
                tokio::time::sleep(Duration::from_secs(1)).await;
                running.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        let start = Instant::now();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(4),
            "12 operations, 3 at a time, 1 s each"
        );
        assert_eq!(
            limits
                .counters
                .snapshot()
                .max_outstanding_assignment_operations,
            3
        );
    }
}
