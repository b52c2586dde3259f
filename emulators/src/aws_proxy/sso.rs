//! sso-admin operations the proxy answers itself or around moto. Inside this module every permission set ARN
//! is in moto's shape; [`dispatch`] converts at the edges.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::json::{AwsError, required_str, to_aws_arns, to_moto_arns};
use super::state::{AccessControlConfiguration, AsyncKind, AsyncRequest};
use super::{Proxy, Service};

pub(super) async fn dispatch(
    proxy: &Proxy,
    operation: &str,
    mut input: Value,
) -> Result<Value, AwsError> {
    to_moto_arns(&mut input);
    let outdates_accounts = changes_provisioned_content(operation);
    let mut output = match operation {
        "DescribeInstance" => describe_instance(proxy, &input).await?,
        "CreatePermissionSet" => create_permission_set(proxy, &input).await?,
        "UpdatePermissionSet" => {
            check_session_duration(&input)?;
            proxy.moto(Service::SsoAdmin, operation, &input).await?
        }
        "DescribePermissionSet" => {
            hide_lagging(proxy, &input)?;
            proxy.moto(Service::SsoAdmin, operation, &input).await?
        }
        "ListPermissionSets" => {
            let mut output = proxy.moto(Service::SsoAdmin, operation, &input).await?;
            leave_out_lagging(proxy, &mut output);
            output
        }
        "AttachManagedPolicyToPermissionSet" | "DetachManagedPolicyFromPermissionSet" => {
            change_managed_policy(proxy, operation, &input).await?
        }
        "ListManagedPoliciesInPermissionSet" => list_managed_policies(proxy, &input).await?,
        "CreateInstanceAccessControlAttributeConfiguration"
        | "DescribeInstanceAccessControlAttributeConfiguration"
        | "UpdateInstanceAccessControlAttributeConfiguration"
        | "DeleteInstanceAccessControlAttributeConfiguration" => {
            access_control_attributes(proxy, operation, &input).await?
        }
        "DeletePermissionSet" => delete_permission_set(proxy, &input).await?,
        "CreateAccountAssignment" => {
            change_assignment(proxy, &input, AsyncKind::AssignmentCreation).await?
        }
        "DeleteAccountAssignment" => {
            change_assignment(proxy, &input, AsyncKind::AssignmentDeletion).await?
        }
        "DescribeAccountAssignmentCreationStatus" => describe_async(
            proxy,
            &input,
            AsyncKind::AssignmentCreation,
            "AccountAssignmentCreationRequestId",
            "AccountAssignmentCreationStatus",
        )?,
        "DescribeAccountAssignmentDeletionStatus" => describe_async(
            proxy,
            &input,
            AsyncKind::AssignmentDeletion,
            "AccountAssignmentDeletionRequestId",
            "AccountAssignmentDeletionStatus",
        )?,
        "ListAccountAssignmentCreationStatus" => list_async(
            proxy,
            &input,
            AsyncKind::AssignmentCreation,
            "AccountAssignmentsCreationStatus",
        )?,
        "ListAccountAssignmentDeletionStatus" => list_async(
            proxy,
            &input,
            AsyncKind::AssignmentDeletion,
            "AccountAssignmentsDeletionStatus",
        )?,
        "ProvisionPermissionSet" => provision_permission_set(proxy, &input).await?,
        "DescribePermissionSetProvisioningStatus" => describe_async(
            proxy,
            &input,
            AsyncKind::Provisioning,
            "ProvisionPermissionSetRequestId",
            "PermissionSetProvisioningStatus",
        )?,
        "ListPermissionSetProvisioningStatus" => list_async(
            proxy,
            &input,
            AsyncKind::Provisioning,
            "PermissionSetsProvisioningStatus",
        )?,
        "PutPermissionsBoundaryToPermissionSet" => put_boundary(proxy, &input).await?,
        "GetPermissionsBoundaryForPermissionSet" => get_boundary(proxy, &input).await?,
        "DeletePermissionsBoundaryFromPermissionSet" => delete_boundary(proxy, &input).await?,
        "TagResource" => tag_resource(proxy, &input).await?,
        "UntagResource" => untag_resource(proxy, &input).await?,
        "ListTagsForResource" => list_tags(proxy, &input).await?,
        "ListAccountsForProvisionedPermissionSet" => {
            accounts_for_permission_set(proxy, &input).await?
        }
        "ListPermissionSetsProvisionedToAccount" => permission_sets_for_account(proxy, &input)?,
        _ => proxy.moto(Service::SsoAdmin, operation, &input).await?,
    };
    if answered_in_full(operation) {
        output = proxy.models.sso_admin.paginate(operation, &input, output)?;
    }
    if outdates_accounts && let Some(arn) = input.get("PermissionSetArn").and_then(Value::as_str) {
        mark_outdated(proxy, arn);
    }
    to_aws_arns(&mut output);
    session_durations_as_iso8601(&mut output);
    Ok(output)
}

