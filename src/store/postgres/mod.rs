//! The PostgreSQL backend: several Herald processes share one database, and any of them answers the API
//! and delivers.
//!
//! Every contract method is one statement or one transaction on a pooled connection. Claims use
//! `FOR UPDATE SKIP LOCKED`, so nodes never wait on each other's rows, and every claim writes a new lease
//! token, so a node that stalls past its lease cannot overwrite the newer claim's result. Deliveries stored
//! without a lease (the publishing node's workers were busy) are announced with `NOTIFY herald_work`, which
//! [`listener`] turns into a wake-up for the poller on every node. A connection failure is
//! [`StoreError::Unavailable`], which the API answers with 503.

mod accounts;
mod catalog;
mod deliveries;
mod events;
mod group_commit;
mod history;
mod listener;
mod listeners;
mod meta;
mod queue;
mod request_logs;
mod rows;
mod sql;
mod webhooks;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::Notify;
use tokio_postgres::NoTls;

use super::*;
use crate::domain::Timestamp;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_core.sql"),
    include_str!("migrations/0002_attempt_node.sql"),
    include_str!("migrations/0003_meta.sql"),
    include_str!("migrations/0004_webhook_signing.sql"),
    include_str!("migrations/0005_delivery_policy.sql"),
    include_str!("migrations/0006_webhook_health.sql"),
    include_str!("migrations/0007_dashboard.sql"),
    include_str!("migrations/0008_listeners.sql"),
    include_str!("migrations/0009_history_partitions.sql"),
    include_str!("migrations/0010_expiring_bookkeeping.sql"),
    include_str!("migrations/0011_events_in_commit_order.sql"),
    include_str!("migrations/0012_environments_and_keys.sql"),
    include_str!("migrations/0013_event_trace_context.sql"),
];
/// Serialises migrations when several nodes start at once.
const MIGRATION_LOCK: i64 = 0x4845_5241_4c44; // "HERALD"

/// Pool size and timeouts.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    pub max_connections: usize,
    /// How long a call waits for a connection before answering "unavailable".
    pub wait_timeout: Duration,
    /// How much time one partition of the history holds (see [`history`]).
    pub partition_span: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 16, wait_timeout: Duration::from_secs(5), partition_span: Duration::from_secs(86_400) }
    }
}

/// Herald's store in a PostgreSQL database.
pub struct PostgresStore {
    pool: Pool,
    work: Arc<Notify>,
    /// Where this node's writes, and through `NOTIFY herald_changes` every other node's, are announced.
    changes: ChangeFeed,
    /// Where this node's publishes, and through `NOTIFY herald_events` every other node's, announce that
    /// they committed events.
    commits: CommitFeed,
    /// Records attempts in groups, one transaction for many.
    attempts: group_commit::GroupWriter<group_commit::Attempts>,
    /// Publishes without an idempotency key, likewise.
    publishes: group_commit::GroupWriter<group_commit::Publishes>,
    /// How much time one partition of the history holds.
    span: Duration,
}

/// A connection failure or a server that cannot serve now (the database is away: answered 503), or an
/// error the database reported about the statement.
pub(crate) fn pg(error: tokio_postgres::Error) -> StoreError {
    let db = error.as_db_error();
    if let Some(resource) = db.and_then(|db| shortage(db.code())) {
        let detail = db.map(|db| db.message().to_owned()).unwrap_or_default();
        return StoreError::Exhausted { resource, detail };
    }
    match db {
        Some(db) if server_cannot_serve(db.code()) => StoreError::Unavailable(Box::new(error)),
        Some(_) => StoreError::Backend(Box::new(error)),
        None => StoreError::Unavailable(Box::new(error)),
    }
}

/// The SQLSTATE classes that say the server cannot serve now rather than that the statement is wrong:
/// 08 connection exception, 53 insufficient resources (disk full, out of memory, too many connections),
/// 57 operator intervention (shutdown, restart, sessions terminated, cancelled), 58 system error (I/O).
fn server_cannot_serve(code: &tokio_postgres::error::SqlState) -> bool {
    matches!(code.code().get(..2), Some("08" | "53" | "57" | "58"))
}

/// The resource a class 53 error says the server ran out of (53100 disk full, 53200 out of memory, 53300
/// too many connections).
fn shortage(code: &tokio_postgres::error::SqlState) -> Option<Resource> {
    match code.code() {
        "53100" => Some(Resource::Disk),
        "53200" => Some(Resource::Memory),
        "53300" => Some(Resource::Connections),
        _ => None,
    }
}

pub(crate) fn pool_error(error: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

impl PostgresStore {
    /// Connects, applies pending migrations, makes the history's next partitions and starts listening for
    /// work announced by other nodes.
    pub async fn connect(url: &str, settings: PoolSettings) -> StoreResult<Self> {
        let config = tokio_postgres::Config::from_str(url).map_err(|e| StoreError::Backend(Box::new(e)))?;
        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(settings.max_connections)
            .wait_timeout(Some(settings.wait_timeout))
            .create_timeout(Some(settings.wait_timeout))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        migrate(&pool).await?;
        let work = Arc::new(Notify::new());
        let (changes, commits) = (ChangeFeed::default(), CommitFeed::default());
        listener::spawn(config, work.clone(), changes.clone(), commits.clone());
        let attempts = group_commit::GroupWriter::spawn(pool.clone(), changes.clone());
        let publishes = group_commit::GroupWriter::spawn(pool.clone(), changes.clone());
        let store = Self { pool, work, changes, commits, attempts, publishes, span: settings.partition_span };
        store.prepare_history(Timestamp::now()).await?;
        Ok(store)
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_error)
    }
}

/// Applies the migrations this database has not seen, under an advisory lock.
pub async fn migrate(pool: &Pool) -> StoreResult<()> {
    let mut client = pool.get().await.map_err(pool_error)?;
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await.map_err(pg)?;
    let result = apply_migrations(&mut client).await;
    client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await.map_err(pg)?;
    result
}

async fn apply_migrations(client: &mut deadpool_postgres::Object) -> StoreResult<()> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS herald_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .await
        .map_err(pg)?;
    let applied: i64 = client.query_one("SELECT COUNT(*) FROM herald_migrations", &[]).await.map_err(pg)?.get(0);
    if applied as usize > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!("the database has schema version {applied}, newer than this Herald")));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
        let version = index as i32 + 1;
        let transaction = client.transaction().await.map_err(pg)?;
        transaction.batch_execute(sql).await.map_err(pg)?;
        transaction
            .execute("INSERT INTO herald_migrations VALUES ($1, $2)", &[&version, &Timestamp::now().as_millis()])
            .await
            .map_err(pg)?;
        transaction.commit().await.map_err(pg)?;
        tracing::info!(version, "applied postgres migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tokio_postgres::error::SqlState;

    use super::server_cannot_serve;

    #[test]
    fn a_server_that_cannot_serve_now_is_told_from_a_statement_it_refuses() {
        for code in [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::DISK_FULL,
            SqlState::TOO_MANY_CONNECTIONS,
        ] {
            assert!(server_cannot_serve(&code), "{code:?}");
        }
        for code in [SqlState::UNIQUE_VIOLATION, SqlState::SYNTAX_ERROR, SqlState::UNDEFINED_TABLE] {
            assert!(!server_cannot_serve(&code), "{code:?}");
        }
    }
}
