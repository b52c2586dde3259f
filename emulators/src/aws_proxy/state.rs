//! The proxy's own state: configuration, statistics, quotas and what moto cannot store.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Behaviour knobs, readable and writable at run time through `/_proxy/config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxyConfig {
    /// Added to every Identity Center call before it is answered.
    pub latency_ms: u64,
    /// Per-operation latency (e.g. `{"CreateAccountAssignment": 500}`), replacing `latency_ms` for that operation.
    pub operation_latency_ms: BTreeMap<String, u64>,
    /// Asynchronous requests (account assignment creation/deletion, permission set provisioning, the access
    /// control attribute configuration) complete this long after they were started, however often they are
    /// polled: AWS finishes them in its own time.
    pub complete_ms: u64,
    /// Up to this much more, drawn per request, so that requests started together finish apart.
    pub complete_jitter_ms: u64,
    /// Read-after-write lag: a permission set, group or user is invisible to reads (Describe → not found,
    /// lists leave it out) for this long after it was created.
    pub read_lag_ms: u64,
    /// Enforces the shared TPS limit and the outstanding-assignment limit.
    pub quotas: bool,
    /// Identity Center APIs share this many transactions per second (AWS: 20, not adjustable).
    pub tps_limit: u32,
    /// Requests that may be made at once before the per-second rate applies.
    pub burst: u32,
    /// Outstanding asynchronous CreateAccountAssignment/DeleteAccountAssignment calls (AWS: 10).
    pub max_outstanding_assignments: usize,
    /// Account assignments for these principal ids end FAILED (failure injection).
    pub fail_principal_ids: Vec<String>,
    /// Assignments and provisioning of these permission set ARNs end FAILED (failure injection).
    pub fail_permission_set_arns: Vec<String>,
    /// This share (0-100) of the calls is answered with the operation's server fault from the model (HTTP
    /// 500) before anything is done, as AWS does when a request fails inside the service (fault injection).
    pub server_error_percent: u32,
}

impl Default for ProxyConfig {
    fn default() -> ProxyConfig {
        ProxyConfig {
            latency_ms: 0,
            operation_latency_ms: BTreeMap::new(),
            complete_ms: 100,
            complete_jitter_ms: 0,
            read_lag_ms: 0,
            quotas: true,
            tps_limit: 20,
            burst: 20,
            max_outstanding_assignments: 10,
            fail_principal_ids: Vec::new(),
            fail_permission_set_arns: Vec::new(),
            server_error_percent: 0,
        }
    }
}

#[derive(Debug, Default)]
pub struct Stats {
    pub total_calls: u64,
    pub calls_by_operation: BTreeMap<String, u64>,
    /// Every call as (Unix milliseconds, operation), in arrival order: `GET /_proxy/calls`, from which the
    /// benchmarks print a timeline. Not in `GET /_proxy/stats` (it grows with every call).
    pub call_log: Vec<(u64, String)>,
    pub throttles: u64,
    pub conflicts: u64,
    /// Calls answered with an injected server fault (`server_error_percent`).
    pub server_errors: u64,
}

impl Stats {
    /// One call of `operation` arrived: counted in total and by operation, and logged with its time.
    pub fn count_call(&mut self, operation: &str) {
        self.total_calls += 1;
        *self
            .calls_by_operation
            .entry(operation.to_owned())
            .or_default() += 1;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        self.call_log.push((now, operation.to_owned()));
    }
}

/// Token bucket for the shared TPS quota.
#[derive(Debug)]
pub struct TokenBucket {
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    pub fn new(burst: u32) -> TokenBucket {
        TokenBucket {
            tokens: f64::from(burst),
            refilled_at: Instant::now(),
        }
    }

