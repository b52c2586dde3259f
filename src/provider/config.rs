//! The provider configuration: its schema (the `entra` and `aws` blocks of docs/development/RESOURCES.md),
//! plan-time validation and the translation of a configured value into client settings.
//!
//! Every attribute is optional and falls back to an environment variable, so validation only judges values
//! that are set and known; whether a credential is present at all is decided when a client is first needed.

use crate::helpers::sentence;
use std::path::PathBuf;

use crate::clients::aws::{AssumeRoleSettings, AwsSettings};
use crate::clients::graph::settings::env;
use crate::clients::graph::{EntraOverrides, EntraSettings, SettingsError};
use crate::framework::{
    Attribute, AttributePath, Block, Diagnostics, NestedBlock, Nesting, Schema, Value,
};

pub(crate) const ENTRA: &str = "entra";
pub(crate) const AWS: &str = "aws";
const ASSUME_ROLE: &str = "assume_role";

fn fallback(text: &str, variable: &str) -> String {
    format!("{text} Falls back to the `{variable}` environment variable.")
}

fn entra_block() -> Block {
    let string = |name: &str, text: &str, variable: &str| {
        Attribute::string(name)
            .optional()
            .description(fallback(text, variable))
    };
    let secret = |name: &str, text: &str, variable: &str| string(name, text, variable).sensitive();
    let flag = |name: &str, text: &str, variable: &str| {
        Attribute::bool(name)
            .optional()
            .description(fallback(text, variable))
    };
    Block::new()
        .description(
            "Microsoft Entra ID (Microsoft Graph) authentication. Only needed by resources that manage the \
             Entra ID side; the SAML metadata data source and function never use it.",
        )
        .attribute(string(
            "tenant_id",
            "The Entra ID tenant (directory) ID.",
            env::TENANT_ID,
        ))
        .attribute(string(
            "client_id",
            "The application (client) ID of the app registration the provider signs in as.",
            env::CLIENT_ID,
        ))
        .attribute(secret(
            "client_secret",
            "A client secret of that app registration.",
            env::CLIENT_SECRET,
        ))
        .attribute(secret(
            "client_certificate",
            "A base64-encoded PKCS#12 (.pfx/.p12) bundle holding the client certificate and its private key. \
             Conflicts with `client_certificate_path`.",
            env::CLIENT_CERTIFICATE,
        ))
        .attribute(string(
            "client_certificate_path",
            "Path to a PKCS#12 bundle, or a PEM file holding the certificate and its unencrypted RSA private \
             key. Conflicts with `client_certificate`.",
            env::CLIENT_CERTIFICATE_PATH,
        ))
        .attribute(secret(
            "client_certificate_password",
            "The password protecting the PKCS#12 bundle.",
            env::CLIENT_CERTIFICATE_PASSWORD,
        ))
        .attribute(flag(
            "use_oidc",
            "Authenticate with workload identity federation by requesting an OIDC token from the CI system \
             (GitHub Actions' `ACTIONS_ID_TOKEN_REQUEST_URL`/`ACTIONS_ID_TOKEN_REQUEST_TOKEN`, or \
             `ARM_OIDC_REQUEST_URL`/`ARM_OIDC_REQUEST_TOKEN`). A token given with `oidc_token` or \
             `oidc_token_file_path` is used without it. Defaults to `false`.",
            env::USE_OIDC,
        ))
        .attribute(secret(
            "oidc_token",
            "The OIDC token to exchange. Conflicts with `oidc_token_file_path`.",
            env::OIDC_TOKEN,
        ))
        .attribute(string(
            "oidc_token_file_path",
            "Path to a file holding the OIDC token; read at every token request because projected tokens \
             rotate. Conflicts with `oidc_token`.",
            env::OIDC_TOKEN_FILE_PATH,
        ))
        .attribute(flag(
            "use_cli",
            "Fall back to the signed-in Azure CLI (`az account get-access-token`) when no other credential is \
             configured. Defaults to `true`.",
            env::USE_CLI,
        ))
        .attribute(string(
            "environment",
            "The cloud: `global` (default), `usgovernment`, `usgovernmentl5` or `china`.",
            env::ENVIRONMENT,
        ))
        .attribute(string(
            "graph_endpoint",
            "Microsoft Graph base URL, for sovereign clouds or a local emulator (a bare origin means its \
             `/v1.0`). Must be https; plain http is accepted for 127.0.0.1/localhost only.",
            env::GRAPH_ENDPOINT,
        ))
        .attribute(string(
            "login_endpoint",
            "The Entra ID authority host that issues tokens, for sovereign clouds or a local emulator. Must be \
             https; plain http is accepted for 127.0.0.1/localhost only.",
            env::LOGIN_ENDPOINT,
        ))
}

