//! The wire layer: Terraform plugin protocol 6 types and the go-plugin process plumbing.
//!
//! Knows nothing about the framework: anything implementing
//! [`tfplugin6::provider_server::Provider`] can be served.

pub mod client;
pub mod controller;
pub mod handshake;
pub mod listener;
pub mod logging;
mod parent;
mod redact;
pub mod server;
pub mod stdio;
pub mod tls;

pub use server::{
    MAX_MESSAGE_SIZE, Mode, PROVIDER_ADDRESS, ServeError, ServeOptions, run_plugin, serve,
};

/// Terraform plugin protocol 6.10 messages, plus the `Provider` gRPC server and client.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's own services that run beside the provider (process shutdown, stdio forwarding).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod go_plugin {
    tonic::include_proto!("plugin");
}
