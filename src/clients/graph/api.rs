//! Typed Graph v1.0 calls used by the provider's resources. Shapes follow the v1.0 CSDL
//! (shared/graph/v1.0-cleanMetadata.xml) and the learn.microsoft.com reference.

use std::time::Instant;

use reqwest::Method;
use serde::Serialize;
use serde_json::json;

use super::client::{ApiError, GraphClient, GraphError, Replay};
use super::models::*;

pub mod sign_in_reads;

/// Ids go into URL paths; anything that could change the path is refused instead of escaped.
pub(super) fn segment(id: &str) -> Result<&str, GraphError> {
    if id.is_empty() || id.contains(['/', '?', '#', '%', ' ']) {
        return Err(GraphError::Invalid(format!(
            "{id:?} is not a valid Microsoft Graph object id"
        )));
    }
    Ok(id)
}

/// An OData string literal: single quotes doubled, whole value quoted.
pub fn odata_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstantiatedApplication {
    pub application: Application,
    pub service_principal: ServicePrincipal,
}

/// What an `instantiate` left: the answer, or (after a 404 or an ambiguous failure) the application found by name.
// One short-lived value per create: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum Instantiated {
    Answered(ApplicationServicePrincipal),
    Found(Application),
}

impl Instantiated {
    fn application(&self) -> &Application {
        match self {
            Instantiated::Answered(both) => &both.application,
            Instantiated::Found(application) => application,
        }
    }
}

impl GraphClient {
    // ---- application templates ----

    pub async fn get_application_template(
        &self,
        template_id: &str,
    ) -> Result<ApplicationTemplate, GraphError> {
        self.get(&self.url(
            &format!("/applicationTemplates/{}", segment(template_id)?),
            &[],
        ))
        .await
    }

    pub async fn list_application_templates_by_display_name(
        &self,
        display_name: &str,
    ) -> Result<Vec<ApplicationTemplate>, GraphError> {
        let filter = format!("displayName eq {}", odata_string(display_name));
        self.list_all(&self.url("/applicationTemplates", &[("$filter", &filter)]))
            .await
    }

    /// The raw `instantiate` action. Prefer [`Self::instantiate_application_safely`], which copes with Graph
    /// answering 404 although the objects were created.
    pub async fn instantiate_application_template(
        &self,
        template_id: &str,
        display_name: &str,
    ) -> Result<ApplicationServicePrincipal, GraphError> {
        let url = self.url(
            &format!(
                "/applicationTemplates/{}/instantiate",
                segment(template_id)?
            ),
            &[],
        );
        self.send_json_with(
            Replay::UnprocessedOnly,
            Method::POST,
            &url,
            Some(&json!({ "displayName": display_name })),
        )
        .await
    }

    /// Instantiates a gallery template once and returns the application and service principal named
    /// `display_name`, under a unique temporary name first (see [`Self::instantiate_application_marked`]).
    pub async fn instantiate_application_safely(
        &self,
        template_id: &str,
        display_name: &str,
    ) -> Result<InstantiatedApplication, GraphError> {
        let marker_name = format!("{display_name} (creating {})", uuid::Uuid::new_v4());
        // A fresh name: nothing can have it yet, so there is nothing to look for before instantiating.
        self.instantiate_as(template_id, &marker_name, display_name, false)
            .await
    }

    /// Instantiates template `template_id` as `marker_name` (a name no other application has, which the caller
    /// may have recorded so that an interrupted run's application can be found again), then renames the
    /// application and its service principal to `display_name`. If Graph answers 404 (it sometimes does after
    /// creating the objects) the application is waited for by template and name; after a server error, a timeout
    /// or a dropped connection it is looked for briefly and `instantiate` is sent again only when it is not there
    /// (twins a replay made are deleted). An application already named `marker_name` is taken as this one.
    pub async fn instantiate_application_marked(
        &self,
        template_id: &str,
        marker_name: &str,
        display_name: &str,
    ) -> Result<InstantiatedApplication, GraphError> {
        self.instantiate_as(template_id, marker_name, display_name, true)
            .await
    }

    async fn instantiate_as(
        &self,
        template_id: &str,
        marker_name: &str,
        display_name: &str,
        adopt_existing: bool,
    ) -> Result<InstantiatedApplication, GraphError> {
        let named = || async {
            let mut found = self.applications_named(template_id, marker_name).await?;
            Ok::<_, GraphError>((!found.is_empty()).then(|| Instantiated::Found(found.remove(0))))
        };
        let existing = if adopt_existing { named().await? } else { None };
        let instantiated = match existing {
            Some(found) => found,
            None => {
                let created = self
                    .create_once(
                        "gallery application",
                        || async {
                            match self
                                .instantiate_application_template(template_id, marker_name)
                                .await
                            {
                                Ok(both) => Ok(Instantiated::Answered(both)),
                                // Graph's 404 for an instantiate that did create the objects: wait for them.
                                Err(error) if error.is_not_found() => Ok(Instantiated::Found(
                                    self.wait_for_instantiated_application(
                                        template_id,
                                        marker_name,
                                    )
                                    .await?,
                                )),
                                Err(error) => Err(error),
                            }
                        },
                        named,
                    )
                    .await?;
                if created.replayed {
                    self.remove_instantiated_twins(
                        template_id,
                        marker_name,
                        created.value.application(),
                    )
                    .await?;
                }
                created.value
            }
        };
        let (application, service_principal) = match instantiated {
            Instantiated::Answered(both) => (both.application, Some(both.service_principal)),
            Instantiated::Found(application) => (application, None),
        };
        let app_id = application.app_id.clone();
        let service_principal = match service_principal {
            Some(service_principal) => service_principal,
            None => {
                self.poll_until_some(
                    &format!("the service principal of application {app_id}"),
                    || async {
                        Ok(self
                            .list_service_principals_by_app_id(&app_id)
                            .await?
                            .into_iter()
                            .next())
                    },
                )
                .await?
            }
        };

        let rename_application = ApplicationPatch {
            display_name: Some(display_name.to_string()),
            ..Default::default()
        };
        self.read_after_write(|| self.update_application(&application.id, &rename_application))
            .await?;
        let rename_service_principal = ServicePrincipalPatch {
            display_name: Some(display_name.to_string()),
            ..Default::default()
        };
        self.read_after_write(|| {
            self.update_service_principal(&service_principal.id, &rename_service_principal)
        })
        .await?;
        Ok(InstantiatedApplication {
            application: Application {
                display_name: display_name.to_string(),
                ..application
            },
            service_principal: ServicePrincipal {
                display_name: display_name.to_string(),
                ..service_principal
            },
        })
    }

    /// The applications instantiated from `template_id` that are named `display_name`.
    pub async fn applications_named(
        &self,
        template_id: &str,
        display_name: &str,
    ) -> Result<Vec<Application>, GraphError> {
        let filter = format!(
            "applicationTemplateId eq {} and displayName eq {}",
            odata_string(template_id),
            odata_string(display_name)
        );
        self.list_applications(&filter).await
    }

    async fn wait_for_instantiated_application(
        &self,
        template_id: &str,
        temporary_name: &str,
    ) -> Result<Application, GraphError> {
        self.poll_until_some(
            &format!("an application named {temporary_name:?}"),
            || async {
                let mut found = self.applications_named(template_id, temporary_name).await?;
                Ok((!found.is_empty()).then(|| found.remove(0)))
            },
        )
        .await
    }

