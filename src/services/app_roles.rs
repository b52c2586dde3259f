//! The enterprise application as assignment resources see it, and the app role assignment that puts a group
//! (or a user) into its provisioning scope.

use crate::clients::graph::GraphClient;
use crate::clients::graph::models::AppRoleAssignment;
use crate::framework::{AttributePath, Context, Diagnostic, Diagnostics};
use crate::helpers::graph_error;

use super::applications::read_application;
use super::principal::EntraPrincipal;

/// The service principal of the AWS IAM Identity Center application and its `User` role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnterpriseApp {
    pub service_principal_id: String,
    pub user_role_id: String,
}

/// What looking the enterprise application up found: it, or why it is gone (the application or its service
/// principal was deleted). Read then drops the resource from state and delete has nothing left to do.
#[derive(Debug)]
pub enum AppLookup {
    Found(EnterpriseApp),
    Gone(Diagnostic),
}

impl AppLookup {
    /// The application, or the reason it is gone as an error: for create and update, which need it.
    pub fn required(self) -> Result<EnterpriseApp, Diagnostics> {
        match self {
            AppLookup::Found(app) => Ok(app),
            AppLookup::Gone(reason) => Err(reason.into()),
        }
    }
}

const GONE: &str = "Enterprise application not found";

/// The enterprise application of the application with object id `application_id`.
pub async fn find_enterprise_app(
    ctx: &Context,
    graph: &GraphClient,
    application_id: &str,
) -> Result<AppLookup, Diagnostics> {
    let Some(application) = read_application(ctx, graph, application_id).await? else {
        return Ok(AppLookup::Gone(
            Diagnostic::error(
                GONE,
                format!(
                    "No application with object id {application_id} exists; check `application_id` (the \
                     idbridge_entra_application id)."
                ),
            )
            .at(AttributePath::new("application_id")),
        ));
    };
    let service_principals = graph
        .list_service_principals_by_app_id(&application.app_id)
        .await
        .map_err(|e| graph_error("read the enterprise application", &e))?;
    let Some(service_principal) = service_principals.into_iter().next() else {
        return Ok(AppLookup::Gone(Diagnostic::error(
            GONE,
            format!(
                "Application {application_id} has no service principal (enterprise application) in this tenant."
            ),
        )));
    };
    let user_role_id = service_principal
        .app_roles
        .iter()
        // The gallery app's roles have no `value`; they are named by `displayName`.
        .find(|r| {
            r.value.as_deref() == Some("User")
                || (r.value.is_none() && r.display_name.as_deref() == Some("User"))
        })
        .map(|r| r.id.clone())
        .ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "No `User` app role",
                format!(
                    "The enterprise application {} has no app role named `User`; is it the AWS IAM \
                     Identity Center gallery application?",
                    service_principal.id
                ),
            ))
        })?;
    Ok(AppLookup::Found(EnterpriseApp {
        service_principal_id: service_principal.id,
        user_role_id,
    }))
}

/// The id of the principal's `User` role assignment: the one recorded when it still exists, otherwise any
/// the principal has (made outside Terraform or by an earlier, interrupted apply).
pub async fn find_app_role_assignment(
    graph: &GraphClient,
    app: &EnterpriseApp,
    principal: &EntraPrincipal,
    recorded: Option<&str>,
) -> Result<Option<String>, Diagnostics> {
    let assignments = list_assignments(graph, app).await?;
    let found = recorded
        .and_then(|id| assignments.iter().find(|a| a.id == id))
        .or_else(|| find_user_role(&assignments, app, &principal.object_id));
    Ok(found.map(|a| a.id.clone()))
}

/// Assigns the principal the app's `User` role, reusing an identical assignment that already exists.
pub async fn assign_user_role(
    graph: &GraphClient,
    app: &EnterpriseApp,
    principal: &EntraPrincipal,
) -> Result<String, Diagnostics> {
    let existing = list_assignments(graph, app).await?;
    if let Some(found) = find_user_role(&existing, app, &principal.object_id) {
        return Ok(found.id.clone());
    }
    let created = graph
        .create_app_role_assignment(
            &app.service_principal_id,
            &AppRoleAssignment {
                principal_id: principal.object_id.clone(),
                resource_id: app.service_principal_id.clone(),
                app_role_id: app.user_role_id.clone(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| {
            graph_error(
                &format!(
                    "assign the {} to the enterprise application",
                    principal.noun()
                ),
                &e,
            )
            .at(principal.path())
        })?;
    Ok(created.id)
}

/// Removes the principal's app role assignment; one already gone is fine.
pub async fn remove_app_role_assignment(
    graph: &GraphClient,
    app: &EnterpriseApp,
    principal: &EntraPrincipal,
    assignment_id: &str,
) -> Result<(), Diagnostics> {
    match graph
        .delete_app_role_assignment(&app.service_principal_id, assignment_id)
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(graph_error(
            &format!(
                "remove the {} from the enterprise application",
                principal.noun()
            ),
            &e,
        )
        .into()),
    }
}

async fn list_assignments(
    graph: &GraphClient,
    app: &EnterpriseApp,
) -> Result<Vec<AppRoleAssignment>, Diagnostics> {
    graph
        .list_app_role_assignments(&app.service_principal_id)
        .await
        .map_err(|e| graph_error("read the enterprise application's assignments", &e).into())
}

fn find_user_role<'a>(
    assignments: &'a [AppRoleAssignment],
    app: &EnterpriseApp,
    principal_id: &str,
) -> Option<&'a AppRoleAssignment> {
    assignments
        .iter()
        .find(|a| a.principal_id == principal_id && a.app_role_id == app.user_role_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assignment(id: &str, principal: &str, role: &str) -> AppRoleAssignment {
        AppRoleAssignment {
            id: id.into(),
            principal_id: principal.into(),
            app_role_id: role.into(),
            ..Default::default()
        }
    }

    #[test]
    fn only_the_principals_user_role_assignment_counts() {
        let app = EnterpriseApp {
            service_principal_id: "sp".into(),
            user_role_id: "user-role".into(),
        };
        let assignments = [
            assignment("other-role", "g-1", "admin-role"),
            assignment("other-principal", "g-2", "user-role"),
            assignment("mine", "g-1", "user-role"),
        ];
        assert_eq!(
            find_user_role(&assignments, &app, "g-1").map(|a| a.id.as_str()),
            Some("mine")
        );
        assert!(find_user_role(&assignments, &app, "g-3").is_none());
    }

    #[test]
    fn a_gone_application_is_an_error_only_where_it_is_required() {
        let gone = AppLookup::Gone(Diagnostic::error(GONE, "deleted"));
        let errors = gone.required().unwrap_err();
        assert_eq!(errors.iter().next().unwrap().summary, GONE);
    }
}
