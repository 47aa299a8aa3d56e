//! What both backends store the same way: the column lists each row mapper expects, and the JSON text
//! encodings of the lists kept in single columns (subscriptions, headers).

use crate::domain::delivery_policy::DeliveryPolicy;
use crate::domain::event_type::Subscription;
use crate::domain::model::{DeliveryFormat, SigningAlgorithm};
use crate::domain::{AccountId, Timestamp, WebhookId, WebhookUrl};
use crate::store::{StoreError, StoreResult, StoredTarget};

/// An account with the client id of its first live key (the one the operator's roll renews).
pub const ACCOUNT_COLUMNS: &str = "id, name, \
     COALESCE((SELECT k.client_id FROM api_keys k WHERE k.account_id = accounts.id AND k.mode = 'live' \
     AND k.revoked_at IS NULL ORDER BY k.id LIMIT 1), '') AS client_id, created_at";
/// A key; `api_keys` is `k` wherever these are read.
pub const API_KEY_COLUMNS: &str = "k.id, k.owner_id, k.account_id, k.name, k.mode, k.scope, k.client_id, \
     k.created_at, k.last_used_at, k.previous_expires_at";
pub const REQUEST_LOG_COLUMNS: &str = "id, account_id, api_key_id, mode, method, path, status, duration_ms, \
     idempotency_key, client_address, event_id, request_body, response_body, created_at";
pub const EVENT_TYPE_COLUMNS: &str =
    "name, description, resource_type, resource_version, sample, status, created_at, updated_at, schema";
pub const EVENT_COLUMNS: &str =
    "id, account_id, event_type, created_at, body, resource_id, simulated, traceparent, tracestate";
pub const WEBHOOK_COLUMNS: &str = "id, account_id, url, event_types, status, format, description, disabled_reason, created_at, updated_at, \
     signing, api_version, policy";
pub const LISTENER_COLUMNS: &str = "id, account_id, format, event_types, created_at, sealed_secret";
/// How many columns `WEBHOOK_COLUMNS` names: a query that selects more reads them from this index on.
pub const WEBHOOK_COLUMN_COUNT: usize = 13;
pub const DELIVERY_COLUMNS: &str = "d.id, d.event_id, d.webhook_id, e.event_type, d.state, d.trigger, \
     d.attempt_count, d.last_status_code, d.created_at, d.next_attempt_at";
pub const ATTEMPT_COLUMNS: &str = "id, delivery_id, number, started_at, duration_ms, trigger, request_url, \
     request_headers, response_status, response_headers, response_body, response_truncated, error_code, error_message, \
     node";

pub fn subscriptions_to_json(subscriptions: &[Subscription]) -> String {
    let names: Vec<&str> = subscriptions.iter().map(Subscription::as_str).collect();
    serde_json::to_string(&names).expect("strings serialise")
}

pub fn subscriptions_from_json(text: &str) -> Option<Vec<Subscription>> {
    let names: Vec<String> = serde_json::from_str(text).ok()?;
    names.iter().map(|name| Subscription::parse(name).ok()).collect()
}

pub fn headers_to_json(headers: &[(String, String)]) -> String {
    serde_json::to_string(headers).expect("strings serialise")
}

pub fn headers_from_json(text: &str) -> Option<Vec<(String, String)>> {
    serde_json::from_str(text).ok()
}

pub fn policy_to_json(policy: &DeliveryPolicy) -> String {
    serde_json::to_string(policy).expect("a policy serialises")
}

pub fn policy_from_json(text: &str) -> Option<DeliveryPolicy> {
    serde_json::from_str(text).ok()
}

/// The webhook columns a delivery needs, on a `webhooks` table aliased `w`.
pub const TARGET_COLUMNS: &str =
    "w.id, w.url, w.format, w.event_types, w.signing, w.api_version, w.policy, w.account_id";

/// The text of [`TARGET_COLUMNS`] as read from either backend.
pub struct TargetRow {
    pub id: String,
    pub url: String,
    pub format: String,
    pub event_types: String,
    pub signing: String,
    pub api_version: Option<String>,
    pub policy: String,
    pub account_id: String,
}

impl TargetRow {
    /// Parses the row into a target carrying the given (still sealed) secrets.
    /// `secrets` are the live ones, newest first, each with when it stops signing.
    pub fn into_target(self, secrets: Vec<(Vec<u8>, Option<Timestamp>)>) -> StoreResult<StoredTarget> {
        let secrets_change_at = secrets.iter().filter_map(|(_, expires_at)| *expires_at).min();
        let sealed_secrets = secrets.into_iter().map(|(sealed, _)| sealed).collect();
        let corrupt = |what: &str| StoreError::Corrupt(format!("webhook {}: {what}", self.id));
        Ok(StoredTarget {
            format: DeliveryFormat::parse(&self.format).ok_or_else(|| corrupt("format"))?,
            signing: SigningAlgorithm::parse(&self.signing).ok_or_else(|| corrupt("signing"))?,
            subscriptions: subscriptions_from_json(&self.event_types).ok_or_else(|| corrupt("event types"))?,
            sealed_secrets,
            secrets_change_at,
            policy: policy_from_json(&self.policy).ok_or_else(|| corrupt("policy"))?,
            api_version: self.api_version,
            url: WebhookUrl::from_trusted(self.url),
            webhook_id: WebhookId::from_trusted(self.id),
            account_id: AccountId::from_trusted(self.account_id),
        })
    }
}
