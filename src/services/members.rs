//! A group's members in AWS: which direct members of an Entra group provisioning can bring to the identity
//! store (and why the others cannot), and whether they are members of the provisioned identity store group.
//!
//! Entra's provision on demand provisions only the members a request links, and Entra never provisions the
//! members of nested groups; AWS's SCIM endpoint rejects users without `givenName`, `surname` or `displayName`
//! and user names the identity store cannot hold. Saying so at plan is cheaper than a user who cannot sign in.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clients::aws::{Deadline, IdentityCenter};
use crate::clients::graph::models::{Group, SynchronizationRule, User};
use crate::clients::graph::{GraphClient, GraphError};
use crate::framework::{AttributePath, Context, Diagnostic, Diagnostics};
use crate::helpers::{aws_error, graph_error};

use super::IdbridgeClients;
use super::app_roles::{AppLookup, find_enterprise_app};
use super::cache::SingleFlight;
use super::principal::EntraPrincipal;
use super::provisioning::{ON_DEMAND_MEMBERS_LIMIT, Provisioning};

/// What the identity store accepts as `UserName` (identitystore 2020-06-15 model: 1 to 128 letters, marks,
/// symbols, numbers and punctuation; `Administrator` and `AWSAdministrators` are reserved).
const USER_NAME_MAX_CHARS: usize = 128;
const RESERVED_USER_NAMES: [&str; 2] = ["Administrator", "AWSAdministrators"];

/// How many users one warning names before it says "and N more".
const NAMED_IN_A_WARNING: usize = 10;

/// Polls of the identity store group while members arrive: SCIM writes take seconds after the on-demand
/// answer, so start short and stay well under the shared 20 TPS.
const MEMBER_POLL_FIRST: Duration = Duration::from_secs(1);
const MEMBER_POLL_MAX: Duration = Duration::from_secs(10);

/// The SCIM attributes of which AWS's SCIM endpoint takes one value per user (AWS IAM Identity Center SCIM
/// guide, CreateUser constraints: multiple values of these are not supported).
const SINGLE_VALUED_ATTRIBUTES: [&str; 3] = ["emails", "phoneNumbers", "addresses"];

/// An Entra group and its direct members as Graph lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupMembers {
    pub group: Group,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
}

/// Why AWS's SCIM endpoint will refuse a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedUser {
    pub name: String,
    pub reason: String,
}

/// The members sorted by what provisioning will do with them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberReview {
    /// Users provisioning brings to the identity store group (disabled ones too: Entra sends them inactive).
    pub eligible: Vec<User>,
    pub rejected: Vec<RejectedUser>,
    /// User principal names of eligible members whose account is disabled.
    pub disabled: Vec<String>,
    /// Display names of nested groups.
    pub nested_groups: Vec<String>,
    pub security_enabled: bool,
}

/// How far the identity store group is from the Entra group's eligible members.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberStatus {
    /// Users in the identity store group.
    pub member_count: usize,
    /// User principal names of eligible members not in the identity store group.
    pub missing: BTreeSet<String>,
}

/// The caches of member reads: Graph's member list per Entra group and identity store user ids per
/// `(identity store, userName)`, so that plan, refresh and several groups sharing users cost one read each.
#[derive(Default)]
pub struct MemberCaches {
    groups: SingleFlight<String, Arc<GroupMembers>>,
    /// Per application id.
    mappings: SingleFlight<String, MultiValued>,
    /// Only users found: one not there yet is looked up again.
    user_ids: Mutex<HashMap<(String, String), String>>,
}

impl MemberCaches {
    /// The group and its direct members, read once per configured provider (one Terraform run).
    pub async fn group_members(
        &self,
        graph: &GraphClient,
        group_id: &str,
    ) -> Result<Arc<GroupMembers>, GraphError> {
        self.groups
            .get_or_try_init(group_id.to_owned(), || {
                Box::pin(read_group_members(graph, group_id))
            })
            .await
    }

