//! The schema of `idbridge_sign_in_preview`; its descriptions are the documentation.

use crate::framework::{Attribute, NestedBlock, Operation, Schema, Type};
use crate::helpers::validate_object_id;

pub(super) fn schema() -> Schema {
    Schema::new()
        .description(
            "What signing in to AWS IAM Identity Center through the enterprise application will give one Entra \
             ID user, read from both clouds: the NameID and SAML claims Entra will send, the identity store user \
             SCIM provisioning made, its groups, the accounts and permission sets it can open, and `problems`: \
             every reason the sign-in would fail (empty when it will work). Use it in `check` blocks and \
             postconditions.",
        )
        .attribute(Attribute::string("id").computed().description(
            "`<application_id>/<user_id>`.",
        ))
        .attribute(
            Attribute::string("application_id")
                .required()
                .validator(|value, path| validate_object_id(value, path, "application id"))
                .description("Object ID of the application: `idbridge_entra_application.<name>.id`."),
        )
        .attribute(Attribute::string("user_principal_name").optional().computed().description(
            "The user's user principal name. Set it or `user_id`.",
        ))
        .attribute(
            Attribute::string("user_id")
                .optional()
                .computed()
                .validator(|value, path| validate_object_id(value, path, "user id"))
                .description("The user's object ID. Set it or `user_principal_name`."),
        )
        .attribute(Attribute::string("instance_arn").optional().computed().description(
            "The IAM Identity Center instance (`arn:aws:sso:::instance/ssoins-...`); by default the only one the \
             provider's AWS credentials see.",
        ))
        .attribute(Attribute::string("name_id").computed().description(
            "The NameID Entra will send (the value of the claims mapping policy's NameID source for this user); \
             null when the user has no value there.",
        ))
        .attribute(Attribute::map("claims", Type::String).computed().description(
            "The SAML attributes the claims mapping policy adds, claim type → value for this user, e.g. \
             `https://aws.amazon.com/SAML/Attributes/AccessControl:Department`. Claims whose source attribute \
             the user lacks are left out, as Entra leaves them out of the assertion.",
        ))
        .attribute(Attribute::string("identity_store_user_id").computed().description(
            "The identity store user whose `userName` is what SCIM sends for this user; null when there is none.",
        ))
        .attribute(Attribute::set("groups", Type::String).computed().description(
            "Display names of the identity store groups the user is a member of.",
        ))
        .attribute(Attribute::set("access", Type::String).computed().description(
            "What the user can open in the AWS access portal: `<account_id>/<permission_set_arn>`, from the \
             user's own account assignments and its groups'.",
        ))
        .attribute(Attribute::list("problems", Type::String).computed().description(
            "Why the sign-in would fail or show nothing, one sentence each, starting with a fixed label: \
             `SAML not configured`, `not assigned to the application`, `account disabled`, `rejected by SCIM`, \
             `unusable userName`, `not provisioned`, `no NameID`, `NameID mismatch`, \
             `session duration out of range`, `no AWS access`. Empty when the sign-in will work.",
        ))
        .block(NestedBlock::timeouts(&[Operation::Read]))
}
