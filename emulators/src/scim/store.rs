//! Users, groups and memberships kept in identitystore, reached through the AWS API (the SDK pointed at the
//! AWS-faithful proxy), so what SCIM writes is what sso-admin/identitystore callers read.

use aws_sdk_identitystore::Client;
use aws_sdk_identitystore::config::{AppName, BehaviorVersion, Credentials, Region};
use aws_sdk_identitystore::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_identitystore::types::{
    Address, AttributeOperation, Email, GroupMembershipExistenceResult, MemberId, Name, PhoneNumber,
};
use aws_smithy_types::{Document, Number};
use serde_json::{Map, Value, json};

use super::ScimError;
use crate::aws_proxy::INTERNAL_APP_NAME;

#[derive(Debug, Clone)]
pub struct Store {
    identitystore: Client,
    ssoadmin: aws_sdk_ssoadmin::Client,
    /// The AWS proxy's base URL, for its emulator-only `/_proxy/external-ids/{id}`.
    proxy_url: String,
    http: reqwest::Client,
}

fn sdk_error<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> ScimError {
    let code = error.code().unwrap_or_default().to_owned();
    let message = error
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{error:?}"));
    match code.as_str() {
        "ResourceNotFoundException" => ScimError::not_found(message),
        "ConflictException" => ScimError::conflict(message),
        "ValidationException" => ScimError::validation(message),
        "ThrottlingException" => ScimError::new(429, message),
        _ => ScimError::new(500, format!("identity store call failed: {message}")),
    }
}

pub fn to_document(value: &Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(flag) => Document::Bool(*flag),
        Value::Number(number) => Document::Number(if let Some(unsigned) = number.as_u64() {
            Number::PosInt(unsigned)
        } else if let Some(signed) = number.as_i64() {
            Number::NegInt(signed)
        } else {
            Number::Float(number.as_f64().unwrap_or_default())
        }),
        Value::String(text) => Document::String(text.clone()),
        Value::Array(items) => Document::Array(items.iter().map(to_document).collect()),
        Value::Object(members) => Document::Object(
            members
                .iter()
                .map(|(key, member)| (key.clone(), to_document(member)))
                .collect(),
        ),
    }
}

fn text<'a>(value: &'a Value, member: &str) -> Option<&'a str> {
    value.get(member).and_then(Value::as_str)
}

fn first(value: &Value, member: &str) -> Option<Value> {
    value
        .get(member)
        .and_then(Value::as_array)
        .and_then(|items| items.first())
        .cloned()
}

fn email(value: &Value) -> Email {
    Email::builder()
        .set_value(text(value, "value").map(str::to_owned))
        .set_type(text(value, "type").map(str::to_owned))
        .set_primary(value.get("primary").and_then(Value::as_bool))
        .build()
}

fn address(value: &Value) -> Address {
    Address::builder()
        .set_street_address(text(value, "streetAddress").map(str::to_owned))
        .set_locality(text(value, "locality").map(str::to_owned))
        .set_region(text(value, "region").map(str::to_owned))
        .set_postal_code(text(value, "postalCode").map(str::to_owned))
        .set_country(text(value, "country").map(str::to_owned))
        .set_formatted(text(value, "formatted").map(str::to_owned))
        .set_type(text(value, "type").map(str::to_owned))
        .set_primary(value.get("primary").and_then(Value::as_bool))
        .build()
}

fn phone(value: &Value) -> PhoneNumber {
    PhoneNumber::builder()
        .set_value(text(value, "value").map(str::to_owned))
        .set_type(text(value, "type").map(str::to_owned))
        .set_primary(value.get("primary").and_then(Value::as_bool))
        .build()
}

/// The identitystore attributes a SCIM user maps to, with their SCIM member names.
const SINGLE_VALUED: &[&str] = &[
    "userName",
    "displayName",
    "nickName",
    "profileUrl",
    "userType",
    "title",
    "preferredLanguage",
    "locale",
    "timezone",
];
const NAME_PARTS: &[&str] = &[
    "formatted",
    "familyName",
    "givenName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
];

