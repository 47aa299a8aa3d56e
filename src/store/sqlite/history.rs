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

    async fn expire_bookkeeping(&self, cutoffs: Bookkeeping, limit: u32) -> StoreResult<Removed> {
        self.writer.write(move |conn| expire_bookkeeping(conn, cutoffs, limit)).await
    }

    fn history_span(&self) -> Option<Duration> {
        None
    }
}

fn expire_bookkeeping(conn: &Connection, cutoffs: Bookkeeping, limit: u32) -> StoreResult<Removed> {
    let delete = |sql: &str, cutoff: Timestamp| {
        conn.prepare_cached(sql).and_then(|mut stmt| stmt.execute(params![cutoff.as_millis(), limit])).map_err(backend)
    };
    let idempotency_keys = delete(
        "DELETE FROM idempotency_keys WHERE key IN \
         (SELECT key FROM idempotency_keys WHERE created_at < ?1 LIMIT ?2)",
        cutoffs.keys_before,
    )?;
    let tokens = delete(
        "DELETE FROM oauth_tokens WHERE token_hash IN \
         (SELECT token_hash FROM oauth_tokens WHERE expires_at < ?1 OR revoked_at IS NOT NULL LIMIT ?2)",
        cutoffs.tokens_before,
    )?;
    let listeners = delete(
        "DELETE FROM listeners WHERE id IN (SELECT id FROM listeners WHERE last_seen_at < ?1 LIMIT ?2)",
        cutoffs.listeners_before,
    )?;
    let secrets = delete(
        "DELETE FROM webhook_secrets WHERE rowid IN \
         (SELECT rowid FROM webhook_secrets WHERE expires_at < ?1 LIMIT ?2)",
        cutoffs.secrets_before,
    )?;
    let count = |rows: usize| rows as u64;
    Ok(Removed {
        idempotency_keys: count(idempotency_keys),
        tokens: count(tokens),
        listeners: count(listeners),
        secrets: count(secrets),
    })
}

fn delete_events_before(conn: &Connection, cutoff: Timestamp, limit: u32) -> StoreResult<u64> {
    let ids: Vec<String> = conn
        // The newest row stays, whatever its age: row ids must never be reused (streams follow them).
        .prepare_cached(
            "SELECT id FROM events WHERE created_at < ?1 AND rowid < (SELECT MAX(rowid) FROM events) \
             ORDER BY created_at LIMIT ?2",
        )
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
