//! The catalog of event types.

use async_trait::async_trait;

use super::*;
use crate::domain::model::*;
use crate::domain::*;

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

/// The catalog of event types.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// Creates or replaces a catalog entry; true when it was created.
    async fn put_event_type(&self, draft: EventTypeDraft) -> StoreResult<(EventType, bool)>;

    async fn list_event_types(&self) -> StoreResult<Vec<EventType>>;

    async fn get_event_type(&self, name: &EventTypeName) -> StoreResult<Option<EventType>>;
}
