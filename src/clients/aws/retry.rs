//! Our retry loop around every Identity Center call. The SDK's own retries are switched off
//! (`RetryConfig::disabled()` on the service clients) because an SDK-internal retry would bypass the
//! process-wide rate limiter, would not know the caller's deadline, and would stack its backoff on ours.
//! Here every attempt takes a limiter slot, failures are classified from AWS's error code, and the
//! backoff is "full jitter" (a uniform random delay up to an exponentially growing cap), which spreads
//! the retries of many concurrent resources instead of synchronising them.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::assignments::{AsyncOperation, AsyncStatus};
use super::error::{AwsError, Error, ErrorKind};
use super::limits::ServiceLimits;

/// The instant by which an operation must be finished; set by the caller (e.g. a resource timeout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn after(duration: Duration) -> Self {
        Self(Instant::now() + duration)
    }
    pub fn at(instant: Instant) -> Self {
        Self(instant)
    }
    pub fn instant(&self) -> Instant {
        self.0
    }
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
}

/// Retry budget and backoff shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, first included. Unbounded by default: a call is retried until its deadline (the
    /// operation's timeout), so a long throttling storm or outage is waited out, not cut off after N tries.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: u32::MAX,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Full-jitter delay before retry number `retry` (0-based): `unit` in [0, 1) picks a point in
    /// `[0, min(max_delay, base_delay * 2^retry)]`.
    pub fn full_jitter(&self, retry: u32, unit: f64) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << retry.min(20))
            .min(self.max_delay);
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// Whether a ConflictException may be retried. AWS answers it both for "another operation on this
/// resource is in progress" (retry is right: e.g. assignments while a permission set is provisioning) and
/// for "it already exists" on creates (retry can never succeed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflicts {
    Retry,
    Fail,
}

fn is_retryable(kind: ErrorKind, conflicts: Conflicts) -> bool {
    match kind {
        ErrorKind::Throttling | ErrorKind::Server | ErrorKind::Transport => true,
        ErrorKind::Conflict => conflicts == Conflicts::Retry,
        _ => false,
    }
}

/// Runs `attempt` until it succeeds, fails for good, runs out of attempts or the deadline passes.
pub(crate) async fn run<T, F, Fut>(
    limits: &ServiceLimits,
    policy: &RetryPolicy,
    operation: &'static str,
    conflicts: Conflicts,
    deadline: Deadline,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut attempts = 0;
    let mut last_error = None;
    loop {
        let timed_out = |attempts, last_error| Error::DeadlineExceeded {
            operation,
            attempts,
            last_error,
        };
        if tokio::time::timeout_at(deadline.instant(), limits.limiter.acquire())
            .await
            .is_err()
        {
            return Err(timed_out(attempts, last_error));
        }
        attempts += 1;
        limits.counters.record_call(operation);
        let error = match tokio::time::timeout_at(deadline.instant(), attempt()).await {
            Err(_) => return Err(timed_out(attempts, last_error)),
            Ok(Ok(value)) => {
                limits.limiter.on_success();
                return Ok(value);
            }
            Ok(Err(error)) => error,
        };
        limits.counters.record_error(error.kind);
        if error.kind == ErrorKind::Throttling {
            limits.limiter.on_throttle();
        }
        if !is_retryable(error.kind, conflicts) {
            return Err(Error::Api(error));
        }
        if attempts >= policy.max_attempts {
            return Err(Error::Api(error));
        }
        let delay = policy.full_jitter(attempts - 1, rand::random::<f64>());
        tracing::debug!(operation, attempt = attempts, ?delay, error = %error, "retrying AWS call");
        if Instant::now() + delay >= deadline.instant() {
            return Err(timed_out(attempts, Some(error)));
        }
        last_error = Some(error);
        limits.counters.record_retry();
        tokio::time::sleep(delay).await;
    }
}

/// Polling intervals for asynchronous operations: start short (most operations finish in seconds),
/// grow to `max`, never past the deadline. The first interval is short because an assignment holds one of
/// the 10 outstanding-operation slots until its status is terminal: at 0.5 s doubling a slot idles 3.5 s
/// for an operation done after two polls, which caps a run at ~3 assignments/s against the ~5/s the
/// 20 TPS quota allows (bench/README.md). A poll costs one call of that quota, so growth stays doubling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollPolicy {
    pub first: Duration,
    pub max: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(200),
            max: Duration::from_secs(8),
        }
    }
}

impl PollPolicy {
    pub fn interval(&self, poll: u32) -> Duration {
        self.first
            .saturating_mul(1u32 << poll.min(16))
            .min(self.max)
    }
}

/// Reads every page of a listing; `fetch_page` gets the token of the page to read (`None` first) and
/// returns the page's items and the next token.
pub(crate) async fn collect_pages<T, F, Fut>(mut fetch_page: F) -> Result<Vec<T>, Error>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), Error>>,
{
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let (page, next) = fetch_page(token).await?;
        items.extend(page);
        token = next;
        if token.is_none() {
            return Ok(items);
        }
    }
}

