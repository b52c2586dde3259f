//! Attribute mappings of a provisioning job: the User object mappings of the job's synchronization schema
//! (Graph's synchronizationSchema → synchronizationRule → objectMapping → attributeMapping). Writes are
//! read-modify-write: the schema is read, only the managed targets are changed, and everything else is PUT back
//! as Graph sent it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::clients::graph::GraphClient;
use crate::framework::{Diagnostic, Diagnostics};
use crate::helpers::graph_error;

/// Where a target's value comes from (attributeMappingSource `type`): an Entra user attribute, or an
/// expression of Entra's mapping functions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MappingSource {
    Attribute(String),
    Expression(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeMapping {
    pub target: String,
    pub source: MappingSource,
}

fn source_json(source: &MappingSource) -> Value {
    match source {
        MappingSource::Attribute(name) => {
            json!({"expression": format!("[{name}]"), "name": name, "parameters": [], "type": "Attribute"})
        }
        MappingSource::Expression(expression) => {
            let function = expression.split('(').next().unwrap_or_default().trim();
            json!({"expression": expression, "name": function, "parameters": [], "type": "Function"})
        }
    }
}

fn source_of(mapping: &Value) -> Option<MappingSource> {
    let source = &mapping["source"];
    match source["type"].as_str()? {
        "Attribute" => Some(MappingSource::Attribute(
            source["name"].as_str()?.to_string(),
        )),
        _ => Some(MappingSource::Expression(
            source["expression"].as_str()?.to_string(),
        )),
    }
}

/// The attribute mapping lists of every enabled-or-not User → User object mapping of the schema.
fn user_mapping_lists(schema: &mut Value) -> Vec<&mut Vec<Value>> {
    let Some(rules) = schema["synchronizationRules"].as_array_mut() else {
        return Vec::new();
    };
    rules
        .iter_mut()
        .filter_map(|rule| rule["objectMappings"].as_array_mut())
        .flatten()
        .filter(|mapping| {
            mapping["sourceObjectName"] == "User" && mapping["targetObjectName"] == "User"
        })
        .filter_map(|mapping| mapping["attributeMappings"].as_array_mut())
        .collect()
}

/// Sets `mappings` (a target mapped already keeps its flow settings and gets the new source; a new target is
/// added) and drops the `removed` targets, in every User object mapping. Errors when the schema has none.
pub fn apply_mappings(
    schema: &mut Value,
    mappings: &[AttributeMapping],
    removed: &[String],
) -> Result<(), String> {
    let lists = user_mapping_lists(schema);
    if lists.is_empty() {
        return Err("the job's schema has no User object mapping".into());
    }
    for list in lists {
        list.retain(|m| {
            !m["targetAttributeName"]
                .as_str()
                .is_some_and(|target| removed.iter().any(|r| r == target))
        });
        for mapping in mappings {
            let source = source_json(&mapping.source);
            match list
                .iter_mut()
                .find(|m| m["targetAttributeName"] == mapping.target.as_str())
            {
                Some(existing) => existing["source"] = source,
                None => list.push(json!({
                    "defaultValue": null, "exportMissingReferences": false, "flowBehavior": "FlowWhenChanged",
                    "flowType": "Always", "matchingPriority": 0, "source": source,
                    "targetAttributeName": mapping.target,
                })),
            }
        }
    }
    Ok(())
}

/// The User attribute mappings of the schema by target (the first User object mapping's, as the portal shows).
pub fn user_mappings(schema: &Value) -> BTreeMap<String, MappingSource> {
    let mut schema = schema.clone();
    user_mapping_lists(&mut schema)
        .into_iter()
        .next()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some((
                m["targetAttributeName"].as_str()?.to_string(),
                source_of(m)?,
            ))
        })
        .collect()
}

async fn read_schema(graph: &GraphClient, sp_id: &str, job_id: &str) -> Result<Value, Diagnostics> {
    graph
        .get_synchronization_schema(sp_id, job_id)
        .await
        .map_err(|e| graph_error("read the provisioning job's schema", &e).into())
}

