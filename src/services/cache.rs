//! What the configured provider remembers between resources: answers every resource of a run needs (the
//! Identity Center instance, which permission sets exist) and the provision-on-demand pacers. Owned by
//! [`IdbridgeClients`](super::IdbridgeClients), so each provider configuration (an alias may point at another
//! tenant or organization) has its own, and nothing outlives it.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::clients::aws::{Deadline, IdentityCenter, Instance};
use crate::framework::{AttributePath, Diagnostics};

use super::instances::find_instance;
use super::members::MemberCaches;
use super::organizations::OrganizationCache;
use super::provisioning::OnDemandPacers;

/// Answers computed once per key: resources plan and apply in parallel, and the first to ask does the lookup
/// while the others wait for its answer. A failure is not kept, so the next asker tries again.
pub struct SingleFlight<K, T> {
    cells: Mutex<HashMap<K, Arc<OnceCell<T>>>>,
}

impl<K, T> Default for SingleFlight<K, T> {
    fn default() -> Self {
        Self {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, T: Clone> SingleFlight<K, T> {
    /// The answer for `key`, running `compute` only when no earlier call succeeded and none is under way.
    pub async fn get_or_try_init<E, F, Fut>(&self, key: K, compute: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let cell = self
            .cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        cell.get_or_try_init(compute).await.cloned()
    }
}

/// The caches and pacers of one configured provider.
#[derive(Default)]
pub struct ServiceCaches {
    /// Per wanted instance ARN (`None`: the only one visible): 50 resources asking separately would cost 50
    /// ListInstances calls against the shared 20 TPS.
    instances: SingleFlight<Option<String>, Instance>,
    /// Permission set ARNs proven to exist at plan time: fifty resources sharing one cost one call.
    pub(crate) existing_permission_sets: SingleFlight<String, ()>,
    pub(crate) on_demand: OnDemandPacers,
    /// The AWS organization as read during this run: OU, root and tag targets of every resource share it.
    pub(crate) organization: OrganizationCache,
    /// Entra group members and identity store user ids, read once per run.
    pub(crate) members: MemberCaches,
}

impl ServiceCaches {
    /// The instance whose ARN is `wanted`, or the only one visible; looked up once per configuration.
    pub async fn instance(
        &self,
        identity_center: &IdentityCenter,
        wanted: Option<&str>,
        deadline: Deadline,
    ) -> Result<Instance, Diagnostics> {
        self.instances
            .get_or_try_init(wanted.map(str::to_owned), || {
                // Boxed: keeps the callers' futures shallow enough for the compiler to lay out.
                Box::pin(find_instance(
                    identity_center,
                    wanted,
                    deadline,
                    AttributePath::new("instance_arn"),
                ))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn concurrent_askers_share_one_answer_and_failures_are_not_kept() {
        let flights = SingleFlight::<&str, usize>::default();
        let runs = AtomicUsize::new(0);
        let ask = || {
            flights.get_or_try_init("key", || async {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                Ok::<_, ()>(7)
            })
        };
        let answers = futures_util::future::join_all((0..5).map(|_| ask())).await;
        assert!(answers.iter().all(|a| *a == Ok(7)));
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        let failing = flights
            .get_or_try_init("other", || async { Err::<usize, _>("down") })
            .await;
        assert_eq!(failing, Err("down"));
        let retried = flights
            .get_or_try_init("other", || async { Ok::<_, &str>(8) })
            .await;
        assert_eq!(retried, Ok(8), "the failure was not kept");
    }
}