fn aws_block() -> Block {
    let string = |name: &str, text: &str| Attribute::string(name).optional().description(text);
    Block::new()
        .description(
            "AWS IAM Identity Center access through the standard AWS credential chain (environment, shared \
             config and credentials files, SSO, web identity, container and instance roles). Only needed by \
             resources that manage the AWS side.",
        )
        .attribute(string(
            "region",
            "The region of the IAM Identity Center instance. Falls back to `AWS_REGION` and the profile's \
             region.",
        ))
        .attribute(string(
            "profile",
            "A named profile of the shared AWS config. Falls back to `AWS_PROFILE`.",
        ))
        .attribute(string(
            "endpoint_url",
            "Send Identity Center calls to this endpoint instead of AWS's, e.g. a local emulator. Falls back \
             to `AWS_ENDPOINT_URL`.",
        ))
        .block(NestedBlock::new(
            ASSUME_ROLE,
            Nesting::Single,
            Block::new()
                .description("Assume this IAM role on top of the credentials of the chain.")
                .attribute(
                    Attribute::string("role_arn")
                        .required()
                        .description("ARN of the role to assume, `arn:aws:iam::<account>:role/<name>`."),
                )
                .attribute(string(
                    "session_name",
                    "The role session name shown in CloudTrail. Defaults to `terraform-provider-idbridge`.",
                ))
                .attribute(string(
                    "external_id",
                    "The external ID the role's trust policy requires, if any.",
                )),
        ))
}

pub(crate) fn provider_schema() -> Schema {
    Schema::new()
        .description(
            "Automates the Microsoft Entra ID to AWS IAM Identity Center integration: the gallery application, \
             the SAML trust, SCIM provisioning, permission sets and group assignments.",
        )
        .block(NestedBlock::new(ENTRA, Nesting::Single, entra_block()))
        .block(NestedBlock::new(AWS, Nesting::Single, aws_block()))
}

/// Reads the attributes of one configured block, remembering whether any of them was unknown.
struct BlockReader<'a> {
    block: &'a Value,
    saw_unknown: bool,
}

impl<'a> BlockReader<'a> {
    fn new(block: &'a Value) -> Self {
        BlockReader {
            saw_unknown: block.is_unknown(),
            block,
        }
    }

    /// Known, non-empty strings; an empty string means "not set" so the environment variable still applies.
    fn string(&mut self, name: &str) -> Option<String> {
        let value = self.block.get(name);
        if value.is_unknown() {
            self.saw_unknown = true;
        }
        value.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
    }

    fn path(&mut self, name: &str) -> Option<PathBuf> {
        self.string(name).map(PathBuf::from)
    }

    fn bool(&mut self, name: &str) -> Option<bool> {
        let value = self.block.get(name);
        if value.is_unknown() {
            self.saw_unknown = true;
        }
        value.as_bool()
    }

    fn nested(&mut self, name: &str) -> BlockReader<'a> {
        BlockReader::new(self.block.get(name))
    }
}

/// A block translated into settings, or `Unknown` when part of it is only known after apply.
pub(crate) enum Configured<T> {
    Known(T),
    Unknown,
}

pub(crate) fn entra_overrides(config: &Value) -> Configured<EntraOverrides> {
    let mut r = BlockReader::new(config.get(ENTRA));
    let overrides = EntraOverrides {
        tenant_id: r.string("tenant_id"),
        client_id: r.string("client_id"),
        client_secret: r.string("client_secret"),
        client_certificate: r.string("client_certificate"),
        client_certificate_path: r.path("client_certificate_path"),
        client_certificate_password: r.string("client_certificate_password"),
        use_oidc: r.bool("use_oidc"),
        oidc_token: r.string("oidc_token"),
        oidc_token_file_path: r.path("oidc_token_file_path"),
        use_cli: r.bool("use_cli"),
        environment: r.string("environment"),
        graph_endpoint: r.string("graph_endpoint"),
        login_endpoint: r.string("login_endpoint"),
        ..EntraOverrides::default()
    };
    if r.saw_unknown {
        Configured::Unknown
    } else {
        Configured::Known(overrides)
    }
}

pub(crate) fn aws_settings(config: &Value) -> Configured<AwsSettings> {
    let mut r = BlockReader::new(config.get(AWS));
    let mut role = r.nested(ASSUME_ROLE);
    let assume_role = role.string("role_arn").map(|role_arn| AssumeRoleSettings {
        role_arn,
        session_name: role.string("session_name"),
        external_id: role.string("external_id"),
        duration: None,
    });
    let settings = AwsSettings {
        region: r.string("region"),
        profile: r.string("profile"),
        endpoint_url: r.string("endpoint_url"),
        assume_role,
        max_attempts: None,
    };
    if r.saw_unknown || role.saw_unknown {
        Configured::Unknown
    } else {
        Configured::Known(settings)
    }
}

