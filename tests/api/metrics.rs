//! `GET /metrics` moves by exactly what happened: events published, attempts by outcome, the histograms.

use std::time::Duration;

use serde_json::json;

use crate::support::{Receiver, TestApp, eventually, spawn_app};

/// The value of one series in the exposition text (0 when it is not there yet).
fn series(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |value| value.trim().parse().unwrap())
}

async fn scrape(app: &TestApp) -> String {
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_was_published_and_delivered() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    // The first answer fails, so one attempt is retried.
    let receiver = Receiver::start_with_script(&[503]).await;
    app.create_webhook(&merchant, &receiver.url, &["*"]).await;
    let before = scrape(&app).await;

    for n in 0..3 {
        app.publish_ok(&merchant, "charge.succeeded", json!({"n": n})).await;
    }
    let succeeded = "herald_delivery_attempts_total{outcome=\"succeeded\",status_class=\"2xx\"}";
    let after = eventually(Duration::from_secs(10), || async {
        let text = scrape(&app).await;
        (series(&text, succeeded) - series(&before, succeeded) == 3.0).then_some(text)
    })
    .await;
    let moved = |name: &str| series(&after, name) - series(&before, name);
    assert_eq!(moved("herald_events_published_total{event_type=\"charge.succeeded\",mode=\"live\"}"), 3.0);
    assert_eq!(moved("herald_delivery_attempts_total{outcome=\"retrying\",status_class=\"5xx\"}"), 1.0);
    assert_eq!(moved("herald_attempt_duration_seconds_count"), 4.0, "three successes and one retried failure");
    assert_eq!(moved("herald_publish_to_first_attempt_seconds_count"), 3.0, "one first attempt per event");
    assert_eq!(series(&after, "herald_attempts_in_flight"), 0.0);
    assert_eq!(receiver.received().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_gauges_come_from_the_store_at_each_scrape() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let receiver = Receiver::start().await;
    // Two deliveries a second at most: five events wait in the queue for a while.
    let paced = app.create_webhook(&merchant, &receiver.url, &["*"]).await;
    let id = paced["id"].as_str().unwrap();
    let patch = json!([{"op": "replace", "path": "/rate_limit", "value": 2}]);
    let path = format!("/v1/notifications/webhooks/{id}");
    assert_eq!(app.merchant(&merchant, reqwest::Method::PATCH, &path).json(&patch).send().await.unwrap().status(), 200);
    let idle = app.create_webhook(&merchant, &format!("{}/other", receiver.url), &["charge.succeeded"]).await;
    let disable = json!([{"op": "replace", "path": "/status", "value": "DISABLED"}]);
    let path = format!("/v1/notifications/webhooks/{}", idle["id"].as_str().unwrap());
    assert_eq!(
        app.merchant(&merchant, reqwest::Method::PATCH, &path).json(&disable).send().await.unwrap().status(),
        200
    );

    for n in 0..5 {
        app.publish_ok(&merchant, "charge.succeeded", json!({"n": n})).await;
    }
    let text = scrape(&app).await;
    assert!(series(&text, "herald_deliveries_pending") >= 3.0, "{text}");
    assert_eq!(series(&text, "herald_webhooks_disabled"), 1.0);
    assert_eq!(series(&text, "herald_store_up"), 1.0);
    eventually(Duration::from_secs(10), || async {
        let text = scrape(&app).await;
        (series(&text, "herald_deliveries_pending") == 0.0 && series(&text, "herald_deliveries_due") == 0.0)
            .then_some(())
    })
    .await;
    assert_eq!(receiver.received().len(), 5);
}
