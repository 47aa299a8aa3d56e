//! SQLite: the history's upkeep. One file holds everything, so retention deletes old events row by row, in
//! batches small enough to share the writer with deliveries; there are no partitions to prepare.

use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, params};

use super::{SqliteStore, backend};
use crate::domain::*;
use crate::store::*;

#[async_trait]
impl HistoryStore for SqliteStore {
    async fn prepare_history(&self, _now: Timestamp) -> StoreResult<u32> {
        Ok(0)
    }

    async fn expire_history(&self, cutoff: Timestamp, limit: u32) -> StoreResult<Expired> {
        let events = self.writer.write(move |conn| delete_events_before(conn, cutoff, limit)).await?;
        Ok(Expired { events, partitions: 0 })
    }

    fn history_span(&self) -> Option<Duration> {
        None
    }
}

fn delete_events_before(conn: &Connection, cutoff: Timestamp, limit: u32) -> StoreResult<u64> {
    let ids: Vec<String> = conn
        .prepare_cached("SELECT id FROM events WHERE created_at < ?1 ORDER BY created_at LIMIT ?2")
        .and_then(|mut stmt| stmt.query_map(params![cutoff.as_millis(), limit], |row| row.get(0))?.collect())
        .map_err(backend)?;
    for id in &ids {
        conn.prepare_cached(
            "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = ?1)",
        )
        .and_then(|mut stmt| stmt.execute([id]))
        .map_err(backend)?;
        conn.prepare_cached("DELETE FROM deliveries WHERE event_id = ?1")
            .and_then(|mut stmt| stmt.execute([id]))
            .map_err(backend)?;
        conn.prepare_cached("DELETE FROM events WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute([id]))
            .map_err(backend)?;
    }
    Ok(ids.len() as u64)
}