fn entra_path(attribute: &str) -> AttributePath {
    AttributePath::new(ENTRA).attribute(attribute)
}

fn aws_path(attribute: &str) -> AttributePath {
    AttributePath::new(AWS).attribute(attribute)
}

/// Plan-time checks of what is set and known. Values given through environment variables are checked when
/// the client is built, since validation must not depend on the machine running `terraform validate`.
pub(crate) fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    validate_entra(config.get(ENTRA), &mut diags);
    validate_aws(config.get(AWS), &mut diags);
    diags
}

fn is_set(block: &Value, name: &str) -> bool {
    let value = block.get(name);
    value.is_unknown() || value.as_str().is_some_and(|s| !s.is_empty())
}

fn validate_entra(block: &Value, diags: &mut Diagnostics) {
    if !block.is_present() {
        return;
    }
    for (first, second) in [
        ("client_certificate", "client_certificate_path"),
        ("oidc_token", "oidc_token_file_path"),
    ] {
        if is_set(block, first) && is_set(block, second) {
            diags.error_at(
                entra_path(second),
                "Conflicting configuration arguments",
                format!("Set either `entra.{first}` or `entra.{second}`, not both."),
            );
        }
    }
    if block.get("client_certificate_password").as_str().is_some()
        && !is_set(block, "client_certificate")
        && !is_set(block, "client_certificate_path")
    {
        diags.warning_at(
            entra_path("client_certificate_password"),
            "Certificate password without a certificate in the configuration",
            "`entra.client_certificate_password` is only used with a PKCS#12 certificate, set here or through \
             ARM_CLIENT_CERTIFICATE / ARM_CLIENT_CERTIFICATE_PATH.",
        );
    }
    // Resolve only the explicitly configured values that need no file or environment (environment name,
    // endpoints, base64 of the inline certificate), reusing exactly the rules the client applies later.
    let known = |name: &str| {
        block
            .get(name)
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let checked = EntraOverrides {
        environment: known("environment"),
        graph_endpoint: known("graph_endpoint"),
        login_endpoint: known("login_endpoint"),
        client_certificate: known("client_certificate"),
        ..EntraOverrides::default()
    };
    if let Err(error) = EntraSettings::from_lookup_and(|_| None, &checked) {
        let (attribute, summary) = match &error {
            SettingsError::UnknownEnvironment(_) => ("environment", "Unknown cloud environment"),
            SettingsError::CertificateNotBase64 => {
                ("client_certificate", "Invalid client certificate")
            }
            SettingsError::InvalidEndpoint { what, .. } if what == "login_endpoint" => {
                ("login_endpoint", "Invalid endpoint")
            }
            SettingsError::InvalidEndpoint { .. } => ("graph_endpoint", "Invalid endpoint"),
            _ => {
                return diags.error(
                    "Invalid Entra ID configuration",
                    sentence(&error.to_string()),
                );
            }
        };
        diags.error_at(entra_path(attribute), summary, sentence(&error.to_string()));
    }
}

fn validate_aws(block: &Value, diags: &mut Diagnostics) {
    if !block.is_present() {
        return;
    }
    if let Some(url) = block.get("endpoint_url").as_str().filter(|s| !s.is_empty()) {
        let valid = url::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some());
        if !valid {
            diags.error_at(
                aws_path("endpoint_url"),
                "Invalid endpoint",
                format!("`aws.endpoint_url` {url:?} must be an absolute https:// or http:// URL."),
            );
        }
    }
    if let Some(region) = block.get("region").as_str() {
        let plausible = !region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !plausible {
            diags.error_at(
                aws_path("region"),
                "Invalid AWS region",
                format!(
                    "`aws.region` {region:?} is not a region name such as `eu-west-1` (lowercase letters, digits \
                     and dashes)."
                ),
            );
        }
    }
    if let Some(arn) = block.get(ASSUME_ROLE).get("role_arn").as_str() {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let valid = matches!(parts.as_slice(),
            ["arn", partition, "iam", "", account, resource]
                if partition.starts_with("aws")
                    && account.len() == 12
                    && account.chars().all(|c| c.is_ascii_digit())
                    && resource.starts_with("role/"));
        if !valid {
            diags.error_at(
                AttributePath::new(AWS)
                    .attribute(ASSUME_ROLE)
                    .attribute("role_arn"),
                "Invalid role ARN",
                format!(
                    "`aws.assume_role.role_arn` {arn:?} is not an IAM role ARN; expected \
                     arn:aws:iam::<12-digit account>:role/<name>."
                ),
            );
        }
    }
}
