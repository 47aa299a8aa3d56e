//! The delivery queue: claims under a lease, fencing, idempotency, paced admission.

use crate::*;

/// A paced webhook with `policy`, beside the tenant's unpaced one.
async fn paced_webhook(store: &dyn Store, account: &AccountId, url: &str, policy: DeliveryPolicy) -> WebhookId {
    let webhook = Webhook { policy, ..webhook_to(account, url) };
    store.create_webhook(NewWebhook { webhook: webhook.clone(), sealed_secret: vec![0; 40], limit: 10 }).await.unwrap();
    webhook.id
}

pub async fn concurrent_claims_never_hand_out_the_same_delivery(backend: Backend) {
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

pub async fn an_expired_lease_is_claimed_again_and_the_old_holder_cannot_overwrite_it(backend: Backend) {
    let store = backend.store.as_ref();
    let (account, webhook) = tenant(store).await;
    let start = Timestamp::now();
    let id = pending(store, &account, &webhook, 1, start).await.remove(0);
    let first = store.claim_due_deliveries(claim(start, 11, Duration::from_secs(10), 10)).await.unwrap();
    assert_eq!(first.len(), 1, "{}", backend.name);
    assert_eq!(first[0].body, Bytes::from("{\"n\":0}"));
    let held = store.claim_due_deliveries(claim(start.plus(Duration::from_secs(5)), 12, Duration::from_secs(10), 10));
    assert!(held.await.unwrap().is_empty(), "{}: a live lease is not claimed again", backend.name);
    let later = start.plus(Duration::from_secs(11));
    let second = store.claim_due_deliveries(claim(later, 13, Duration::from_secs(10), 10)).await.unwrap();
    assert_eq!(second.len(), 1, "{}: an expired lease is claimed again", backend.name);

    let stale = AttemptRecord {
        attempt: attempt_for(&id, 1),
        event_id: event_of(&id),
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
        event_id: event_of(&id),
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

pub async fn idempotency_keys_replay_or_refuse(backend: Backend) {
    let store = backend.store.as_ref();
    let day_ago = Timestamp::now().minus(Duration::from_secs(86_400));
    let record = |hash: u8, response: &'static str| IdempotencyRecord {
        key: "order-7".into(),
        request_hash: [hash; 32],
        response: Bytes::from(response),
        forget_before: day_ago,
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
    let other = store.publish(PublishBatch { idempotency: Some(record(2, "x")), events: vec![], deliveries: vec![] });
    assert!(matches!(other.await, Err(StoreError::IdempotencyKeyReused)), "{}", backend.name);

    // Once the key has expired it is new again: another request may use it, and that answer replays.
    let expired =
        IdempotencyRecord { forget_before: Timestamp::now().plus(Duration::from_secs(1)), ..record(2, "third") };
    let reused = store.publish(PublishBatch { idempotency: Some(expired), events: vec![], deliveries: vec![] });
    assert!(matches!(reused.await.unwrap(), PublishOutcome::Committed), "{}: an expired key", backend.name);
    let replay =
        store.publish(PublishBatch { idempotency: Some(record(2, "fourth")), events: vec![], deliveries: vec![] });
    match replay.await.unwrap() {
        PublishOutcome::Replayed { response } => assert_eq!(response, Bytes::from("third"), "{}", backend.name),
        other => panic!("{}: {other:?}", backend.name),
    }
}

pub async fn paced_webhooks_are_claimed_by_their_rules_and_do_not_hold_back_the_others(backend: Backend) {
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
        event_id: head.event_id.clone(),
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
        event_id: head.event_id.clone(),
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

/// An attempt moves its webhook's health: the first failure starts a streak, a failure past the failing
/// limit disables the webhook, a success ends the streak.
pub async fn attempts_move_their_webhooks_health(backend: Backend) {
    let (store, name) = (backend.store.as_ref(), backend.name);
    let (account, webhook) = tenant(store).await;
    let now = Timestamp::now();
    let ids = pending(store, &account, &webhook, 4, now).await;
    assert_eq!(store.claim_due_deliveries(claim(now, 21, Duration::from_secs(60), 10)).await.unwrap().len(), 4);
    let record = |id: &DeliveryId, transition, limit: Option<Timestamp>| AttemptRecord {
        attempt: attempt_for(id, 1),
        event_id: event_of(id),
        status_code: Some(500),
        lease_token: 21,
        transition,
        disable_webhook: None,
        failing_limit: limit.map(|since_before| FailingLimit { since_before, reason: "failing too long".into() }),
    };
    let applied = |change| RecordOutcome::Applied(change);
    let succeeded = store.record_attempt(record(&ids[0], DeliveryTransition::Succeeded, None)).await.unwrap();
    assert_eq!(succeeded, applied(HealthChange::Unchanged), "{name}: a healthy webhook stays so");
    let a_day_ago = Timestamp::from_millis(now.as_millis() - 86_400_000);
    let retry = DeliveryTransition::RetryAt(now.plus(Duration::from_secs(60)));
    let failed = store.record_attempt(record(&ids[1], retry, Some(a_day_ago))).await.unwrap();
    assert_eq!(failed, applied(HealthChange::StartedFailing), "{name}: the streak began after the limit");
    let in_an_hour = now.plus(Duration::from_secs(3600));
    let exhausted = store.record_attempt(record(&ids[2], DeliveryTransition::Exhausted, Some(in_an_hour))).await;
    assert_eq!(exhausted.unwrap(), applied(HealthChange::Disabled("failing too long".into())), "{name}");
    let stored = store.get_webhook(&account, &webhook).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.disabled_reason.as_deref()), (WebhookStatus::Disabled, Some("failing too long")));
    let recovered = store.record_attempt(record(&ids[3], DeliveryTransition::Succeeded, None)).await.unwrap();
    assert_eq!(recovered, applied(HealthChange::Recovered), "{name}: a success ends the streak");
}

/// Attempts recorded at once (as a node's workers do, and as the backends then group them) each get their
/// own outcome: the stale ones change nothing, the others move their deliveries on, and all are logged.
pub async fn many_attempts_recorded_at_once_each_get_their_own_outcome(backend: Backend) {
    let (store, name) = (backend.store.clone(), backend.name);
    let (account, webhook) = tenant(store.as_ref()).await;
    let now = Timestamp::now();
    let ids = pending(store.as_ref(), &account, &webhook, 24, now).await;
    assert_eq!(store.claim_due_deliveries(claim(now, 7, Duration::from_secs(60), 100)).await.unwrap().len(), 24);
    let later = now.plus(Duration::from_secs(300));
    let kind = |i: usize| i % 4; // 0: fails and retries, 3: stale, else succeeds
    let tasks: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (store, id) = (store.clone(), id.clone());
            let (transition, token) = match kind(i) {
                0 => (DeliveryTransition::RetryAt(later), 7),
                3 => (DeliveryTransition::Succeeded, 999),
                _ => (DeliveryTransition::Succeeded, 7),
            };
            let record = AttemptRecord {
                attempt: attempt_for(&id, 1),
                event_id: event_of(&id),
                status_code: Some(if kind(i) == 0 { 500 } else { 200 }),
                lease_token: token,
                transition,
                disable_webhook: None,
                failing_limit: None,
            };
            tokio::spawn(async move { store.record_attempt(record).await.unwrap() })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let outcome = task.await.unwrap();
        assert_eq!(kind(i) == 3, outcome == RecordOutcome::Stale, "{name}: attempt {i}: {outcome:?}");
    }
    let page = PageRequest { after: None, limit: 100 };
    let deliveries = store.list_deliveries(&webhook, None, page).await.unwrap();
    for (i, id) in ids.iter().enumerate() {
        let delivery = deliveries.iter().find(|d| &d.id == id).unwrap();
        let expected = match kind(i) {
            0 => (DeliveryState::Pending, 1, Some(later)),
            3 => (DeliveryState::Pending, 0, Some(now)),
            _ => (DeliveryState::Succeeded, 1, None),
        };
        assert_eq!((delivery.state, delivery.attempt_count, delivery.next_attempt_at), expected, "{name}: {i}");
        assert_eq!(store.list_attempts(id).await.unwrap().len(), 1, "{name}: every attempt is logged");
    }
}

contract!(
    concurrent_claims_never_hand_out_the_same_delivery,
    an_expired_lease_is_claimed_again_and_the_old_holder_cannot_overwrite_it,
    idempotency_keys_replay_or_refuse,
    paced_webhooks_are_claimed_by_their_rules_and_do_not_hold_back_the_others,
    attempts_move_their_webhooks_health,
    many_attempts_recorded_at_once_each_get_their_own_outcome
);

/// A delivery cancelled while an attempt was in flight (its webhook deleted) stays cancelled: the attempt
/// is logged, its result is stale.
pub async fn an_attempt_on_a_cancelled_delivery_is_stale(backend: Backend) {
    let (store, name) = (backend.store.as_ref(), backend.name);
    let (account, webhook) = tenant(store).await;
    let now = Timestamp::now();
    let id = pending(store, &account, &webhook, 1, now).await.remove(0);
    assert_eq!(store.claim_due_deliveries(claim(now, 31, Duration::from_secs(60), 10)).await.unwrap().len(), 1);
    assert!(store.delete_webhook(&account, &webhook, now).await.unwrap());
    let record = AttemptRecord {
        attempt: attempt_for(&id, 1),
        event_id: event_of(&id),
        status_code: Some(200),
        lease_token: 31,
        transition: DeliveryTransition::Succeeded,
        disable_webhook: None,
        failing_limit: None,
    };
    assert_eq!(store.record_attempt(record).await.unwrap(), RecordOutcome::Stale, "{name}");
    let stored = store.get_delivery(&webhook, &id).await.unwrap().unwrap();
    assert_eq!(stored.state, DeliveryState::Cancelled, "{name}");
    assert_eq!(store.list_attempts(&id).await.unwrap().len(), 1, "{name}: the attempt is logged");
}

contract!(an_attempt_on_a_cancelled_delivery_is_stale);
