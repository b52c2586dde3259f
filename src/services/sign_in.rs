//! What signing in to AWS IAM Identity Center through the enterprise application gives one Entra user, and why
//! it would fail: the NameID and claims Entra sends (claims mapping policy + the user's attributes), the
//! identity store user SCIM made (matched by `userName`), its groups and the accounts it can open.
//!
//! AWS accepts the SAML assertion only when its NameID equals the `userName` of an identity store user, so the
//! NameID source and the SCIM mapping's `userName` source must be the same attribute (or hold the same value).

use std::collections::{BTreeMap, BTreeSet};

use crate::clients::aws::{Deadline, Principal};
use crate::clients::graph::GraphClient;
use crate::clients::graph::api::sign_in_reads::AttributeMapping;
use crate::clients::graph::models::ServicePrincipal;
use crate::framework::{AttributePath, Context, Diagnostic, Diagnostics};
use crate::helpers::{aws_error, graph_error};

use super::IdbridgeClients;
use super::app_roles::find_enterprise_app;
use super::assignments::target_key;
use super::claims_policies::{assigned_policy, parse_claims_definition};
use super::instances::find_instance;
use super::provisioning_jobs::{find_service_principal, pick_aws_job};

/// The NameID source of an application without a claims mapping policy (Entra's gallery default).
pub const DEFAULT_NAMEID_SOURCE: &str = "user.userprincipalname";
/// The source of the SCIM `userName` in the AWS IAM Identity Center gallery app's provisioning template.
pub const GALLERY_USER_NAME_ATTRIBUTE: &str = "userPrincipalName";
/// The SAML attribute that sets the AWS session length, in seconds.
pub const SESSION_DURATION_CLAIM: &str = "https://aws.amazon.com/SAML/Attributes/SessionDuration";
/// Bounds of `SessionDuration`: 900 to 43200 seconds (IAM user guide, "Configure SAML assertions for the
/// authentication response").
const SESSION_DURATION_SECONDS: std::ops::RangeInclusive<i64> = 900..=43_200;
/// The identity store's `UserName`: 1 to 128 characters, letters, marks, symbols, numbers and punctuation only
/// (botocore identitystore model, shape `UserName`).
const USER_NAME_MAX_CHARS: usize = 128;

/// The first words of each problem; the troubleshooting guide has a section per label.
pub mod problem_labels {
    pub const SAML_NOT_CONFIGURED: &str = "SAML not configured";
    pub const NOT_ASSIGNED: &str = "not assigned to the application";
    pub const DISABLED: &str = "account disabled";
    pub const REJECTED_BY_SCIM: &str = "rejected by SCIM";
    pub const UNUSABLE_USER_NAME: &str = "unusable userName";
    pub const NOT_PROVISIONED: &str = "not provisioned";
    pub const NO_NAMEID: &str = "no NameID";
    pub const NAMEID_MISMATCH: &str = "NameID mismatch";
    pub const SESSION_DURATION: &str = "session duration out of range";
    pub const NO_ACCESS: &str = "no AWS access";
}
use problem_labels as label;

/// Where the SCIM `userName` comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserNameSource {
    /// A user attribute (`userPrincipalName`, `mail`, …).
    Attribute(String),
    /// A function or constant; the text is the mapping's expression.
    Expression(String),
}

impl UserNameSource {
    /// For messages: `userPrincipalName`, or the expression.
    pub fn describe(&self) -> &str {
        match self {
            UserNameSource::Attribute(name) | UserNameSource::Expression(name) => name,
        }
    }
}

/// The `userName` source of a job's User attribute mappings; `None` when nothing maps to `userName`.
pub fn user_name_source(mappings: &[AttributeMapping]) -> Option<UserNameSource> {
    let mapping = mappings
        .iter()
        .find(|m| m.target_attribute_name.eq_ignore_ascii_case("userName"))?;
    let source = mapping.source.as_ref()?;
    match (source.kind.as_deref(), source.name.as_deref()) {
        (Some("Attribute"), Some(name)) if !name.is_empty() => {
            Some(UserNameSource::Attribute(name.to_owned()))
        }
        _ => Some(UserNameSource::Expression(
            source.expression.clone().unwrap_or_default(),
        )),
    }
}

