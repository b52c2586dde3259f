//! The schema of `idbridge_scim_provisioning`.

use super::validate::{validate_scim_endpoint, validate_scope, validate_token_expiry};
use crate::framework::{Attribute, Block, NestedBlock, Nesting, Operation, Schema, Type};
use crate::helpers::validate_object_id;

pub(super) fn schema() -> Schema {
    Schema::new()
        .description(
            "Automatic provisioning (SCIM) from Microsoft Entra ID to AWS IAM Identity Center: the \
             synchronization job of the AWS IAM Identity Center application, its SCIM endpoint and token, \
             its scope, and whether it runs.",
        )
        .attribute(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("The application object id (same as `application_id`)."),
        )
        .attribute(
            Attribute::string("application_id")
                .required()
                .requires_replace()
                .validator(|value, path| validate_object_id(value, path, "application id"))
                .description(
                    "Object id of the AWS IAM Identity Center application (`idbridge_entra_application.id`).",
                ),
        )
        .attribute(
            Attribute::string("scim_endpoint")
                .required()
                .validator(validate_scim_endpoint)
                .description(
                    "The SCIM endpoint shown by IAM Identity Center, \
                     `https://scim.<region>.amazonaws.com/<tenant>/scim/v2/`. Loopback `http(s)` URLs \
                     (`127.0.0.1`, `localhost`, `[::1]`) are accepted for local emulators.",
                ),
        )
        .attribute(
            Attribute::string("scim_token_wo")
                .optional()
                .sensitive()
                .write_only()
                .description(
                    "The SCIM access token from IAM Identity Center. Write-only: never stored in the plan or \
                     state; ephemeral values are accepted. Required on create and whenever the secrets are \
                     re-sent (a change of `scim_token_wo_version`, `scim_endpoint` or `scope`).",
                ),
        )
        .attribute(Attribute::number("scim_token_wo_version").optional().description(
            "Any number; changing it sends `scim_token_wo` again (Terraform cannot see a write-only value change).",
        ))
        .attribute(
            Attribute::bool("enabled")
                .optional()
                .computed()
                .description(
                    "Whether provisioning runs (`true`, default) or is paused. Read back from the job: a job \
                     paused or quarantined outside Terraform reads as `false`, so the plan starts it again.",
                ),
        )
        .attribute(
            Attribute::string("scope")
                .optional()
                .computed()
                .validator(validate_scope)
                .description(
                    "`assigned` (default): only users and groups assigned to the application; `all`: every \
                     user and group of the tenant (Entra's SyncAll).",
                ),
        )
        .attribute(
            Attribute::string("token_expires_at")
                .optional()
                .validator(validate_token_expiry)
                .description(
                    "When the SCIM token expires (RFC 3339). Plans warn 30 days ahead and fail once it has \
                     passed. Not sent anywhere.",
                ),
        )
        .attribute(
            Attribute::string("job_id")
                .computed()
                .use_state_for_unknown()
                .description("Id of the synchronization job."),
        )
        .attribute(
            Attribute::string("template_id")
                .computed()
                .use_state_for_unknown()
                .description("Id of the synchronization template the job was created from."),
        )
        .attribute(Attribute::string("status").computed().description(
            "The job's status code: `NotRun`, `Active`, `Paused`, `Quarantine` or `NotConfigured`.",
        ))
        .attribute(
            Attribute::string("last_execution_state")
                .computed()
                .description("State of the last cycle, e.g. `Succeeded`, `Failed`, `EntryLevelErrors`."),
        )
        .attribute(
            Attribute::string("quarantine_reason")
                .computed()
                .description("Why the job is in quarantine (null when it is not)."),
        )
        .attribute(
            Attribute::number("error_count")
                .computed()
                .description("Number of successive cycles that failed completely."),
        )
        .attribute(
            Attribute::string("last_successful_execution_at")
                .computed()
                .description("When the last successful cycle ended (RFC 3339)."),
        )
        .block(NestedBlock::timeouts(&[
            Operation::Create,
            Operation::Read,
            Operation::Update,
            Operation::Delete,
        ]))
        // Attribute mappings (mappings.rs).
        .block(NestedBlock::new(
            "attribute_mapping",
            Nesting::Set,
            Block::new()
                .description(
                    "One user attribute mapping of the provisioning job (Entra admin center: Provisioning > \
                     Mappings > Provision Microsoft Entra ID Users). Only the targets listed here are managed; \
                     the job's other mappings stay as they are. Removing a block stops managing the mapping and \
                     leaves it in place; list the target in `removed_targets` to delete it.",
                )
                .attribute(Attribute::string("target").required().description(
                    "The SCIM attribute of AWS's schema the value goes to, e.g. `title`, \
                     `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter`. Targets AWS's SCIM \
                     endpoint does not support are refused at plan.",
                ))
                .attribute(Attribute::string("source").optional().description(
                    "The Entra user attribute the value comes from, e.g. `department`, \
                     `employeeOrgData.costCenter`, `extension_<appId>_<name>`. Exactly one of `source` and \
                     `expression`.",
                ))
                .attribute(Attribute::string("expression").optional().description(
                    "An expression of Entra's mapping functions instead of `source`, e.g. `Join(\" \", \
                     [givenName], [surname])`.",
                )),
        ))
        .attribute(
            Attribute::set("removed_targets", Type::String)
                .optional()
                .description(
                    "Targets whose mappings (typically Entra's defaults AWS refuses, such as `phoneNumbers[type \
                     eq \"fax\"].value`) are deleted from the job and kept out: one put back in the portal shows \
                     as drift.",
                ),
        )
}
