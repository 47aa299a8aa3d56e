//! The installation itself: liveness, and facts written once and shared by every node.

use async_trait::async_trait;

use super::*;

/// The installation itself: liveness, and facts written once and shared by every node.
#[async_trait]
pub trait InstallationStore: Send + Sync {
    /// Is the database reachable?
    async fn ping(&self) -> StoreResult<()>;

    /// An installation-wide fact (the master key's fingerprint, the PayPal signing identity), if recorded.
    async fn get_meta(&self, key: &'static str) -> StoreResult<Option<Vec<u8>>>;

    /// Records `value` under `key` unless something is there already; returns what is stored afterwards, so
    /// that nodes racing to record a fact all end up using the first one written.
    async fn insert_meta_if_absent(&self, key: &'static str, value: Vec<u8>) -> StoreResult<Vec<u8>>;
}