/// The user attribute of a claim source `user.<attribute>`; `None` for a constant.
pub fn claim_attribute(source: &str) -> Option<&str> {
    match source.split_once('.') {
        Some(("user", attribute)) if !attribute.is_empty() => Some(attribute),
        _ => None,
    }
}

/// Whether a claim attribute (`userprincipalname`, lower case in policies) and a provisioning source attribute
/// (`userPrincipalName`) are the same user property.
pub fn same_attribute(claim_attribute: &str, provisioning_attribute: &str) -> bool {
    graph_property(claim_attribute).eq_ignore_ascii_case(graph_property(provisioning_attribute))
}

/// The NameID source and the SCIM `userName` source name different things: the sentence that says so and
/// what follows, or `None` when they agree.
pub fn nameid_mismatch(nameid_source: &str, user_name: &UserNameSource) -> Option<String> {
    let agrees = match (claim_attribute(nameid_source), user_name) {
        (Some(claim), UserNameSource::Attribute(scim)) => same_attribute(claim, scim),
        _ => false,
    };
    (!agrees).then(|| {
        format!(
            "The NameID comes from `{nameid_source}` but SCIM provisioning sends `{}` as the AWS userName. \
             AWS IAM Identity Center signs a user in only when the NameID equals the userName of an identity \
             store user, so sign-in fails for every user whose {} differs from their {}.",
            user_name.describe(),
            claim_attribute(nameid_source).unwrap_or(nameid_source),
            user_name.describe()
        )
    })
}

/// The Graph property a claim or provisioning attribute reads (claims mapping policies name them in lower
/// case, provisioning mappings call the object id `objectId`).
fn graph_property(attribute: &str) -> &str {
    const PROPERTIES: &[&str] = &[
        "userPrincipalName",
        "mail",
        "givenName",
        "surname",
        "displayName",
        "mailNickname",
        "department",
        "jobTitle",
        "employeeId",
        "companyName",
        "city",
        "country",
        "state",
        "streetAddress",
        "postalCode",
        "officeLocation",
        "preferredLanguage",
        "mobilePhone",
        "onPremisesSamAccountName",
        "onPremisesImmutableId",
        "accountEnabled",
    ];
    if attribute.eq_ignore_ascii_case("objectid") {
        return "id";
    }
    PROPERTIES
        .iter()
        .find(|p| p.eq_ignore_ascii_case(attribute))
        .copied()
        .unwrap_or(attribute)
}

/// The text value of a user attribute (`extensionattribute1`…`15` live under `onPremisesExtensionAttributes`).
fn attribute_value(
    user: &serde_json::Map<String, serde_json::Value>,
    attribute: &str,
) -> Option<String> {
    let property = graph_property(attribute);
    let lookup = |object: &serde_json::Map<String, serde_json::Value>, name: &str| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    };
    let value = if property
        .to_ascii_lowercase()
        .starts_with("extensionattribute")
    {
        lookup(user, "onPremisesExtensionAttributes")
            .and_then(|ext| ext.as_object().and_then(|ext| lookup(ext, property)))
    } else {
        lookup(user, property)
    }?;
    match value {
        serde_json::Value::String(text) if !text.trim().is_empty() => Some(text),
        serde_json::Value::Bool(flag) => Some(flag.to_string()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The Graph properties to `$select` for the claims and the provisioning mapping.
fn properties_to_read<'a>(attributes: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut properties: BTreeSet<String> = [
        "id",
        "userPrincipalName",
        "mail",
        "givenName",
        "surname",
        "displayName",
        "accountEnabled",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    for attribute in attributes {
        let property = graph_property(attribute);
        if property
            .to_ascii_lowercase()
            .starts_with("extensionattribute")
        {
            properties.insert("onPremisesExtensionAttributes".into());
        } else {
            properties.insert(property.to_owned());
        }
    }
    properties.into_iter().collect()
}

/// Why a `userName` value cannot be an identity store `UserName`, if it cannot.
fn user_name_unusable(user_name: &str) -> Option<String> {
    let length = user_name.chars().count();
    if length > USER_NAME_MAX_CHARS {
        return Some(format!(
            "it has {length} characters and AWS allows at most {USER_NAME_MAX_CHARS}"
        ));
    }
    user_name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control())
        .map(|c| format!("it contains {c:?}, and AWS allows no spaces or control characters"))
}

