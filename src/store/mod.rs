//! The one storage contract, [`Store`], that every backend implements with the same behaviour.
//!
//! All SQL lives below this module. Callers speak in domain records and the small request types defined
//! here; they never see a connection or a row. Writes that must happen together (an event and all its
//! deliveries; an attempt and its delivery's new state) are single calls, so a backend can make each one
//! transaction. `store` depends on `domain` only.

pub mod columns;
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use bytes::Bytes;

use crate::domain::delivery_policy::DeliveryPolicy;
use crate::domain::event_type::Subscription;
use crate::domain::model::{
    Account, Attempt, Delivery, DeliveryFormat, DeliveryState, Event, EventType, Listener, Trigger, Webhook,
};
use crate::domain::{AccountId, DeliveryId, EventId, EventTypeName, ListenerId, Timestamp, WebhookId, WebhookUrl};

/// Why a store call failed. Business conflicts are distinct variants so the API can answer precisely.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the account already has the maximum of {limit} webhooks")]
    WebhookLimitReached { limit: u32 },
    #[error("the account already has a webhook for this URL")]
    WebhookUrlTaken,
    #[error("the idempotency key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("the store is shutting down")]
    Closed,
    #[error("the database cannot be reached")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the stored data is not what this version of Herald expects: {0}")]
    Corrupt(String),
    #[error("the database failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A page of a list ordered by id (that is, by creation time).
#[derive(Clone, Debug)]
pub struct PageRequest {
    /// Return items with ids after this one (the previous page's last id).
    pub after: Option<String>,
    pub limit: u32,
}

/// A new merchant account. The client secret itself is never stored, only its keyed hash.
pub struct NewAccount {
    pub account: Account,
    pub secret_hash: [u8; 32],
}

/// What authenticating a merchant needs.
pub struct AccountCredentials {
    pub account_id: AccountId,
    pub secret_hash: [u8; 32],
}

/// A catalog entry as the operator writes it.
pub struct EventTypeDraft {
    pub name: EventTypeName,
    pub description: String,
    pub resource_type: Option<String>,
    pub resource_version: Option<String>,
    pub sample: Option<String>,
    pub schema: Option<String>,
    pub now: Timestamp,
}

/// A webhook to create, with its first signing secret already encrypted.
pub struct NewWebhook {
    pub webhook: Webhook,
    pub sealed_secret: Vec<u8>,
    /// The most webhooks one account may have.
    pub limit: u32,
}

/// An enabled webhook with everything needed to deliver to it. Secrets are still sealed, newest first.
#[derive(Clone, Debug)]
pub struct StoredTarget {
    pub webhook_id: WebhookId,
    pub account_id: AccountId,
    pub url: WebhookUrl,
    pub format: DeliveryFormat,
    pub signing: crate::domain::model::SigningAlgorithm,
    pub api_version: Option<String>,
    pub policy: DeliveryPolicy,
    pub subscriptions: Vec<Subscription>,
    pub sealed_secrets: Vec<Vec<u8>>,
}

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

/// A new OAuth access token; only its keyed hash is stored.
pub struct NewToken {
    pub token_hash: [u8; 32],
    pub account_id: AccountId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The fields a webhook update may change; `None` leaves a field as it is.
#[derive(Default)]
pub struct WebhookChanges {
    pub url: Option<WebhookUrl>,
    pub event_types: Option<Vec<Subscription>>,
    pub status: Option<crate::domain::model::WebhookStatus>,
    pub description: Option<Option<String>>,
    pub format: Option<DeliveryFormat>,
    pub signing: Option<crate::domain::model::SigningAlgorithm>,
    pub api_version: Option<Option<String>>,
    pub policy: Option<DeliveryPolicy>,
    /// A sealed key that replaces every live secret at once, in the same write (a new signing algorithm
    /// cannot use keys of the old one).
    pub replace_secret: Option<Vec<u8>>,
}

/// One signing secret of a webhook, still sealed.
pub struct StoredSecret {
    pub sealed: Vec<u8>,
    pub created_at: Timestamp,
    /// `None` for the current secret; set on previous secrets that still sign during a roll.
    pub expires_at: Option<Timestamp>,
}

/// Which events to list.
#[derive(Default)]
pub struct EventFilter {
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub event_type: Option<EventTypeName>,
    pub resource_id: Option<String>,
}

/// How a webhook's deliveries made since some time are doing (the dashboard's failure rate).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// Every delivery made in the window, whatever its state.
    pub total: u64,
    /// Retries exhausted (or aborted by the receiver).
    pub failed: u64,
    /// Still pending after at least one failed attempt.
    pub retrying: u64,
}

/// The installation at a glance, for the operator: the queue, and the webhooks in trouble.
#[derive(Clone, Debug, Default)]
pub struct Overview {
    /// Deliveries waiting for an attempt (due now or later).
    pub pending: u64,
    /// Of those, the ones whose time has come and that no worker holds.
    pub due: u64,
    pub disabled_count: u64,
    /// Enabled webhooks whose every attempt fails, longest failing first, with when the streak began.
    pub failing: Vec<(Webhook, Timestamp)>,
    /// Disabled webhooks, most recently changed first.
    pub disabled: Vec<Webhook>,
}

/// A listener with its secret, still sealed.
#[derive(Clone, Debug)]
pub struct StoredListener {
    pub listener: Listener,
    pub sealed_secret: Vec<u8>,
}

