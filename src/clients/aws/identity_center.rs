//! Typed wrappers over the sso-admin calls for instances and permission sets. Every call goes through the
//! process-wide limiter and our retry loop; results are our own structs.

use std::collections::{BTreeMap, HashMap};
use std::error::Error as StdError;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_ssoadmin::types as sso;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;

use super::assignments::{
    AssignmentCache, AssignmentEngine, AssignmentTarget, AsyncOperation, SdkAssignmentApi,
    async_operation,
};
use super::error::{AwsError, Error, ErrorKind};
use super::limits::ServiceLimits;
use super::organizations::Organizations;
use super::retry::{
    self, Conflicts, Deadline, PollPolicy, RetryPolicy, collect_pages, wait_until_terminal,
};

/// Page size for list calls; 100 is the largest MaxResults the sso-admin list operations accept.
pub(crate) const PAGE_SIZE: i32 = 100;
/// Conflicting DeletePermissionSet rounds while assignments are still listed before giving up on them.
const ASSIGNED_CONFLICT_ROUNDS: u32 = 4;
/// AWS's default session duration, sent explicitly so that every backend stores the same ISO 8601 value
/// (moto otherwise answers the integer 3600, which is not the documented string type).
pub const DEFAULT_SESSION_DURATION: &str = "PT1H";
/// How long batched assignment reads are reused within one provider process (one Terraform command): longer
/// than the refresh of thousands of assignments (50 s for 5,000 at 20 TPS), so that each (account, permission
/// set) pair is read once; our own writes invalidate their pair.
pub const ASSIGNMENT_CACHE_TTL: Duration = Duration::from_secs(5 * 60);

