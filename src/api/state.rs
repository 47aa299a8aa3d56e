//! What every handler can reach: the store, the publisher, the keyring and the API's own limits.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::keyring::Keyring;
use crate::metrics::Metrics;
use crate::paypal_identity::PaypalIdentities;
use crate::publish::Publisher;
use crate::store::Store;

/// Shared by all handlers behind an `Arc`.
pub struct ApiContext {
    pub store: Arc<dyn Store>,
    pub keyring: Arc<Keyring>,
    /// The installation's PayPal signing key and certificate, made on first need.
    pub paypal: Arc<PaypalIdentities>,
    /// What `GET /metrics` shows.
    pub metrics: Arc<Metrics>,
    pub publisher: Arc<Publisher>,
    /// SHA-256 of the admin token: compared in constant time, and the token itself is not kept around.
    pub admin_token_digest: [u8; 32],
    /// Base of the `links[]` hrefs.
    pub public_url: String,
    pub limits: ApiLimits,
    /// Cancelled when Herald stops, so that endless responses (event streams) end and let it.
    pub shutdown: tokio_util::sync::CancellationToken,
}

/// Sizes and counts the API enforces.
#[derive(Clone, Copy, Debug)]
pub struct ApiLimits {
    pub webhooks_per_account: u32,
    pub max_body_bytes: usize,
    pub max_batch_bytes: usize,
    /// How long an OAuth access token lives.
    pub token_lifetime: std::time::Duration,
    /// Webhook URLs must be https://.
    pub https_only: bool,
}

pub type AppState = Arc<ApiContext>;

pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