    /// Repeats `probe` (treating 404 like "not yet") until it yields a value or the replication timeout passes.
    async fn poll_until_some<T, F, Fut>(&self, what: &str, mut probe: F) -> Result<T, GraphError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, GraphError>>,
    {
        let policy = self.retry_policy();
        let deadline = Instant::now() + policy.replication_timeout;
        loop {
            match probe().await {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => {}
                Err(error) if error.is_not_found() => {}
                Err(error) => return Err(error),
            }
            if Instant::now() + policy.replication_interval >= deadline {
                return Err(GraphError::Invalid(format!(
                    "{what} did not appear in Microsoft Graph within {}s",
                    policy.replication_timeout.as_secs()
                )));
            }
            tokio::time::sleep(policy.replication_interval).await;
        }
    }

    // ---- applications ----

    /// `filter` is an OData `$filter` expression, e.g. `appId eq '…'` (build literals with [`odata_string`]).
    pub async fn list_applications(&self, filter: &str) -> Result<Vec<Application>, GraphError> {
        self.list_all(&self.url("/applications", &[("$filter", filter)]))
            .await
    }

    /// The application with this client (app) id, if it exists.
    pub async fn find_application_by_app_id(
        &self,
        app_id: &str,
    ) -> Result<Option<Application>, GraphError> {
        let filter = format!("appId eq {}", odata_string(app_id));
        Ok(self.list_applications(&filter).await?.into_iter().next())
    }

    pub async fn get_application(&self, object_id: &str) -> Result<Application, GraphError> {
        self.get(&self.url(&format!("/applications/{}", segment(object_id)?), &[]))
            .await
    }

    pub async fn update_application(
        &self,
        object_id: &str,
        patch: &ApplicationPatch,
    ) -> Result<(), GraphError> {
        let url = self.url(&format!("/applications/{}", segment(object_id)?), &[]);
        self.send_no_content(Method::PATCH, &url, Some(patch)).await
    }

    pub async fn delete_application(&self, object_id: &str) -> Result<(), GraphError> {
        let url = self.url(&format!("/applications/{}", segment(object_id)?), &[]);
        self.send_no_content::<()>(Method::DELETE, &url, None).await
    }

    /// Object ids of the application's owners (users or service principals).
    pub async fn list_application_owner_ids(
        &self,
        object_id: &str,
    ) -> Result<Vec<String>, GraphError> {
        #[derive(serde::Deserialize)]
        struct DirectoryObject {
            id: String,
        }
        let url = self.url(
            &format!("/applications/{}/owners", segment(object_id)?),
            &[("$select", "id")],
        );
        let owners: Vec<DirectoryObject> = self.list_all(&url).await?;
        Ok(owners.into_iter().map(|owner| owner.id).collect())
    }

    pub async fn add_application_owner(
        &self,
        object_id: &str,
        owner_id: &str,
    ) -> Result<(), GraphError> {
        let url = self.url(
            &format!("/applications/{}/owners/$ref", segment(object_id)?),
            &[],
        );
        let reference = format!(
            "{}/directoryObjects/{}",
            self.base_url(),
            segment(owner_id)?
        );
        self.send_no_content(Method::POST, &url, Some(&json!({ "@odata.id": reference })))
            .await
    }

    pub async fn remove_application_owner(
        &self,
        object_id: &str,
        owner_id: &str,
    ) -> Result<(), GraphError> {
        let url = self.url(
            &format!(
                "/applications/{}/owners/{}/$ref",
                segment(object_id)?,
                segment(owner_id)?
            ),
            &[],
        );
        self.send_no_content::<()>(Method::DELETE, &url, None).await
    }

    // ---- service principals ----

    pub async fn list_service_principals_by_app_id(
        &self,
        app_id: &str,
    ) -> Result<Vec<ServicePrincipal>, GraphError> {
        let filter = format!("appId eq {}", odata_string(app_id));
        self.list_all(&self.url("/servicePrincipals", &[("$filter", &filter)]))
            .await
    }

    pub async fn get_service_principal(
        &self,
        object_id: &str,
    ) -> Result<ServicePrincipal, GraphError> {
        self.get(&self.url(&format!("/servicePrincipals/{}", segment(object_id)?), &[]))
            .await
    }

    pub async fn update_service_principal(
        &self,
        object_id: &str,
        patch: &ServicePrincipalPatch,
    ) -> Result<(), GraphError> {
        let url = self.url(&format!("/servicePrincipals/{}", segment(object_id)?), &[]);
        self.send_no_content(Method::PATCH, &url, Some(patch)).await
    }

    pub async fn delete_service_principal(&self, object_id: &str) -> Result<(), GraphError> {
        let url = self.url(&format!("/servicePrincipals/{}", segment(object_id)?), &[]);
        self.send_no_content::<()>(Method::DELETE, &url, None).await
    }

    /// Creates a SAML token signing certificate. Entra does not make it active: set
    /// `preferred_token_signing_key_thumbprint` to its thumbprint afterwards.
    pub async fn add_token_signing_certificate(
        &self,
        service_principal_id: &str,
        display_name: &str,
        end_date_time: Option<&str>,
    ) -> Result<SelfSignedCertificate, GraphError> {
        // Graph requires a subject-style name and rejects others with a less helpful message.
        if !display_name.starts_with("CN=") {
            return Err(GraphError::Invalid(format!(
                "the signing certificate name {display_name:?} must start with \"CN=\""
            )));
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            display_name: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            end_date_time: Option<&'a str>,
        }
        let url = self.url(
            &format!(
                "/servicePrincipals/{}/addTokenSigningCertificate",
                segment(service_principal_id)?
            ),
            &[],
        );
        self.send_json_with(
            Replay::UnprocessedOnly,
            Method::POST,
            &url,
            Some(&Body {
                display_name,
                end_date_time,
            }),
        )
        .await
    }

    /// Removes the key credentials (the Sign and Verify halves) and the password credential (private key) that
    /// share `custom_key_identifier`, by patching the service principal with the remaining ones.
    /// `keep` names a certificate that must survive (one just added): the keys are PATCHed back whole, so a read
    /// from before that certificate replicated would delete it; the read is repeated until it shows it.
    pub async fn remove_token_signing_certificate(
        &self,
        service_principal_id: &str,
        custom_key_identifier: &str,
        keep: Option<&str>,
    ) -> Result<(), GraphError> {
        let url = self.url(
            &format!("/servicePrincipals/{}", segment(service_principal_id)?),
            &[("$select", "id,appId,keyCredentials,passwordCredentials")],
        );
        let policy = self.retry_policy();
        let started = std::time::Instant::now();
        let current: ServicePrincipal = loop {
            let read: ServicePrincipal = self.get(&url).await?;
            let shows_kept = keep.is_none_or(|kept| {
                read.key_credentials
                    .iter()
                    .any(|key| key.custom_key_identifier.as_deref() == Some(kept))
            });
            if shows_kept || started.elapsed() >= policy.replication_timeout {
                break read;
            }
            tokio::time::sleep(policy.replication_interval).await;
        };
        let matches =
            |identifier: &Option<String>| identifier.as_deref() == Some(custom_key_identifier);
        let key_credentials: Vec<KeyCredential> = current
            .key_credentials
            .iter()
            .filter(|key| !matches(&key.custom_key_identifier))
            .cloned()
            .collect();
        let password_credentials: Vec<PasswordCredential> = current
            .password_credentials
            .iter()
            .filter(|password| !matches(&password.custom_key_identifier))
            .cloned()
            .collect();
        if key_credentials.len() == current.key_credentials.len()
            && password_credentials.len() == current.password_credentials.len()
        {
            return Ok(());
        }
        let patch = ServicePrincipalPatch {
            key_credentials: Some(key_credentials),
            password_credentials: Some(password_credentials),
            ..Default::default()
        };
        self.update_service_principal(service_principal_id, &patch)
            .await
    }

