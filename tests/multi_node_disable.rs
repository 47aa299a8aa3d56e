//! Two Herald nodes on one PostgreSQL database. Node B holds a backlog of deliveries for a webhook in
//! memory (sixteen attempts at a time, its queue holding the rest of sixty, all leased to it, so node A
//! cannot take any; the receiver answers one at a time) when the webhook is disabled through node A: from the moment
//! node A answers, the receiver gets no further request — node B does not send what it already had queued.
//! Ignored unless asked for (`--include-ignored`, as CI does), then it needs PostgreSQL.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Arrivals, PgSchema, postgres_url, set_up_tenant, start_slow_receiver};
use serde_json::json;

const TOKEN: &str = "disable-test-token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), run with --include-ignored"]
async fn a_webhook_disabled_on_one_node_gets_no_request_from_another_after_the_change() {
    let schema = PgSchema::create(&postgres_url()).await;
    let arrivals: Arrivals = Arc::default();
    // One request at a time, 100 ms each; arrivals are recorded as they reach the receiver.
    let receiver = start_slow_receiver(arrivals.clone(), 1, Duration::from_millis(100)).await;
    let a = common::start_pg_node(&schema, "disable", 1, TOKEN, &[]);
    let b = common::start_pg_node(&schema, "disable", 2, TOKEN, &[("HERALD_MAX_IN_FLIGHT", "16")]);
    let http = reqwest::Client::new();
    let tenant = set_up_tenant(&http, &a.base, TOKEN, "payment.created", &receiver).await;

    for n in 0..60 {
        let body = json!({"account_id": tenant.account_id, "event_type": "payment.created", "resource": {"n": n}});
        let answer = http.post(format!("{}/v1/events", b.base)).bearer_auth(TOKEN).json(&body).send().await.unwrap();
        assert_eq!(answer.status(), 202);
    }
    // Let node B work through a few of its backlog.
    let deadline = Instant::now() + Duration::from_secs(10);
    while arrivals.lock().unwrap().len() < 4 {
        assert!(Instant::now() < deadline, "node B never started delivering");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let path = format!("{}/v1/notifications/webhooks/{}", a.base, tenant.webhook_id);
    let disable = json!([{"op": "replace", "path": "/status", "value": "DISABLED"}]);
    let answer = http
        .patch(&path)
        .basic_auth(&tenant.client_id, Some(&tenant.client_secret))
        .json(&disable)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let disabled = Instant::now();
    let before = arrivals.lock().unwrap().len();

    tokio::time::sleep(Duration::from_secs(3)).await;
    let arrivals = arrivals.lock().unwrap().clone();
    let after: Vec<_> = arrivals.iter().filter(|(_, _, reached)| *reached > disabled).collect();
    println!(
        "{before} of 60 deliveries were answered before the disable, {} reached the receiver in all, {} after it",
        arrivals.len(),
        after.len()
    );
    assert!(before < 20, "the backlog was still there when the webhook was disabled ({before} delivered)");
    assert!(after.is_empty(), "{} requests reached the receiver after the disable was answered", after.len());
}
