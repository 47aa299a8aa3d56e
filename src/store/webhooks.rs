//! Webhooks and their signing secrets.

use async_trait::async_trait;

use super::*;
use crate::domain::delivery_policy::DeliveryPolicy;
use crate::domain::event_type::Subscription;
use crate::domain::model::*;
use crate::domain::*;

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
    /// When the first of those secrets stops signing (the end of a roll's grace period): a copy of the
    /// target kept in memory is stale from then on.
    pub secrets_change_at: Option<Timestamp>,
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

/// Webhooks and their signing secrets.
#[async_trait]
pub trait WebhookStore: Send + Sync {
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
}