/// Builds the SCIM core attributes from an identitystore user (either ListUsers' or DescribeUser's shape).
macro_rules! user_json {
    ($user:expr) => {{
        let user = $user;
        let mut json = Map::new();
        json.insert("id".into(), json!(user.user_id()));
        let mut put = |key: &str, value: Option<&str>| {
            if let Some(value) = value {
                json.insert(key.into(), json!(value));
            }
        };
        put("userName", user.user_name());
        put("displayName", user.display_name());
        put("nickName", user.nick_name());
        put("profileUrl", user.profile_url());
        put("userType", user.user_type());
        put("title", user.title());
        put("preferredLanguage", user.preferred_language());
        put("locale", user.locale());
        put("timezone", user.timezone());
        if let Some(name) = user.name() {
            let mut parts = Map::new();
            for (key, value) in [
                ("formatted", name.formatted()),
                ("familyName", name.family_name()),
                ("givenName", name.given_name()),
                ("middleName", name.middle_name()),
                ("honorificPrefix", name.honorific_prefix()),
                ("honorificSuffix", name.honorific_suffix()),
            ] {
                if let Some(value) = value {
                    parts.insert(key.into(), json!(value));
                }
            }
            json.insert("name".into(), Value::Object(parts));
        }
        let emails: Vec<Value> = user
            .emails()
            .iter()
            .map(|email| json!({"value": email.value(), "type": email.r#type(), "primary": email.primary()}))
            .collect();
        let addresses: Vec<Value> = user
            .addresses()
            .iter()
            .map(|address| {
                json!({"streetAddress": address.street_address(), "locality": address.locality(),
                       "region": address.region(), "postalCode": address.postal_code(),
                       "country": address.country(), "formatted": address.formatted(),
                       "type": address.r#type(), "primary": address.primary()})
            })
            .collect();
        let phones: Vec<Value> = user
            .phone_numbers()
            .iter()
            .map(|phone| json!({"value": phone.value(), "type": phone.r#type(), "primary": phone.primary()}))
            .collect();
        for (key, items) in [("emails", emails), ("addresses", addresses), ("phoneNumbers", phones)] {
            if !items.is_empty() {
                let mut items = Value::Array(items);
                crate::aws_proxy::strip_nulls(&mut items);
                json.insert(key.into(), items);
            }
        }
        json
    }};
}

impl Store {
    pub fn new(endpoint: &str, region: &str) -> Store {
        let credentials = Credentials::new(
            "AKIDSCIMEMULATOR",
            "scim-emulator-dummy-secret",
            None,
            None,
            "scim",
        );
        let app_name = AppName::new(INTERNAL_APP_NAME).expect("valid app name");
        let identitystore = Client::from_conf(
            aws_sdk_identitystore::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(region.to_owned()))
                .credentials_provider(credentials.clone())
                .app_name(app_name.clone())
                .endpoint_url(endpoint)
                .build(),
        );
        let ssoadmin = aws_sdk_ssoadmin::Client::from_conf(
            aws_sdk_ssoadmin::Config::builder()
                .behavior_version(aws_sdk_ssoadmin::config::BehaviorVersion::latest())
                .region(aws_sdk_ssoadmin::config::Region::new(region.to_owned()))
                .credentials_provider(credentials)
                .app_name(app_name)
                .endpoint_url(endpoint)
                .build(),
        );
        Store {
            identitystore,
            ssoadmin,
            proxy_url: endpoint.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// One PUT to an emulator-only route of the AWS proxy; `what` names the record in the error.
    async fn put_to_proxy(&self, route: &str, body: Value, what: &str) -> Result<(), ScimError> {
        let failed = |detail: String| {
            ScimError::new(
                500,
                format!("cannot record {what} with the AWS proxy: {detail}"),
            )
        };
        let response = self
            .http
            .put(format!("{}{route}", self.proxy_url))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|err| failed(err.to_string()))?;
        if response.status().is_success() {
            return Ok(());
        }
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Err(failed(format!("HTTP {status}: {text}")))
    }

    /// Records a user's SCIM enterprise extension as its identitystore `Extensions` (`aws:identitystore:enterprise`,
    /// which DescribeUser answers when asked for it); `None` clears them. Like `record_external_id`, AWS's SCIM
    /// endpoint does this inside AWS.
    pub async fn record_enterprise_extension(
        &self,
        id: &str,
        enterprise: Option<&Value>,
    ) -> Result<(), ScimError> {
        let extensions = match enterprise {
            Some(enterprise) => json!({ "aws:identitystore:enterprise": enterprise }),
            None => json!({}),
        };
        self.put_to_proxy(
            &format!("/_proxy/extensions/{id}"),
            json!({ "Extensions": extensions }),
            &format!("the enterprise extension of {id}"),
        )
        .await
    }

    /// Records the SCIM `externalId` of a group or user as its identitystore `ExternalIds` (`None` clears them).
    /// AWS's SCIM endpoint does this inside AWS; identitystore's public API cannot, so the AWS proxy offers an
    /// emulator-only route for it.
    pub async fn record_external_id(
        &self,
        id: &str,
        issuer: &str,
        external_id: Option<&str>,
    ) -> Result<(), ScimError> {
        let external_ids: Vec<Value> = external_id
            .map(|external_id| json!({"Issuer": issuer, "Id": external_id}))
            .into_iter()
            .collect();
        self.put_to_proxy(
            &format!("/_proxy/external-ids/{id}"),
            json!({ "ExternalIds": external_ids }),
            &format!("the externalId of {id}"),
        )
        .await
    }

    /// Looked up on every request: a moto reset creates a new instance with a new identity store.
    pub async fn store_id(&self) -> Result<String, ScimError> {
        let instances = self
            .ssoadmin
            .list_instances()
            .send()
            .await
            .map_err(sdk_error)?;
        instances
            .instances()
            .first()
            .and_then(|instance| instance.identity_store_id())
            .map(str::to_owned)
            .ok_or_else(|| ScimError::new(500, "no IAM Identity Center instance exists"))
    }

    pub async fn create_user(&self, store: &str, user: &Value) -> Result<String, ScimError> {
        let name = user.get("name").cloned().unwrap_or_default();
        let created = self
            .identitystore
            .create_user()
            .identity_store_id(store)
            .set_user_name(text(user, "userName").map(str::to_owned))
            .set_display_name(text(user, "displayName").map(str::to_owned))
            .name(
                Name::builder()
                    .set_formatted(text(&name, "formatted").map(str::to_owned))
                    .set_family_name(text(&name, "familyName").map(str::to_owned))
                    .set_given_name(text(&name, "givenName").map(str::to_owned))
                    .set_middle_name(text(&name, "middleName").map(str::to_owned))
                    .set_honorific_prefix(text(&name, "honorificPrefix").map(str::to_owned))
                    .set_honorific_suffix(text(&name, "honorificSuffix").map(str::to_owned))
                    .build(),
            )
            .set_nick_name(text(user, "nickName").map(str::to_owned))
            .set_profile_url(text(user, "profileUrl").map(str::to_owned))
            .set_user_type(text(user, "userType").map(str::to_owned))
            .set_title(text(user, "title").map(str::to_owned))
            .set_preferred_language(text(user, "preferredLanguage").map(str::to_owned))
            .set_locale(text(user, "locale").map(str::to_owned))
            .set_timezone(text(user, "timezone").map(str::to_owned))
            .set_emails(first(user, "emails").map(|value| vec![email(&value)]))
            .set_addresses(first(user, "addresses").map(|value| vec![address(&value)]))
            .set_phone_numbers(first(user, "phoneNumbers").map(|value| vec![phone(&value)]))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(created.user_id().to_owned())
    }

    /// Replaces every mapped attribute (absent ones are cleared) with UpdateUser.
    pub async fn replace_user(&self, store: &str, id: &str, user: &Value) -> Result<(), ScimError> {
        let mut operations = Vec::new();
        let mut operation = |path: String, value: Option<Value>| {
            operations.push(
                AttributeOperation::builder()
                    .attribute_path(path)
                    .set_attribute_value(
                        value
                            .filter(|value| !value.is_null())
                            .as_ref()
                            .map(to_document),
                    )
                    .build()
                    .expect("attribute path set"),
            );
        };
        for member in SINGLE_VALUED {
            operation((*member).to_owned(), user.get(*member).cloned());
        }
        for part in NAME_PARTS {
            operation(
                format!("name.{part}"),
                user.get("name").and_then(|name| name.get(*part)).cloned(),
            );
        }
        for member in ["emails", "addresses", "phoneNumbers"] {
            operation(
                member.to_owned(),
                user.get(member)
                    .filter(|items| items.as_array().is_some_and(|items| !items.is_empty()))
                    .cloned(),
            );
        }
        self.identitystore
            .update_user()
            .identity_store_id(store)
            .user_id(id)
            .set_operations(Some(operations))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    pub async fn user(&self, store: &str, id: &str) -> Result<Map<String, Value>, ScimError> {
        let user = self
            .identitystore
            .describe_user()
            .identity_store_id(store)
            .user_id(id)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(user_json!(&user))
    }

    pub async fn users(&self, store: &str) -> Result<Vec<Map<String, Value>>, ScimError> {
        let mut users = Vec::new();
        let mut pages = self
            .identitystore
            .list_users()
            .identity_store_id(store)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            users.extend(
                page.map_err(sdk_error)?
                    .users()
                    .iter()
                    .map(|user| user_json!(user)),
            );
        }
        Ok(users)
    }

    pub async fn delete_user(&self, store: &str, id: &str) -> Result<(), ScimError> {
        self.identitystore
            .delete_user()
            .identity_store_id(store)
            .user_id(id)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    pub async fn create_group(&self, store: &str, display_name: &str) -> Result<String, ScimError> {
        let created = self
            .identitystore
            .create_group()
            .identity_store_id(store)
            .display_name(display_name)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(created.group_id().to_owned())
    }

    pub async fn rename_group(
        &self,
        store: &str,
        id: &str,
        display_name: &str,
    ) -> Result<(), ScimError> {
        self.identitystore
            .update_group()
            .identity_store_id(store)
            .group_id(id)
            .operations(
                AttributeOperation::builder()
                    .attribute_path("displayName")
                    .attribute_value(Document::String(display_name.to_owned()))
                    .build()
                    .expect("attribute path set"),
            )
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    /// `(id, displayName)`.
    pub async fn group(&self, store: &str, id: &str) -> Result<(String, String), ScimError> {
        let group = self
            .identitystore
            .describe_group()
            .identity_store_id(store)
            .group_id(id)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok((
            group.group_id().to_owned(),
            group.display_name().unwrap_or_default().to_owned(),
        ))
    }

    pub async fn groups(&self, store: &str) -> Result<Vec<(String, String)>, ScimError> {
        let mut groups = Vec::new();
        let mut pages = self
            .identitystore
            .list_groups()
            .identity_store_id(store)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            groups.extend(page.map_err(sdk_error)?.groups().iter().map(|group| {
                (
                    group.group_id().to_owned(),
                    group.display_name().unwrap_or_default().to_owned(),
                )
            }));
        }
        Ok(groups)
    }

    pub async fn delete_group(&self, store: &str, id: &str) -> Result<(), ScimError> {
        for (membership_id, _) in self.memberships(store, id).await? {
            self.identitystore
                .delete_group_membership()
                .identity_store_id(store)
                .membership_id(membership_id)
                .send()
                .await
                .map_err(sdk_error)?;
        }
        self.identitystore
            .delete_group()
            .identity_store_id(store)
            .group_id(id)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    /// `(membership id, user id)` of a group's members.
    pub async fn memberships(
        &self,
        store: &str,
        group_id: &str,
    ) -> Result<Vec<(String, String)>, ScimError> {
        let mut memberships = Vec::new();
        let mut pages = self
            .identitystore
            .list_group_memberships()
            .identity_store_id(store)
            .group_id(group_id)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for membership in page.map_err(sdk_error)?.group_memberships() {
                if let (membership_id, Some(MemberId::UserId(user_id))) =
                    (membership.membership_id(), membership.member_id())
                {
                    memberships.push((membership_id.to_owned(), user_id.clone()));
                }
            }
        }
        Ok(memberships)
    }

    pub async fn is_member(
        &self,
        store: &str,
        group_id: &str,
        user_id: &str,
    ) -> Result<bool, ScimError> {
        let answer = self
            .identitystore
            .is_member_in_groups()
            .identity_store_id(store)
            .member_id(MemberId::UserId(user_id.to_owned()))
            .group_ids(group_id)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(answer
            .results()
            .iter()
            .any(|result: &GroupMembershipExistenceResult| {
                result.group_id() == Some(group_id) && result.membership_exists()
            }))
    }

    pub async fn add_member(
        &self,
        store: &str,
        group_id: &str,
        user_id: &str,
    ) -> Result<(), ScimError> {
        // AWS treats re-adding a member as a no-op; moto would store a duplicate.
        if self
            .memberships(store, group_id)
            .await?
            .iter()
            .any(|(_, member)| member == user_id)
        {
            return Ok(());
        }
        self.identitystore
            .describe_user()
            .identity_store_id(store)
            .user_id(user_id)
            .send()
            .await
            .map_err(|error| match error.code() {
                Some("ResourceNotFoundException") => ScimError::validation(format!(
                    "member {user_id} is not a user of this directory"
                )),
                _ => sdk_error(error),
            })?;
        self.identitystore
            .create_group_membership()
            .identity_store_id(store)
            .group_id(group_id)
            .member_id(MemberId::UserId(user_id.to_owned()))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    pub async fn remove_member(
        &self,
        store: &str,
        group_id: &str,
        user_id: &str,
    ) -> Result<(), ScimError> {
        for (membership_id, _) in self
            .memberships(store, group_id)
            .await?
            .into_iter()
            .filter(|(_, member)| member == user_id)
        {
            self.identitystore
                .delete_group_membership()
                .identity_store_id(store)
                .membership_id(membership_id)
                .send()
                .await
                .map_err(sdk_error)?;
        }
        Ok(())
    }

    /// Removes the user from every group first, so no membership points at a deleted user.
    pub async fn remove_from_all_groups(
        &self,
        store: &str,
        user_id: &str,
    ) -> Result<(), ScimError> {
        for (group_id, _) in self.groups(store).await? {
            self.remove_member(store, &group_id, user_id).await?;
        }
        Ok(())
    }
}
