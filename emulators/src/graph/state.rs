//! In-memory directory state shared by all handlers and the provisioning engine.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::GraphConfig;
use super::admin::AdminState;
use super::certs::SigningCert;
use super::csdl::Model;
use super::engine::Escrow;
use super::error::GraphError;

/// The directory object collections the emulator serves.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    Application,
    ServicePrincipal,
    Group,
    User,
    ClaimsMappingPolicy,
    AppRoleAssignment,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Application,
        Kind::ServicePrincipal,
        Kind::Group,
        Kind::User,
        Kind::ClaimsMappingPolicy,
        Kind::AppRoleAssignment,
    ];

    /// Qualified CSDL type name.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Application => "microsoft.graph.application",
            Kind::ServicePrincipal => "microsoft.graph.servicePrincipal",
            Kind::Group => "microsoft.graph.group",
            Kind::User => "microsoft.graph.user",
            Kind::ClaimsMappingPolicy => "microsoft.graph.claimsMappingPolicy",
            Kind::AppRoleAssignment => "microsoft.graph.appRoleAssignment",
        }
    }

    /// Entity-set path used in `@odata.context`.
    pub fn set_path(self) -> &'static str {
        match self {
            Kind::Application => "applications",
            Kind::ServicePrincipal => "servicePrincipals",
            Kind::Group => "groups",
            Kind::User => "users",
            Kind::ClaimsMappingPolicy => "policies/claimsMappingPolicies",
            Kind::AppRoleAssignment => "appRoleAssignments",
        }
    }
}

pub struct Job {
    pub json: Value,
    /// The job's effective synchronization schema (served at `.../jobs/{id}/schema`, not inside the job).
    pub schema: Value,
    pub runner: Option<tokio::task::JoinHandle<()>>,
    pub escrow: Escrow,
    /// Serialises scheduled cycles and on-demand runs of one job, as Entra does.
    pub run_lock: Arc<tokio::sync::Mutex<()>>,
    pub on_demand_calls: VecDeque<Instant>,
}

#[derive(Default)]
pub struct Synchronization {
    pub secrets: Vec<(String, String)>,
    pub jobs: BTreeMap<String, Job>,
}

/// How long a write stays invisible to clients: a number of reads (the `replicationLagReads` setting) or a
/// moment in time (the time-based lag of `GraphConfig::replication_lag`).
#[derive(Clone, Copy, Debug)]
pub enum Lag {
    Reads(u32),
    Until(Instant),
}

impl Lag {
    /// True while the lag lasts; a read-counted lag uses up one read.
    fn still_on(&mut self) -> bool {
        match self {
            Lag::Reads(0) => false,
            Lag::Reads(remaining) => {
                *remaining -= 1;
                true
            }
            Lag::Until(until) => Instant::now() < *until,
        }
    }
}

#[derive(Default)]
pub struct Store {
    pub objects: HashMap<Kind, BTreeMap<String, Value>>,
    pub members: HashMap<String, BTreeSet<String>>,
    pub owners: HashMap<String, BTreeSet<String>>,
    pub claims_policies_of: HashMap<String, BTreeSet<String>>,
    pub synchronization: HashMap<String, Synchronization>,
    /// Objects still "replicating": they answer 404 and are missing from lists while the lag lasts.
    pub lagging: HashMap<String, Lag>,
    /// The version of an object clients still read after a PATCH, while the lag lasts.
    pub stale: HashMap<String, (Value, Lag)>,
    /// Soft-deleted applications and service principals (`directory/deletedItems`), by id.
    pub deleted: BTreeMap<String, (Kind, Value)>,
    /// Conditional Access policies by id (not directory objects: no replication lag, no deletedItems).
    pub conditional_access_policies: BTreeMap<String, Value>,
}

impl Store {
    pub fn collection(&self, kind: Kind) -> &BTreeMap<String, Value> {
        static EMPTY: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
        self.objects
            .get(&kind)
            .unwrap_or_else(|| EMPTY.get_or_init(BTreeMap::new))
    }

    pub fn collection_mut(&mut self, kind: Kind) -> &mut BTreeMap<String, Value> {
        self.objects.entry(kind).or_default()
    }

    pub fn insert(&mut self, kind: Kind, object: Value, lag: Option<Lag>) -> String {
        let id = object["id"].as_str().unwrap_or_default().to_string();
        if let Some(lag) = lag {
            self.lagging.insert(id.clone(), lag);
        }
        self.collection_mut(kind).insert(id.clone(), object);
        id
    }

