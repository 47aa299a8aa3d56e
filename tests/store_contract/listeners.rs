//! Listeners: scoping, idle removal, the event cursor, atomic creation.

use crate::*;

pub async fn listeners_are_scoped_and_read_their_accounts_events_in_order(backend: Backend) {
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
    let ids = |page: Vec<(CommitPosition, Event)>| page.into_iter().map(|(_, e)| e.id).collect::<Vec<_>>();
    let from_start = store.stream_position(&account, &start).await.unwrap();
    let read = read_until(store, &account, &from_start, expected.len()).await;
    assert_eq!(read, expected, "{name}: in the order they were committed");
    let after_first = store.stream_position(&account, &read[0]).await.unwrap();
    let rest = ids(store.events_committed_after(&account, &after_first, 1).await.unwrap());
    assert_eq!(rest, vec![read[1].clone()], "{name}: after an event, bounded");
    let theirs = store.stream_position(&stranger, &start).await.unwrap();
    assert!(store.events_committed_after(&stranger, &theirs, 10).await.unwrap().is_empty(), "{name}: scoped");

    assert!(!store.delete_listener(&stranger, &fresh.listener.id).await.unwrap(), "{name}");
    assert!(store.delete_listener(&account, &fresh.listener.id).await.unwrap(), "{name}");
    assert!(store.get_listener(&account, &fresh.listener.id).await.unwrap().is_none(), "{name}");
}

contract!(listeners_are_scoped_and_read_their_accounts_events_in_order, a_listener_creation_that_fails_removes_nothing);

/// An event whose id was made seconds before another's but committed after it is read after it, and a
/// reader that resumes after either event gets exactly what was committed later.
pub async fn streams_follow_the_order_of_commits_not_of_ids(backend: Backend) {
    let (store, name) = (backend.store.as_ref(), backend.name);
    let (account, _) = tenant(store).await;
    let now = Timestamp::now();
    let start = EventId::floor_at(now.minus(Duration::from_secs(60)));
    let early = EventId::generate_at(now.minus(Duration::from_secs(5)));
    let (later, last) = (EventId::generate_at(now), EventId::generate_at(now.plus(Duration::from_millis(1))));
    let position = store.stream_position(&account, &start).await.unwrap();
    for id in [&later, &early, &last] {
        store
            .publish(PublishBatch { idempotency: None, events: vec![event(&account, id)], deliveries: vec![] })
            .await
            .unwrap();
    }
    let account = &account;
    // On PostgreSQL what committed is readable once every older transaction in the cluster has ended,
    // which other tests' transactions may delay by a moment: read until the expected count arrives.
    let read = |position: CommitPosition| async move { read_until(store, account, &position, 3).await };
    assert_eq!(read(position).await, [later.clone(), early.clone(), last.clone()], "{name}: commit order");
    let after_later = store.stream_position(account, &later).await.unwrap();
    let read = |position: CommitPosition, n: usize| async move { read_until(store, account, &position, n).await };
    assert_eq!(read(after_later, 2).await, [early.clone(), last.clone()], "{name}: resumed after the later id");
    let after_early = store.stream_position(account, &early).await.unwrap();
    assert_eq!(read(after_early, 1).await, std::slice::from_ref(&last), "{name}: resumed after the one committed late");
    // An id that names no event (expired, or the start of a stream) resumes before the first later one.
    let gone = EventId::generate_at(now.minus(Duration::from_secs(1)));
    assert_eq!(read(store.stream_position(account, &gone).await.unwrap(), 3).await, [later, early, last], "{name}");
    let ahead = EventId::floor_at(now.plus(Duration::from_secs(60)));
    assert!(read(store.stream_position(account, &ahead).await.unwrap(), 0).await.is_empty(), "{name}: from now on");
}

