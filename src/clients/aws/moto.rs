//! The client's tests against a moto_server of their own, started with the emulators' launcher
//! (`idbridge_emulators::moto`): raw moto, and moto behind the emulators' AWS proxy where AWS's own
//! behaviour (conflicts, asynchronous completion) matters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use idbridge_emulators::moto::MotoServer;

use super::identity_center::IdentityCenter;
use super::limits::ServiceLimits;
use super::retry::RetryPolicy;

async fn start_moto() -> MotoServer {
    MotoServer::start()
        .await
        .expect("moto_server starts (run scripts/setup.sh or point IDBRIDGE_TOOLS_DIR at an installed tools directory)")
}

fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "moto",
        )))
        .http_client(super::settings::https_client())
        .build()
}

fn identity_center(moto: &MotoServer, limits: Arc<ServiceLimits>) -> IdentityCenter {
    IdentityCenter::new(&sdk_config(&moto.url), limits, RetryPolicy::default())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::clients::aws::*;

    fn deadline() -> Deadline {
        Deadline::after(Duration::from_secs(60))
    }

    fn limits() -> Arc<ServiceLimits> {
        ServiceLimits::new(200.0, 1, 10)
    }

    /// A fresh moto, a client on it and moto's Identity Center instance (keep the server alive).
    async fn moto_instance() -> (MotoServer, IdentityCenter, Instance) {
        let moto = start_moto().await;
        let ic = identity_center(&moto, limits());
        let instance = ic.single_instance(deadline()).await.unwrap();
        (moto, ic, instance)
    }

    async fn create_named_set(ic: &IdentityCenter, instance_arn: &str, name: &str) -> String {
        let new = NewPermissionSet {
            name: name.into(),
            ..Default::default()
        };
        ic.create_permission_set(instance_arn, &new, deadline())
            .await
            .unwrap()
            .arn
    }

    async fn create_group(ic: &IdentityCenter, store: &str, name: &str) -> String {
        ic.store
            .create_group()
            .identity_store_id(store)
            .display_name(name)
            .send()
            .await
            .unwrap()
            .group_id()
            .to_owned()
    }

    #[tokio::test]
    async fn moto_permission_set_lifecycle() {
        let (_moto, ic, instance) = moto_instance().await;
        assert!(
            instance
                .instance_arn
                .starts_with("arn:aws:sso:::instance/ssoins-"),
            "{instance:?}"
        );
        let i = instance.instance_arn.as_str();

        let new = NewPermissionSet {
            name: "Admins".into(),
            description: Some("platform admins".into()),
            session_duration: Some("PT4H".into()),
            relay_state: Some("https://console.aws.amazon.com/".into()),
            tags: BTreeMap::from([("team".to_owned(), "platform".to_owned())]),
        };
        let created = ic.create_permission_set(i, &new, deadline()).await.unwrap();
        assert_eq!(created.name, "Admins");
        let ps = created.arn.as_str();
        assert_eq!(
            ic.describe_permission_set(i, ps, deadline())
                .await
                .unwrap()
                .session_duration
                .as_deref(),
            Some("PT4H")
        );

        let update = PermissionSetUpdate {
            description: Some("changed".into()),
            session_duration: Some("PT1H".into()),
            relay_state: None,
        };
        ic.update_permission_set(i, ps, &update, deadline())
            .await
            .unwrap();
        let described = ic.describe_permission_set(i, ps, deadline()).await.unwrap();
        assert_eq!(described.description.as_deref(), Some("changed"));
        assert_eq!(described.session_duration.as_deref(), Some("PT1H"));
        assert_eq!(
            ic.list_permission_sets(i, deadline()).await.unwrap(),
            vec![created.arn.clone()]
        );

        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;
        ic.put_inline_policy(i, ps, policy, deadline())
            .await
            .unwrap();
        assert_eq!(
            ic.get_inline_policy(i, ps, deadline())
                .await
                .unwrap()
                .as_deref(),
            Some(policy)
        );
        ic.delete_inline_policy(i, ps, deadline()).await.unwrap();
        assert_eq!(ic.get_inline_policy(i, ps, deadline()).await.unwrap(), None);

        let read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess";
        ic.attach_managed_policy(i, ps, read_only, deadline())
            .await
            .unwrap();
        let managed = ic.list_managed_policies(i, ps, deadline()).await.unwrap();
        assert_eq!(
            managed.iter().map(|p| p.arn.as_str()).collect::<Vec<_>>(),
            vec![read_only]
        );
        ic.detach_managed_policy(i, ps, read_only, deadline())
            .await
            .unwrap();
        assert!(
            ic.list_managed_policies(i, ps, deadline())
                .await
                .unwrap()
                .is_empty()
        );

        let reference = CustomerManagedPolicyRef {
            name: "idbridge-boundary".into(),
            path: Some("/platform/".into()),
        };
        ic.attach_customer_managed_policy(i, ps, &reference, deadline())
            .await
            .unwrap();
        assert_eq!(
            ic.list_customer_managed_policies(i, ps, deadline())
                .await
                .unwrap(),
            vec![reference.clone()]
        );
        ic.detach_customer_managed_policy(i, ps, &reference, deadline())
            .await
            .unwrap();
        assert!(
            ic.list_customer_managed_policies(i, ps, deadline())
                .await
                .unwrap()
                .is_empty()
        );

        ic.provision_permission_set(i, ps, deadline())
            .await
            .unwrap();
        // moto answers with the caller's account (123456789012) however the set is assigned.
        assert!(
            !ic.list_accounts_for_permission_set(i, ps, deadline())
                .await
                .unwrap()
                .is_empty()
        );

        ic.delete_permission_set(i, ps, deadline()).await.unwrap();
        let gone = ic
            .describe_permission_set(i, ps, deadline())
            .await
            .unwrap_err();
        let aws = gone.aws_error().expect("AWS error");
        assert_eq!(
            aws.code.as_deref(),
            Some("ResourceNotFoundException"),
            "{gone}"
        );
        assert!(gone.is_not_found());

        let counters = ic.limits().counters.snapshot();
        assert_eq!(counters.calls_by_operation["CreatePermissionSet"], 1);
        assert_eq!(counters.retries, 0);
    }

    #[tokio::test]
    async fn moto_assignment_engine_converges_and_batches_reads() {
        let (_moto, ic, instance) = moto_instance().await;
        let i = instance.instance_arn.as_str();
        let group = Principal::group(
            create_group(&ic, &instance.identity_store_id, "platform-admins").await,
        );
        let mut sets = Vec::new();
        for name in ["Admin", "ReadOnly"] {
            sets.push(create_named_set(&ic, i, name).await);
        }
        let targets: Vec<AssignmentTarget> = ["111111111111", "222222222222", "333333333333"]
            .iter()
            .flat_map(|account| {
                sets.iter()
                    .map(move |ps| AssignmentTarget::new(ps.clone(), *account))
            })
            .collect();
        let desired: BTreeSet<_> = targets.iter().cloned().collect();
        let engine = ic.assignments(i);

        let outcome = engine
            .ensure_assignments(&group, &desired, &BTreeSet::new(), deadline())
            .await
            .unwrap();
        assert!(outcome.is_complete(), "{:?}", outcome.failed);
        assert_eq!(outcome.created, desired);
        assert_eq!(
            engine.assignments_of(&group, deadline()).await.unwrap(),
            desired
        );

        // Ten resources reading the same pair cost one ListAccountAssignments.
        let before = ic.limits().counters.snapshot();
        let reads = (0..10).map(|_| engine.is_assigned(&group, &targets[0], deadline()));
        assert!(
            futures_util::future::join_all(reads)
                .await
                .into_iter()
                .all(|r| r.unwrap())
        );
        let after = ic.limits().counters.snapshot();
        assert_eq!(
            after.calls_by_operation["ListAccountAssignments"]
                - before
                    .calls_by_operation
                    .get("ListAccountAssignments")
                    .copied()
                    .unwrap_or(0),
            1
        );

        // Second run: nothing to do; then shrink to one target.
        let again = engine
            .ensure_assignments(&group, &desired, &outcome.existing, deadline())
            .await
            .unwrap();
        assert!(again.created.is_empty());
        assert_eq!(again.adopted, desired);
        let keep: BTreeSet<_> = [targets[0].clone()].into();
        let shrunk = engine
            .ensure_assignments(&group, &keep, &again.existing, deadline())
            .await
            .unwrap();
        assert_eq!(shrunk.deleted.len(), 5);
        assert_eq!(shrunk.existing, keep);
        assert_eq!(
            engine.assignments_of(&group, deadline()).await.unwrap(),
            keep
        );
        assert!(
            !engine
                .is_assigned(&group, &targets[1], deadline())
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn moto_concurrent_convergences_share_the_counters() {
        let (_moto, ic, instance) = moto_instance().await;
        let i = instance.instance_arn.as_str();
        let ps = create_named_set(&ic, i, "Dev").await;
        let mut groups = Vec::new();
        for g in 0..4 {
            let group = create_group(&ic, &instance.identity_store_id, &format!("team-{g}")).await;
            groups.push(Principal::group(group));
        }
        let desired: BTreeSet<_> = (0..5)
            .map(|a| AssignmentTarget::new(ps.clone(), format!("{:012}", 100 + a)))
            .collect();
        let known = BTreeSet::new();
        let engine = ic.assignments(i);
        let before = ic.limits().counters.snapshot();
        let outcomes = futures_util::future::join_all(
            groups
                .iter()
                .map(|group| engine.ensure_assignments(group, &desired, &known, deadline())),
        )
        .await;
        let counters = ic.limits().counters.snapshot().since(&before);
        let outcomes: Vec<_> = outcomes.into_iter().map(Result::unwrap).collect();
        assert_eq!(outcomes.iter().map(|o| o.created.len()).sum::<usize>(), 20);
        assert_eq!(outcomes.iter().map(|o| o.failed.len()).sum::<usize>(), 0);
        assert_eq!(counters.calls_by_operation["CreateAccountAssignment"], 20);
        assert_eq!(
            counters.calls_by_operation["ListAccountAssignmentsForPrincipal"],
            4
        );
    }

    #[tokio::test]
    async fn moto_group_lookup_and_wait() {
        let (_moto, ic, instance) = moto_instance().await;
        let store = instance.identity_store_id.as_str();
        let id = create_group(&ic, store, "aws-admins").await;
        let by_name = GroupMatcher::DisplayName("aws-admins".into());
        assert_eq!(
            ic.get_group_id(store, &by_name, deadline())
                .await
                .unwrap()
                .as_deref(),
            Some(id.as_str())
        );
        let group = ic
            .wait_for_group(store, &by_name, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(group.group_id, id);
        assert_eq!(group.display_name.as_deref(), Some("aws-admins"));

        let missing = GroupMatcher::DisplayName("not-provisioned-yet".into());
        assert_eq!(
            ic.get_group_id(store, &missing, deadline()).await.unwrap(),
            None
        );
        let started = Instant::now();
        let err = ic
            .wait_for_group(store, &missing, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::GroupNotFound { lookups: 2.., .. }),
            "{err}"
        );
        assert!(err.to_string().contains("not-provisioned-yet"));
        assert!(started.elapsed() < Duration::from_secs(6));

        // A group provisioned while we wait is found.
        let late = GroupMatcher::DisplayName("late-group".into());
        let waiter = ic.wait_for_group(store, &late, Duration::from_secs(20));
        let creator = async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            create_group(&ic, store, "late-group").await
        };
        let (found, created_id) = tokio::join!(waiter, creator);
        assert_eq!(found.unwrap().group_id, created_id);
    }

    /// moto behind the emulators' AWS proxy, whose asynchronous operations complete `complete_ms` after
    /// they start.
    async fn proxy_instance(
        complete_ms: u64,
    ) -> (
        MotoServer,
        idbridge_emulators::aws_proxy::RunningProxy,
        IdentityCenter,
        Instance,
    ) {
        let moto = start_moto().await;
        let config = idbridge_emulators::aws_proxy::ProxyConfig {
            complete_ms,
            ..Default::default()
        };
        let proxy = idbridge_emulators::aws_proxy::start(config, &moto.url)
            .await
            .unwrap();
        let ic = IdentityCenter::new(
            &sdk_config(&proxy.base_url),
            limits(),
            RetryPolicy::default(),
        );
        let instance = ic.single_instance(deadline()).await.unwrap();
        (moto, proxy, ic, instance)
    }

    #[tokio::test]
    async fn deleting_an_assigned_permission_set_names_the_assignments() {
        // AWS refuses DeletePermissionSet while the set is assigned (ConflictException).
        let (_moto, _proxy, ic, instance) = proxy_instance(200).await;
        let i = instance.instance_arn.as_str();
        let ps = create_named_set(&ic, i, "Assigned").await;
        let group =
            Principal::group(create_group(&ic, &instance.identity_store_id, "out-of-band").await);
        let target = AssignmentTarget::new(ps.clone(), "111111111111");
        let engine = ic.assignments(i);
        let desired: BTreeSet<_> = [target.clone()].into();
        engine
            .ensure_assignments(&group, &desired, &BTreeSet::new(), deadline())
            .await
            .unwrap();
        let started = Instant::now();
        let err = ic
            .delete_permission_set(i, &ps, deadline())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::PermissionSetAssigned { assignments, .. }
                if assignments == &[format!("{group} in account 111111111111")]),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(20), "gave up late");
        engine
            .ensure_assignments(&group, &BTreeSet::new(), &desired, deadline())
            .await
            .unwrap();
        ic.delete_permission_set(i, &ps, deadline()).await.unwrap();
    }

    #[tokio::test]
    async fn aws_managed_policies_with_a_path_attach_and_list_with_it() {
        // The documented example attaches arn:aws:iam::aws:policy/job-function/ViewOnlyAccess.
        let (_moto, _proxy, ic, instance) = proxy_instance(0).await;
        let i = instance.instance_arn.as_str();
        let ps = create_named_set(&ic, i, "Viewers").await;
        let view_only = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess";
        ic.attach_managed_policy(i, &ps, view_only, deadline())
            .await
            .unwrap();
        let managed = ic.list_managed_policies(i, &ps, deadline()).await.unwrap();
        assert_eq!(
            managed.iter().map(|p| p.arn.as_str()).collect::<Vec<_>>(),
            vec![view_only]
        );
        ic.detach_managed_policy(i, &ps, view_only, deadline())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_provisioning_conflict_is_retried_until_the_first_completes() {
        // AWS answers ConflictException to ProvisionPermissionSet while one for the same set is IN_PROGRESS.
        let (_moto, _proxy, ic, instance) = proxy_instance(1_000).await;
        let i = instance.instance_arn.as_str();
        let ps = create_named_set(&ic, i, "Provisioned").await;
        let (first, second) = tokio::join!(
            ic.provision_permission_set(i, &ps, deadline()),
            ic.provision_permission_set(i, &ps, deadline())
        );
        first.unwrap();
        second.unwrap();
        assert!(ic.limits().counters.snapshot().retries >= 1);
    }

    /// The proxy's own count of the calls it answered, by operation.
    async fn proxy_calls(
        proxy: &idbridge_emulators::aws_proxy::RunningProxy,
    ) -> BTreeMap<String, u64> {
        let stats: serde_json::Value = reqwest::get(format!("{}/_proxy/stats", proxy.base_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        serde_json::from_value(stats["calls_by_operation"].clone()).unwrap()
    }

    #[tokio::test]
    async fn completion_is_detected_by_status_listings_not_one_describe_per_operation() {
        // The proxy completes operations by time (complete_ms), as AWS does; a regression to polling each
        // operation with Describe…Status shows in the proxy's call counts.
        let (_moto, proxy, ic, instance) = proxy_instance(300).await;
        let i = instance.instance_arn.as_str();
        let ps = create_named_set(&ic, i, "Listed").await;
        let engine = ic.assignments(i);
        let mut groups = Vec::new();
        for g in 0..3 {
            let name = format!("listed-{g}");
            groups.push(Principal::group(
                create_group(&ic, &instance.identity_store_id, &name).await,
            ));
        }
        let desired: BTreeSet<_> = (1..=8)
            .map(|a| AssignmentTarget::new(ps.clone(), format!("{a:012}")))
            .collect();
        let converge = |principal: &Principal, desired: BTreeSet<_>, known: BTreeSet<_>| {
            let engine = engine.clone();
            let principal = principal.clone();
            async move {
                engine
                    .ensure_assignments(&principal, &desired, &known, deadline())
                    .await
                    .unwrap()
            }
        };
        let created = futures_util::future::join_all(
            groups
                .iter()
                .map(|g| converge(g, desired.clone(), BTreeSet::new())),
        )
        .await;
        assert!(
            created
                .iter()
                .all(|o| o.is_complete() && o.created == desired)
        );
        let deleted = futures_util::future::join_all(
            groups
                .iter()
                .map(|g| converge(g, BTreeSet::new(), desired.clone())),
        )
        .await;
        assert!(
            deleted
                .iter()
                .all(|o| o.is_complete() && o.existing.is_empty())
        );

        let calls = proxy_calls(&proxy).await;
        let count = |op: &str| calls.get(op).copied().unwrap_or(0);
        // At least one call per operation (more when the proxy's 20 TPS throttles this test's faster limiter).
        assert!(count("CreateAccountAssignment") >= 24 && count("DeleteAccountAssignment") >= 24);
        assert_eq!(
            count("DescribeAccountAssignmentCreationStatus"),
            0,
            "{calls:?}"
        );
        assert_eq!(
            count("DescribeAccountAssignmentDeletionStatus"),
            0,
            "{calls:?}"
        );
        // One listing answers for every operation in progress: fewer status calls than the two
        // Describes per operation that polling each one (at 200 ms, then 400 ms) needs for 300 ms.
        for listing in [
            "ListAccountAssignmentCreationStatus",
            "ListAccountAssignmentDeletionStatus",
        ] {
            assert!(
                (1..2 * 24).contains(&count(listing)),
                "{listing}: {calls:?}"
            );
        }
    }

    #[tokio::test]
    async fn moto_unimplemented_operation_fails_within_the_deadline() {
        // moto answers PutPermissionsBoundaryToPermissionSet with an HTML 500; we retry 5xx, so this shows
        // the retries stop at the caller's deadline and keep the HTTP status.
        let (_moto, ic, instance) = moto_instance().await;
        let i = instance.instance_arn.as_str();
        let ps = create_named_set(&ic, i, "B").await;
        let boundary = PermissionsBoundary::ManagedPolicy {
            arn: "arn:aws:iam::aws:policy/PowerUserAccess".into(),
        };
        let started = Instant::now();
        let err = ic
            .put_permissions_boundary(i, &ps, &boundary, Deadline::after(Duration::from_secs(3)))
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(4));
        let last = err.aws_error().expect("the last AWS error is kept");
        assert_eq!(last.http_status, Some(500), "{err}");
        assert_eq!(last.kind, ErrorKind::Server);
        assert!(ic.limits().counters.snapshot().server_errors >= 2);
    }
}

#[cfg(test)]
mod send_checks {
    use std::collections::BTreeSet;
    use std::future::Future;

    use super::*;
    use crate::clients::aws::*;

    fn assert_send<F: Future + Send>(_: F) {}

    /// The provider runs these futures on a multi-threaded tonic server, so they must be `Send`; this
    /// fails to compile otherwise.
    #[tokio::test]
    async fn client_futures_are_send() {
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .build();
        let ic = IdentityCenter::new(
            &config,
            ServiceLimits::new(20.0, 1, 10),
            RetryPolicy::default(),
        );
        let d = Deadline::after(Duration::from_secs(1));
        let engine = ic.assignments("arn:aws:sso:::instance/ssoins-1");
        let principal = Principal::group("g");
        let targets = BTreeSet::new();
        assert_send(engine.ensure_assignments(&principal, &targets, &targets, d));
        assert_send(engine.is_assigned(&principal, &AssignmentTarget::new("ps", "1"), d));
        assert_send(ic.provision_permission_set("i", "ps", d));
        assert_send(ic.wait_for_group(
            "d-1",
            &GroupMatcher::DisplayName("g".into()),
            Duration::from_secs(1),
        ));
        assert_send(ic.list_tags("i", "ps", d));
        let lazy = LazyIdentityCenter::new(AwsSettings::default());
        assert_send(lazy.get());
    }
}
