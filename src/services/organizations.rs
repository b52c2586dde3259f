//! Which AWS accounts an assignment targets when it names organizational units, the root or account tags:
//! every ACTIVE account under the OUs (recursively; a root means every account of the organization), every
//! ACTIVE account whose tags include all the wanted ones, plus the explicit account ids, minus the exclusions.
//!
//! The organization is read once per configured provider and run ([`OrganizationCache`]): one paged
//! `ListAccounts`, whose accounts carry their `Paths` (`o-…/r-…/ou-…/…/<account>/`), answers every OU and root
//! target however many resources name them; each account's tags are read once, and only for `account_tags`.
//! A plan of many assignments over one OU tree therefore costs one page per 20 accounts, not a walk per OU
//! (the walk remains for responses without paths).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::clients::aws::{Deadline, Error as AwsClientError, OrganizationAccount, Organizations};
use crate::framework::model::{Attr, Set};
use crate::framework::{AttributePath, Context, Diagnostics};
use crate::helpers::{is_root_id, organizations_error};

use super::cache::SingleFlight;

/// What an assignment resource names as its accounts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountTargets {
    pub account_ids: BTreeSet<String>,
    pub organizational_unit_ids: BTreeSet<String>,
    pub account_tags: BTreeMap<String, String>,
    pub exclude_account_ids: BTreeSet<String>,
}

/// A set attribute's known elements; `None` while it is unknown or has an unknown element, empty when null.
fn known_strings(attr: &Attr<Set<Attr<String>>>) -> Option<BTreeSet<String>> {
    match attr {
        Attr::Null => Some(BTreeSet::new()),
        _ => Some(attr.wholly_known()?.into_iter().cloned().collect()),
    }
}

impl AccountTargets {
    /// The targets from a resource's attributes, or `None` while any of them is not known yet.
    pub fn from_attributes(
        account_ids: &Attr<Set<Attr<String>>>,
        organizational_unit_ids: &Attr<Set<Attr<String>>>,
        account_tags: &Attr<BTreeMap<String, String>>,
        exclude_account_ids: &Attr<Set<Attr<String>>>,
    ) -> Option<Self> {
        let account_tags = match account_tags {
            Attr::Null => BTreeMap::new(),
            other => other.known()?.clone(),
        };
        Some(Self {
            account_ids: known_strings(account_ids)?,
            organizational_unit_ids: known_strings(organizational_unit_ids)?,
            account_tags,
            exclude_account_ids: known_strings(exclude_account_ids)?,
        })
    }

    /// Whether resolving needs AWS Organizations (OUs, a root or tags); plain account ids never call it.
    pub fn needs_organization(&self) -> bool {
        !self.organizational_unit_ids.is_empty() || !self.account_tags.is_empty()
    }

    /// The account ids alone, minus the exclusions: the whole answer when no organization read is needed.
    pub fn explicit(&self) -> BTreeSet<String> {
        self.account_ids
            .difference(&self.exclude_account_ids)
            .cloned()
            .collect()
    }

    /// The targets in words, for the warning when they resolve to no account.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.organizational_unit_ids.is_empty() {
            let ids: Vec<&str> = self
                .organizational_unit_ids
                .iter()
                .map(String::as_str)
                .collect();
            parts.push(format!("organizational_unit_ids {}", ids.join(", ")));
        }
        if !self.account_tags.is_empty() {
            let tags: Vec<String> = self
                .account_tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            parts.push(format!("account_tags {}", tags.join(", ")));
        }
        if !self.account_ids.is_empty() {
            let ids: Vec<&str> = self.account_ids.iter().map(String::as_str).collect();
            parts.push(format!("account_ids {}", ids.join(", ")));
        }
        if !self.exclude_account_ids.is_empty() {
            let ids: Vec<&str> = self
                .exclude_account_ids
                .iter()
                .map(String::as_str)
                .collect();
            parts.push(format!("minus exclude_account_ids {}", ids.join(", ")));
        }
        parts.join("; ")
    }
}

/// What one parent (root or OU) holds directly.
#[derive(Debug)]
struct Children {
    organizational_unit_ids: Vec<String>,
    accounts: Vec<OrganizationAccount>,
}

/// The organization as read during one run of one configured provider.
#[derive(Default)]
pub struct OrganizationCache {
    accounts: SingleFlight<(), Arc<Vec<OrganizationAccount>>>,
    children: SingleFlight<String, Arc<Children>>,
    tags: SingleFlight<String, Arc<BTreeMap<String, String>>>,
    /// OUs that matched no account, checked to exist once.
    organizational_units: SingleFlight<String, ()>,
}

