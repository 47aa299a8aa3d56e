//! The PostgreSQL backend: several Herald processes share one database, and any of them answers the API
//! and delivers.
//!
//! Every contract method is one statement or one transaction on a pooled connection. Claims use
//! `FOR UPDATE SKIP LOCKED`, so nodes never wait on each other's rows, and every claim writes a new lease
//! token, so a node that stalls past its lease cannot overwrite the newer claim's result. Deliveries stored
//! without a lease (the publishing node's workers were busy) are announced with `NOTIFY herald_work`, which
//! [`listener`] turns into a wake-up for the poller on every node. A connection failure is
//! [`StoreError::Unavailable`], which the API answers with 503.

mod listener;
mod queries;
mod rows;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::Notify;
use tokio_postgres::NoTls;

use super::*;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_core.sql"),
    include_str!("migrations/0002_attempt_node.sql"),
    include_str!("migrations/0003_meta.sql"),
    include_str!("migrations/0004_webhook_signing.sql"),
    include_str!("migrations/0005_delivery_policy.sql"),
    include_str!("migrations/0006_webhook_health.sql"),
    include_str!("migrations/0007_dashboard.sql"),
    include_str!("migrations/0008_listeners.sql"),
];
/// Serialises migrations when several nodes start at once.
const MIGRATION_LOCK: i64 = 0x4845_5241_4c44; // "HERALD"

/// Pool size and timeouts.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    pub max_connections: usize,
    /// How long a call waits for a connection before answering "unavailable".
    pub wait_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 16, wait_timeout: Duration::from_secs(5) }
    }
}

/// Herald's store in a PostgreSQL database.
pub struct PostgresStore {
    pool: Pool,
    work: Arc<Notify>,
}

/// A connection failure (the database is away) or an error the database reported.
pub(crate) fn pg(error: tokio_postgres::Error) -> StoreError {
    if error.as_db_error().is_some() {
        StoreError::Backend(Box::new(error))
    } else {
        StoreError::Unavailable(Box::new(error))
    }
}