    // ---- claims mapping policies ----

    pub async fn create_claims_mapping_policy(
        &self,
        policy: &ClaimsMappingPolicy,
    ) -> Result<ClaimsMappingPolicy, GraphError> {
        let url = self.url("/policies/claimsMappingPolicies", &[]);
        self.send_json_with(Replay::UnprocessedOnly, Method::POST, &url, Some(policy))
            .await
    }

    pub async fn get_claims_mapping_policy(
        &self,
        policy_id: &str,
    ) -> Result<ClaimsMappingPolicy, GraphError> {
        self.get(&self.url(
            &format!("/policies/claimsMappingPolicies/{}", segment(policy_id)?),
            &[],
        ))
        .await
    }

    pub async fn update_claims_mapping_policy(
        &self,
        policy_id: &str,
        patch: &ClaimsMappingPolicyPatch,
    ) -> Result<(), GraphError> {
        let url = self.url(
            &format!("/policies/claimsMappingPolicies/{}", segment(policy_id)?),
            &[],
        );
        self.send_no_content(Method::PATCH, &url, Some(patch)).await
    }

    pub async fn delete_claims_mapping_policy(&self, policy_id: &str) -> Result<(), GraphError> {
        let url = self.url(
            &format!("/policies/claimsMappingPolicies/{}", segment(policy_id)?),
            &[],
        );
        self.send_no_content::<()>(Method::DELETE, &url, None).await
    }

    pub async fn assign_claims_mapping_policy(
        &self,
        service_principal_id: &str,
        policy_id: &str,
    ) -> Result<(), GraphError> {
        let url = self.url(
            &format!(
                "/servicePrincipals/{}/claimsMappingPolicies/$ref",
                segment(service_principal_id)?
            ),
            &[],
        );
        let reference = format!(
            "{}/policies/claimsMappingPolicies/{}",
            self.base_url(),
            segment(policy_id)?
        );
        self.send_no_content(Method::POST, &url, Some(&json!({ "@odata.id": reference })))
            .await
    }

    pub async fn list_assigned_claims_mapping_policies(
        &self,
        service_principal_id: &str,
    ) -> Result<Vec<ClaimsMappingPolicy>, GraphError> {
        let url = self.url(
            &format!(
                "/servicePrincipals/{}/claimsMappingPolicies",
                segment(service_principal_id)?
            ),
            &[],
        );
        self.list_all(&url).await
    }

    pub async fn unassign_claims_mapping_policy(
        &self,
        service_principal_id: &str,
        policy_id: &str,
    ) -> Result<(), GraphError> {
        let url = self.url(
            &format!(
                "/servicePrincipals/{}/claimsMappingPolicies/{}/$ref",
                segment(service_principal_id)?,
                segment(policy_id)?
            ),
            &[],
        );
        self.send_no_content::<()>(Method::DELETE, &url, None).await
    }

    // ---- app role assignments (users and groups assigned to the enterprise app) ----

    pub async fn create_app_role_assignment(
        &self,
        resource_service_principal_id: &str,
        assignment: &AppRoleAssignment,
    ) -> Result<AppRoleAssignment, GraphError> {
        let url = self.url(
            &format!(
                "/servicePrincipals/{}/appRoleAssignedTo",
                segment(resource_service_principal_id)?
            ),
            &[],
        );
        self.create_app_role_assignment_once(&url, assignment).await
    }

    pub async fn list_app_role_assignments(
        &self,
        resource_service_principal_id: &str,
    ) -> Result<Vec<AppRoleAssignment>, GraphError> {
        let url = self.url(
            &format!(
                "/servicePrincipals/{}/appRoleAssignedTo",
                segment(resource_service_principal_id)?
            ),
            &[],
        );
        self.list_all(&url).await
    }

    pub async fn delete_app_role_assignment(
        &self,
        resource_service_principal_id: &str,
        assignment_id: &str,
    ) -> Result<(), GraphError> {
        let url = self.url(
            &format!(
                "/servicePrincipals/{}/appRoleAssignedTo/{}",
                segment(resource_service_principal_id)?,
                segment(assignment_id)?
            ),
            &[],
        );
        self.send_no_content::<()>(Method::DELETE, &url, None).await
    }

    // ---- directory objects ----

    pub async fn get_group(&self, group_id: &str) -> Result<Group, GraphError> {
        self.get(&self.url(&format!("/groups/{}", segment(group_id)?), &[]))
            .await
    }

    pub async fn get_user(&self, user_id: &str) -> Result<User, GraphError> {
        self.get(&self.url(&format!("/users/{}", segment(user_id)?), &[]))
            .await
    }

    /// The group's direct members that are users, with what provisioning to AWS needs of them (OData cast,
    /// "List group members"; `accountEnabled` is not a default property, hence `$select`).
    pub async fn list_group_user_members(&self, group_id: &str) -> Result<Vec<User>, GraphError> {
        let url = self.url(
            &format!(
                "/groups/{}/members/microsoft.graph.user",
                segment(group_id)?
            ),
            &[
                (
                    "$select",
                    "id,displayName,givenName,surname,userPrincipalName,mail,accountEnabled",
                ),
                ("$top", "999"),
            ],
        );
        self.list_all(&url).await
    }

    /// The group's direct members that are groups (Entra provisions none of their members).
    pub async fn list_group_group_members(&self, group_id: &str) -> Result<Vec<Group>, GraphError> {
        let url = self.url(
            &format!(
                "/groups/{}/members/microsoft.graph.group",
                segment(group_id)?
            ),
            &[
                ("$select", "id,displayName,securityEnabled"),
                ("$top", "999"),
            ],
        );
        self.list_all(&url).await
    }

    // ---- provisioning (synchronization) ----

    pub(super) fn synchronization_url(
        &self,
        service_principal_id: &str,
        rest: &str,
    ) -> Result<String, GraphError> {
        Ok(self.url(
            &format!(
                "/servicePrincipals/{}/synchronization{rest}",
                segment(service_principal_id)?
            ),
            &[],
        ))
    }

    pub async fn list_synchronization_templates(
        &self,
        service_principal_id: &str,
    ) -> Result<Vec<SynchronizationTemplate>, GraphError> {
        self.list_all(&self.synchronization_url(service_principal_id, "/templates")?)
            .await
    }

    pub async fn create_synchronization_job(
        &self,
        service_principal_id: &str,
        template_id: &str,
    ) -> Result<SynchronizationJob, GraphError> {
        let url = self.synchronization_url(service_principal_id, "/jobs")?;
        self.create_synchronization_job_once(service_principal_id, &url, template_id)
            .await
    }

    pub async fn get_synchronization_job(
        &self,
        service_principal_id: &str,
        job_id: &str,
    ) -> Result<SynchronizationJob, GraphError> {
        self.get(
            &self.synchronization_url(
                service_principal_id,
                &format!("/jobs/{}", segment(job_id)?),
            )?,
        )
        .await
    }