    /// [`multi_valued_mappings`] of the application's provisioning job, read once per run; empty when the
    /// application or its job does not exist yet.
    pub async fn multi_valued_mappings(
        &self,
        ctx: &Context,
        graph: &GraphClient,
        application_id: &str,
    ) -> Result<MultiValued, Diagnostics> {
        self.mappings
            .get_or_try_init(application_id.to_owned(), || {
                Box::pin(read_multi_valued_mappings(ctx, graph, application_id))
            })
            .await
    }

    async fn user_id(
        &self,
        identity_center: &IdentityCenter,
        identity_store_id: &str,
        user_name: &str,
        deadline: Deadline,
    ) -> Result<Option<String>, Diagnostics> {
        let key = (identity_store_id.to_owned(), user_name.to_owned());
        if let Some(id) = self.lock().get(&key) {
            return Ok(Some(id.clone()));
        }
        let found = identity_center
            .get_user_id_by_user_name(identity_store_id, user_name, deadline)
            .await
            .map_err(|e| aws_error("Cannot look up a group member in the identity store", &e))?;
        if let Some(id) = &found {
            self.lock().insert(key, id.clone());
        }
        Ok(found)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), String>> {
        self.user_ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Which eligible members are in the identity store group `group_id`.
    pub async fn status(
        &self,
        identity_center: &IdentityCenter,
        identity_store_id: &str,
        group_id: &str,
        eligible: &[User],
        deadline: Deadline,
    ) -> Result<MemberStatus, Diagnostics> {
        let members = self
            .group_member_ids(identity_center, identity_store_id, group_id, deadline)
            .await?;
        self.status_of(
            identity_center,
            identity_store_id,
            members,
            eligible,
            deadline,
        )
        .await
    }

    async fn group_member_ids(
        &self,
        identity_center: &IdentityCenter,
        identity_store_id: &str,
        group_id: &str,
        deadline: Deadline,
    ) -> Result<BTreeSet<String>, Diagnostics> {
        identity_center
            .list_group_member_user_ids(identity_store_id, group_id, deadline)
            .await
            .map_err(|e| {
                aws_error("Cannot list the members of the identity store group", &e).into()
            })
    }

    async fn status_of(
        &self,
        identity_center: &IdentityCenter,
        identity_store_id: &str,
        members: BTreeSet<String>,
        eligible: &[User],
        deadline: Deadline,
    ) -> Result<MemberStatus, Diagnostics> {
        let mut missing = BTreeSet::new();
        for user in eligible {
            let name = user_principal_name(user);
            let id = self
                .user_id(identity_center, identity_store_id, name, deadline)
                .await?;
            if !id.is_some_and(|id| members.contains(&id)) {
                missing.insert(name.to_owned());
            }
        }
        Ok(MemberStatus {
            member_count: members.len(),
            missing,
        })
    }

    /// Polls [`Self::status`] until every eligible member is in the group or `wait` has passed; the last
    /// status either way.
    pub async fn wait_for(
        &self,
        identity_center: &IdentityCenter,
        identity_store_id: &str,
        group_id: &str,
        eligible: &[User],
        wait: Duration,
    ) -> Result<MemberStatus, Diagnostics> {
        let deadline = Deadline::after(wait);
        let mut pause = MEMBER_POLL_FIRST;
        loop {
            let members = self
                .group_member_ids(identity_center, identity_store_id, group_id, deadline)
                .await?;
            let last_chance = deadline.remaining() <= pause;
            // Fewer members than expected cannot be complete: wait without looking each user up.
            if members.len() >= eligible.len() || last_chance {
                let status = self
                    .status_of(
                        identity_center,
                        identity_store_id,
                        members,
                        eligible,
                        deadline,
                    )
                    .await?;
                if status.missing.is_empty() || last_chance {
                    return Ok(status);
                }
            }
            tracing::info!(
                group_id,
                expected = eligible.len(),
                "group members not in the identity store yet; waiting for SCIM provisioning"
            );
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MEMBER_POLL_MAX);
        }
    }
}

