//! SAML claims of an enterprise application, kept in a claims mapping policy assigned to its service principal:
//! the policy `definition` document (NameID and extra attributes) and the policy's lifecycle on the principal.

use std::collections::BTreeMap;

use crate::clients::graph::GraphClient;
use crate::clients::graph::models::{
    ClaimsMappingPolicy, ClaimsMappingPolicyPatch, ServicePrincipal,
};
use crate::framework::Diagnostics;
use crate::helpers::graph_error;
use crate::saml::nameid_formats;

const NAMEID_CLAIM: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier";
const POLICY_NAME_PREFIX: &str = "idbridge SAML claims for ";

/// A claim source as the claims mapping policy wants it: `user.<attribute>` → (`user`, attribute); anything
/// else is a constant value.
fn claim_entry(source: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut entry = serde_json::Map::new();
    match source.split_once('.') {
        Some(("user", attribute)) if !attribute.is_empty() => {
            entry.insert("Source".into(), "user".into());
            entry.insert("ID".into(), attribute.into());
        }
        _ => {
            entry.insert("Value".into(), source.into());
        }
    }
    entry
}

/// The SAML attribute AWS reads session tags from: `https://aws.amazon.com/SAML/Attributes/AccessControl:<key>`
/// (IAM Identity Center user guide, "Choose attributes in your identity source": passing attributes in the
/// SAML assertion, the alternative to the access control attributes of the instance and SCIM).
pub const ACCESS_CONTROL_CLAIM_PREFIX: &str =
    "https://aws.amazon.com/SAML/Attributes/AccessControl:";

/// The additional claims with one `AccessControl:<key>` claim per access control attribute (key → source).
pub fn with_access_control_claims(
    additional: &BTreeMap<String, String>,
    access_control: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut claims = additional.clone();
    for (key, source) in access_control {
        claims.insert(
            format!("{ACCESS_CONTROL_CLAIM_PREFIX}{key}"),
            source.clone(),
        );
    }
    claims
}

/// Splits parsed claims into (the other additional claims, the access control attributes by key).
pub fn split_access_control_claims(
    claims: BTreeMap<String, String>,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut access_control = BTreeMap::new();
    let mut others = BTreeMap::new();
    for (claim_type, source) in claims {
        match claim_type.strip_prefix(ACCESS_CONTROL_CLAIM_PREFIX) {
            Some(key) => {
                access_control.insert(key.to_string(), source);
            }
            None => {
                others.insert(claim_type, source);
            }
        }
    }
    (others, access_control)
}

/// The claims mapping policy `definition` document.
pub fn claims_definition(
    nameid_source: &str,
    nameid_format: &str,
    additional: &BTreeMap<String, String>,
) -> String {
    let mut schema = Vec::new();
    let mut nameid = claim_entry(nameid_source);
    nameid.insert("SamlClaimType".into(), NAMEID_CLAIM.into());
    nameid.insert("SamlNameIdFormat".into(), nameid_format.into());
    schema.push(serde_json::Value::Object(nameid));
    for (claim_type, source) in additional {
        let mut entry = claim_entry(source);
        entry.insert("SamlClaimType".into(), claim_type.as_str().into());
        schema.push(serde_json::Value::Object(entry));
    }
    serde_json::json!({
        "ClaimsMappingPolicy": {
            "Version": 1,
            "IncludeBasicClaimSet": "true",
            "ClaimsSchema": schema,
        }
    })
    .to_string()
}