/// Polls an asynchronous operation (`describe` gets its request id) until AWS reports a terminal status.
/// FAILED becomes [`Error::OperationFailed`] with AWS's FailureReason; an operation still running when
/// the next poll would pass the deadline becomes [`Error::StillInProgress`].
pub(crate) async fn wait_until_terminal<F, Fut>(
    poll: &PollPolicy,
    operation: &'static str,
    mut current: AsyncOperation,
    deadline: Deadline,
    mut describe: F,
) -> Result<(), Error>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<AsyncOperation, Error>>,
{
    for polls in 0.. {
        match current.status {
            AsyncStatus::Succeeded => return Ok(()),
            AsyncStatus::Failed { reason } => {
                return Err(Error::OperationFailed {
                    operation,
                    request_id: current.request_id,
                    reason,
                });
            }
            AsyncStatus::InProgress => {}
        }
        let wait = poll.interval(polls);
        if Instant::now() + wait >= deadline.instant() {
            return Err(Error::StillInProgress {
                operation,
                request_id: current.request_id,
            });
        }
        tokio::time::sleep(wait).await;
        current = describe(current.request_id).await?;
    }
    unreachable!("the poll counter is unbounded")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn limits() -> Arc<ServiceLimits> {
        ServiceLimits::new(1000.0, 1000, 10)
    }

    fn throttle() -> AwsError {
        AwsError::new("Op", "ThrottlingException", "Rate exceeded", Some(400))
    }

    #[test]
    fn full_jitter_stays_under_the_exponential_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        };
        assert_eq!(
            policy.full_jitter(0, 0.999_999),
            Duration::from_millis(100).mul_f64(0.999_999)
        );
        assert_eq!(policy.full_jitter(3, 0.5), Duration::from_millis(400));
        assert_eq!(policy.full_jitter(10, 1.0), Duration::from_secs(2));
        assert_eq!(policy.full_jitter(63, 0.0), Duration::ZERO);
        for retry in 0..40 {
            let d = policy.full_jitter(retry, rand::random());
            assert!(d <= Duration::from_secs(2));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_throttling_until_success_and_counts() {
        let limits = limits();
        let calls = AtomicU32::new(0);
        let result = run(
            &limits,
            &RetryPolicy::default(),
            "Op",
            Conflicts::Fail,
            Deadline::after(Duration::from_secs(60)),
            || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move { if n < 3 { Err(throttle()) } else { Ok(n) } }
            },
        )
        .await;
        assert_eq!(result.unwrap(), 3);
        let counters = limits.counters.snapshot();
        assert_eq!(counters.calls_by_operation["Op"], 4);
        assert_eq!(counters.throttles, 3);
        assert_eq!(counters.retries, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn conflicts_are_retried_only_when_allowed() {
        let limits = limits();
        let conflict =
            || async { Err::<(), _>(AwsError::new("Op", "ConflictException", "busy", Some(400))) };
        let deadline = Deadline::after(Duration::from_secs(5));
        let err = run(
            &limits,
            &RetryPolicy::default(),
            "Op",
            Conflicts::Fail,
            deadline,
            conflict,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Api(ref e) if e.kind == ErrorKind::Conflict));
        assert_eq!(limits.counters.snapshot().total_calls, 1);

        let err = run(
            &limits,
            &RetryPolicy::default(),
            "Op",
            Conflicts::Retry,
            deadline,
            conflict,
        )
        .await
        .unwrap_err();
        match err {
            Error::DeadlineExceeded {
                attempts,
                last_error: Some(last),
                ..
            } => {
                assert!(attempts > 1);
                assert_eq!(last.code.as_deref(), Some("ConflictException"));
            }
            other => panic!("expected deadline error, got {other}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_errors_fail_at_once() {
        let limits = limits();
        let err = run(
            &limits,
            &RetryPolicy::default(),
            "Op",
            Conflicts::Retry,
            Deadline::after(Duration::from_secs(5)),
            || async {
                Err::<(), _>(AwsError::new(
                    "Op",
                    "ValidationException",
                    "bad arn",
                    Some(400),
                ))
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.aws_error().unwrap().message, "bad arn");
        assert_eq!(limits.counters.snapshot().retries, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_are_bounded_by_max_attempts_and_the_deadline() {
        let limits = limits();
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        let server = || async {
            Err::<(), _>(AwsError::new(
                "Op",
                "InternalServerException",
                "oops",
                Some(500),
            ))
        };
        let err = run(
            &limits,
            &policy,
            "Op",
            Conflicts::Fail,
            Deadline::after(Duration::from_secs(3600)),
            server,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Api(_)));
        assert_eq!(limits.counters.snapshot().total_calls, 3);

        let start = Instant::now();
        let hanging = || std::future::pending::<Result<(), AwsError>>();
        let err = run(
            &limits,
            &policy,
            "Slow",
            Conflicts::Fail,
            Deadline::after(Duration::from_secs(2)),
            hanging,
        )
        .await
        .unwrap_err();
        assert!(matches!(
            err,
            Error::DeadlineExceeded {
                attempts: 1,
                last_error: None,
                ..
            }
        ));
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[test]
    fn poll_intervals_grow_to_the_cap() {
        let poll = PollPolicy::default();
        assert_eq!(poll.interval(0), Duration::from_millis(200));
        assert_eq!(poll.interval(2), Duration::from_millis(800));
        assert_eq!(poll.interval(30), Duration::from_secs(8));
    }
}
