//! Permission sets on the AWS side: reading everything IAM Identity Center holds about one, and bringing it
//! to what a configuration asks for, re-provisioning the accounts when something that reaches them changed; and
//! the plan-time proof that the permission sets an assignment names exist.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::clients::aws::{
    CustomerManagedPolicyRef, Deadline, Error as AwsClientError, ErrorKind, IdentityCenter,
    NewPermissionSet, PermissionSet, PermissionSetUpdate, PermissionsBoundary,
};
use crate::framework::{AttributePath, Context, Diagnostic, Diagnostics};
use crate::helpers::aws_error;
use crate::helpers::instance_arn_of;
use crate::helpers::ownership::already_exists;

use super::IdbridgeClients;
use crate::helpers::equivalent::{same_iso8601_duration, same_json};

/// IAM's path of a policy whose reference names none.
pub const DEFAULT_POLICY_PATH: &str = "/";

/// What a configuration (a plan) asks a permission set to be.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    pub name: String,
    pub description: Option<String>,
    pub session_duration: String,
    pub relay_state: Option<String>,
    pub managed: BTreeSet<String>,
    pub customer: BTreeSet<CustomerManagedPolicyRef>,
    pub inline: Option<String>,
    pub boundary: Option<PermissionsBoundary>,
    pub tags: BTreeMap<String, String>,
}

/// Everything AWS holds about one permission set.
#[derive(Clone, Debug, PartialEq)]
pub struct Remote {
    pub set: PermissionSet,
    pub inline: Option<String>,
    pub managed: BTreeSet<String>,
    pub customer: BTreeSet<CustomerManagedPolicyRef>,
    pub boundary: Option<PermissionsBoundary>,
    pub tags: BTreeMap<String, String>,
    /// Accounts running an older version of the set than its latest change.
    pub outdated_accounts: BTreeSet<String>,
}

/// A customer managed policy reference, with IAM's default path when none is given.
pub fn policy_ref(name: &str, path: Option<&str>) -> CustomerManagedPolicyRef {
    CustomerManagedPolicyRef {
        name: name.to_owned(),
        path: Some(path.unwrap_or(DEFAULT_POLICY_PATH).to_owned()),
    }
}

/// The reference with IAM's default path when AWS reports none, so references compare by meaning.
pub fn normalise_ref(reference: CustomerManagedPolicyRef) -> CustomerManagedPolicyRef {
    policy_ref(&reference.name, reference.path.as_deref())
}