/// The SCIM `userName` source of the application's provisioning: the AWS job's schema, or the gallery
/// template's default while the application has no job (or is not created yet: `application_id` `None`).
pub async fn scim_user_name_source(
    graph: &GraphClient,
    application_id: Option<&str>,
) -> Result<UserNameSource, Diagnostics> {
    let default = UserNameSource::Attribute(GALLERY_USER_NAME_ATTRIBUTE.into());
    let Some(application_id) = application_id else {
        return Ok(default);
    };
    let Some(sp_id) = find_service_principal(graph, application_id, false).await? else {
        return Ok(default);
    };
    job_user_name_source(graph, &sp_id)
        .await
        .map(|s| s.unwrap_or(default))
}

/// The `userName` source in the schema of the service principal's AWS job; `None` without a job.
async fn job_user_name_source(
    graph: &GraphClient,
    sp_id: &str,
) -> Result<Option<UserNameSource>, Diagnostics> {
    let jobs = graph
        .list_synchronization_jobs(sp_id)
        .await
        .map_err(|e| graph_error("list the provisioning jobs", &e))?;
    let Some(job) = pick_aws_job(jobs) else {
        return Ok(None);
    };
    let mappings = graph
        .list_attribute_mappings(sp_id, &job.id, "User")
        .await
        .map_err(|e| graph_error("read the provisioning job's schema", &e))?;
    Ok(user_name_source(&mappings))
}

/// Who to preview: an Entra user by object id or user principal name, on one application and instance.
pub struct SignInRequest<'a> {
    pub application_id: &'a str,
    pub user_id: Option<&'a str>,
    pub user_principal_name: Option<&'a str>,
    pub instance_arn: Option<&'a str>,
}

/// What signing in gives the user; `problems` is empty when it will work.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInPreview {
    pub user_id: String,
    pub user_principal_name: Option<String>,
    pub instance_arn: String,
    pub name_id: Option<String>,
    pub claims: BTreeMap<String, String>,
    pub identity_store_user_id: Option<String>,
    pub groups: BTreeSet<String>,
    pub access: BTreeSet<String>,
    pub problems: Vec<String>,
}

/// The Entra half of a preview: the user and what Entra will do with them.
struct EntraSide {
    /// Why the enterprise application cannot issue SAML assertions, if it cannot.
    saml_missing: Option<String>,
    user: serde_json::Map<String, serde_json::Value>,
    assigned: bool,
    nameid_source: String,
    additional_claims: BTreeMap<String, String>,
    user_name_source: UserNameSource,
}

