//! SQLite: installation-wide facts (the master key's fingerprint, the PayPal identity) and the liveness check.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension};

use super::{SqliteStore, backend};
use crate::store::*;

#[async_trait]
impl InstallationStore for SqliteStore {
    /// Ready when a read answers, the disk has room for new work and writes succeed. After a write failed
    /// for want of the disk, a small write tells whether it succeeds again (nothing else may be writing).
    async fn ping(&self) -> StoreResult<()> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(backend))?;
        self.admit_new_work()?;
        if self.writer.failing().is_some() {
            let probe = |conn: &Connection| {
                conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES ('write_probe', randomblob(64))")
                    .and_then(|mut stmt| stmt.execute([]))
                    .map(|_| ())
                    .map_err(backend)
            };
            self.writer.write(probe).await?;
        }
        Ok(())
    }

    async fn get_meta(&self, key: &'static str) -> StoreResult<Option<Vec<u8>>> {
        self.read(|conn| get_meta(conn, key))
    }

    async fn insert_meta_if_absent(&self, key: &'static str, value: Vec<u8>) -> StoreResult<Vec<u8>> {
        self.writer.write(move |conn| insert_meta_if_absent(conn, key, &value)).await
    }

    fn changes(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.changes.subscribe()
    }
}

pub fn get_meta(conn: &Connection, key: &str) -> StoreResult<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
        .map_err(backend)
}

pub fn insert_meta_if_absent(conn: &Connection, key: &str, value: &[u8]) -> StoreResult<Vec<u8>> {
    conn.prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING")
        .and_then(|mut stmt| stmt.execute(rusqlite::params![key, value]))
        .map_err(backend)?;
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)))
        .map_err(backend)
}
