//! Microsoft Graph client: authentication, retries and the typed calls the provider needs. Knows nothing of
//! Terraform.
//!
//! # Why not `azure_identity`
//!
//! The official `azure_identity` crate (1.0/1.1-beta, checked with `cargo info` and its source) was evaluated
//! for client secret, certificate, workload identity and CLI credentials and rejected:
//! - it refuses any authority host that is not `https` ("authority host doesn't use HTTPS scheme"), so it cannot
//!   talk to our Graph emulator on `http://127.0.0.1`, which every acceptance test relies on;
//! - its certificate credential is behind the `client_certificate` feature, which pulls `openssl` (C bindings
//!   and a system library), against our pure-Rust rule;
//! - it drags in `azure_core`/`typespec` with their own HTTP pipeline, retry and logging policies that would
//!   duplicate (and fight) ours, and its errors wrap Entra's AADSTS answer in its own text.
//!
//! What we need is small and well specified: the OAuth 2.0 client-credentials grant at
//! `{login}/{tenant}/oauth2/v2.0/token` with a secret, an RS256 client assertion (`x5t`/`x5t#S256` headers)
//! signed with the certificate key (`rsa`, pure Rust; PKCS#12 via `p12-keystore`), or a federated OIDC token,
//! plus `az account get-access-token`. So [`auth`] implements exactly that, with a token cache refreshed five
//! minutes ahead of expiry and one refresh in flight at a time.

pub mod api;
pub mod auth;
pub mod client;
pub mod conditional_access;
mod create_once;
pub mod models;
pub mod settings;
pub mod sync_schema;
#[cfg(test)]
mod test_support;

pub use api::{InstantiatedApplication, odata_string};
pub use auth::{
    AccessToken, AuthError, CertificateKey, Credential, FederatedTokenSource, TokenProvider,
};
pub use client::{
    ApiError, GraphClient, GraphError, Replay, RetryPolicy, http_client, parse_retry_after,
};
pub use settings::{
    ClientCertificate, CloudEnvironment, EntraOverrides, EntraSettings, SettingsError,
};

/// The gallery template "AWS IAM Identity Center (successor to AWS Single Sign-On)".
pub const AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID: &str = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4";
