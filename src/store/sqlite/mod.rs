//! The embedded SQLite backend: one file in the data directory, WAL mode, one writer thread with group
//! commit ([`writer`]) and a small pool of reader connections.
//!
//! Reads are short indexed queries (lists are bounded by their page size) and run on the calling task; in
//! WAL mode they never wait for the writer. `synchronous = FULL` makes every commit reach the disk before
//! its callers are answered, which is what "202 means on disk" requires.

mod reads;
mod rows;
mod writer;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use rusqlite::Connection;

use super::*;
use writer::Writer;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_core.sql"),
    include_str!("migrations/0002_merchant_api.sql"),
    include_str!("migrations/0003_attempt_node.sql"),
    include_str!("migrations/0004_meta.sql"),
    include_str!("migrations/0005_events_by_time.sql"),
    include_str!("migrations/0006_webhook_signing.sql"),
    include_str!("migrations/0007_delivery_policy.sql"),
    include_str!("migrations/0008_webhook_health.sql"),
    include_str!("migrations/0009_dashboard.sql"),
    include_str!("migrations/0010_listeners.sql"),
];
const MAX_IDLE_READERS: usize = 8;

pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Herald's store in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    /// Held open for the life of the store: the data directory belongs to one process at a time.
    _lock: std::fs::File,
}

impl SqliteStore {
    /// Opens (creating and migrating) `herald.db` in `data_dir`, which this process then owns exclusively.
    ///
    /// Because no other process can use the file, any lease still recorded belongs to a process that has
    /// died: those deliveries are released at once instead of waiting for their leases to run out.
    pub fn open(data_dir: &Path) -> StoreResult<Self> {
        let lock = lock_data_dir(data_dir)?;
        let path = data_dir.join("herald.db");
        let conn = connect(&path)?;
        conn.execute_batch("PRAGMA journal_mode = WAL").map_err(backend)?;
        migrate(&conn)?;
        writes::release_all_leases(&conn)?;
        let writer = Writer::spawn(conn).map_err(backend)?;
        Ok(Self { path, writer, readers: Mutex::new(Vec::new()), _lock: lock })
    }

