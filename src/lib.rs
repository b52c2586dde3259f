//! terraform-provider-idbridge: the Microsoft Entra ID → AWS IAM Identity Center integration as a
//! Terraform/OpenTofu provider.
//!
//! Layers (each only depends on the ones above it):
//! - `protocol`: the Terraform plugin protocol v6 wire types and the go-plugin process plumbing.
//! - `framework`: values, schemas, diagnostics and the resource/data source/function traits.
//! - `clients`: Microsoft Graph and AWS clients; know nothing of Terraform.
//! - `saml`: SAML metadata parsing and generation; pure functions.
//! - `helpers`: one way to do each small thing: client errors as diagnostics, id and ARN checks.
//! - `services`: the configured clients and the cross-cloud orchestration resources share.
//! - `resources`, `data_sources`, `functions`: what the provider offers, each working on typed models.
//! - `provider`: the provider configuration and the list of everything it offers.

pub mod actions;
pub mod clients;
pub mod data_sources;
pub mod framework;
pub mod functions;
pub mod helpers;
pub mod protocol;
pub mod provider;
pub mod resources;
pub mod saml;
pub mod services;

/// Process entry point; returns the exit code. Serves the idbridge provider through the framework layer over
/// the plugin protocol.
pub fn run() -> i32 {
    protocol::run_plugin(|| framework::FrameworkServer::new(provider::IdbridgeProvider::new()))
}