    pub async fn list_synchronization_jobs(
        &self,
        service_principal_id: &str,
    ) -> Result<Vec<SynchronizationJob>, GraphError> {
        self.list_all(&self.synchronization_url(service_principal_id, "/jobs")?)
            .await
    }

    pub async fn delete_synchronization_job(
        &self,
        service_principal_id: &str,
        job_id: &str,
    ) -> Result<(), GraphError> {
        let url =
            self.synchronization_url(service_principal_id, &format!("/jobs/{}", segment(job_id)?))?;
        self.send_no_content::<()>(Method::DELETE, &url, None).await
    }

    async fn job_action(
        &self,
        service_principal_id: &str,
        job_id: &str,
        action: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(), GraphError> {
        let url = self.synchronization_url(
            service_principal_id,
            &format!("/jobs/{}/{action}", segment(job_id)?),
        )?;
        self.send_no_content(Method::POST, &url, body).await
    }

    pub async fn start_synchronization_job(
        &self,
        service_principal_id: &str,
        job_id: &str,
    ) -> Result<(), GraphError> {
        self.job_action(service_principal_id, job_id, "start", None)
            .await
    }

    pub async fn pause_synchronization_job(
        &self,
        service_principal_id: &str,
        job_id: &str,
    ) -> Result<(), GraphError> {
        self.job_action(service_principal_id, job_id, "pause", None)
            .await
    }

    /// `reset_scope`: e.g. `Full`, or a comma-separated set of `Watermark`, `Escrows`, `QuarantineState`, ...
    pub async fn restart_synchronization_job(
        &self,
        service_principal_id: &str,
        job_id: &str,
        reset_scope: Option<&str>,
    ) -> Result<(), GraphError> {
        let body = reset_scope.map(|scope| json!({ "criteria": { "resetScope": scope } }));
        self.job_action(service_principal_id, job_id, "restart", body.as_ref())
            .await
    }

    /// Tests the SCIM endpoint and token (Graph answers 204 on success, an error describing the failure
    /// otherwise). With `credentials` empty, the saved secrets are tested.
    pub async fn validate_synchronization_credentials(
        &self,
        service_principal_id: &str,
        job_id: &str,
        credentials: &[SynchronizationSecret],
    ) -> Result<(), GraphError> {
        let body = if credentials.is_empty() {
            json!({ "useSavedCredentials": true })
        } else {
            json!({ "useSavedCredentials": false, "credentials": credentials })
        };
        self.job_action(
            service_principal_id,
            job_id,
            "validateCredentials",
            Some(&body),
        )
        .await
    }

    /// The rules of a job's synchronization schema (`GET …/jobs/{id}/schema`).
    pub async fn list_synchronization_rules(
        &self,
        service_principal_id: &str,
        job_id: &str,
    ) -> Result<Vec<SynchronizationRule>, GraphError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Schema {
            #[serde(default)]
            synchronization_rules: Vec<SynchronizationRule>,
        }
        let schema: Schema = self
            .get(&self.synchronization_url(
                service_principal_id,
                &format!("/jobs/{}/schema", segment(job_id)?),
            )?)
            .await?;
        Ok(schema.synchronization_rules)
    }

    pub async fn provision_on_demand(
        &self,
        service_principal_id: &str,
        job_id: &str,
        parameters: &[SynchronizationJobApplicationParameters],
    ) -> Result<StringKeyStringValuePair, GraphError> {
        let url = self.synchronization_url(
            service_principal_id,
            &format!("/jobs/{}/provisionOnDemand", segment(job_id)?),
        )?;
        self.send_json(
            Method::POST,
            &url,
            Some(&json!({ "parameters": parameters })),
        )
        .await
    }

    pub async fn put_synchronization_secrets(
        &self,
        service_principal_id: &str,
        secrets: &[SynchronizationSecret],
    ) -> Result<(), GraphError> {
        let url = self.synchronization_url(service_principal_id, "/secrets")?;
        self.send_no_content(Method::PUT, &url, Some(&json!({ "value": secrets })))
            .await
    }

    /// Graph masks secret values on read; the keys tell which are set.
    pub async fn get_synchronization_secrets(
        &self,
        service_principal_id: &str,
    ) -> Result<Vec<SynchronizationSecret>, GraphError> {
        #[derive(serde::Deserialize)]
        struct Secrets {
            #[serde(default)]
            value: Vec<SynchronizationSecret>,
        }
        let secrets: Secrets = self
            .get(&self.synchronization_url(service_principal_id, "/secrets")?)
            .await?;
        Ok(secrets.value)
    }

    // ---- federation metadata (login host, anonymous) ----

