//! Webhooks: the per-account limit under concurrent creation.

use crate::*;

pub async fn webhook_limits_hold_under_concurrent_creation(backend: Backend) {
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

contract!(webhook_limits_hold_under_concurrent_creation);