async fn read_group_members(
    graph: &GraphClient,
    group_id: &str,
) -> Result<Arc<GroupMembers>, GraphError> {
    Ok(Arc::new(GroupMembers {
        group: graph.get_group(group_id).await?,
        users: graph.list_group_user_members(group_id).await?,
        groups: graph.list_group_group_members(group_id).await?,
    }))
}

/// The single-valued attributes the user mappings of `rules` send more than one value of, with the mapping
/// targets that do (e.g. `emails` ← `emails[type eq "work"].value`, `emails[type eq "home"].value`): AWS rejects
/// every user who has values for more than one of them.
pub fn multi_valued_mappings(rules: &[SynchronizationRule]) -> Vec<(String, Vec<String>)> {
    let targets: Vec<&str> = rules
        .iter()
        .flat_map(|rule| &rule.object_mappings)
        .filter(|m| m.source_object_name.as_deref() == Some("User") && m.enabled != Some(false))
        .flat_map(|m| &m.attribute_mappings)
        .filter_map(|a| a.target_attribute_name.as_deref())
        .collect();
    SINGLE_VALUED_ATTRIBUTES
        .iter()
        .filter_map(|attribute| {
            // One value per filter: `addresses[type eq "work"].locality` and `….postalCode` are one address.
            let values: BTreeSet<&str> = targets
                .iter()
                .filter(|t| {
                    t.strip_prefix(attribute)
                        .is_some_and(|rest| rest.starts_with('['))
                })
                .map(|t| t.split_once(']').map_or(*t, |(value, _)| value))
                .collect();
            (values.len() > 1).then(|| {
                let mapped = targets
                    .iter()
                    .filter(|t| values.iter().any(|v| t.starts_with(v)))
                    .map(|t| t.to_string())
                    .collect();
                (attribute.to_string(), mapped)
            })
        })
        .collect()
}

/// The warning about [`multi_valued_mappings`], pointed at `path`.
pub fn mapping_warning(
    multi_valued: &[(String, Vec<String>)],
    path: &AttributePath,
) -> Option<Diagnostic> {
    if multi_valued.is_empty() {
        return None;
    }
    let described: Vec<String> = multi_valued
        .iter()
        .map(|(attribute, targets)| format!("{attribute} ({})", targets.join(", ")))
        .collect();
    Some(
        Diagnostic::warning(
            "Attribute mappings send more than one value AWS accepts",
            format!(
                "The provisioning job's user mappings send several values of {}. AWS IAM Identity Center's SCIM \
                 endpoint takes one email, phone number and address per user and rejects every user who has \
                 values for more than one of these mappings. Keep one mapping per attribute in the enterprise \
                 application's provisioning settings.",
                described.join("; ")
            ),
        )
        .at(path.clone()),
    )
}

/// Single-valued SCIM attributes with the mapping targets that send more than one value of each.
pub type MultiValued = Arc<Vec<(String, Vec<String>)>>;

async fn read_multi_valued_mappings(
    ctx: &Context,
    graph: &GraphClient,
    application_id: &str,
) -> Result<MultiValued, Diagnostics> {
    let AppLookup::Found(app) = find_enterprise_app(ctx, graph, application_id).await? else {
        return Ok(MultiValued::default());
    };
    let sp = &app.service_principal_id;
    let jobs = graph
        .list_synchronization_jobs(sp)
        .await
        .map_err(|e| graph_error("read the provisioning job", &e))?;
    let Some(job) = jobs.first() else {
        return Ok(MultiValued::default());
    };
    let rules = graph
        .list_synchronization_rules(sp, &job.id)
        .await
        .map_err(|e| graph_error("read the provisioning job's schema", &e))?;
    Ok(Arc::new(multi_valued_mappings(&rules)))
}

/// What Entra's AWS mapping sends as `userName`.
pub fn user_principal_name(user: &User) -> &str {
    user.user_principal_name.as_deref().unwrap_or(&user.id)
}

fn blank(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|v| v.trim().is_empty())
}

