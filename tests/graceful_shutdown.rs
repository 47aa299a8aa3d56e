//! SIGTERM stops `herald serve` cleanly: it stops taking work, lets the attempt in flight finish and
//! records it, and exits with status 0.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{HeraldProcess, set_up_tenant};
use herald::domain::WebhookId;
use herald::domain::model::DeliveryState;
use herald::store::sqlite::SqliteStore;
use herald::store::{DeliveryLog, PageRequest};
use serde_json::json;

const TOKEN: &str = "shutdown-test-token";

/// A receiver that takes two seconds to answer, and counts the requests that reached it.
async fn start_slow_receiver(started: Arc<AtomicUsize>) -> String {
    let app = axum::Router::new().fallback(move || {
        let started = started.clone();
        async move {
            started.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(2)).await;
            "done"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_attempt_in_flight_finish() {
    let data_dir = tempfile::tempdir().unwrap();
    let started = Arc::new(AtomicUsize::new(0));
    let receiver = start_slow_receiver(started.clone()).await;
    let mut herald = HeraldProcess::start(data_dir.path(), TOKEN, &["--shutdown-grace", "10s"], &[]);
    let http = reqwest::Client::new();
    let tenant = set_up_tenant(&http, &herald.base, TOKEN, "invoice.updated", &receiver).await;
    let event = json!({"account_id": tenant.account_id, "event_type": "invoice.updated", "resource": {"id": "in_1"}});
    let published =
        http.post(format!("{}/v1/events", herald.base)).bearer_auth(TOKEN).json(&event).send().await.unwrap();
    assert_eq!(published.status(), 202);

    while started.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let status = Command::new("kill").args(["-TERM", &herald.pid().to_string()]).status().unwrap();
    assert!(status.success());
    let signalled = Instant::now();
    let exit = tokio::task::spawn_blocking(move || herald.wait()).await.unwrap();
    assert!(exit.success(), "herald exits cleanly on SIGTERM: {exit:?}");
    let waited = signalled.elapsed();
    assert!(waited >= Duration::from_millis(1500), "it waited for the attempt in flight ({waited:?})");
    assert_eq!(started.load(Ordering::SeqCst), 1);

    // The process is gone, so the data directory can be opened directly: the attempt was recorded.
    let store = SqliteStore::open(data_dir.path()).unwrap();
    let webhook_id = WebhookId::parse(&tenant.webhook_id).unwrap();
    let deliveries = store.list_deliveries(&webhook_id, None, PageRequest { after: None, limit: 10 }).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].state, DeliveryState::Succeeded);
    let attempts = store.list_attempts(&deliveries[0].id).await.unwrap();
    assert_eq!(attempts[0].response.as_ref().unwrap().body, b"done");
}