/// Parses a policy definition back into (nameid source, nameid format, additional claims) for drift detection.
pub fn parse_claims_definition(
    definition: &str,
) -> Option<(String, String, BTreeMap<String, String>)> {
    let document: serde_json::Value = serde_json::from_str(definition).ok()?;
    let schema = document["ClaimsMappingPolicy"]["ClaimsSchema"].as_array()?;
    let source_of = |entry: &serde_json::Value| -> Option<String> {
        match (
            entry["Source"].as_str(),
            entry["ID"].as_str(),
            entry["Value"].as_str(),
        ) {
            (Some(source), Some(id), _) => Some(format!("{source}.{id}")),
            (_, _, Some(value)) => Some(value.to_string()),
            _ => None,
        }
    };
    let mut nameid = None;
    let mut additional = BTreeMap::new();
    for entry in schema {
        let claim_type = entry["SamlClaimType"].as_str()?;
        let source = source_of(entry)?;
        if claim_type == NAMEID_CLAIM {
            let format = entry["SamlNameIdFormat"]
                .as_str()
                .unwrap_or(nameid_formats::EMAIL_ADDRESS)
                .to_string();
            nameid = Some((source, format));
        } else {
            additional.insert(claim_type.to_string(), source);
        }
    }
    let (source, format) = nameid?;
    Some((source, format, additional))
}

/// The claims mapping policy this resource manages on the service principal, if assigned.
pub async fn assigned_policy(
    graph: &GraphClient,
    sp_id: &str,
) -> Result<Option<ClaimsMappingPolicy>, Diagnostics> {
    let policies = graph
        .read_after_write(|| graph.list_assigned_claims_mapping_policies(sp_id))
        .await
        .map_err(|e| graph_error("list the claims mapping policies", &e))?;
    Ok(policies.into_iter().next())
}

/// The display name of the policy this provider makes for the application with client id `app_id`. It is
/// decided before the policy is created, so it is the marker by which a policy whose create answer was lost
/// (Terraform killed, connection dropped) is found again by the next apply and by destroy.
pub fn policy_name(app_id: &str) -> String {
    format!("{POLICY_NAME_PREFIX}{app_id}")
}

/// Every claims mapping policy carrying this provider's marker for the application, assigned or not. Graph's
/// list has no documented `$filter` on `displayName` for policies, so the (short) tenant list is filtered here.
pub async fn policies_for_application(
    graph: &GraphClient,
    app_id: &str,
) -> Result<Vec<ClaimsMappingPolicy>, Diagnostics> {
    let name = policy_name(app_id);
    let all: Vec<ClaimsMappingPolicy> = graph
        .list_all(&graph.url("/policies/claimsMappingPolicies", &[]))
        .await
        .map_err(|e| graph_error("list the claims mapping policies", &e))?;
    Ok(all
        .into_iter()
        .filter(|policy| policy.display_name == name)
        .collect())
}

/// Creates or updates the claims mapping policy with `definition` and makes sure it is assigned; returns its id.
/// A policy of ours left unassigned (unassigned outside Terraform, or by an apply that stopped between create
/// and assign) is reused instead of making another, and any further leftovers are deleted.
pub async fn ensure_claims_policy(
    graph: &GraphClient,
    sp: &ServicePrincipal,
    definition: String,
) -> Result<String, Diagnostics> {
    let assigned = assigned_policy(graph, &sp.id).await?;
    let ours = policies_for_application(graph, &sp.app_id).await?;
    let kept = assigned.or_else(|| ours.first().cloned());
    let policy_id = match kept {
        Some(existing) => {
            if existing.definition.first() != Some(&definition) {
                let patch = ClaimsMappingPolicyPatch {
                    display_name: None,
                    definition: Some(vec![definition]),
                };
                graph
                    .read_after_write(|| graph.update_claims_mapping_policy(&existing.id, &patch))
                    .await
                    .map_err(|e| graph_error("update the claims mapping policy", &e))?;
            }
            existing.id
        }
        None => {
            graph
                .create_claims_mapping_policy(&ClaimsMappingPolicy {
                    id: String::new(),
                    display_name: policy_name(&sp.app_id),
                    definition: vec![definition],
                    is_organization_default: Some(false),
                })
                .await
                .map_err(|e| graph_error("create the claims mapping policy", &e))?
                .id
        }
    };
    if assigned_policy(graph, &sp.id).await?.map(|p| p.id) != Some(policy_id.clone()) {
        graph
            .read_after_write(|| graph.assign_claims_mapping_policy(&sp.id, &policy_id))
            .await
            .map_err(|e| graph_error("assign the claims mapping policy", &e))?;
    }
    // Listed again: a policy an interrupted apply created just before may not have been listed at the start
    // (replication lag), and must not survive as a second one.
    let now = policies_for_application(graph, &sp.app_id).await?;
    for leftover in ours
        .iter()
        .chain(&now)
        .filter(|policy| policy.id != policy_id)
    {
        delete_policy(graph, &leftover.id).await?;
    }
    Ok(policy_id)
}