/// The job's current User attribute mappings by target.
pub async fn read_user_mappings(
    graph: &GraphClient,
    sp_id: &str,
    job_id: &str,
) -> Result<BTreeMap<String, MappingSource>, Diagnostics> {
    Ok(user_mappings(&read_schema(graph, sp_id, job_id).await?))
}

/// Writes `mappings` and `removed` into the job's schema, keeping the rest of it; returns the User mappings
/// the schema holds afterwards.
pub async fn write_user_mappings(
    graph: &GraphClient,
    sp_id: &str,
    job_id: &str,
    mappings: &[AttributeMapping],
    removed: &[String],
) -> Result<BTreeMap<String, MappingSource>, Diagnostics> {
    let mut schema = read_schema(graph, sp_id, job_id).await?;
    if let Some(object) = schema.as_object_mut() {
        // Annotations are part of the answer, not of the entity.
        object.retain(|key, _| !key.starts_with('@'));
    }
    apply_mappings(&mut schema, mappings, removed).map_err(|reason| {
        Diagnostics::from(Diagnostic::error(
            "Cannot change the attribute mappings",
            format!("{reason}; check the provisioning job in the Entra admin center (Provisioning > Mappings)."),
        ))
    })?;
    graph
        .put_synchronization_schema(sp_id, job_id, &schema)
        .await
        .map_err(|e| graph_error("write the provisioning job's schema", &e))?;
    Ok(user_mappings(&schema))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COST_CENTER: &str =
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter";

    fn schema() -> Value {
        json!({"id": "job", "version": "v1", "synchronizationRules": [{"id": "r", "name": "USER_OUTBOUND_USER",
            "objectMappings": [
                {"sourceObjectName": "Group", "targetObjectName": "Group", "attributeMappings": [
                    {"targetAttributeName": "displayName", "source": {"type": "Attribute", "name": "displayName", "expression": "[displayName]"}}]},
                {"sourceObjectName": "User", "targetObjectName": "User", "attributeMappings": [
                    {"targetAttributeName": "userName", "flowType": "Always", "matchingPriority": 1,
                     "source": {"type": "Attribute", "name": "userPrincipalName", "expression": "[userPrincipalName]"}},
                    {"targetAttributeName": "phoneNumbers[type eq \"fax\"].value",
                     "source": {"type": "Attribute", "name": "facsimileTelephoneNumber", "expression": "[facsimileTelephoneNumber]"}}]}]}]})
    }

    #[test]
    fn mappings_are_added_replaced_and_removed_leaving_the_rest() {
        let mut schema = schema();
        let mappings = [
            AttributeMapping {
                target: COST_CENTER.into(),
                source: MappingSource::Attribute("employeeOrgData.costCenter".into()),
            },
            AttributeMapping {
                target: "userName".into(),
                source: MappingSource::Expression("ToLower([userPrincipalName], )".into()),
            },
        ];
        apply_mappings(
            &mut schema,
            &mappings,
            &["phoneNumbers[type eq \"fax\"].value".into()],
        )
        .unwrap();
        let users = &schema["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"];
        assert_eq!(users.as_array().unwrap().len(), 2);
        // The replaced mapping keeps its flow settings.
        assert_eq!(users[0]["matchingPriority"], 1);
        assert_eq!(users[0]["source"]["type"], "Function");
        assert_eq!(users[0]["source"]["name"], "ToLower");
        assert_eq!(users[1]["targetAttributeName"], COST_CENTER);
        assert_eq!(schema["version"], "v1");
        assert_eq!(
            schema["synchronizationRules"][0]["objectMappings"][0],
            self::schema()["synchronizationRules"][0]["objectMappings"][0]
        );
        let read = user_mappings(&schema);
        assert_eq!(
            read[COST_CENTER],
            MappingSource::Attribute("employeeOrgData.costCenter".into())
        );
        assert_eq!(
            read["userName"],
            MappingSource::Expression("ToLower([userPrincipalName], )".into())
        );
    }

    #[test]
    fn a_schema_without_user_mappings_is_an_error() {
        let mut schema = json!({"synchronizationRules": []});
        assert!(apply_mappings(&mut schema, &[], &[]).is_err());
    }
}