impl OrganizationCache {
    async fn all_accounts(
        &self,
        organizations: &Organizations,
        deadline: Deadline,
    ) -> Result<Arc<Vec<OrganizationAccount>>, AwsClientError> {
        self.accounts
            .get_or_try_init((), || async {
                organizations.list_accounts(deadline).await.map(Arc::new)
            })
            .await
    }

    async fn children(
        &self,
        organizations: &Organizations,
        parent_id: &str,
        deadline: Deadline,
    ) -> Result<Arc<Children>, AwsClientError> {
        self.children
            .get_or_try_init(parent_id.to_owned(), || async {
                let (organizational_unit_ids, accounts) = futures_util::future::try_join(
                    organizations.list_organizational_units_for_parent(parent_id, deadline),
                    organizations.list_accounts_for_parent(parent_id, deadline),
                )
                .await?;
                Ok(Arc::new(Children {
                    organizational_unit_ids,
                    accounts,
                }))
            })
            .await
    }

    async fn tags(
        &self,
        organizations: &Organizations,
        account_id: &str,
        deadline: Deadline,
    ) -> Result<Arc<BTreeMap<String, String>>, AwsClientError> {
        self.tags
            .get_or_try_init(account_id.to_owned(), || async {
                organizations
                    .account_tags(account_id, deadline)
                    .await
                    .map(Arc::new)
            })
            .await
    }

    /// Every ACTIVE account under `parent_id`, at any depth, from the one listing of the organization's
    /// accounts: each account's `Paths` names every OU above it, and a root holds every account.
    async fn active_accounts_under(
        &self,
        organizations: &Organizations,
        parent_id: &str,
        deadline: Deadline,
    ) -> Result<BTreeSet<String>, AwsClientError> {
        let accounts = self.all_accounts(organizations, deadline).await?;
        if is_root_id(parent_id) {
            return Ok(active_ids(accounts.iter()));
        }
        let Some(found) = active_under_by_paths(&accounts, parent_id) else {
            return self
                .walk_active_accounts_under(organizations, parent_id, deadline)
                .await;
        };
        if found.is_empty() {
            // No path names the OU: an empty OU, or one that is not in the organization, which must be an
            // error rather than a warning. Only this case costs a call.
            self.organizational_units
                .get_or_try_init(parent_id.to_owned(), || async {
                    organizations
                        .describe_organizational_unit(parent_id, deadline)
                        .await
                })
                .await?;
        }
        Ok(found)
    }

    /// Every ACTIVE account under the OU `parent_id` by listing its children level by level.
    async fn walk_active_accounts_under(
        &self,
        organizations: &Organizations,
        parent_id: &str,
        deadline: Deadline,
    ) -> Result<BTreeSet<String>, AwsClientError> {
        let mut found = BTreeSet::new();
        let mut level = vec![parent_id.to_owned()];
        // Each level's OUs listed concurrently (the limiter paces them).
        while !level.is_empty() {
            let listed = futures_util::future::try_join_all(
                level
                    .iter()
                    .map(|ou| self.children(organizations, ou, deadline)),
            )
            .await?;
            level = Vec::new();
            for children in listed {
                found.extend(active_ids(children.accounts.iter()));
                level.extend(children.organizational_unit_ids.iter().cloned());
            }
        }
        Ok(found)
    }

    /// The ACTIVE accounts whose tags include every one of `wanted`.
    async fn active_accounts_tagged(
        &self,
        organizations: &Organizations,
        wanted: &BTreeMap<String, String>,
        deadline: Deadline,
    ) -> Result<BTreeSet<String>, AwsClientError> {
        let accounts = self.all_accounts(organizations, deadline).await?;
        let active: Vec<&OrganizationAccount> = accounts.iter().filter(|a| a.is_active()).collect();
        let tagged = futures_util::future::try_join_all(active.iter().map(|account| async {
            let tags = self.tags(organizations, &account.id, deadline).await?;
            let matches = wanted.iter().all(|(k, v)| tags.get(k) == Some(v));
            Ok::<_, AwsClientError>(matches.then(|| account.id.clone()))
        }))
        .await?;
        Ok(tagged.into_iter().flatten().collect())
    }

    /// The account ids `targets` stand for.
    pub async fn resolve(
        &self,
        organizations: &Organizations,
        targets: &AccountTargets,
        deadline: Deadline,
    ) -> Result<BTreeSet<String>, AwsClientError> {
        let mut resolved = targets.account_ids.clone();
        for ou in &targets.organizational_unit_ids {
            resolved.extend(
                self.active_accounts_under(organizations, ou, deadline)
                    .await?,
            );
        }
        if !targets.account_tags.is_empty() {
            resolved.extend(
                self.active_accounts_tagged(organizations, &targets.account_tags, deadline)
                    .await?,
            );
        }
        resolved.retain(|id| !targets.exclude_account_ids.contains(id));
        Ok(resolved)
    }
}