/// The storage contract. Every method is one atomic unit on every backend.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Is the database reachable?
    async fn ping(&self) -> StoreResult<()>;

    async fn create_account(&self, account: NewAccount) -> StoreResult<()>;
    async fn list_accounts(&self, page: PageRequest) -> StoreResult<Vec<Account>>;
    async fn get_account(&self, id: &AccountId) -> StoreResult<Option<Account>>;
    async fn find_credentials(&self, client_id: &str) -> StoreResult<Option<AccountCredentials>>;
    /// Replaces the client secret's hash and revokes every access token of the account.
    async fn roll_client_secret(&self, id: &AccountId, secret_hash: [u8; 32], now: Timestamp) -> StoreResult<bool>;
    async fn create_token(&self, token: NewToken) -> StoreResult<()>;
    /// The account of a token that is neither expired nor revoked at `now`.
    async fn find_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<AccountId>>;
    async fn revoke_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<bool>;

    /// Creates or replaces a catalog entry; true when it was created.
    async fn put_event_type(&self, draft: EventTypeDraft) -> StoreResult<(EventType, bool)>;
    async fn list_event_types(&self) -> StoreResult<Vec<EventType>>;
    async fn get_event_type(&self, name: &EventTypeName) -> StoreResult<Option<EventType>>;

    /// Creates a webhook unless the account is at its limit or already has one for the URL.
    async fn create_webhook(&self, new: NewWebhook) -> StoreResult<()>;
    async fn list_webhooks(&self, account: &AccountId) -> StoreResult<Vec<Webhook>>;
    async fn get_webhook(&self, account: &AccountId, id: &WebhookId) -> StoreResult<Option<Webhook>>;
    /// Deletes a webhook and cancels its pending deliveries; false when there was no such webhook.
    async fn delete_webhook(&self, account: &AccountId, id: &WebhookId, now: Timestamp) -> StoreResult<bool>;
    /// Applies `changes`; enabling clears the disabled reason. `None` when there is no such webhook.
    async fn update_webhook(
        &self,
        account: &AccountId,
        id: &WebhookId,
        changes: WebhookChanges,
        now: Timestamp,
    ) -> StoreResult<Option<Webhook>>;
    /// The webhook's live secrets at `now`, newest first.
    async fn webhook_secrets(&self, id: &WebhookId, now: Timestamp) -> StoreResult<Vec<StoredSecret>>;
    /// Adds a new current secret; the previous live ones keep signing until `previous_expire_at`.
    async fn roll_webhook_secret(
        &self,
        id: &WebhookId,
        sealed: Vec<u8>,
        now: Timestamp,
        previous_expire_at: Timestamp,
    ) -> StoreResult<()>;
    /// The account's enabled webhooks, ready for fan-out and delivery.
    async fn delivery_targets(&self, account: &AccountId, now: Timestamp) -> StoreResult<Vec<StoredTarget>>;

    /// Writes events and their deliveries (and the idempotency key) in one transaction.
    async fn publish(&self, batch: PublishBatch) -> StoreResult<PublishOutcome>;
    async fn get_event(&self, account: &AccountId, id: &EventId) -> StoreResult<Option<Event>>;
    /// The account's real (not simulated) events matching `filter`, newest first.
    async fn list_events(&self, account: &AccountId, filter: EventFilter, page: PageRequest)
    -> StoreResult<Vec<Event>>;
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

    async fn list_deliveries(
        &self,
        webhook: &WebhookId,
        state: Option<DeliveryState>,
        page: PageRequest,
    ) -> StoreResult<Vec<Delivery>>;
    async fn get_delivery(&self, webhook: &WebhookId, id: &DeliveryId) -> StoreResult<Option<Delivery>>;
    async fn list_attempts(&self, delivery: &DeliveryId) -> StoreResult<Vec<Attempt>>;
    /// Counts of the webhook's deliveries made at or after `since`, by outcome.
    async fn delivery_stats(&self, webhook: &WebhookId, since: Timestamp) -> StoreResult<DeliveryStats>;
    /// Every delivery of the account's event, to whichever webhook, oldest first.
    async fn event_deliveries(&self, account: &AccountId, event: &EventId) -> StoreResult<Vec<Delivery>>;
    /// The queue and the troubled webhooks of every account; at most `limit` webhooks in each list.
    async fn overview(&self, now: Timestamp, limit: u32) -> StoreResult<Overview>;
    /// Stores a new listener, and deletes every listener last seen before `idle_before`.
    async fn create_listener(&self, new: StoredListener, idle_before: Timestamp) -> StoreResult<()>;
    async fn get_listener(&self, account: &AccountId, id: &ListenerId) -> StoreResult<Option<StoredListener>>;
    /// Notes that the listener's stream is still being read (so it is not deleted as idle).
    async fn touch_listener(&self, id: &ListenerId, now: Timestamp) -> StoreResult<()>;
    async fn delete_listener(&self, account: &AccountId, id: &ListenerId) -> StoreResult<bool>;
    /// The account's events (simulated ones too) with ids after `after`, oldest first.
    async fn events_after(&self, account: &AccountId, after: &EventId, limit: u32) -> StoreResult<Vec<Event>>;
    /// An installation-wide fact (the master key's fingerprint, the PayPal signing identity), if recorded.
    async fn get_meta(&self, key: &'static str) -> StoreResult<Option<Vec<u8>>>;
    /// Records `value` under `key` unless something is there already; returns what is stored afterwards, so
    /// that nodes racing to record a fact all end up using the first one written.
    async fn insert_meta_if_absent(&self, key: &'static str, value: Vec<u8>) -> StoreResult<Vec<u8>>;
    /// Deletes events (with their deliveries and attempts) created before `cutoff`, at most `limit` events
    /// in one call; returns how many events went.
    async fn delete_events_before(&self, cutoff: Timestamp, limit: u32) -> StoreResult<u64>;
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
