//! Shapes of the objects the emulator creates: gallery templates and what instantiating one produces.

use serde_json::{Value, json};

use super::state::{new_id, now};

/// Gallery id of "AWS IAM Identity Center (successor to AWS Single Sign-On)".
pub const AWS_TEMPLATE_ID: &str = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4";
/// Gallery id Microsoft documents for creating non-gallery ("custom") applications.
pub const CUSTOM_TEMPLATE_ID: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";
/// `applicationTemplateId` → the synchronization template id Entra offers for it. Job ids start with it.
pub const AWS_SYNC_TEMPLATE_ID: &str = "aWSSingleSignon";
const AWS_HOME_PAGE: &str =
    "https://*.signin.aws.amazon.com/platform/saml/acs/*?metadata=awssinglesignon|ISV9.1|primary|z";

pub fn application_templates() -> Vec<Value> {
    vec![
        json!({
            "id": AWS_TEMPLATE_ID,
            "displayName": "AWS IAM Identity Center (successor to AWS Single Sign-On)",
            "homePageUrl": "https://aws.amazon.com/",
            "supportedSingleSignOnModes": ["saml", "external"],
            "supportedProvisioningTypes": ["sync"],
            "logoUrl": "https://galleryapplogos1.azureedge.net/app-logo/awssinglesignon_FC86917E_215.png",
            "categories": ["developerServices", "itInfrastructure", "security"],
            "publisher": "Amazon Web Services, Inc.",
            "description": "Federate once to AWS IAM Identity Center and use it to manage access centrally to multiple AWS accounts. Provision users via SCIM.",
            "endpoints": [],
            "isEntraIntegrated": true,
            "lastModifiedDateTime": null,
            "deprecationDate": null,
            "riskScore": null,
            "riskFactors": null
        }),
        json!({
            "id": CUSTOM_TEMPLATE_ID,
            "displayName": "Custom",
            "homePageUrl": null,
            "supportedSingleSignOnModes": ["password", "saml", "external"],
            "supportedProvisioningTypes": ["sync"],
            "logoUrl": null,
            "categories": [],
            "publisher": "Microsoft Corporation",
            "description": "Non-gallery application.",
            "endpoints": [],
            "isEntraIntegrated": true,
            "lastModifiedDateTime": null,
            "deprecationDate": null,
            "riskScore": null,
            "riskFactors": null
        }),
    ]
}

fn gallery_app_roles() -> Value {
    json!([
        {"allowedMemberTypes": ["User"], "description": "User", "displayName": "User", "id": new_id(),
         "isEnabled": true, "origin": "Application", "value": null},
        {"allowedMemberTypes": ["User"], "description": "msiam_access", "displayName": "msiam_access", "id": new_id(),
         "isEnabled": true, "origin": "Application", "value": null}
    ])
}

fn permission_scope(display_name: &str) -> Value {
    json!({
        "adminConsentDescription": format!("Allow the application to access {display_name} on behalf of the signed-in user."),
        "adminConsentDisplayName": format!("Access {display_name}"),
        "id": new_id(),
        "isEnabled": true,
        "type": "User",
        "userConsentDescription": format!("Allow the application to access {display_name} on your behalf."),
        "userConsentDisplayName": format!("Access {display_name}"),
        "value": "user_impersonation"
    })
}

/// The application and service principal an instantiate call creates (gallery defaults applied).
pub fn instantiate(template_id: &str, display_name: &str, tenant_id: &str) -> (Value, Value) {
    let app_id = new_id();
    let aws = template_id == AWS_TEMPLATE_ID;
    let roles = if aws { gallery_app_roles() } else { json!([]) };
    let scope = permission_scope(display_name);
    let home_page = if aws {
        Value::String(AWS_HOME_PAGE.into())
    } else {
        Value::Null
    };
    let application = json!({
        "id": new_id(),
        "deletedDateTime": null,
        "appId": app_id,
        "applicationTemplateId": template_id,
        "createdDateTime": now(),
        "description": null,
        "displayName": display_name,
        "groupMembershipClaims": null,
        "identifierUris": [],
        "isFallbackPublicClient": false,
        "notes": null,
        "publisherDomain": null,
        "signInAudience": "AzureADMyOrg",
        "tags": [],
        "tokenEncryptionKeyId": null,
        "defaultRedirectUri": null,
        "optionalClaims": null,
        "addIns": [],
        "api": {"acceptMappedClaims": null, "knownClientApplications": [], "requestedAccessTokenVersion": null,
                "oauth2PermissionScopes": [scope.clone()], "preAuthorizedApplications": []},
        "appRoles": roles.clone(),
        "info": {"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null,
                 "termsOfServiceUrl": null},
        "keyCredentials": [],
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": [],
        "publicClient": {"redirectUris": []},
        "requiredResourceAccess": [],
        // No reply URL yet: the AWS ACS URL is per identity store, so whoever configures SAML must set it.
        "web": {"homePageUrl": home_page.clone(), "logoutUrl": null, "redirectUris": [],
                "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}}
    });
    let service_principal = json!({
        "id": new_id(),
        "deletedDateTime": null,
        "accountEnabled": true,
        "alternativeNames": [],
        "appDisplayName": display_name,
        "appDescription": null,
        "appId": app_id,
        "applicationTemplateId": template_id,
        "appOwnerOrganizationId": tenant_id,
        "appRoleAssignmentRequired": true,
        "description": null,
        "displayName": display_name,
        "homepage": home_page,
        "loginUrl": null,
        "logoutUrl": null,
        "notes": null,
        "notificationEmailAddresses": [],
        "preferredSingleSignOnMode": null,
        "preferredTokenSigningKeyThumbprint": null,
        "replyUrls": [],
        "servicePrincipalNames": [app_id],
        "servicePrincipalType": "Application",
        "signInAudience": "AzureADMyOrg",
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
        "tokenEncryptionKeyId": null,
        "samlSingleSignOnSettings": null,
        "addIns": [],
        "appRoles": roles,
        "info": {"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null,
                 "termsOfServiceUrl": null},
        "keyCredentials": [],
        "oauth2PermissionScopes": [scope],
        "passwordCredentials": [],
        "resourceSpecificApplicationPermissions": []
    });
    (application, service_principal)
}

/// Defaults Graph fills in on a new group; the request body's values win.
pub fn group_defaults() -> Value {
    json!({
        "id": new_id(),
        "deletedDateTime": null,
        "classification": null,
        "createdDateTime": now(),
        "description": null,
        "groupTypes": [],
        "isAssignableToRole": null,
        "mail": null,
        "mailEnabled": false,
        "mailNickname": null,
        "membershipRule": null,
        "membershipRuleProcessingState": null,
        "proxyAddresses": [],
        "securityEnabled": true,
        "securityIdentifier": format!("S-1-12-1-{}", fastrand::u32(..)),
        "visibility": null
    })
}

pub fn user_defaults() -> Value {
    json!({
        "id": new_id(),
        "deletedDateTime": null,
        "accountEnabled": true,
        "businessPhones": [],
        "displayName": null,
        "givenName": null,
        "jobTitle": null,
        "mail": null,
        "mailNickname": null,
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": null,
        "surname": null,
        "userPrincipalName": null
    })
}

pub fn claims_policy_defaults() -> Value {
    json!({"id": new_id(), "deletedDateTime": null, "definition": [], "description": null, "displayName": null,
           "isOrganizationDefault": false})
}
