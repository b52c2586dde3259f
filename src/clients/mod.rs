//! Cloud clients. They know nothing of Terraform: plain Rust types in, plain Rust types out.

pub mod aws;
pub mod graph;
