//! AWS's SCIM endpoint itself, asked with the token before anything is created.

use std::time::Duration;

use crate::clients::graph::http_client;
use crate::framework::{AttributePath, Diagnostic, Diagnostics, Secret as ScimToken};

/// `GET {endpoint}ServiceProviderConfig` with the token: a direct answer from AWS is clearer than Entra's
/// generic credential error, and it costs nothing to ask before the job exists.
pub async fn preflight(endpoint: &str, token: &ScimToken) -> Result<(), Diagnostics> {
    let url = service_provider_config_url(endpoint);
    let http = http_client(Duration::from_secs(30)).map_err(|error| {
        Diagnostics::from(Diagnostic::error(
            "Cannot check the SCIM endpoint",
            error.to_string(),
        ))
    })?;
    let response = http
        .get(&url)
        .bearer_auth(token.expose())
        .header("Accept", "application/scim+json")
        .send()
        .await;
    let status = match response {
        Ok(response) => response.status().as_u16(),
        Err(error) => {
            return Err(Diagnostic::error(
                "SCIM endpoint unreachable",
                format!(
                    "GET {url} failed: {}. Check `scim_endpoint`.",
                    error.without_url()
                ),
            )
            .at(AttributePath::new("scim_endpoint"))
            .into());
        }
    };
    preflight_verdict(status, &url)
}

pub fn service_provider_config_url(endpoint: &str) -> String {
    format!("{}/ServiceProviderConfig", endpoint.trim_end_matches('/'))
}

pub fn preflight_verdict(status: u16, url: &str) -> Result<(), Diagnostics> {
    let diagnostic = match status {
        200..=299 => return Ok(()),
        401 | 403 => Diagnostic::error(
            "SCIM access token rejected",
            format!(
                "The SCIM endpoint answered {status} to GET {url}: the SCIM access token was rejected: generate a \
                 new one in IAM Identity Center (Settings > Identity source > Automatic provisioning > Generate \
                 token), set it in `scim_token_wo` and change `scim_token_wo_version`. AWS gives the same answer when \
                 the tenant id in `scim_endpoint` is wrong: if the token is new, copy the endpoint again from the \
                 same page."
            ),
        )
        .at(AttributePath::new("scim_token_wo")),
        404 => Diagnostic::error(
            "SCIM endpoint not found",
            format!(
                "The SCIM endpoint answered 404 to GET {url}: TENANT does not exist: the SCIM endpoint URL is \
                 wrong. Copy it from IAM Identity Center (Settings > Identity source > Automatic provisioning)."
            ),
        )
        .at(AttributePath::new("scim_endpoint")),
        _ => Diagnostic::error(
            "SCIM endpoint check failed",
            format!(
                "The SCIM endpoint answered {status} to GET {url}. Check `scim_endpoint`, or retry if AWS is \
                 having trouble."
            ),
        )
        .at(AttributePath::new("scim_endpoint")),
    };
    Err(diagnostic.into())
}