    pub fn try_take(&mut self, now: Instant, rate_per_second: u32, burst: u32) -> bool {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * f64::from(rate_per_second)).min(f64::from(burst));
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncKind {
    AssignmentCreation,
    AssignmentDeletion,
    Provisioning,
}

/// One asynchronous request (assignment creation/deletion or permission set provisioning).
#[derive(Debug, Clone)]
pub struct AsyncRequest {
    pub kind: AsyncKind,
    pub instance_arn: String,
    /// The status object without `Status`/`FailureReason` (as the create call answered it).
    pub status: Map<String, Value>,
    pub completes_at: Instant,
    /// `Some(reason)` when the request ends FAILED.
    pub failure: Option<String>,
}

impl AsyncRequest {
    pub fn in_progress(&self, now: Instant) -> bool {
        now < self.completes_at
    }

    /// The status object as a Describe call answers it at `now`.
    pub fn status_at(&self, now: Instant) -> Value {
        self.render(self.in_progress(now))
    }

    pub fn render(&self, in_progress: bool) -> Value {
        let mut status = self.status.clone();
        let (word, failure) = match (&self.failure, in_progress) {
            (_, true) => ("IN_PROGRESS", None),
            (None, false) => ("SUCCEEDED", None),
            (Some(reason), false) => ("FAILED", Some(reason.clone())),
        };
        status.insert("Status".into(), Value::from(word));
        if let Some(reason) = failure {
            status.insert("FailureReason".into(), Value::from(reason));
        }
        Value::Object(status)
    }
}

/// Everything the proxy keeps besides moto's store.
#[derive(Debug)]
pub struct ProxyState {
    pub config: ProxyConfig,
    pub stats: Stats,
    pub bucket: TokenBucket,
    /// By request id, in creation order for the List…Status calls.
    pub async_requests: Vec<(String, AsyncRequest)>,
    /// Tags by resource ARN (real shape).
    pub tags: HashMap<String, BTreeMap<String, String>>,
    /// Permissions boundary by permission set ARN (real shape).
    pub boundaries: HashMap<String, Value>,
    /// identitystore attributes changed by UpdateGroup/UpdateUser (moto cannot update), by group/user id.
    pub overlays: HashMap<String, Map<String, Value>>,
    /// `ExternalIds` (`[{"Issuer", "Id"}]`) by group/user id, as the SCIM stand-in recorded them through
    /// `PUT /_proxy/external-ids/{id}`: in AWS only the SCIM endpoint sets them, and moto cannot hold them.
    pub external_ids: HashMap<String, Vec<Value>>,
    /// A user's `Extensions` (`{"aws:identitystore:enterprise": {...}}`), as the SCIM stand-in recorded them from
    /// the SCIM enterprise extension through `PUT /_proxy/extensions/{id}`; moto cannot hold them.
    pub extensions: HashMap<String, Map<String, Value>>,
    /// Accounts each permission set (moto ARN shape) is provisioned to: by an account assignment or by
    /// ProvisionPermissionSet for one account. moto answers these look-ups with the caller's account.
    pub provisioned_accounts: HashMap<String, BTreeSet<String>>,
    /// Of those, the accounts still running a version older than the permission set's latest change.
    pub outdated_accounts: HashMap<String, BTreeSet<String>>,
    /// When each permission set (moto ARN shape), group and user was created, for the read-after-write lag.
    pub created_at: HashMap<String, Instant>,
    /// identitystore `Revision` by group/user id: 1 when created, one more per UpdateGroup/UpdateUser.
    pub revisions: HashMap<String, u64>,
    /// AWS-shaped identity store id (`d-` + 10 hex digits) → moto's (`d-` + 10 letters and digits).
    pub store_ids: HashMap<String, String>,
    /// AWS managed policies attached with an IAM path, by permission set (moto ARN shape) and policy name:
    /// moto stores them under the path-less ARN it can find.
    pub managed_policy_paths: HashMap<String, BTreeMap<String, String>>,
    /// The ABAC configuration of each instance (moto has none).
    pub access_control: HashMap<String, AccessControlConfiguration>,
}

/// An instance's `InstanceAccessControlAttributeConfiguration` and when its creation completes.
#[derive(Debug, Clone)]
pub struct AccessControlConfiguration {
    pub attributes: Value,
    pub completes_at: Instant,
}

impl ProxyState {
    pub fn new(config: ProxyConfig) -> ProxyState {
        ProxyState {
            bucket: TokenBucket::new(config.burst),
            config,
            stats: Stats::default(),
            async_requests: Vec::new(),
            tags: HashMap::new(),
            boundaries: HashMap::new(),
            overlays: HashMap::new(),
            external_ids: HashMap::new(),
            extensions: HashMap::new(),
            provisioned_accounts: HashMap::new(),
            outdated_accounts: HashMap::new(),
            created_at: HashMap::new(),
            revisions: HashMap::new(),
            store_ids: HashMap::new(),
            managed_policy_paths: HashMap::new(),
            access_control: HashMap::new(),
        }
    }

