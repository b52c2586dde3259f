//! `idbridge_permission_set`: an IAM Identity Center permission set with its policies, permissions boundary
//! and tags. Every change is followed by re-provisioning the set to the accounts it is provisioned to, so
//! users signing in get the new permissions without a manual "Update in accounts" in the console.
//!
//! The inline policy is compared as JSON, not as text: whitespace or key order never shows as a diff, and
//! the state keeps the text the user wrote as long as it means the same as what AWS holds.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use crate::clients::aws::{
    CustomerManagedPolicyRef, DEFAULT_SESSION_DURATION, Deadline, Error as AwsClientError,
    ErrorKind, IdentityCenter, NewPermissionSet, PermissionSet, PermissionSetUpdate,
    PermissionsBoundary,
};
use crate::framework::{
    ApplyError, Attribute, AttributePath, Block, Context, CreateRequest, Diagnostic, Diagnostics,
    NestedBlock, Nesting, Operation, PlanChange, Resource, Schema, Type, UpdateRequest, Value,
    import_passthrough,
};
use crate::helpers::{aws_error, instance_arn_of};
use crate::services::IdbridgeClients;
use crate::services::instances::find_instance;

pub const TYPE_NAME: &str = "idbridge_permission_set";

const DEFAULT_POLICY_PATH: &str = "/";
const MIN_SESSION_SECONDS: u64 = 15 * 60;
const MAX_SESSION_SECONDS: u64 = 12 * 3600;

// ------------------------------------------------------------------------------------------ validation

/// Seconds of an ISO 8601 duration as IAM Identity Center accepts it (`PT1H`, `PT1H30M`, `PT900S`, `P0DT8H`);
/// years, months and weeks are refused because their length is not fixed.
pub(crate) fn parse_iso8601_duration(text: &str) -> Result<u64, String> {
    let invalid = || {
        format!(
            "{text:?} is not an ISO 8601 duration; write it like \"PT1H\", \"PT8H\" or \"PT1H30M\""
        )
    };
    let rest = text.strip_prefix('P').ok_or_else(invalid)?;
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return Err(invalid()),
        None => (rest, None),
    };
    let mut seconds: u64 = 0;
    let mut any = false;
    let mut add = |part: &str, units: &[(char, u64)]| -> Result<(), String> {
        let mut rest = part;
        let mut last_unit = None;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .ok_or_else(invalid)?;
            if digits == 0 {
                return Err(invalid());
            }
            let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
            let unit = rest[digits..].chars().next().ok_or_else(invalid)?;
            let position = units
                .iter()
                .position(|(u, _)| *u == unit)
                .ok_or_else(invalid)?;
            // Units must come in order and at most once (PT1M1H is not a duration).
            if last_unit.is_some_and(|last| position <= last) {
                return Err(invalid());
            }
            last_unit = Some(position);
            seconds = number
                .checked_mul(units[position].1)
                .and_then(|s| seconds.checked_add(s))
                .ok_or_else(invalid)?;
            any = true;
            rest = &rest[digits + unit.len_utf8()..];
        }
        Ok(())
    };
    add(date, &[('D', 86_400)])?;
    if let Some(time) = time {
        add(time, &[('H', 3600), ('M', 60), ('S', 1)])?;
    }
    if !any {
        return Err(invalid());
    }
    Ok(seconds)
}

fn validate_session_duration(value: &Value, path: &AttributePath) -> Diagnostics {
    let Some(text) = value.as_str() else {
        return Diagnostics::new();
    };
    match parse_iso8601_duration(text) {
        Err(message) => Diagnostic::error("Invalid session duration", message)
            .at(path.clone())
            .into(),
        Ok(seconds) if !(MIN_SESSION_SECONDS..=MAX_SESSION_SECONDS).contains(&seconds) => {
            Diagnostic::error(
                "Session duration out of range",
                format!(
                    "{text:?} is {}; IAM Identity Center allows from 15 minutes (\"PT15M\") to 12 hours \
                     (\"PT12H\").",
                    human_duration(seconds)
                ),
            )
            .at(path.clone())
            .into()
        }
        Ok(_) => Diagnostics::new(),
    }
}

fn human_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m, s) {
        (h, 0, 0) => format!("{h} hour(s)"),
        (0, m, 0) => format!("{m} minute(s)"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

/// `arn:<partition>:iam::aws:policy/<optional path/><name>`: the shape of an AWS managed policy ARN.
pub(crate) fn is_aws_managed_policy_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some(name) = rest.strip_prefix("iam::aws:policy/") else {
        return false;
    };
    let partition_ok = !partition.is_empty()
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && partition.starts_with("aws");
    let name_ok = !name.is_empty()
        && !name.ends_with('/')
        && !name.contains("//")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c));
    partition_ok && name_ok
}

