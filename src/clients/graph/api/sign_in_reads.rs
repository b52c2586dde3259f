//! The reads a sign-in preview needs: a user with the attributes claims and provisioning use, a group's member
//! ids, and the attribute mappings of a provisioning job's schema.

use serde::Deserialize;

use super::super::client::{GraphClient, GraphError};
use super::segment;

/// One attribute mapping of a synchronization object mapping (`attributeMapping` in the v1.0 CSDL).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AttributeMapping {
    #[serde(default)]
    pub target_attribute_name: String,
    #[serde(default)]
    pub source: Option<AttributeMappingSource>,
}

/// `attributeMappingSource`: `type` is `Attribute`, `Constant` or `Function`; `name` is the source attribute of
/// an `Attribute`, `expression` the text an admin sees in the portal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AttributeMappingSource {
    #[serde(default)]
    pub expression: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectMappingWithAttributes {
    #[serde(default)]
    source_object_name: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    attribute_mappings: Vec<AttributeMapping>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleWithAttributes {
    #[serde(default)]
    object_mappings: Vec<ObjectMappingWithAttributes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaWithAttributes {
    #[serde(default)]
    synchronization_rules: Vec<RuleWithAttributes>,
}

#[derive(Deserialize)]
struct DirectoryObjectId {
    id: String,
}

impl GraphClient {
    /// A user as a JSON object with the properties named in `select` (Graph returns only a default set
    /// without `$select`); `None` when no user has that object id or user principal name.
    pub async fn find_user_with(
        &self,
        object_id: Option<&str>,
        user_principal_name: Option<&str>,
        select: &[String],
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, GraphError> {
        let select = select.join(",");
        if let Some(id) = object_id {
            let url = self.url(&format!("/users/{}", segment(id)?), &[("$select", &select)]);
            return match self.get(&url).await {
                Ok(user) => Ok(Some(user)),
                Err(error) if error.is_not_found() => Ok(None),
                Err(error) => Err(error),
            };
        }
        let Some(upn) = user_principal_name else {
            return Ok(None);
        };
        let filter = format!("userPrincipalName eq {}", super::odata_string(upn));
        let url = self.url("/users", &[("$filter", &filter), ("$select", &select)]);
        let mut found: Vec<serde_json::Map<String, serde_json::Value>> =
            self.list_all(&url).await?;
        Ok(if found.is_empty() {
            None
        } else {
            Some(found.swap_remove(0))
        })
    }

    /// Object ids of a group's direct members (users, groups and other objects).
    pub async fn list_group_member_ids(&self, group_id: &str) -> Result<Vec<String>, GraphError> {
        let url = self.url(
            &format!("/groups/{}/members", segment(group_id)?),
            &[("$select", "id")],
        );
        let members: Vec<DirectoryObjectId> = self.list_all(&url).await?;
        Ok(members.into_iter().map(|m| m.id).collect())
    }

    /// The attribute mappings of the enabled object mapping whose source is `source_object` (e.g. `User`) in a
    /// job's schema (`GET …/jobs/{id}/schema`).
    pub async fn list_attribute_mappings(
        &self,
        service_principal_id: &str,
        job_id: &str,
        source_object: &str,
    ) -> Result<Vec<AttributeMapping>, GraphError> {
        let url = self.url(
            &format!(
                "/servicePrincipals/{}/synchronization/jobs/{}/schema",
                segment(service_principal_id)?,
                segment(job_id)?
            ),
            &[],
        );
        let schema: SchemaWithAttributes = self.get(&url).await?;
        Ok(schema
            .synchronization_rules
            .into_iter()
            .flat_map(|rule| rule.object_mappings)
            .find(|mapping| {
                mapping.enabled != Some(false)
                    && mapping
                        .source_object_name
                        .as_deref()
                        .is_some_and(|name| name.eq_ignore_ascii_case(source_object))
            })
            .map(|mapping| mapping.attribute_mappings)
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::clients::graph::test_support::*;

    #[tokio::test]
    async fn the_attribute_mappings_are_those_of_the_user_object_mapping() {
        let server = MockServer::start().await;
        let mapping = |source: &str, target: &str| {
            json!({"source": {"expression": format!("[{source}]"), "name": source, "type": "Attribute"},
                   "targetAttributeName": target})
        };
        server.on(
            "GET",
            "/v1.0/servicePrincipals/sp/synchronization/jobs/job/schema",
            vec![Canned::json(
                200,
                json!({"synchronizationRules": [{"id": "r", "objectMappings": [
                    {"sourceObjectName": "Group", "enabled": true,
                     "attributeMappings": [mapping("displayName", "displayName")]},
                    {"sourceObjectName": "User", "enabled": true,
                     "attributeMappings": [mapping("mail", "userName")]}
                ]}]}),
            )],
        );
        let mappings = server
            .client()
            .list_attribute_mappings("sp", "job", "User")
            .await
            .unwrap();
        assert_eq!(mappings.len(), 1);
        assert_eq!(mappings[0].target_attribute_name, "userName");
        let source = mappings[0].source.as_ref().unwrap();
        assert_eq!(
            (source.name.as_deref(), source.kind.as_deref()),
            (Some("mail"), Some("Attribute"))
        );
    }

    #[tokio::test]
    async fn a_user_is_found_by_principal_name_with_the_properties_selected() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            "/v1.0/users",
            vec![Canned::json(
                200,
                json!({"value": [{"id": "u1", "department": "Engineering"}]}),
            )],
        );
        let select = ["id".to_string(), "department".to_string()];
        let user = server
            .client()
            .find_user_with(None, Some("o'brien@contoso.example"), &select)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user["department"], "Engineering");
        let request = &server.requests_to("GET", "/v1.0/users")[0];
        assert_eq!(
            request.query_param("$filter").as_deref(),
            Some("userPrincipalName eq 'o''brien@contoso.example'")
        );
        assert_eq!(
            request.query_param("$select").as_deref(),
            Some("id,department")
        );
    }
}