/// Reads the whole permission set; `None` when it no longer exists.
pub async fn fetch_remote(
    ic: &IdentityCenter,
    instance_arn: &str,
    arn: &str,
    deadline: Deadline,
) -> Result<Option<Remote>, AwsClientError> {
    let set = match ic
        .describe_permission_set(instance_arn, arn, deadline)
        .await
    {
        Ok(set) => set,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let (inline, managed, customer, boundary, tags, outdated) = tokio::try_join!(
        ic.get_inline_policy(instance_arn, arn, deadline),
        ic.list_managed_policies(instance_arn, arn, deadline),
        ic.list_customer_managed_policies(instance_arn, arn, deadline),
        ic.get_permissions_boundary(instance_arn, arn, deadline),
        ic.list_tags(instance_arn, arn, deadline),
        ic.list_outdated_accounts_for_permission_set(instance_arn, arn, deadline),
    )?;
    let boundary = boundary.map(|b| match b {
        PermissionsBoundary::CustomerManagedPolicy(r) => {
            PermissionsBoundary::CustomerManagedPolicy(normalise_ref(r))
        }
        other => other,
    });
    Ok(Some(Remote {
        set,
        inline,
        managed: managed.into_iter().map(|p| p.arn).collect(),
        customer: customer.into_iter().map(normalise_ref).collect(),
        boundary,
        tags,
        outdated_accounts: outdated.into_iter().collect(),
    }))
}

/// One failed step of bringing AWS to the desired state, worded for the user.
fn step_error(what: &str, error: &AwsClientError) -> Diagnostics {
    let summary = match error {
        AwsClientError::OperationFailed { .. } => "Permission set not provisioned to its accounts",
        _ => "Cannot update the permission set",
    };
    let mut diagnostic = aws_error(summary, error);
    diagnostic.detail = format!("While {what}: {}", diagnostic.detail);
    if matches!(error, AwsClientError::OperationFailed { .. }) {
        diagnostic.detail.push_str(
            " The permission set itself is updated; the accounts keep the previous version until it is \
             provisioned again: they show in `outdated_accounts`, and the next apply provisions them.",
        );
    }
    diagnostic.into()
}

/// Brings the permission set from `current` to `desired`, then re-provisions it to its accounts if anything
/// that reaches the accounts changed or some accounts still run an older version (an earlier provisioning
/// failed, or the set was changed outside Terraform).
pub async fn converge(
    ic: &IdentityCenter,
    instance_arn: &str,
    arn: &str,
    current: &Remote,
    desired: &Desired,
    deadline: Deadline,
) -> Result<(), Diagnostics> {
    let mut changed = false;
    let set = &current.set;
    let core_differs = set.description != desired.description
        || set.relay_state != desired.relay_state
        || !set
            .session_duration
            .as_deref()
            .is_some_and(|d| same_iso8601_duration(d, &desired.session_duration));
    if core_differs {
        let update = PermissionSetUpdate {
            description: desired.description.clone(),
            session_duration: Some(desired.session_duration.clone()),
            relay_state: desired.relay_state.clone(),
        };
        ic.update_permission_set(instance_arn, arn, &update, deadline)
            .await
            .map_err(|e| {
                step_error("updating description, session duration and relay state", &e)
            })?;
        changed = true;
    }

    match (&current.inline, &desired.inline) {
        (Some(_), None) => {
            ic.delete_inline_policy(instance_arn, arn, deadline)
                .await
                .map_err(|e| step_error("removing the inline policy", &e))?;
            changed = true;
        }
        (old, Some(new)) if !old.as_deref().is_some_and(|old| same_json(old, new)) => {
            ic.put_inline_policy(instance_arn, arn, new, deadline)
                .await
                .map_err(|e| step_error("putting the inline policy", &e))?;
            changed = true;
        }
        _ => {}
    }

    for policy in current.managed.difference(&desired.managed) {
        ic.detach_managed_policy(instance_arn, arn, policy, deadline)
            .await
            .map_err(|e| step_error(&format!("detaching managed policy {policy}"), &e))?;
        changed = true;
    }
    for policy in desired.managed.difference(&current.managed) {
        ic.attach_managed_policy(instance_arn, arn, policy, deadline)
            .await
            .map_err(|e| step_error(&format!("attaching managed policy {policy}"), &e))?;
        changed = true;
    }
    for reference in current.customer.difference(&desired.customer) {
        ic.detach_customer_managed_policy(instance_arn, arn, reference, deadline)
            .await
            .map_err(|e| {
                step_error(
                    &format!("detaching customer managed policy {:?}", reference.name),
                    &e,
                )
            })?;
        changed = true;
    }
    for reference in desired.customer.difference(&current.customer) {
        ic.attach_customer_managed_policy(instance_arn, arn, reference, deadline)
            .await
            .map_err(|e| {
                step_error(
                    &format!("attaching customer managed policy {:?}", reference.name),
                    &e,
                )
            })?;
        changed = true;
    }

    if current.boundary != desired.boundary {
        match &desired.boundary {
            None => {
                ic.delete_permissions_boundary(instance_arn, arn, deadline)
                    .await
            }
            Some(boundary) => {
                ic.put_permissions_boundary(instance_arn, arn, boundary, deadline)
                    .await
            }
        }
        .map_err(|e| step_error("setting the permissions boundary", &e))?;
        changed = true;
    }

    // Tags never reach the accounts, so they do not call for provisioning.
    let removed: Vec<String> = current
        .tags
        .keys()
        .filter(|k| !desired.tags.contains_key(*k))
        .cloned()
        .collect();
    if !removed.is_empty() {
        ic.untag_resource(instance_arn, arn, &removed, deadline)
            .await
            .map_err(|e| step_error("removing tags", &e))?;
    }
    let added: BTreeMap<String, String> = desired
        .tags
        .iter()
        .filter(|(k, v)| current.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !added.is_empty() {
        ic.tag_resource(instance_arn, arn, &added, deadline)
            .await
            .map_err(|e| step_error("tagging", &e))?;
    }

    if changed || !current.outdated_accounts.is_empty() {
        let accounts = ic
            .list_accounts_for_permission_set(instance_arn, arn, deadline)
            .await
            .map_err(|e| {
                step_error(
                    "listing the accounts the permission set is provisioned to",
                    &e,
                )
            })?;
        if !accounts.is_empty() {
            tracing::info!(
                permission_set = arn,
                accounts = accounts.len(),
                "re-provisioning permission set"
            );
            ic.provision_permission_set(instance_arn, arn, deadline)
                .await
                .map_err(|e| {
                    step_error(
                        &format!("provisioning to accounts {}", accounts.join(", ")),
                        &e,
                    )
                })?;
        }
    }
    Ok(())
}

/// A permission set of the instance with exactly this name.
async fn find_by_name(
    ic: &IdentityCenter,
    instance_arn: &str,
    name: &str,
    deadline: Deadline,
) -> Result<Option<PermissionSet>, AwsClientError> {
    for arn in ic.list_permission_sets(instance_arn, deadline).await? {
        match ic
            .describe_permission_set(instance_arn, &arn, deadline)
            .await
        {
            Ok(set) if set.name == name => return Ok(Some(set)),
            Ok(_) => {}
            // Deleted between the listing and the describe.
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// A permission set [`create_or_adopt`] made, or found already made.
pub struct Created {
    /// What AWS holds before [`converge`] brings it to the configuration.
    pub remote: Remote,
    /// AWS refused the name as taken, and the set of that name was taken over.
    pub adopted: bool,
}

/// The tag a create puts on the permission set it makes, with a value of its own: when AWS answers that the name is
/// taken (a retried request whose first answer was lost), the set carrying this create's value is its own. The
/// tag is removed when the set is brought to the configuration right after.
const CREATE_MARKER_TAG: &str = "idbridge:creating";

/// AWS allows 50 tags on a permission set; the marker needs one of them.
const MAX_TAGS: usize = 50;

/// Creates the permission set with the settings `CreatePermissionSet` takes. When AWS says the name is taken, the
/// set of that name is adopted when it carries this create's marker (our own request, retried) or when
/// `adopt_existing` opts in; any other is another configuration's, and the error shows how to import it.
pub async fn create_or_adopt(
    ic: &IdentityCenter,
    instance_arn: &str,
    desired: &Desired,
    adopt_existing: bool,
    deadline: Deadline,
) -> Result<Created, Diagnostics> {
    let marker = uuid::Uuid::new_v4().to_string();
    let mut tags = desired.tags.clone();
    if tags.len() < MAX_TAGS {
        tags.insert(CREATE_MARKER_TAG.to_owned(), marker.clone());
    }
    let new = NewPermissionSet {
        name: desired.name.clone(),
        description: desired.description.clone(),
        session_duration: Some(desired.session_duration.clone()),
        relay_state: desired.relay_state.clone(),
        tags: tags.clone(),
    };
    let conflict = match ic.create_permission_set(instance_arn, &new, deadline).await {
        Ok(set) => {
            let remote = Remote {
                set,
                inline: None,
                managed: BTreeSet::new(),
                customer: BTreeSet::new(),
                boundary: None,
                // With the marker, so that converging to the configuration removes it.
                tags,
                outdated_accounts: BTreeSet::new(),
            };
            return Ok(Created {
                remote,
                adopted: false,
            });
        }
        Err(e) if e.aws_error().is_some_and(|a| a.kind == ErrorKind::Conflict) => e,
        Err(e) => return Err(aws_error("Cannot create the permission set", &e).into()),
    };
    let refused = || Diagnostics::from(aws_error("Cannot create the permission set", &conflict));
    let found = find_by_name(ic, instance_arn, &desired.name, deadline)
        .await
        .map_err(|e| aws_error("Cannot look up the existing permission set", &e))?
        .ok_or_else(refused)?;
    let remote = fetch_remote(ic, instance_arn, &found.arn, deadline)
        .await
        .map_err(|e| aws_error("Cannot read the existing permission set", &e))?
        .ok_or_else(refused)?;
    let ours = remote.tags.get(CREATE_MARKER_TAG) == Some(&marker);
    if !adopt_existing && !ours {
        return Err(already_exists(
            &format!(
                "Permission set {:?} already exists in {instance_arn} ({})",
                desired.name, found.arn
            ),
            "idbridge_permission_set",
            &found.arn,
            "name",
        )
        .into());
    }
    Ok(Created {
        remote,
        adopted: true,
    })
}

/// How long plan may spend proving that permission sets exist.
const PLAN_CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// Errors at `attribute` for each of `arns` that does not exist. Each ARN is looked up once per configured
/// provider. When AWS is not configured yet or cannot answer, the plan goes on (with a warning) and apply
/// reports the problem.
pub async fn verify_permission_sets_exist(
    ctx: &Context,
    arns: &[String],
    attribute: &str,
) -> Result<(), Diagnostics> {
    if arns.is_empty() {
        return Ok(());
    }
    let Ok(clients) = IdbridgeClients::from_context(ctx) else {
        return Ok(());
    };
    let Ok(identity_center) = clients.identity_center().await else {
        return Ok(());
    };
    let deadline = Deadline::after(PLAN_CHECK_TIMEOUT);
    let lookups = arns.iter().map(|arn| {
        let (clients, identity_center) = (&clients, &identity_center);
        async move {
            let instance = instance_arn_of(arn).unwrap_or_default();
            let outcome = clients
                .caches()
                .existing_permission_sets
                .get_or_try_init(arn.clone(), || async {
                    identity_center
                        .describe_permission_set(&instance, arn, deadline)
                        .await
                        .map(drop)
                })
                .await;
            (arn, instance, outcome)
        }
    });
    let outcomes = ctx
        .guard(async { Ok(futures_util::future::join_all(lookups).await) })
        .await?;
    let mut diags = Diagnostics::new();
    for (arn, instance, outcome) in outcomes {
        match outcome {
            Ok(()) => {}
            Err(e) if e.is_not_found() || e.is_validation() => diags.push(
                Diagnostic::error(
                    "Permission set not found",
                    format!(
                        "{arn:?} does not exist in the IAM Identity Center instance {instance}: {e}. Check \
                         the ARN, or reference `idbridge_permission_set.<name>.arn` so Terraform creates the \
                         permission set first."
                    ),
                )
                .at(AttributePath::new(attribute)),
            ),
            Err(e) => ctx.warn(
                "Cannot verify the permission set",
                format!("Checking {arn:?} at plan time failed: {e}. Apply will try it again."),
            ),
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}
