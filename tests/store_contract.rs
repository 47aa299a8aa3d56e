//! The `Store` contract, checked directly on every backend: SQLite always, PostgreSQL when
//! `HERALD_TEST_DATABASE_URL` is set (and always under `CI=true`). Each case gets a fresh database (a
//! temporary directory, or a schema of its own that is dropped afterwards).

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use herald::domain::delivery_policy::{DeliveryOrder, DeliveryPolicy};
use herald::domain::event_type::Subscription;
use herald::domain::model::*;
use herald::domain::*;
use herald::store::postgres::{PoolSettings, PostgresStore};
use herald::store::sqlite::SqliteStore;
use herald::store::*;

/// A store to test, with whatever keeps its database alive.
struct Backend {
    name: &'static str,
    store: Arc<dyn Store>,
    _keep: Box<dyn std::any::Any + Send>,
}

async fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path()).unwrap();
    let mut all = vec![Backend { name: "sqlite", store: Arc::new(sqlite), _keep: Box::new(dir) }];
    if let Some(url) = common::postgres_url() {
        let schema = common::PgSchema::create(&url).await;
        let store = PostgresStore::connect(&schema.url, PoolSettings::default()).await.unwrap();
        all.push(Backend { name: "postgres", store: Arc::new(store), _keep: Box::new(schema) });
    }
    all
}

