//! A webhook's rate limit holds for the whole cluster: two Herald nodes on one PostgreSQL database publish
//! and deliver, and the receiver still sees the configured rate. A test binary of its own, so that it does
//! not share the machine's two cores with the heavy multi-node test. Ignored unless asked for
//! (`--include-ignored`, as CI does); then it needs PostgreSQL.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Arrivals, HeraldProcess, PgSchema, postgres_url, set_up_tenant, start_slow_receiver};
use serde_json::{Value, json};

const TOKEN: &str = "rate-test-token";

/// A webhook's rate limit holds for the whole cluster: two nodes publish and deliver, and the receiver
/// still sees 20 deliveries a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), run with --include-ignored"]
async fn a_rate_limit_holds_across_nodes() {
    let url = postgres_url();
    let schema = PgSchema::create(&url).await;
    let arrivals: Arrivals = Arc::default();
    let receiver = start_slow_receiver(arrivals.clone(), 8, Duration::ZERO).await;
    let nodes: Vec<HeraldProcess> =
        (1..=2).map(|n| common::start_pg_node(&schema, "rate-node", n, TOKEN, &[])).collect();
    let http = reqwest::Client::new();
    let tenant = set_up_tenant(&http, &nodes[0].base, TOKEN, "payment.created", &receiver).await;
    let limit = json!([{"op": "replace", "path": "/rate_limit", "value": 20}]);
    let patched = http
        .patch(format!("{}/v1/notifications/webhooks/{}", nodes[0].base, tenant.webhook_id))
        .basic_auth(&tenant.client_id, Some(&tenant.client_secret))
        .json(&limit)
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);

    let mut accepted = HashSet::new();
    for n in 0..100 {
        let base = &nodes[n % 2].base;
        let body = json!({"account_id": tenant.account_id, "event_type": "payment.created", "resource": {"id": format!("p{n}")}});
        let response = http.post(format!("{base}/v1/events")).bearer_auth(TOKEN).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 202);
        let event: Value = response.json().await.unwrap();
        accepted.insert(event["id"].as_str().unwrap().to_owned());
    }
    common::wait_until_all_arrived(&arrivals, &accepted, Duration::from_secs(30)).await;
    let times: Vec<Instant> = arrivals.lock().unwrap().iter().map(|(_, _, at)| *at).collect();
    let span = *times.last().unwrap() - times[0];
    let rate = (times.len() - 1) as f64 / span.as_secs_f64();
    eprintln!("two nodes, one webhook limited to 20/s: {} deliveries at {rate:.2}/s", times.len());
    assert!((18.0..=22.0).contains(&rate), "20/s ± 10 % across the cluster, measured {rate:.2}/s");
}
