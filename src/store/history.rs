//! The stored history's upkeep: events, their deliveries and attempts kept within the retention period,
//! and, where a backend partitions them by time, the partitions made ahead of the writes that need them;
//! and the bookkeeping that expires (idempotency keys, access tokens, abandoned listeners).

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

/// The bookkeeping that expires: what is older than each cutoff goes.
#[derive(Clone, Copy, Debug)]
pub struct Bookkeeping {
    /// Idempotency keys recorded before this (they no longer replay).
    pub keys_before: Timestamp,
    /// OAuth access tokens that expired before this; revoked ones go whatever their age.
    pub tokens_before: Timestamp,
    /// Listeners last streamed before this.
    pub listeners_before: Timestamp,
    /// Webhook signing secrets that stopped signing before this (after a roll).
    pub secrets_before: Timestamp,
}

/// What one round of bookkeeping removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    pub idempotency_keys: u64,
    pub tokens: u64,
    pub listeners: u64,
    pub secrets: u64,
}

impl Removed {
    pub fn total(&self) -> u64 {
        self.idempotency_keys + self.tokens + self.listeners + self.secrets
    }
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

    /// Removes expired bookkeeping — idempotency keys, expired and revoked access tokens, abandoned
    /// listeners, rolled-over signing secrets — at most `limit` rows of each kind in one call.
    async fn expire_bookkeeping(&self, cutoffs: Bookkeeping, limit: u32) -> StoreResult<Removed>;

    /// How much time one partition holds, where the history is partitioned; the retention job comes back
    /// well within it, so the next span always exists before it begins.
    fn history_span(&self) -> Option<Duration>;
}
