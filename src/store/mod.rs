//! The storage contract that every backend implements with the same behaviour, split by role: one trait
//! per kind of record ([`AccountStore`], [`CatalogStore`], [`WebhookStore`], [`EventStore`],
//! [`DeliveryQueue`], [`DeliveryLog`], [`HistoryStore`], [`ListenerStore`], [`RequestLogStore`], [`InstallationStore`]), each in its own file with
//! its request types, and [`Store`], the union that callers hold as `Arc<dyn Store>`.
//!
//! All SQL lives below this module. Callers speak in domain records and the small request types defined
//! here; they never see a connection or a row. Writes that must happen together (an event and all its
//! deliveries; an attempt and its delivery's new state) are single calls, so a backend can make each one
//! transaction. Decisions that are not SQL (the paced admission, a webhook's health after an attempt, the
//! webhook limit and URL rule) are pure functions both backends call ([`rules`], `pacing`). `store` uses
//! `domain`, `pacing` and (for the words of a failed group on PostgreSQL) `error_chain`.

mod accounts;
mod catalog;
mod changes;
pub mod columns;
mod commits;
mod deliveries;
mod events;
mod history;
mod listeners;
mod meta;
pub mod postgres;
mod queue;
mod request_logs;
pub mod rules;
pub mod sqlite;
mod webhooks;

pub use accounts::*;
pub use catalog::*;
pub use changes::{Change, ChangeFeed};
pub use commits::{CommitFeed, CommitWatch, Committed};
pub use deliveries::*;
pub use events::*;
pub use history::*;
pub use listeners::*;
pub use meta::*;
pub use queue::*;
pub use request_logs::*;
pub use webhooks::*;

/// Every role at once: what a backend is, and what callers hold. A backend implements the role traits and
/// gets this one for free.
pub trait Store:
    AccountStore
    + CatalogStore
    + WebhookStore
    + EventStore
    + DeliveryQueue
    + DeliveryLog
    + HistoryStore
    + ListenerStore
    + RequestLogStore
    + InstallationStore
    + 'static
{
}

impl<T> Store for T where
    T: AccountStore
        + CatalogStore
        + WebhookStore
        + EventStore
        + DeliveryQueue
        + DeliveryLog
        + HistoryStore
        + ListenerStore
        + RequestLogStore
        + InstallationStore
        + 'static
{
}

/// Why a store call failed. Business conflicts are distinct variants so the API can answer precisely.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the account already has the maximum of {limit} webhooks")]
    WebhookLimitReached { limit: u32 },
    #[error("the account already has a webhook for this URL")]
    WebhookUrlTaken,
    #[error("the idempotency key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("the store is shutting down")]
    Closed,
    #[error("the database cannot be reached")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database, or the machine it writes to, has run out of something; it serves again once that is
    /// back. Answered like an unreachable database, and `/readyz` names the resource.
    #[error("{resource}: {detail}")]
    Exhausted { resource: Resource, detail: String },
    #[error("the stored data is not what this version of Herald expects: {0}")]
    Corrupt(String),
    #[error("the database failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What a database can run out of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// The disk it writes to, or the room kept free on it for work already accepted.
    Disk,
    Memory,
    /// Sessions (PostgreSQL's `max_connections`) or file descriptors.
    Connections,
}

impl Resource {
    /// The code `/readyz` and error details name it by.
    pub fn code(self) -> &'static str {
        match self {
            Self::Disk => "DISK_FULL",
            Self::Memory => "OUT_OF_MEMORY",
            Self::Connections => "TOO_MANY_CONNECTIONS",
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Disk => "the database's disk is full",
            Self::Memory => "the database is out of memory",
            Self::Connections => "the database has no connection to spare",
        })
    }
}

impl StoreError {
    /// The same error in words, of the same kind, for each caller of a group that failed together
    /// (errors are not `Clone`).
    pub fn duplicate(&self) -> StoreError {
        let text = crate::error_chain::error_chain(self);
        match self {
            Self::Unavailable(_) => Self::Unavailable(text.into()),
            Self::Closed => Self::Closed,
            Self::Exhausted { resource, detail } => Self::Exhausted { resource: *resource, detail: detail.clone() },
            _ => Self::Backend(text.into()),
        }
    }

    /// Whether the store cannot serve now but may again later (answered 503, never 500).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Closed | Self::Unavailable(_) | Self::Exhausted { .. })
    }
}

/// A page of a list ordered by id (that is, by creation time).
#[derive(Clone, Debug)]
pub struct PageRequest {
    /// Return items with ids after this one (the previous page's last id).
    pub after: Option<String>,
    pub limit: u32,
}
