//! Local clouds for tests and the demo.
//! - `graph`: Microsoft Graph v1.0 + Entra token endpoint + provisioning engine.
//! - `scim`: the AWS IAM Identity Center SCIM endpoint stand-in, writing into moto's identitystore.
//! - `aws_proxy`: an AWS-faithful proxy in front of moto (missing operations, ARN shapes, async status, quotas).
//! - `moto`: launches the pinned moto server.

pub mod aws_proxy;
pub mod graph;
pub mod moto;
pub mod scim;
mod served;