    /// The SAML federation metadata Entra publishes for an application (no token needed).
    pub async fn fetch_federation_metadata(
        &self,
        tenant_id: &str,
        app_id: &str,
    ) -> Result<String, GraphError> {
        let mut url = url::Url::parse(&format!(
            "{}/{}/federationmetadata/2007-06/federationmetadata.xml",
            self.login_endpoint(),
            segment(tenant_id)?
        ))
        .map_err(|error| GraphError::Invalid(format!("invalid login endpoint: {error}")))?;
        url.query_pairs_mut().append_pair("appid", app_id);
        let path = url.path().to_string();
        let failure = |message: String| GraphError::Transport {
            method: "GET".into(),
            path: path.clone(),
            message,
        };
        let response = self
            .http()
            .get(url.clone())
            .send()
            .await
            .map_err(|error| failure(error.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|error| failure(error.to_string()))?;
        if !status.is_success() {
            return Err(GraphError::Api(Box::new(ApiError {
                method: "GET".into(),
                path,
                status: status.as_u16(),
                code: status.canonical_reason().unwrap_or("error").into(),
                message: text.chars().take(300).collect(),
                request_id: None,
                client_request_id: String::new(),
            })));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::graph::AWS_IAM_IDENTITY_CENTER_TEMPLATE_ID as TEMPLATE;
    use crate::clients::graph::test_support::*;
    use serde_json::{Value, json};
    use std::time::Duration;

    fn instantiate_path() -> String {
        format!("/v1.0/applicationTemplates/{TEMPLATE}/instantiate")
    }

    fn app(name: &str) -> Value {
        json!({ "id": "app-object-id", "appId": "app-client-id", "displayName": name, "applicationTemplateId": TEMPLATE })
    }

    fn sp(name: &str) -> Value {
        json!({ "id": "sp-object-id", "appId": "app-client-id", "displayName": name, "appRoleAssignmentRequired": true })
    }

    #[tokio::test]
    async fn safe_instantiate_finds_the_objects_after_a_404() {
        let server = MockServer::start().await;
        server.on(
            "POST",
            &instantiate_path(),
            vec![Canned::graph_error(
                404,
                "Request_ResourceNotFound",
                "gone?",
            )],
        );
        // The created application only shows up on the third query; its service principal on the second.
        server.on(
            "GET",
            "/v1.0/applications",
            vec![Canned::json(200, json!({ "value": [] }))],
        );
        server.on(
            "GET",
            "/v1.0/servicePrincipals",
            vec![
                Canned::json(200, json!({ "value": [] })),
                Canned::json(200, json!({ "value": [sp("temp")] })),
            ],
        );
        server.on(
            "PATCH",
            "/v1.0/applications/app-object-id",
            vec![
                Canned::graph_error(404, "Request_ResourceNotFound", "lag"),
                Canned::empty(204),
            ],
        );
        server.on(
            "PATCH",
            "/v1.0/servicePrincipals/sp-object-id",
            vec![Canned::empty(204)],
        );
        let client = server.client();
        let task = {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .instantiate_application_safely(TEMPLATE, "AWS IAM Identity Center")
                    .await
            })
        };
        // Let two empty answers go by, then make the application visible under the name instantiate was given.
        while server.requests_to("GET", "/v1.0/applications").len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let name = server.requests_to("POST", &instantiate_path())[0].json()["displayName"]
            .as_str()
            .unwrap()
            .to_string();
        server.on(
            "GET",
            "/v1.0/applications",
            vec![Canned::json(200, json!({ "value": [app(&name)] }))],
        );
        let created = task.await.unwrap().unwrap();

        assert_eq!(
            server.requests_to("POST", &instantiate_path()).len(),
            1,
            "instantiate is sent once"
        );
        assert!(
            name.starts_with("AWS IAM Identity Center (creating "),
            "{name}"
        );
        let filters: Vec<String> = server
            .requests_to("GET", "/v1.0/applications")
            .iter()
            .map(|r| r.query_param("$filter").unwrap())
            .collect();
        assert!(
            filters.iter().all(|f| *f
                == format!("applicationTemplateId eq '{TEMPLATE}' and displayName eq '{name}'")),
            "{filters:?}"
        );
        let sp_filter = server.requests_to("GET", "/v1.0/servicePrincipals")[0]
            .query_param("$filter")
            .unwrap();
        assert_eq!(sp_filter, "appId eq 'app-client-id'");
        let renames = server.requests_to("PATCH", "/v1.0/applications/app-object-id");
        assert_eq!(
            renames.len(),
            2,
            "the rename is retried through replication lag"
        );
        assert_eq!(
            renames[1].json(),
            json!({ "displayName": "AWS IAM Identity Center" })
        );
        assert_eq!(
            server.requests_to("PATCH", "/v1.0/servicePrincipals/sp-object-id")[0].json(),
            json!({ "displayName": "AWS IAM Identity Center" })
        );
        assert_eq!(created.application.display_name, "AWS IAM Identity Center");
        assert_eq!(created.service_principal.id, "sp-object-id");
        assert!(created.service_principal.app_role_assignment_required);
    }

    #[tokio::test]
    async fn safe_instantiate_uses_the_answer_when_there_is_one() {
        let server = MockServer::start().await;
        server.on(
            "POST",
            &instantiate_path(),
            vec![Canned::json(
                201,
                json!({ "application": app("temp"), "servicePrincipal": sp("temp") }),
            )],
        );
        server.on(
            "PATCH",
            "/v1.0/applications/app-object-id",
            vec![Canned::empty(204)],
        );
        server.on(
            "PATCH",
            "/v1.0/servicePrincipals/sp-object-id",
            vec![Canned::empty(204)],
        );
        let created = server
            .client()
            .instantiate_application_safely(TEMPLATE, "Prod AWS")
            .await
            .unwrap();
        assert_eq!(created.application.display_name, "Prod AWS");
        assert!(server.requests_to("GET", "/v1.0/applications").is_empty());
        assert_eq!(server.requests_to("POST", &instantiate_path()).len(), 1);
    }

    #[tokio::test]
    async fn safe_instantiate_gives_up_with_the_temporary_name() {
        let server = MockServer::start().await;
        server.on(
            "POST",
            &instantiate_path(),
            vec![Canned::graph_error(404, "Request_ResourceNotFound", "x")],
        );
        server.on(
            "GET",
            "/v1.0/applications",
            vec![Canned::json(200, json!({ "value": [] }))],
        );
        let error = server
            .client()
            .instantiate_application_safely(TEMPLATE, "AWS")
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("an application named \"AWS (creating "),
            "{error}"
        );
        assert_eq!(server.requests_to("POST", &instantiate_path()).len(), 1);
    }