/// The List operations whose whole result the proxy computes; one page of it is answered per the model's
/// paginator. moto pages the others itself.
fn answered_in_full(operation: &str) -> bool {
    matches!(
        operation,
        "ListAccountAssignmentCreationStatus"
            | "ListAccountAssignmentDeletionStatus"
            | "ListPermissionSetProvisioningStatus"
            | "ListAccountsForProvisionedPermissionSet"
            | "ListPermissionSetsProvisionedToAccount"
            | "ListTagsForResource"
    )
}

/// A permission set created less than `read_lag_ms` ago is not found yet.
fn hide_lagging(proxy: &Proxy, input: &Value) -> Result<(), AwsError> {
    let arn = required_str(input, "PermissionSetArn")?;
    if proxy.state().lagging(arn, Instant::now()) {
        return Err(AwsError::not_found(format!(
            "Could not find PermissionSet with id {}",
            permission_set_id(arn)
        )));
    }
    Ok(())
}

fn leave_out_lagging(proxy: &Proxy, output: &mut Value) {
    let state = proxy.state();
    let now = Instant::now();
    if let Some(arns) = output
        .get_mut("PermissionSets")
        .and_then(Value::as_array_mut)
    {
        arns.retain(|arn| !arn.as_str().is_some_and(|arn| state.lagging(arn, now)));
    }
}

/// AWS IAM Identity Center user guide ("Set session duration"): a permission set's session lasts 1 to 12
/// hours. The model's `Duration` pattern admits any ISO-8601 duration, so this is checked on its own.
fn check_session_duration(input: &Value) -> Result<(), AwsError> {
    let Some(duration) = input.get("SessionDuration").and_then(Value::as_str) else {
        return Ok(());
    };
    match iso8601_seconds(duration) {
        Some(seconds) if (3600..=12 * 3600).contains(&seconds) => Ok(()),
        _ => Err(AwsError::validation(format!(
            "1 validation error detected: Value '{duration}' at 'sessionDuration' failed to satisfy constraint: \
             the session duration must be between PT1H and PT12H"
        ))),
    }
}

/// Seconds of a time-only ISO-8601 duration (`PT2H30M`); `None` for anything with a date part or fractions.
fn iso8601_seconds(duration: &str) -> Option<u64> {
    let mut rest = duration.strip_prefix("PT")?;
    if rest.is_empty() {
        return None;
    }
    let mut seconds = 0;
    for (unit, factor) in [('H', 3600), ('M', 60), ('S', 1)] {
        if let Some((number, tail)) = rest.split_once(unit)
            && !number.is_empty()
            && number.bytes().all(|byte| byte.is_ascii_digit())
        {
            seconds += number.parse::<u64>().ok()? * factor;
            rest = tail;
        }
    }
    rest.is_empty().then_some(seconds)
}

/// Writes that change what a permission set grants: the accounts it is provisioned to keep running the
/// previous version until ProvisionPermissionSet (AWS's console shows them as needing an update). Tags do not
/// reach the accounts.
fn changes_provisioned_content(operation: &str) -> bool {
    matches!(
        operation,
        "UpdatePermissionSet"
            | "PutInlinePolicyToPermissionSet"
            | "DeleteInlinePolicyFromPermissionSet"
            | "AttachManagedPolicyToPermissionSet"
            | "DetachManagedPolicyFromPermissionSet"
            | "AttachCustomerManagedPolicyReferenceToPermissionSet"
            | "DetachCustomerManagedPolicyReferenceFromPermissionSet"
            | "PutPermissionsBoundaryToPermissionSet"
            | "DeletePermissionsBoundaryFromPermissionSet"
    )
}

fn mark_outdated(proxy: &Proxy, permission_set_arn: &str) {
    let mut state = proxy.state();
    let accounts = state
        .provisioned_accounts
        .get(permission_set_arn)
        .cloned()
        .unwrap_or_default();
    if !accounts.is_empty() {
        state
            .outdated_accounts
            .insert(permission_set_arn.to_owned(), accounts);
    }
}

/// moto answers the default session duration as a number of seconds (`3600`); AWS always answers an ISO-8601
/// duration string (`"PT1H"`), and the SDKs fail to parse anything else.
fn session_durations_as_iso8601(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                if key == "SessionDuration"
                    && let Some(seconds) = member.as_u64()
                {
                    *member = json!(iso8601_duration(seconds));
                } else {
                    session_durations_as_iso8601(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(session_durations_as_iso8601),
        _ => {}
    }
}

fn iso8601_duration(seconds: u64) -> String {
    let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut text = String::from("PT");
    if hours > 0 {
        text.push_str(&format!("{hours}H"));
    }
    if minutes > 0 {
        text.push_str(&format!("{minutes}M"));
    }
    if rest > 0 || seconds == 0 {
        text.push_str(&format!("{rest}S"));
    }
    text
}

fn epoch_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs_f64())
        .unwrap_or_default()
}

