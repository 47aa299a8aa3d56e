//! Trace context: a publish's `traceparent` is kept with the event, and every attempt of every delivery
//! (a retry claimed from the store included) sends a `traceparent` in the publisher's trace, with a span id
//! of its own; a malformed one is ignored and never fails the publish.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async fn publish_with(app: &TestApp, merchant: &Merchant, headers: &[(&str, &str)], n: u32) -> Value {
    let body = json!({"account_id": merchant.id, "event_type": "charge.succeeded", "resource": {"n": n}});
    let mut request = app.operator(Method::POST, "/v1/events").json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 202);
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_attempt_continues_the_publishers_trace() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    // The first attempt fails, so the second is a retry the poller claims from the store.
    let receiver = Receiver::start_with_script(&[500]).await;
    app.create_webhook(&merchant, &receiver.url, &["*"]).await;

    let traced =
        publish_with(&app, &merchant, &[("traceparent", PARENT), ("tracestate", "congo=t61rcWkgMzE")], 1).await;
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    let mut spans = Vec::new();
    for request in &got {
        assert_eq!(request.header("webhook-id"), traced["id"].as_str().unwrap());
        let parts: Vec<&str> = request.header("traceparent").split('-').collect();
        assert_eq!(parts.len(), 4, "{}", request.header("traceparent"));
        assert_eq!((parts[0], parts[1], parts[3]), ("00", TRACE_ID, "01"), "the publisher's trace and sampling");
        assert_ne!(parts[2], "00f067aa0ba902b7", "a span of the attempt's own");
        assert_eq!(request.header("tracestate"), "congo=t61rcWkgMzE");
        spans.push(parts[2].to_owned());
    }
    assert_ne!(spans[0], spans[1], "each attempt is a span of its own");

    // No context, or a malformed one: nothing is invented, and the publish is not refused.
    publish_with(&app, &merchant, &[], 2).await;
    publish_with(&app, &merchant, &[("traceparent", "00-not-a-trace-01")], 3).await;
    let got = receiver.wait_for(4, Duration::from_secs(10)).await;
    assert!(got[2..].iter().all(|request| request.header("traceparent").is_empty()));
}
