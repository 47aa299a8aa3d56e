//! PostgreSQL: installation-wide facts (the master key's fingerprint, the PayPal identity) and the liveness check.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::sql::{execute, query};
use super::{PostgresStore, pg};
use crate::store::*;

#[async_trait]
impl InstallationStore for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        self.client().await?.simple_query("SELECT 1").await.map_err(pg)?;
        Ok(())
    }

    async fn get_meta(&self, key: &'static str) -> StoreResult<Option<Vec<u8>>> {
        get_meta(&self.client().await?, key).await
    }

    fn changes(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    async fn insert_meta_if_absent(&self, key: &'static str, value: Vec<u8>) -> StoreResult<Vec<u8>> {
        insert_meta_if_absent(&self.client().await?, key, &value).await
    }
}

pub async fn get_meta(c: &impl GenericClient, key: &str) -> StoreResult<Option<Vec<u8>>> {
    let row = query(c, "SELECT value FROM meta WHERE key = $1", &[&key]).await?.pop();
    Ok(row.map(|row| row.get(0)))
}

pub async fn insert_meta_if_absent(c: &impl GenericClient, key: &str, value: &[u8]) -> StoreResult<Vec<u8>> {
    let sql = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
    execute(c, sql, &[&key, &value]).await?;
    let stored = get_meta(c, key).await?;
    stored.ok_or_else(|| StoreError::Corrupt(format!("the installation fact {key} vanished as it was written")))
}
