//! The schema of `idbridge_saml_trust`.

use super::validate::{
    certificate_name, certificate_validity, nameid_format, nameid_source, positive_days,
};
use crate::framework::{
    Attribute, AttributePath, Diagnostic, Diagnostics, NestedBlock, Operation, Schema, Type, Value,
};
use crate::helpers::aws_inputs::session_tag_key_problem;
use crate::helpers::ids::validate_object_id;
use crate::helpers::ownership::{ADOPT_EXISTING, adopt_existing_description};

pub(super) fn schema() -> Schema {
    let computed = |name: &str, description: &str| {
        Attribute::string(name)
            .computed()
            .use_state_for_unknown()
            .description(description)
    };
    Schema::new()
        .description(
            "SAML single sign-on between Microsoft Entra ID (identity provider) and AWS IAM Identity Center \
             (service provider) on an `idbridge_entra_application`, with an active token signing certificate \
             and the claims AWS expects.",
        )
        .attribute(computed("id", "The application object ID (same as `application_id`)."))
        .attribute(
            Attribute::string("application_id")
                .required()
                .requires_replace()
                .validator(|value, path| validate_object_id(value, path, "application id"))
                .description("Object ID of the application: `idbridge_entra_application.<name>.id`."),
        )
        .attribute(Attribute::string("aws_metadata_xml").optional().description(
            "The IAM Identity Center SAML metadata file, e.g. `file(\"aws-sso-metadata.xml\")`. Conflicts with \
             `entity_id`/`acs_url`.",
        ))
        .attribute(
            Attribute::string("entity_id")
                .optional()
                .computed()
                .description("The IAM Identity Center SAML issuer URL (Entra \"Identifier\"). Required without `aws_metadata_xml`."),
        )
        .attribute(
            Attribute::string("acs_url")
                .optional()
                .computed()
                .description("The IAM Identity Center ACS URL (Entra \"Reply URL\"). Required without `aws_metadata_xml`."),
        )
        .attribute(Attribute::string("sign_on_url").optional().description(
            "Entra \"Sign on URL\", usually your AWS access portal URL.",
        ))
        .attribute(Attribute::string("relay_state").optional().description("Entra \"Relay State\"."))
        .attribute(Attribute::string("nameid_source").optional().computed().validator(nameid_source).description(
            "Source of the NameID: `user.<attribute>`. Defaults to `user.userprincipalname`.",
        ))
        .attribute(Attribute::string("nameid_format").optional().computed().validator(nameid_format).description(
            "NameID format. Defaults to `urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress`.",
        ))
        .attribute(Attribute::map("additional_claims", Type::String).optional().description(
            "Extra SAML attributes: claim type → source (`user.<attribute>`, or any other text as a constant), \
             e.g. `\"https://aws.amazon.com/SAML/Attributes/SessionDuration\" = \"28800\"`.",
        ))
        .attribute(
            Attribute::string("certificate_display_name")
                .optional()
                .computed()
                .validator(certificate_name)
                .description("Subject of the signing certificate (starts with `CN=`)."),
        )
        .attribute(
            Attribute::number("certificate_validity_days")
                .optional()
                .computed()
                .validator(certificate_validity)
                .description("Validity of new signing certificates in days. Defaults to 1095 (3 years)."),
        )
        .attribute(
            Attribute::number("rotate_before_days")
                .optional()
                .computed()
                .validator(positive_days)
                .description(
                    "When the active certificate expires within this many days, the plan replaces it. \
                     Defaults to 30.",
                ),
        )
        .attribute(
            Attribute::bool(ADOPT_EXISTING)
                .optional()
                .description(adopt_existing_description(
                    "the SAML configuration of an application that another configuration (or the portal) set up, \
                     with an active signing certificate,",
                )),
        )
        .attribute(computed("service_principal_id", "Object ID of the enterprise application's service principal."))
        .attribute(computed("claims_mapping_policy_id", "ID of the claims mapping policy this resource manages."))
        .attribute(computed(
            "idp_metadata_xml",
            "Entra ID federation metadata for the application: upload it in IAM Identity Center as \"IdP SAML metadata\".",
        ))
        .attribute(computed("idp_metadata_url", "URL of the federation metadata (anonymous)."))
        .attribute(computed("idp_entity_id", "IAM Identity Center \"IdP issuer URL\"."))
        .attribute(computed("idp_sso_url", "IAM Identity Center \"IdP sign-in URL\"."))
        .attribute(computed("idp_certificate_pem", "IAM Identity Center \"IdP certificate\" (PEM)."))
        .attribute(computed("certificate_thumbprint", "SHA-1 thumbprint of the active signing certificate."))
        .attribute(computed("certificate_expires_at", "Expiry of the active signing certificate (RFC 3339)."))
        .block(NestedBlock::timeouts(&[
            Operation::Create,
            Operation::Read,
            Operation::Update,
            Operation::Delete,
        ]))
        // Session tags in the assertion (AccessControl claims).
        .attribute(
            Attribute::map("access_control_attributes", Type::String)
                .optional()
                .validator(validate_access_control_keys)
                .description(
                    "Session tags for attribute-based access control sent in the SAML assertion: key → source \
                     (`user.<attribute>`, or any other text as a constant), each sent as the attribute \
                     `https://aws.amazon.com/SAML/Attributes/AccessControl:<key>`, e.g. `CostCenter = \
                     \"user.employeeorgdata.costcenter\"`. The alternative to \
                     `idbridge_access_control_attributes` with a SCIM `attribute_mapping`; when both name a key, \
                     IAM Identity Center uses the instance's configuration.",
                ),
        )
}

/// Keys are session tag keys (sso-admin `AccessControlAttribute.Key`).
fn validate_access_control_keys(value: &Value, path: &AttributePath) -> Diagnostics {
    let Some(entries) = value.as_map() else {
        return Diagnostics::new();
    };
    match entries
        .keys()
        .find_map(|key| session_tag_key_problem(key).map(|problem| (key, problem)))
    {
        Some((key, problem)) => Diagnostic::error(
            "Invalid access control attribute key",
            format!("The key {key:?} {problem}."),
        )
        .at(path.clone())
        .into(),
        None => Diagnostics::new(),
    }
}
