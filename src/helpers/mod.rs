//! One place for each rule more than one resource, data source or function needs: how a client error becomes
//! a diagnostic, what an id or ARN looks like, the replication-lag stamp in private state, the SAML metadata
//! outputs. Depends on the framework, the clients and `saml` only.

pub mod account_targets;
pub mod assignment_inputs;
pub mod aws_inputs;
pub mod aws_saml_urls;
pub mod diagnostics;
pub mod equivalent;
pub mod ids;
pub mod ownership;
pub mod recent_write;
pub mod saml_metadata;

pub use diagnostics::{aws_error, graph_error, organizations_error, sentence};
pub use ids::{
    instance_arn_of, is_account_id, is_instance_arn, is_object_id, is_organizational_unit_id,
    is_permission_set_arn, is_root_id, validate_object_id,
};
