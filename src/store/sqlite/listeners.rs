//! SQLite: listeners: temporary delivery channels for `herald listen`.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, backend, rows};
use crate::domain::*;
use crate::store::*;

#[async_trait]
impl ListenerStore for SqliteStore {
    async fn create_listener(&self, new: StoredListener, idle_before: Timestamp) -> StoreResult<()> {
        self.writer.write(move |conn| create_listener(conn, &new, idle_before)).await
    }

    async fn get_listener(&self, account: &AccountId, id: &ListenerId) -> StoreResult<Option<StoredListener>> {
        self.read(|conn| get_listener(conn, account, id))
    }

    async fn touch_listener(&self, id: &ListenerId, now: Timestamp) -> StoreResult<()> {
        let id = id.clone();
        self.writer.write(move |conn| touch_listener(conn, &id, now)).await
    }

    async fn delete_listener(&self, account: &AccountId, id: &ListenerId) -> StoreResult<bool> {
        let (account, id) = (account.clone(), id.clone());
        self.writer.write(move |conn| delete_listener(conn, &account, &id)).await
    }
}

pub fn get_listener(conn: &Connection, account: &AccountId, id: &ListenerId) -> StoreResult<Option<StoredListener>> {
    let sql = format!("SELECT {} FROM listeners WHERE id = ?1 AND account_id = ?2", rows::LISTENER_COLUMNS);
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([id.as_str(), account.as_str()], rows::listener).optional())
        .map_err(backend)
}

pub fn create_listener(conn: &Connection, new: &StoredListener, idle_before: Timestamp) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM listeners WHERE last_seen_at < ?1")
        .and_then(|mut stmt| stmt.execute([idle_before.as_millis()]))
        .map_err(backend)?;
    let listener = &new.listener;
    conn.prepare_cached(
        "INSERT INTO listeners (id, account_id, format, event_types, sealed_secret, created_at, last_seen_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            listener.id.as_str(),
            listener.account_id.as_str(),
            listener.format.as_str(),
            rows::subscriptions_to_json(&listener.event_types),
            new.sealed_secret,
            listener.created_at.as_millis(),
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub fn touch_listener(conn: &Connection, id: &ListenerId, now: Timestamp) -> StoreResult<()> {
    conn.prepare_cached("UPDATE listeners SET last_seen_at = ?2 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute(params![id.as_str(), now.as_millis()]))
        .map_err(backend)?;
    Ok(())
}

pub fn delete_listener(conn: &Connection, account: &AccountId, id: &ListenerId) -> StoreResult<bool> {
    let deleted = conn
        .prepare_cached("DELETE FROM listeners WHERE id = ?1 AND account_id = ?2")
        .and_then(|mut stmt| stmt.execute([id.as_str(), account.as_str()]))
        .map_err(backend)?;
    Ok(deleted > 0)
}
