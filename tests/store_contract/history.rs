//! The stored history's upkeep: retention, and on PostgreSQL the time partitions.

use crate::*;

pub async fn retention_deletes_old_events_with_their_deliveries_and_attempts(backend: Backend) {
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
            event_id: delivery.event_id.clone(),
            status_code: Some(200),
            lease_token: 5,
            transition: DeliveryTransition::Succeeded,
            disable_webhook: None,
            failing_limit: None,
        };
        store.record_attempt(record).await.unwrap();
    }
    let cutoff = Timestamp::from_millis(now.as_millis() - 30 * 86_400_000);
    let rows = |events| Expired { events, partitions: 0 };
    assert_eq!(store.expire_history(cutoff, 2).await.unwrap(), rows(2), "{}: batches are bounded", backend.name);
    assert_eq!(store.expire_history(cutoff, 100).await.unwrap(), rows(3), "{}", backend.name);
    assert_eq!(store.expire_history(cutoff, 100).await.unwrap(), rows(0), "{}", backend.name);
    let left = store.list_deliveries(&webhook, None, PageRequest { after: None, limit: 100 }).await.unwrap();
    assert_eq!(left.len(), 3, "{}: recent deliveries stay", backend.name);
    for id in old_ids {
        assert!(store.list_attempts(&id).await.unwrap().is_empty(), "{}: old attempts went too", backend.name);
    }
}

contract!(retention_deletes_old_events_with_their_deliveries_and_attempts);

pub async fn expired_bookkeeping_goes_and_the_rest_stays(backend: Backend) {
    let (store, name) = (backend.store.as_ref(), backend.name);
    let (account, webhook) = tenant(store).await;
    let now = Timestamp::now();
    let hours_ago = |hours: u64| now.minus(Duration::from_secs(hours * 3600));
    for n in 0..3u8 {
        let record = IdempotencyRecord {
            key: format!("key-{n}"),
            request_hash: [n; 32],
            response: Bytes::from("answer"),
            forget_before: Timestamp::from_millis(0),
        };
        store.publish(PublishBatch { idempotency: Some(record), events: vec![], deliveries: vec![] }).await.unwrap();
    }
    let key = first_key(store, &account).await;
    let token = |hash: u8, expires_at: Timestamp| NewToken {
        token_hash: [hash; 32],
        key_id: key.id.clone(),
        account_id: account.clone(),
        created_at: hours_ago(10),
        expires_at,
    };
    store.create_token(token(1, hours_ago(1))).await.unwrap();
    store.create_token(token(2, now.plus(Duration::from_secs(3600)))).await.unwrap();
    store.create_token(token(3, now.plus(Duration::from_secs(3600)))).await.unwrap();
    store.revoke_token(&[3; 32], now).await.unwrap();
    let listener = |last_seen: Timestamp| StoredListener {
        listener: Listener {
            id: ListenerId::generate(),
            account_id: account.clone(),
            format: DeliveryFormat::Standard,
            event_types: vec![Subscription::All],
            created_at: last_seen,
        },
        sealed_secret: vec![7; 40],
    };
    let (abandoned, live) = (listener(hours_ago(2)), listener(now));
    for listener in [&abandoned, &live] {
        store.create_listener(listener.clone(), Timestamp::from_millis(0)).await.unwrap();
        store.touch_listener(&listener.listener.id, listener.listener.created_at).await.unwrap();
    }

    // Keys are judged by when they were recorded: all three were recorded just now, so a cutoff an hour
    // back keeps them and one just ahead removes them, a batch at a time.
    // A roll: the first secret stops signing a second from now, the new one signs on.
    store.roll_webhook_secret(&webhook, vec![9; 40], now, now.plus(Duration::from_secs(1))).await.unwrap();
    let cutoffs = |keys_before| Bookkeeping {
        keys_before,
        tokens_before: now,
        listeners_before: hours_ago(1),
        secrets_before: now.plus(Duration::from_secs(2)),
    };
    let removed = store.expire_bookkeeping(cutoffs(hours_ago(1)), 10).await.unwrap();
    assert_eq!(removed, Removed { idempotency_keys: 0, tokens: 2, listeners: 1, secrets: 1 }, "{name}");
    let signing = store.webhook_secrets(&webhook, now.plus(Duration::from_secs(2))).await.unwrap();
    assert_eq!(signing.len(), 1, "{name}: the secret that signs stays");
    assert_eq!(store.find_token(&[2; 32], now).await.unwrap(), Some(key.clone()), "{name}: a live token stays");
    assert!(store.get_listener(&account, &abandoned.listener.id).await.unwrap().is_none(), "{name}");
    assert!(store.get_listener(&account, &live.listener.id).await.unwrap().is_some(), "{name}: a live listener stays");
    let ahead = now.plus(Duration::from_secs(60));
    assert_eq!(store.expire_bookkeeping(cutoffs(ahead), 2).await.unwrap().idempotency_keys, 2, "{name}: bounded");
    assert_eq!(store.expire_bookkeeping(cutoffs(ahead), 2).await.unwrap().idempotency_keys, 1, "{name}");
    assert_eq!(store.expire_bookkeeping(cutoffs(ahead), 2).await.unwrap(), Removed::default(), "{name}");
}

