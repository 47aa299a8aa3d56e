//! The delivery log as the dashboard reads it.

use crate::*;

pub async fn dashboard_counts_follow_the_deliveries_outcomes(backend: Backend) {
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
            event_id: delivery.event_id.clone(),
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
    store.create_webhook(NewWebhook { webhook: other.clone(), sealed_secret: vec![0; 40], limit: 10 }).await.unwrap();
    let disable = WebhookChanges { status: Some(WebhookStatus::Disabled), ..Default::default() };
    store.update_webhook(&account, &other.id, disable, Timestamp::now()).await.unwrap();
    let overview = store.overview(Timestamp::now(), 10).await.unwrap();
    assert_eq!((overview.pending, overview.due), (3, 2), "{name}: two waiting unclaimed, one retrying later");
    assert_eq!(overview.disabled_count, 1, "{name}");
    assert_eq!(overview.disabled.iter().map(|w| &w.id).collect::<Vec<_>>(), vec![&other.id], "{name}");
    assert_eq!(overview.failing.iter().map(|(w, _)| &w.id).collect::<Vec<_>>(), vec![&webhook], "{name}");
}

contract!(dashboard_counts_follow_the_deliveries_outcomes);
