//! The plan-time check that the NameID Entra sends is what AWS matches users by: the `userName` SCIM
//! provisioning gives them. When the two come from different attributes, every user whose values differ
//! provisions fine and then cannot sign in (the most common failure the setup guides describe).

use crate::framework::{AttributePath, Context, Diagnostic, Severity};
use crate::services::clients::graph_clients;
use crate::services::sign_in::{UserNameSource, nameid_mismatch, scim_user_name_source};

use super::model::SamlTrustModel;

const NAMEID_SOURCE: &str = "nameid_source";

fn remedy(user_name: &UserNameSource) -> String {
    match user_name {
        UserNameSource::Attribute(attribute) => format!(
            "Set `nameid_source = \"user.{}\"`, or map the NameID's attribute to userName in the provisioning \
             job's attribute mappings.",
            attribute.to_ascii_lowercase()
        ),
        UserNameSource::Expression(_) => {
            "Map a plain user attribute to userName in the provisioning job's \
             attribute mappings and use the same attribute as `nameid_source`."
                .into()
        }
    }
}

/// Adds a warning at `nameid_source` when it differs from the SCIM mapping's `userName` source (the
/// application's job schema, or the gallery default while there is no job or no application yet). A failed
/// look-up is a warning too: the plan goes on, but says the check did not run.
pub(super) async fn warn_on_nameid_mismatch(ctx: &Context, planned: &SamlTrustModel) {
    let Some(nameid_source) = planned.nameid_source.as_str() else {
        return;
    };
    let source = async {
        let (_, graph) = graph_clients(ctx).await?;
        scim_user_name_source(&graph, planned.application_id.as_str()).await
    };
    match ctx.guard(source).await {
        Ok(user_name) => {
            if let Some(detail) = nameid_mismatch(nameid_source, &user_name) {
                ctx.add_diagnostic(
                    Diagnostic::warning(
                        "NameID differs from the SCIM userName",
                        format!("{detail} {}", remedy(&user_name)),
                    )
                    .at(AttributePath::new(NAMEID_SOURCE)),
                );
            }
        }
        Err(diagnostics) => {
            for diagnostic in diagnostics.iter() {
                ctx.add_diagnostic(Diagnostic {
                    severity: Severity::Warning,
                    summary: "Cannot compare the NameID with the SCIM userName".into(),
                    detail: format!("{}: {}", diagnostic.summary, diagnostic.detail),
                    path: Some(AttributePath::new(NAMEID_SOURCE)),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remedy_names_the_attribute_to_use() {
        let upn = UserNameSource::Attribute("userPrincipalName".into());
        assert!(remedy(&upn).contains("nameid_source = \"user.userprincipalname\""));
        let function = UserNameSource::Expression("Replace([mail], ...)".into());
        assert!(remedy(&function).contains("plain user attribute"));
    }
}
