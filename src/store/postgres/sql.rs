//! How the PostgreSQL backend runs a statement: on a pooled connection or inside a transaction (both are a
//! `GenericClient`), prepared once per connection.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::pg;
use crate::store::*;

/// Tells every node, when the transaction `c` belongs to commits, that `change` happened.
pub async fn notify_change(c: &impl GenericClient, change: &crate::store::Change) -> StoreResult<()> {
    execute(c, "SELECT pg_notify('herald_changes', $1)", &[&change.payload()]).await.map(|_| ())
}

pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

pub async fn query(c: &impl GenericClient, sql: &str, params: Params<'_>) -> StoreResult<Vec<Row>> {
    let statement = c.prepare_cached(sql).await.map_err(pg)?;
    c.query(&statement, params).await.map_err(pg)
}

pub async fn query_opt(c: &impl GenericClient, sql: &str, params: Params<'_>) -> StoreResult<Option<Row>> {
    let statement = c.prepare_cached(sql).await.map_err(pg)?;
    c.query_opt(&statement, params).await.map_err(pg)
}

pub async fn execute(c: &impl GenericClient, sql: &str, params: Params<'_>) -> StoreResult<u64> {
    let statement = c.prepare_cached(sql).await.map_err(pg)?;
    c.execute(&statement, params).await.map_err(pg)
}

pub fn all<T>(found: Vec<Row>, map: fn(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    found.iter().map(map).collect()
}
