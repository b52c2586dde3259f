//! `idbridge_saml_trust`: SAML single sign-on of the AWS IAM Identity Center enterprise application.
//!
//! Configures the service provider side in Entra ID (identifier, reply URL, sign-on URL, relay state), the claims
//! (NameID and extra attributes through a claims mapping policy), and a token signing certificate that is made
//! active (Entra does not activate a new certificate by itself). The outputs are what the IAM Identity Center
//! console asks for, taken from Entra's published federation metadata for the application.
//!
//! Certificate rotation is planned: once the active certificate is within `rotate_before_days` of expiry, the
//! plan marks the certificate outputs as changing and warns that the new metadata must be uploaded to AWS; the
//! apply then creates a new certificate, activates it and removes the old one.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::clients::graph::GraphClient;
use crate::clients::graph::models::{
    Application, ApplicationPatch, ClaimsMappingPolicy, ClaimsMappingPolicyPatch,
    SamlSingleSignOnSettingsPatch, ServicePrincipal, ServicePrincipalPatch, WebApplication,
};
use crate::framework::{
    ApplyError, Attribute, AttributePath, Context, CreateRequest, Diagnostic, Diagnostics,
    NestedBlock, Operation, PlanChange, Resource, Schema, Type, UpdateRequest, Value,
    import_passthrough,
};
use crate::helpers::graph_error;
use crate::helpers::recent_write::mark_recent_write;
use crate::saml::{self, IdpFederationMetadata, nameid_formats};
use crate::services::IdbridgeClients;
use crate::services::applications::{read_application, service_principal_of};
use crate::services::clients::graph_clients;

pub const TYPE_NAME: &str = "idbridge_saml_trust";

const DEFAULT_NAMEID_SOURCE: &str = "user.userprincipalname";
const DEFAULT_CERTIFICATE_NAME: &str = "CN=Microsoft Azure Federated SSO Certificate";
const DEFAULT_VALIDITY_DAYS: i64 = 1095;
const DEFAULT_ROTATE_BEFORE_DAYS: i64 = 30;
const NAMEID_CLAIM: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier";
const POLICY_NAME_PREFIX: &str = "idbridge SAML claims for ";

/// Outputs that change together when the signing certificate is replaced.
const CERTIFICATE_OUTPUTS: [&str; 4] = [
    "certificate_thumbprint",
    "certificate_expires_at",
    "idp_certificate_pem",
    "idp_metadata_xml",
];

pub struct SamlTrustResource;

/// Entity ID, ACS URL and sign-on URL from the metadata file or the explicit arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServiceProvider {
    entity_id: String,
    acs_url: String,
    sign_on_url: Option<String>,
}

/// Checks the SAML inputs; `Ok(None)` while a value is unknown.
fn service_provider(config: &Value, diags: &mut Diagnostics) -> Option<ServiceProvider> {
    let metadata = config.get("aws_metadata_xml");
    let entity_id = config.get("entity_id");
    let acs_url = config.get("acs_url");
    let sign_on_url = config.get_str("sign_on_url").map(str::to_string);
    if metadata.is_unknown() || entity_id.is_unknown() || acs_url.is_unknown() {
        return None;
    }
    let from_metadata = if let Some(xml) = metadata.as_str() {
        if entity_id.is_present() || acs_url.is_present() {
            diags.error_at(
                AttributePath::new("aws_metadata_xml"),
                "Conflicting SAML arguments",
                "Set either `aws_metadata_xml` or `entity_id` + `acs_url`, not both: the metadata file already \
                 contains the entity ID and ACS URL.",
            );
            return None;
        }
        match saml::parse_aws_sp_metadata(xml) {
            Ok(parsed) => Some(ServiceProvider {
                entity_id: parsed.entity_id,
                acs_url: parsed.acs_url,
                // Only the configured sign-on URL is applied: taking the file's would leave `sign_on_url` (not
                // computed) differing from what Entra reports on every plan.
                sign_on_url: sign_on_url.clone(),
            }),
            Err(error) => {
                diags.push(
                    Diagnostic::error(
                        "Invalid AWS SAML metadata",
                        crate::helpers::saml_metadata::metadata_error_text(&error),
                    )
                    .at(AttributePath::new("aws_metadata_xml")),
                );
                return None;
            }
        }
    } else {
        None
    };
    let provider = match from_metadata {
        Some(provider) => provider,
        None => {
            let (Some(entity), Some(acs)) = (entity_id.as_str(), acs_url.as_str()) else {
                diags.error_at(
                    AttributePath::new(if entity_id.is_null() { "entity_id" } else { "acs_url" }),
                    "Missing SAML service provider",
                    "Set `aws_metadata_xml` (the IAM Identity Center SAML metadata file), or both `entity_id` and \
                     `acs_url` (\"IAM Identity Center SAML issuer URL\" and \"IAM Identity Center Assertion \
                     Consumer Service (ACS) URL\" in the AWS console).",
                );
                return None;
            };
            ServiceProvider {
                entity_id: entity.to_string(),
                acs_url: acs.to_string(),
                sign_on_url,
            }
        }
    };
    let explicit = metadata.is_null();
    let at = |name: &str| AttributePath::new(if explicit { name } else { "aws_metadata_xml" });
    let mut valid = true;
    if let Err(error) = saml::validate_entity_id(&provider.entity_id) {
        diags.error_at(
            at("entity_id"),
            "Invalid SAML entity ID",
            format!(
                "The entity ID {:?} is not usable: {error}.",
                provider.entity_id
            ),
        );
        valid = false;
    }
    if let Err(error) = saml::validate_acs_url(&provider.acs_url) {
        diags.error_at(
            at("acs_url"),
            "Invalid Assertion Consumer Service URL",
            format!("The ACS URL {:?} is not usable: {error}.", provider.acs_url),
        );
        valid = false;
    }
    if let Some(url) = &provider.sign_on_url
        && let Err(error) = saml::validate_entity_id(url)
    {
        diags.error_at(
            AttributePath::new("sign_on_url"),
            "Invalid sign-on URL",
            format!("The sign-on URL {url:?} is not usable: {error}."),
        );
        valid = false;
    }
    for (name, value) in [
        ("entity_id", &provider.entity_id),
        ("acs_url", &provider.acs_url),
    ] {
        if saml::looks_like_single_account_iam_endpoint(value) {
            diags.warning_at(
                at(name),
                "Not an IAM Identity Center endpoint",
                format!(
                    "{value:?} is the single-account IAM SAML endpoint, not IAM Identity Center. Use the values of \
                     your IAM Identity Center instance (Settings > Identity source > Change identity source > \
                     External identity provider), which look like \
                     https://<region>.signin.aws.amazon.com/platform/saml/..."
                ),
            );
        }
    }
    valid.then_some(provider)
}

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