fn permission_set_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Same comparison whichever ARN shape the failure-injection list was written in.
fn same_permission_set(configured: &str, moto_arn: &str) -> bool {
    let mut configured = Value::from(configured);
    to_moto_arns(&mut configured);
    configured.as_str() == Some(moto_arn)
}

pub(super) async fn instances(proxy: &Proxy) -> Result<Vec<Value>, AwsError> {
    let listed = proxy
        .moto(Service::SsoAdmin, "ListInstances", &json!({}))
        .await?;
    Ok(listed
        .get("Instances")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

async fn instance(proxy: &Proxy, instance_arn: &str) -> Result<Value, AwsError> {
    instances(proxy)
        .await?
        .into_iter()
        .find(|instance| instance.get("InstanceArn").and_then(Value::as_str) == Some(instance_arn))
        .ok_or_else(|| AwsError::not_found(format!("Instance {instance_arn} does not exist")))
}

async fn describe_instance(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let instance_arn = required_str(input, "InstanceArn")?;
    let mut instance = instance(proxy, instance_arn).await?;
    if let Some(object) = instance.as_object_mut() {
        object.entry("Status").or_insert_with(|| json!("ACTIVE"));
    }
    Ok(instance)
}

/// AWS managed policies live under IAM paths (`arn:aws:iam::aws:policy/job-function/ViewOnlyAccess`); moto
/// reads its bundled policy list without their paths and knows each only as `arn:aws:iam::aws:policy/<name>`.
/// The proxy checks the full ARN against the path moto's list records, hands moto the form it finds, and
/// answers the full ARN again in listings.
async fn change_managed_policy(
    proxy: &Proxy,
    operation: &str,
    input: &Value,
) -> Result<Value, AwsError> {
    let permission_set_arn = required_str(input, "PermissionSetArn")?.to_owned();
    let arn = required_str(input, "ManagedPolicyArn")?.to_owned();
    let Some((prefix, path, name)) = split_managed_policy_arn(&arn) else {
        return proxy.moto(Service::SsoAdmin, operation, input).await;
    };
    if path == "/" {
        return proxy.moto(Service::SsoAdmin, operation, input).await;
    }
    let attaching = operation == "AttachManagedPolicyToPermissionSet";
    if attaching
        && proxy
            .models
            .aws_managed_policy_paths
            .get(name)
            .map(String::as_str)
            != Some(path)
    {
        return Err(AwsError::not_found(format!(
            "Policy does not exist with ARN: {arn}"
        )));
    }
    let mut forwarded = input.clone();
    forwarded["ManagedPolicyArn"] = json!(format!("{prefix}/{name}"));
    let output = proxy.moto(Service::SsoAdmin, operation, &forwarded).await?;
    let mut state = proxy.state();
    let paths = state
        .managed_policy_paths
        .entry(permission_set_arn)
        .or_default();
    if attaching {
        paths.insert(name.to_owned(), arn.clone());
    } else {
        paths.remove(name);
    }
    Ok(output)
}

/// `arn:aws:iam::aws:policy/job-function/ViewOnlyAccess` → (`arn:aws:iam::aws:policy`, `/job-function/`,
/// `ViewOnlyAccess`).
fn split_managed_policy_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let start = arn.find(":policy/")? + ":policy".len();
    let (prefix, path_and_name) = arn.split_at(start);
    let name_start = path_and_name.rfind('/')? + 1;
    let (path, name) = path_and_name.split_at(name_start);
    Some((prefix, path, name))
}

async fn list_managed_policies(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let mut output = proxy
        .moto(
            Service::SsoAdmin,
            "ListManagedPoliciesInPermissionSet",
            input,
        )
        .await?;
    let permission_set_arn = required_str(input, "PermissionSetArn")?;
    let state = proxy.state();
    if let (Some(paths), Some(policies)) = (
        state.managed_policy_paths.get(permission_set_arn),
        output
            .get_mut("AttachedManagedPolicies")
            .and_then(Value::as_array_mut),
    ) {
        for policy in policies {
            if let Some(full_arn) = policy
                .get("Name")
                .and_then(Value::as_str)
                .and_then(|name| paths.get(name))
            {
                policy["Arn"] = json!(full_arn);
            }
        }
    }
    Ok(output)
}

/// `Create/Describe/Update/DeleteInstanceAccessControlAttributeConfiguration` (moto has none of them), per
/// the sso-admin API reference: one configuration per instance; Create of a second → `ConflictException`;
/// the others without one → `ResourceNotFoundException`; Describe answers `CREATION_IN_PROGRESS` until the
/// creation completes (`complete_ms`), then `ENABLED`.
async fn access_control_attributes(
    proxy: &Proxy,
    operation: &str,
    input: &Value,
) -> Result<Value, AwsError> {
    let instance_arn = required_str(input, "InstanceArn")?;
    instance(proxy, instance_arn).await?;
    let attributes = input.get("InstanceAccessControlAttributeConfiguration");
    let missing = || {
        AwsError::not_found(format!(
            "No access control attribute configuration exists for instance {instance_arn}"
        ))
    };
    let mut state = proxy.state();
    let now = Instant::now();
    match operation {
        "CreateInstanceAccessControlAttributeConfiguration" => {
            if state.access_control.contains_key(instance_arn) {
                return Err(AwsError::conflict(format!(
                    "An access control attribute configuration already exists for instance {instance_arn}"
                )));
            }
            let completes_at = state.completion_time(now);
            state.access_control.insert(
                instance_arn.to_owned(),
                AccessControlConfiguration {
                    attributes: attributes.cloned().unwrap_or_default(),
                    completes_at,
                },
            );
            Ok(json!({}))
        }
        "UpdateInstanceAccessControlAttributeConfiguration" => {
            let configuration = state
                .access_control
                .get_mut(instance_arn)
                .ok_or_else(missing)?;
            configuration.attributes = attributes.cloned().unwrap_or_default();
            Ok(json!({}))
        }
        "DeleteInstanceAccessControlAttributeConfiguration" => {
            state
                .access_control
                .remove(instance_arn)
                .ok_or_else(missing)?;
            Ok(json!({}))
        }
        _ => {
            let configuration = state.access_control.get(instance_arn).ok_or_else(missing)?;
            let status = if now < configuration.completes_at {
                "CREATION_IN_PROGRESS"
            } else {
                "ENABLED"
            };
            Ok(json!({
                "Status": status,
                "InstanceAccessControlAttributeConfiguration": configuration.attributes,
            }))
        }
    }
}

async fn ensure_permission_set(
    proxy: &Proxy,
    instance_arn: &str,
    permission_set_arn: &str,
) -> Result<(), AwsError> {
    let request = json!({"InstanceArn": instance_arn, "PermissionSetArn": permission_set_arn});
    match proxy
        .moto(Service::SsoAdmin, "DescribePermissionSet", &request)
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if error.status.is_server_error() => Err(error),
        Err(_) => Err(AwsError::not_found(format!(
            "Could not find PermissionSet with id {}",
            permission_set_id(permission_set_arn)
        ))),
    }
}

