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

    /// Where a stream of the account's events resumes after `after`: just behind that event where it was
    /// committed, or, when there is no such event of the account (the start of a stream, or an event
    /// already expired), just behind the first committed event with a later id, or else at what is
    /// committed next.
    async fn stream_position(&self, account: &AccountId, after: &EventId) -> StoreResult<CommitPosition>;

    /// The account's events (simulated ones too) committed after `position`, in the order they were
    /// committed, each with its own position. An event not returned yet is never committed behind one
    /// returned: a reader that goes on from the last position sees every event once.
    async fn events_committed_after(
        &self,
        account: &AccountId,
        position: &CommitPosition,
        limit: u32,
    ) -> StoreResult<Vec<(CommitPosition, Event)>>;

    /// Wakes when events may have been committed, by this node or (on PostgreSQL) any other.
    fn commits(&self) -> CommitWatch;
}

/// A place in the order in which events were committed: SQLite's row ids (its one writer commits in
/// their order, and the newest row is never deleted, so they are never reused); on PostgreSQL the id of
/// the transaction that wrote the event, read only once every older transaction has ended, then the event
/// id within a transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct CommitPosition {
    pub order: i64,
    pub id: String,
}
