//! Provider actions (`action` blocks, `terraform apply -invoke=action.<type>.<name>`, `action_trigger` in a
//! resource's lifecycle): one-off operations on what the resources manage, with progress reported as they
//! run. Same rules as resources: typed models, calls through `crate::services`, errors through
//! `crate::helpers`; actions never import resources or each other.

pub mod provision_on_demand;
pub mod restart_provisioning;
pub mod rotate_signing_certificate;

use crate::framework::Attribute;

/// The `application_id` every action takes: the application it acts on.
fn application_id_attribute() -> Attribute {
    Attribute::string("application_id").required().description(
        "Object id of the AWS IAM Identity Center application (the `id` of `idbridge_entra_application`).",
    )
}
