//! The delivery and attempt log, as the API and the dashboard read it.

use async_trait::async_trait;

use super::*;
use crate::domain::model::*;
use crate::domain::*;

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

/// Attempts that started in one hour, by outcome (the dashboard's charts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HourOfAttempts {
    /// The hour's start.
    pub hour: Timestamp,
    /// Answered 2xx.
    pub succeeded: u64,
    /// Any other answer, or none.
    pub failed: u64,
}

/// How long after its delivery was made an attempt may still start: the default retry schedule's three
/// days and more, so that a chart's window finds the deliveries whose attempts fall in it.
pub const ATTEMPTS_FOLLOW_WITHIN: std::time::Duration = std::time::Duration::from_secs(8 * 86_400);

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

/// The delivery and attempt log, as the API and the dashboard read it.
#[async_trait]
pub trait DeliveryLog: Send + Sync {
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

    /// Attempts started at or after `since`, counted per hour by outcome, oldest hour first (hours without
    /// attempts are left out): one webhook's, or with `None` every webhook's. Only deliveries made within
    /// [`ATTEMPTS_FOLLOW_WITHIN`] before `since` are looked at.
    async fn attempts_per_hour(
        &self,
        webhook: Option<&WebhookId>,
        since: Timestamp,
    ) -> StoreResult<Vec<HourOfAttempts>>;

    /// The queue and the troubled webhooks of every account; at most `limit` webhooks in each list.
    async fn overview(&self, now: Timestamp, limit: u32) -> StoreResult<Overview>;
}
