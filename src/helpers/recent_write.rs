//! A stamp in private state of when this provider last wrote an object, so that a read knows whether a 404
//! may be replication lag (Entra ID replicates new objects slowly) rather than a deletion.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::framework::Context;

/// Private state stamp: when this provider last created or changed the object, so that `read` knows whether
/// a 404 may be replication lag rather than a deletion.
pub fn mark_recent_write(ctx: &Context) {
    ctx.set_private_entry("written_at", now_secs().into());
}

/// Private state stamp: a read found the object whole after the last write. From then on a 404 means it was
/// deleted (it existed at the last refresh), not that it has yet to replicate.
pub fn mark_seen(ctx: &Context) {
    ctx.set_private_entry("seen_at", now_secs().into());
}

/// Whether a 404 may be replication lag: the private state says the object was written within `window` and
/// no read has found it since.
pub fn written_recently(ctx: &Context, window: Duration) -> bool {
    let stamp = |key| ctx.private_entry(key).and_then(|stamp| stamp.as_u64());
    let Some(written_at) = stamp("written_at") else {
        return false;
    };
    if stamp("seen_at").is_some_and(|seen_at| seen_at >= written_at) {
        return false;
    }
    now_secs().saturating_sub(written_at) <= window.as_secs()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
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

    #[test]
    fn a_read_after_the_write_ends_the_replication_window() {
        let next_request = |ctx: &Context| {
            Context::new(
                "idbridge_test",
                tokio_util::sync::CancellationToken::new(),
                Duration::from_secs(60),
                None,
                ctx.private_out(),
            )
        };
        let written = Context::for_tests("idbridge_test", None);
        mark_recent_write(&written);
        let read = next_request(&written);
        assert!(written_recently(&read, Duration::from_secs(60)));
        // Once a read found the object, a 404 is a deletion.
        mark_seen(&read);
        assert!(!written_recently(
            &next_request(&read),
            Duration::from_secs(60)
        ));
    }
}
