//! SQLite: stored events: reads and the listener stream's cursor reads.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, backend, rows};
use crate::domain::model::*;
use crate::domain::*;
use crate::store::*;

#[async_trait]
impl EventStore for SqliteStore {
    async fn get_event(&self, account: &AccountId, id: &EventId) -> StoreResult<Option<Event>> {
        self.read(|conn| get_event(conn, account, id))
    }

    async fn list_events(
        &self,
        account: &AccountId,
        filter: EventFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<Event>> {
        self.read(|conn| list_events(conn, account, &filter, &page))
    }

    async fn stream_position(&self, account: &AccountId, after: &EventId) -> StoreResult<CommitPosition> {
        self.read(|conn| stream_position(conn, account, after))
    }

    async fn events_committed_after(
        &self,
        account: &AccountId,
        position: &CommitPosition,
        limit: u32,
    ) -> StoreResult<Vec<(CommitPosition, Event)>> {
        self.read(|conn| events_committed_after(conn, account, position, limit))
    }

    fn commits(&self) -> CommitWatch {
        self.commits.watch()
    }
}

pub fn get_event(conn: &Connection, account: &AccountId, id: &EventId) -> StoreResult<Option<Event>> {
    let sql = format!("SELECT {} FROM events WHERE id = ?1 AND account_id = ?2", rows::EVENT_COLUMNS);
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([id.as_str(), account.as_str()], rows::event).optional())
        .map_err(backend)
}

pub fn list_events(
    conn: &Connection,
    account: &AccountId,
    filter: &EventFilter,
    page: &PageRequest,
) -> StoreResult<Vec<Event>> {
    let sql = format!(
        "SELECT {} FROM events WHERE account_id = ?1 AND simulated = 0 \
         AND (?2 IS NULL OR created_at >= ?2) AND (?3 IS NULL OR created_at <= ?3) \
         AND (?4 IS NULL OR event_type = ?4) AND (?5 IS NULL OR resource_id = ?5) AND (?6 IS NULL OR id < ?6) \
         ORDER BY id DESC LIMIT ?7",
        rows::EVENT_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let params = params![
        account.as_str(),
        filter.start_time.map(Timestamp::as_millis),
        filter.end_time.map(Timestamp::as_millis),
        filter.event_type.as_ref().map(EventTypeName::as_str),
        filter.resource_id,
        page.after,
        page.limit
    ];
    let found = stmt.query_map(params, rows::event).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

/// One statement, so one snapshot: the event's own row id, else the row before the first later event,
/// else the newest row of all.
pub fn stream_position(conn: &Connection, account: &AccountId, after: &EventId) -> StoreResult<CommitPosition> {
    let sql = "SELECT COALESCE( \
                 (SELECT rowid FROM events WHERE id = ?2 AND account_id = ?1), \
                 (SELECT MIN(rowid) - 1 FROM events WHERE account_id = ?1 AND id > ?2), \
                 (SELECT MAX(rowid) FROM events), 0)";
    let order = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row(params![account.as_str(), after.as_str()], |row| row.get(0)))
        .map_err(backend)?;
    Ok(CommitPosition { order, id: String::new() })
}

pub fn events_committed_after(
    conn: &Connection,
    account: &AccountId,
    position: &CommitPosition,
    limit: u32,
) -> StoreResult<Vec<(CommitPosition, Event)>> {
    let sql = format!(
        "SELECT {}, rowid FROM events WHERE account_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3",
        rows::EVENT_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let found = stmt
        .query_map(params![account.as_str(), position.order, limit], |row| {
            Ok((CommitPosition { order: row.get(9)?, id: String::new() }, rows::event(row)?))
        })
        .map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}
