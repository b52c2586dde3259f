//! Plan-time checks of `idbridge_saml_trust`'s arguments: the service provider (AWS) side, given as the metadata
//! file or as explicit URLs, and the certificate settings.

use super::model::SamlTrustModel;
use super::{DEFAULT_ROTATE_BEFORE_DAYS, DEFAULT_VALIDITY_DAYS};
use crate::framework::model::Attr;
use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};
use crate::helpers::aws_saml_urls::foreign_aws_signin_url;
use crate::helpers::saml_metadata::metadata_error_text;
use crate::saml;
use crate::services::saml_sso::ServiceProvider;

/// Checks the SAML inputs of the configuration; `None` while a value is unknown or when they are not usable.
pub(super) fn service_provider(
    config: &SamlTrustModel,
    diags: &mut Diagnostics,
) -> Option<ServiceProvider> {
    let (metadata, entity_id, acs_url) =
        (&config.aws_metadata_xml, &config.entity_id, &config.acs_url);
    let sign_on_url = config.sign_on_url.as_str().map(str::to_string);
    if metadata.is_unknown() || entity_id.is_unknown() || acs_url.is_unknown() {
        return None;
    }
    let provider = if let Some(xml) = metadata.as_str() {
        if !entity_id.is_null() || !acs_url.is_null() {
            diags.error_at(
                AttributePath::new("aws_metadata_xml"),
                "Conflicting SAML arguments",
                "Set either `aws_metadata_xml` or `entity_id` + `acs_url`, not both: the metadata file already \
                 contains the entity ID and ACS URL.",
            );
            return None;
        }
        match saml::parse_aws_sp_metadata(xml) {
            Ok(parsed) => ServiceProvider {
                entity_id: parsed.entity_id,
                acs_url: parsed.acs_url,
                // Only the configured sign-on URL is applied: taking the file's would leave `sign_on_url` (not
                // computed) differing from what Entra reports on every plan.
                sign_on_url,
            },
            Err(error) => {
                diags.push(
                    Diagnostic::error("Invalid AWS SAML metadata", metadata_error_text(&error))
                        .at(AttributePath::new("aws_metadata_xml")),
                );
                return None;
            }
        }
    } else {
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
    // Only URLs that passed the generic checks above, so that one mistake gives one error.
    for (name, in_metadata, value, well_formed) in [
        (
            "entity_id",
            "the entity ID in `aws_metadata_xml`",
            &provider.entity_id,
            saml::validate_entity_id(&provider.entity_id).is_ok(),
        ),
        (
            "acs_url",
            "the ACS URL in `aws_metadata_xml`",
            &provider.acs_url,
            saml::validate_acs_url(&provider.acs_url).is_ok(),
        ),
    ] {
        let label = if explicit { name } else { in_metadata };
        if well_formed && let Some(problem) = foreign_aws_signin_url(label, value) {
            diags.error_at(at(name), "Not an AWS sign-in URL", problem);
            valid = false;
        }
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

pub(super) fn certificate_name(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(name) if !name.starts_with("CN=") => Diagnostic::error(
            "Invalid certificate name",
            "`certificate_display_name` must be a subject name starting with \"CN=\".",
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

pub(super) fn positive_days(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_i64() {
        Some(days) if days < 1 => {
            Diagnostic::error("Invalid number of days", "The value must be at least 1.")
                .at(path.clone())
                .into()
        }
        _ => Diagnostics::new(),
    }
}

/// Graph's `addTokenSigningCertificate` takes an end date at most three years ahead.
const MAX_VALIDITY_DAYS: i64 = 3 * 365;

pub(super) fn certificate_validity(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_i64() {
        Some(days) if !(1..=MAX_VALIDITY_DAYS).contains(&days) => Diagnostic::error(
            "Invalid certificate validity",
            format!(
                "`certificate_validity_days` is {days}; Microsoft Entra ID issues token signing certificates valid \
                 for 1 to {MAX_VALIDITY_DAYS} days (three years)."
            ),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

/// A rotation window as long as the validity would replace every new certificate at once, on every plan.
pub(super) fn rotation_within_validity(config: &SamlTrustModel) -> Diagnostics {
    let validity = match config.certificate_validity_days {
        Attr::Known(days) => days,
        Attr::Null => DEFAULT_VALIDITY_DAYS,
        _ => return Diagnostics::new(),
    };
    let rotate_before = match config.rotate_before_days {
        Attr::Known(days) => days,
        Attr::Null => DEFAULT_ROTATE_BEFORE_DAYS,
        _ => return Diagnostics::new(),
    };
    if rotate_before < validity {
        return Diagnostics::new();
    }
    Diagnostic::error(
        "Rotation window longer than the certificate validity",
        format!(
            "`rotate_before_days` ({rotate_before}) must be less than `certificate_validity_days` ({validity}): \
             a new certificate would already be due for rotation, and every plan would replace it."
        ),
    )
    .at(AttributePath::new("rotate_before_days"))
    .into()
}

/// The NameID formats Microsoft Entra ID can issue (the "Name identifier format" choices of the SAML claims
/// page, and transient, which Entra honours when the request asks for it).
const NAMEID_FORMATS: [&str; 5] = [
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:WindowsDomainQualifiedName",
];

pub(super) fn nameid_format(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(format) if !NAMEID_FORMATS.contains(&format) => Diagnostic::error(
            "Invalid NameID format",
            format!(
                "{format:?} is not a NameID format Microsoft Entra ID issues; use one of {}. AWS IAM Identity \
                 Center expects the email address format.",
                NAMEID_FORMATS.join(", ")
            ),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

/// User attributes a claims mapping policy can take as a source (Microsoft's claims customization reference,
/// "valid ID values per source"), besides `extensionattribute1`..`15` and directory extensions.
const USER_SOURCES: [&str; 25] = [
    "userprincipalname",
    "mail",
    "objectid",
    "employeeid",
    "onpremisessamaccountname",
    "onpremisesuserprincipalname",
    "onpremisessecurityidentifier",
    "netbiosname",
    "dnsdomainname",
    "mailnickname",
    "othermail",
    "displayname",
    "givenname",
    "surname",
    "department",
    "companyname",
    "jobtitle",
    "streetaddress",
    "city",
    "state",
    "country",
    "postalcode",
    "telephonenumber",
    "preferredlanguage",
    "usertype",
];

fn is_user_source(attribute: &str) -> bool {
    let attribute = attribute.to_ascii_lowercase();
    if let Some(number) = attribute.strip_prefix("extensionattribute") {
        return number.parse::<u8>().is_ok_and(|n| (1..=15).contains(&n));
    }
    // Directory extensions: extension_<appId without dashes>_<name>.
    if let Some(rest) = attribute.strip_prefix("extension_") {
        return rest.split_once('_').is_some_and(|(app, name)| {
            app.len() == 32 && app.bytes().all(|b| b.is_ascii_hexdigit()) && !name.is_empty()
        });
    }
    USER_SOURCES.contains(&attribute.as_str())
}

pub(super) fn nameid_source(value: &Value, path: &AttributePath) -> Diagnostics {
    let Some(source) = value.as_str() else {
        return Diagnostics::new();
    };
    if source.strip_prefix("user.").is_some_and(is_user_source) {
        return Diagnostics::new();
    }
    Diagnostic::error(
        "Invalid NameID source",
        format!(
            "{source:?} is not a user attribute Microsoft Entra ID can send as the NameID; use `user.<attribute>`, \
             e.g. `user.userprincipalname` (the default) or `user.mail`, `user.employeeid`, \
             `user.extensionattribute1`..`15`, or a directory extension `user.extension_<appId>_<name>`."
        ),
    )
    .at(path.clone())
    .into()
}