/// An enabled `*` webhook of `account` to `url`.
fn webhook_to(account: &AccountId, url: &str) -> Webhook {
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

/// An account with one enabled `*` webhook.
async fn tenant(store: &dyn Store) -> (AccountId, WebhookId) {
    let now = Timestamp::now();
    let account = Account { id: AccountId::generate(), name: "t".into(), client_id: keyring_token(), created_at: now };
    store.create_account(NewAccount { account: account.clone(), secret_hash: [1; 32] }).await.unwrap();
    let webhook = webhook_to(&account.id, "http://127.0.0.1:9/hook");
    store.create_webhook(NewWebhook { webhook: webhook.clone(), sealed_secret: vec![0; 40], limit: 10 }).await.unwrap();
    (account.id, webhook.id)
}

fn keyring_token() -> String {
    herald::keyring::random_token(12)
}

/// Publishes `count` events to the webhook, each with one unleased delivery due at `due`.
async fn pending(
    store: &dyn Store,
    account: &AccountId,
    webhook: &WebhookId,
    count: usize,
    created: Timestamp,
) -> Vec<DeliveryId> {
    let mut events = Vec::new();
    let mut deliveries = Vec::new();
    for n in 0..count {
        let event = Event {
            id: EventId::generate(),
            account_id: account.clone(),
            event_type: EventTypeName::parse("payment.created").unwrap(),
            created_at: created,
            body: Bytes::from(format!("{{\"n\":{n}}}")),
            resource_id: None,
            simulated: false,
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
    store.publish(PublishBatch { idempotency: None, events, deliveries }).await.unwrap();
    ids
}

fn claim(now: Timestamp, token: i64, lease: Duration, limit: u32) -> ClaimRequest {
    ClaimRequest { now, lease: Lease { token, until: now.plus(lease) }, limit }
}

fn attempt_for(delivery: &DeliveryId, number: u32) -> Attempt {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_never_hand_out_the_same_delivery() {
    for backend in backends().await {
        let store = backend.store.clone();
        let (account, webhook) = tenant(store.as_ref()).await;
        let now = Timestamp::now();
        let created = pending(store.as_ref(), &account, &webhook, 200, now).await;
        let mut claims = Vec::new();
        for token in 1..=4 {
            let store = store.clone();
            claims.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = store.claim_due_deliveries(claim(now, token, Duration::from_secs(60), 7)).await.unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|c| c.delivery_id));
                }
            }));
        }
        let mut seen = HashSet::new();
        for task in claims {
            for id in task.await.unwrap() {
                assert!(seen.insert(id), "{}: a delivery was claimed twice", backend.name);
            }
        }
        assert_eq!(seen, created.into_iter().collect(), "{}: every delivery was claimed once", backend.name);
        assert_eq!(
            store.next_due_at(Timestamp::now()).await.unwrap(),
            Some(now.plus(Duration::from_secs(60))),
            "{}",
            backend.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_is_claimed_again_and_the_old_holder_cannot_overwrite_it() {
    for backend in backends().await {
        let store = backend.store.as_ref();
        let (account, webhook) = tenant(store).await;
        let start = Timestamp::now();
        let id = pending(store, &account, &webhook, 1, start).await.remove(0);
        let first = store.claim_due_deliveries(claim(start, 11, Duration::from_secs(10), 10)).await.unwrap();
        assert_eq!(first.len(), 1, "{}", backend.name);
        assert_eq!(first[0].body, Bytes::from("{\"n\":0}"));
        let held =
            store.claim_due_deliveries(claim(start.plus(Duration::from_secs(5)), 12, Duration::from_secs(10), 10));
        assert!(held.await.unwrap().is_empty(), "{}: a live lease is not claimed again", backend.name);
        let later = start.plus(Duration::from_secs(11));
        let second = store.claim_due_deliveries(claim(later, 13, Duration::from_secs(10), 10)).await.unwrap();
        assert_eq!(second.len(), 1, "{}: an expired lease is claimed again", backend.name);

        let stale = AttemptRecord {
            attempt: attempt_for(&id, 1),
            status_code: Some(200),
            lease_token: 11,
            transition: DeliveryTransition::Succeeded,
            disable_webhook: None,
            failing_limit: None,
        };
        assert_eq!(store.record_attempt(stale).await.unwrap(), RecordOutcome::Stale, "{}", backend.name);
        let retry_at = later.plus(Duration::from_secs(30));
        let current = AttemptRecord {
            attempt: attempt_for(&id, 1),
            status_code: Some(500),
            lease_token: 13,
            transition: DeliveryTransition::RetryAt(retry_at),
            disable_webhook: None,
            failing_limit: None,
        };
        let started_failing = RecordOutcome::Applied(HealthChange::StartedFailing);
        assert_eq!(store.record_attempt(current).await.unwrap(), started_failing, "{}", backend.name);
        let page = PageRequest { after: None, limit: 10 };
        let delivery = store.list_deliveries(&webhook, None, page).await.unwrap().remove(0);
        assert_eq!(
            (delivery.state, delivery.attempt_count, delivery.last_status_code),
            (DeliveryState::Pending, 1, Some(500))
        );
        assert_eq!(delivery.next_attempt_at, Some(retry_at), "{}", backend.name);
        assert_eq!(store.list_attempts(&id).await.unwrap().len(), 2, "{}: both attempts are logged", backend.name);
        assert_eq!(store.next_due_at(Timestamp::now()).await.unwrap(), Some(retry_at), "{}", backend.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_replay_or_refuse() {
    for backend in backends().await {
        let store = backend.store.as_ref();
        let record = |hash: u8, response: &'static str| IdempotencyRecord {
            key: "order-7".into(),
            request_hash: [hash; 32],
            response: Bytes::from(response),
        };
        let first =
            store.publish(PublishBatch { idempotency: Some(record(1, "first")), events: vec![], deliveries: vec![] });
        assert!(matches!(first.await.unwrap(), PublishOutcome::Committed), "{}", backend.name);
        let again =
            store.publish(PublishBatch { idempotency: Some(record(1, "second")), events: vec![], deliveries: vec![] });
        match again.await.unwrap() {
            PublishOutcome::Replayed { response } => assert_eq!(response, Bytes::from("first"), "{}", backend.name),
            other => panic!("{}: {other:?}", backend.name),
        }
        let other =
            store.publish(PublishBatch { idempotency: Some(record(2, "x")), events: vec![], deliveries: vec![] });
        assert!(matches!(other.await, Err(StoreError::IdempotencyKeyReused)), "{}", backend.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_old_events_with_their_deliveries_and_attempts() {
    for backend in backends().await {
        let store = backend.store.as_ref();
        let (account, webhook) = tenant(store).await;
        let now = Timestamp::now();
        let old = Timestamp::from_millis(now.as_millis() - 40 * 86_400_000);
        let old_ids = pending(store, &account, &webhook, 5, old).await;
        pending(store, &account, &webhook, 3, now).await;
        let claimed = store.claim_due_deliveries(claim(now, 5, Duration::from_secs(60), 100)).await.unwrap();
        for delivery in &claimed {
            let record = AttemptRecord {
                attempt: attempt_for(&delivery.delivery_id, 1),
                status_code: Some(200),
                lease_token: 5,
                transition: DeliveryTransition::Succeeded,
                disable_webhook: None,
                failing_limit: None,
            };
            store.record_attempt(record).await.unwrap();
        }
        let cutoff = Timestamp::from_millis(now.as_millis() - 30 * 86_400_000);
        assert_eq!(store.delete_events_before(cutoff, 2).await.unwrap(), 2, "{}: batches are bounded", backend.name);
        assert_eq!(store.delete_events_before(cutoff, 100).await.unwrap(), 3, "{}", backend.name);
        assert_eq!(store.delete_events_before(cutoff, 100).await.unwrap(), 0, "{}", backend.name);
        let left = store.list_deliveries(&webhook, None, PageRequest { after: None, limit: 100 }).await.unwrap();
        assert_eq!(left.len(), 3, "{}: recent deliveries stay", backend.name);
        for id in old_ids {
            assert!(store.list_attempts(&id).await.unwrap().is_empty(), "{}: old attempts went too", backend.name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_limits_hold_under_concurrent_creation() {
    for backend in backends().await {
        let store = backend.store.clone();
        let (account, _) = tenant(store.as_ref()).await;
        let mut tasks = Vec::new();
        for n in 0..12 {
            let (store, account) = (store.clone(), account.clone());
            tasks.push(tokio::spawn(async move {
                let webhook = webhook_to(&account, &format!("http://127.0.0.1:9/{n}"));
                store.create_webhook(NewWebhook { webhook, sealed_secret: vec![0; 40], limit: 5 }).await
            }));
        }
        let mut created = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => created += 1,
                Err(StoreError::WebhookLimitReached { limit: 5 }) => {}
                Err(other) => panic!("{}: {other}", backend.name),
            }
        }
        assert_eq!(created, 4, "{}: the account already had one, so four more fit under 5", backend.name);
        assert_eq!(store.list_webhooks(&account).await.unwrap().len(), 5, "{}", backend.name);
    }
}

/// Installation facts (the PayPal signing identity) are written once: nodes racing to write one all read
/// back the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installation_facts_keep_the_first_value_written_under_races() {
    for backend in backends().await {
        let store = backend.store.clone();
        assert_eq!(store.get_meta("paypal_identity").await.unwrap(), None, "{}", backend.name);
        let racers: Vec<_> = (0..8u8)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move { store.insert_meta_if_absent("paypal_identity", vec![n; 16]).await.unwrap() })
            })
            .collect();
        let mut seen = HashSet::new();
        for racer in racers {
            seen.insert(racer.await.unwrap());
        }
        assert_eq!(seen.len(), 1, "{}: every racer reads back the same value", backend.name);
        let winner = seen.into_iter().next().unwrap();
        assert_eq!(store.get_meta("paypal_identity").await.unwrap(), Some(winner), "{}", backend.name);
    }
}

/// A paced webhook with `policy`, beside the tenant's unpaced one.
async fn paced_webhook(store: &dyn Store, account: &AccountId, url: &str, policy: DeliveryPolicy) -> WebhookId {
    let webhook = Webhook { policy, ..webhook_to(account, url) };
    store.create_webhook(NewWebhook { webhook: webhook.clone(), sealed_secret: vec![0; 40], limit: 10 }).await.unwrap();
    webhook.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paced_webhooks_are_claimed_by_their_rules_and_do_not_hold_back_the_others() {
    for backend in backends().await {
        let store = backend.store.as_ref();
        let name = backend.name;
        let (account, plain) = tenant(store).await;
        let now = Timestamp::now();
        let fifo = DeliveryPolicy { ordering: DeliveryOrder::Fifo, ..Default::default() };
        let fifo = paced_webhook(store, &account, "http://127.0.0.1:9/fifo", fifo).await;
        let capped = DeliveryPolicy { max_in_flight: Some(2), ..Default::default() };
        let capped = paced_webhook(store, &account, "http://127.0.0.1:9/capped", capped).await;
        let rated = DeliveryPolicy { rate_limit: Some(10), ..Default::default() };
        let rated = paced_webhook(store, &account, "http://127.0.0.1:9/rated", rated).await;
        let fifo_ids = pending(store, &account, &fifo, 5, now).await;
        pending(store, &account, &capped, 5, now).await;
        pending(store, &account, &rated, 30, now).await;
        pending(store, &account, &plain, 5, now).await;

        let first = store.claim_due_deliveries(claim(now, 1, Duration::from_secs(60), 100)).await.unwrap();
        let count = |id: &WebhookId| first.iter().filter(|d| &d.target.webhook_id == id).count();
        assert_eq!(count(&plain), 5, "{name}: unpaced deliveries all go");
        assert_eq!(count(&capped), 2, "{name}: at most two in flight");
        assert_eq!(count(&rated), 11, "{name}: 10/s hands out the slots of the next second (0, 100, …, 1000 ms)");
        let fifo_claimed: Vec<_> = first.iter().filter(|d| d.target.webhook_id == fifo).collect();
        assert_eq!(fifo_claimed.len(), 1, "{name}: FIFO sends one at a time");
        assert_eq!(fifo_claimed[0].delivery_id, fifo_ids[0], "{name}: the oldest first");
        let rated_slots: Vec<_> = first.iter().filter(|d| d.target.webhook_id == rated).map(|d| d.not_before).collect();
        assert_eq!(rated_slots.iter().filter(|slot| slot.is_none()).count(), 1, "{name}: the first goes now");
        assert!(rated_slots.contains(&Some(now.plus(Duration::from_millis(1000)))), "{name}: {rated_slots:?}");

        // While those are in flight nothing more goes, except the rate's next slots as time passes.
        let again = store.claim_due_deliveries(claim(now, 2, Duration::from_secs(60), 100)).await.unwrap();
        assert!(again.is_empty(), "{name}: {} claimed again", again.len());
        let later = now.plus(Duration::from_millis(500));
        let more = store.claim_due_deliveries(claim(later, 3, Duration::from_secs(60), 100)).await.unwrap();
        assert_eq!(more.len(), 5, "{name}: slots 1100 … 1500 ms");
        assert!(more.iter().all(|d| d.target.webhook_id == rated), "{name}");

        // The FIFO head fails and waits for a retry: the next one still waits behind it.
        let head = fifo_claimed[0];
        let record = AttemptRecord {
            attempt: attempt_for(&head.delivery_id, 1),
            status_code: Some(500),
            lease_token: 1,
            transition: DeliveryTransition::RetryAt(now.plus(Duration::from_secs(30))),
            disable_webhook: None,
            failing_limit: None,
        };
        assert_eq!(store.record_attempt(record).await.unwrap(), RecordOutcome::Applied(HealthChange::StartedFailing));
        let blocked = store.claim_due_deliveries(claim(later, 4, Duration::from_secs(60), 100)).await.unwrap();
        assert!(blocked.iter().all(|d| d.target.webhook_id != fifo), "{name}: the queue waits for its head");
        // Once the head is given up, the next in line goes.
        let record = AttemptRecord {
            attempt: attempt_for(&head.delivery_id, 2),
            status_code: Some(500),
            lease_token: 5,
            transition: DeliveryTransition::Exhausted,
            disable_webhook: None,
            failing_limit: None,
        };
        let retry_time = now.plus(Duration::from_secs(30));
        let head_again = store.claim_due_deliveries(claim(retry_time, 5, Duration::from_secs(60), 100)).await.unwrap();
        let head_again: Vec<_> = head_again.iter().filter(|d| d.target.webhook_id == fifo).collect();
        assert_eq!(head_again.len(), 1, "{name}");
        assert_eq!(head_again[0].delivery_id, fifo_ids[0], "{name}: the retry of the head");
        assert_eq!(store.record_attempt(record).await.unwrap(), RecordOutcome::Applied(HealthChange::Unchanged));
        let next = store.claim_due_deliveries(claim(retry_time, 6, Duration::from_secs(60), 100)).await.unwrap();
        let next: Vec<_> = next.iter().filter(|d| d.target.webhook_id == fifo).map(|d| &d.delivery_id).collect();
        assert_eq!(next, vec![&fifo_ids[1]], "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_counts_follow_the_deliveries_outcomes() {
    for backend in backends().await {
        let (store, name) = (backend.store.as_ref(), backend.name);
        let (account, webhook) = tenant(store).await;
        let started = Timestamp::from_millis(Timestamp::now().as_millis() - 1);
        let now = Timestamp::now();
        let ids = pending(store, &account, &webhook, 6, now).await;
        let claimed = store.claim_due_deliveries(claim(now, 9, Duration::from_secs(60), 4)).await.unwrap();
        assert_eq!(claimed.len(), 4, "{name}");
        let later = now.plus(Duration::from_secs(600));
        let outcomes = [
            (Some(200), DeliveryTransition::Succeeded),
            (Some(204), DeliveryTransition::Succeeded),
            (Some(500), DeliveryTransition::Exhausted),
            (Some(503), DeliveryTransition::RetryAt(later)),
        ];
        for (delivery, (status, transition)) in claimed.iter().zip(outcomes) {
            let record = AttemptRecord {
                attempt: attempt_for(&delivery.delivery_id, 1),
                status_code: status,
                lease_token: 9,
                transition,
                disable_webhook: None,
                failing_limit: None,
            };
            store.record_attempt(record).await.unwrap();
        }
        let stats = store.delivery_stats(&webhook, started).await.unwrap();
        assert_eq!(stats, DeliveryStats { total: 6, failed: 1, retrying: 1 }, "{name}");
        let after = store.delivery_stats(&webhook, now.plus(Duration::from_secs(1))).await.unwrap();
        assert_eq!(after, DeliveryStats::default(), "{name}: deliveries made before the window are not counted");

        let event = store.list_deliveries(&webhook, None, PageRequest { after: None, limit: 100 }).await.unwrap();
        let first = event.iter().find(|d| d.id == ids[0]).unwrap();
        let found = store.event_deliveries(&account, &first.event_id).await.unwrap();
        assert_eq!(found.iter().map(|d| &d.id).collect::<Vec<_>>(), vec![&ids[0]], "{name}");
        let (stranger, _) = tenant(store).await;
        assert!(store.event_deliveries(&stranger, &first.event_id).await.unwrap().is_empty(), "{name}: scoped");

        let other = webhook_to(&account, "http://127.0.0.1:9/other");
        store
            .create_webhook(NewWebhook { webhook: other.clone(), sealed_secret: vec![0; 40], limit: 10 })
            .await
            .unwrap();
        let disable = WebhookChanges { status: Some(WebhookStatus::Disabled), ..Default::default() };
        store.update_webhook(&account, &other.id, disable, Timestamp::now()).await.unwrap();
        let overview = store.overview(Timestamp::now(), 10).await.unwrap();
        assert_eq!((overview.pending, overview.due), (3, 2), "{name}: two waiting unclaimed, one retrying later");
        assert_eq!(overview.disabled_count, 1, "{name}");
        assert_eq!(overview.disabled.iter().map(|w| &w.id).collect::<Vec<_>>(), vec![&other.id], "{name}");
        assert_eq!(overview.failing.iter().map(|(w, _)| &w.id).collect::<Vec<_>>(), vec![&webhook], "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_are_scoped_and_read_their_accounts_events_in_order() {
    for backend in backends().await {
        let (store, name) = (backend.store.as_ref(), backend.name);
        let (account, webhook) = tenant(store).await;
        let (stranger, _) = tenant(store).await;
        let now = Timestamp::now();
        let listener = |account: &AccountId, created_at: Timestamp| StoredListener {
            listener: Listener {
                id: ListenerId::generate(),
                account_id: account.clone(),
                format: DeliveryFormat::Stripe,
                event_types: vec![Subscription::All],
                created_at,
            },
            sealed_secret: vec![7; 40],
        };
        let old = listener(&account, Timestamp::from_millis(now.as_millis() - 7_200_000));
        store.create_listener(old.clone(), Timestamp::from_millis(0)).await.unwrap();
        store.touch_listener(&old.listener.id, Timestamp::from_millis(now.as_millis() - 7_200_000)).await.unwrap();
        let fresh = listener(&account, now);
        // Creating one removes those not seen since the cut-off.
        store.create_listener(fresh.clone(), Timestamp::from_millis(now.as_millis() - 3_600_000)).await.unwrap();
        assert!(store.get_listener(&account, &old.listener.id).await.unwrap().is_none(), "{name}: idle one removed");
        let found = store.get_listener(&account, &fresh.listener.id).await.unwrap().unwrap();
        assert_eq!(found.sealed_secret, vec![7; 40], "{name}");
        assert_eq!(found.listener.format, DeliveryFormat::Stripe, "{name}");
        assert!(store.get_listener(&stranger, &fresh.listener.id).await.unwrap().is_none(), "{name}: scoped");

        let ids = pending(store, &account, &webhook, 3, now).await;
        let events: Vec<EventId> = store
            .list_deliveries(&webhook, None, PageRequest { after: None, limit: 10 })
            .await
            .unwrap()
            .into_iter()
            .filter(|d| ids.contains(&d.id))
            .map(|d| d.event_id)
            .collect();
        let mut expected = events.clone();
        expected.sort();
        let start = EventId::floor_at(fresh.listener.created_at);
        let read: Vec<EventId> =
            store.events_after(&account, &start, 10).await.unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(read, expected, "{name}: oldest first");
        let rest: Vec<EventId> =
            store.events_after(&account, &read[0], 1).await.unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(rest, vec![read[1].clone()], "{name}: after a cursor, bounded");
        assert!(store.events_after(&stranger, &start, 10).await.unwrap().is_empty(), "{name}: another account's");

        assert!(!store.delete_listener(&stranger, &fresh.listener.id).await.unwrap(), "{name}");
        assert!(store.delete_listener(&account, &fresh.listener.id).await.unwrap(), "{name}");
        assert!(store.get_listener(&account, &fresh.listener.id).await.unwrap().is_none(), "{name}");
    }
}
