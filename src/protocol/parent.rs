//! Leaving when Terraform is gone. A provider started by Terraform serves only that Terraform process; if it is
//! killed (SIGKILL, OOM, a CI runner's timeout) nobody sends `GRPCController.Shutdown`, and a provider left running
//! keeps making API calls for work nobody will record.
//!
//! The signal used is the parent process: Terraform starts the provider itself, so when Terraform dies the
//! provider is re-parented (to init or a subreaper) and `getppid()` changes. Two other candidates are not used:
//! stdin is Terraform's own stdin (go-plugin hands it down), often `/dev/null`, so its EOF means nothing; and a
//! closed gRPC connection is also what gRPC's channel idleness does to a quiet but healthy Terraform, which
//! reconnects on its next call.

use std::time::Duration;

use tokio::sync::watch;

/// How often the parent is checked: a killed Terraform's provider is gone well within a few seconds.
const PARENT_POLL: Duration = Duration::from_millis(500);

/// Requests shutdown (as `GRPCController.Shutdown` would) once the process that started us is gone.
#[cfg(unix)]
pub fn exit_with_parent(shutdown: watch::Sender<bool>) {
    // SAFETY: getppid(2) has no preconditions and cannot fail.
    let parent = unsafe { libc::getppid() };
    if parent <= 1 {
        // Started by init (or already orphaned): there is no Terraform process to outlive.
        return;
    }
    tokio::spawn(async move {
        let mut poll = tokio::time::interval(PARENT_POLL);
        loop {
            poll.tick().await;
            if shutdown.is_closed() || *shutdown.borrow() {
                return;
            }
            // SAFETY: as above.
            if unsafe { libc::getppid() } != parent {
                tracing::warn!(
                    parent,
                    "the Terraform process that started the provider is gone; exiting"
                );
                shutdown.send_replace(true);
                return;
            }
        }
    });
}

#[cfg(not(unix))]
pub fn exit_with_parent(_shutdown: watch::Sender<bool>) {}
