//! `idbridge_provision_on_demand`: provisions one Entra user, or a group with its member users, to AWS now
//! through the application's provisioning job instead of waiting for the next cycle (about 40 minutes).

use async_trait::async_trait;

use crate::clients::aws::PrincipalType;
use crate::clients::graph::GraphClient;
use crate::framework::{
    Action, ActionProgress, Attr, Attribute, AttributePath, Context, Diagnostic, Diagnostics,
    Model, Schema, Value,
};
use crate::helpers::graph_error;
use crate::helpers::ids::is_object_id;
use crate::services::app_roles::find_enterprise_app;
use crate::services::clients::{IdbridgeClients, graph_clients};
use crate::services::members::{review, warnings};
use crate::services::principal::EntraPrincipal;
use crate::services::provisioning::provision_now;

pub const TYPE_NAME: &str = "idbridge_provision_on_demand";

crate::model! {
    #[derive(Clone, Debug, Default)]
    pub struct ProvisionOnDemandModel {
        pub application_id: Attr<String>,
        pub user_id: Attr<String>,
        pub group_id: Attr<String>,
    }
}

impl ProvisionOnDemandModel {
    /// The one principal to provision; `None` while unknown or when not exactly one is set.
    fn principal(&self) -> Option<EntraPrincipal> {
        match (self.user_id.as_str(), self.group_id.as_str()) {
            (Some(user), None) => Some(EntraPrincipal {
                kind: PrincipalType::User,
                object_id: user.to_owned(),
                attribute: "user_id",
            }),
            (None, Some(group)) => Some(EntraPrincipal::group(group, "group_id")),
            _ => None,
        }
    }
}

pub struct ProvisionOnDemandAction;

/// The group's direct member users that AWS will take, after warning about the others (nested groups,
/// disabled users, users AWS's SCIM endpoint refuses), which provisioning on demand cannot bring.
async fn group_members_to_link(
    ctx: &Context,
    clients: &IdbridgeClients,
    graph: &GraphClient,
    group: &EntraPrincipal,
) -> Result<Vec<String>, Diagnostics> {
    let members = clients
        .caches()
        .members
        .group_members(graph, &group.object_id)
        .await
        .map_err(|e| graph_error("read the Entra ID group's members", &e).at(group.path()))?;
    let review = review(&members);
    for warning in warnings(&members, &review, &group.path()) {
        ctx.add_diagnostic(warning);
    }
    Ok(review.eligible.iter().map(|user| user.id.clone()).collect())
}

fn schema() -> Schema {
    let object_id = |name: &str, what: &str| {
        Attribute::string(name)
            .optional()
            .description(format!("Object id of the Entra {what} to provision. Set exactly one of `user_id` and `group_id`."))
    };
    Schema::new()
        .description(
            "Provisions an Entra user, or a group with its direct member users, to AWS IAM Identity Center now, \
             through the application's provisioning job (Microsoft Graph `provisionOnDemand`; a group's members \
             go five per request, paced at Entra's limit of 5 requests per 10 seconds), instead of waiting for \
             the next provisioning cycle. Members of nested groups, disabled users and users AWS refuses are \
             left out with a warning. The application must have provisioning configured \
             (`idbridge_scim_provisioning`) and the principal must be in its provisioning scope.",
        )
        .attribute(super::application_id_attribute())
        .attribute(object_id("user_id", "user"))
        .attribute(object_id("group_id", "group"))
}

#[async_trait]
impl Action for ProvisionOnDemandAction {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate_config(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let Ok(config) = ProvisionOnDemandModel::decode(config) else {
            return diags;
        };
        for (name, value) in [
            ("application_id", &config.application_id),
            ("user_id", &config.user_id),
            ("group_id", &config.group_id),
        ] {
            if let Some(id) = value.as_str()
                && !is_object_id(id)
            {
                diags.error_at(
                    AttributePath::new(name),
                    "Invalid object id",
                    format!("{id:?} is not an Entra object id (a GUID)."),
                );
            }
        }
        let set = |a: &Attr<String>| !a.is_null();
        if !config.user_id.is_unknown()
            && !config.group_id.is_unknown()
            && set(&config.user_id) == set(&config.group_id)
        {
            diags.error_at(
                AttributePath::new("user_id"),
                "Exactly one principal required",
                "Set either `user_id` or `group_id`, not both and not neither.",
            );
        }
        diags
    }

    async fn invoke(
        &self,
        ctx: &Context,
        config: Value,
        progress: &ActionProgress,
    ) -> Result<(), Diagnostics> {
        let config = ProvisionOnDemandModel::decode(&config)?;
        let application_id = config.application_id.as_str().unwrap_or_default();
        let principal = config.principal().ok_or_else(|| {
            Diagnostics::from(
                Diagnostic::error(
                    "Exactly one principal required",
                    "Set either `user_id` or `group_id`.",
                )
                .at(AttributePath::new("user_id")),
            )
        })?;
        let (clients, graph) = graph_clients(ctx).await?;
        let app = find_enterprise_app(ctx, &graph, application_id)
            .await?
            .required()?;
        let members = match principal.kind {
            PrincipalType::Group => {
                group_members_to_link(ctx, &clients, &graph, &principal).await?
            }
            PrincipalType::User => Vec::new(),
        };
        let with_members = match members.len() {
            0 => String::new(),
            count => format!(" with {count} member(s)"),
        };
        progress
            .report(format!(
                "Provisioning {} {}{with_members} on demand",
                principal.noun(),
                principal.object_id
            ))
            .await;
        let job = ctx
            .guard(provision_now(
                clients.caches(),
                &graph,
                &app,
                &principal,
                &members,
            ))
            .await?;
        progress
            .report(format!(
                "Provisioned {} {}{with_members} through job {}",
                principal.noun(),
                principal.object_id,
                job.id
            ))
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model_matches_schema;

    #[test]
    fn model_matches_schema() {
        assert_model_matches_schema::<ProvisionOnDemandModel>(&schema());
    }

    #[tokio::test]
    async fn exactly_one_principal_with_object_ids() {
        let ctx = Context::for_tests(TYPE_NAME, None);
        let app = "00000000-0000-0000-0000-000000000001";
        let user = "00000000-0000-0000-0000-000000000002";
        let both = Value::object([
            ("application_id", Value::from(app)),
            ("user_id", Value::from(user)),
            ("group_id", Value::from(user)),
        ]);
        let summaries =
            |diags: Diagnostics| diags.iter().map(|d| d.summary.clone()).collect::<Vec<_>>();
        let action = ProvisionOnDemandAction;
        assert_eq!(
            summaries(action.validate_config(&ctx, &both).await),
            vec!["Exactly one principal required"]
        );
        let bad_id = Value::object([
            ("application_id", Value::from("not-a-guid")),
            ("user_id", Value::from(user)),
            ("group_id", Value::Null),
        ]);
        assert_eq!(
            summaries(action.validate_config(&ctx, &bad_id).await),
            vec!["Invalid object id"]
        );
        let unknown = Value::object([
            ("application_id", Value::from(app)),
            ("user_id", Value::unknown()),
            ("group_id", Value::Null),
        ]);
        assert!(action.validate_config(&ctx, &unknown).await.is_empty());
    }
}