pub(crate) fn pool_error(error: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

impl PostgresStore {
    /// Connects, applies pending migrations and starts listening for work announced by other nodes.
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
        listener::spawn(config, work.clone());
        Ok(Self { pool, work })
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

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        self.client().await?.simple_query("SELECT 1").await.map_err(pg)?;
        Ok(())
    }

    async fn create_account(&self, account: NewAccount) -> StoreResult<()> {
        queries::insert_account(&self.client().await?, &account).await
    }

    async fn list_accounts(&self, page: PageRequest) -> StoreResult<Vec<Account>> {
        queries::list_accounts(&self.client().await?, &page).await
    }

    async fn get_account(&self, id: &AccountId) -> StoreResult<Option<Account>> {
        queries::get_account(&self.client().await?, id).await
    }

    async fn find_credentials(&self, client_id: &str) -> StoreResult<Option<AccountCredentials>> {
        queries::find_credentials(&self.client().await?, client_id).await
    }

    async fn roll_client_secret(&self, id: &AccountId, secret_hash: [u8; 32], now: Timestamp) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let changed = queries::roll_client_secret(&transaction, id, &secret_hash, now).await?;
        transaction.commit().await.map_err(pg)?;
        Ok(changed)
    }

    async fn create_token(&self, token: NewToken) -> StoreResult<()> {
        queries::create_token(&self.client().await?, &token).await
    }

    async fn find_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<AccountId>> {
        queries::find_token(&self.client().await?, token_hash, now).await
    }

    async fn revoke_token(&self, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
        queries::revoke_token(&self.client().await?, token_hash, now).await
    }

    async fn put_event_type(&self, draft: EventTypeDraft) -> StoreResult<(EventType, bool)> {
        queries::put_event_type(&self.client().await?, &draft).await
    }

    async fn list_event_types(&self) -> StoreResult<Vec<EventType>> {
        queries::list_event_types(&self.client().await?).await
    }

    async fn get_event_type(&self, name: &EventTypeName) -> StoreResult<Option<EventType>> {
        queries::get_event_type(&self.client().await?, name).await
    }

    async fn create_webhook(&self, new: NewWebhook) -> StoreResult<()> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        queries::insert_webhook(&transaction, &new).await?;
        transaction.commit().await.map_err(pg)
    }

    async fn list_webhooks(&self, account: &AccountId) -> StoreResult<Vec<Webhook>> {
        queries::list_webhooks(&self.client().await?, account).await
    }

    async fn get_webhook(&self, account: &AccountId, id: &WebhookId) -> StoreResult<Option<Webhook>> {
        queries::get_webhook(&self.client().await?, account, id).await
    }

    async fn delete_webhook(&self, account: &AccountId, id: &WebhookId, now: Timestamp) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let deleted = queries::delete_webhook(&transaction, account, id, now).await?;
        transaction.commit().await.map_err(pg)?;
        Ok(deleted)
    }

    async fn update_webhook(
        &self,
        account: &AccountId,
        id: &WebhookId,
        changes: WebhookChanges,
        now: Timestamp,
    ) -> StoreResult<Option<Webhook>> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let updated = queries::update_webhook(&transaction, account, id, &changes, now).await?;
        transaction.commit().await.map_err(pg)?;
        if changes.status == Some(crate::domain::model::WebhookStatus::Enabled) {
            self.client().await?.execute("SELECT pg_notify('herald_work', '')", &[]).await.map_err(pg)?;
        }
        Ok(updated)
    }

    async fn webhook_secrets(&self, id: &WebhookId, now: Timestamp) -> StoreResult<Vec<StoredSecret>> {
        queries::webhook_secrets(&self.client().await?, id, now).await
    }

    async fn roll_webhook_secret(
        &self,
        id: &WebhookId,
        sealed: Vec<u8>,
        now: Timestamp,
        previous_expire_at: Timestamp,
    ) -> StoreResult<()> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        queries::roll_webhook_secret(&transaction, id, &sealed, now, previous_expire_at).await?;
        transaction.commit().await.map_err(pg)
    }

    async fn delivery_targets(&self, account: &AccountId, now: Timestamp) -> StoreResult<Vec<StoredTarget>> {
        queries::delivery_targets(&self.client().await?, account, now).await
    }

    async fn publish(&self, batch: PublishBatch) -> StoreResult<PublishOutcome> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let outcome = queries::publish(&transaction, &batch).await?;
        transaction.commit().await.map_err(pg)?;
        Ok(outcome)
    }

    async fn get_event(&self, account: &AccountId, id: &EventId) -> StoreResult<Option<Event>> {
        queries::get_event(&self.client().await?, account, id).await
    }

    async fn list_events(
        &self,
        account: &AccountId,
        filter: EventFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<Event>> {
        queries::list_events(&self.client().await?, account, &filter, &page).await
    }

    async fn add_deliveries(&self, deliveries: Vec<NewDelivery>) -> StoreResult<()> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        queries::add_deliveries(&transaction, &deliveries).await?;
        transaction.commit().await.map_err(pg)
    }

    async fn claim_due_deliveries(&self, claim: ClaimRequest) -> StoreResult<Vec<ClaimedDelivery>> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let claimed = queries::claim_due(&transaction, &claim).await?;
        transaction.commit().await.map_err(pg)?;
        Ok(claimed)
    }

    async fn next_due_at(&self, now: Timestamp) -> StoreResult<Option<Timestamp>> {
        queries::next_due_at(&self.client().await?, now).await
    }

    async fn record_attempt(&self, record: AttemptRecord) -> StoreResult<RecordOutcome> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let outcome = queries::record_attempt(&transaction, &record).await?;
        transaction.commit().await.map_err(pg)?;
        Ok(outcome)
    }

    async fn list_deliveries(
        &self,
        webhook: &WebhookId,
        state: Option<DeliveryState>,
        page: PageRequest,
    ) -> StoreResult<Vec<Delivery>> {
        queries::list_deliveries(&self.client().await?, webhook, state, &page).await
    }

    async fn get_delivery(&self, webhook: &WebhookId, id: &DeliveryId) -> StoreResult<Option<Delivery>> {
        queries::get_delivery(&self.client().await?, webhook, id).await
    }

    async fn list_attempts(&self, delivery: &DeliveryId) -> StoreResult<Vec<Attempt>> {
        queries::list_attempts(&self.client().await?, delivery).await
    }

    async fn delivery_stats(&self, webhook: &WebhookId, since: Timestamp) -> StoreResult<DeliveryStats> {
        queries::delivery_stats(&self.client().await?, webhook, since).await
    }

    async fn event_deliveries(&self, account: &AccountId, event: &EventId) -> StoreResult<Vec<Delivery>> {
        queries::event_deliveries(&self.client().await?, account, event).await
    }

    async fn overview(&self, now: Timestamp, limit: u32) -> StoreResult<Overview> {
        queries::overview(&self.client().await?, now, limit).await
    }

    async fn create_listener(&self, new: StoredListener, idle_before: Timestamp) -> StoreResult<()> {
        queries::create_listener(&self.client().await?, &new, idle_before).await
    }

    async fn get_listener(&self, account: &AccountId, id: &ListenerId) -> StoreResult<Option<StoredListener>> {
        queries::get_listener(&self.client().await?, account, id).await
    }

    async fn touch_listener(&self, id: &ListenerId, now: Timestamp) -> StoreResult<()> {
        queries::touch_listener(&self.client().await?, id, now).await
    }

    async fn delete_listener(&self, account: &AccountId, id: &ListenerId) -> StoreResult<bool> {
        queries::delete_listener(&self.client().await?, account, id).await
    }

    async fn events_after(&self, account: &AccountId, after: &EventId, limit: u32) -> StoreResult<Vec<Event>> {
        queries::events_after(&self.client().await?, account, after, limit).await
    }

    async fn requeue_failed(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let client = self.client().await?;
        let requeued = queries::requeue_failed(&client, webhook, since, until, now).await?;
        if requeued > 0 {
            client.execute("SELECT pg_notify('herald_work', '')", &[]).await.map_err(pg)?;
        }
        Ok(requeued)
    }

    async fn get_meta(&self, key: &'static str) -> StoreResult<Option<Vec<u8>>> {
        queries::get_meta(&self.client().await?, key).await
    }

    async fn insert_meta_if_absent(&self, key: &'static str, value: Vec<u8>) -> StoreResult<Vec<u8>> {
        queries::insert_meta_if_absent(&self.client().await?, key, &value).await
    }

    async fn delete_events_before(&self, cutoff: Timestamp, limit: u32) -> StoreResult<u64> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let deleted = queries::delete_events_before(&transaction, cutoff, limit).await?;
        transaction.commit().await.map_err(pg)?;
        Ok(deleted)
    }

    fn work_signal(&self) -> Option<Arc<Notify>> {
        Some(self.work.clone())
    }
}
