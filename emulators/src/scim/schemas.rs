//! Discovery documents: ServiceProviderConfig, ResourceTypes and Schemas (RFC 7643 §5–7), describing what this
//! endpoint (like AWS's) supports: PATCH yes, bulk/sort/etag/password change no, filters `eq` joined by `and`.

use serde_json::{Value, json};

use super::ScimError;
use super::patch::ENTERPRISE_USER;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const MAX_RESULTS: usize = 100;

pub fn service_provider_config() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://docs.aws.amazon.com/singlesignon/latest/developerguide/what-is-scim.html",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 1, "maxPayloadSize": 1_048_576},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with the access token generated when automatic provisioning is enabled",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": "/ServiceProviderConfig"}
    })
}

pub fn resource_types() -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users", "description": "User Account",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE_USER, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/User"}
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Group",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/Group"}
        }),
    ]
}

fn attribute(name: &str, kind: &str, required: bool) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": false, "required": required, "caseExact": false,
        "mutability": "readWrite", "returned": "default", "uniqueness": "none", "description": name
    })
}

fn complex(name: &str, multi_valued: bool, required: bool, sub_attributes: Vec<Value>) -> Value {
    let mut value = attribute(name, "complex", required);
    value["multiValued"] = json!(multi_valued);
    value["subAttributes"] = json!(sub_attributes);
    value
}

fn strings(names: &[&str]) -> Vec<Value> {
    names
        .iter()
        .map(|name| attribute(name, "string", false))
        .collect()
}

/// `value`, `type`, `primary`: AWS stores one element of these lists, so the schema says so in the description.
fn single_element_list(name: &str, extra: &[&str]) -> Value {
    let mut sub_attributes = strings(extra);
    sub_attributes.push(attribute("type", "string", false));
    sub_attributes.push(attribute("primary", "boolean", false));
    let mut list = complex(name, true, false, sub_attributes);
    list["description"] = json!(format!(
        "{name}: IAM Identity Center accepts at most one value"
    ));
    list
}

pub fn schemas() -> Vec<Value> {
    let mut user_name = attribute("userName", "string", true);
    user_name["uniqueness"] = json!("server");
    let mut name_parts = strings(&[
        "formatted",
        "middleName",
        "honorificPrefix",
        "honorificSuffix",
    ]);
    name_parts.push(attribute("familyName", "string", true));
    name_parts.push(attribute("givenName", "string", true));
    let mut profile_url = attribute("profileUrl", "reference", false);
    profile_url["referenceTypes"] = json!(["external"]);
    let mut user_attributes = vec![
        user_name,
        complex("name", false, true, name_parts),
        attribute("displayName", "string", true),
    ];
    user_attributes.push(profile_url);
    user_attributes.extend(strings(&[
        "nickName",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
    ]));
    user_attributes.push(attribute("active", "boolean", false));
    user_attributes.push(single_element_list("emails", &["value"]));
    user_attributes.push(single_element_list("phoneNumbers", &["value"]));
    user_attributes.push(single_element_list(
        "addresses",
        &[
            "formatted",
            "streetAddress",
            "locality",
            "region",
            "postalCode",
            "country",
        ],
    ));

    let mut member_value = attribute("value", "string", false);
    member_value["mutability"] = json!("immutable");
    let mut member_ref = attribute("$ref", "reference", false);
    member_ref["referenceTypes"] = json!(["User"]);
    member_ref["mutability"] = json!("immutable");
    let mut members = complex("members", true, false, vec![member_value, member_ref]);
    members["description"] =
        json!("Group members (write-only here as on AWS: reads return no members)");

    let mut manager_value = attribute("value", "string", false);
    manager_value["description"] = json!("id of the manager");
    let enterprise_attributes = {
        let mut attributes = strings(&[
            "employeeNumber",
            "costCenter",
            "organization",
            "division",
            "department",
        ]);
        attributes.push(complex("manager", false, false, vec![manager_value]));
        attributes
    };

    let schema = |id: &str, name: &str, attributes: Vec<Value>| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": id, "name": name, "description": name, "attributes": attributes,
            "meta": {"resourceType": "Schema", "location": format!("/Schemas/{id}")}
        })
    };
    vec![
        schema(USER_SCHEMA, "User", user_attributes),
        schema(
            GROUP_SCHEMA,
            "Group",
            vec![attribute("displayName", "string", true), members],
        ),
        schema(ENTERPRISE_USER, "EnterpriseUser", enterprise_attributes),
    ]
}

pub fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

pub fn find(resources: Vec<Value>, id: &str) -> Result<Value, ScimError> {
    resources
        .into_iter()
        .find(|resource| resource["id"] == id)
        .ok_or_else(|| ScimError::not_found(format!("{id} not found")))
}