/// The ACTIVE accounts with `parent_id` in one of their paths; `None` when some account has no paths (older
/// responses), which only a walk of the tree can answer.
fn active_under_by_paths(
    accounts: &[OrganizationAccount],
    parent_id: &str,
) -> Option<BTreeSet<String>> {
    if accounts.iter().any(|a| a.paths.is_empty()) {
        return None;
    }
    Some(active_ids(
        accounts.iter().filter(|a| a.is_under(parent_id)),
    ))
}

fn active_ids<'a>(accounts: impl Iterator<Item = &'a OrganizationAccount>) -> BTreeSet<String> {
    accounts
        .filter(|a| a.is_active())
        .map(|a| a.id.clone())
        .collect()
}

/// Resolves `targets` through the configured provider's cache; a failure is an error at the attribute that
/// needed the organization. When they resolve to nothing, warns naming them.
pub async fn resolve_account_targets(
    ctx: &Context,
    targets: &AccountTargets,
    deadline: Deadline,
) -> Result<BTreeSet<String>, Diagnostics> {
    if !targets.needs_organization() {
        return Ok(targets.explicit());
    }
    let clients = super::IdbridgeClients::from_context(ctx)?;
    let identity_center = clients.identity_center().await?;
    let path = if targets.organizational_unit_ids.is_empty() {
        "account_tags"
    } else {
        "organizational_unit_ids"
    };
    let resolved = ctx
        .guard(async {
            // Boxed: the walk's futures nest deeply, and callers nest this one further.
            Box::pin(clients.caches().organization.resolve(
                identity_center.organizations(),
                targets,
                deadline,
            ))
            .await
            .map_err(|e| organizations_error(&e).at(AttributePath::new(path)).into())
        })
        .await?;
    if resolved.is_empty() {
        ctx.add_diagnostic(
            crate::framework::Diagnostic::warning(
                "The targets resolve to no AWS account",
                format!(
                    "{} match no ACTIVE account of the organization, so nothing is assigned. Check the ids \
                     and tags; the assignment follows the organization, so accounts that join later are \
                     assigned by the next apply.",
                    crate::helpers::sentence(&targets.describe()).trim_end_matches('.')
                ),
            )
            .at(AttributePath::new(path)),
        );
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_account_ids_need_no_organization_and_lose_their_exclusions() {
        let targets = AccountTargets {
            account_ids: ["111111111111".to_string(), "222222222222".to_string()].into(),
            exclude_account_ids: ["222222222222".to_string()].into(),
            ..Default::default()
        };
        assert!(!targets.needs_organization());
        assert_eq!(targets.explicit(), ["111111111111".to_string()].into());
        let with_ou = AccountTargets {
            organizational_unit_ids: ["ou-ab12-cdefgh34".to_string()].into(),
            ..targets.clone()
        };
        assert!(with_ou.needs_organization());
        assert_eq!(
            with_ou.describe(),
            "organizational_unit_ids ou-ab12-cdefgh34; account_ids 111111111111, 222222222222; minus \
             exclude_account_ids 222222222222"
        );
    }

    fn account(id: &str, state: &str, paths: &[&str]) -> OrganizationAccount {
        OrganizationAccount {
            id: id.into(),
            name: None,
            state: state.into(),
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn ous_resolve_from_paths_at_any_depth_and_only_active_accounts() {
        const ORG: &str = "o-abcdefghij/r-ab12";
        let accounts = [
            account(
                "111111111111",
                "ACTIVE",
                &[&format!("{ORG}/ou-ab12-11111111/111111111111/")],
            ),
            account(
                "222222222222",
                "ACTIVE",
                &[&format!(
                    "{ORG}/ou-ab12-11111111/ou-ab12-22222222/222222222222/"
                )],
            ),
            account(
                "333333333333",
                "SUSPENDED",
                &[&format!("{ORG}/ou-ab12-11111111/333333333333/")],
            ),
            account("444444444444", "ACTIVE", &[&format!("{ORG}/444444444444/")]),
        ];
        let ids = |ids: &[&str]| Some(ids.iter().map(|id| id.to_string()).collect());
        assert_eq!(
            active_under_by_paths(&accounts, "ou-ab12-11111111"),
            ids(&["111111111111", "222222222222"])
        );
        assert_eq!(
            active_under_by_paths(&accounts, "ou-ab12-22222222"),
            ids(&["222222222222"])
        );
        assert_eq!(
            active_under_by_paths(&accounts, "ou-ab12-99999999"),
            ids(&[])
        );
        // One account without paths (an older answer): the tree must be walked.
        let mut older = accounts.to_vec();
        older.push(account("555555555555", "ACTIVE", &[]));
        assert_eq!(active_under_by_paths(&older, "ou-ab12-11111111"), None);
    }
}
