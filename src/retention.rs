//! The retention job: keeps the stored history within the configured age and, where the store partitions
//! it by time, its partitions ready before the writes that need them.
//!
//! Row-by-row deletion works in small batches (one short transaction each) so that it never holds locks
//! long or competes with deliveries for the writer, and pauses between batches. Whole spans of time go at
//! once where the store has them. Every node may run it: on PostgreSQL the batches skip rows another node
//! is already deleting, and one node at a time changes the partitions.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::domain::Timestamp;
use crate::store::Store;

/// Events deleted per transaction.
const BATCH: u32 = 500;
/// Pause between batches while there is more to delete.
const BETWEEN_BATCHES: Duration = Duration::from_millis(200);
/// Pause once everything old is gone.
const IDLE: Duration = Duration::from_secs(60);

/// Runs until `shutdown`; a zero `retention` keeps everything (partitions are still made ahead).
pub async fn run(store: Arc<dyn Store>, retention: Duration, shutdown: CancellationToken) {
    let span = store.history_span();
    if retention.is_zero() && span.is_none() {
        return;
    }
    // Several rounds per span, so the spans ahead are there long before the clock reaches them.
    let idle = span.map_or(IDLE, |span| IDLE.min(span / 4));
    loop {
        if let Err(error) = store.prepare_history(Timestamp::now()).await {
            tracing::warn!(error = %error, "could not create the history's next partitions; will try again");
        }
        let pause = if retention.is_zero() { idle } else { expire(store.as_ref(), retention, idle).await };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
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