/// The user's NameID, claims and the problems Entra-side data already shows (everything but AWS).
fn evaluate_entra(entra: &EntraSide, preview: &mut SignInPreview) -> Option<String> {
    let user = &entra.user;
    let who = preview
        .user_principal_name
        .clone()
        .unwrap_or_else(|| preview.user_id.clone());
    let problems = &mut preview.problems;
    if let Some(missing) = &entra.saml_missing {
        problems.push(format!(
            "{}: {missing}; apply an `idbridge_saml_trust` for the application.",
            label::SAML_NOT_CONFIGURED
        ));
    }
    if !entra.assigned {
        problems.push(format!(
            "{}: {who} has no app role assignment on the enterprise application, directly or through a group \
             it is a direct member of (Entra does not count nested groups); Entra neither provisions nor signs \
             in users outside the assignment.",
            label::NOT_ASSIGNED
        ));
    }
    if attribute_value(user, "accountEnabled").as_deref() == Some("false") {
        problems.push(format!(
            "{}: {who} is disabled in Entra ID (accountEnabled = false) and cannot sign in.",
            label::DISABLED
        ));
    }
    let missing: Vec<&str> = ["givenName", "surname", "displayName"]
        .into_iter()
        .filter(|attribute| attribute_value(user, attribute).is_none())
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "{}: {who} has no {}; AWS's SCIM endpoint refuses users without givenName, surname and displayName, \
             so the user is never created in the identity store.",
            label::REJECTED_BY_SCIM,
            missing.join(", ")
        ));
    }
    let user_name = match &entra.user_name_source {
        UserNameSource::Attribute(attribute) => match attribute_value(user, attribute) {
            Some(value) => match user_name_unusable(&value) {
                Some(reason) => {
                    problems.push(format!(
                        "{}: SCIM sends {attribute} {value:?} as the userName, but {reason}.",
                        label::UNUSABLE_USER_NAME
                    ));
                    None
                }
                None => Some(value),
            },
            None => {
                problems.push(format!(
                    "{}: SCIM sends {attribute} as the userName and {who} has none.",
                    label::UNUSABLE_USER_NAME
                ));
                None
            }
        },
        UserNameSource::Expression(expression) => {
            problems.push(format!(
                "{}: SCIM computes the userName with `{expression}`, which this preview cannot evaluate; it \
                 cannot tell whether the NameID matches an identity store user.",
                label::UNUSABLE_USER_NAME
            ));
            None
        }
    };
    let nameid_attribute = claim_attribute(&entra.nameid_source);
    preview.name_id = match nameid_attribute {
        Some(attribute) => attribute_value(user, attribute),
        None => Some(entra.nameid_source.clone()),
    };
    match (&preview.name_id, &user_name) {
        (None, _) => problems.push(format!(
            "{}: the NameID comes from `{}` and {who} has no value there; Entra cannot issue the assertion.",
            label::NO_NAMEID,
            entra.nameid_source
        )),
        (Some(name_id), Some(user_name)) if !name_id.eq_ignore_ascii_case(user_name) => {
            problems.push(format!(
                "{}: the NameID is {name_id:?} (from `{}`) but the identity store userName is {user_name:?} (from \
                 {}); AWS finds no user for the NameID and refuses the sign-in.",
                label::NAMEID_MISMATCH,
                entra.nameid_source,
                entra.user_name_source.describe()
            ))
        }
        _ => {}
    }
    for (claim, source) in &entra.additional_claims {
        let value = match claim_attribute(source) {
            Some(attribute) => attribute_value(user, attribute),
            None => Some(source.clone()),
        };
        if let Some(value) = value {
            preview.claims.insert(claim.clone(), value);
        }
    }
    if let Some(duration) = preview.claims.get(SESSION_DURATION_CLAIM) {
        let in_range = duration
            .trim()
            .parse::<i64>()
            .is_ok_and(|seconds| SESSION_DURATION_SECONDS.contains(&seconds));
        if !in_range {
            problems.push(format!(
                "{}: the SessionDuration claim is {duration:?}; AWS accepts a number of seconds from {} to {} and \
                 refuses the assertion otherwise.",
                label::SESSION_DURATION,
                SESSION_DURATION_SECONDS.start(),
                SESSION_DURATION_SECONDS.end()
            ));
        }
    }
    user_name
}

/// Why the service principal issues no SAML assertions: another single sign-on mode, or no active signing
/// certificate.
fn saml_missing(service_principal: &ServicePrincipal) -> Option<String> {
    let mode = service_principal.preferred_single_sign_on_mode.as_deref();
    if mode != Some("saml") {
        return Some(format!(
            "the enterprise application's single sign-on mode is {}, not saml",
            mode.unwrap_or("not set")
        ));
    }
    service_principal
        .preferred_token_signing_key_thumbprint
        .is_none()
        .then(|| "the enterprise application has no active token signing certificate".to_string())
}

