//! The merchant API's requests, as each environment's Logs page shows them.

use async_trait::async_trait;

use super::*;
use crate::domain::*;

/// One recorded request. Bodies are kept for writes only, already cut and with their secrets redacted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLog {
    /// The request's own id: its `Request-Id` header.
    pub id: RequestId,
    /// The environment the key opened.
    pub account_id: AccountId,
    pub api_key_id: ApiKeyId,
    pub mode: Mode,
    pub method: String,
    /// The path with its query string.
    pub path: String,
    pub status: u16,
    pub duration_ms: u32,
    pub idempotency_key: Option<String>,
    pub client_address: Option<String>,
    /// The event the request worked on (a resend, a test event), for the event's page.
    pub event_id: Option<EventId>,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    pub created_at: Timestamp,
}

impl RequestLog {
    /// 2xx and 3xx answers; the rest failed.
    pub fn succeeded(&self) -> bool {
        self.status < 400
    }
}

/// The latest of each key's uses, once per key.
pub fn latest_use(uses: impl IntoIterator<Item = (ApiKeyId, Timestamp)>) -> Vec<(ApiKeyId, Timestamp)> {
    let mut latest: std::collections::HashMap<ApiKeyId, Timestamp> = std::collections::HashMap::new();
    for (key, at) in uses {
        let kept = latest.entry(key).or_insert(at);
        *kept = (*kept).max(at);
    }
    latest.into_iter().collect()
}

/// When each key of `logs` was last used, once per key.
pub fn last_use(logs: &[RequestLog]) -> Vec<(ApiKeyId, Timestamp)> {
    latest_use(logs.iter().map(|log| (log.api_key_id.clone(), log.created_at)))
}

/// Which requests to list.
#[derive(Clone, Debug, Default)]
pub struct RequestLogFilter {
    /// `Some(true)`: answered below 400; `Some(false)`: 400 and above.
    pub succeeded: Option<bool>,
    pub method: Option<String>,
    /// Paths that begin with this.
    pub path_prefix: Option<String>,
    pub event_id: Option<EventId>,
}

/// The merchant API's requests.
#[async_trait]
pub trait RequestLogStore: Send + Sync {
    /// Keeps a batch of requests, and when each one's key was used.
    async fn record_requests(&self, logs: Vec<RequestLog>) -> StoreResult<()>;

    /// The environment's requests matching `filter`, newest first; `page.after` is the last id seen.
    async fn list_request_logs(
        &self,
        account: &AccountId,
        filter: RequestLogFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<RequestLog>>;

    async fn get_request_log(&self, account: &AccountId, id: &RequestId) -> StoreResult<Option<RequestLog>>;

    /// Removes requests made before `cutoff`, at most `limit` in one call; says how many went.
    async fn expire_request_logs(&self, cutoff: Timestamp, limit: u32) -> StoreResult<u64>;
}
