//! AWS Organizations reads: the accounts and organizational units under a parent, every account of the
//! organization, and an account's tags. Paged at the largest page the API allows, and sent through the same
//! limiter and retry loop as the Identity Center calls (the SDK's own retries are disabled for the same reason,
//! see [`retry`](super::retry)). Organizations can only be read from the management account or a delegated
//! administrator; any other caller gets `AccessDeniedException` or `AWSOrganizationsNotInUseException`.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_organizations::types as org;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;

use super::error::{AwsError, Error};
use super::limits::ServiceLimits;
use super::retry::{self, Conflicts, Deadline, RetryPolicy, collect_pages};

/// The largest `MaxResults` the Organizations list operations accept (service model: 1..20).
const PAGE_SIZE: i32 = 20;

/// One account of the organization, as far as targeting needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganizationAccount {
    pub id: String,
    pub name: Option<String>,
    /// `State` (`ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, …), else the older `Status`.
    pub state: String,
    /// Where the account sits: `o-…/r-…/ou-…/…/<account id>/` (`Account.Paths`), one per location. Empty in
    /// responses from before Organizations returned paths.
    pub paths: Vec<String>,
}

impl OrganizationAccount {
    /// Only active accounts can be signed in to, so only they are assignment targets.
    pub fn is_active(&self) -> bool {
        self.state == "ACTIVE"
    }

    /// Whether `parent_id` (a root or OU) is a segment of one of the account's paths.
    pub fn is_under(&self, parent_id: &str) -> bool {
        self.paths
            .iter()
            .any(|path| path.split('/').any(|segment| segment == parent_id))
    }

    fn from_sdk(account: &org::Account) -> Option<Self> {
        // The model's doc retires `Status` (September 2026) in favour of `State`.
        let state = account
            .state()
            .map(|s| s.as_str().to_owned())
            .or_else(|| account.status().map(|s| s.as_str().to_owned()))
            .unwrap_or_default();
        Some(Self {
            id: account.id()?.to_owned(),
            name: account.name().map(str::to_owned),
            state,
            paths: account.paths().to_vec(),
        })
    }
}

/// The Organizations client and the limits it shares with the Identity Center clients.
pub struct Organizations {
    client: aws_sdk_organizations::Client,
    limits: Arc<ServiceLimits>,
    retry: RetryPolicy,
}

impl Organizations {
    pub fn new(config: &SdkConfig, limits: Arc<ServiceLimits>, retry: RetryPolicy) -> Self {
        let conf = aws_sdk_organizations::config::Builder::from(config)
            .retry_config(RetryConfig::disabled())
            .build();
        Self {
            client: aws_sdk_organizations::Client::from_conf(conf),
            limits,
            retry,
        }
    }

    async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        deadline: Deadline,
        mut send: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        retry::run(
            &self.limits,
            &self.retry,
            operation,
            Conflicts::Fail,
            deadline,
            || {
                let request = send();
                async move { request.await.map_err(|e| AwsError::from_sdk(operation, e)) }
            },
        )
        .await
    }

    /// Every account of the organization (`ListAccounts`, all pages).
    pub async fn list_accounts(
        &self,
        deadline: Deadline,
    ) -> Result<Vec<OrganizationAccount>, Error> {
        collect_pages(|token| async move {
            let page = self
                .call("ListAccounts", deadline, || {
                    self.client
                        .list_accounts()
                        .max_results(PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            let accounts = page
                .accounts()
                .iter()
                .filter_map(OrganizationAccount::from_sdk)
                .collect();
            Ok((accounts, page.next_token().map(str::to_owned)))
        })
        .await
    }

    /// The accounts directly under a root or OU (`ListAccountsForParent`, all pages).
    pub async fn list_accounts_for_parent(
        &self,
        parent_id: &str,
        deadline: Deadline,
    ) -> Result<Vec<OrganizationAccount>, Error> {
        collect_pages(|token| async move {
            let page = self
                .call("ListAccountsForParent", deadline, || {
                    self.client
                        .list_accounts_for_parent()
                        .parent_id(parent_id)
                        .max_results(PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            let accounts = page
                .accounts()
                .iter()
                .filter_map(OrganizationAccount::from_sdk)
                .collect();
            Ok((accounts, page.next_token().map(str::to_owned)))
        })
        .await
    }

    /// The ids of the OUs directly under a root or OU (`ListOrganizationalUnitsForParent`, all pages).
    pub async fn list_organizational_units_for_parent(
        &self,
        parent_id: &str,
        deadline: Deadline,
    ) -> Result<Vec<String>, Error> {
        collect_pages(|token| async move {
            let page = self
                .call("ListOrganizationalUnitsForParent", deadline, || {
                    self.client
                        .list_organizational_units_for_parent()
                        .parent_id(parent_id)
                        .max_results(PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            let ids = page
                .organizational_units()
                .iter()
                .filter_map(|ou| ou.id().map(str::to_owned))
                .collect();
            Ok((ids, page.next_token().map(str::to_owned)))
        })
        .await
    }

    /// Whether an OU exists (`DescribeOrganizationalUnit`); `OrganizationalUnitNotFoundException` when not.
    pub async fn describe_organizational_unit(
        &self,
        organizational_unit_id: &str,
        deadline: Deadline,
    ) -> Result<(), Error> {
        self.call("DescribeOrganizationalUnit", deadline, || {
            self.client
                .describe_organizational_unit()
                .organizational_unit_id(organizational_unit_id)
                .send()
        })
        .await
        .map(|_| ())
    }

    /// An account's tags (`ListTagsForResource`, all pages).
    pub async fn account_tags(
        &self,
        account_id: &str,
        deadline: Deadline,
    ) -> Result<BTreeMap<String, String>, Error> {
        let pairs = collect_pages(|token| async move {
            let page = self
                .call("ListTagsForResource", deadline, || {
                    self.client
                        .list_tags_for_resource()
                        .resource_id(account_id)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            let tags = page
                .tags()
                .iter()
                .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
                .collect::<Vec<_>>();
            Ok((tags, page.next_token().map(str::to_owned)))
        })
        .await?;
        Ok(pairs.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_wins_over_the_older_status() {
        let account = org::Account::builder()
            .id("111111111111")
            .status(org::AccountStatus::Suspended)
            .state(org::AccountState::Active)
            .build();
        let parsed = OrganizationAccount::from_sdk(&account).unwrap();
        assert!(parsed.is_active());
        let suspended = org::Account::builder()
            .id("222222222222")
            .status(org::AccountStatus::Suspended)
            .build();
        assert!(
            !OrganizationAccount::from_sdk(&suspended)
                .unwrap()
                .is_active()
        );
        assert_eq!(
            OrganizationAccount::from_sdk(&org::Account::builder().build()),
            None
        );
    }

    #[test]
    fn an_account_is_under_every_segment_of_its_paths() {
        // Shape of `Path` in the organizations 2016-11-28 model: o-…/r-…(/ou-…)*(/<12 digits>)*/
        let account = org::Account::builder()
            .id("333333333333")
            .state(org::AccountState::Active)
            .paths("o-abcdefghij/r-ab12/ou-ab12-11111111/ou-ab12-22222222/333333333333/")
            .build();
        let parsed = OrganizationAccount::from_sdk(&account).unwrap();
        assert!(parsed.is_under("ou-ab12-11111111"));
        assert!(parsed.is_under("ou-ab12-22222222"));
        assert!(parsed.is_under("r-ab12"));
        assert!(!parsed.is_under("ou-ab12-1111111"));
        assert!(!parsed.is_under("ou-ab12-33333333"));
    }
}
