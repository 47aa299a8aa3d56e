//! The delivery queue: what publishing writes, what workers claim and record.

use async_trait::async_trait;
use bytes::Bytes;

use super::*;
use crate::domain::model::*;
use crate::domain::*;

/// A claim on a delivery: whoever holds `token` may record its result until `until`.
/// A newer claim changes the token, so a late writer with the old one cannot overwrite it (fencing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub token: i64,
    pub until: Timestamp,
}

/// A delivery to create with its event.
pub struct NewDelivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub webhook_id: WebhookId,
    pub account_id: AccountId,
    pub trigger: Trigger,
    pub next_attempt_at: Timestamp,
    /// Set when the publisher hands the delivery straight to a worker, so no poller claims it meanwhile.
    pub lease: Option<Lease>,
    /// One attempt only, no retries (simulated events).
    pub single_attempt: bool,
}

/// An idempotency key with the request it guards and the answer to replay.
pub struct IdempotencyRecord {
    pub key: String,
    pub request_hash: [u8; 32],
    pub response: Bytes,
    /// A key recorded before this has expired: it is taken as new (and its old answer forgotten).
    pub forget_before: Timestamp,
}

/// Everything one publish call writes, in one transaction.
pub struct PublishBatch {
    pub idempotency: Option<IdempotencyRecord>,
    pub events: Vec<Event>,
    pub deliveries: Vec<NewDelivery>,
}

/// Whether a publish wrote anything.
#[derive(Debug)]
pub enum PublishOutcome {
    Committed,
    /// The idempotency key was seen before with the same request: nothing was written.
    Replayed {
        response: Bytes,
    },
}

/// Which due deliveries to claim.
pub struct ClaimRequest {
    pub now: Timestamp,
    pub lease: Lease,
    pub limit: u32,
}

/// A claimed delivery with the bytes to send and the target to send them to.
pub struct ClaimedDelivery {
    pub delivery_id: DeliveryId,
    pub event_id: EventId,
    pub trigger: Trigger,
    pub single_attempt: bool,
    pub attempt_count: u32,
    pub body: Bytes,
    /// The publisher's trace, which the attempt continues.
    pub trace: Option<crate::domain::trace::TraceContext>,
    pub target: StoredTarget,
    /// A paced delivery's send slot, when it is later than the claim.
    pub not_before: Option<Timestamp>,
}

/// The new state of a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryTransition {
    Succeeded,
    RetryAt(Timestamp),
    Exhausted,
}

/// One attempt to append to the log, and what it does to its delivery (and perhaps its webhook).
pub struct AttemptRecord {
    pub attempt: Attempt,
    /// The event the delivery is of: where the history is partitioned by event, it names the partition.
    pub event_id: EventId,
    pub status_code: Option<u16>,
    pub lease_token: i64,
    pub transition: DeliveryTransition,
    /// Disable the delivery's webhook with this reason (it answered 410 Gone).
    pub disable_webhook: Option<String>,
    /// When a failing streak is long enough to disable the webhook; `None` never disables for it.
    pub failing_limit: Option<FailingLimit>,
}

/// Whether an attempt's result still applied to its delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum RecordOutcome {
    /// The delivery moved on; the webhook's health may have changed with it.
    Applied(HealthChange),
    /// The lease had been taken over (or the delivery cancelled): the attempt is logged, the state untouched.
    Stale,
}

/// What an attempt did to its webhook's health: the start of a failing streak, its end, or the webhook
/// disabled (410 Gone, or failing for too long).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HealthChange {
    Unchanged,
    StartedFailing,
    Recovered,
    Disabled(String),
}

/// Disable a webhook that has failed every attempt since before `since_before`, saying `reason`.
#[derive(Clone, Debug)]
pub struct FailingLimit {
    pub since_before: Timestamp,
    pub reason: String,
}

/// The delivery queue: what publishing writes, what workers claim and record.
#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    /// Writes events and their deliveries (and the idempotency key) in one transaction.
    async fn publish(&self, batch: PublishBatch) -> StoreResult<PublishOutcome>;

    /// Adds deliveries of events already stored (resend, simulate).
    async fn add_deliveries(&self, deliveries: Vec<NewDelivery>) -> StoreResult<()>;

    /// Leases up to `limit` due deliveries of enabled webhooks, oldest due first.
    async fn claim_due_deliveries(&self, claim: ClaimRequest) -> StoreResult<Vec<ClaimedDelivery>>;

    /// When the poller should next look: the earliest time a pending delivery becomes claimable. A paced
    /// webhook's deliveries count only while their due time is still ahead (a retry); those due now but
    /// held back by their rules are released by the wake-up that ends an attempt of the same webhook.
    async fn next_due_at(&self, now: Timestamp) -> StoreResult<Option<Timestamp>>;

    /// Appends an attempt and, if the lease still holds, moves its delivery on.
    async fn record_attempt(&self, record: AttemptRecord) -> StoreResult<RecordOutcome>;

    /// Which of these webhooks are enabled and not deleted now. Asked just before requests go out, so
    /// that a webhook disabled on any node gets nothing more once that change has committed.
    async fn enabled_webhooks(&self, ids: &[WebhookId]) -> StoreResult<std::collections::HashSet<WebhookId>>;

    /// Signalled when another process stored deliveries that are due now (PostgreSQL's LISTEN/NOTIFY); a
    /// single-process backend has none.
    fn work_signal(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        None
    }

    /// Makes the webhook's failed deliveries created in `[since, until]` due again at `now`; returns how many.
    async fn requeue_failed(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64>;
}