    #[tokio::test]
    async fn safe_instantiate_does_not_retry_other_errors() {
        let server = MockServer::start().await;
        server.on(
            "POST",
            &instantiate_path(),
            vec![Canned::graph_error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges",
            )],
        );
        let error = server
            .client()
            .instantiate_application_safely(TEMPLATE, "AWS")
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some("Authorization_RequestDenied"));
        assert!(server.requests_to("GET", "/v1.0/applications").is_empty());
    }

    #[test]
    fn odata_literals_are_quoted_and_escaped() {
        assert_eq!(odata_string("O'Brien's app"), "'O''Brien''s app'");
        assert!(segment("a/b").is_err());
        assert!(segment("").is_err());
        assert!(segment("21ed01d2-ec13-4e9e-86c1-cd546719ebc4").is_ok());
    }

    #[tokio::test]
    async fn filters_are_url_encoded() {
        let server = MockServer::start().await;
        server.on("GET", "/v1.0/applicationTemplates", vec![Canned::json(200, json!({ "value": [{ "id": TEMPLATE, "displayName": "AWS IAM Identity Center (successor to AWS Single Sign-On)" }] }))]);
        let templates = server
            .client()
            .list_application_templates_by_display_name(
                "AWS IAM Identity Center (successor to AWS Single Sign-On)",
            )
            .await
            .unwrap();
        assert_eq!(templates[0].id, TEMPLATE);
        let request = &server.requests_to("GET", "/v1.0/applicationTemplates")[0];
        assert!(
            !request.query.as_deref().unwrap().contains(['+', ' ', '\'']),
            "{:?}",
            request.query
        );
        assert_eq!(
            request.query_param("$filter").unwrap(),
            "displayName eq 'AWS IAM Identity Center (successor to AWS Single Sign-On)'"
        );
    }

    #[tokio::test]
    async fn patches_never_send_unset_fields_and_clear_with_null() {
        let server = MockServer::start().await;
        server.on(
            "PATCH",
            "/v1.0/servicePrincipals/sp-1",
            vec![Canned::empty(204)],
        );
        let patch = ServicePrincipalPatch {
            preferred_single_sign_on_mode: Some(Some("saml".into())),
            login_url: Some(None),
            saml_single_sign_on_settings: Some(SamlSingleSignOnSettingsPatch {
                relay_state: Some("https://console.aws.amazon.com/".into()),
            }),
            preferred_token_signing_key_thumbprint: Some(Some(
                "A65A905D78DFA7028B265BEA9AEDE671572F3BC2".into(),
            )),
            ..Default::default()
        };
        server
            .client()
            .update_service_principal("sp-1", &patch)
            .await
            .unwrap();
        assert_eq!(
            server.requests_to("PATCH", "/v1.0/servicePrincipals/sp-1")[0].json(),
            json!({
                "preferredSingleSignOnMode": "saml",
                "loginUrl": null,
                "samlSingleSignOnSettings": { "relayState": "https://console.aws.amazon.com/" },
                "preferredTokenSigningKeyThumbprint": "A65A905D78DFA7028B265BEA9AEDE671572F3BC2"
            })
        );
    }

    #[tokio::test]
    async fn token_signing_certificate_is_added_and_removed() {
        let server = MockServer::start().await;
        server.on("POST", "/v1.0/servicePrincipals/sp-1/addTokenSigningCertificate", vec![Canned::json(200, json!({
            "customKeyIdentifier": "Q1VTVE9N", "displayName": "CN=AWS", "endDateTime": "2029-11-22T10:19:43Z",
            "keyId": "k-sign", "thumbprint": "A65A905D78DFA7028B265BEA9AEDE671572F3BC2", "type": "AsymmetricX509Cert", "usage": "Verify"
        }))]);
        let client = server.client();
        let certificate = client
            .add_token_signing_certificate("sp-1", "CN=AWS", Some("2029-11-22T10:19:43Z"))
            .await
            .unwrap();
        assert_eq!(
            certificate.thumbprint.as_deref(),
            Some("A65A905D78DFA7028B265BEA9AEDE671572F3BC2")
        );
        assert_eq!(
            server.requests_to(
                "POST",
                "/v1.0/servicePrincipals/sp-1/addTokenSigningCertificate"
            )[0]
            .json(),
            json!({ "displayName": "CN=AWS", "endDateTime": "2029-11-22T10:19:43Z" })
        );

        server.on("GET", "/v1.0/servicePrincipals/sp-1", vec![Canned::json(200, json!({
            "id": "sp-1", "appId": "a",
            "keyCredentials": [
                { "customKeyIdentifier": "OLD", "keyId": "k1", "usage": "Sign", "type": "AsymmetricX509Cert" },
                { "customKeyIdentifier": "OLD", "keyId": "k2", "usage": "Verify", "type": "AsymmetricX509Cert" },
                { "customKeyIdentifier": "Q1VTVE9N", "keyId": "k3", "usage": "Verify", "type": "AsymmetricX509Cert" }
            ],
            "passwordCredentials": [
                { "customKeyIdentifier": "OLD", "keyId": "p1" },
                { "customKeyIdentifier": "Q1VTVE9N", "keyId": "p2" }
            ]
        }))]);
        server.on(
            "PATCH",
            "/v1.0/servicePrincipals/sp-1",
            vec![Canned::empty(204)],
        );
        client
            .remove_token_signing_certificate("sp-1", "OLD", None)
            .await
            .unwrap();
        let get = &server.requests_to("GET", "/v1.0/servicePrincipals/sp-1")[0];
        assert_eq!(
            get.query_param("$select").as_deref(),
            Some("id,appId,keyCredentials,passwordCredentials")
        );
        assert_eq!(
            server.requests_to("PATCH", "/v1.0/servicePrincipals/sp-1")[0].json(),
            json!({
                "keyCredentials": [{ "customKeyIdentifier": "Q1VTVE9N", "keyId": "k3", "usage": "Verify", "type": "AsymmetricX509Cert" }],
                "passwordCredentials": [{ "customKeyIdentifier": "Q1VTVE9N", "keyId": "p2" }]
            })
        );
        // Removing an identifier that is not there sends nothing.
        client
            .remove_token_signing_certificate("sp-1", "MISSING", None)
            .await
            .unwrap();
        assert_eq!(
            server
                .requests_to("PATCH", "/v1.0/servicePrincipals/sp-1")
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn claims_mapping_policy_lifecycle_bodies() {
        let server = MockServer::start().await;
        let definition = r#"{"ClaimsMappingPolicy":{"Version":1,"IncludeBasicClaimSet":"true"}}"#;
        server.on(
            "POST",
            "/v1.0/policies/claimsMappingPolicies",
            vec![Canned::json(
                201,
                json!({ "id": "pol-1", "displayName": "aws", "definition": [definition] }),
            )],
        );
        server.on(
            "POST",
            "/v1.0/servicePrincipals/sp-1/claimsMappingPolicies/$ref",
            vec![Canned::empty(204)],
        );
        server.on("GET", "/v1.0/servicePrincipals/sp-1/claimsMappingPolicies", vec![Canned::json(200, json!({ "value": [{ "id": "pol-1", "displayName": "aws", "definition": [definition] }] }))]);
        server.on(
            "DELETE",
            "/v1.0/servicePrincipals/sp-1/claimsMappingPolicies/pol-1/$ref",
            vec![Canned::empty(204)],
        );
        let client = server.client();
        let policy = ClaimsMappingPolicy {
            display_name: "aws".into(),
            definition: vec![definition.into()],
            ..Default::default()
        };
        let created = client.create_claims_mapping_policy(&policy).await.unwrap();
        assert_eq!(created.id, "pol-1");
        assert_eq!(
            server.requests_to("POST", "/v1.0/policies/claimsMappingPolicies")[0].json(),
            json!({ "displayName": "aws", "definition": [definition] })
        );
        client
            .assign_claims_mapping_policy("sp-1", "pol-1")
            .await
            .unwrap();
        assert_eq!(
            server.requests_to(
                "POST",
                "/v1.0/servicePrincipals/sp-1/claimsMappingPolicies/$ref"
            )[0]
            .json(),
            json!({ "@odata.id": format!("{}/policies/claimsMappingPolicies/pol-1", server.graph_endpoint()) })
        );
        assert_eq!(
            client
                .list_assigned_claims_mapping_policies("sp-1")
                .await
                .unwrap()[0]
                .id,
            "pol-1"
        );
        client
            .unassign_claims_mapping_policy("sp-1", "pol-1")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn app_role_assignment_body_has_only_writable_fields() {
        let server = MockServer::start().await;
        server.on("POST", "/v1.0/servicePrincipals/sp-1/appRoleAssignedTo", vec![Canned::json(201, json!({
            "id": "asg-1", "principalId": "grp-1", "resourceId": "sp-1", "appRoleId": "role-1", "principalType": "Group", "principalDisplayName": "AWS Admins"
        }))]);
        let assignment = AppRoleAssignment {
            principal_id: "grp-1".into(),
            resource_id: "sp-1".into(),
            app_role_id: "role-1".into(),
            principal_type: Some("Group".into()),
            ..Default::default()
        };
        let created = server
            .client()
            .create_app_role_assignment("sp-1", &assignment)
            .await
            .unwrap();
        assert_eq!(created.id, "asg-1");
        assert_eq!(
            created.principal_display_name.as_deref(),
            Some("AWS Admins")
        );
        assert_eq!(
            server.requests_to("POST", "/v1.0/servicePrincipals/sp-1/appRoleAssignedTo")[0].json(),
            json!({ "principalId": "grp-1", "resourceId": "sp-1", "appRoleId": "role-1" })
        );
    }

    #[tokio::test]
    async fn synchronization_calls_send_documented_bodies() {
        let server = MockServer::start().await;
        let jobs = "/v1.0/servicePrincipals/sp-1/synchronization/jobs";
        server.on("POST", jobs, vec![Canned::json(201, json!({ "id": "AWSSCIM.abc.def", "templateId": "AWSSCIM", "schedule": { "interval": "PT40M", "state": "Disabled" }, "status": { "code": "NotRun" } }))]);
        server.on(
            "PUT",
            "/v1.0/servicePrincipals/sp-1/synchronization/secrets",
            vec![Canned::empty(204)],
        );
        server.on(
            "POST",
            &format!("{jobs}/AWSSCIM.abc.def/validateCredentials"),
            vec![Canned::empty(204)],
        );
        server.on("POST", &format!("{jobs}/AWSSCIM.abc.def/provisionOnDemand"), vec![Canned::json(200, json!({ "key": "Microsoft.Identity.Health.CPP.Common.ProvisioningSteps", "value": "[]" }))]);
        server.on(
            "POST",
            &format!("{jobs}/AWSSCIM.abc.def/start"),
            vec![Canned::empty(204)],
        );
        server.on(
            "POST",
            &format!("{jobs}/AWSSCIM.abc.def/restart"),
            vec![Canned::empty(204)],
        );
        // The jobs already there, listed before creating so that a lost answer can be told apart from them.
        server.on("GET", jobs, vec![Canned::json(200, json!({ "value": [] }))]);
        let client = server.client();
        let job = client
            .create_synchronization_job("sp-1", "AWSSCIM")
            .await
            .unwrap();
        assert_eq!(job.schedule.unwrap().interval.as_deref(), Some("PT40M"));
        assert_eq!(job.status.unwrap().code.as_deref(), Some("NotRun"));
        assert_eq!(
            server.requests_to("POST", jobs)[0].json(),
            json!({ "templateId": "AWSSCIM" })
        );

        let secrets = [
            SynchronizationSecret {
                key: secret_keys::BASE_ADDRESS.into(),
                value: Some("https://scim.us-east-1.amazonaws.com/t/scim/v2/".into()),
            },
            SynchronizationSecret {
                key: secret_keys::SECRET_TOKEN.into(),
                value: Some("scim-bearer-token".into()),
            },
        ];
        client
            .put_synchronization_secrets("sp-1", &secrets)
            .await
            .unwrap();
        assert_eq!(
            server.requests_to(
                "PUT",
                "/v1.0/servicePrincipals/sp-1/synchronization/secrets"
            )[0]
            .json(),
            json!({ "value": [
                { "key": "BaseAddress", "value": "https://scim.us-east-1.amazonaws.com/t/scim/v2/" },
                { "key": "SecretToken", "value": "scim-bearer-token" }
            ] })
        );
        assert!(!format!("{secrets:?}").contains("scim-bearer-token"));

        client
            .validate_synchronization_credentials("sp-1", &job.id, &secrets)
            .await
            .unwrap();
        client
            .validate_synchronization_credentials("sp-1", &job.id, &[])
            .await
            .unwrap();
        let validations = server.requests_to(
            "POST",
            &format!("{jobs}/AWSSCIM.abc.def/validateCredentials"),
        );
        assert_eq!(validations[0].json()["useSavedCredentials"], false);
        assert_eq!(
            validations[0].json()["credentials"][1]["key"],
            "SecretToken"
        );
        assert_eq!(
            validations[1].json(),
            json!({ "useSavedCredentials": true })
        );

        let parameters = [SynchronizationJobApplicationParameters {
            rule_id: "rule-1".into(),
            subjects: vec![SynchronizationJobSubject {
                object_id: "grp-1".into(),
                object_type_name: "Group".into(),
                links: Some(SynchronizationLinkedObjects {
                    members: vec![SynchronizationJobSubject {
                        object_id: "usr-1".into(),
                        object_type_name: "User".into(),
                        links: None,
                    }],
                }),
            }],
        }];
        let result = client
            .provision_on_demand("sp-1", &job.id, &parameters)
            .await
            .unwrap();
        assert_eq!(result.value.as_deref(), Some("[]"));
        assert_eq!(
            server.requests_to("POST", &format!("{jobs}/AWSSCIM.abc.def/provisionOnDemand"))[0]
                .json(),
            json!({ "parameters": [{ "ruleId": "rule-1", "subjects": [{ "objectId": "grp-1", "objectTypeName": "Group",
                "links": { "members": [{ "objectId": "usr-1", "objectTypeName": "User" }] } }] }] })
        );

        client
            .start_synchronization_job("sp-1", &job.id)
            .await
            .unwrap();
        assert_eq!(
            server.requests_to("POST", &format!("{jobs}/AWSSCIM.abc.def/start"))[0].body,
            ""
        );
        client
            .restart_synchronization_job("sp-1", &job.id, Some("Full"))
            .await
            .unwrap();
        assert_eq!(
            server.requests_to("POST", &format!("{jobs}/AWSSCIM.abc.def/restart"))[0].json(),
            json!({ "criteria": { "resetScope": "Full" } })
        );
    }

    #[tokio::test]
    async fn federation_metadata_is_fetched_from_the_login_host_without_a_token() {
        let server = MockServer::start().await;
        let xml = include_str!("../../saml/testdata/entra_federation_metadata.xml");
        server.on(
            "GET",
            &format!("/{TENANT}/federationmetadata/2007-06/federationmetadata.xml"),
            vec![Canned {
                status: 200,
                headers: vec![],
                body: xml.into(),
                delay: Duration::ZERO,
            }],
        );
        let fetched = server
            .client()
            .fetch_federation_metadata(TENANT, "app-client-id")
            .await
            .unwrap();
        let metadata = crate::saml::parse_idp_federation_metadata(&fetched).unwrap();
        assert!(metadata.entity_id.starts_with("https://sts.windows.net/"));
        let request = &server.requests_to(
            "GET",
            &format!("/{TENANT}/federationmetadata/2007-06/federationmetadata.xml"),
        )[0];
        assert_eq!(
            request.query_param("appid").as_deref(),
            Some("app-client-id")
        );
        assert!(request.headers.get("authorization").is_none());
    }

    #[tokio::test]
    async fn safe_instantiate_never_replays_after_a_server_error() {
        let server = MockServer::start().await;
        server.on(
            "POST",
            &instantiate_path(),
            vec![Canned::graph_error(500, "InternalServerError", "boom")],
        );
        server.on(
            "GET",
            "/v1.0/applications",
            vec![Canned::json(200, json!({ "value": [app("temp")] }))],
        );
        server.on(
            "GET",
            "/v1.0/servicePrincipals",
            vec![Canned::json(200, json!({ "value": [sp("temp")] }))],
        );
        server.on(
            "PATCH",
            "/v1.0/applications/app-object-id",
            vec![Canned::empty(204)],
        );
        server.on(
            "PATCH",
            "/v1.0/servicePrincipals/sp-object-id",
            vec![Canned::empty(204)],
        );
        let created = server
            .client()
            .instantiate_application_safely(TEMPLATE, "AWS")
            .await
            .unwrap();
        assert_eq!(server.requests_to("POST", &instantiate_path()).len(), 1);
        assert_eq!(created.application.id, "app-object-id");
    }

    #[tokio::test]
    async fn a_job_create_is_replayed_only_when_no_job_appeared() {
        let server = MockServer::start().await;
        let path = "/v1.0/servicePrincipals/sp-1/synchronization/jobs";
        server.on(
            "POST",
            path,
            vec![
                Canned::graph_error(429, "TooManyRequests", "later").header("Retry-After", "0"),
                Canned::graph_error(503, "ServiceUnavailable", "maybe"),
                Canned::json(201, json!({ "id": "job", "templateId": "AWSSCIM" })),
            ],
        );
        server.on(
            "GET",
            path,
            vec![Canned::json(
                200,
                json!({ "value": [{ "id": "old", "templateId": "AWSSCIM" }] }),
            )],
        );
        let job = server
            .client()
            .create_synchronization_job("sp-1", "AWSSCIM")
            .await
            .unwrap();
        assert_eq!(job.id, "job");
        assert_eq!(
            server.requests_to("POST", path).len(),
            3,
            "429 replayed; the 503 replayed after the look-back found no new job"
        );
        assert!(
            server
                .requests_to("DELETE", &format!("{path}/old"))
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_job_created_before_a_server_error_is_found_not_made_again() {
        let server = MockServer::start().await;
        let path = "/v1.0/servicePrincipals/sp-1/synchronization/jobs";
        server.on(
            "POST",
            path,
            vec![Canned::graph_error(502, "BadGateway", "lost the answer")],
        );
        server.on(
            "GET",
            path,
            vec![
                Canned::json(200, json!({ "value": [] })),
                Canned::json(
                    200,
                    json!({ "value": [{ "id": "made", "templateId": "AWSSCIM" }] }),
                ),
            ],
        );
        let job = server
            .client()
            .create_synchronization_job("sp-1", "AWSSCIM")
            .await
            .unwrap();
        assert_eq!(job.id, "made");
        assert_eq!(server.requests_to("POST", path).len(), 1);
    }

    #[tokio::test]
    async fn a_role_assignment_that_landed_before_a_server_error_is_returned() {
        let server = MockServer::start().await;
        let path = "/v1.0/servicePrincipals/sp-1/appRoleAssignedTo";
        server.on(
            "POST",
            path,
            vec![
                Canned::graph_error(504, "GatewayTimeout", "late"),
                Canned::graph_error(
                    400,
                    "Request_BadRequest",
                    "Permission being assigned already exists on the object",
                ),
            ],
        );
        let landed =
            json!({ "id": "a-1", "principalId": "g-1", "resourceId": "sp-1", "appRoleId": "r-1" });
        server.on(
            "GET",
            path,
            vec![
                // Not visible to the look-back (replication), then visible.
                Canned::json(200, json!({ "value": [] })),
                Canned::json(200, json!({ "value": [] })),
                Canned::json(200, json!({ "value": [] })),
                Canned::json(200, json!({ "value": [landed] })),
            ],
        );
        let assignment = AppRoleAssignment {
            principal_id: "g-1".into(),
            resource_id: "sp-1".into(),
            app_role_id: "r-1".into(),
            ..Default::default()
        };
        let created = server
            .client()
            .create_app_role_assignment("sp-1", &assignment)
            .await
            .unwrap();
        assert_eq!(created.id, "a-1");
        assert_eq!(server.requests_to("POST", path).len(), 2);
    }

    #[tokio::test]
    async fn instantiate_is_replayed_when_the_server_error_created_nothing() {
        let server = MockServer::start().await;
        server.on(
            "POST",
            &instantiate_path(),
            vec![
                Canned::graph_error(503, "serviceNotAvailable", "later"),
                Canned::json(
                    201,
                    json!({ "application": app("temp"), "servicePrincipal": sp("temp") }),
                ),
            ],
        );
        server.on(
            "GET",
            "/v1.0/applications",
            vec![Canned::json(200, json!({ "value": [] }))],
        );
        server.on(
            "PATCH",
            "/v1.0/applications/app-object-id",
            vec![Canned::empty(204)],
        );
        server.on(
            "PATCH",
            "/v1.0/servicePrincipals/sp-object-id",
            vec![Canned::empty(204)],
        );
        let started = std::time::Instant::now();
        let created = server
            .client()
            .instantiate_application_safely(TEMPLATE, "AWS")
            .await
            .unwrap();
        assert_eq!(created.application.display_name, "AWS");
        assert_eq!(server.requests_to("POST", &instantiate_path()).len(), 2);
        // The look-back is a few replication intervals, not the replication timeout.
        assert!(
            started.elapsed() < fast_retries().replication_timeout,
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_marked_instantiate_adopts_the_application_an_earlier_run_left() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            "/v1.0/applications",
            vec![Canned::json(
                200,
                json!({ "value": [app("AWS (creating run-1)")] }),
            )],
        );
        server.on(
            "GET",
            "/v1.0/servicePrincipals",
            vec![Canned::json(
                200,
                json!({ "value": [sp("AWS (creating run-1)")] }),
            )],
        );
        server.on(
            "PATCH",
            "/v1.0/applications/app-object-id",
            vec![Canned::empty(204)],
        );
        server.on(
            "PATCH",
            "/v1.0/servicePrincipals/sp-object-id",
            vec![Canned::empty(204)],
        );
        let created = server
            .client()
            .instantiate_application_marked(TEMPLATE, "AWS (creating run-1)", "AWS")
            .await
            .unwrap();
        assert_eq!(created.application.id, "app-object-id");
        assert_eq!(created.service_principal.id, "sp-object-id");
        assert!(server.requests_to("POST", &instantiate_path()).is_empty());
    }

    #[tokio::test]
    async fn signing_certificate_name_must_be_a_subject() {
        let server = MockServer::start().await;
        let error = server
            .client()
            .add_token_signing_certificate("sp-1", "AWS signing", None)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("must start with \"CN=\""),
            "{error}"
        );
        assert!(server.requests().is_empty(), "nothing is sent");
    }

    #[tokio::test]
    async fn application_is_found_by_app_id() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            "/v1.0/applications",
            vec![Canned::json(200, json!({ "value": [app("AWS")] }))],
        );
        let found = server
            .client()
            .find_application_by_app_id("app-client-id")
            .await
            .unwrap();
        assert_eq!(found.unwrap().id, "app-object-id");
        let filter = server.requests_to("GET", "/v1.0/applications")[0].query_param("$filter");
        assert_eq!(filter.as_deref(), Some("appId eq 'app-client-id'"));
    }

    #[tokio::test]
    async fn application_owners_are_listed_added_and_removed_by_reference() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            "/v1.0/applications/app-object-id/owners",
            vec![Canned::json(
                200,
                json!({ "value": [{ "@odata.type": "#microsoft.graph.user", "id": "user-1" }] }),
            )],
        );
        server.on(
            "POST",
            "/v1.0/applications/app-object-id/owners/$ref",
            vec![Canned::empty(204)],
        );
        server.on(
            "DELETE",
            "/v1.0/applications/app-object-id/owners/user-1/$ref",
            vec![Canned::empty(204)],
        );
        let client = server.client();
        assert_eq!(
            client
                .list_application_owner_ids("app-object-id")
                .await
                .unwrap(),
            vec!["user-1".to_string()]
        );
        client
            .add_application_owner("app-object-id", "user-2")
            .await
            .unwrap();
        let added = &server.requests_to("POST", "/v1.0/applications/app-object-id/owners/$ref")[0];
        let reference = added.json()["@odata.id"].as_str().unwrap().to_string();
        assert!(
            reference.ends_with("/v1.0/directoryObjects/user-2"),
            "{reference}"
        );
        client
            .remove_application_owner("app-object-id", "user-1")
            .await
            .unwrap();
        assert!(
            client
                .add_application_owner("app-object-id", "../x")
                .await
                .is_err(),
            "ids that could change the path are refused"
        );
    }

    #[tokio::test]
    async fn synchronization_rules_come_from_the_job_schema() {
        let server = MockServer::start().await;
        server.on(
            "GET",
            "/v1.0/servicePrincipals/sp-1/synchronization/jobs/job-1/schema",
            vec![Canned::json(
                200,
                json!({ "id": "job-1", "synchronizationRules": [{
                    "id": "rule-1", "name": "USER_OUTBOUND_USER", "editable": true,
                    "objectMappings": [{ "sourceObjectName": "Group", "targetObjectName": "Group", "enabled": true }]
                }]}),
            )],
        );
        let rules = server
            .client()
            .list_synchronization_rules("sp-1", "job-1")
            .await
            .unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].id, "rule-1");
        assert_eq!(
            rules[0].object_mappings[0].source_object_name.as_deref(),
            Some("Group")
        );
    }
}
