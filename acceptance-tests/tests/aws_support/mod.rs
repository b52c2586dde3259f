//! AWS SDK clients pointed at the emulators' AWS endpoint (the AWS-faithful proxy), for out-of-band changes in
//! `pre` hooks and for destroy checks; and the proxy's admin API. Shared by the Identity Center acceptance tests;
//! needs `mod support;` beside `mod aws_support;`.

#![allow(dead_code)] // each test binary uses its own part

use idbridge_acceptance::CheckResult;

use crate::support::try_http;
#[allow(unused_imports)]
// a convenience re-export; binaries that import `support` directly skip it
pub use crate::support::{endpoints, unique};

fn credentials() -> aws_sdk_ssoadmin::config::Credentials {
    aws_sdk_ssoadmin::config::Credentials::new("testing", "testing", None, None, "acceptance")
}

fn http_client() -> aws_sdk_ssoadmin::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

pub fn sso_admin() -> aws_sdk_ssoadmin::Client {
    let e = endpoints();
    aws_sdk_ssoadmin::Client::from_conf(
        aws_sdk_ssoadmin::Config::builder()
            .behavior_version(aws_sdk_ssoadmin::config::BehaviorVersion::latest())
            .region(aws_sdk_ssoadmin::config::Region::new(e.aws_region.clone()))
            .credentials_provider(credentials())
            .http_client(http_client())
            .endpoint_url(&e.aws_endpoint_url)
            .build(),
    )
}

pub fn identity_store() -> aws_sdk_identitystore::Client {
    let e = endpoints();
    aws_sdk_identitystore::Client::from_conf(
        aws_sdk_identitystore::Config::builder()
            .behavior_version(aws_sdk_identitystore::config::BehaviorVersion::latest())
            .region(aws_sdk_identitystore::config::Region::new(
                e.aws_region.clone(),
            ))
            .credentials_provider(credentials())
            .http_client(http_client())
            .endpoint_url(&e.aws_endpoint_url)
            .build(),
    )
}

/// Runs an SDK future to completion from a synchronous hook or check.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

/// `PUT /_proxy/config` with a partial configuration (JSON object).
pub fn proxy_config(body: &str) -> CheckResult {
    let answer = try_http(
        "PUT",
        &format!(
            "{}/_proxy/config",
            endpoints().aws_endpoint_url.trim_end_matches('/')
        ),
        &[("Content-Type", "application/json")],
        Some(body),
    )?;
    if (200..300).contains(&answer.status) {
        Ok(())
    } else {
        Err(format!(
            "PUT /_proxy/config answered: HTTP {} {}",
            answer.status, answer.body
        )
        .into())
    }
}
