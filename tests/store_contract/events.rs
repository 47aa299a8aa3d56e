//! Stored events: retention.

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

contract!(retention_deletes_old_events_with_their_deliveries_and_attempts);
