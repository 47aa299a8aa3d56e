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

contract!(listeners_are_scoped_and_read_their_accounts_events_in_order, a_listener_creation_that_fails_removes_nothing);

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