/// Why the identity store cannot take `name` as a `UserName`, if it cannot.
fn unusable_user_name(name: &str) -> Option<String> {
    let length = name.chars().count();
    if length == 0 {
        return Some("it has no user principal name to send as userName".into());
    }
    if length > USER_NAME_MAX_CHARS {
        return Some(format!(
            "its user principal name has {length} characters; AWS's userName allows {USER_NAME_MAX_CHARS}"
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("its user principal name contains spaces or control characters, which AWS's userName refuses".into());
    }
    if RESERVED_USER_NAMES
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(name))
    {
        return Some(format!("{name:?} is a user name AWS reserves"));
    }
    None
}

/// Why AWS's SCIM endpoint will refuse this user, if it will (AWS IAM Identity Center SCIM guide: `userName`,
/// `displayName`, `name.givenName` and `name.familyName` are required).
pub fn rejection(user: &User) -> Option<String> {
    let missing: Vec<&str> = [
        ("givenName", &user.given_name),
        ("surname", &user.surname),
        ("displayName", &user.display_name),
    ]
    .into_iter()
    .filter(|(_, value)| blank(value))
    .map(|(name, _)| name)
    .collect();
    if !missing.is_empty() {
        return Some(format!("no {}", missing.join(", no ")));
    }
    unusable_user_name(user.user_principal_name.as_deref().unwrap_or(""))
}

/// Sorts the members by what provisioning will do with them.
pub fn review(members: &GroupMembers) -> MemberReview {
    let mut review = MemberReview {
        security_enabled: members.group.security_enabled.unwrap_or(false),
        ..MemberReview::default()
    };
    for user in &members.users {
        let name = user_principal_name(user).to_owned();
        match rejection(user) {
            Some(reason) => review.rejected.push(RejectedUser { name, reason }),
            None => {
                if user.account_enabled == Some(false) {
                    review.disabled.push(name);
                }
                review.eligible.push(user.clone());
            }
        }
    }
    review.nested_groups = members
        .groups
        .iter()
        .map(|g| g.display_name.clone())
        .collect();
    review
}

fn named(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    let mut text = items
        .iter()
        .take(NAMED_IN_A_WARNING)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > NAMED_IN_A_WARNING {
        text.push_str(&format!(" and {} more", items.len() - NAMED_IN_A_WARNING));
    }
    text
}

/// The pre-flight warnings about a group's members, pointed at `path`.
pub fn warnings(
    members: &GroupMembers,
    review: &MemberReview,
    path: &AttributePath,
) -> Diagnostics {
    let group = &members.group.display_name;
    let mut diags = Diagnostics::new();
    if !review.security_enabled {
        diags.push(
            Diagnostic::warning(
                "Group is not security-enabled",
                format!(
                    "The Entra ID group {group:?} is not a security group (securityEnabled is false). App role \
                     assignments and provisioning work with security groups; Microsoft 365 groups that are not \
                     security-enabled may be left out of provisioning. Use a security group."
                ),
            )
            .at(path.clone()),
        );
    }
    if !review.rejected.is_empty() {
        diags.push(
            Diagnostic::warning(
                format!(
                    "{} member(s) of the group will not be provisioned to AWS",
                    review.rejected.len()
                ),
                format!(
                    "AWS IAM Identity Center's SCIM endpoint rejects users without givenName, surname or \
                     displayName, or whose user principal name is not a valid userName, so these members of \
                     {group:?} cannot sign in: {}. Fill in the missing attributes in Entra ID; the next apply \
                     provisions them.",
                    named(
                        review
                            .rejected
                            .iter()
                            .map(|r| format!("{} ({})", r.name, r.reason))
                    )
                ),
            )
            .at(path.clone()),
        );
    }
    if !review.nested_groups.is_empty() {
        diags.push(
            Diagnostic::warning(
                "Nested groups are not provisioned",
                format!(
                    "{group:?} has nested groups: {}. Entra ID provisions only the direct members of an \
                     assigned group, so the members of these groups get no access through it. Assign each \
                     nested group itself (its own idbridge_group_assignment) or add its users directly.",
                    named(review.nested_groups.iter().cloned())
                ),
            )
            .at(path.clone()),
        );
    }
    if !review.disabled.is_empty() {
        diags.push(
            Diagnostic::warning(
                "Disabled users in the group",
                format!(
                    "These members of {group:?} have a disabled account: {}. Entra ID provisions them as \
                     inactive users, who cannot sign in to the AWS access portal.",
                    named(review.disabled.iter().cloned())
                ),
            )
            .at(path.clone()),
        );
    }
    diags
}

/// The group's members sorted for provisioning, read once per run.
pub async fn member_review(
    clients: &IdbridgeClients,
    graph: &GraphClient,
    group: &EntraPrincipal,
) -> Result<MemberReview, Diagnostics> {
    clients
        .caches()
        .members
        .group_members(graph, &group.object_id)
        .await
        .map(|members| review(&members))
        .map_err(|e| {
            graph_error("read the Entra ID group's members", &e)
                .at(group.path())
                .into()
        })
}

/// The first members to link to the group's own on-demand request.
pub fn first_linked(review: &MemberReview) -> Vec<String> {
    review
        .eligible
        .iter()
        .take(ON_DEMAND_MEMBERS_LIMIT)
        .map(|user| user.id.clone())
        .collect()
}

/// The eligible members not in `linked` (those the group's own request already carried).
pub fn not_linked(review: &MemberReview, linked: &[String]) -> Vec<String> {
    review
        .eligible
        .iter()
        .filter(|user| !linked.contains(&user.id))
        .map(|user| user.id.clone())
        .collect()
}

/// Update: the object ids of the eligible members the identity store group lacks.
pub async fn missing_member_ids(
    ctx: &Context,
    provisioning: &Provisioning<'_>,
    group_id: &str,
    review: &MemberReview,
) -> Result<Vec<String>, Diagnostics> {
    let status = provisioning
        .caches
        .members
        .status(
            provisioning.identity_center,
            &provisioning.instance.identity_store_id,
            group_id,
            &review.eligible,
            Deadline::after(ctx.remaining()),
        )
        .await?;
    Ok(review
        .eligible
        .iter()
        .filter(|user| status.missing.contains(user_principal_name(user)))
        .map(|user| user.id.clone())
        .collect())
}

/// Read: how far the identity store group is from the Entra group's eligible members.
pub async fn refresh_members(
    clients: &IdbridgeClients,
    graph: &GraphClient,
    identity_center: &IdentityCenter,
    identity_store_id: &str,
    group: &EntraPrincipal,
    group_id: &str,
    deadline: Deadline,
) -> Result<MemberStatus, Diagnostics> {
    let review = member_review(clients, graph, group).await?;
    clients
        .caches()
        .members
        .status(
            identity_center,
            identity_store_id,
            group_id,
            &review.eligible,
            deadline,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(upn: &str, given: Option<&str>, surname: Option<&str>) -> User {
        User {
            id: format!("id-{upn}"),
            display_name: Some(format!("{upn} display")),
            user_principal_name: Some(upn.into()),
            given_name: given.map(Into::into),
            surname: surname.map(Into::into),
            mail: None,
            account_enabled: Some(true),
        }
    }

    fn members() -> GroupMembers {
        GroupMembers {
            group: Group {
                id: "g".into(),
                display_name: "AWS-Developers".into(),
                security_enabled: Some(true),
                ..Group::default()
            },
            users: vec![
                user("alice@example.com", Some("Alice"), Some("A")),
                user("bob@example.com", Some("Bob"), None),
                User {
                    account_enabled: Some(false),
                    ..user("carol@example.com", Some("Carol"), Some("C"))
                },
                user("has space@example.com", Some("D"), Some("D")),
            ],
            groups: vec![Group {
                id: "n".into(),
                display_name: "Contractors".into(),
                ..Group::default()
            }],
        }
    }

    #[test]
    fn members_are_sorted_by_what_provisioning_does_with_them() {
        let review = review(&members());
        let eligible: Vec<&str> = review.eligible.iter().map(user_principal_name).collect();
        assert_eq!(eligible, ["alice@example.com", "carol@example.com"]);
        assert_eq!(review.disabled, ["carol@example.com"]);
        assert_eq!(review.nested_groups, ["Contractors"]);
        let rejected: Vec<&str> = review.rejected.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(rejected, ["bob@example.com", "has space@example.com"]);
        assert_eq!(review.rejected[0].reason, "no surname");
    }

    #[test]
    fn user_names_follow_the_identity_store_model() {
        assert_eq!(unusable_user_name("alice@example.com"), None);
        assert!(unusable_user_name(&"a".repeat(129)).is_some());
        assert_eq!(unusable_user_name(&"a".repeat(128)), None);
        assert!(unusable_user_name("administrator").is_some());
        assert!(unusable_user_name("").is_some());
        let nameless = User {
            given_name: None,
            display_name: None,
            ..user("x@example.com", None, Some("X"))
        };
        assert_eq!(
            rejection(&nameless).unwrap(),
            "no givenName, no displayName"
        );
    }

    #[test]
    fn warnings_name_the_members_and_point_at_the_group() {
        let members = members();
        let path = AttributePath::new("entra_group_id");
        let diags = warnings(&members, &review(&members), &path);
        let texts: Vec<String> = diags
            .iter()
            .map(|d| {
                assert_eq!(d.path.as_ref(), Some(&path));
                format!("{}: {}", d.summary, d.detail)
            })
            .collect();
        assert_eq!(texts.len(), 3, "{texts:#?}");
        assert!(
            texts[0].contains("bob@example.com (no surname)"),
            "{}",
            texts[0]
        );
        assert!(texts[0].contains("has space@example.com"), "{}", texts[0]);
        assert!(texts[1].contains("Contractors"), "{}", texts[1]);
        assert!(texts[2].contains("carol@example.com"), "{}", texts[2]);
        let plain = GroupMembers {
            group: Group {
                security_enabled: Some(false),
                ..members.group.clone()
            },
            users: vec![],
            groups: vec![],
        };
        let diags = warnings(&plain, &review(&plain), &path);
        assert_eq!(
            diags.iter().next().unwrap().summary,
            "Group is not security-enabled"
        );
    }

    #[test]
    fn mappings_sending_two_emails_are_found_and_one_address_in_parts_is_not() {
        let rules: Vec<SynchronizationRule> = serde_json::from_value(serde_json::json!([{
            "id": "r", "objectMappings": [
                {"sourceObjectName": "Group", "attributeMappings": [
                    {"targetAttributeName": "emails[type eq \"work\"].value"},
                    {"targetAttributeName": "emails[type eq \"other\"].value"}]},
                {"sourceObjectName": "User", "attributeMappings": [
                    {"targetAttributeName": "userName"},
                    {"targetAttributeName": "emails[type eq \"work\"].value"},
                    {"targetAttributeName": "addresses[type eq \"work\"].locality"},
                    {"targetAttributeName": "addresses[type eq \"work\"].postalCode"},
                    {"targetAttributeName": "emails[type eq \"home\"].value"}]}
            ]
        }]))
        .unwrap();
        let found = multi_valued_mappings(&rules);
        assert_eq!(
            found,
            [(
                "emails".to_string(),
                vec![
                    "emails[type eq \"work\"].value".to_string(),
                    "emails[type eq \"home\"].value".to_string()
                ]
            )]
        );
        let path = AttributePath::new("application_id");
        let warning = mapping_warning(&found, &path).unwrap();
        assert!(
            warning.detail.contains("emails[type eq \"home\"].value"),
            "{}",
            warning.detail
        );
        assert_eq!(warning.path, Some(path.clone()));
        assert!(mapping_warning(&[], &path).is_none());
    }

    #[test]
    fn long_lists_are_cut_short() {
        let names = (0..12).map(|i| format!("u{i}"));
        assert!(named(names).ends_with("u9 and 2 more"));
    }
}