/// Whether the instance already has a permission set called `name` (AWS refuses a second one; moto does not).
async fn permission_set_name_taken(
    proxy: &Proxy,
    instance_arn: &str,
    name: &str,
) -> Result<bool, AwsError> {
    let mut next_token: Option<Value> = None;
    loop {
        let mut request = json!({"InstanceArn": instance_arn});
        if let Some(token) = next_token.take() {
            request["NextToken"] = token;
        }
        let page = proxy
            .moto(Service::SsoAdmin, "ListPermissionSets", &request)
            .await?;
        for arn in page
            .get("PermissionSets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let described = proxy
                .moto(
                    Service::SsoAdmin,
                    "DescribePermissionSet",
                    &json!({"InstanceArn": instance_arn, "PermissionSetArn": arn}),
                )
                .await?;
            if described
                .pointer("/PermissionSet/Name")
                .and_then(Value::as_str)
                == Some(name)
            {
                return Ok(true);
            }
        }
        match page.get("NextToken") {
            Some(token) if token.as_str().is_some_and(|t| !t.is_empty()) => {
                next_token = Some(token.clone());
            }
            _ => return Ok(false),
        }
    }
}

async fn create_permission_set(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let instance_arn = required_str(input, "InstanceArn")?;
    let name = required_str(input, "Name")?;
    check_session_duration(input)?;
    if permission_set_name_taken(proxy, instance_arn, name).await? {
        return Err(AwsError::conflict(format!(
            "PermissionSet with name {name} already exists in instance {instance_arn}"
        )));
    }
    let output = proxy
        .moto(Service::SsoAdmin, "CreatePermissionSet", input)
        .await?;
    let created_arn = output
        .pointer("/PermissionSet/PermissionSetArn")
        .and_then(Value::as_str);
    if let Some(arn) = created_arn {
        let mut state = proxy.state();
        state.created_at.insert(arn.to_owned(), Instant::now());
        if let Some(tags) = input.get("Tags").and_then(Value::as_array) {
            let stored = state.tags.entry(arn.to_owned()).or_default();
            stored.extend(parse_tags(tags)?);
        }
    }
    Ok(output)
}

