//! `idbridge_identity_store_group`: a group of the IAM Identity Center identity store, found by display name
//! or by the external ID its identity provider gave it. With `wait_for`, the read polls until the group exists:
//! groups pushed by SCIM provisioning from Entra ID appear minutes after they are assigned, and a permission
//! set assignment in the same apply needs them.

mod model;
mod schema;
mod validate;

use async_trait::async_trait;

use crate::clients::aws::{Deadline, Error as AwsClientError, GroupMatcher};
use crate::framework::schema::parse_duration;
use crate::framework::{
    AttributePath, Context, DataSource, Diagnostic, Diagnostics, Model, Schema, Value,
};
use crate::helpers::aws_error;
use crate::services::IdbridgeClients;
use crate::services::instances::find_instance;

use model::IdentityStoreGroupModel;
use validate::matcher;

pub const TYPE_NAME: &str = "idbridge_identity_store_group";

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

pub struct IdentityStoreGroupDataSource;

#[async_trait]
impl DataSource for IdentityStoreGroupDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let config = match IdentityStoreGroupModel::decode(config) {
            Ok(config) => config,
            Err(diagnostics) => return diagnostics,
        };
        match matcher(&config) {
            Err(diagnostic) => diagnostic.into(),
            Ok(_) => Diagnostics::new(),
        }
    }

    async fn read(&self, ctx: &Context, config: Value) -> Result<Value, Diagnostics> {
        let config = IdentityStoreGroupModel::decode(&config)?;
        let matcher = matcher(&config)?.ok_or_else(|| {
            Diagnostic::error("Missing group selector", "The group selector is not known.")
        })?;
        let wait_for = config
            .wait_for
            .as_str()
            .map(parse_duration)
            .transpose()
            .map_err(|message| {
                Diagnostic::error("Invalid wait_for", message).at(AttributePath::new("wait_for"))
            })?;
        let clients = IdbridgeClients::from_context(ctx)?;
        let identity_center = clients.identity_center().await?;
        let identity_store_id = match config.identity_store_id.as_str() {
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
        Ok(config.with_group(group).encode())
    }
}

#[cfg(test)]
mod tests;