/// The claims mapping policy `definition` document.
fn claims_definition(
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
fn parse_claims_definition(definition: &str) -> Option<(String, String, BTreeMap<String, String>)> {
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

fn additional_claims(value: &Value) -> BTreeMap<String, String> {
    value
        .as_map()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Days until `expires_at` (RFC 3339) from `now`; `None` when unparsable.
fn days_left(expires_at: &str, now: OffsetDateTime) -> Option<i64> {
    let expiry = OffsetDateTime::parse(expires_at, &Rfc3339).ok()?;
    Some((expiry - now).whole_days())
}

fn rfc3339(moment: OffsetDateTime) -> String {
    moment
        .replace_nanosecond(0)
        .unwrap_or(moment)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn tenant_of(clients: &IdbridgeClients) -> Result<String, Diagnostics> {
    clients
        .entra_settings()?
        .tenant_id
        .clone()
        .ok_or_else(|| {
            Diagnostic::error(
                "Tenant ID required",
                "The federation metadata URL needs the tenant ID: set `tenant_id` in the provider's `entra` block \
                 or ARM_TENANT_ID.",
            )
            .into()
        })
}

fn metadata_url(graph: &GraphClient, tenant: &str, app_id: &str) -> String {
    format!(
        "{}/{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid={app_id}",
        graph.login_endpoint().trim_end_matches('/')
    )
}

/// Fetches and parses the application's federation metadata.
async fn federation_metadata(
    graph: &GraphClient,
    tenant: &str,
    app_id: &str,
) -> Result<(String, IdpFederationMetadata), Diagnostics> {
    let xml = graph
        .fetch_federation_metadata(tenant, app_id)
        .await
        .map_err(|e| graph_error("fetch the federation metadata", &e))?;
    let parsed = saml::parse_idp_federation_metadata(&xml).map_err(|e| {
        Diagnostic::error(
            "Unreadable federation metadata",
            format!(
                "Entra ID's federation metadata for application {app_id} could not be read: {e}."
            ),
        )
    })?;
    Ok((xml, parsed))
}

/// Sets the outputs that come from the metadata. The metadata document carries a fresh ID on every fetch, so the
/// stored XML is only replaced when what it says (issuer, sign-in URL, certificate) changed.
fn set_metadata_outputs(
    state: &mut Value,
    url: String,
    xml: String,
    metadata: &IdpFederationMetadata,
    thumbprint: &str,
) {
    let certificate = metadata
        .signing_certificates
        .iter()
        .find(|c| c.thumbprint_sha1.eq_ignore_ascii_case(thumbprint))
        .or(metadata.signing_certificates.first());
    let pem = certificate.map(|c| c.to_pem());
    let unchanged = state.get_str("idp_entity_id") == Some(metadata.entity_id.as_str())
        && state.get_str("idp_sso_url") == Some(metadata.sso_url.as_str())
        && state.get_str("idp_certificate_pem") == pem.as_deref()
        && state.get_str("idp_metadata_xml").is_some();
    if !unchanged {
        state.set_attr("idp_metadata_xml", xml);
    }
    state.set_attr("idp_metadata_url", url);
    state.set_attr("idp_entity_id", metadata.entity_id.as_str());
    state.set_attr("idp_sso_url", metadata.sso_url.as_str());
    state.set_attr("idp_certificate_pem", Value::from(pem));
}

/// The claims mapping policy this resource manages on the service principal, if assigned.
async fn assigned_policy(
    graph: &GraphClient,
    sp_id: &str,
) -> Result<Option<ClaimsMappingPolicy>, Diagnostics> {
    let policies = graph
        .read_after_write(|| graph.list_assigned_claims_mapping_policies(sp_id))
        .await
        .map_err(|e| graph_error("list the claims mapping policies", &e))?;
    Ok(policies.into_iter().next())
}

/// Creates or updates the claims mapping policy and makes sure it is assigned; returns its id.
async fn ensure_claims_policy(
    graph: &GraphClient,
    sp: &ServicePrincipal,
    planned: &Value,
) -> Result<String, Diagnostics> {
    let definition = claims_definition(
        planned
            .get_str("nameid_source")
            .unwrap_or(DEFAULT_NAMEID_SOURCE),
        planned
            .get_str("nameid_format")
            .unwrap_or(nameid_formats::EMAIL_ADDRESS),
        &additional_claims(planned.get("additional_claims")),
    );
    if let Some(existing) = assigned_policy(graph, &sp.id).await? {
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
        return Ok(existing.id);
    }
    let created = graph
        .create_claims_mapping_policy(&ClaimsMappingPolicy {
            id: String::new(),
            display_name: format!("{POLICY_NAME_PREFIX}{}", sp.app_id),
            definition: vec![definition],
            is_organization_default: Some(false),
        })
        .await
        .map_err(|e| graph_error("create the claims mapping policy", &e))?;
    graph
        .read_after_write(|| graph.assign_claims_mapping_policy(&sp.id, &created.id))
        .await
        .map_err(|e| graph_error("assign the claims mapping policy", &e))?;
    Ok(created.id)
}

/// Creates a signing certificate, activates it, and removes the previously active one (if any). Returns the
/// new thumbprint.
async fn rotate_certificate(
    graph: &GraphClient,
    sp: &ServicePrincipal,
    planned: &Value,
) -> Result<String, Diagnostics> {
    let name = planned
        .get_str("certificate_display_name")
        .unwrap_or(DEFAULT_CERTIFICATE_NAME);
    let days = planned
        .get_i64("certificate_validity_days")
        .unwrap_or(DEFAULT_VALIDITY_DAYS);
    let end = rfc3339(OffsetDateTime::now_utc() + time::Duration::days(days));
    let created = graph
        .read_after_write(|| graph.add_token_signing_certificate(&sp.id, name, Some(&end)))
        .await
        .map_err(|e| {
            graph_error("create the token signing certificate", &e)
                .at(AttributePath::new("certificate_display_name"))
        })?;
    let thumbprint = created.thumbprint.clone().ok_or_else(|| {
        Diagnostic::error(
            "Certificate without thumbprint",
            "Entra ID created a signing certificate but did not report its thumbprint; it cannot be activated.",
        )
    })?;
    let activate = ServicePrincipalPatch {
        preferred_token_signing_key_thumbprint: Some(Some(thumbprint.clone())),
        ..Default::default()
    };
    graph
        .read_after_write(|| graph.update_service_principal(&sp.id, &activate))
        .await
        .map_err(|e| graph_error("activate the token signing certificate", &e))?;
    if let Some(old) = sp.preferred_token_signing_key_thumbprint.as_deref()
        && !old.eq_ignore_ascii_case(&thumbprint)
        && let Some(identifier) = custom_key_identifier_of(sp, old)
    {
        graph
            .remove_token_signing_certificate(&sp.id, &identifier)
            .await
            .map_err(|e| graph_error("remove the previous signing certificate", &e))?;
    }
    Ok(thumbprint)
}

/// Entra's `customKeyIdentifier` of a signing certificate is the base64 of its SHA-1 thumbprint bytes.
fn custom_key_identifier_of(sp: &ServicePrincipal, thumbprint: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..thumbprint.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(thumbprint.get(i..i + 2)?, 16).ok())
        .collect();
    let encoded = base64_encode(&bytes?);
    sp.key_credentials
        .iter()
        .filter_map(|key| key.custom_key_identifier.clone())
        .find(|identifier| *identifier == encoded || identifier.eq_ignore_ascii_case(thumbprint))
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Expiry of the active certificate as stored on the service principal (key credentials with their key).
fn certificate_expiry(sp: &ServicePrincipal, thumbprint: &str) -> Option<String> {
    let identifier = custom_key_identifier_of(sp, thumbprint)?;
    sp.key_credentials
        .iter()
        .find(|key| key.custom_key_identifier.as_deref() == Some(identifier.as_str()))
        .and_then(|key| key.end_date_time.clone())
        .and_then(|end| OffsetDateTime::parse(&end, &Rfc3339).ok())
        .map(rfc3339)
}

async fn load(
    ctx: &Context,
    graph: &GraphClient,
    application_id: &str,
) -> Result<Option<(Application, ServicePrincipal)>, Diagnostics> {
    let Some(application) = read_application(ctx, graph, application_id).await? else {
        return Ok(None);
    };
    let listed = service_principal_of(graph, &application.app_id).await?;
    // keyCredentials are complete (with end dates) only when selected explicitly.
    let sp = graph
        .read_after_write(|| async {
            let url = graph.url(
                &format!("/servicePrincipals/{}", listed.id),
                &[(
                    "$select",
                    "id,appId,displayName,preferredSingleSignOnMode,loginUrl,samlSingleSignOnSettings,\
                     preferredTokenSigningKeyThumbprint,keyCredentials,tags,appRoleAssignmentRequired",
                )],
            );
            graph.get::<ServicePrincipal>(&url).await
        })
        .await
        .map_err(|e| graph_error("read the service principal", &e))?;
    Ok(Some((application, sp)))
}

/// The application's identifier and reply URLs before the trust first set them (the gallery app comes with its
/// own), kept in private state so that destroying the trust gives the application back as it was.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct UrlsBefore {
    identifier_uris: Vec<String>,
    redirect_uris: Vec<String>,
}

impl UrlsBefore {
    fn of(application: &Application) -> UrlsBefore {
        UrlsBefore {
            identifier_uris: application.identifier_uris.clone(),
            redirect_uris: application
                .web
                .as_ref()
                .and_then(|web| web.redirect_uris.clone())
                .unwrap_or_default(),
        }
    }

    const PRIVATE_KEY: &str = "urls_before";

    /// `None` for an imported trust: nothing was recorded.
    fn from_private(ctx: &Context) -> Option<UrlsBefore> {
        serde_json::from_value(ctx.private_entry(Self::PRIVATE_KEY)?).ok()
    }

    fn to_private(&self, ctx: &Context) {
        if let Ok(value) = serde_json::to_value(self) {
            ctx.set_private_entry(Self::PRIVATE_KEY, value);
        }
    }
}

/// Applies the SAML settings of `planned` to the application and service principal.
async fn configure_sso(
    graph: &GraphClient,
    application: &Application,
    sp: &ServicePrincipal,
    provider: &ServiceProvider,
    relay_state: Option<&str>,
) -> Result<(), Diagnostics> {
    let app_patch = ApplicationPatch {
        identifier_uris: Some(vec![provider.entity_id.clone()]),
        web: Some(WebApplication {
            redirect_uris: Some(vec![provider.acs_url.clone()]),
            ..Default::default()
        }),
        ..Default::default()
    };
    graph
        .read_after_write(|| graph.update_application(&application.id, &app_patch))
        .await
        .map_err(|e| graph_error("set the identifier and reply URL", &e))?;
    let sp_patch = ServicePrincipalPatch {
        preferred_single_sign_on_mode: Some(Some("saml".into())),
        login_url: Some(provider.sign_on_url.clone()),
        saml_single_sign_on_settings: Some(SamlSingleSignOnSettingsPatch {
            relay_state: relay_state.map(str::to_string),
        }),
        ..Default::default()
    };
    graph
        .read_after_write(|| graph.update_service_principal(&sp.id, &sp_patch))
        .await
        .map_err(|e| graph_error("turn on SAML single sign-on", &e))?;
    Ok(())
}

/// Reads everything into state; `None` when the application is gone or SAML was turned off outside Terraform.
async fn refresh(
    ctx: &Context,
    clients: &IdbridgeClients,
    graph: &GraphClient,
    prior: &Value,
) -> Result<Option<Value>, Diagnostics> {
    let application_id = prior
        .get_str("application_id")
        .unwrap_or_default()
        .to_string();
    let Some((application, sp)) = load(ctx, graph, &application_id).await? else {
        return Ok(None);
    };
    if sp.preferred_single_sign_on_mode.as_deref() != Some("saml") {
        ctx.warn(
            "SAML single sign-on turned off outside Terraform",
            format!(
                "The enterprise application {} no longer uses SAML single sign-on; the trust will be configured \
                 again.",
                application.display_name
            ),
        );
        return Ok(None);
    }
    let mut state = prior.clone();
    state.set_attr("id", application.id.as_str());
    state.set_attr("service_principal_id", sp.id.as_str());
    if prior.get("aws_metadata_xml").is_null() || prior.get_str("entity_id").is_none() {
        state.set_attr(
            "entity_id",
            Value::from(application.identifier_uris.first().cloned()),
        );
        let redirects = application
            .web
            .clone()
            .and_then(|w| w.redirect_uris)
            .unwrap_or_default();
        let acs = prior
            .get_str("acs_url")
            .filter(|acs| redirects.iter().any(|r| r == acs))
            .map(str::to_string)
            .or_else(|| redirects.first().cloned());
        state.set_attr("acs_url", Value::from(acs));
    } else {
        // With a metadata file, entity_id/acs_url are derived; drift shows on the file-derived values.
        if application.identifier_uris.first().map(String::as_str) != prior.get_str("entity_id") {
            state.set_attr(
                "entity_id",
                Value::from(application.identifier_uris.first().cloned()),
            );
        }
    }
    if !(prior.get("sign_on_url").is_null() && sp.login_url.is_none()) {
        state.set_attr("sign_on_url", Value::from(sp.login_url.clone()));
    }
    let relay = sp
        .saml_single_sign_on_settings
        .as_ref()
        .and_then(|s| s.relay_state.clone());
    if !(prior.get("relay_state").is_null() && relay.is_none()) {
        state.set_attr("relay_state", Value::from(relay));
    }
    match assigned_policy(graph, &sp.id).await? {
        Some(policy) => {
            state.set_attr("claims_mapping_policy_id", policy.id.as_str());
            if let Some((source, format, additional)) = policy
                .definition
                .first()
                .and_then(|d| parse_claims_definition(d))
            {
                state.set_attr("nameid_source", source);
                state.set_attr("nameid_format", format);
                let keep_null = prior.get("additional_claims").is_null() && additional.is_empty();
                if !keep_null {
                    state.set_attr(
                        "additional_claims",
                        Value::map(additional.into_iter().map(|(k, v)| (k, Value::from(v)))),
                    );
                }
            }
        }
        None => state.set_attr("claims_mapping_policy_id", Value::Null),
    }
    let thumbprint = sp
        .preferred_token_signing_key_thumbprint
        .clone()
        .unwrap_or_default();
    state.set_attr(
        "certificate_thumbprint",
        Value::from(sp.preferred_token_signing_key_thumbprint.clone()),
    );
    state.set_attr(
        "certificate_expires_at",
        Value::from(certificate_expiry(&sp, &thumbprint)),
    );
    let tenant = tenant_of(clients)?;
    let (xml, metadata) = federation_metadata(graph, &tenant, &application.app_id).await?;
    set_metadata_outputs(
        &mut state,
        metadata_url(graph, &tenant, &application.app_id),
        xml,
        &metadata,
        &thumbprint,
    );
    for (name, default) in [
        ("certificate_validity_days", DEFAULT_VALIDITY_DAYS),
        ("rotate_before_days", DEFAULT_ROTATE_BEFORE_DAYS),
    ] {
        if state.get(name).is_null() {
            state.set_attr(name, default);
        }
    }
    if state.get("certificate_display_name").is_null() {
        state.set_attr("certificate_display_name", DEFAULT_CERTIFICATE_NAME);
    }
    Ok(Some(state))
}

/// Applies the whole plan: SSO settings, claims, and a certificate when none is active or rotation is due.
async fn apply(
    ctx: &Context,
    clients: &IdbridgeClients,
    graph: &GraphClient,
    config: &Value,
    planned: &Value,
    rotate: bool,
) -> Result<Value, Diagnostics> {
    let mut diags = Diagnostics::new();
    // From the configuration: in the plan, entity_id/acs_url are also filled in from the metadata file.
    let provider = service_provider(config, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    let provider = provider.ok_or_else(|| {
        Diagnostics::from(Diagnostic::error(
            "SAML arguments unknown",
            "The SAML arguments are still unknown at apply.",
        ))
    })?;
    let application_id = planned
        .get_str("application_id")
        .unwrap_or_default()
        .to_string();
    let (application, sp) = load(ctx, graph, &application_id).await?.ok_or_else(|| {
        Diagnostics::from(
            Diagnostic::error(
                "Application not found",
                format!("No Entra ID application has the object ID {application_id}; pass `idbridge_entra_application.<name>.id`."),
            )
            .at(AttributePath::new("application_id")),
        )
    })?;
    if UrlsBefore::from_private(ctx).is_none() {
        UrlsBefore::of(&application).to_private(ctx);
    }
    configure_sso(
        graph,
        &application,
        &sp,
        &provider,
        planned.get_str("relay_state"),
    )
    .await?;
    ensure_claims_policy(graph, &sp, planned).await?;
    if rotate || sp.preferred_token_signing_key_thumbprint.is_none() {
        rotate_certificate(graph, &sp, planned).await?;
    }
    mark_recent_write(ctx);
    let mut seed = planned.clone();
    seed.set_attr("id", application_id.as_str());
    for name in CERTIFICATE_OUTPUTS {
        if seed.get(name).is_unknown() {
            seed.set_attr(name, Value::Null);
        }
    }
    for name in [
        "service_principal_id",
        "claims_mapping_policy_id",
        "idp_metadata_url",
        "idp_entity_id",
        "idp_sso_url",
    ] {
        if seed.get(name).is_unknown() {
            seed.set_attr(name, Value::Null);
        }
    }
    refresh(ctx, clients, graph, &seed).await?.ok_or_else(|| {
        Diagnostics::from(Diagnostic::error(
            "SAML configuration did not stick",
            "The application or its SAML mode disappeared right after it was configured.",
        ))
    })
}

#[async_trait]
impl Resource for SamlTrustResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let computed = |name: &str, description: &str| {
            Attribute::string(name)
                .computed()
                .use_state_for_unknown()
                .description(description)
        };
        Schema::new()
            .description(
                "SAML single sign-on between Microsoft Entra ID (identity provider) and AWS IAM Identity Center \
                 (service provider) on an `idbridge_entra_application`, with an active token signing certificate \
                 and the claims AWS expects.",
            )
            .attribute(computed("id", "The application object ID (same as `application_id`)."))
            .attribute(
                Attribute::string("application_id")
                    .required()
                    .requires_replace()
                    .description("Object ID of the application: `idbridge_entra_application.<name>.id`."),
            )
            .attribute(Attribute::string("aws_metadata_xml").optional().description(
                "The IAM Identity Center SAML metadata file, e.g. `file(\"aws-sso-metadata.xml\")`. Conflicts with \
                 `entity_id`/`acs_url`.",
            ))
            .attribute(
                Attribute::string("entity_id")
                    .optional()
                    .computed()
                    .description("The IAM Identity Center SAML issuer URL (Entra \"Identifier\"). Required without `aws_metadata_xml`."),
            )
            .attribute(
                Attribute::string("acs_url")
                    .optional()
                    .computed()
                    .description("The IAM Identity Center ACS URL (Entra \"Reply URL\"). Required without `aws_metadata_xml`."),
            )
            .attribute(Attribute::string("sign_on_url").optional().description(
                "Entra \"Sign on URL\", usually your AWS access portal URL.",
            ))
            .attribute(Attribute::string("relay_state").optional().description("Entra \"Relay State\"."))
            .attribute(Attribute::string("nameid_source").optional().computed().description(
                "Source of the NameID: `user.<attribute>`. Defaults to `user.userprincipalname`.",
            ))
            .attribute(Attribute::string("nameid_format").optional().computed().description(
                "NameID format. Defaults to `urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress`.",
            ))
            .attribute(Attribute::map("additional_claims", Type::String).optional().description(
                "Extra SAML attributes: claim type → source (`user.<attribute>`, or any other text as a constant), \
                 e.g. `\"https://aws.amazon.com/SAML/Attributes/SessionDuration\" = \"28800\"`.",
            ))
            .attribute(
                Attribute::string("certificate_display_name")
                    .optional()
                    .computed()
                    .validator(|value, path| match value.as_str() {
                        Some(name) if !name.starts_with("CN=") => Diagnostic::error(
                            "Invalid certificate name",
                            "`certificate_display_name` must be a subject name starting with \"CN=\".",
                        )
                        .at(path.clone())
                        .into(),
                        _ => Diagnostics::new(),
                    })
                    .description("Subject of the signing certificate (starts with `CN=`)."),
            )
            .attribute(
                Attribute::number("certificate_validity_days")
                    .optional()
                    .computed()
                    .validator(positive_days)
                    .description("Validity of new signing certificates in days. Defaults to 1095 (3 years)."),
            )
            .attribute(
                Attribute::number("rotate_before_days")
                    .optional()
                    .computed()
                    .validator(positive_days)
                    .description(
                        "When the active certificate expires within this many days, the plan replaces it. \
                         Defaults to 30.",
                    ),
            )
            .attribute(computed("service_principal_id", "Object ID of the enterprise application's service principal."))
            .attribute(computed("claims_mapping_policy_id", "ID of the claims mapping policy this resource manages."))
            .attribute(computed(
                "idp_metadata_xml",
                "Entra ID federation metadata for the application: upload it in IAM Identity Center as \"IdP SAML metadata\".",
            ))
            .attribute(computed("idp_metadata_url", "URL of the federation metadata (anonymous)."))
            .attribute(computed("idp_entity_id", "IAM Identity Center \"IdP issuer URL\"."))
            .attribute(computed("idp_sso_url", "IAM Identity Center \"IdP sign-in URL\"."))
            .attribute(computed("idp_certificate_pem", "IAM Identity Center \"IdP certificate\" (PEM)."))
            .attribute(computed("certificate_thumbprint", "SHA-1 thumbprint of the active signing certificate."))
            .attribute(computed("certificate_expires_at", "Expiry of the active signing certificate (RFC 3339)."))
            .block(NestedBlock::timeouts(&[
                Operation::Create,
                Operation::Read,
                Operation::Update,
                Operation::Delete,
            ]))
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        service_provider(config, &mut diags);
        diags
    }

    async fn modify_plan(&self, ctx: &Context, plan: &mut PlanChange) -> Result<(), Diagnostics> {
        if plan.is_destroy() {
            return Ok(());
        }
        let defaults: [(&str, Value); 5] = [
            ("nameid_source", DEFAULT_NAMEID_SOURCE.into()),
            ("nameid_format", nameid_formats::EMAIL_ADDRESS.into()),
            ("certificate_display_name", DEFAULT_CERTIFICATE_NAME.into()),
            ("certificate_validity_days", DEFAULT_VALIDITY_DAYS.into()),
            ("rotate_before_days", DEFAULT_ROTATE_BEFORE_DAYS.into()),
        ];
        for (name, default) in defaults {
            if plan.config.get(name).is_null() {
                plan.planned.set_attr(name, default);
            }
        }
        let mut diags = Diagnostics::new();
        let provider = service_provider(&plan.config, &mut diags);
        if diags.has_errors() {
            return Err(diags);
        }
        if let Some(provider) = provider {
            plan.planned.set_attr("entity_id", provider.entity_id);
            plan.planned.set_attr("acs_url", provider.acs_url);
        }
        if plan.is_create() {
            return Ok(());
        }
        let rotate_before = plan
            .planned
            .get_i64("rotate_before_days")
            .unwrap_or(DEFAULT_ROTATE_BEFORE_DAYS);
        if let Some(left) = plan
            .prior
            .get_str("certificate_expires_at")
            .and_then(|expiry| days_left(expiry, OffsetDateTime::now_utc()))
            && left < rotate_before
        {
            for name in CERTIFICATE_OUTPUTS {
                plan.planned.set_attr(name, Value::unknown());
            }
            ctx.add_diagnostic(
                Diagnostic::warning(
                    "SAML signing certificate will be rotated",
                    format!(
                        "The active token signing certificate expires in {left} days (rotate_before_days = \
                         {rotate_before}). This apply creates a new certificate, activates it and removes the old \
                         one. Sign-in to AWS fails until the new `idp_metadata_xml` (or `idp_certificate_pem`) is \
                         uploaded in IAM Identity Center: Settings > Identity source > Actions > Manage \
                         authentication > Manage SAML 2.0 authentication."
                    ),
                )
                .at(AttributePath::new("certificate_thumbprint")),
            );
        }
        Ok(())
    }

    async fn create(&self, ctx: &Context, request: CreateRequest) -> Result<Value, ApplyError> {
        let (clients, graph) = graph_clients(ctx).await?;
        Ok(ctx
            .guard(apply(
                ctx,
                &clients,
                &graph,
                &request.config,
                &request.planned,
                false,
            ))
            .await?)
    }

    async fn read(&self, ctx: &Context, state: Value) -> Result<Option<Value>, Diagnostics> {
        let (clients, graph) = graph_clients(ctx).await?;
        if state.get_str("application_id").is_none() {
            return Ok(None);
        }
        ctx.guard(refresh(ctx, &clients, &graph, &state)).await
    }

    async fn update(&self, ctx: &Context, request: UpdateRequest) -> Result<Value, ApplyError> {
        let (clients, graph) = graph_clients(ctx).await?;
        let rotate = request.planned.get("certificate_thumbprint").is_unknown();
        Ok(ctx
            .guard(apply(
                ctx,
                &clients,
                &graph,
                &request.config,
                &request.planned,
                rotate,
            ))
            .await?)
    }

    async fn delete(&self, ctx: &Context, state: Value) -> Result<(), Diagnostics> {
        let (_, graph) = graph_clients(ctx).await?;
        let application_id = state
            .get_str("application_id")
            .unwrap_or_default()
            .to_string();
        let work = async {
            let Some((application, sp)) = load(ctx, &graph, &application_id).await? else {
                return Ok(());
            };
            if let Some(policy) = assigned_policy(&graph, &sp.id).await? {
                graph
                    .unassign_claims_mapping_policy(&sp.id, &policy.id)
                    .await
                    .map_err(|e| graph_error("unassign the claims mapping policy", &e))?;
                match graph.delete_claims_mapping_policy(&policy.id).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        return Err(graph_error("delete the claims mapping policy", &e).into());
                    }
                }
            }
            let revert = ServicePrincipalPatch {
                preferred_single_sign_on_mode: Some(None),
                login_url: Some(None),
                saml_single_sign_on_settings: Some(SamlSingleSignOnSettingsPatch {
                    relay_state: None,
                }),
                preferred_token_signing_key_thumbprint: Some(None),
                ..Default::default()
            };
            graph
                .update_service_principal(&sp.id, &revert)
                .await
                .map_err(|e| graph_error("turn off SAML single sign-on", &e))?;
            if let Some(thumbprint) = sp.preferred_token_signing_key_thumbprint.as_deref()
                && let Some(identifier) = custom_key_identifier_of(&sp, thumbprint)
            {
                graph
                    .remove_token_signing_certificate(&sp.id, &identifier)
                    .await
                    .map_err(|e| graph_error("remove the signing certificate", &e))?;
            }
            // Back to the URLs the application had before the trust; without a record (imported), the
            // identifier is cleared and the reply URL left as it is.
            let revert_urls = match UrlsBefore::from_private(ctx) {
                Some(before) => ApplicationPatch {
                    identifier_uris: Some(before.identifier_uris),
                    web: Some(WebApplication {
                        redirect_uris: Some(before.redirect_uris),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                None => ApplicationPatch {
                    identifier_uris: Some(Vec::new()),
                    ..Default::default()
                },
            };
            graph
                .update_application(&application.id, &revert_urls)
                .await
                .map_err(|e| graph_error("restore the identifier and reply URLs", &e))?;
            Ok(())
        };
        ctx.guard(work).await
    }

    async fn import_state(&self, _ctx: &Context, id: &str) -> Result<Value, Diagnostics> {
        if id.trim().is_empty() || id.contains('/') {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!("{id:?} is not an application object ID; import with the application's object ID."),
            )
            .into());
        }
        Ok(import_passthrough(&self.schema(), "application_id", id).with("id", id))
    }
}

fn positive_days(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_i64() {
        Some(days) if days < 1 => {
            Diagnostic::error("Invalid number of days", "The value must be at least 1.")
                .at(path.clone())
                .into()
        }
        _ => Diagnostics::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn explicit_urls_are_checked_and_pointed_at() {
        let mut diags = Diagnostics::new();
        let config = Value::object([
            (
                "entity_id",
                Value::from("https://eu-west-1.signin.aws.amazon.com/platform/saml/d-1234567890"),
            ),
            (
                "acs_url",
                Value::from("http://eu-west-1.signin.aws.amazon.com/platform/saml/acs/x"),
            ),
        ]);
        assert!(service_provider(&config, &mut diags).is_none());
        let error = diags.iter().find(|d| d.is_error()).unwrap();
        assert_eq!(error.path, Some(AttributePath::new("acs_url")));

        let mut diags = Diagnostics::new();
        let config = Value::object([
            (
                "entity_id",
                Value::from("https://signin.aws.amazon.com/saml"),
            ),
            ("acs_url", Value::from("https://signin.aws.amazon.com/saml")),
        ]);
        assert!(service_provider(&config, &mut diags).is_some());
        assert!(!diags.has_errors());
        assert!(
            diags
                .iter()
                .any(|d| d.summary == "Not an IAM Identity Center endpoint")
        );
    }

    #[test]
    fn malformed_metadata_is_an_error_on_the_metadata_attribute() {
        let mut diags = Diagnostics::new();
        let config = Value::object([("aws_metadata_xml", Value::from("<not-metadata/>"))]);
        assert!(service_provider(&config, &mut diags).is_none());
        let error = diags.iter().next().unwrap();
        assert!(error.is_error());
        assert_eq!(error.path, Some(AttributePath::new("aws_metadata_xml")));
    }

    #[test]
    fn unknown_inputs_defer_validation() {
        let mut diags = Diagnostics::new();
        let config = Value::object([("aws_metadata_xml", Value::unknown())]);
        assert!(service_provider(&config, &mut diags).is_none());
        assert!(diags.is_empty());
    }

    #[test]
    fn days_left_counts_whole_days() {
        let now = OffsetDateTime::parse("2026-01-01T00:00:00Z", &Rfc3339).unwrap();
        assert_eq!(days_left("2026-01-11T12:00:00Z", now), Some(10));
        assert_eq!(days_left("garbage", now), None);
    }

    #[test]
    fn custom_key_identifier_matches_the_thumbprint_bytes() {
        let sp = ServicePrincipal {
            key_credentials: vec![crate::clients::graph::models::KeyCredential {
                custom_key_identifier: Some(base64_encode(&[0xAB, 0xCD])),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            custom_key_identifier_of(&sp, "ABCD"),
            Some(base64_encode(&[0xAB, 0xCD]))
        );
        assert_eq!(custom_key_identifier_of(&sp, "ABCE"), None);
    }
}
