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
    /// How many `Describe…Status` polls answer IN_PROGRESS before the final status.
    pub async_polls: u32,
    /// An asynchronous request also completes once it is this old, polled or not (real AWS finishes on its own).
    pub async_complete_after_ms: u64,
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
}

impl Default for ProxyConfig {
    fn default() -> ProxyConfig {
        ProxyConfig {
            latency_ms: 0,
            operation_latency_ms: BTreeMap::new(),
            async_polls: 1,
            async_complete_after_ms: 10_000,
            quotas: true,
            tps_limit: 20,
            burst: 20,
            max_outstanding_assignments: 10,
            fail_principal_ids: Vec::new(),
            fail_permission_set_arns: Vec::new(),
        }
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    pub total_calls: u64,
    pub calls_by_operation: BTreeMap<String, u64>,
    pub throttles: u64,
    pub conflicts: u64,
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
    pub created: Instant,
    pub polls_answered: u32,
    /// `Some(reason)` when the request ends FAILED.
    pub failure: Option<String>,
}

impl AsyncRequest {
    pub fn in_progress(&self, now: Instant, config: &ProxyConfig) -> bool {
        self.polls_answered < config.async_polls
            && now.saturating_duration_since(self.created)
                < Duration::from_millis(config.async_complete_after_ms)
    }

    /// The status object for a Describe call; counts the poll.
    pub fn poll(&mut self, now: Instant, config: &ProxyConfig) -> Value {
        let in_progress = self.in_progress(now, config);
        if in_progress {
            self.polls_answered += 1;
        }
        self.render(in_progress)
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
    /// Accounts each permission set (moto ARN shape) is provisioned to: by an account assignment or by
    /// ProvisionPermissionSet for one account. moto answers these look-ups with the caller's account.
    pub provisioned_accounts: HashMap<String, BTreeSet<String>>,
    /// Of those, the accounts still running a version older than the permission set's latest change.
    pub outdated_accounts: HashMap<String, BTreeSet<String>>,
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
            provisioned_accounts: HashMap::new(),
            outdated_accounts: HashMap::new(),
        }
    }

    pub fn reset(&mut self) {
        *self = ProxyState::new(self.config.clone());
    }

    pub fn outstanding_assignments(&self, now: Instant) -> usize {
        self.async_requests
            .iter()
            .filter(|(_, request)| {
                request.kind != AsyncKind::Provisioning && request.in_progress(now, &self.config)
            })
            .count()
    }

    pub fn find_async(&mut self, request_id: &str, kind: AsyncKind) -> Option<&mut AsyncRequest> {
        self.async_requests
            .iter_mut()
            .find(|(id, request)| id == request_id && request.kind == kind)
            .map(|(_, request)| request)
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
    fn async_request_answers_in_progress_for_the_configured_polls() {
        let config = ProxyConfig {
            async_polls: 2,
            ..ProxyConfig::default()
        };
        let now = Instant::now();
        let mut request = AsyncRequest {
            kind: AsyncKind::AssignmentCreation,
            instance_arn: "i".into(),
            status: Map::new(),
            created: now,
            polls_answered: 0,
            failure: Some("no such principal".into()),
        };
        assert_eq!(request.poll(now, &config)["Status"], "IN_PROGRESS");
        assert_eq!(request.poll(now, &config)["Status"], "IN_PROGRESS");
        let last = request.poll(now, &config);
        assert_eq!(last["Status"], "FAILED");
        assert_eq!(last["FailureReason"], "no such principal");
    }

    #[test]
    fn async_request_completes_on_its_own_after_the_deadline() {
        let config = ProxyConfig {
            async_polls: 5,
            async_complete_after_ms: 100,
            ..ProxyConfig::default()
        };
        let now = Instant::now();
        let request = AsyncRequest {
            kind: AsyncKind::AssignmentDeletion,
            instance_arn: "i".into(),
            status: Map::new(),
            created: now,
            polls_answered: 0,
            failure: None,
        };
        assert!(request.in_progress(now, &config));
        assert!(!request.in_progress(now + Duration::from_millis(150), &config));
    }
}
