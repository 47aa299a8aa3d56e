//! The stored history's upkeep: events, their deliveries and attempts kept within the retention period,
//! and, where a backend partitions them by time, the partitions made ahead of the writes that need them.

use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::domain::Timestamp;

/// What one round of expiry removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    /// Events deleted row by row, with their deliveries and attempts.
    pub events: u64,
    /// Whole spans of time dropped at once (their events are not counted).
    pub partitions: u32,
}

/// The history's upkeep, run by the retention job on every node.
#[async_trait]
pub trait HistoryStore: Send + Sync {
    /// Gets ready for the events made from `now` until a few spans ahead: PostgreSQL creates the
    /// partitions they will go in. Returns how many spans it added; a backend without spans adds none.
    async fn prepare_history(&self, now: Timestamp) -> StoreResult<u32>;

    /// Removes events made before `cutoff` with their deliveries and attempts: whole spans that ended by
    /// `cutoff`, and otherwise rows, at most `limit` events in one call.
    async fn expire_history(&self, cutoff: Timestamp, limit: u32) -> StoreResult<Expired>;

    /// How much time one partition holds, where the history is partitioned; the retention job comes back
    /// well within it, so the next span always exists before it begins.
    fn history_span(&self) -> Option<Duration>;
}