/// Unassigns the policy from the service principal and deletes it, with every other policy of ours for the
/// application (an assigned policy is deleted even when it lacks our marker: the trust owned the claims).
pub async fn remove_claims_policies(
    graph: &GraphClient,
    sp: &ServicePrincipal,
) -> Result<(), Diagnostics> {
    let mut doomed = policies_for_application(graph, &sp.app_id).await?;
    // The service principal was just read: a 404 here means it was deleted meanwhile (its assignments with
    // it), not replication lag, so there is nothing to wait for.
    let assigned = match graph.list_assigned_claims_mapping_policies(&sp.id).await {
        Ok(policies) => policies.into_iter().next(),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(graph_error("list the claims mapping policies", &e).into()),
    };
    if let Some(policy) = assigned {
        match graph
            .unassign_claims_mapping_policy(&sp.id, &policy.id)
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(graph_error("unassign the claims mapping policy", &e).into()),
        }
        if doomed.iter().all(|p| p.id != policy.id) {
            doomed.push(policy);
        }
    }
    for policy in &doomed {
        delete_policy(graph, &policy.id).await?;
    }
    Ok(())
}

/// Deletes every policy of ours for the application with `app_id`, for a destroy whose service principal is gone.
pub async fn delete_policies_for_application(
    graph: &GraphClient,
    app_id: &str,
) -> Result<(), Diagnostics> {
    for policy in policies_for_application(graph, app_id).await? {
        delete_policy(graph, &policy.id).await?;
    }
    Ok(())
}

async fn delete_policy(graph: &GraphClient, policy_id: &str) -> Result<(), Diagnostics> {
    match graph.delete_claims_mapping_policy(policy_id).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(graph_error("delete the claims mapping policy", &e).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_control_attributes_travel_as_access_control_claims() {
        let additional = BTreeMap::from([("urn:x".to_string(), "user.mail".to_string())]);
        let access_control = BTreeMap::from([(
            "CostCenter".to_string(),
            "user.employeeorgdata.costcenter".to_string(),
        )]);
        let claims = with_access_control_claims(&additional, &access_control);
        assert_eq!(
            claims["https://aws.amazon.com/SAML/Attributes/AccessControl:CostCenter"],
            "user.employeeorgdata.costcenter"
        );
        assert_eq!(
            split_access_control_claims(claims),
            (additional, access_control)
        );
    }

    #[test]
    fn claims_definition_round_trips_nameid_and_additional_claims() {
        let additional = BTreeMap::from([
            (
                "https://aws.amazon.com/SAML/Attributes/SessionDuration".to_string(),
                "28800".to_string(),
            ),
            (
                "https://aws.amazon.com/SAML/Attributes/RoleSessionName".to_string(),
                "user.mail".to_string(),
            ),
        ]);
        let definition = claims_definition(
            "user.userprincipalname",
            nameid_formats::EMAIL_ADDRESS,
            &additional,
        );
        let document: serde_json::Value = serde_json::from_str(&definition).unwrap();
        let schema = document["ClaimsMappingPolicy"]["ClaimsSchema"]
            .as_array()
            .unwrap();
        assert_eq!(schema[0]["ID"], "userprincipalname");
        assert_eq!(schema[0]["SamlClaimType"], NAMEID_CLAIM);
        assert!(schema.iter().any(|c| c["Value"] == "28800"));
        let (source, format, parsed) = parse_claims_definition(&definition).unwrap();
        assert_eq!(source, "user.userprincipalname");
        assert_eq!(format, nameid_formats::EMAIL_ADDRESS);
        assert_eq!(parsed, additional);
    }
}