/// Whether the user holds an app role on the service principal, directly or through a direct group.
async fn is_assigned(graph: &GraphClient, sp_id: &str, user_id: &str) -> Result<bool, Diagnostics> {
    let assignments = graph
        .list_app_role_assignments(sp_id)
        .await
        .map_err(|e| graph_error("list the application's assignments", &e))?;
    if assignments.iter().any(|a| a.principal_id == user_id) {
        return Ok(true);
    }
    for assignment in assignments
        .iter()
        .filter(|a| a.principal_type.as_deref() == Some("Group"))
    {
        let members = graph
            .list_group_member_ids(&assignment.principal_id)
            .await
            .map_err(|e| graph_error("list the members of an assigned group", &e))?;
        if members.iter().any(|m| m == user_id) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn request_path(request: &SignInRequest) -> AttributePath {
    AttributePath::new(if request.user_id.is_some() {
        "user_id"
    } else {
        "user_principal_name"
    })
}

async fn read_entra(
    ctx: &Context,
    graph: &GraphClient,
    request: &SignInRequest<'_>,
) -> Result<EntraSide, Diagnostics> {
    let app = find_enterprise_app(ctx, graph, request.application_id)
        .await?
        .required()?;
    let sp_id = &app.service_principal_id;
    let service_principal = graph
        .get_service_principal(sp_id)
        .await
        .map_err(|e| graph_error("read the enterprise application", &e))?;
    let saml_missing = saml_missing(&service_principal);
    let (nameid_source, additional_claims) = match assigned_policy(graph, sp_id).await? {
        Some(policy) => policy
            .definition
            .first()
            .and_then(|definition| parse_claims_definition(definition))
            .map(|(source, _format, additional)| (source, additional))
            .unwrap_or_else(|| (DEFAULT_NAMEID_SOURCE.into(), BTreeMap::new())),
        None => (DEFAULT_NAMEID_SOURCE.into(), BTreeMap::new()),
    };
    let user_name_source = job_user_name_source(graph, sp_id)
        .await?
        .unwrap_or_else(|| UserNameSource::Attribute(GALLERY_USER_NAME_ATTRIBUTE.into()));
    let claim_sources = std::iter::once(nameid_source.as_str())
        .chain(additional_claims.values().map(String::as_str))
        .filter_map(claim_attribute);
    let scim_source = match &user_name_source {
        UserNameSource::Attribute(attribute) => Some(attribute.as_str()),
        UserNameSource::Expression(_) => None,
    };
    let select = properties_to_read(claim_sources.chain(scim_source));
    let user = graph
        .find_user_with(request.user_id, request.user_principal_name, &select)
        .await
        .map_err(|e| graph_error("read the user", &e).at(request_path(request)))?
        .ok_or_else(|| {
            Diagnostic::error(
                "User not found",
                format!(
                    "No Entra ID user has the {} {:?}; check the value (user principal names are usually \
                     e-mail shaped, object ids GUIDs).",
                    request_path(request),
                    request.user_id.or(request.user_principal_name).unwrap_or_default()
                ),
            )
            .at(request_path(request))
        })?;
    let user_id = attribute_value(&user, "id").unwrap_or_default();
    let assigned = is_assigned(graph, sp_id, &user_id).await?;
    Ok(EntraSide {
        saml_missing,
        user,
        assigned,
        nameid_source,
        additional_claims,
        user_name_source,
    })
}

/// Previews the sign-in of one user: Entra first (assignment, attributes, claims), then AWS (the identity
/// store user, its groups, its account assignments and those of its groups).
pub async fn preview(
    ctx: &Context,
    clients: &IdbridgeClients,
    request: SignInRequest<'_>,
) -> Result<SignInPreview, Diagnostics> {
    let graph = clients.graph().await?;
    let entra = read_entra(ctx, &graph, &request).await?;
    let mut preview = SignInPreview {
        user_id: attribute_value(&entra.user, "id").unwrap_or_default(),
        user_principal_name: attribute_value(&entra.user, "userPrincipalName"),
        ..SignInPreview::default()
    };
    let user_name = evaluate_entra(&entra, &mut preview);

    let identity_center = clients.identity_center().await?;
    let deadline = Deadline::after(ctx.remaining());
    let instance = find_instance(
        &identity_center,
        request.instance_arn,
        deadline,
        AttributePath::new("instance_arn"),
    )
    .await?;
    preview.instance_arn = instance.instance_arn.clone();
    let store = &instance.identity_store_id;
    let Some(user_name) = user_name else {
        return Ok(preview);
    };
    let user_id = identity_center
        .get_user_id_by_user_name(store, &user_name, deadline)
        .await
        .map_err(|e| aws_error("Cannot look up the user in the identity store", &e))?;
    let Some(user_id) = user_id else {
        preview.problems.push(format!(
            "{}: identity store {store} has no user with userName {user_name:?}; SCIM provisioning has not \
             created it yet (the next cycle, or provisioning on demand, will) or refused it.",
            label::NOT_PROVISIONED
        ));
        return Ok(preview);
    };
    let group_ids = identity_center
        .group_ids_of_user(store, &user_id, deadline)
        .await
        .map_err(|e| aws_error("Cannot list the user's groups in the identity store", &e))?;
    let engine = identity_center.assignments(&instance.instance_arn);
    let mut principals = vec![Principal::user(&user_id)];
    for group_id in group_ids {
        let group = identity_center
            .describe_group(store, &group_id, deadline)
            .await
            .map_err(|e| aws_error("Cannot read a group of the user", &e))?;
        preview
            .groups
            .insert(group.display_name.unwrap_or_else(|| group_id.clone()));
        principals.push(Principal::group(group_id));
    }
    for principal in &principals {
        let targets = engine
            .assignments_of(principal, deadline)
            .await
            .map_err(|e| aws_error("Cannot list the account assignments", &e))?;
        preview.access.extend(targets.iter().map(target_key));
    }
    if preview.access.is_empty() {
        preview.problems.push(format!(
            "{}: neither {user_name} nor its groups have a permission set on any account; the access portal \
             will be empty.",
            label::NO_ACCESS
        ));
    }
    preview.identity_store_user_id = Some(user_id);
    Ok(preview)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::graph::api::sign_in_reads::AttributeMappingSource;
    use serde_json::json;

    fn user(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        value.as_object().unwrap().clone()
    }

    fn entra(user_value: serde_json::Value, nameid: &str) -> EntraSide {
        EntraSide {
            saml_missing: None,
            user: user(user_value),
            assigned: true,
            nameid_source: nameid.into(),
            additional_claims: BTreeMap::new(),
            user_name_source: UserNameSource::Attribute(GALLERY_USER_NAME_ATTRIBUTE.into()),
        }
    }

    fn complete() -> serde_json::Value {
        json!({"id": "u1", "userPrincipalName": "alice@contoso.example", "mail": "alice.smith@contoso.example",
               "givenName": "Alice", "surname": "Smith", "displayName": "Alice Smith", "accountEnabled": true,
               "department": "Engineering"})
    }

    fn evaluated(side: &EntraSide) -> (SignInPreview, Option<String>) {
        let mut preview = SignInPreview {
            user_principal_name: Some("alice@contoso.example".into()),
            ..SignInPreview::default()
        };
        let user_name = evaluate_entra(side, &mut preview);
        (preview, user_name)
    }

    #[test]
    fn a_complete_assigned_user_has_no_entra_problems_and_gets_its_claims() {
        let mut side = entra(complete(), "user.userprincipalname");
        side.additional_claims = BTreeMap::from([
            (
                "https://aws.amazon.com/SAML/Attributes/AccessControl:Department".to_string(),
                "user.department".to_string(),
            ),
            (SESSION_DURATION_CLAIM.to_string(), "28800".to_string()),
            (
                "https://example/empty".to_string(),
                "user.jobtitle".to_string(),
            ),
        ]);
        let (preview, user_name) = evaluated(&side);
        assert!(preview.problems.is_empty(), "{:?}", preview.problems);
        assert_eq!(preview.name_id.as_deref(), Some("alice@contoso.example"));
        assert_eq!(user_name.as_deref(), Some("alice@contoso.example"));
        assert_eq!(
            preview.claims["https://aws.amazon.com/SAML/Attributes/AccessControl:Department"],
            "Engineering"
        );
        // A claim whose attribute the user lacks is not sent.
        assert!(!preview.claims.contains_key("https://example/empty"));
    }

    #[test]
    fn each_problem_starts_with_its_label() {
        let mut incomplete = complete();
        incomplete["surname"] = json!(null);
        incomplete["accountEnabled"] = json!(false);
        let mut side = entra(incomplete, "user.mail");
        side.saml_missing = saml_missing(&ServicePrincipal::default());
        side.assigned = false;
        side.additional_claims =
            BTreeMap::from([(SESSION_DURATION_CLAIM.to_string(), "60".to_string())]);
        let (preview, _) = evaluated(&side);
        let labels: Vec<&str> = preview
            .problems
            .iter()
            .map(|p| p.split(':').next().unwrap())
            .collect();
        assert_eq!(
            labels,
            [
                label::SAML_NOT_CONFIGURED,
                label::NOT_ASSIGNED,
                label::DISABLED,
                label::REJECTED_BY_SCIM,
                label::NAMEID_MISMATCH,
                label::SESSION_DURATION
            ]
        );
        assert!(preview.problems[0].contains("mode is not set, not saml"));
        assert!(preview.problems[3].contains("has no surname"));
        // The mismatch names both values.
        assert!(preview.problems[4].contains("alice.smith@contoso.example"));
        assert!(preview.problems[4].contains("\"alice@contoso.example\""));
    }

    #[test]
    fn saml_needs_the_mode_and_an_active_certificate() {
        let saml = ServicePrincipal {
            preferred_single_sign_on_mode: Some("saml".into()),
            ..ServicePrincipal::default()
        };
        assert!(
            saml_missing(&saml)
                .unwrap()
                .contains("no active token signing certificate")
        );
        let signing = ServicePrincipal {
            preferred_token_signing_key_thumbprint: Some("AB12".into()),
            ..saml
        };
        assert_eq!(saml_missing(&signing), None);
    }

    #[test]
    fn same_values_from_different_sources_still_sign_in() {
        let mut same = complete();
        same["mail"] = json!("ALICE@contoso.example");
        let (preview, _) = evaluated(&entra(same, "user.mail"));
        assert!(preview.problems.is_empty(), "{:?}", preview.problems);
    }

    #[test]
    fn user_names_aws_refuses_are_problems() {
        let mut spaced = complete();
        spaced["userPrincipalName"] = json!("alice smith@contoso.example");
        let (preview, user_name) = evaluated(&entra(spaced, "user.userprincipalname"));
        assert_eq!(user_name, None);
        assert!(preview.problems[0].starts_with(label::UNUSABLE_USER_NAME));
        assert!(user_name_unusable(&"a".repeat(129)).is_some());
        assert!(user_name_unusable("alice@contoso.example").is_none());
    }

    #[test]
    fn the_user_name_source_comes_from_the_user_mapping() {
        let mapping = |target: &str, kind: &str, name: &str, expression: &str| AttributeMapping {
            target_attribute_name: target.into(),
            source: Some(AttributeMappingSource {
                expression: Some(expression.into()),
                name: Some(name.into()),
                kind: Some(kind.into()),
            }),
        };
        let mappings = [
            mapping("displayName", "Attribute", "displayName", "[displayName]"),
            mapping("userName", "Attribute", "mail", "[mail]"),
        ];
        assert_eq!(
            user_name_source(&mappings),
            Some(UserNameSource::Attribute("mail".into()))
        );
        let function = [mapping(
            "userName",
            "Function",
            "Replace",
            "Replace([mail], \"@\", , , \"_\", , )",
        )];
        assert!(matches!(
            user_name_source(&function),
            Some(UserNameSource::Expression(e)) if e.starts_with("Replace")
        ));
        assert_eq!(user_name_source(&mappings[..1]), None);
    }

    #[test]
    fn nameid_and_scim_sources_compare_by_graph_property() {
        let upn = UserNameSource::Attribute("userPrincipalName".into());
        assert_eq!(nameid_mismatch("user.userprincipalname", &upn), None);
        let message = nameid_mismatch("user.mail", &upn).unwrap();
        assert!(message.contains("`user.mail`") && message.contains("`userPrincipalName`"));
        assert!(message.contains("whose mail differs from their userPrincipalName"));
        assert_eq!(
            nameid_mismatch(
                "user.objectid",
                &UserNameSource::Attribute("objectId".into())
            ),
            None
        );
        assert!(nameid_mismatch("constant", &upn).is_some());
    }

    #[test]
    fn extension_attributes_are_read_from_their_container() {
        let with_extension =
            user(json!({"onPremisesExtensionAttributes": {"extensionAttribute3": "x"}}));
        assert_eq!(
            attribute_value(&with_extension, "extensionattribute3").as_deref(),
            Some("x")
        );
        let select = properties_to_read(["extensionattribute3", "department"].into_iter());
        assert!(select.contains(&"onPremisesExtensionAttributes".to_string()));
        assert!(select.contains(&"department".to_string()));
    }
}
