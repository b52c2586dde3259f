//! AWS Organizations: moto is the store and answers every operation; the proxy adds `Account.Paths`, which
//! moto 5.2.5 does not return. The organizations 2016-11-28 model gives `Account` a `Paths` member (list of
//! `Path`, pattern `o-…/r-…(/ou-…)*(/<12 digits>)*/`) in the answers of ListAccounts, ListAccountsForParent
//! and DescribeAccount. The proxy computes each path from moto's own tree (DescribeOrganization, then
//! ListParents from the account up to its root); those calls go straight to moto, so they are neither
//! counted in `/_proxy/stats` nor paced.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::json::AwsError;
use super::{Proxy, Service};

/// Answers one Organizations operation through moto, with paths added where the model has them.
pub(super) async fn dispatch(
    proxy: &Proxy,
    operation: &str,
    input: Value,
) -> Result<Value, AwsError> {
    let mut answer = proxy
        .moto(Service::Organizations, operation, &input)
        .await?;
    let accounts: Vec<&mut Value> = match operation {
        "ListAccounts" | "ListAccountsForParent" => answer
            .get_mut("Accounts")
            .and_then(Value::as_array_mut)
            .map(|accounts| accounts.iter_mut().collect())
            .unwrap_or_default(),
        "DescribeAccount" => answer.get_mut("Account").into_iter().collect(),
        _ => Vec::new(),
    };
    // Only what moto leaves out: a later moto that returns paths is passed through.
    let missing: Vec<&mut Value> = accounts
        .into_iter()
        .filter(|account| account.get("Paths").is_none())
        .collect();
    if !missing.is_empty() {
        add_paths(proxy, missing).await?;
    }
    Ok(answer)
}

async fn add_paths(proxy: &Proxy, accounts: Vec<&mut Value>) -> Result<(), AwsError> {
    let organization = proxy
        .moto(Service::Organizations, "DescribeOrganization", &json!({}))
        .await?;
    let organization_id = organization["Organization"]["Id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // Each OU's chain of ancestors (root first, the OU last), looked up once per answer.
    let mut chains: HashMap<String, Vec<String>> = HashMap::new();
    for account in accounts {
        let Some(account_id) = account["Id"].as_str().map(str::to_owned) else {
            continue;
        };
        let parent = parent_of(proxy, &account_id).await?;
        let mut chain = ancestors(proxy, &mut chains, parent).await?;
        chain.push(account_id);
        let path = format!("{organization_id}/{}/", chain.join("/"));
        account["Paths"] = json!([path]);
    }
    Ok(())
}

/// The chain from the root down to `parent` (a root or OU id).
async fn ancestors(
    proxy: &Proxy,
    chains: &mut HashMap<String, Vec<String>>,
    parent: Option<(String, bool)>,
) -> Result<Vec<String>, AwsError> {
    let mut upward = Vec::new();
    let mut current = parent;
    let mut known_above = Vec::new();
    while let Some((id, is_root)) = current {
        if let Some(chain) = chains.get(&id) {
            known_above = chain.clone();
            break;
        }
        upward.push(id.clone());
        current = if is_root {
            None
        } else {
            parent_of(proxy, &id).await?
        };
    }
    // Fill the memo for every OU met on the way up, from the highest down.
    let mut chain = known_above;
    for id in upward.into_iter().rev() {
        chain.push(id.clone());
        chains.insert(id, chain.clone());
    }
    Ok(chain)
}

/// A child's parent id and whether it is a root (`ListParents`: one parent, type `ROOT` or
/// `ORGANIZATIONAL_UNIT`).
async fn parent_of(proxy: &Proxy, child_id: &str) -> Result<Option<(String, bool)>, AwsError> {
    let answer = proxy
        .moto(
            Service::Organizations,
            "ListParents",
            &json!({ "ChildId": child_id }),
        )
        .await?;
    Ok(answer["Parents"]
        .as_array()
        .and_then(|parents| parents.first())
        .and_then(|parent| {
            let id = parent["Id"].as_str()?.to_owned();
            Some((id, parent["Type"] == "ROOT"))
        }))
}