fn validate_managed_policy_arn(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(arn) if !is_aws_managed_policy_arn(arn) => Diagnostic::error(
            "Invalid AWS managed policy ARN",
            format!(
                "{arn:?} is not an AWS managed policy ARN. They look like \
                 \"arn:aws:iam::aws:policy/ReadOnlyAccess\" or \"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess\"; \
                 attach policies of your own accounts with a `customer_managed_policy` block instead."
            ),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

fn validate_managed_policy_arns(value: &Value, path: &AttributePath) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for element in value.iter().filter(|v| v.is_present()) {
        // Set elements have no index; Terraform highlights the set.
        diags.extend(validate_managed_policy_arn(element, path));
    }
    diags
}

fn validate_inline_policy(value: &Value, path: &AttributePath) -> Diagnostics {
    let Some(text) = value.as_str() else {
        return Diagnostics::new();
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) => Diagnostics::new(),
        Ok(_) => Diagnostic::error(
            "Invalid inline policy",
            "The inline policy must be a JSON object (an IAM policy document with `Version` and `Statement`); \
             `jsonencode({...})` or `data.aws_iam_policy_document.x.json` produce one.",
        )
        .at(path.clone())
        .into(),
        Err(e) => Diagnostic::error(
            "Invalid inline policy",
            format!(
                "The inline policy is not valid JSON: {e}. Build it with `jsonencode({{...}})` to avoid syntax \
                 mistakes."
            ),
        )
        .at(path.clone())
        .into(),
    }
}