    /// True while a just-created object should still look absent; a read-counted lag counts this as one read.
    pub fn still_replicating(&mut self, id: &str) -> bool {
        if reads_consistent() {
            return false;
        }
        let Some(lag) = self.lagging.get_mut(id) else {
            return false;
        };
        let on = lag.still_on();
        if !on {
            self.lagging.remove(id);
        }
        on
    }

    /// Remembers `previous` as what clients keep reading of `id` while `lag` lasts (an earlier stale version
    /// that is still being served wins: replicas catch up in order).
    pub fn keep_stale(&mut self, id: &str, previous: Value, lag: Lag) {
        self.stale.entry(id.to_string()).or_insert((previous, lag));
    }

    /// An object as a client sees it: absent while it replicates, its previous version while a PATCH
    /// replicates, else the current one.
    pub fn visible(&mut self, kind: Kind, id: &str) -> Option<Value> {
        if !self.collection(kind).contains_key(id) || self.still_replicating(id) {
            return None;
        }
        if let Some((previous, lag)) = self.stale.get_mut(id)
            && !reads_consistent()
        {
            if lag.still_on() {
                return Some(previous.clone());
            }
            self.stale.remove(id);
        }
        self.get(kind, id).cloned()
    }

    /// Reads an object by id as a client would see it (replication lag applies). Ids of directory objects
    /// must be GUIDs (user ids may also be a userPrincipalName).
    pub fn read(&mut self, kind: Kind, id: &str) -> Result<Value, GraphError> {
        check_object_id(kind, id)?;
        self.visible(kind, id)
            .ok_or_else(|| GraphError::not_found(id))
    }

    /// Looks an object up for internal use (no replication lag: the service itself sees it at once).
    pub fn get(&self, kind: Kind, id: &str) -> Option<&Value> {
        self.collection(kind).get(id)
    }

    pub fn find_kind(&self, id: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| self.collection(*k).contains_key(id))
    }

    pub fn stop_all_jobs(&mut self) {
        for sync in self.synchronization.values_mut() {
            for job in sync.jobs.values_mut() {
                if let Some(runner) = job.runner.take() {
                    runner.abort();
                }
            }
        }
    }
}

/// Request header with which a test inspects and arranges the emulator's true state: its reads see every write
/// at once and its own writes are visible to everyone at once (they stand for changes made long before), as
/// reading moto directly bypasses the AWS proxy. Not a Graph header.
pub const CONSISTENT_READ_HEADER: &str = "x-idbridge-consistent-read";

tokio::task_local! {
    /// Set for the handling of a request that carries [`CONSISTENT_READ_HEADER`].
    pub static CONSISTENT_READ: bool;
}

fn reads_consistent() -> bool {
    CONSISTENT_READ.try_with(|on| *on).unwrap_or(false)
}

/// Graph answers a directory-object id that is not a GUID with 400 `Request_BadRequest` "Invalid object
/// identifier", not with 404. App role assignment ids are base64 strings, and users may be addressed by
/// userPrincipalName, so those are not checked here.
pub fn check_object_id(kind: Kind, id: &str) -> Result<(), GraphError> {
    let exempt = kind == Kind::AppRoleAssignment || (kind == Kind::User && id.contains('@'));
    if exempt || is_guid(id) {
        Ok(())
    } else {
        Err(GraphError::invalid_object_identifier(id))
    }
}

pub fn is_guid(id: &str) -> bool {
    id.len() == 36 && uuid::Uuid::parse_str(id).is_ok()
}

pub struct AppState {
    pub config: GraphConfig,
    pub base_url: String,
    pub model: Arc<Model>,
    pub store: Mutex<Store>,
    pub admin: Mutex<AdminState>,
    pub tokens: Mutex<HashMap<String, Instant>>,
    pub http: reqwest::Client,
    /// The tenant's default SAML signing certificate, used for apps without a preferred key (made on first use).
    pub tenant_signing: OnceLock<SigningCert>,
}

impl AppState {
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn admin(&self) -> MutexGuard<'_, AdminState> {
        self.admin
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The replication lag of a write made now: the read-counted setting if one is set, else a time drawn
    /// from the seeded generator up to the configured maximum; `None` when there is no lag.
    pub fn write_lag(&self) -> Option<Lag> {
        if reads_consistent() {
            return None;
        }
        let mut admin = self.admin();
        if admin.replication_lag_reads > 0 {
            return Some(Lag::Reads(admin.replication_lag_reads));
        }
        let max = admin.replication_lag_ms;
        if max == 0 {
            return None;
        }
        let ms = admin.lag_random.u64(0..=max);
        Some(Lag::Until(Instant::now() + Duration::from_millis(ms)))
    }
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Current time as Graph writes it (RFC 3339, UTC, `Z`).
pub fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

pub fn format_time(t: time::OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