contract!(expired_bookkeeping_goes_and_the_rest_stays);

/// PostgreSQL computes the first span's bound itself (in its migration); it must agree with Herald's ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), run with --include-ignored"]
async fn the_databases_id_floor_is_heralds() {
    let schema = common::PgSchema::create(&common::postgres_url()).await;
    drop(herald::store::postgres::PostgresStore::connect(&schema.url, Default::default()).await.unwrap());
    let (client, connection) = tokio_postgres::connect(&schema.url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    for ms in [0_i64, 1, 31, 32, 1_469_922_850_259, Timestamp::now().as_millis(), (1 << 48) - 1] {
        let row = client.query_one("SELECT herald_id_floor('evt_', $1)", &[&ms]).await.unwrap();
        assert_eq!(row.get::<_, String>(0), EventId::floor_at(Timestamp::from_millis(ms)).as_str(), "at {ms} ms");
    }
}

/// Whole spans go at once: the span of an old event is dropped with everything in it, a later span stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), run with --include-ignored"]
async fn postgres_expires_whole_spans() {
    let schema = common::PgSchema::create(&common::postgres_url()).await;
    let settings =
        herald::store::postgres::PoolSettings { partition_span: Duration::from_secs(1), ..Default::default() };
    let store = herald::store::postgres::PostgresStore::connect(&schema.url, settings).await.unwrap();
    assert_eq!(store.history_span(), Some(Duration::from_secs(1)));
    let (account, webhook) = tenant(&store).await;
    let now = Timestamp::now();
    let early = pending(&store, &account, &webhook, 2, now).await;
    // Two spans later, still within the spans made ahead.
    let later = now.plus(Duration::from_millis(2_100));
    store.prepare_history(Timestamp::now()).await.unwrap();
    let event = EventId::generate_at(later);
    let delivery = NewDelivery {
        id: DeliveryId::generate(),
        event_id: event.clone(),
        webhook_id: webhook.clone(),
        account_id: account.clone(),
        trigger: Trigger::Scheduled,
        next_attempt_at: later,
        lease: None,
        single_attempt: false,
    };
    let stored = Event {
        id: event.clone(),
        account_id: account.clone(),
        event_type: EventTypeName::parse("payment.created").unwrap(),
        created_at: later,
        body: Bytes::from_static(b"{}"),
        resource_id: None,
        simulated: false,
        trace: None,
    };
    store.publish(PublishBatch { idempotency: None, events: vec![stored], deliveries: vec![delivery] }).await.unwrap();

    let expired = store.expire_history(now.plus(Duration::from_secs(1)), 100).await.unwrap();
    assert_eq!(expired.events, 0, "no row was deleted one by one");
    assert!(expired.partitions >= 2, "the first span and the one of the early events went: {expired:?}");
    let left = store.list_deliveries(&webhook, None, PageRequest { after: None, limit: 100 }).await.unwrap();
    assert_eq!(left.iter().map(|d| &d.event_id).collect::<Vec<_>>(), [&event], "only the later span's delivery stays");
    for id in &early {
        assert!(store.get_delivery(&webhook, id).await.unwrap().is_none());
    }
    assert!(store.get_event(&account, &event).await.unwrap().is_some());
}