/// The sso-admin and identitystore clients plus the process-wide limits they share.
pub struct IdentityCenter {
    pub(crate) sso: aws_sdk_ssoadmin::Client,
    pub(crate) store: aws_sdk_identitystore::Client,
    pub(crate) limits: Arc<ServiceLimits>,
    pub(crate) retry: RetryPolicy,
    pub(crate) poll: PollPolicy,
    cache: Arc<AssignmentCache>,
    engines: Mutex<HashMap<String, Arc<AssignmentEngine<SdkAssignmentApi>>>>,
    organizations: Organizations,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub instance_arn: String,
    pub identity_store_id: String,
    pub name: Option<String>,
    pub owner_account_id: Option<String>,
    pub status: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionSet {
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    /// ISO 8601 duration, e.g. `PT1H`.
    pub session_duration: Option<String>,
    pub relay_state: Option<String>,
    /// Seconds since the Unix epoch.
    pub created_epoch_seconds: Option<i64>,
}

/// Arguments of CreatePermissionSet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewPermissionSet {
    pub name: String,
    pub description: Option<String>,
    /// ISO 8601 duration; [`DEFAULT_SESSION_DURATION`] when absent.
    pub session_duration: Option<String>,
    pub relay_state: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// Arguments of UpdatePermissionSet. AWS clears the relay state when it is omitted, so every field is sent
/// as the full desired value: `None` means "no value", not "unchanged".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PermissionSetUpdate {
    pub description: Option<String>,
    pub session_duration: Option<String>,
    pub relay_state: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CustomerManagedPolicyRef {
    pub name: String,
    /// IAM path, `/` when absent.
    pub path: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PermissionsBoundary {
    ManagedPolicy { arn: String },
    CustomerManagedPolicy(CustomerManagedPolicyRef),
}

impl IdentityCenter {
    /// Builds the service clients from an SDK configuration. The SDK's retries are disabled: see
    /// [`retry`](super::retry) for why ours replace them.
    pub fn new(config: &SdkConfig, limits: Arc<ServiceLimits>, retry: RetryPolicy) -> Self {
        let sso = aws_sdk_ssoadmin::config::Builder::from(config)
            .retry_config(RetryConfig::disabled())
            .build();
        let store = aws_sdk_identitystore::config::Builder::from(config)
            .retry_config(RetryConfig::disabled())
            .build();
        Self {
            sso: aws_sdk_ssoadmin::Client::from_conf(sso),
            store: aws_sdk_identitystore::Client::from_conf(store),
            organizations: Organizations::new(config, limits.clone(), retry.clone()),
            limits,
            retry,
            poll: PollPolicy::default(),
            cache: Arc::new(AssignmentCache::new(ASSIGNMENT_CACHE_TTL)),
            engines: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_poll_policy(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// The Organizations client of the same credentials, paced by the same limiter.
    pub fn organizations(&self) -> &Organizations {
        &self.organizations
    }

    pub fn limits(&self) -> &Arc<ServiceLimits> {
        &self.limits
    }

    /// The region the clients send requests to (from the provider's `aws` block or the AWS environment).
    pub fn region(&self) -> Option<String> {
        self.sso.config().region().map(ToString::to_string)
    }

    /// The assignment engine and batched reads for one instance, shared by every caller of this client
    /// (one cache and one memory of what AWS refused per instance).
    pub fn assignments(&self, instance_arn: &str) -> Arc<AssignmentEngine<SdkAssignmentApi>> {
        let mut engines = self.engines.lock().expect("engine map lock poisoned");
        engines
            .entry(instance_arn.to_owned())
            .or_insert_with(|| {
                Arc::new(AssignmentEngine::new(
                    SdkAssignmentApi::new(self.sso.clone()),
                    instance_arn,
                    self.limits.clone(),
                    self.retry.clone(),
                    self.poll.clone(),
                    self.cache.clone(),
                ))
            })
            .clone()
    }

    /// One SDK call through the limiter and our retry loop.
    pub(crate) async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        conflicts: Conflicts,
        deadline: Deadline,
        mut send: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        retry::run(
            &self.limits,
            &self.retry,
            operation,
            conflicts,
            deadline,
            || {
                let request = send();
                async move { request.await.map_err(|e| AwsError::from_sdk(operation, e)) }
            },
        )
        .await
    }

    // ---- instances ----

    pub async fn list_instances(&self, deadline: Deadline) -> Result<Vec<Instance>, Error> {
        let pages = collect_pages(|token| async move {
            let page = self
                .call("ListInstances", Conflicts::Fail, deadline, || {
                    self.sso
                        .list_instances()
                        .max_results(PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            let instances = page
                .instances()
                .iter()
                .map(|i| match (i.instance_arn(), i.identity_store_id()) {
                    (Some(instance_arn), Some(identity_store_id)) => Ok(Instance {
                        instance_arn: instance_arn.to_owned(),
                        identity_store_id: identity_store_id.to_owned(),
                        name: i.name().map(str::to_owned),
                        owner_account_id: i.owner_account_id().map(str::to_owned),
                        status: i.status().map(|s| s.as_str().to_owned()),
                    }),
                    _ => Err(Error::MalformedResponse {
                        operation: "ListInstances",
                        missing: "InstanceArn/IdentityStoreId",
                    }),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((instances, next_token(page.next_token())))
        });
        pages.await
    }

    /// The only instance visible to the credentials; an organization has at most one organization
    /// instance, but account instances can add more.
    pub async fn single_instance(&self, deadline: Deadline) -> Result<Instance, Error> {
        let mut instances = self.list_instances(deadline).await?;
        match instances.len() {
            0 => Err(Error::NoInstance),
            1 => Ok(instances.remove(0)),
            _ => Err(Error::AmbiguousInstance {
                instance_arns: instances.into_iter().map(|i| i.instance_arn).collect(),
            }),
        }
    }

    // ---- permission sets ----

    pub async fn create_permission_set(
        &self,
        instance_arn: &str,
        new: &NewPermissionSet,
        deadline: Deadline,
    ) -> Result<PermissionSet, Error> {
        let tags = to_sso_tags(&new.tags)?;
        let out = self
            .call("CreatePermissionSet", Conflicts::Fail, deadline, || {
                self.sso
                    .create_permission_set()
                    .instance_arn(instance_arn)
                    .name(&new.name)
                    .set_description(new.description.clone())
                    .session_duration(
                        new.session_duration
                            .as_deref()
                            .unwrap_or(DEFAULT_SESSION_DURATION),
                    )
                    .set_relay_state(new.relay_state.clone())
                    .set_tags((!tags.is_empty()).then(|| tags.clone()))
                    .send()
            })
            .await?;
        permission_set(out.permission_set(), "CreatePermissionSet")
    }

    pub async fn describe_permission_set(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        deadline: Deadline,
    ) -> Result<PermissionSet, Error> {
        let out = self
            .call("DescribePermissionSet", Conflicts::Fail, deadline, || {
                self.sso
                    .describe_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(permission_set_arn)
                    .send()
            })
            .await?;
        permission_set(out.permission_set(), "DescribePermissionSet")
    }

    pub async fn update_permission_set(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        update: &PermissionSetUpdate,
        deadline: Deadline,
    ) -> Result<(), Error> {
        self.call("UpdatePermissionSet", Conflicts::Retry, deadline, || {
            self.sso
                .update_permission_set()
                .instance_arn(instance_arn)
                .permission_set_arn(permission_set_arn)
                .set_description(update.description.clone())
                .set_session_duration(update.session_duration.clone())
                .set_relay_state(update.relay_state.clone())
                .send()
        })
        .await
        .map(drop)
    }

    /// Deletes the permission set. AWS answers `ConflictException` both while an operation on the set is
    /// finishing (retried here, with backoff, within the deadline) and while the set is still assigned
    /// somewhere (terraform-provider-aws#26757): then [`Error::PermissionSetAssigned`] names the assignments,
    /// since waiting cannot remove them.
    pub async fn delete_permission_set(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let mut conflicts = 0;
        loop {
            let error = match self
                .call("DeletePermissionSet", Conflicts::Fail, deadline, || {
                    self.sso
                        .delete_permission_set()
                        .instance_arn(instance_arn)
                        .permission_set_arn(permission_set_arn)
                        .send()
                })
                .await
            {
                Ok(_) => return Ok(()),
                Err(error) if error.aws_error().map(|e| e.kind) == Some(ErrorKind::Conflict) => {
                    error
                }
                Err(error) => return Err(error),
            };
            conflicts += 1;
            let assignments = self
                .permission_set_assignments(instance_arn, permission_set_arn, deadline)
                .await?;
            let delay = self.retry.full_jitter(conflicts - 1, rand::random::<f64>());
            let out_of_time = tokio::time::Instant::now() + delay >= deadline.instant();
            // A few rounds let an assignment deletion that is still finishing (listed until it has) go away.
            if !assignments.is_empty() && (conflicts >= ASSIGNED_CONFLICT_ROUNDS || out_of_time) {
                return Err(Error::PermissionSetAssigned {
                    permission_set_arn: permission_set_arn.to_owned(),
                    assignments,
                });
            }
            if out_of_time {
                return Err(error);
            }
            self.limits.counters.record_retry();
            tokio::time::sleep(delay).await;
        }
    }

    /// Every assignment of the permission set (`group <id> in account <id>`), read uncached: one
    /// ListAccountsForProvisionedPermissionSet and one ListAccountAssignments per account.
    pub async fn permission_set_assignments(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        deadline: Deadline,
    ) -> Result<Vec<String>, Error> {
        let engine = self.assignments(instance_arn);
        let mut assignments = Vec::new();
        for account in self
            .list_accounts_for_permission_set(instance_arn, permission_set_arn, deadline)
            .await?
        {
            let target = AssignmentTarget::new(permission_set_arn, account.as_str());
            for principal in engine.list_target(&target, deadline).await?.iter() {
                assignments.push(format!("{principal} in account {account}"));
            }
        }
        Ok(assignments)
    }

    pub async fn list_permission_sets(
        &self,
        instance_arn: &str,
        deadline: Deadline,
    ) -> Result<Vec<String>, Error> {
        collect_pages(|token| async move {
            let page = self
                .call("ListPermissionSets", Conflicts::Fail, deadline, || {
                    self.sso
                        .list_permission_sets()
                        .instance_arn(instance_arn)
                        .max_results(PAGE_SIZE)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            Ok((
                page.permission_sets().to_vec(),
                next_token(page.next_token()),
            ))
        })
        .await
    }

    // ---- inline policy ----

    pub async fn put_inline_policy(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        policy_json: &str,
        deadline: Deadline,
    ) -> Result<(), Error> {
        self.call(
            "PutInlinePolicyToPermissionSet",
            Conflicts::Retry,
            deadline,
            || {
                self.sso
                    .put_inline_policy_to_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(permission_set_arn)
                    .inline_policy(policy_json)
                    .send()
            },
        )
        .await
        .map(drop)
    }

    /// The inline policy document, `None` when the set has none (AWS answers an empty string).
    pub async fn get_inline_policy(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        deadline: Deadline,
    ) -> Result<Option<String>, Error> {
        let out = self
            .call(
                "GetInlinePolicyForPermissionSet",
                Conflicts::Fail,
                deadline,
                || {
                    self.sso
                        .get_inline_policy_for_permission_set()
                        .instance_arn(instance_arn)
                        .permission_set_arn(permission_set_arn)
                        .send()
                },
            )
            .await?;
        Ok(out
            .inline_policy()
            .filter(|p| !p.is_empty())
            .map(str::to_owned))
    }

    pub async fn delete_inline_policy(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        deadline: Deadline,
    ) -> Result<(), Error> {
        self.call(
            "DeleteInlinePolicyFromPermissionSet",
            Conflicts::Retry,
            deadline,
            || {
                self.sso
                    .delete_inline_policy_from_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(permission_set_arn)
                    .send()
            },
        )
        .await
        .map(drop)
    }

    // ---- AWS managed policies ----

    pub async fn attach_managed_policy(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        policy_arn: &str,
        deadline: Deadline,
    ) -> Result<(), Error> {
        self.call(
            "AttachManagedPolicyToPermissionSet",
            Conflicts::Fail,
            deadline,
            || {
                self.sso
                    .attach_managed_policy_to_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(permission_set_arn)
                    .managed_policy_arn(policy_arn)
                    .send()
            },
        )
        .await
        .map(drop)
    }

    pub async fn detach_managed_policy(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        policy_arn: &str,
        deadline: Deadline,
    ) -> Result<(), Error> {
        self.call(
            "DetachManagedPolicyFromPermissionSet",
            Conflicts::Retry,
            deadline,
            || {
                self.sso
                    .detach_managed_policy_from_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(permission_set_arn)
                    .managed_policy_arn(policy_arn)
                    .send()
            },
        )
        .await
        .map(drop)
    }

    pub async fn list_managed_policies(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        deadline: Deadline,
    ) -> Result<Vec<ManagedPolicy>, Error> {
        collect_pages(|token| async move {
            let page = self
                .call(
                    "ListManagedPoliciesInPermissionSet",
                    Conflicts::Fail,
                    deadline,
                    || {
                        self.sso
                            .list_managed_policies_in_permission_set()
                            .instance_arn(instance_arn)
                            .permission_set_arn(permission_set_arn)
                            .max_results(PAGE_SIZE)
                            .set_next_token(token.clone())
                            .send()
                    },
                )
                .await?;
            let policies = page
                .attached_managed_policies()
                .iter()
                .map(|p| {
                    let arn = p.arn().ok_or(Error::MalformedResponse {
                        operation: "ListManagedPoliciesInPermissionSet",
                        missing: "Arn",
                    })?;
                    Ok(ManagedPolicy {
                        arn: arn.to_owned(),
                        name: p.name().map(str::to_owned),
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            Ok((policies, next_token(page.next_token())))
        })
        .await
    }

    // ---- customer managed policy references ----

    pub async fn attach_customer_managed_policy(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        reference: &CustomerManagedPolicyRef,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let reference = to_sso_reference(reference)?;
        self.call(
            "AttachCustomerManagedPolicyReferenceToPermissionSet",
            Conflicts::Fail,
            deadline,
            || {
                self.sso
                    .attach_customer_managed_policy_reference_to_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(permission_set_arn)
                    .customer_managed_policy_reference(reference.clone())
                    .send()
            },
        )
        .await
        .map(drop)
    }

    pub async fn detach_customer_managed_policy(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        reference: &CustomerManagedPolicyRef,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let reference = to_sso_reference(reference)?;
        self.call(
            "DetachCustomerManagedPolicyReferenceFromPermissionSet",
            Conflicts::Retry,
            deadline,
            || {
                self.sso
                    .detach_customer_managed_policy_reference_from_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(permission_set_arn)
                    .customer_managed_policy_reference(reference.clone())
                    .send()
            },
        )
        .await
        .map(drop)
    }

    pub async fn list_customer_managed_policies(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        deadline: Deadline,
    ) -> Result<Vec<CustomerManagedPolicyRef>, Error> {
        collect_pages(|token| async move {
            let page = self
                .call(
                    "ListCustomerManagedPolicyReferencesInPermissionSet",
                    Conflicts::Fail,
                    deadline,
                    || {
                        self.sso
                            .list_customer_managed_policy_references_in_permission_set()
                            .instance_arn(instance_arn)
                            .permission_set_arn(permission_set_arn)
                            .max_results(PAGE_SIZE)
                            .set_next_token(token.clone())
                            .send()
                    },
                )
                .await?;
            let references = page
                .customer_managed_policy_references()
                .iter()
                .map(from_sso_reference)
                .collect();
            Ok((references, next_token(page.next_token())))
        })
        .await
    }

    // ---- permissions boundary ----

    pub async fn put_permissions_boundary(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        boundary: &PermissionsBoundary,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let boundary = match boundary {
            PermissionsBoundary::ManagedPolicy { arn } => sso::PermissionsBoundary::builder()
                .managed_policy_arn(arn)
                .build(),
            PermissionsBoundary::CustomerManagedPolicy(reference) => {
                sso::PermissionsBoundary::builder()
                    .customer_managed_policy_reference(to_sso_reference(reference)?)
                    .build()
            }
        };
        self.call(
            "PutPermissionsBoundaryToPermissionSet",
            Conflicts::Retry,
            deadline,
            || {
                self.sso
                    .put_permissions_boundary_to_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(permission_set_arn)
                    .permissions_boundary(boundary.clone())
                    .send()
            },
        )
        .await
        .map(drop)
    }

    /// The boundary, `None` when the set has none (AWS answers ResourceNotFoundException).
    pub async fn get_permissions_boundary(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        deadline: Deadline,
    ) -> Result<Option<PermissionsBoundary>, Error> {
        let out = self
            .call(
                "GetPermissionsBoundaryForPermissionSet",
                Conflicts::Fail,
                deadline,
                || {
                    self.sso
                        .get_permissions_boundary_for_permission_set()
                        .instance_arn(instance_arn)
                        .permission_set_arn(permission_set_arn)
                        .send()
                },
            )
            .await;
        let out = match out {
            Err(e) if e.is_not_found() => return Ok(None),
            other => other?,
        };
        Ok(out.permissions_boundary().and_then(|b| {
            match (
                b.managed_policy_arn(),
                b.customer_managed_policy_reference(),
            ) {
                (Some(arn), _) => Some(PermissionsBoundary::ManagedPolicy {
                    arn: arn.to_owned(),
                }),
                (None, Some(r)) => Some(PermissionsBoundary::CustomerManagedPolicy(
                    from_sso_reference(r),
                )),
                (None, None) => None,
            }
        }))
    }

    pub async fn delete_permissions_boundary(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        deadline: Deadline,
    ) -> Result<(), Error> {
        self.call(
            "DeletePermissionsBoundaryFromPermissionSet",
            Conflicts::Retry,
            deadline,
            || {
                self.sso
                    .delete_permissions_boundary_from_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(permission_set_arn)
                    .send()
            },
        )
        .await
        .map(drop)
    }

    // ---- tags ----

    pub async fn tag_resource(
        &self,
        instance_arn: &str,
        resource_arn: &str,
        tags: &BTreeMap<String, String>,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let tags = to_sso_tags(tags)?;
        self.call("TagResource", Conflicts::Retry, deadline, || {
            self.sso
                .tag_resource()
                .instance_arn(instance_arn)
                .resource_arn(resource_arn)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await
        .map(drop)
    }

    pub async fn untag_resource(
        &self,
        instance_arn: &str,
        resource_arn: &str,
        keys: &[String],
        deadline: Deadline,
    ) -> Result<(), Error> {
        self.call("UntagResource", Conflicts::Retry, deadline, || {
            self.sso
                .untag_resource()
                .instance_arn(instance_arn)
                .resource_arn(resource_arn)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
        })
        .await
        .map(drop)
    }

    pub async fn list_tags(
        &self,
        instance_arn: &str,
        resource_arn: &str,
        deadline: Deadline,
    ) -> Result<BTreeMap<String, String>, Error> {
        let tags = collect_pages(|token| async move {
            let page = self
                .call("ListTagsForResource", Conflicts::Fail, deadline, || {
                    self.sso
                        .list_tags_for_resource()
                        .instance_arn(instance_arn)
                        .resource_arn(resource_arn)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            let tags = page
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            Ok((tags, next_token(page.next_token())))
        })
        .await?;
        Ok(tags.into_iter().collect())
    }

    // ---- provisioning ----

    /// Pushes the permission set to every account it is provisioned to and waits until AWS reports a
    /// terminal status; a FAILED status becomes [`Error::OperationFailed`] carrying AWS's FailureReason.
    pub async fn provision_permission_set(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        deadline: Deadline,
    ) -> Result<(), Error> {
        const OP: &str = "ProvisionPermissionSet";
        const STATUS_OP: &str = "DescribePermissionSetProvisioningStatus";
        // Conflicts retried: AWS refuses a second provisioning of the same set while one is running.
        let out = self
            .call(OP, Conflicts::Retry, deadline, || {
                self.sso
                    .provision_permission_set()
                    .instance_arn(instance_arn)
                    .permission_set_arn(permission_set_arn)
                    .target_type(sso::ProvisionTargetType::AllProvisionedAccounts)
                    .send()
            })
            .await?;
        let started = provisioning_operation(out.permission_set_provisioning_status(), OP)?;
        wait_until_terminal(&self.poll, OP, started, deadline, |request_id| async move {
            let out = self
                .call(STATUS_OP, Conflicts::Fail, deadline, || {
                    self.sso
                        .describe_permission_set_provisioning_status()
                        .instance_arn(instance_arn)
                        .provision_permission_set_request_id(&request_id)
                        .send()
                })
                .await?;
            Ok(provisioning_operation(
                out.permission_set_provisioning_status(),
                STATUS_OP,
            )?)
        })
        .await
    }

    /// Account ids the permission set is provisioned to.
    pub async fn list_accounts_for_permission_set(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        deadline: Deadline,
    ) -> Result<Vec<String>, Error> {
        self.accounts_for_permission_set(instance_arn, permission_set_arn, None, deadline)
            .await
    }

    /// Account ids the permission set is provisioned to that do not run its latest version: a change was
    /// never provisioned there, or provisioning it failed.
    pub async fn list_outdated_accounts_for_permission_set(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        deadline: Deadline,
    ) -> Result<Vec<String>, Error> {
        self.accounts_for_permission_set(
            instance_arn,
            permission_set_arn,
            Some(sso::ProvisioningStatus::LatestPermissionSetNotProvisioned),
            deadline,
        )
        .await
    }

    async fn accounts_for_permission_set(
        &self,
        instance_arn: &str,
        permission_set_arn: &str,
        status: Option<sso::ProvisioningStatus>,
        deadline: Deadline,
    ) -> Result<Vec<String>, Error> {
        let status = &status;
        collect_pages(|token| async move {
            let page = self
                .call(
                    "ListAccountsForProvisionedPermissionSet",
                    Conflicts::Fail,
                    deadline,
                    || {
                        self.sso
                            .list_accounts_for_provisioned_permission_set()
                            .instance_arn(instance_arn)
                            .permission_set_arn(permission_set_arn)
                            .set_provisioning_status(status.clone())
                            .max_results(PAGE_SIZE)
                            .set_next_token(token.clone())
                            .send()
                    },
                )
                .await?;
            Ok((page.account_ids().to_vec(), next_token(page.next_token())))
        })
        .await
    }
}

/// Some endpoints answer `"NextToken": ""` or null on the last page.
pub(crate) fn next_token(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_owned)
}

fn permission_set(
    set: Option<&sso::PermissionSet>,
    operation: &'static str,
) -> Result<PermissionSet, Error> {
    let set = set.ok_or(Error::MalformedResponse {
        operation,
        missing: "PermissionSet",
    })?;
    Ok(PermissionSet {
        arn: set
            .permission_set_arn()
            .ok_or(Error::MalformedResponse {
                operation,
                missing: "PermissionSetArn",
            })?
            .to_owned(),
        name: set
            .name()
            .ok_or(Error::MalformedResponse {
                operation,
                missing: "Name",
            })?
            .to_owned(),
        description: set.description().map(str::to_owned),
        session_duration: set.session_duration().map(str::to_owned),
        relay_state: set.relay_state().map(str::to_owned),
        created_epoch_seconds: set.created_date().map(|d| d.secs()),
    })
}

fn provisioning_operation(
    status: Option<&sso::PermissionSetProvisioningStatus>,
    operation: &'static str,
) -> Result<AsyncOperation, AwsError> {
    let status = status.ok_or_else(|| {
        AwsError::malformed(
            operation,
            "response without PermissionSetProvisioningStatus",
        )
    })?;
    async_operation(
        status.request_id(),
        status.status(),
        status.failure_reason(),
        operation,
    )
}

fn to_sso_tags(tags: &BTreeMap<String, String>) -> Result<Vec<sso::Tag>, Error> {
    tags.iter()
        .map(|(k, v)| {
            sso::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| Error::InvalidArgument(format!("tag {k:?}: {e}")))
        })
        .collect()
}

fn to_sso_reference(
    reference: &CustomerManagedPolicyRef,
) -> Result<sso::CustomerManagedPolicyReference, Error> {
    sso::CustomerManagedPolicyReference::builder()
        .name(&reference.name)
        .set_path(reference.path.clone())
        .build()
        .map_err(|e| {
            Error::InvalidArgument(format!(
                "customer managed policy reference {:?}: {e}",
                reference.name
            ))
        })
}

fn from_sso_reference(reference: &sso::CustomerManagedPolicyReference) -> CustomerManagedPolicyRef {
    CustomerManagedPolicyRef {
        name: reference.name().to_owned(),
        path: reference.path().map(str::to_owned),
    }
}
