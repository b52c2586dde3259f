//! `idbridge_identity_store_group`: a group of the IAM Identity Center identity store, found by display name
//! or by the external ID its identity provider gave it. With `wait_for`, the read polls until the group exists:
//! groups pushed by SCIM provisioning from Entra ID appear minutes after they are assigned, and a permission
//! set assignment in the same apply needs them.

use async_trait::async_trait;

use crate::clients::aws::{Deadline, Error as AwsClientError, Group, GroupMatcher};
use crate::framework::schema::parse_duration;
use crate::framework::{
    Attribute, AttributePath, Block, Context, DataSource, Diagnostic, Diagnostics, NestedBlock,
    Nesting, Schema, Value,
};
use crate::helpers::aws_error;
use crate::services::IdbridgeClients;
use crate::services::instances::find_instance;

pub const TYPE_NAME: &str = "idbridge_identity_store_group";

/// The group to look for, or why the configuration does not say.
fn matcher(config: &Value) -> Result<Option<GroupMatcher>, Diagnostic> {
    let display_name = config.get("display_name");
    let external_id = config.get("external_id");
    if display_name.is_unknown() || external_id.is_unknown() {
        return Ok(None);
    }
    match (display_name.as_str(), external_id.is_null()) {
        (Some(_), false) => Err(Diagnostic::error(
            "Conflicting group selectors",
            "Set either `display_name` or an `external_id` block, not both.",
        )
        .at(AttributePath::new("display_name"))),
        (Some(name), true) => Ok(Some(GroupMatcher::DisplayName(name.to_owned()))),
        (None, false) => {
            let (issuer, id) = (external_id.get("issuer"), external_id.get("id"));
            match (issuer.as_str(), id.as_str()) {
                (Some(issuer), Some(id)) => Ok(Some(GroupMatcher::ExternalId {
                    issuer: issuer.to_owned(),
                    id: id.to_owned(),
                })),
                _ => Ok(None),
            }
        }
        (None, true) => Err(Diagnostic::error(
            "Missing group selector",
            "Set `display_name` (the group's name in the identity store) or an `external_id` block (the \
             identifier its identity provider gave it).",
        )),
    }
}

fn validate_wait_for(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str().map(parse_duration) {
        Some(Err(message)) => Diagnostic::error("Invalid wait_for", message)
            .at(path.clone())
            .into(),
        _ => Diagnostics::new(),
    }
}

fn not_found(identity_store_id: &str, matcher: &GroupMatcher) -> Diagnostic {
    Diagnostic::error(
        "Group not found in the identity store",
        format!(
            "No group {matcher} exists in identity store {identity_store_id}. If SCIM provisioning from Entra ID \
             creates it, check that the group is assigned to the provisioning application and that a \
             provisioning cycle (or provision-on-demand) has run; set `wait_for` (e.g. \"10m\") to wait for it \
             in the same apply."
        ),
    )
}

fn group_state(config: Value, group: Group) -> Value {
    config
        .with("identity_store_id", group.identity_store_id)
        .with("group_id", group.group_id.as_str())
        .with("id", group.group_id)
        .with("display_name", group.display_name)
        .with("description", group.description)
}

pub struct IdentityStoreGroupDataSource;