fn validate_length(
    what: &'static str,
    min: usize,
    max: usize,
) -> impl Fn(&Value, &AttributePath) -> Diagnostics {
    move |value, path| match value.as_str().map(|s| s.chars().count()) {
        Some(n) if n < min || n > max => Diagnostic::error(
            format!("Invalid {what}"),
            format!("The {what} must be {min} to {max} characters long; it is {n}."),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

fn validate_name(value: &Value, path: &AttributePath) -> Diagnostics {
    let mut diags = validate_length("permission set name", 1, 32)(value, path);
    if let Some(name) = value.as_str()
        && !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        diags.error_at(
            path.clone(),
            "Invalid permission set name",
            format!(
                "{name:?} has characters IAM Identity Center does not allow in a name; use letters, digits and \
                 + = , . @ - _ only."
            ),
        );
    }
    diags
}

/// Whether two policy documents mean the same JSON (whitespace and key order ignored).
pub(crate) fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn same_session_duration(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (parse_iso8601_duration(a), parse_iso8601_duration(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

// ------------------------------------------------------------------------------------------ import IDs

// ------------------------------------------------------------------------------------------ model

/// What the configuration (the plan) asks for.
#[derive(Clone, Debug, PartialEq)]
struct Desired {
    name: String,
    description: Option<String>,
    session_duration: String,
    relay_state: Option<String>,
    managed: BTreeSet<String>,
    customer: BTreeSet<CustomerManagedPolicyRef>,
    inline: Option<String>,
    boundary: Option<PermissionsBoundary>,
    tags: BTreeMap<String, String>,
}

/// Everything AWS holds about one permission set.
#[derive(Clone, Debug, PartialEq)]
struct Remote {
    set: PermissionSet,
    inline: Option<String>,
    managed: BTreeSet<String>,
    customer: BTreeSet<CustomerManagedPolicyRef>,
    boundary: Option<PermissionsBoundary>,
    tags: BTreeMap<String, String>,
    /// Accounts running an older version of the set than its latest change.
    outdated_accounts: BTreeSet<String>,
}

fn policy_ref(name: &str, path: Option<&str>) -> CustomerManagedPolicyRef {
    CustomerManagedPolicyRef {
        name: name.to_owned(),
        path: Some(path.unwrap_or(DEFAULT_POLICY_PATH).to_owned()),
    }
}

fn normalise_ref(reference: CustomerManagedPolicyRef) -> CustomerManagedPolicyRef {
    policy_ref(&reference.name, reference.path.as_deref())
}

fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

impl Desired {
    fn from_plan(planned: &Value) -> Desired {
        let boundary = planned.get("permissions_boundary");
        let boundary = if boundary.is_null() {
            None
        } else if let Some(arn) = boundary.get_str("managed_policy_arn") {
            Some(PermissionsBoundary::ManagedPolicy {
                arn: arn.to_owned(),
            })
        } else {
            let reference = boundary.get("customer_managed_policy");
            reference.get_str("name").map(|name| {
                PermissionsBoundary::CustomerManagedPolicy(policy_ref(
                    name,
                    reference.get_str("path"),
                ))
            })
        };
        Desired {
            name: planned.get_str("name").unwrap_or_default().to_owned(),
            description: planned.get_str("description").map(str::to_owned),
            session_duration: planned
                .get_str("session_duration")
                .unwrap_or(DEFAULT_SESSION_DURATION)
                .to_owned(),
            relay_state: planned.get_str("relay_state").map(str::to_owned),
            managed: planned
                .get("managed_policy_arns")
                .string_elements()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            customer: planned
                .get("customer_managed_policy")
                .iter()
                .filter_map(|p| p.get_str("name").map(|n| policy_ref(n, p.get_str("path"))))
                .collect(),
            inline: planned.get_str("inline_policy").map(str::to_owned),
            boundary,
            tags: string_map(planned.get("tags")),
        }
    }
}

fn boundary_value(boundary: &Option<PermissionsBoundary>) -> Value {
    match boundary {
        None => Value::Null,
        Some(PermissionsBoundary::ManagedPolicy { arn }) => Value::object([
            ("managed_policy_arn", Value::from(arn.as_str())),
            ("customer_managed_policy", Value::Null),
        ]),
        Some(PermissionsBoundary::CustomerManagedPolicy(reference)) => {
            let reference = normalise_ref(reference.clone());
            Value::object([
                ("managed_policy_arn", Value::Null),
                (
                    "customer_managed_policy",
                    Value::object([
                        ("name", Value::from(reference.name)),
                        ("path", Value::from(reference.path)),
                    ]),
                ),
            ])
        }
    }
}

fn created_date(set: &PermissionSet) -> Value {
    set.created_epoch_seconds
        .and_then(|s| DateTime::from_secs(s).fmt(Format::DateTime).ok())
        .into()
}

/// The state for what AWS holds, keeping the prior state's spelling wherever it means the same (inline
/// policy text, session duration, empty vs. absent collections).
fn state_from_remote(prior: &Value, instance_arn: &str, remote: &Remote) -> Value {
    let set = &remote.set;
    let session_duration = match (prior.get_str("session_duration"), &set.session_duration) {
        (Some(old), Some(new)) if same_session_duration(old, new) => Some(old.to_owned()),
        (_, new) => new
            .clone()
            .or_else(|| Some(DEFAULT_SESSION_DURATION.to_owned())),
    };
    let inline_policy = match (prior.get_str("inline_policy"), &remote.inline) {
        (Some(old), Some(new)) if same_json(old, new) => Some(old.to_owned()),
        (_, new) => new.clone(),
    };
    let managed = if remote.managed.is_empty() && prior.get("managed_policy_arns").is_null() {
        Value::Null
    } else {
        Value::set(remote.managed.iter().map(|a| Value::from(a.as_str())))
    };
    let tags = if remote.tags.is_empty() && prior.get("tags").is_null() {
        Value::Null
    } else {
        Value::map(
            remote
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str()))),
        )
    };
    let customer = Value::set(remote.customer.iter().map(|r| {
        Value::object([
            ("name", Value::from(r.name.as_str())),
            ("path", Value::from(r.path.clone())),
        ])
    }));
    prior
        .clone()
        .with("id", set.arn.as_str())
        .with("arn", set.arn.as_str())
        .with("instance_arn", instance_arn)
        .with("name", set.name.as_str())
        .with("description", set.description.clone())
        .with("session_duration", session_duration)
        .with("relay_state", set.relay_state.clone())
        .with("managed_policy_arns", managed)
        .with("customer_managed_policy", customer)
        .with("inline_policy", inline_policy)
        .with("permissions_boundary", boundary_value(&remote.boundary))
        .with("tags", tags)
        .with("created_date", created_date(set))
        .with(
            "outdated_accounts",
            Value::set(
                remote
                    .outdated_accounts
                    .iter()
                    .map(|a| Value::from(a.as_str())),
            ),
        )
}

// ------------------------------------------------------------------------------------------ AWS side

/// Reads the whole permission set; `None` when it no longer exists.
async fn fetch_remote(
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
async fn converge(
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
            .is_some_and(|d| same_session_duration(d, &desired.session_duration));
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

// ------------------------------------------------------------------------------------------ plan helpers

/// Puts `/` into planned `path` attributes the configuration leaves out, in the elements of a set of
/// `{name, path}` objects (or a single such object).
fn default_paths(config: &Value, planned: &mut Value) {
    let fill = |element: &mut Value, config_elements: &[&Value]| {
        if !element.get("path").is_unknown() {
            return;
        }
        let configured_path = config_elements
            .iter()
            .find(|c| c.get("name") == element.get("name"))
            .map(|c| c.get("path").clone())
            .unwrap_or(Value::Null);
        if configured_path.is_null() {
            element.set_attr("path", DEFAULT_POLICY_PATH);
        }
    };
    match planned {
        Value::Set(items) | Value::List(items) => {
            let config_elements: Vec<&Value> = config.iter().collect();
            for item in items.iter_mut() {
                fill(item, &config_elements);
            }
        }
        Value::Object(_) => fill(planned, &[config]),
        _ => {}
    }
}

// ------------------------------------------------------------------------------------------ resource

pub struct PermissionSetResource;

fn policy_reference_block(description: &str) -> Block {
    Block::new()
        .description(description)
        .attribute(
            Attribute::string("name")
                .required()
                .description("Name of the IAM policy, which must exist in every account the set is provisioned to.")
                .validator(validate_length("policy name", 1, 128)),
        )
        .attribute(
            Attribute::string("path")
                .optional()
                .computed()
                .description("IAM path of the policy; `/` when not set.")
                .validator(|value, path| match value.as_str() {
                    Some(p) if !(p.starts_with('/') && p.ends_with('/')) => Diagnostic::error(
                        "Invalid policy path",
                        format!("{p:?} is not an IAM path: it must start and end with `/`, e.g. `/` or `/team/`."),
                    )
                    .at(path.clone())
                    .into(),
                    _ => Diagnostics::new(),
                }),
        )
}

fn deadline(ctx: &Context) -> Deadline {
    Deadline::after(ctx.remaining())
}

#[async_trait]
impl Resource for PermissionSetResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .description(
                "An AWS IAM Identity Center permission set: session settings, AWS managed and customer managed \
                 policies, an inline policy, a permissions boundary and tags. After every change the set is \
                 provisioned again to the accounts it is provisioned to.",
            )
            .attribute(
                Attribute::string("id")
                    .computed()
                    .use_state_for_unknown()
                    .description("The permission set ARN."),
            )
            .attribute(
                Attribute::string("arn")
                    .computed()
                    .use_state_for_unknown()
                    .description("The permission set ARN (`arn:aws:sso:::permissionSet/ssoins-.../ps-...`)."),
            )
            .attribute(
                Attribute::string("instance_arn")
                    .optional()
                    .computed()
                    .use_state_for_unknown()
                    .requires_replace()
                    .description(
                        "ARN of the IAM Identity Center instance. When not set, the only instance visible to the \
                         provider's AWS credentials is used. Changing it creates a new permission set.",
                    ),
            )
            .attribute(
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .validator(validate_name)
                    .description(
                        "Name shown in the AWS access portal (1-32 characters: letters, digits, `+=,.@-_`). \
                         Changing it creates a new permission set.",
                    ),
            )
            .attribute(
                Attribute::string("description")
                    .optional()
                    .validator(validate_length("description", 1, 700))
                    .description("Description of the permission set."),
            )
            .attribute(
                Attribute::string("session_duration")
                    .optional()
                    .computed()
                    .validator(validate_session_duration)
                    .description(
                        "How long an access portal session lasts, as an ISO 8601 duration from `PT15M` to `PT12H`; \
                         `PT1H` when not set.",
                    ),
            )
            .attribute(
                Attribute::string("relay_state")
                    .optional()
                    .validator(validate_length("relay state", 1, 240))
                    .description("URL users land on in the AWS console after signing in through the set."),
            )
            .attribute(
                Attribute::set("managed_policy_arns", Type::String)
                    .optional()
                    .validator(validate_managed_policy_arns)
                    .description("ARNs of AWS managed policies to attach, e.g. `arn:aws:iam::aws:policy/ReadOnlyAccess`."),
            )
            .attribute(
                Attribute::string("inline_policy")
                    .optional()
                    .validator(validate_inline_policy)
                    .description(
                        "An IAM policy document (JSON) embedded in the set. Compared as JSON: reformatting it \
                         or reordering keys is not a change.",
                    ),
            )
            .attribute(
                Attribute::map("tags", Type::String)
                    .optional()
                    .description("Tags of the permission set."),
            )
            .attribute(
                Attribute::string("created_date")
                    .computed()
                    .use_state_for_unknown()
                    .description("When the permission set was created (RFC 3339)."),
            )
            .attribute(
                Attribute::set("outdated_accounts", Type::String)
                    .computed()
                    .description(
                        "Accounts the permission set is provisioned to that still run an earlier version of it \
                         (a provisioning failed, or the set was changed outside Terraform). Planned empty: the \
                         next apply provisions them.",
                    ),
            )
            .block(NestedBlock::new(
                "customer_managed_policy",
                Nesting::Set,
                policy_reference_block(
                    "A customer managed policy to attach, by name and path; the policy must exist in each \
                     account the set is provisioned to.",
                ),
            ))
            .block(NestedBlock::new(
                "permissions_boundary",
                Nesting::Single,
                Block::new()
                    .description(
                        "The permissions boundary: set exactly one of `managed_policy_arn` or a \
                         `customer_managed_policy` block.",
                    )
                    .attribute(
                        Attribute::string("managed_policy_arn")
                            .optional()
                            .validator(validate_managed_policy_arn)
                            .description("ARN of an AWS managed policy used as the boundary."),
                    )
                    .block(NestedBlock::new(
                        "customer_managed_policy",
                        Nesting::Single,
                        policy_reference_block("A customer managed policy used as the boundary."),
                    )),
            ))
            .block(NestedBlock::timeouts(&[
                Operation::Create,
                Operation::Read,
                Operation::Update,
                Operation::Delete,
            ]))
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let boundary = config.get("permissions_boundary");
        if boundary.is_present() {
            let arn = boundary.get("managed_policy_arn");
            let reference = boundary.get("customer_managed_policy");
            if !arn.is_unknown() && !reference.is_unknown() && arn.is_null() == reference.is_null()
            {
                diags.error_at(
                    AttributePath::new("permissions_boundary"),
                    "Invalid permissions boundary",
                    "Set exactly one of `managed_policy_arn` or a `customer_managed_policy` block in \
                     `permissions_boundary`.",
                );
            }
        }
        diags
    }

    async fn modify_plan(&self, _ctx: &Context, plan: &mut PlanChange) -> Result<(), Diagnostics> {
        if plan.is_destroy() {
            return Ok(());
        }
        let config = plan.config.clone();
        // Every apply leaves the set provisioned everywhere; accounts read as outdated make this an update.
        plan.planned.set_attr("outdated_accounts", Value::set([]));
        if config.get("session_duration").is_null() {
            plan.planned
                .set_attr("session_duration", DEFAULT_SESSION_DURATION);
        }
        if let Some(planned) = plan
            .planned
            .at_path_mut(&AttributePath::new("customer_managed_policy"))
        {
            default_paths(config.get("customer_managed_policy"), planned);
        }
        let boundary_reference =
            AttributePath::new("permissions_boundary").attribute("customer_managed_policy");
        if let Some(planned) = plan.planned.at_path_mut(&boundary_reference) {
            default_paths(
                config
                    .get("permissions_boundary")
                    .get("customer_managed_policy"),
                planned,
            );
        }
        // A prior value that means the same is kept: Terraform accepts it as "no change".
        for (attribute, same) in [
            ("inline_policy", same_json as fn(&str, &str) -> bool),
            ("session_duration", same_session_duration),
        ] {
            if let (Some(configured), Some(prior)) = (
                plan.planned.get_str(attribute),
                plan.prior.get_str(attribute),
            ) && configured != prior
                && same(configured, prior)
            {
                let prior = prior.to_owned();
                plan.planned.set_attr(attribute, prior);
            }
        }
        Ok(())
    }

    async fn create(&self, ctx: &Context, request: CreateRequest) -> Result<Value, ApplyError> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let ic = clients.identity_center().await?;
        let deadline = deadline(ctx);
        let planned = request.planned;
        let instance_arn = match planned.get_str("instance_arn") {
            Some(arn) => arn.to_owned(),
            None => {
                ctx.guard(find_instance(
                    &ic,
                    None,
                    deadline,
                    AttributePath::new("instance_arn"),
                ))
                .await?
                .instance_arn
            }
        };
        let desired = Desired::from_plan(&planned);
        let new = NewPermissionSet {
            name: desired.name.clone(),
            description: desired.description.clone(),
            session_duration: Some(desired.session_duration.clone()),
            relay_state: desired.relay_state.clone(),
            tags: desired.tags.clone(),
        };
        let created = ctx
            .guard(async {
                match ic
                    .create_permission_set(&instance_arn, &new, deadline)
                    .await
                {
                    Ok(set) => Ok(Ok(set)),
                    Err(e) if e.aws_error().is_some_and(|a| a.kind == ErrorKind::Conflict) => {
                        Ok(Err(e))
                    }
                    Err(e) => Err(aws_error("Cannot create the permission set", &e).into()),
                }
            })
            .await?;
        let (arn, current) = match created {
            Ok(set) => {
                let current = Remote {
                    set: set.clone(),
                    inline: None,
                    managed: BTreeSet::new(),
                    customer: BTreeSet::new(),
                    boundary: None,
                    tags: desired.tags.clone(),
                    outdated_accounts: BTreeSet::new(),
                };
                (set.arn, current)
            }
            Err(conflict) => {
                // AWS says the name is taken: most often our own earlier attempt whose answer was lost.
                let adopted = ctx
                    .guard(async {
                        let found = find_by_name(&ic, &instance_arn, &desired.name, deadline)
                            .await
                            .map_err(|e| {
                                aws_error("Cannot look up the existing permission set", &e)
                            })?;
                        let Some(found) = found else {
                            return Err(
                                aws_error("Cannot create the permission set", &conflict).into()
                            );
                        };
                        fetch_remote(&ic, &instance_arn, &found.arn, deadline)
                            .await
                            .map_err(|e| aws_error("Cannot read the existing permission set", &e))?
                            .ok_or_else(|| {
                                Diagnostics::from(aws_error(
                                    "Cannot create the permission set",
                                    &conflict,
                                ))
                            })
                    })
                    .await?;
                ctx.warn(
                    "Existing permission set adopted",
                    format!(
                        "AWS refused to create permission set {:?} because one with that name already exists \
                         ({}); this happens when an earlier create succeeded but its answer was lost. The existing \
                         permission set is now managed by Terraform and was updated to match the configuration. \
                         If it belonged to someone else, remove it from the state (`terraform state rm`) and \
                         choose another name.",
                        desired.name, adopted.set.arn
                    ),
                );
                (adopted.set.arn.clone(), adopted)
            }
        };
        let mut state = planned
            .clone()
            .with("id", arn.as_str())
            .with("arn", arn.as_str())
            .with("instance_arn", instance_arn.as_str())
            .with("created_date", created_date(&current.set));
        let converged = ctx
            .guard(converge(
                &ic,
                &instance_arn,
                &arn,
                &current,
                &desired,
                deadline,
            ))
            .await;
        if let Err(diagnostics) = converged {
            // Saved (tainted) so the half-configured permission set is not orphaned.
            let partial = match fetch_remote(&ic, &instance_arn, &arn, deadline).await {
                Ok(Some(remote)) => state_from_remote(&state, &instance_arn, &remote),
                _ => state.clone(),
            };
            return Err(ApplyError::from(diagnostics).with_partial_state(partial));
        }
        if state.get("created_date").is_unknown() || state.get("created_date").is_null() {
            let set = ctx
                .guard(async {
                    ic.describe_permission_set(&instance_arn, &arn, deadline)
                        .await
                        .map_err(|e| aws_error("Cannot read the new permission set", &e).into())
                })
                .await
                .map_err(|d| ApplyError::from(d).with_partial_state(state.clone()))?;
            state.set_attr("created_date", created_date(&set));
        }
        Ok(state)
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let ic = clients.identity_center().await?;
        let (Some(arn), Some(instance_arn)) = (
            state.get_str("arn").or(state.get_str("id")),
            state.get_str("instance_arn"),
        ) else {
            return Err(Diagnostic::error(
                "Incomplete permission set state",
                "The state has no permission set or instance ARN. Remove the resource from the state and import \
                 it by its permission set ARN.",
            )
            .into());
        };
        let remote = ctx
            .guard(async {
                fetch_remote(&ic, instance_arn, arn, deadline(ctx))
                    .await
                    .map_err(|e| aws_error("Cannot read the permission set", &e).into())
            })
            .await?;
        Ok(remote.map(|remote| state_from_remote(&state, instance_arn, &remote)))
    }

    async fn update(&self, ctx: &Context, request: UpdateRequest) -> Result<Value, ApplyError> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let ic = clients.identity_center().await?;
        let deadline = deadline(ctx);
        let planned = request.planned;
        let (Some(arn), Some(instance_arn)) =
            (planned.get_str("arn"), planned.get_str("instance_arn"))
        else {
            return Err(Diagnostic::error(
                "Incomplete permission set state",
                "The plan has no permission set or instance ARN; this is a bug in the provider.",
            )
            .into());
        };
        let desired = Desired::from_plan(&planned);
        let result = ctx
            .guard(async {
                let current = fetch_remote(&ic, instance_arn, arn, deadline)
                    .await
                    .map_err(|e| aws_error("Cannot read the permission set", &e))?
                    .ok_or_else(|| {
                        Diagnostic::error(
                            "Permission set deleted outside Terraform",
                            format!(
                                "{arn} no longer exists. Run `terraform apply` again: the refresh removes it from \
                                 the state and the plan creates it anew."
                            ),
                        )
                    })?;
                converge(&ic, instance_arn, arn, &current, &desired, deadline).await
            })
            .await;
        match result {
            Ok(()) => Ok(planned),
            Err(diagnostics) => {
                let partial = match fetch_remote(&ic, instance_arn, arn, deadline).await {
                    Ok(Some(remote)) => state_from_remote(&request.prior, instance_arn, &remote),
                    _ => request.prior.clone(),
                };
                Err(ApplyError::from(diagnostics).with_partial_state(partial))
            }
        }
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let ic = clients.identity_center().await?;
        let (Some(arn), Some(instance_arn)) = (state.get_str("arn"), state.get_str("instance_arn"))
        else {
            return Ok(());
        };
        ctx.guard(async {
            match ic
                .delete_permission_set(instance_arn, arn, deadline(ctx))
                .await
            {
                Ok(()) => Ok(()),
                Err(e) if e.is_not_found() => Ok(()),
                Err(e) => Err(aws_error("Cannot delete the permission set", &e).into()),
            }
        })
        .await
    }

    async fn import_state(&self, _ctx: &Context, id: &str) -> Result<Value, Diagnostics> {
        let Some(instance_arn) = instance_arn_of(id) else {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!(
                    "{id:?} is not a permission set ARN. Import with the ARN, e.g. \
                     `arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef`."
                ),
            )
            .into());
        };
        let mut state = import_passthrough(&self.schema(), "id", id);
        state.set_attr("arn", id);
        state.set_attr("instance_arn", instance_arn);
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_durations_parse_to_seconds() {
        assert_eq!(parse_iso8601_duration("PT1H"), Ok(3600));
        assert_eq!(parse_iso8601_duration("PT1H30M"), Ok(5400));
        assert_eq!(parse_iso8601_duration("PT900S"), Ok(900));
        assert_eq!(parse_iso8601_duration("P0DT8H"), Ok(8 * 3600));
        for bad in [
            "", "1H", "PT", "PTH", "PT1M1H", "PT1H1H", "P1Y", "PT1.5H", "pt1h", "PT-1H",
        ] {
            assert!(parse_iso8601_duration(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn session_duration_must_be_15_minutes_to_12_hours() {
        let path = AttributePath::new("session_duration");
        for ok in ["PT15M", "PT1H", "PT12H", "PT720M"] {
            assert!(
                validate_session_duration(&Value::from(ok), &path).is_empty(),
                "{ok}"
            );
        }
        let diags = validate_session_duration(&Value::from("PT13H"), &path);
        let diagnostic = diags.iter().next().unwrap();
        assert_eq!(diagnostic.summary, "Session duration out of range");
        assert_eq!(diagnostic.path, Some(path.clone()));
        assert!(
            diagnostic.detail.contains("13 hour(s)"),
            "{}",
            diagnostic.detail
        );
        assert!(!validate_session_duration(&Value::from("PT14M"), &path).is_empty());
        assert!(!validate_session_duration(&Value::from("one hour"), &path).is_empty());
        assert!(validate_session_duration(&Value::unknown(), &path).is_empty());
    }

    #[test]
    fn managed_policy_arns_must_have_the_aws_managed_shape() {
        for ok in [
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
            "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
        ] {
            assert!(is_aws_managed_policy_arn(ok), "{ok}");
        }
        for bad in [
            "ReadOnlyAccess",
            "arn:aws:iam::123456789012:policy/Mine",
            "arn:aws:iam::aws:role/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/",
            "arn:aws:iam::aws:policy/a//b",
            "arn:aws:iam:aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/Read Only",
        ] {
            assert!(!is_aws_managed_policy_arn(bad), "{bad}");
        }
        let path = AttributePath::new("managed_policy_arns");
        let set = Value::set([
            Value::from("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            Value::from("nope"),
        ]);
        let diags = validate_managed_policy_arns(&set, &path);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags.iter().next().unwrap().path, Some(path));
    }

    #[test]
    fn inline_policy_must_be_a_json_object_and_compares_semantically() {
        let path = AttributePath::new("inline_policy");
        assert!(
            validate_inline_policy(&Value::from(r#"{"Version":"2012-10-17"}"#), &path).is_empty()
        );
        let diags = validate_inline_policy(&Value::from(r#"{"Version": "2012-10-17",}"#), &path);
        assert_eq!(
            diags.iter().next().unwrap().summary,
            "Invalid inline policy"
        );
        assert_eq!(diags.iter().next().unwrap().path, Some(path.clone()));
        assert!(!validate_inline_policy(&Value::from("[1]"), &path).is_empty());
        assert!(same_json(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#,
            "{\n  \"Statement\": [ { \"Action\": \"s3:*\", \"Effect\": \"Allow\" } ],\n  \"Version\": \"2012-10-17\"\n}"
        ));
        assert!(!same_json(r#"{"a":[1,2]}"#, r#"{"a":[2,1]}"#));
    }

    #[test]
    fn names_follow_the_service_pattern() {
        let path = AttributePath::new("name");
        assert!(validate_name(&Value::from("Admin_Team-1+x=y,z.@"), &path).is_empty());
        assert!(!validate_name(&Value::from("has space"), &path).is_empty());
        assert!(!validate_name(&Value::from("x".repeat(33)), &path).is_empty());
        assert!(!validate_name(&Value::from(""), &path).is_empty());
    }

    #[test]
    fn instance_is_derived_from_the_permission_set_arn() {
        assert_eq!(
            instance_arn_of("arn:aws:sso:::permissionSet/ssoins-1234/ps-abcd").as_deref(),
            Some("arn:aws:sso:::instance/ssoins-1234")
        );
        assert_eq!(
            instance_arn_of("arn:aws-us-gov:sso:::permissionSet/ssoins-1/ps-2").as_deref(),
            Some("arn:aws-us-gov:sso:::instance/ssoins-1")
        );
        for bad in [
            "ps-abcd",
            "arn:aws:sso:::permissionSet/ssoins-1234",
            "arn:aws:sso:::permissionSet/ssoins-1/ps-2/x",
            "arn:aws:iam:::permissionSet/ssoins-1/ps-2",
            "arn:aws:sso:::permissionSet/ssoins-/ps-2",
        ] {
            assert_eq!(instance_arn_of(bad), None, "{bad}");
        }
    }

    fn remote() -> Remote {
        Remote {
            set: PermissionSet {
                arn: "arn:aws:sso:::permissionSet/ssoins-1/ps-1".into(),
                name: "ops".into(),
                description: Some("d".into()),
                session_duration: Some("PT60M".into()),
                relay_state: None,
                created_epoch_seconds: Some(0),
            },
            inline: Some(r#"{"b":1,"a":2}"#.into()),
            managed: BTreeSet::new(),
            customer: [policy_ref("p", None)].into_iter().collect(),
            boundary: Some(PermissionsBoundary::CustomerManagedPolicy(
                CustomerManagedPolicyRef {
                    name: "b".into(),
                    path: None,
                },
            )),
            tags: BTreeMap::new(),
            outdated_accounts: BTreeSet::new(),
        }
    }

    #[test]
    fn refreshed_state_keeps_equivalent_spellings_and_shows_real_changes() {
        let prior = Value::object([
            ("session_duration", Value::from("PT1H")),
            ("inline_policy", Value::from("{\"a\": 2, \"b\": 1}")),
            ("tags", Value::Null),
            ("managed_policy_arns", Value::Null),
        ]);
        let state = state_from_remote(&prior, "arn:aws:sso:::instance/ssoins-1", &remote());
        assert_eq!(state.get_str("session_duration"), Some("PT1H"));
        assert_eq!(state.get_str("inline_policy"), Some("{\"a\": 2, \"b\": 1}"));
        assert!(state.get("tags").is_null() && state.get("managed_policy_arns").is_null());
        assert_eq!(state.get_str("created_date"), Some("1970-01-01T00:00:00Z"));
        assert_eq!(state.get_str("id"), state.get_str("arn"));
        assert_eq!(
            state.get("customer_managed_policy"),
            &Value::set([Value::object([
                ("name", Value::from("p")),
                ("path", Value::from("/"))
            ])])
        );
        assert_eq!(
            state
                .get("permissions_boundary")
                .get("customer_managed_policy")
                .get_str("path"),
            Some("/")
        );

        let mut changed = remote();
        changed.inline = Some(r#"{"a":3}"#.into());
        changed.tags.insert("team".into(), "x".into());
        let state = state_from_remote(&prior, "arn:aws:sso:::instance/ssoins-1", &changed);
        assert_eq!(state.get_str("inline_policy"), Some(r#"{"a":3}"#));
        assert_eq!(state.get("tags").get_str("team"), Some("x"));
        assert_eq!(state.get("outdated_accounts"), &Value::set([]));

        let mut outdated = remote();
        outdated.outdated_accounts.insert("111111111111".into());
        let state = state_from_remote(&prior, "arn:aws:sso:::instance/ssoins-1", &outdated);
        assert_eq!(
            state.get("outdated_accounts"),
            &Value::set([Value::from("111111111111")])
        );
    }

    #[test]
    fn desired_state_reads_the_plan_with_default_paths() {
        let planned = Value::object([
            ("name", Value::from("ops")),
            ("session_duration", Value::from("PT2H")),
            (
                "managed_policy_arns",
                Value::set([Value::from("arn:aws:iam::aws:policy/ReadOnlyAccess")]),
            ),
            (
                "customer_managed_policy",
                Value::set([Value::object([
                    ("name", Value::from("p")),
                    ("path", Value::Null),
                ])]),
            ),
            (
                "permissions_boundary",
                Value::object([(
                    "managed_policy_arn",
                    Value::from("arn:aws:iam::aws:policy/PowerUserAccess"),
                )]),
            ),
            ("tags", Value::map([("a", Value::from("b"))])),
        ]);
        let desired = Desired::from_plan(&planned);
        assert_eq!(desired.session_duration, "PT2H");
        assert!(desired.customer.contains(&policy_ref("p", Some("/"))));
        assert_eq!(
            desired.boundary,
            Some(PermissionsBoundary::ManagedPolicy {
                arn: "arn:aws:iam::aws:policy/PowerUserAccess".into()
            })
        );
        assert_eq!(desired.tags.get("a").map(String::as_str), Some("b"));
    }

    #[test]
    fn plan_fills_default_paths_only_where_the_configuration_has_none() {
        let config = Value::set([
            Value::object([("name", Value::from("a")), ("path", Value::Null)]),
            Value::object([("name", Value::from("b")), ("path", Value::unknown())]),
        ]);
        let mut planned = Value::set([
            Value::object([("name", Value::from("a")), ("path", Value::unknown())]),
            Value::object([("name", Value::from("b")), ("path", Value::unknown())]),
        ]);
        default_paths(&config, &mut planned);
        let paths: Vec<&Value> = planned.iter().map(|e| e.get("path")).collect();
        assert_eq!(paths[0], &Value::from("/"));
        assert!(paths[1].is_unknown());
    }

    #[tokio::test]
    async fn reformatted_inline_policy_plans_no_change() {
        let prior = Value::object([
            ("name", Value::from("ops")),
            ("session_duration", Value::from("PT1H")),
            ("inline_policy", Value::from(r#"{"a":1,"b":2}"#)),
            ("outdated_accounts", Value::set([])),
        ]);
        let config = prior
            .clone()
            .with("inline_policy", "{ \"b\": 2,\n \"a\": 1 }")
            .with("session_duration", Value::Null);
        let mut plan = PlanChange {
            config: config.clone(),
            prior: prior.clone(),
            planned: config.clone().with("session_duration", Value::unknown()),
            requires_replace: Vec::new(),
        };
        let ctx = Context::for_tests(TYPE_NAME, None);
        PermissionSetResource
            .modify_plan(&ctx, &mut plan)
            .await
            .unwrap();
        assert_eq!(plan.planned, prior);

        let mut plan = PlanChange {
            config: config.clone().with("inline_policy", r#"{"a":1}"#),
            prior: prior.clone(),
            planned: config.with("inline_policy", r#"{"a":1}"#),
            requires_replace: Vec::new(),
        };
        PermissionSetResource
            .modify_plan(&ctx, &mut plan)
            .await
            .unwrap();
        assert_eq!(plan.planned.get_str("inline_policy"), Some(r#"{"a":1}"#));
        assert_eq!(plan.planned.get_str("session_duration"), Some("PT1H"));
    }

    #[tokio::test]
    async fn boundary_needs_exactly_one_kind() {
        let ctx = Context::for_tests(TYPE_NAME, None);
        let both = Value::object([(
            "permissions_boundary",
            Value::object([
                (
                    "managed_policy_arn",
                    Value::from("arn:aws:iam::aws:policy/ReadOnlyAccess"),
                ),
                (
                    "customer_managed_policy",
                    Value::object([("name", Value::from("x"))]),
                ),
            ]),
        )]);
        let diags = PermissionSetResource.validate_config(&ctx, &both).await;
        assert_eq!(diags.len(), 1);
        let neither = Value::object([(
            "permissions_boundary",
            Value::object([
                ("managed_policy_arn", Value::Null),
                ("customer_managed_policy", Value::Null),
            ]),
        )]);
        assert_eq!(
            PermissionSetResource
                .validate_config(&ctx, &neither)
                .await
                .len(),
            1
        );
        let one = Value::object([(
            "permissions_boundary",
            Value::object([(
                "managed_policy_arn",
                Value::from("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            )]),
        )]);
        assert!(
            PermissionSetResource
                .validate_config(&ctx, &one)
                .await
                .is_empty()
        );
        assert!(PermissionSetResource.schema().check(TYPE_NAME).is_empty());
    }
}
