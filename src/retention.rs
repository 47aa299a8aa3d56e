//! The retention job: deletes events older than the configured age, with their deliveries and attempts.
//!
//! It works in small batches (one short transaction each) so that it never holds locks long or competes
//! with deliveries for the writer, and pauses between batches. Every node may run it: on PostgreSQL the
//! batches skip rows another node is already deleting.

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

/// Runs until `shutdown`; a zero `retention` keeps everything and returns at once.
pub async fn run(store: Arc<dyn Store>, retention: Duration, shutdown: CancellationToken) {
    if retention.is_zero() {
        return;
    }
    loop {
        let cutoff = Timestamp::from_millis(Timestamp::now().as_millis() - retention.as_millis() as i64);
        let pause = match store.delete_events_before(cutoff, BATCH).await {
            Ok(deleted) if deleted == u64::from(BATCH) => BETWEEN_BATCHES,
            Ok(deleted) => {
                if deleted > 0 {
                    tracing::info!(events = deleted, "retention deleted old events");
                }
                IDLE
            }
            Err(error) => {
                tracing::warn!(error = %error, "retention could not delete old events; will try again");
                IDLE
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
    }
}