/// AWS refuses to delete a permission set that is still assigned somewhere (terraform-provider-aws#26757
/// quotes the answer): the assignments have to be deleted, and their deletion finished, first.
async fn delete_permission_set(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let instance_arn = required_str(input, "InstanceArn")?;
    let permission_set_arn = required_str(input, "PermissionSetArn")?;
    ensure_permission_set(proxy, instance_arn, permission_set_arn).await?;
    let (accounts, changing) = {
        let state = proxy.state();
        let now = Instant::now();
        let changing = state.async_requests.iter().any(|(_, request)| {
            request.kind != AsyncKind::Provisioning
                && request.in_progress(now)
                && request.status.get("PermissionSetArn") == Some(&json!(permission_set_arn))
        });
        let accounts: Vec<String> = state
            .provisioned_accounts
            .get(permission_set_arn)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        (accounts, changing)
    };
    let mut assigned = changing;
    for account in accounts {
        if assigned {
            break;
        }
        let listed = proxy
            .moto(
                Service::SsoAdmin,
                "ListAccountAssignments",
                &json!({"InstanceArn": instance_arn, "AccountId": account, "PermissionSetArn": permission_set_arn}),
            )
            .await?;
        assigned = listed
            .get("AccountAssignments")
            .and_then(Value::as_array)
            .is_some_and(|assignments| !assignments.is_empty());
    }
    if assigned {
        return Err(AwsError::conflict(
            "Could not delete because PermissionSet has ApplicationProfile associated with it",
        ));
    }
    let output = proxy
        .moto(Service::SsoAdmin, "DeletePermissionSet", input)
        .await?;
    if let Some(arn) = input.get("PermissionSetArn").and_then(Value::as_str) {
        let mut state = proxy.state();
        state.tags.remove(arn);
        state.boundaries.remove(arn);
        state.provisioned_accounts.remove(arn);
        state.outdated_accounts.remove(arn);
        state.managed_policy_paths.remove(arn);
        state.created_at.remove(arn);
    }
    Ok(output)
}

/// Why the assignment will end FAILED, if it will: unknown principal (AWS accepts the call and fails it
/// asynchronously) or failure injection.
async fn assignment_failure(
    proxy: &Proxy,
    input: &Value,
    instance_arn: &str,
) -> Result<Option<String>, AwsError> {
    let principal_id = required_str(input, "PrincipalId")?;
    let permission_set_arn = required_str(input, "PermissionSetArn")?;
    {
        let state = proxy.state();
        if state
            .config
            .fail_principal_ids
            .iter()
            .any(|id| id == principal_id)
            || state
                .config
                .fail_permission_set_arns
                .iter()
                .any(|arn| same_permission_set(arn, permission_set_arn))
        {
            return Ok(Some(format!(
                "Injected failure for principal {principal_id} and permission set {}",
                permission_set_id(permission_set_arn)
            )));
        }
    }
    let store_id = instance(proxy, instance_arn)
        .await?
        .get("IdentityStoreId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let (operation, member, kind) = match required_str(input, "PrincipalType")? {
        "USER" => ("DescribeUser", "UserId", "user"),
        _ => ("DescribeGroup", "GroupId", "group"),
    };
    let request = json!({"IdentityStoreId": store_id, member: principal_id});
    match proxy
        .moto(Service::IdentityStore, operation, &request)
        .await
    {
        Ok(_) => Ok(None),
        Err(error) if error.status.is_server_error() => Err(error),
        Err(_) => Ok(Some(format!(
            "The {kind} with principal id {principal_id} does not exist in identity store {store_id}"
        ))),
    }
}

