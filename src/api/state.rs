//! What every handler can reach: the operations ([`Services`]: the store, the publisher, the keyring),
//! and what only the API needs (its limits, the admin token's digest, the public URL).

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::metrics::Metrics;
use crate::service::Services;

/// Shared by all handlers behind an `Arc`. It dereferences to its [`Services`], so a handler reaches the
/// store as `state.store`.
pub struct ApiContext {
    pub services: Services,
    /// What `GET /metrics` shows.
    pub metrics: Arc<Metrics>,
    /// SHA-256 of the admin token: compared in constant time, and the token itself is not kept around.
    pub admin_token_digest: [u8; 32],
    /// Base of the `links[]` hrefs.
    pub public_url: String,
    pub limits: ApiLimits,
    /// New events are refused while the process is over this budget.
    pub memory: crate::memory_budget::MemoryBudget,
    /// This node's buckets of failed authentications.
    pub auth_throttle: crate::auth_throttle::AuthThrottle,
    /// Takes the record of every merchant API request.
    pub request_logs: crate::request_log::RequestRecorder,
    /// Places for listener streams open at once on this node.
    pub streams: Arc<tokio::sync::Semaphore>,
    /// Cancelled when Herald stops, so that endless responses (event streams) end and let it.
    pub shutdown: tokio_util::sync::CancellationToken,
}

impl std::ops::Deref for ApiContext {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

/// Sizes the API enforces on requests.
#[derive(Clone, Copy, Debug)]
pub struct ApiLimits {
    pub max_body_bytes: usize,
    pub max_batch_bytes: usize,
    /// How long an OAuth access token lives.
    pub token_lifetime: std::time::Duration,
    /// Time for a request body to arrive in full.
    pub body_timeout: std::time::Duration,
}

pub type AppState = Arc<ApiContext>;

pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
