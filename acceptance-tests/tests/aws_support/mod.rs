//! AWS SDK clients pointed at the emulators' AWS endpoint (the AWS-faithful proxy), for out-of-band changes in
//! `pre` hooks and for destroy checks; and the proxy's admin API. Shared by the Identity Center acceptance tests.

#![allow(dead_code)] // each test binary uses its own part

use std::io::{Read, Write};
use std::net::TcpStream;

use idbridge_acceptance::{CheckResult, EmulatorEndpoints, Emulators};

pub fn endpoints() -> &'static EmulatorEndpoints {
    Emulators::shared()
        .expect("the emulators start (the case itself would have failed otherwise)")
        .endpoints()
}

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
    let host = endpoints()
        .aws_endpoint_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut stream = TcpStream::connect(&host)?;
    write!(
        stream,
        "PUT /_proxy/config HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    if answer.starts_with("HTTP/1.1 2") {
        Ok(())
    } else {
        Err(format!(
            "PUT /_proxy/config answered: {}",
            answer.lines().next().unwrap_or("")
        )
        .into())
    }
}

/// A name unique to this test run, so tests sharing the emulators never collide.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}-{}-{nanos:x}", std::process::id() % 10_000)
}
