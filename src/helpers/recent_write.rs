//! A stamp in private state of when this provider last wrote an object, so that a read knows whether a 404
//! may be replication lag (Entra ID replicates new objects slowly) rather than a deletion.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::framework::Context;

/// Private state stamp: when this provider last created or changed the object, so that `read` knows whether
/// a 404 may be replication lag rather than a deletion.
pub fn mark_recent_write(ctx: &Context) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    ctx.set_private_entry("written_at", now.into());
}

/// Whether the private state says the object was written within `window`.
pub fn written_recently(ctx: &Context, window: Duration) -> bool {
    let Some(written_at) = ctx
        .private_entry("written_at")
        .and_then(|stamp| stamp.as_u64())
    else {
        return false;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    now.saturating_sub(written_at) <= window.as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_writes_are_remembered_in_private_state() {
        let ctx = Context::for_tests("idbridge_test", None);
        assert!(!written_recently(&ctx, Duration::from_secs(60)));
        mark_recent_write(&ctx);
        // The stamp is what the next request receives as its private state.
        let stamp = ctx.private_out();
        let stamp: serde_json::Value = serde_json::from_slice(&stamp).unwrap();
        assert!(stamp["written_at"].as_u64().unwrap() > 1_600_000_000);
    }
}