    fn read<T>(&self, query: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => connect(&self.path)?,
        };
        let result = query(&conn);
        let mut idle = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

fn lock_data_dir(data_dir: &Path) -> StoreResult<std::fs::File> {
    let path = data_dir.join("herald.lock");
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(backend)?;
    file.try_lock().map_err(|_| {
        StoreError::Backend(format!("{} is in use by another Herald process", data_dir.display()).into())
    })?;
    Ok(file)
}

fn connect(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -16000; \
         PRAGMA temp_store = MEMORY;",
    )
    .map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Applies the migrations this file has not seen, tracked in `PRAGMA user_version`.
fn migrate(conn: &Connection) -> StoreResult<()> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(backend)?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {applied}, newer than this Herald ({})",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let version = index + 1;
        conn.execute_batch(&format!("BEGIN; {sql}; PRAGMA user_version = {version}; COMMIT;")).map_err(backend)?;
        tracing::info!(version, "applied sqlite migration");
    }
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(backend))
    }

    async fn create_account(&self, account: NewAccount) -> StoreResult<()> {
        self.writer.write(move |conn| writes::insert_account(conn, &account)).await
    }

    async fn list_accounts(&self, page: PageRequest) -> StoreResult<Vec<Account>> {
        self.read(|conn| reads::list_accounts(conn, &page))
    }

    async fn get_account(&self, id: &AccountId) -> StoreResult<Option<Account>> {
        self.read(|conn| reads::get_account(conn, id))
    }

    async fn find_credentials(&self, client_id: &str) -> StoreResult<Option<AccountCredentials>> {
        self.read(|conn| reads::find_credentials(conn, client_id))
    }

    async fn roll_client_secret(&self, id: &AccountId, secret_hash: [u8; 32], now: Timestamp) -> StoreResult<bool> {
        let id = id.clone();
        self.writer.write(move |conn| writes::roll_client_secret(conn, &id, &secret_hash, now)).await
    }

    async fn create_token(&self, token: NewToken) -> StoreResult<()> {
        self.writer.write(move |conn| writes::create_token(conn, &token)).await
    }

    async fn find_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<AccountId>> {
        self.read(|conn| reads::find_token(conn, token_hash, now))
    }

    async fn revoke_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
        let hash = *token_hash;
        self.writer.write(move |conn| writes::revoke_token(conn, &hash, now)).await
    }

    async fn put_event_type(&self, draft: EventTypeDraft) -> StoreResult<(EventType, bool)> {
        self.writer.write(move |conn| writes::put_event_type(conn, draft)).await
    }

    async fn list_event_types(&self) -> StoreResult<Vec<EventType>> {
        self.read(reads::list_event_types)
    }

    async fn get_event_type(&self, name: &EventTypeName) -> StoreResult<Option<EventType>> {
        self.read(|conn| reads::get_event_type(conn, name))
    }

    async fn create_webhook(&self, new: NewWebhook) -> StoreResult<()> {
        self.writer.write(move |conn| writes::insert_webhook(conn, &new)).await
    }

    async fn list_webhooks(&self, account: &AccountId) -> StoreResult<Vec<Webhook>> {
        self.read(|conn| reads::list_webhooks(conn, account))
    }

    async fn get_webhook(&self, account: &AccountId, id: &WebhookId) -> StoreResult<Option<Webhook>> {
        self.read(|conn| reads::get_webhook(conn, account, id))
    }

    async fn delete_webhook(&self, account: &AccountId, id: &WebhookId, now: Timestamp) -> StoreResult<bool> {
        let (account, id) = (account.clone(), id.clone());
        self.writer.write(move |conn| writes::delete_webhook(conn, &account, &id, now)).await
    }

    async fn update_webhook(
        &self,
        account: &AccountId,
        id: &WebhookId,
        changes: WebhookChanges,
        now: Timestamp,
    ) -> StoreResult<Option<Webhook>> {
        let (account, id) = (account.clone(), id.clone());
        self.writer.write(move |conn| writes::update_webhook(conn, &account, &id, &changes, now)).await
    }

    async fn webhook_secrets(&self, id: &WebhookId, now: Timestamp) -> StoreResult<Vec<StoredSecret>> {
        self.read(|conn| reads::webhook_secrets(conn, id, now))
    }

    async fn roll_webhook_secret(
        &self,
        id: &WebhookId,
        sealed: Vec<u8>,
        now: Timestamp,
        previous_expire_at: Timestamp,
    ) -> StoreResult<()> {
        let id = id.clone();
        self.writer.write(move |conn| writes::roll_webhook_secret(conn, &id, &sealed, now, previous_expire_at)).await
    }

    async fn delivery_targets(&self, account: &AccountId, now: Timestamp) -> StoreResult<Vec<StoredTarget>> {
        self.read(|conn| reads::delivery_targets(conn, account, now))
    }

    async fn publish(&self, batch: PublishBatch) -> StoreResult<PublishOutcome> {
        self.writer.write(move |conn| writes::publish(conn, &batch)).await
    }

    async fn get_event(&self, account: &AccountId, id: &EventId) -> StoreResult<Option<Event>> {
        self.read(|conn| reads::get_event(conn, account, id))
    }

    async fn list_events(
        &self,
        account: &AccountId,
        filter: EventFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<Event>> {
        self.read(|conn| reads::list_events(conn, account, &filter, &page))
    }

    async fn add_deliveries(&self, deliveries: Vec<NewDelivery>) -> StoreResult<()> {
        self.writer.write(move |conn| writes::add_deliveries(conn, &deliveries)).await
    }

    async fn claim_due_deliveries(&self, claim: ClaimRequest) -> StoreResult<Vec<ClaimedDelivery>> {
        self.writer.write(move |conn| writes::claim_due(conn, &claim)).await
    }

    async fn next_due_at(&self, now: Timestamp) -> StoreResult<Option<Timestamp>> {
        self.read(|conn| reads::next_due_at(conn, now))
    }

    async fn record_attempt(&self, record: AttemptRecord) -> StoreResult<RecordOutcome> {
        self.writer.write(move |conn| writes::record_attempt(conn, &record)).await
    }

    async fn list_deliveries(
        &self,
        webhook: &WebhookId,
        state: Option<DeliveryState>,
        page: PageRequest,
    ) -> StoreResult<Vec<Delivery>> {
        self.read(|conn| reads::list_deliveries(conn, webhook, state, &page))
    }

    async fn get_delivery(&self, webhook: &WebhookId, id: &DeliveryId) -> StoreResult<Option<Delivery>> {
        self.read(|conn| reads::get_delivery(conn, webhook, id))
    }

    async fn list_attempts(&self, delivery: &DeliveryId) -> StoreResult<Vec<Attempt>> {
        self.read(|conn| reads::list_attempts(conn, delivery))
    }

    async fn delivery_stats(&self, webhook: &WebhookId, since: Timestamp) -> StoreResult<DeliveryStats> {
        self.read(|conn| reads::delivery_stats(conn, webhook, since))
    }

    async fn event_deliveries(&self, account: &AccountId, event: &EventId) -> StoreResult<Vec<Delivery>> {
        self.read(|conn| reads::event_deliveries(conn, account, event))
    }

    async fn overview(&self, now: Timestamp, limit: u32) -> StoreResult<Overview> {
        self.read(|conn| reads::overview(conn, now, limit))
    }

    async fn create_listener(&self, new: StoredListener, idle_before: Timestamp) -> StoreResult<()> {
        self.writer.write(move |conn| writes::create_listener(conn, &new, idle_before)).await
    }

    async fn get_listener(&self, account: &AccountId, id: &ListenerId) -> StoreResult<Option<StoredListener>> {
        self.read(|conn| reads::get_listener(conn, account, id))
    }

    async fn touch_listener(&self, id: &ListenerId, now: Timestamp) -> StoreResult<()> {
        let id = id.clone();
        self.writer.write(move |conn| writes::touch_listener(conn, &id, now)).await
    }

    async fn delete_listener(&self, account: &AccountId, id: &ListenerId) -> StoreResult<bool> {
        let (account, id) = (account.clone(), id.clone());
        self.writer.write(move |conn| writes::delete_listener(conn, &account, &id)).await
    }

    async fn events_after(&self, account: &AccountId, after: &EventId, limit: u32) -> StoreResult<Vec<Event>> {
        self.read(|conn| reads::events_after(conn, account, after, limit))
    }

    async fn get_meta(&self, key: &'static str) -> StoreResult<Option<Vec<u8>>> {
        self.read(|conn| reads::get_meta(conn, key))
    }

    async fn insert_meta_if_absent(&self, key: &'static str, value: Vec<u8>) -> StoreResult<Vec<u8>> {
        self.writer.write(move |conn| writes::insert_meta_if_absent(conn, key, &value)).await
    }

    async fn delete_events_before(&self, cutoff: Timestamp, limit: u32) -> StoreResult<u64> {
        self.writer.write(move |conn| writes::delete_events_before(conn, cutoff, limit)).await
    }

    async fn requeue_failed(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let webhook = webhook.clone();
        self.writer.write(move |conn| writes::requeue_failed(conn, &webhook, since, until, now)).await
    }
}
