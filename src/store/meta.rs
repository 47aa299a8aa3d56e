//! The installation itself: liveness, facts written once and shared by every node, and the feed of
//! changes that in-memory copies follow.

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

    /// Changes to the catalog and to delivery targets, this node's and (on PostgreSQL) every other node's,
    /// announced as they commit.
    fn changes(&self) -> tokio::sync::broadcast::Receiver<Change>;
}
