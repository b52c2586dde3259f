//! Graph v1.0 resource shapes, reduced to the properties the provider reads or writes. Optional properties are
//! skipped when `None` so requests never carry nulls we did not mean; `Option<Option<T>>` marks the few
//! properties we must be able to clear (outer `None`: leave alone, `Some(None)`: send null).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationTemplate {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub supported_single_sign_on_modes: Vec<String>,
    #[serde(default)]
    pub supported_provisioning_types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AppRole {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub allowed_member_types: Vec<String>,
    #[serde(default)]
    pub is_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct WebApplication {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_page_url: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub id: String,
    pub app_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub application_template_id: Option<String>,
    #[serde(default)]
    pub identifier_uris: Vec<String>,
    #[serde(default)]
    pub web: Option<WebApplication>,
    #[serde(default)]
    pub app_roles: Vec<AppRole>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier_uris: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web: Option<WebApplication>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SamlSingleSignOnSettings {
    #[serde(default)]
    pub relay_state: Option<String>,
}

/// A certificate or public key on an application or service principal. `key` is the base64 DER; Graph omits it
/// on reads unless selected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct KeyCredential {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_key_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
}

/// The private half of a SAML signing certificate is stored as a password credential sharing the
/// `customKeyIdentifier` of the key credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCredential {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_key_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    pub id: String,
    pub app_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub app_roles: Vec<AppRole>,
    #[serde(default)]
    pub app_role_assignment_required: bool,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub preferred_single_sign_on_mode: Option<String>,
    #[serde(default)]
    pub login_url: Option<String>,
    #[serde(default)]
    pub saml_single_sign_on_settings: Option<SamlSingleSignOnSettings>,
    #[serde(default)]
    pub preferred_token_signing_key_thumbprint: Option<String>,
    #[serde(default)]
    pub key_credentials: Vec<KeyCredential>,
    #[serde(default)]
    pub password_credentials: Vec<PasswordCredential>,
    #[serde(default)]
    pub notification_email_addresses: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SamlSingleSignOnSettingsPatch {
    pub relay_state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipalPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_role_assignment_required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_single_sign_on_mode: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_url: Option<Option<String>>,
    /// `relay_state: None` inside clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saml_single_sign_on_settings: Option<SamlSingleSignOnSettingsPatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_token_signing_key_thumbprint: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_credentials: Option<Vec<KeyCredential>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_credentials: Option<Vec<PasswordCredential>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_email_addresses: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// `instantiate` answer: the new application and its service principal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationServicePrincipal {
    pub application: Application,
    pub service_principal: ServicePrincipal,
}

/// `addTokenSigningCertificate` answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SelfSignedCertificate {
    #[serde(default)]
    pub custom_key_identifier: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<String>,
    #[serde(default)]
    pub start_date_time: Option<String>,
    /// Base64 DER of the public certificate.
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub thumbprint: Option<String>,
    #[serde(rename = "type", default)]
    pub key_type: Option<String>,
    #[serde(default)]
    pub usage: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ClaimsMappingPolicy {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub display_name: String,
    /// One JSON document as a string, per Graph's `definition` collection.
    pub definition: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_organization_default: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ClaimsMappingPolicyPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AppRoleAssignment {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub principal_id: String,
    pub resource_id: String,
    pub app_role_id: String,
    #[serde(default, skip_serializing)]
    pub principal_type: Option<String>,
    #[serde(default, skip_serializing)]
    pub principal_display_name: Option<String>,
    #[serde(default, skip_serializing)]
    pub resource_display_name: Option<String>,
    #[serde(default, skip_serializing)]
    pub created_date_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub security_enabled: Option<bool>,
    #[serde(default)]
    pub mail_enabled: Option<bool>,
    #[serde(default)]
    pub mail_nickname: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct KeyValue {
    pub key: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationTemplate {
    pub id: String,
    #[serde(default)]
    pub application_id: Option<String>,
    #[serde(default)]
    pub factory_tag: Option<String>,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub discoverable: bool,
    #[serde(default)]
    pub metadata: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationSchedule {
    #[serde(default)]
    pub expiration: Option<String>,
    /// ISO 8601 duration, e.g. `PT40M`.
    #[serde(default)]
    pub interval: Option<String>,
    /// `Active`, `Disabled` or `Paused`.
    #[serde(default)]
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationStatus {
    /// `NotConfigured`, `NotRun`, `Active`, `Paused`, `Quarantine`.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub count_successive_complete_failures: Option<i64>,
    #[serde(default)]
    pub last_execution: Option<serde_json::Value>,
    #[serde(default)]
    pub last_successful_execution: Option<serde_json::Value>,
    #[serde(default)]
    pub quarantine: Option<serde_json::Value>,
    #[serde(default)]
    pub troubleshooting_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationJob {
    pub id: String,
    #[serde(default)]
    pub template_id: Option<String>,
    #[serde(default)]
    pub schedule: Option<SynchronizationSchedule>,
    #[serde(default)]
    pub status: Option<SynchronizationStatus>,
}

/// A rule of a synchronization job's schema (`synchronizationRule`): its id is what `provisionOnDemand` needs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationRule {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub object_mappings: Vec<ObjectMapping>,
}

/// Which source object type a rule maps (e.g. `Group`, `User`) and to which target attributes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMapping {
    #[serde(default)]
    pub source_object_name: Option<String>,
    #[serde(default)]
    pub target_object_name: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub attribute_mappings: Vec<AttributeMapping>,
}

/// One `attributeMapping` of an object mapping; only where it writes matters here.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AttributeMapping {
    #[serde(default)]
    pub target_attribute_name: Option<String>,
}

/// Key names of `synchronization/secrets` entries the AWS template uses.
pub mod secret_keys {
    pub const BASE_ADDRESS: &str = "BaseAddress";
    pub const SECRET_TOKEN: &str = "SecretToken";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationJobSubject {
    pub object_id: String,
    /// `User` or `Group`.
    pub object_type_name: String,
    /// For a group: the members to provision with it ("synchronizationJob: provisionOnDemand",
    /// synchronizationLinkedObjects); Entra provisions no member that is not listed here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<SynchronizationLinkedObjects>,
}

/// `synchronizationLinkedObjects`: the subjects linked to a provision-on-demand subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationLinkedObjects {
    pub members: Vec<SynchronizationJobSubject>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationJobApplicationParameters {
    pub rule_id: String,
    pub subjects: Vec<SynchronizationJobSubject>,
}

/// `provisionOnDemand` answer. Graph's API reference ("synchronizationJob: provisionOnDemand") shows `key` as
/// a JSON string summarising the result (`{"result":"Skipped","details":{"errorCode":…,"errorMessage":…}}`)
/// and `value` as a JSON string with the report (`provisioningSteps`, `statusInfo.status`, …) or just `{}`;
/// other answers carry a type name in `key` and the report in `value`. Read it with [`Self::on_demand_outcome`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StringKeyStringValuePair {
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// What a `provisionOnDemand` answer says happened to its subject.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OnDemandOutcome {
    /// The result as Graph wrote it (`Success`, `Skipped`, `Failure`, `Warning`; any letter case), from the
    /// `key` summary if there is one, else from the report's `statusInfo.status`. `None`: the answer says not.
    pub result: Option<String>,
    /// The error message and the steps' descriptions, joined with `; ` (empty when there are none).
    pub description: String,
}

impl OnDemandOutcome {
    pub fn is_failure(&self) -> bool {
        self.result
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case("failure"))
    }
}

impl StringKeyStringValuePair {
    /// Reads every documented shape of a `provisionOnDemand` answer; parts that are not JSON are ignored.
    pub fn on_demand_outcome(&self) -> OnDemandOutcome {
        let parse = |text: &Option<String>| {
            text.as_deref()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .unwrap_or(serde_json::Value::Null)
        };
        let summary = parse(&self.key);
        // One report, or one per subject.
        let reports: Vec<serde_json::Value> = match parse(&self.value) {
            serde_json::Value::Array(reports) => reports,
            report => vec![report],
        };
        let report_status =
            |r: &serde_json::Value| r["statusInfo"]["status"].as_str().map(str::to_owned);
        let result = summary["result"].as_str().map(str::to_owned).or_else(|| {
            // With several reports, a failing one decides.
            let statuses: Vec<String> = reports.iter().filter_map(report_status).collect();
            statuses
                .iter()
                .find(|s| s.eq_ignore_ascii_case("failure"))
                .or(statuses.first())
                .cloned()
        });
        let error_message = summary["details"]["errorMessage"].as_str();
        let reasons = reports
            .iter()
            .filter_map(|r| r["statusInfo"]["reason"].as_str());
        let steps = reports
            .iter()
            .flat_map(|r| r["provisioningSteps"].as_array().into_iter().flatten())
            .filter_map(|s| s["description"].as_str());
        let mut parts: Vec<&str> = Vec::new();
        for part in error_message.into_iter().chain(reasons).chain(steps) {
            if !part.is_empty() && !parts.contains(&part) {
                parts.push(part);
            }
        }
        OnDemandOutcome {
            result,
            description: parts.join("; "),
        }
    }
}

/// A `synchronizationSecretKeyStringValuePair`. `Debug` hides the value: it may be the SCIM bearer token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationSecret {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
}

impl std::fmt::Debug for SynchronizationSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SynchronizationSecret")
            .field("key", &self.key)
            .field("value", &self.value.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(key: &str, value: &str) -> StringKeyStringValuePair {
        StringKeyStringValuePair {
            key: Some(key.into()),
            value: Some(value.into()),
        }
    }

    /// Graph "synchronizationJob: provisionOnDemand", example 1: summary in `key`, report in `value`.
    #[test]
    fn on_demand_summary_key_and_report_value() {
        let outcome = answer(
            r#"{"result":"Skipped","details":{"errorCode":"RedundantExport","errorMessage":"Already in sync."}}"#,
            r#"{"provisioningSteps":[{"name":"EntryImport","description":"Retrieved User 'a@b'"},{"name":"EntrySynchronizationSkip","description":"Nothing to do."}],"statusInfo":{"status":"Skipped"}}"#,
        )
        .on_demand_outcome();
        assert_eq!(outcome.result.as_deref(), Some("Skipped"));
        assert!(!outcome.is_failure());
        assert_eq!(
            outcome.description,
            "Already in sync.; Retrieved User 'a@b'; Nothing to do."
        );
    }

    /// Example 3 (a group and two of its members): the summary says it all, the report is `{}`.
    #[test]
    fn on_demand_summary_with_an_empty_report() {
        let outcome = answer(r#"{"result":"Success","details":{}}"#, "{}").on_demand_outcome();
        assert_eq!(outcome.result.as_deref(), Some("Success"));
        assert_eq!(outcome.description, "");
        let failed = answer(
            r#"{"result":"Failure","details":{"errorCode":"SystemForCrossDomainIdentityManagementServiceUnavailable","errorMessage":"unreachable"}}"#,
            "{}",
        )
        .on_demand_outcome();
        assert!(failed.is_failure());
        assert_eq!(failed.description, "unreachable");
    }

    /// A type name in `key` (not JSON) and the report in `value`, with the status in any letter case.
    #[test]
    fn on_demand_report_without_a_summary() {
        let outcome = answer(
            "Microsoft.Identity.Health.CPP.Common.DataContracts.SyncFabric.StatusInfo",
            r#"{"statusInfo":{"status":"failure","reason":"SCIM answered 401"},"provisioningSteps":[{"description":"Failed to export Group"}]}"#,
        )
        .on_demand_outcome();
        assert!(outcome.is_failure());
        assert_eq!(
            outcome.description,
            "SCIM answered 401; Failed to export Group"
        );
    }

    /// One report per subject: a failing one decides.
    #[test]
    fn on_demand_reports_per_subject() {
        let outcome = answer(
            "",
            r#"[{"statusInfo":{"status":"Success"}},{"statusInfo":{"status":"Failure"},"provisioningSteps":[{"description":"x"}]}]"#,
        )
        .on_demand_outcome();
        assert!(outcome.is_failure());
        assert_eq!(outcome.description, "x");
    }

    #[test]
    fn on_demand_answers_that_say_nothing() {
        let outcome = StringKeyStringValuePair::default().on_demand_outcome();
        assert_eq!(outcome, OnDemandOutcome::default());
        assert_eq!(
            answer("not json", "not json").on_demand_outcome().result,
            None
        );
    }
}
