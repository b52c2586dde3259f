//! In-memory directory state shared by all handlers and the provisioning engine.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

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

#[derive(Default)]
pub struct Store {
    pub objects: HashMap<Kind, BTreeMap<String, Value>>,
    pub members: HashMap<String, BTreeSet<String>>,
    pub owners: HashMap<String, BTreeSet<String>>,
    pub claims_policies_of: HashMap<String, BTreeSet<String>>,
    pub synchronization: HashMap<String, Synchronization>,
    /// Objects still "replicating": how many more reads answer 404.
    pub lagging: HashMap<String, u32>,
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

    pub fn insert(&mut self, kind: Kind, object: Value, lag_reads: u32) -> String {
        let id = object["id"].as_str().unwrap_or_default().to_string();
        if lag_reads > 0 {
            self.lagging.insert(id.clone(), lag_reads);
        }
        self.collection_mut(kind).insert(id.clone(), object);
        id
    }

    /// True while a just-created object should still look absent; each call counts as one read.
    pub fn still_replicating(&mut self, id: &str) -> bool {
        match self.lagging.get_mut(id) {
            Some(remaining) if *remaining > 0 => {
                *remaining -= 1;
                if *remaining == 0 {
                    self.lagging.remove(id);
                }
                true
            }
            _ => false,
        }
    }

    /// Reads an object by id as a client would see it (replication lag applies).
    pub fn read(&mut self, kind: Kind, id: &str) -> Result<Value, GraphError> {
        if !self.collection(kind).contains_key(id) || self.still_replicating(id) {
            return Err(GraphError::not_found(id));
        }
        Ok(self.collection(kind)[id].clone())
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