async fn change_assignment(
    proxy: &Proxy,
    input: &Value,
    kind: AsyncKind,
) -> Result<Value, AwsError> {
    let instance_arn = required_str(input, "InstanceArn")?;
    let permission_set_arn = required_str(input, "PermissionSetArn")?;
    ensure_permission_set(proxy, instance_arn, permission_set_arn).await?;
    let failure = match kind {
        AsyncKind::AssignmentCreation => assignment_failure(proxy, input, instance_arn).await?,
        _ => None,
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut status = Map::new();
    for member in [
        "TargetId",
        "TargetType",
        "PermissionSetArn",
        "PrincipalType",
        "PrincipalId",
    ] {
        if let Some(value) = input.get(member) {
            status.insert(member.into(), value.clone());
        }
    }
    status.insert("RequestId".into(), json!(request_id));
    status.insert("CreatedDate".into(), json!(epoch_seconds()));
    let record = {
        // Checked and recorded under one lock so concurrent calls cannot both take the last slot.
        let mut state = proxy.state();
        let record = AsyncRequest {
            kind,
            instance_arn: instance_arn.to_owned(),
            status,
            completes_at: state.completion_time(Instant::now()),
            failure: failure.clone(),
        };
        let config = state.config.clone();
        if config.quotas
            && state.outstanding_assignments(Instant::now()) >= config.max_outstanding_assignments
        {
            return Err(AwsError::conflict(format!(
                "There are already {} account assignment operations in progress for this instance; retry when one completes",
                config.max_outstanding_assignments
            )));
        }
        state
            .async_requests
            .push((request_id.clone(), record.clone()));
        record
    };
    let already_assigned =
        kind == AsyncKind::AssignmentCreation && assignment_exists(proxy, input).await?;
    if failure.is_none() && !already_assigned {
        let operation = match kind {
            AsyncKind::AssignmentCreation => "CreateAccountAssignment",
            _ => "DeleteAccountAssignment",
        };
        if let Err(error) = proxy.moto(Service::SsoAdmin, operation, input).await {
            proxy
                .state()
                .async_requests
                .retain(|(id, _)| *id != request_id);
            return Err(error);
        }
    }
    if failure.is_none() && kind == AsyncKind::AssignmentCreation {
        mark_provisioned(proxy, permission_set_arn, required_str(input, "TargetId")?);
    }
    let member = match kind {
        AsyncKind::AssignmentCreation => "AccountAssignmentCreationStatus",
        _ => "AccountAssignmentDeletionStatus",
    };
    Ok(json!({ member: record.render(true) }))
}

/// The latest version of the permission set now runs in `account` (provisioned to it, or assigned there).
fn mark_provisioned(proxy: &Proxy, permission_set_arn: &str, account: &str) {
    let mut state = proxy.state();
    state
        .provisioned_accounts
        .entry(permission_set_arn.to_owned())
        .or_default()
        .insert(account.to_owned());
    if let Some(outdated) = state.outdated_accounts.get_mut(permission_set_arn) {
        outdated.remove(account);
    }
}

async fn accounts_for_permission_set(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let instance_arn = required_str(input, "InstanceArn")?;
    let permission_set_arn = required_str(input, "PermissionSetArn")?;
    // The validator has checked the enum: the other value is LATEST_PERMISSION_SET_NOT_PROVISIONED.
    let latest = input
        .get("ProvisioningStatus")
        .and_then(Value::as_str)
        .map(|status| status == "LATEST_PERMISSION_SET_PROVISIONED");
    ensure_permission_set(proxy, instance_arn, permission_set_arn).await?;
    let state = proxy.state();
    let outdated = state.outdated_accounts.get(permission_set_arn);
    let accounts: Vec<String> = state
        .provisioned_accounts
        .get(permission_set_arn)
        .into_iter()
        .flatten()
        .filter(|account| {
            latest.is_none_or(|latest| latest != outdated.is_some_and(|o| o.contains(*account)))
        })
        .cloned()
        .collect();
    Ok(json!({"AccountIds": accounts}))
}

fn permission_sets_for_account(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    required_str(input, "InstanceArn")?;
    let account = required_str(input, "AccountId")?;
    let mut permission_sets: Vec<String> = proxy
        .state()
        .provisioned_accounts
        .iter()
        .filter(|(_, accounts)| accounts.contains(account))
        .map(|(permission_set, _)| permission_set.clone())
        .collect();
    permission_sets.sort();
    Ok(json!({"PermissionSets": permission_sets}))
}

/// An assignment is one (account, permission set, principal) tuple on AWS: creating it again succeeds without a
/// second copy, whereas moto would store a duplicate.
async fn assignment_exists(proxy: &Proxy, input: &Value) -> Result<bool, AwsError> {
    let request = json!({
        "InstanceArn": input["InstanceArn"],
        "AccountId": input["TargetId"],
        "PermissionSetArn": input["PermissionSetArn"],
    });
    let listed = proxy
        .moto(Service::SsoAdmin, "ListAccountAssignments", &request)
        .await?;
    Ok(listed
        .get("AccountAssignments")
        .and_then(Value::as_array)
        .is_some_and(|assignments| {
            assignments.iter().any(|assignment| {
                assignment["PrincipalType"] == input["PrincipalType"]
                    && assignment["PrincipalId"] == input["PrincipalId"]
            })
        }))
}

async fn provision_permission_set(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let instance_arn = required_str(input, "InstanceArn")?;
    let permission_set_arn = required_str(input, "PermissionSetArn")?;
    // The model cannot say that TargetId goes with TargetType AWS_ACCOUNT (ProvisionPermissionSet reference).
    if required_str(input, "TargetType")? == "AWS_ACCOUNT" && input.get("TargetId").is_none() {
        return Err(AwsError::validation(
            "TargetId is required when TargetType is AWS_ACCOUNT",
        ));
    }
    ensure_permission_set(proxy, instance_arn, permission_set_arn).await?;
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut status = Map::new();
    status.insert("RequestId".into(), json!(request_id));
    status.insert("PermissionSetArn".into(), json!(permission_set_arn));
    if let Some(account) = input.get("TargetId") {
        status.insert("AccountId".into(), account.clone());
    }
    status.insert("CreatedDate".into(), json!(epoch_seconds()));
    let record = {
        // Checked and recorded under one lock so that of two concurrent calls one is the conflict.
        let mut state = proxy.state();
        let now = Instant::now();
        if state.async_requests.iter().any(|(_, request)| {
            request.kind == AsyncKind::Provisioning
                && request.in_progress(now)
                && request.status.get("PermissionSetArn") == Some(&json!(permission_set_arn))
        }) {
            return Err(AwsError::conflict(format!(
                "Permission set {} is already being provisioned; retry when that request completes",
                permission_set_id(permission_set_arn)
            )));
        }
        let failure = state
            .config
            .fail_permission_set_arns
            .iter()
            .any(|arn| same_permission_set(arn, permission_set_arn))
            .then(|| {
                format!(
                    "Injected failure provisioning permission set {}",
                    permission_set_id(permission_set_arn)
                )
            });
        let record = AsyncRequest {
            kind: AsyncKind::Provisioning,
            instance_arn: instance_arn.to_owned(),
            status,
            completes_at: state.completion_time(now),
            failure,
        };
        state
            .async_requests
            .push((request_id.clone(), record.clone()));
        record
    };
    if record.failure.is_none() {
        if let Err(error) = proxy
            .moto(Service::SsoAdmin, "ProvisionPermissionSet", input)
            .await
        {
            proxy
                .state()
                .async_requests
                .retain(|(id, _)| *id != request_id);
            return Err(error);
        }
        match input.get("TargetId").and_then(Value::as_str) {
            Some(account) => mark_provisioned(proxy, permission_set_arn, account),
            None => {
                proxy.state().outdated_accounts.remove(permission_set_arn);
            }
        }
    }
    Ok(json!({"PermissionSetProvisioningStatus": record.render(true)}))
}

fn describe_async(
    proxy: &Proxy,
    input: &Value,
    kind: AsyncKind,
    id_member: &str,
    output_member: &str,
) -> Result<Value, AwsError> {
    required_str(input, "InstanceArn")?;
    let request_id = required_str(input, id_member)?;
    let state = proxy.state();
    let request = state
        .find_async(request_id, kind)
        .ok_or_else(|| AwsError::not_found(format!("Request {request_id} does not exist")))?;
    Ok(json!({ output_member: request.status_at(Instant::now()) }))
}

fn list_async(
    proxy: &Proxy,
    input: &Value,
    kind: AsyncKind,
    output_member: &str,
) -> Result<Value, AwsError> {
    let instance_arn = required_str(input, "InstanceArn")?;
    let wanted_status = input.pointer("/Filter/Status").and_then(Value::as_str);
    let state = proxy.state();
    let now = Instant::now();
    let items: Vec<Value> = state
        .async_requests
        .iter()
        .filter(|(_, request)| request.kind == kind && request.instance_arn == instance_arn)
        .map(|(_, request)| request.status_at(now))
        .filter(|status| wanted_status.is_none_or(|wanted| status["Status"] == wanted))
        .map(|status| {
            json!({"Status": status["Status"], "RequestId": status["RequestId"], "CreatedDate": status["CreatedDate"]})
        })
        .collect();
    Ok(json!({ output_member: items }))
}

async fn put_boundary(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let instance_arn = required_str(input, "InstanceArn")?;
    let permission_set_arn = required_str(input, "PermissionSetArn")?;
    let boundary = input
        .get("PermissionsBoundary")
        .filter(|boundary| {
            boundary.get("ManagedPolicyArn").is_some()
                || boundary.get("CustomerManagedPolicyReference").is_some()
        })
        .ok_or_else(|| {
            AwsError::validation(
                "PermissionsBoundary needs ManagedPolicyArn or CustomerManagedPolicyReference",
            )
        })?;
    ensure_permission_set(proxy, instance_arn, permission_set_arn).await?;
    proxy
        .state()
        .boundaries
        .insert(permission_set_arn.to_owned(), boundary.clone());
    Ok(json!({}))
}

async fn get_boundary(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let instance_arn = required_str(input, "InstanceArn")?;
    let permission_set_arn = required_str(input, "PermissionSetArn")?;
    ensure_permission_set(proxy, instance_arn, permission_set_arn).await?;
    let boundary = proxy.state().boundaries.get(permission_set_arn).cloned();
    boundary
        .map(|boundary| json!({"PermissionsBoundary": boundary}))
        .ok_or_else(|| AwsError::not_found("Permissions boundary not found for the permission set"))
}

async fn delete_boundary(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let instance_arn = required_str(input, "InstanceArn")?;
    let permission_set_arn = required_str(input, "PermissionSetArn")?;
    ensure_permission_set(proxy, instance_arn, permission_set_arn).await?;
    match proxy.state().boundaries.remove(permission_set_arn) {
        Some(_) => Ok(json!({})),
        None => Err(AwsError::not_found(
            "Permissions boundary not found for the permission set",
        )),
    }
}

fn parse_tags(tags: &[Value]) -> Result<BTreeMap<String, String>, AwsError> {
    tags.iter()
        .map(|tag| {
            let key = tag
                .get("Key")
                .and_then(Value::as_str)
                .ok_or_else(|| AwsError::validation("Tag Key is required"))?;
            let value = tag.get("Value").and_then(Value::as_str).unwrap_or_default();
            Ok((key.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Tags may be set on the instance or on a permission set of it; the latter must exist.
async fn ensure_taggable(proxy: &Proxy, input: &Value) -> Result<String, AwsError> {
    let resource_arn = required_str(input, "ResourceArn")?;
    let instance_arn = input
        .get("InstanceArn")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if resource_arn.contains("/ps-") {
        let owning_instance = resource_arn
            .rsplit_once('/')
            .map(|(instance, _)| instance)
            .unwrap_or_default();
        let instance_arn = if instance_arn.is_empty() {
            owning_instance
        } else {
            instance_arn
        };
        ensure_permission_set(proxy, instance_arn, resource_arn).await?;
    } else {
        instance(proxy, resource_arn).await?;
    }
    Ok(resource_arn.to_owned())
}

async fn tag_resource(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let resource_arn = ensure_taggable(proxy, input).await?;
    let tags = input
        .get("Tags")
        .and_then(Value::as_array)
        .ok_or_else(|| AwsError::validation("Tags is required"))?;
    let tags = parse_tags(tags)?;
    let mut state = proxy.state();
    let stored = state.tags.entry(resource_arn).or_default();
    stored.extend(tags);
    if stored.len() > 50 {
        return Err(AwsError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "ServiceQuotaExceededException",
            "A resource can have at most 50 tags",
        ));
    }
    Ok(json!({}))
}

async fn untag_resource(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let resource_arn = ensure_taggable(proxy, input).await?;
    let keys = input
        .get("TagKeys")
        .and_then(Value::as_array)
        .ok_or_else(|| AwsError::validation("TagKeys is required"))?;
    let mut state = proxy.state();
    if let Some(stored) = state.tags.get_mut(&resource_arn) {
        for key in keys.iter().filter_map(Value::as_str) {
            stored.remove(key);
        }
    }
    Ok(json!({}))
}

async fn list_tags(proxy: &Proxy, input: &Value) -> Result<Value, AwsError> {
    let resource_arn = ensure_taggable(proxy, input).await?;
    let state = proxy.state();
    let tags: Vec<Value> = state
        .tags
        .get(&resource_arn)
        .map(|tags| {
            tags.iter()
                .map(|(key, value)| json!({"Key": key, "Value": value}))
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({"Tags": tags}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_session_durations_become_iso8601() {
        let mut output = json!({"PermissionSet": {"SessionDuration": 3600}, "Other": {"SessionDuration": "PT2H"}});
        session_durations_as_iso8601(&mut output);
        assert_eq!(output["PermissionSet"]["SessionDuration"], "PT1H");
        assert_eq!(output["Other"]["SessionDuration"], "PT2H");
        assert_eq!(iso8601_duration(5400), "PT1H30M");
        assert_eq!(iso8601_duration(45), "PT45S");
    }

    #[test]
    fn session_durations_are_read_as_seconds() {
        assert_eq!(iso8601_seconds("PT1H"), Some(3600));
        assert_eq!(iso8601_seconds("PT2H30M"), Some(9000));
        assert_eq!(iso8601_seconds("PT90M"), Some(5400));
        assert_eq!(iso8601_seconds("PT45S"), Some(45));
        assert_eq!(iso8601_seconds("P1D"), None);
        assert_eq!(iso8601_seconds("PT"), None);
        assert!(check_session_duration(&json!({"SessionDuration": "PT12H"})).is_ok());
        assert!(check_session_duration(&json!({"SessionDuration": "PT13H"})).is_err());
        assert!(check_session_duration(&json!({"SessionDuration": "PT30M"})).is_err());
    }

    #[test]
    fn managed_policy_arns_split_into_prefix_path_and_name() {
        assert_eq!(
            split_managed_policy_arn("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"),
            Some((
                "arn:aws:iam::aws:policy",
                "/job-function/",
                "ViewOnlyAccess"
            ))
        );
        assert_eq!(
            split_managed_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            Some(("arn:aws:iam::aws:policy", "/", "ReadOnlyAccess"))
        );
    }

    #[test]
    fn failure_injection_matches_either_arn_shape() {
        let moto_arn = "arn:aws:sso:::instance/ssoins-1/ps-1";
        assert!(same_permission_set(
            "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
            moto_arn
        ));
        assert!(same_permission_set(moto_arn, moto_arn));
        assert!(!same_permission_set(
            "arn:aws:sso:::permissionSet/ssoins-1/ps-2",
            moto_arn
        ));
    }
}
