//! Listeners, the temporary delivery channels of `herald listen`.

use async_trait::async_trait;

use super::*;
use crate::domain::model::*;
use crate::domain::*;

/// A listener not streamed for this long is abandoned: removed when the next one is made and by the
/// retention job.
pub const LISTENER_IDLE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

/// A listener with its secret, still sealed.
#[derive(Clone, Debug)]
pub struct StoredListener {
    pub listener: Listener,
    pub sealed_secret: Vec<u8>,
}

/// Listeners, the temporary delivery channels of `herald listen`.
#[async_trait]
pub trait ListenerStore: Send + Sync {
    /// Stores a new listener, and deletes every listener last seen before `idle_before`.
    async fn create_listener(&self, new: StoredListener, idle_before: Timestamp) -> StoreResult<()>;

    async fn get_listener(&self, account: &AccountId, id: &ListenerId) -> StoreResult<Option<StoredListener>>;

    /// Notes that the listener's stream is still being read (so it is not deleted as idle).
    async fn touch_listener(&self, id: &ListenerId, now: Timestamp) -> StoreResult<()>;

    async fn delete_listener(&self, account: &AccountId, id: &ListenerId) -> StoreResult<bool>;
}
