//! The storage contract, checked directly on every backend, one module per role of `herald::store`. Each
//! case runs once on SQLite and once on PostgreSQL, each time on a fresh database (a temporary directory,
//! or a schema of its own that is dropped afterwards). The PostgreSQL runs are ignored unless asked for
//! (`cargo test -- --include-ignored`, as CI does), so a machine without PostgreSQL shows them as ignored
//! with the reason instead of passing them silently.

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod catalog;
mod deliveries;
mod history;
mod listeners;
mod meta;
mod queue;
mod schema;
mod sqlite_writer;
mod webhooks;

pub use std::collections::{BTreeMap, HashSet};
pub use std::sync::Arc;
pub use std::time::Duration;

pub use bytes::Bytes;
pub use herald::domain::delivery_policy::{DeliveryOrder, DeliveryPolicy};
pub use herald::domain::event_type::Subscription;
pub use herald::domain::model::*;
pub use herald::domain::*;
use herald::store::postgres::{PoolSettings, PostgresStore};
use herald::store::sqlite::SqliteStore;
pub use herald::store::*;

/// A store to test, with whatever keeps its database alive.
pub struct Backend {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    _keep: Box<dyn std::any::Any + Send>,
}

pub fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path()).unwrap();
    Backend { name: "sqlite", store: Arc::new(sqlite), _keep: Box::new(dir) }
}

pub async fn postgres() -> Backend {
    let schema = common::PgSchema::create(&common::postgres_url()).await;
    let store = PostgresStore::connect(&schema.url, PoolSettings::default()).await.unwrap();
    Backend { name: "postgres", store: Arc::new(store), _keep: Box::new(schema) }
}

/// Registers each named contract case (an `async fn(Backend)`) as two tests, `<case>::sqlite` and
/// `<case>::postgres`.
#[macro_export]
macro_rules! contract {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$case($crate::sqlite()).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL: HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), run with --include-ignored"]
            async fn postgres() {
                super::$case($crate::postgres().await).await
            }
        }
    )*};
}

/// An enabled `*` webhook of `account` to `url`.
pub fn webhook_to(account: &AccountId, url: &str) -> Webhook {
    let now = Timestamp::now();
    Webhook {
        id: WebhookId::generate(),
        account_id: account.clone(),
        url: WebhookUrl::parse(url).unwrap(),
        event_types: vec![Subscription::All],
        status: WebhookStatus::Enabled,
        format: DeliveryFormat::Standard,
        signing: SigningAlgorithm::HmacSha256,
        api_version: None,
        policy: Default::default(),
        description: None,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    }
}

/// A new account named `name` with its test environment and a first live key (secret hash `[1; 32]`).
pub fn new_account(name: &str) -> NewAccount {
    let now = Timestamp::now();
    let account = Account { id: AccountId::generate(), name: name.into(), client_id: keyring_token(), created_at: now };
    let key = NewApiKey::first(&account.id, &account.id, Mode::Live, account.client_id.clone(), [1; 32], now);
    NewAccount { account, test_environment: AccountId::generate(), keys: vec![key] }
}

/// The account's first live key.
pub async fn first_key(store: &dyn Store, account: &AccountId) -> ApiKey {
    store.list_api_keys(account).await.unwrap().into_iter().find(|k| k.mode == Mode::Live).unwrap()
}

/// An account with one enabled `*` webhook.
pub async fn tenant(store: &dyn Store) -> (AccountId, WebhookId) {
    let new = new_account("t");
    let account = new.account.clone();
    store.create_account(new).await.unwrap();
    let webhook = webhook_to(&account.id, "http://127.0.0.1:9/hook");
    store.create_webhook(NewWebhook { webhook: webhook.clone(), sealed_secret: vec![0; 40], limit: 10 }).await.unwrap();
    (account.id, webhook.id)
}

pub fn keyring_token() -> String {
    herald::keyring::random_token(12)
}

/// Publishes `count` events to the webhook, each with one unleased delivery due at `due`.
pub async fn pending(
    store: &dyn Store,
    account: &AccountId,
    webhook: &WebhookId,
    count: usize,
    created: Timestamp,
) -> Vec<DeliveryId> {
    let mut events = Vec::new();
    let mut deliveries = Vec::new();
    for n in 0..count {
        // Events of the past get ids of their time, as they would have had then.
        let id = if created.as_millis() < Timestamp::now().as_millis() - 1000 {
            EventId::generate_at(created)
        } else {
            EventId::generate()
        };
        let event = Event {
            id,
            account_id: account.clone(),
            event_type: EventTypeName::parse("payment.created").unwrap(),
            created_at: created,
            body: Bytes::from(format!("{{\"n\":{n}}}")),
            resource_id: None,
            simulated: false,
            trace: None,
        };
        deliveries.push(NewDelivery {
            id: DeliveryId::generate(),
            event_id: event.id.clone(),
            webhook_id: webhook.clone(),
            account_id: account.clone(),
            trigger: Trigger::Scheduled,
            next_attempt_at: created,
            lease: None,
            single_attempt: false,
        });
        events.push(event);
    }
    let ids = deliveries.iter().map(|d| d.id.clone()).collect();
    EVENTS.lock().unwrap().extend(deliveries.iter().map(|d| (d.id.clone(), d.event_id.clone())));
    store.publish(PublishBatch { idempotency: None, events, deliveries }).await.unwrap();
    ids
}

/// The event of each delivery [`pending`] made, for the attempt records that name it.
static EVENTS: std::sync::Mutex<BTreeMap<DeliveryId, EventId>> = std::sync::Mutex::new(BTreeMap::new());

pub fn event_of(delivery: &DeliveryId) -> EventId {
    EVENTS.lock().unwrap()[delivery].clone()
}

pub fn claim(now: Timestamp, token: i64, lease: Duration, limit: u32) -> ClaimRequest {
    ClaimRequest { now, lease: Lease { token, until: now.plus(lease) }, limit }
}

pub fn attempt_for(delivery: &DeliveryId, number: u32) -> Attempt {
    Attempt {
        id: AttemptId::generate(),
        delivery_id: delivery.clone(),
        number,
        started_at: Timestamp::now(),
        duration_ms: 3,
        trigger: Trigger::Scheduled,
        request_url: "http://127.0.0.1:9/hook".into(),
        request_headers: vec![("webhook-id".into(), "evt_x".into())],
        response: Some(AttemptResponse { status: 200, headers: vec![], body: b"ok".to_vec(), truncated: false }),
        error: None,
        node: Some("node-a".into()),
    }
}