/// The ids of the events committed after `position`, read again until there are `n` (for 5 s at most).
async fn read_until(store: &dyn Store, account: &AccountId, position: &CommitPosition, n: usize) -> Vec<EventId> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let page = store.events_committed_after(account, position, 10).await.unwrap();
        let ids: Vec<EventId> = page.into_iter().map(|(_, e)| e.id).collect();
        if ids.len() >= n || std::time::Instant::now() > deadline {
            return ids;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn event(account: &AccountId, id: &EventId) -> Event {
    Event {
        id: id.clone(),
        account_id: account.clone(),
        event_type: EventTypeName::parse("payment.created").unwrap(),
        created_at: id.created_at(),
        body: Bytes::from_static(b"{}"),
        resource_id: None,
        simulated: false,
        trace: None,
    }
}

contract!(streams_follow_the_order_of_commits_not_of_ids);

/// On PostgreSQL a transaction may stay open while newer ones commit: a stream waits for it rather than
/// pass it, then reads it first (its transaction is older).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), run with --include-ignored"]
async fn a_stream_waits_for_a_transaction_that_commits_late() {
    let schema = common::PgSchema::create(&common::postgres_url()).await;
    let store = herald::store::postgres::PostgresStore::connect(&schema.url, Default::default()).await.unwrap();
    let (account, _) = tenant(&store).await;
    let position = store.stream_position(&account, &EventId::floor_at(Timestamp::now())).await.unwrap();
    let (mut client, connection) = tokio_postgres::connect(&schema.url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let slow = client.transaction().await.unwrap();
    let late = EventId::generate();
    slow.execute(
        "INSERT INTO events (id, account_id, event_type, created_at, body) VALUES ($1, $2, 'payment.created', $3, '{}')",
        &[&late.as_str(), &account.as_str(), &late.created_at().as_millis()],
    )
    .await
    .unwrap();
    let newer = EventId::generate();
    let batch = PublishBatch { idempotency: None, events: vec![event(&account, &newer)], deliveries: vec![] };
    store.publish(batch).await.unwrap();
    for _ in 0..10 {
        let page = store.events_committed_after(&account, &position, 10).await.unwrap();
        assert!(page.is_empty(), "nothing is read past a transaction still open");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    slow.commit().await.unwrap();
    let read = read_until(&store, &account, &position, 2).await;
    assert_eq!(read, [late, newer], "then both, the older transaction's first");
}

/// Creating a listener removes the idle ones and inserts the new one in one transaction: when the insert
/// fails (here, two creations race with the same id and one must lose), nothing was removed.
pub async fn a_listener_creation_that_fails_removes_nothing(backend: Backend) {
    let (store, name) = (backend.store.clone(), backend.name);
    let (account, _) = tenant(store.as_ref()).await;
    let now = Timestamp::now();
    let hours_ago = Timestamp::from_millis(now.as_millis() - 7_200_000);
    let listener = |id: ListenerId| StoredListener {
        listener: Listener {
            id,
            account_id: account.clone(),
            format: DeliveryFormat::Standard,
            event_types: vec![Subscription::All],
            created_at: hours_ago,
        },
        sealed_secret: vec![1; 40],
    };
    let idle = listener(ListenerId::generate());
    store.create_listener(idle.clone(), Timestamp::from_millis(0)).await.unwrap();
    store.touch_listener(&idle.listener.id, hours_ago).await.unwrap();
    let taken = listener(ListenerId::generate());
    store.create_listener(taken.clone(), Timestamp::from_millis(0)).await.unwrap();
    store.touch_listener(&taken.listener.id, now).await.unwrap();

    let cutoff = Timestamp::from_millis(now.as_millis() - 3_600_000);
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let (store, again) = (store.clone(), listener(taken.listener.id.clone()));
            tokio::spawn(async move { store.create_listener(again, cutoff).await })
        })
        .collect();
    for racer in racers {
        assert!(racer.await.unwrap().is_err(), "{name}: the id is taken");
    }
    assert!(store.get_listener(&account, &idle.listener.id).await.unwrap().is_some(), "{name}: nothing removed");
    store.create_listener(listener(ListenerId::generate()), cutoff).await.unwrap();
    assert!(store.get_listener(&account, &idle.listener.id).await.unwrap().is_none(), "{name}: a success removes it");
}
