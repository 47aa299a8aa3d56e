//! The retention job: keeps the stored history (and the request log) within the configured age and, where the store partitions
//! it by time, its partitions ready before the writes that need them; and removes the bookkeeping that
//! expires (idempotency keys after their lifetime, access tokens past their expiry or revoked, listeners
//! abandoned for an hour, signing secrets rolled over), so that no table grows without bound.
//!
//! Row-by-row deletion works in small batches (one short transaction each) so that it never holds locks
//! long or competes with deliveries for the writer, and pauses between batches. Whole spans of time go at
//! once where the store has them. Every node may run it: on PostgreSQL the batches skip rows another node
//! is already deleting, and one node at a time changes the partitions.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::domain::Timestamp;
use crate::store::{Bookkeeping, LISTENER_IDLE_LIFETIME, Store};

/// Events deleted per transaction.
const BATCH: u32 = 500;
/// Pause between batches while there is more to delete.
const BETWEEN_BATCHES: Duration = Duration::from_millis(200);
/// Pause once everything old is gone.
const IDLE: Duration = Duration::from_secs(60);

/// How long what expires is kept.
#[derive(Clone, Copy, Debug)]
pub struct RetentionRules {
    /// Events with their deliveries and attempts; zero keeps them forever.
    pub history: Duration,
    /// Idempotency keys.
    pub idempotency_keys: Duration,
}

/// Runs until `shutdown`: the history within `rules.history` (partitions made ahead even when it is
/// kept forever), and the bookkeeping that expires (idempotency keys, access tokens past their expiry or
/// revoked, abandoned listeners) always.
pub async fn run(store: Arc<dyn Store>, rules: RetentionRules, shutdown: CancellationToken) {
    let span = store.history_span();
    // Several rounds per span, so the spans ahead are there long before the clock reaches them.
    let idle = span.map_or(IDLE, |span| IDLE.min(span / 4));
    loop {
        if let Err(error) = store.prepare_history(Timestamp::now()).await {
            tracing::warn!(error = %error, "could not create the history's next partitions; will try again");
        }
        let bookkeeping_left = expire_bookkeeping(store.as_ref(), rules).await;
        let (pause, logs_left) = match rules.history.is_zero() {
            true => (idle, false),
            false => (
                expire(store.as_ref(), rules.history, idle).await,
                expire_request_logs(store.as_ref(), rules.history).await,
            ),
        };
        let pause = if bookkeeping_left || logs_left { BETWEEN_BATCHES } else { pause };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// One batch of expired bookkeeping; returns whether more may be left.
async fn expire_bookkeeping(store: &dyn Store, rules: RetentionRules) -> bool {
    let now = Timestamp::now();
    let cutoffs = Bookkeeping {
        keys_before: now.minus(rules.idempotency_keys),
        tokens_before: now,
        listeners_before: now.minus(LISTENER_IDLE_LIFETIME),
        secrets_before: now,
    };
    match store.expire_bookkeeping(cutoffs, BATCH).await {
        Ok(removed) => {
            if removed.total() > 0 {
                tracing::info!(
                    idempotency_keys = removed.idempotency_keys,
                    tokens = removed.tokens,
                    listeners = removed.listeners,
                    secrets = removed.secrets,
                    "retention removed expired bookkeeping"
                );
            }
            [removed.idempotency_keys, removed.tokens, removed.listeners, removed.secrets].contains(&u64::from(BATCH))
        }
        Err(error) => {
            tracing::warn!(error = %error, "retention could not remove expired bookkeeping; will try again");
            false
        }
    }
}

/// One batch of request logs older than the history is kept; returns whether more may be left.
async fn expire_request_logs(store: &dyn Store, retention: Duration) -> bool {
    let cutoff = Timestamp::now().minus(retention);
    match store.expire_request_logs(cutoff, BATCH).await {
        Ok(removed) => {
            if removed > 0 {
                tracing::info!(request_logs = removed, "retention removed old request logs");
            }
            removed == u64::from(BATCH)
        }
        Err(error) => {
            tracing::warn!(error = %error, "retention could not remove old request logs; will try again");
            false
        }
    }
}

/// One round of expiry; returns how long to wait before the next.
async fn expire(store: &dyn Store, retention: Duration, idle: Duration) -> Duration {
    let cutoff = Timestamp::from_millis(Timestamp::now().as_millis() - retention.as_millis() as i64);
    match store.expire_history(cutoff, BATCH).await {
        Ok(expired) => {
            if expired.events > 0 || expired.partitions > 0 {
                tracing::info!(
                    events = expired.events,
                    partitions = expired.partitions,
                    "retention removed old history"
                );
            }
            if expired.events == u64::from(BATCH) { BETWEEN_BATCHES } else { idle }
        }
        Err(error) => {
            tracing::warn!(error = %error, "retention could not remove old history; will try again");
            idle
        }
    }
}