    pub fn reset(&mut self) {
        *self = ProxyState::new(self.config.clone());
    }

    pub fn outstanding_assignments(&self, now: Instant) -> usize {
        self.async_requests
            .iter()
            .filter(|(_, request)| {
                request.kind != AsyncKind::Provisioning && request.in_progress(now)
            })
            .count()
    }

    pub fn find_async(&self, request_id: &str, kind: AsyncKind) -> Option<&AsyncRequest> {
        self.async_requests
            .iter()
            .find(|(id, request)| id == request_id && request.kind == kind)
            .map(|(_, request)| request)
    }

    /// When a request started now completes: `complete_ms` plus up to `complete_jitter_ms`.
    pub fn completion_time(&self, started: Instant) -> Instant {
        let jitter = match self.config.complete_jitter_ms {
            0 => 0,
            most => fastrand::u64(0..=most),
        };
        started + Duration::from_millis(self.config.complete_ms + jitter)
    }

    /// Whether a resource created at most `read_lag_ms` ago is still invisible to reads.
    pub fn lagging(&self, id: &str, now: Instant) -> bool {
        self.created_at.get(id).is_some_and(|created| {
            now.saturating_duration_since(*created) < Duration::from_millis(self.config.read_lag_ms)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_the_burst_then_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(20);
        let granted = (0..25).filter(|_| bucket.try_take(start, 20, 20)).count();
        assert_eq!(granted, 20);
        assert!(bucket.try_take(start + Duration::from_millis(60), 20, 20));
        assert!(!bucket.try_take(start + Duration::from_millis(60), 20, 20));
    }

    #[test]
    fn async_requests_complete_by_time_however_often_they_are_polled() {
        let state = ProxyState::new(ProxyConfig {
            complete_ms: 100,
            ..ProxyConfig::default()
        });
        let now = Instant::now();
        let request = AsyncRequest {
            kind: AsyncKind::AssignmentCreation,
            instance_arn: "i".into(),
            status: Map::new(),
            completes_at: state.completion_time(now),
            failure: Some("no such principal".into()),
        };
        for _ in 0..10 {
            assert_eq!(request.status_at(now)["Status"], "IN_PROGRESS");
        }
        assert_eq!(
            request.status_at(now + Duration::from_millis(99))["Status"],
            "IN_PROGRESS"
        );
        let last = request.status_at(now + Duration::from_millis(100));
        assert_eq!(last["Status"], "FAILED");
        assert_eq!(last["FailureReason"], "no such principal");
    }

    #[test]
    fn jitter_spreads_completions_within_its_bound() {
        let state = ProxyState::new(ProxyConfig {
            complete_ms: 100,
            complete_jitter_ms: 50,
            ..ProxyConfig::default()
        });
        let now = Instant::now();
        let delays: BTreeSet<u128> = (0..200)
            .map(|_| (state.completion_time(now) - now).as_millis())
            .collect();
        assert!(delays.iter().all(|delay| (100..=150).contains(delay)));
        assert!(delays.len() > 10, "{delays:?}");
    }
}
