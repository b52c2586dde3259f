//! Conditional Access policies (`/identity/conditionalAccess/policies`), reduced to the members the provider
//! manages; shapes per Microsoft's conditionalAccessPolicy reference and the v1.0 CSDL.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::api::segment;
use super::client::{GraphClient, GraphError, Replay};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessApplications {
    #[serde(default)]
    pub include_applications: Vec<String>,
    #[serde(default)]
    pub exclude_applications: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessUsers {
    #[serde(default)]
    pub include_users: Vec<String>,
    #[serde(default)]
    pub exclude_users: Vec<String>,
    #[serde(default)]
    pub include_groups: Vec<String>,
    #[serde(default)]
    pub exclude_groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessLocations {
    #[serde(default)]
    pub include_locations: Vec<String>,
    #[serde(default)]
    pub exclude_locations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessConditions {
    pub applications: ConditionalAccessApplications,
    pub users: ConditionalAccessUsers,
    #[serde(default)]
    pub client_app_types: Vec<String>,
    /// Sent as `null` to clear the location condition.
    #[serde(default)]
    pub locations: Option<ConditionalAccessLocations>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessGrantControls {
    #[serde(default)]
    pub operator: Option<String>,
    #[serde(default)]
    pub built_in_controls: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessPolicy {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub display_name: String,
    pub state: String,
    pub conditions: ConditionalAccessConditions,
    /// Sent as `null` when the policy has no grant controls.
    #[serde(default)]
    pub grant_controls: Option<ConditionalAccessGrantControls>,
}

const POLICIES: &str = "/identity/conditionalAccess/policies";

impl GraphClient {
    pub async fn create_conditional_access_policy(
        &self,
        policy: &ConditionalAccessPolicy,
    ) -> Result<ConditionalAccessPolicy, GraphError> {
        let url = self.url(POLICIES, &[]);
        self.send_json_with(Replay::UnprocessedOnly, Method::POST, &url, Some(policy))
            .await
    }

    /// Every policy of the tenant, all pages.
    pub async fn list_conditional_access_policies(
        &self,
    ) -> Result<Vec<ConditionalAccessPolicy>, GraphError> {
        self.list_all(&self.url(POLICIES, &[])).await
    }

    pub async fn get_conditional_access_policy(
        &self,
        policy_id: &str,
    ) -> Result<ConditionalAccessPolicy, GraphError> {
        self.get(&self.url(&format!("{POLICIES}/{}", segment(policy_id)?), &[]))
            .await
    }

    /// Replaces the managed members (Graph PATCH merges complex values member by member).
    pub async fn update_conditional_access_policy(
        &self,
        policy_id: &str,
        policy: &ConditionalAccessPolicy,
    ) -> Result<(), GraphError> {
        let url = self.url(&format!("{POLICIES}/{}", segment(policy_id)?), &[]);
        self.send_no_content(Method::PATCH, &url, Some(policy))
            .await
    }

    pub async fn delete_conditional_access_policy(
        &self,
        policy_id: &str,
    ) -> Result<(), GraphError> {
        let url = self.url(&format!("{POLICIES}/{}", segment(policy_id)?), &[]);
        self.send_no_content::<()>(Method::DELETE, &url, None).await
    }
}
