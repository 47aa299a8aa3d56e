//! Stored events, read by the API and the listener streams.

use async_trait::async_trait;

use super::*;
use crate::domain::model::*;
use crate::domain::*;

/// Which events to list.
#[derive(Default)]
pub struct EventFilter {
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub event_type: Option<EventTypeName>,
    pub resource_id: Option<String>,
}

/// Stored events, read by the API and the listener streams.
#[async_trait]
pub trait EventStore: Send + Sync {
    async fn get_event(&self, account: &AccountId, id: &EventId) -> StoreResult<Option<Event>>;

    /// The account's real (not simulated) events matching `filter`, newest first.
    async fn list_events(&self, account: &AccountId, filter: EventFilter, page: PageRequest)
    -> StoreResult<Vec<Event>>;

    /// The account's events (simulated ones too) with ids after `after`, oldest first.
    async fn events_after(&self, account: &AccountId, after: &EventId, limit: u32) -> StoreResult<Vec<Event>>;
}