#[async_trait]
impl DataSource for IdentityStoreGroupDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .description(
                "A group of the IAM Identity Center identity store, by `display_name` or by `external_id`. With \
                 `wait_for`, waits for the group to appear (SCIM provisioning from Entra ID creates groups \
                 minutes after they are assigned).",
            )
            .attribute(
                Attribute::string("display_name")
                    .optional()
                    .computed()
                    .description("The group's display name (unique in the identity store). Conflicts with `external_id`."),
            )
            .attribute(Attribute::string("identity_store_id").optional().computed().description(
                "The identity store to search (`d-...`). When not set, the identity store of the only IAM Identity \
                 Center instance visible to the provider's AWS credentials.",
            ))
            .attribute(Attribute::string("wait_for").optional().validator(validate_wait_for).description(
                "How long to wait for the group to appear, as a duration such as `\"30s\"` or `\"10m\"`. Without \
                 it, a missing group is an error at once.",
            ))
            .attribute(Attribute::string("id").computed().description("The group ID."))
            .attribute(Attribute::string("group_id").computed().description("The group ID."))
            .attribute(
                Attribute::string("description")
                    .computed()
                    .description("The group's description."),
            )
            .block(NestedBlock::new(
                "external_id",
                Nesting::Single,
                Block::new()
                    .description(
                        "The identifier the group's identity provider gave it. Conflicts with `display_name`.",
                    )
                    .attribute(
                        Attribute::string("issuer")
                            .required()
                            .description("The issuer of the external ID."),
                    )
                    .attribute(
                        Attribute::string("id")
                            .required()
                            .description("The external ID."),
                    ),
            ))
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        match matcher(config) {
            Err(diagnostic) => diagnostic.into(),
            Ok(_) => Diagnostics::new(),
        }
    }

    async fn read(&self, ctx: &Context, config: Value) -> Result<Value, Diagnostics> {
        let matcher = matcher(&config)?.ok_or_else(|| {
            Diagnostic::error("Missing group selector", "The group selector is not known.")
        })?;
        let wait_for = config
            .get_str("wait_for")
            .map(parse_duration)
            .transpose()
            .map_err(|message| {
                Diagnostic::error("Invalid wait_for", message).at(AttributePath::new("wait_for"))
            })?;
        let clients = IdbridgeClients::from_context(ctx)?;
        let identity_center = clients.identity_center().await?;
        let identity_store_id = match config.get_str("identity_store_id") {
            Some(id) => id.to_owned(),
            None => {
                ctx.guard(find_instance(
                    &identity_center,
                    None,
                    Deadline::after(ctx.remaining()),
                    AttributePath::new("identity_store_id"),
                ))
                .await?
                .identity_store_id
            }
        };
        let group = ctx
            .guard(async {
                match wait_for {
                    Some(wait) => match identity_center
                        .wait_for_group(&identity_store_id, &matcher, wait.min(ctx.remaining()))
                        .await
                    {
                        Ok(group) => Ok(group),
                        Err(AwsClientError::GroupNotFound {
                            waited, lookups, ..
                        }) => {
                            let mut diagnostic = not_found(&identity_store_id, &matcher);
                            diagnostic.detail = format!(
                                "Waited {waited:.0?} ({lookups} lookups). {}",
                                diagnostic.detail
                            );
                            Err(diagnostic.into())
                        }
                        Err(e) => Err(aws_error("Cannot look up the group", &e).into()),
                    },
                    None => {
                        let deadline = Deadline::after(ctx.remaining());
                        let group_id = identity_center
                            .get_group_id(&identity_store_id, &matcher, deadline)
                            .await
                            .map_err(|e| aws_error("Cannot look up the group", &e))?
                            .ok_or_else(|| not_found(&identity_store_id, &matcher))?;
                        identity_center
                            .describe_group(&identity_store_id, &group_id, deadline)
                            .await
                            .map_err(|e| aws_error("Cannot read the group", &e).into())
                    }
                }
            })
            .await?;
        Ok(group_state(config, group))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_selector_is_required() {
        let by_name = Value::object([("display_name", Value::from("Admins"))]);
        assert_eq!(
            matcher(&by_name).unwrap(),
            Some(GroupMatcher::DisplayName("Admins".into()))
        );
        let by_external = Value::object([(
            "external_id",
            Value::object([
                ("issuer", Value::from("https://sts.windows.net/t/")),
                ("id", Value::from("abc")),
            ]),
        )]);
        assert_eq!(
            matcher(&by_external).unwrap(),
            Some(GroupMatcher::ExternalId {
                issuer: "https://sts.windows.net/t/".into(),
                id: "abc".into()
            })
        );
        let both = by_name
            .clone()
            .with("external_id", by_external.get("external_id").clone());
        assert_eq!(
            matcher(&both).unwrap_err().summary,
            "Conflicting group selectors"
        );
        assert_eq!(
            matcher(&Value::object([("display_name", Value::Null)]))
                .unwrap_err()
                .summary,
            "Missing group selector"
        );
        let unknown = Value::object([("display_name", Value::unknown())]);
        assert_eq!(matcher(&unknown).unwrap(), None);
    }

    #[test]
    fn wait_for_is_a_duration_and_missing_groups_explain_what_to_do() {
        let path = AttributePath::new("wait_for");
        assert!(validate_wait_for(&Value::from("90s"), &path).is_empty());
        let diags = validate_wait_for(&Value::from("10 minutes"), &path);
        assert_eq!(diags.iter().next().unwrap().path, Some(path));
        let diagnostic = not_found("d-1", &GroupMatcher::DisplayName("Admins".into()));
        assert!(diagnostic.detail.contains("\"Admins\"") && diagnostic.detail.contains("wait_for"));
    }
}
