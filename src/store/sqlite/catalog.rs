//! SQLite: the event-type catalog.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, backend, rows};
use crate::domain::model::*;
use crate::domain::*;
use crate::store::*;

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn put_event_type(&self, draft: EventTypeDraft) -> StoreResult<(EventType, bool)> {
        let put = self.writer.write(move |conn| put_event_type(conn, draft)).await?;
        self.changes.announce(Change::Catalog);
        Ok(put)
    }

    async fn list_event_types(&self) -> StoreResult<Vec<EventType>> {
        self.read(list_event_types)
    }

    async fn get_event_type(&self, name: &EventTypeName) -> StoreResult<Option<EventType>> {
        self.read(|conn| get_event_type(conn, name))
    }
}

pub fn list_event_types(conn: &Connection) -> StoreResult<Vec<EventType>> {
    let sql = format!("SELECT {} FROM event_types ORDER BY name", rows::EVENT_TYPE_COLUMNS);
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let found = stmt.query_map([], rows::event_type).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

pub fn get_event_type(conn: &Connection, name: &EventTypeName) -> StoreResult<Option<EventType>> {
    let sql = format!("SELECT {} FROM event_types WHERE name = ?1", rows::EVENT_TYPE_COLUMNS);
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([name.as_str()], rows::event_type).optional())
        .map_err(backend)
}

pub fn put_event_type(conn: &Connection, draft: EventTypeDraft) -> StoreResult<(EventType, bool)> {
    let existed = get_event_type(conn, &draft.name)?;
    conn.prepare_cached(
        "INSERT INTO event_types (name, description, resource_type, resource_version, sample, schema, status, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?7, 'ENABLED', ?6, ?6) \
         ON CONFLICT (name) DO UPDATE SET description = excluded.description, resource_type = excluded.resource_type, \
         resource_version = excluded.resource_version, sample = excluded.sample, schema = excluded.schema, \
         updated_at = excluded.updated_at",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            draft.name.as_str(),
            draft.description,
            draft.resource_type,
            draft.resource_version,
            draft.sample,
            draft.now.as_millis(),
            draft.schema
        ])
    })
    .map_err(backend)?;
    let stored = get_event_type(conn, &draft.name)?
        .ok_or_else(|| StoreError::Corrupt("event type vanished after upsert".into()))?;
    Ok((stored, existed.is_none()))
}
