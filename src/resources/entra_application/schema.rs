//! The schema of `idbridge_entra_application`.

use super::validate::non_blank;
use crate::clients::graph::AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID;
use crate::framework::{Attribute, NestedBlock, Operation, Schema, Type};

pub(super) fn schema() -> Schema {
    let guid_set = |name: &str| Attribute::set(name, Type::String);
    Schema::new()
        .description(
            "The \"AWS IAM Identity Center (successor to AWS Single Sign-On)\" enterprise application in \
             Microsoft Entra ID, instantiated from the application gallery, with its service principal.",
        )
        .attribute(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("The object ID of the application (also the import ID)."),
        )
        .attribute(
            Attribute::string("display_name")
                .required()
                .validator(non_blank)
                .description("The name of the application and of its enterprise application (service principal)."),
        )
        .attribute(
            Attribute::string("template_id")
                .optional()
                .computed()
                .requires_replace()
                .use_state_for_unknown()
                .description(format!(
                    "The gallery template to instantiate. Defaults to `{AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID}`, \
                     \"AWS IAM Identity Center (successor to AWS Single Sign-On)\". Changing it creates a new \
                     application."
                )),
        )
        .attribute(
            Attribute::string("notes")
                .optional()
                .description("Free-text notes on the application (Entra ID \"Notes\")."),
        )
        .attribute(
            guid_set("owners")
                .optional()
                .computed()
                .use_state_for_unknown()
                .description(
                    "Object IDs of the users or service principals that own the application. When unset, \
                     owners are not managed and the current ones are reported.",
                ),
        )
        .attribute(
            Attribute::bool("app_role_assignment_required")
                .optional()
                .computed()
                .description(
                    "Whether users must be assigned (directly or through a group) before they can sign in. \
                     Defaults to `true`, which keeps AWS access limited to the assigned groups.",
                ),
        )
        .attribute(
            Attribute::bool("hide_from_my_apps")
                .optional()
                .computed()
                .description(
                    "Hides the application from users' My Apps portal (service principal tag `HideApp`). \
                     Defaults to `false`.",
                ),
        )
        .attribute(
            guid_set("tags")
                .optional()
                .description("Tags on the application object."),
        )
        .attribute(
            Attribute::string("client_id")
                .computed()
                .use_state_for_unknown()
                .description("The application (client) ID, `appId` in Microsoft Graph."),
        )
        .attribute(
            Attribute::string("service_principal_id")
                .computed()
                .use_state_for_unknown()
                .description("The object ID of the service principal (the enterprise application)."),
        )
        .attribute(
            Attribute::string("tenant_id")
                .computed()
                .use_state_for_unknown()
                .description("The Entra ID tenant the application lives in."),
        )
        .attribute(
            Attribute::map("app_role_ids", Type::String)
                .computed()
                .use_state_for_unknown()
                .description(
                    "App role IDs by value: `User` and `msiam_access`, for group assignments \
                     (`idbridge_group_assignment` uses them).",
                ),
        )
        .block(NestedBlock::timeouts(&[
            Operation::Create,
            Operation::Read,
            Operation::Update,
            Operation::Delete,
        ]))
}
