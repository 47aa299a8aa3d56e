//! Per-webhook delivery rules, end to end: a rate limit measured at the receiver, a concurrency cap, FIFO
//! order through random failures, and custom headers — each beside an unlimited webhook that must not be
//! held back.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Merchant, Receiver, TestApp, fetch_json, spawn_app, spawn_app_with};

/// Publishes `count` events in one batch, `{"n": 0…}`, in that order.
async fn publish_numbered(app: &TestApp, merchant: &Merchant, count: usize) {
    let events: Vec<Value> = (0..count)
        .map(|n| json!({"account_id": merchant.id, "event_type": "charge.succeeded", "resource": {"n": n}}))
        .collect();
    let response =
        app.operator(Method::POST, "/v1/events/batch").json(&json!({"events": events})).send().await.unwrap();
    assert_eq!(response.status(), 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_webhook_receives_at_its_rate_and_its_neighbour_is_not_slowed() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let (limited, free) = (Receiver::start().await, Receiver::start().await);
    let webhook = app.create_webhook_with(&merchant, &limited.url, json!({"rate_limit": 20})).await;
    assert_eq!(webhook["rate_limit"], 20);
    app.create_webhook_with(&merchant, &free.url, json!({})).await;

    publish_numbered(&app, &merchant, 200).await;
    let free_arrivals = free.wait_for(200, Duration::from_secs(10)).await;
    let limited_so_far = limited.received().len();
    assert!(limited_so_far < 100, "the free webhook got all 200 while the limited one had {limited_so_far}");
    let arrivals = limited.wait_for(200, Duration::from_secs(30)).await;
    let span = arrivals[199].at - arrivals[0].at;
    let rate = 199.0 / span.as_secs_f64();
    eprintln!(
        "rate-limited webhook: {rate:.2}/s over {span:?}; the free one took {:?}",
        free_arrivals[199].at - free_arrivals[0].at
    );
    assert!((18.0..=22.0).contains(&rate), "20/s ± 10 %, measured {rate:.2}/s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_webhook_receives_in_publish_order_through_failures() {
    // Twelve quick retries: a delivery failing 13 times in a row (0.3^13) is practically impossible, so
    // every event arrives and the test can wait for the last one.
    let schedule = ["20ms"; 12].join(",");
    let app = spawn_app_with(|s| s.retry_schedule = schedule.parse().unwrap()).await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    // Three answers in ten fail, drawn at random; the script is long enough for every retry.
    let script: Vec<u16> = (0..2000).map(|_| if rand::random_bool(0.3) { 500 } else { 200 }).collect();
    let fifo = Receiver::start_with_script(&script).await;
    let free = Receiver::start_with_script(&script).await;
    let webhook = app.create_webhook_with(&merchant, &fifo.url, json!({"ordering": "fifo"})).await;
    assert_eq!(webhook["ordering"], "fifo");
    app.create_webhook_with(&merchant, &free.url, json!({})).await;

    publish_numbered(&app, &merchant, 500).await;
    let succeeded = |receiver: &Receiver| {
        let statuses = script.iter();
        receiver.received().into_iter().zip(statuses).filter(|(_, status)| **status == 200).count()
    };
    crate::support::eventually(Duration::from_secs(20), || async { (succeeded(&free) >= 500).then_some(()) }).await;
    let fifo_progress = succeeded(&fifo);
    assert!(fifo_progress < 500, "the free webhook finished first; the FIFO one had {fifo_progress} done");

    let done = |receiver: &Receiver| {
        let received = receiver.received();
        let last = received.last().map(|r| r.json()["resource"]["n"].as_u64().unwrap());
        (last == Some(499) && script[received.len() - 1] == 200).then_some(received)
    };
    let received = crate::support::eventually(Duration::from_secs(90), || async { done(&fifo) }).await;
    let order: Vec<u64> = received.iter().map(|r| r.json()["resource"]["n"].as_u64().unwrap()).collect();
    assert!(order.windows(2).all(|pair| pair[0] <= pair[1]), "every attempt in publish order: {order:?}");
    let failures = script[..received.len()].iter().filter(|s| **s != 200).count();
    eprintln!("FIFO: {} requests for 500 events, {failures} of them answered with a failure", received.len());
    assert!(failures > 50, "the receiver failed often ({failures} times)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_headers_are_sent_and_cannot_override_what_herald_owns() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let receiver = Receiver::start().await;
    let headers = json!({"X-Api-Key": "k-123", "Authorization": "Bearer merchant-token"});
    let webhook = app.create_webhook_with(&merchant, &receiver.url, json!({"headers": headers})).await;
    assert_eq!(webhook["headers"], headers);
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    let delivered = receiver.wait_for(1, Duration::from_secs(10)).await.remove(0);
    assert_eq!(delivered.header("x-api-key"), "k-123");
    assert_eq!(delivered.header("authorization"), "Bearer merchant-token");
    assert!(delivered.header("webhook-signature").starts_with("v1,"));

    let path = format!("/v1/notifications/webhooks/{}", webhook["id"].as_str().unwrap());
    for owned in ["webhook-signature", "Host", "Content-Type", "Transfer-Encoding", "Stripe-Signature"] {
        let patch = json!([{"op": "replace", "path": "/headers", "value": {owned: "spoofed"}}]);
        let refused = fetch_json(app.merchant(&merchant, Method::PATCH, &path).json(&patch)).await;
        assert_eq!(refused["name"], "VALIDATION_ERROR", "{owned}: {refused}");
        assert_eq!(refused["details"][0]["issue"], "INVALID_HEADER");
    }
    let split = json!([{"op": "replace", "path": "/headers", "value": {"X-A": "a\r\nHost: evil"}}]);
    assert_eq!(
        fetch_json(app.merchant(&merchant, Method::PATCH, &path).json(&split)).await["name"],
        "VALIDATION_ERROR"
    );
    let shown = fetch_json(app.merchant(&merchant, Method::GET, &path)).await;
    assert_eq!(shown["headers"], headers, "refused patches changed nothing");

    let rules = json!([
        {"op": "replace", "path": "/rate_limit", "value": 5}, {"op": "replace", "path": "/max_in_flight", "value": 2},
        {"op": "replace", "path": "/ordering", "value": "fifo"}, {"op": "replace", "path": "/headers", "value": {}}
    ]);
    let patched = fetch_json(app.merchant(&merchant, Method::PATCH, &path).json(&rules)).await;
    assert_eq!(
        (&patched["rate_limit"], &patched["max_in_flight"], &patched["ordering"]),
        (&json!(5), &json!(2), &json!("fifo"))
    );
    assert_eq!(patched["headers"], json!({}));
    let bad = json!([{"op": "replace", "path": "/rate_limit", "value": 0}]);
    assert_eq!(fetch_json(app.merchant(&merchant, Method::PATCH, &path).json(&bad)).await["name"], "VALIDATION_ERROR");
    let cleared = json!([{"op": "replace", "path": "/rate_limit", "value": null}]);
    assert!(fetch_json(app.merchant(&merchant, Method::PATCH, &path).json(&cleared)).await["rate_limit"].is_null());
}

/// A receiver that holds each request for `hold` and records the most it ever held at once.
async fn start_counting_receiver(hold: Duration) -> (String, Arc<(AtomicUsize, AtomicUsize, AtomicUsize)>) {
    // (now in flight, most at once, requests answered)
    let counters = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)));
    let shared = counters.clone();
    let app = axum::Router::new().fallback(move || {
        let counters = shared.clone();
        async move {
            let now = counters.0.fetch_add(1, Ordering::SeqCst) + 1;
            counters.1.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(hold).await;
            counters.0.fetch_sub(1, Ordering::SeqCst);
            counters.2.fetch_add(1, Ordering::SeqCst);
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, counters)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrency_cap_bounds_the_requests_a_webhook_holds_at_once() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let (capped_url, capped) = start_counting_receiver(Duration::from_millis(150)).await;
    let (free_url, free) = start_counting_receiver(Duration::from_millis(150)).await;
    app.create_webhook_with(&merchant, &capped_url, json!({"max_in_flight": 2})).await;
    app.create_webhook_with(&merchant, &free_url, json!({})).await;
    publish_numbered(&app, &merchant, 12).await;
    crate::support::eventually(Duration::from_secs(20), || async {
        (capped.2.load(Ordering::SeqCst) == 12 && free.2.load(Ordering::SeqCst) == 12).then_some(())
    })
    .await;
    assert_eq!(capped.1.load(Ordering::SeqCst), 2, "never more than two at once, and two were used");
    assert!(free.1.load(Ordering::SeqCst) > 2, "the uncapped neighbour is not held to it");
}
