//! The typed model of `idbridge_scim_provisioning`, what create and update send, and the job's status in state.

use std::collections::BTreeSet;

use super::mappings::AttributeMappingModel;
use crate::clients::graph::models::SynchronizationJob;
use crate::framework::{Attr, AttributePath, Diagnostic, Diagnostics, Number, Secret, Set, Value};

pub(super) const SCOPE_ASSIGNED: &str = "assigned";
pub(super) const SCOPE_ALL: &str = "all";

crate::model! {
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct ScimProvisioningModel {
        pub id: Attr<String>,
        pub application_id: Attr<String>,
        pub scim_endpoint: Attr<String>,
        /// Write-only: only ever set in the configuration.
        pub scim_token_wo: Attr<Secret>,
        pub scim_token_wo_version: Attr<Number>,
        pub enabled: Attr<bool>,
        pub scope: Attr<String>,
        pub token_expires_at: Attr<String>,
        pub job_id: Attr<String>,
        pub template_id: Attr<String>,
        pub status: Attr<String>,
        pub last_execution_state: Attr<String>,
        pub quarantine_reason: Attr<String>,
        pub error_count: Attr<i64>,
        pub last_successful_execution_at: Attr<String>,
        pub timeouts: Value,
        // Attribute mappings (mappings.rs).
        pub attribute_mapping: Set<AttributeMappingModel>,
        pub removed_targets: Attr<BTreeSet<String>>,
    }
}

impl ScimProvisioningModel {
    /// The job's status outputs, which any apply may change (starting, pausing or restarting the job), become
    /// "known after apply".
    pub(super) fn status_changes_on_apply(&mut self) {
        for output in [
            &mut self.status,
            &mut self.last_execution_state,
            &mut self.quarantine_reason,
            &mut self.last_successful_execution_at,
        ] {
            *output = Attr::unknown();
        }
        self.error_count = Attr::unknown();
    }
}

/// The SCIM bearer token; `Debug` never shows it.
pub(super) type ScimToken = Secret;

/// What create/update send: the endpoint, the token and the settings derived from the plan.
#[derive(Debug)]
pub(super) struct Desired {
    pub(super) application_id: String,
    pub(super) endpoint: String,
    pub(super) token: ScimToken,
    pub(super) sync_all: bool,
    pub(super) enabled: bool,
}

impl Desired {
    pub(super) fn from(
        config: &ScimProvisioningModel,
        planned: &ScimProvisioningModel,
    ) -> Result<Desired, Diagnostics> {
        let token = match config.scim_token_wo.known() {
            Some(token) if !token.expose().is_empty() => token.clone(),
            _ => {
                return Err(Diagnostic::error(
                    "Missing SCIM access token",
                    "`scim_token_wo` must be set to the SCIM access token generated in IAM Identity Center.",
                )
                .at(AttributePath::new("scim_token_wo"))
                .into());
            }
        };
        Ok(Desired {
            application_id: planned
                .application_id
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            endpoint: planned
                .scim_endpoint
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            token,
            sync_all: planned.scope.as_str() == Some(SCOPE_ALL),
            enabled: planned.enabled.known().copied().unwrap_or(true),
        })
    }
}

impl ScimProvisioningModel {
    /// Whether going from `self` (prior state) to `planned` needs the secrets sent again.
    pub(super) fn secrets_change(&self, planned: &ScimProvisioningModel) -> bool {
        self.scim_endpoint != planned.scim_endpoint
            || self.scope != planned.scope
            || self.scim_token_wo_version != planned.scim_token_wo_version
    }

    /// Whether going from `self` (prior state) to `planned` changes the managed attribute mappings.
    pub(super) fn mappings_change(&self, planned: &ScimProvisioningModel) -> bool {
        let mut prior = self.attribute_mapping.0.clone();
        let mut wanted = planned.attribute_mapping.0.clone();
        let key = |m: &AttributeMappingModel| m.target.as_str().unwrap_or_default().to_string();
        prior.sort_by_key(key);
        wanted.sort_by_key(key);
        prior != wanted || self.removed_targets != planned.removed_targets
    }

    /// Whether the configuration manages any attribute mapping.
    pub(super) fn manages_mappings(&self) -> bool {
        !self.attribute_mapping.0.is_empty()
            || self.removed_targets.known().is_some_and(|r| !r.is_empty())
    }

    /// The job's status attributes as Graph reports them.
    pub(super) fn set_job_status(&mut self, job: &SynchronizationJob) {
        let status = job.status.clone().unwrap_or_default();
        let text = |value: &Option<serde_json::Value>, key: &str| {
            value
                .as_ref()
                .and_then(|v| v.get(key))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        self.status = status.code.clone().into();
        self.last_execution_state = text(&status.last_execution, "state").into();
        self.quarantine_reason = text(&status.quarantine, "reason").into();
        self.error_count = status
            .count_successive_complete_failures
            .unwrap_or(0)
            .into();
        self.last_successful_execution_at =
            text(&status.last_successful_execution, "timeEnded").into();
    }
}
