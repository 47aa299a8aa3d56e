//! The data path end to end: publish → store → fan-out → signed delivery → attempt log → retries.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use herald::domain::WebhookId;
use herald::domain::model::DeliveryState;
use herald::store::PageRequest;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::{Receiver, eventually, spawn_app};

const WAIT: Duration = Duration::from_secs(10);

/// Standard Webhooks verification written from the specification, independent of Herald's own crate.
fn verify_standard_webhooks(secret: &str, id: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    let key = BASE64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
    header.split(' ').any(|signature| signature == expected)
}

fn all_deliveries() -> PageRequest {
    PageRequest { after: None, limit: 500 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_event_is_delivered_signed_with_the_published_bytes() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let webhook = app.create_webhook(&merchant, &receiver.url, &["charge.succeeded"]).await;
    let secret = webhook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));

    let response = app.publish(&merchant, "charge.succeeded", json!({"id": "ch_1", "amount": 54000})).await;
    assert_eq!(response.status(), 202);
    let accepted = response.bytes().await.unwrap();
    let event: Value = serde_json::from_slice(&accepted).unwrap();

    let arrived = receiver.wait_for(1, WAIT).await;
    let delivery = &arrived[0];
    assert_eq!(delivery.body, accepted, "the delivered bytes are the accepted event, byte for byte");
    assert_eq!(delivery.header("webhook-id"), event["id"].as_str().unwrap());
    assert_eq!(delivery.header("content-type"), "application/json");
    let timestamp = delivery.header("webhook-timestamp");
    let sent_at: i64 = timestamp.parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now - sent_at).abs() < 60);
    let signature = delivery.header("webhook-signature");
    assert!(verify_standard_webhooks(secret, delivery.header("webhook-id"), timestamp, &delivery.body, signature));
    assert!(!verify_standard_webhooks(secret, delivery.header("webhook-id"), timestamp, b"{}", signature));

    assert_eq!(event["event_type"], "charge.succeeded");
    assert_eq!(event["resource"], json!({"id": "ch_1", "amount": 54000}));
    assert_eq!(event["resource_type"], "thing");
    assert_eq!(event["event_version"], "1.0");
    let self_link = format!("{}/v1/notifications/webhooks-events/{}", app.base, event["id"].as_str().unwrap());
    assert_eq!(event["links"][0]["href"], self_link.as_str());

    // The merchant sees the same event through the API.
    let path = format!("/v1/notifications/webhooks-events/{}", event["id"].as_str().unwrap());
    let shown = app.merchant(&merchant, reqwest::Method::GET, &path).send().await.unwrap();
    assert_eq!(shown.status(), 200);
    assert_eq!(shown.bytes().await.unwrap(), accepted);

    // And the attempt log records the success.
    let webhook_id = WebhookId::parse(webhook["id"].as_str().unwrap()).unwrap();
    let deliveries = eventually(WAIT, || async {
        let found =
            app.store.list_deliveries(&webhook_id, Some(DeliveryState::Succeeded), all_deliveries()).await.unwrap();
        (!found.is_empty()).then_some(found)
    })
    .await;
    assert_eq!(deliveries[0].attempt_count, 1);
    assert_eq!(deliveries[0].last_status_code, Some(200));
    let attempts = app.store.list_attempts(&deliveries[0].id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].response.as_ref().unwrap().status, 200);
    assert_eq!(attempts[0].response.as_ref().unwrap().body, b"");
    assert!(attempts[0].request_headers.iter().any(|(n, v)| n == "webhook-signature" && v == signature));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_follows_each_webhooks_type_filter() {
    let app = spawn_app().await;
    for name in ["charge.succeeded", "charge.dispute.closed", "invoice.updated"] {
        app.put_event_type(name).await;
    }
    let merchant = app.create_account("Acme").await;
    let everything = Receiver::start().await;
    let charges = Receiver::start().await;
    let disputes = Receiver::start().await;
    app.create_webhook(&merchant, &everything.url, &["*"]).await;
    app.create_webhook(&merchant, &charges.url, &["charge.succeeded"]).await;
    app.create_webhook(&merchant, &disputes.url, &["charge.dispute.closed", "invoice.updated"]).await;
    // Another merchant's webhook must not see this merchant's events.
    let other = app.create_account("Other").await;
    let stranger = Receiver::start().await;
    app.create_webhook(&other, &stranger.url, &["*"]).await;

    for event_type in ["charge.succeeded", "charge.dispute.closed", "invoice.updated", "charge.succeeded"] {
        app.publish_ok(&merchant, event_type, json!({"kind": event_type})).await;
    }

    let types = |received: Vec<crate::support::Received>| -> Vec<String> {
        let mut types: Vec<String> =
            received.iter().map(|r| r.json()["event_type"].as_str().unwrap().to_owned()).collect();
        types.sort();
        types
    };
    assert_eq!(
        types(everything.wait_for(4, WAIT).await),
        ["charge.dispute.closed", "charge.succeeded", "charge.succeeded", "invoice.updated"]
    );
    assert_eq!(types(charges.wait_for(2, WAIT).await), ["charge.succeeded", "charge.succeeded"]);
    assert_eq!(types(disputes.wait_for(2, WAIT).await), ["charge.dispute.closed", "invoice.updated"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(everything.received().len(), 4, "no extra deliveries");
    assert_eq!(charges.received().len(), 2);
    assert_eq!(disputes.received().len(), 2);
    assert!(stranger.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_gets_retries_on_schedule_until_it_succeeds() {
    // The harness schedule is "100ms,200ms" with ±20 % jitter.
    let app = spawn_app().await;
    let receiver = Receiver::start_with_script(&[500, 503]).await;
    app.put_event_type("payment.failed").await;
    let merchant = app.create_account("Acme").await;
    let webhook = app.create_webhook(&merchant, &receiver.url, &["payment.failed"]).await;
    let event = app.publish_ok(&merchant, "payment.failed", json!({"payment_id": 3016})).await;

    let arrived = receiver.wait_for(3, WAIT).await;
    let ids: Vec<&str> = arrived.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids, [event["id"].as_str().unwrap(); 3], "retries carry the same webhook-id");
    assert!(arrived.iter().all(|r| r.body == arrived[0].body), "retries send the same bytes");
    let first_gap = arrived[1].at - arrived[0].at;
    let second_gap = arrived[2].at - arrived[1].at;
    // The lower bounds show each wait was kept; the upper ones only that no retry was lost to a long sleep
    // (a loaded 2-core machine can add hundreds of milliseconds of its own).
    assert!(first_gap >= Duration::from_millis(80) && first_gap < Duration::from_secs(2), "{first_gap:?}");
    assert!(second_gap >= Duration::from_millis(160) && second_gap < Duration::from_secs(3), "{second_gap:?}");

    let webhook_id = WebhookId::parse(webhook["id"].as_str().unwrap()).unwrap();
    let delivery = eventually(WAIT, || async {
        let found =
            app.store.list_deliveries(&webhook_id, Some(DeliveryState::Succeeded), all_deliveries()).await.unwrap();
        found.into_iter().next()
    })
    .await;
    assert_eq!(delivery.attempt_count, 3);
    let attempts = app.store.list_attempts(&delivery.id).await.unwrap();
    let statuses: Vec<u16> = attempts.iter().map(|a| a.response.as_ref().unwrap().status).collect();
    assert_eq!(statuses, [500, 503, 200]);
    assert_eq!(attempts.iter().map(|a| a.number).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(attempts[0].error.as_ref().unwrap().code, "unexpected_status");
    assert!(attempts[2].error.is_none());
    let gap = attempts[1].started_at.since(attempts[0].started_at);
    assert!(gap >= Duration::from_millis(80), "recorded start times show the spacing: {gap:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_never_succeeds_is_marked_failed_after_the_last_attempt() {
    let app = spawn_app().await;
    let receiver = Receiver::start_with_script(&[500, 500, 500, 500]).await;
    app.put_event_type("payment.failed").await;
    let merchant = app.create_account("Acme").await;
    let webhook = app.create_webhook(&merchant, &receiver.url, &["*"]).await;
    app.publish_ok(&merchant, "payment.failed", json!({})).await;
    receiver.wait_for(3, WAIT).await;
    let webhook_id = WebhookId::parse(webhook["id"].as_str().unwrap()).unwrap();
    let failed = eventually(WAIT, || async {
        let found =
            app.store.list_deliveries(&webhook_id, Some(DeliveryState::Failed), all_deliveries()).await.unwrap();
        found.into_iter().next()
    })
    .await;
    assert_eq!(failed.attempt_count, 3);
    assert_eq!(failed.next_attempt_at, None);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 3, "no attempt beyond the schedule");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_the_webhook() {
    let app = spawn_app().await;
    let receiver = Receiver::start_with_script(&[410]).await;
    app.put_event_type("subscription.canceled").await;
    let merchant = app.create_account("Acme").await;
    let webhook = app.create_webhook(&merchant, &receiver.url, &["*"]).await;
    let path = format!("/v1/notifications/webhooks/{}", webhook["id"].as_str().unwrap());
    app.publish_ok(&merchant, "subscription.canceled", json!({"n": 1})).await;
    receiver.wait_for(1, WAIT).await;

    let shown: Value = eventually(WAIT, || async {
        let shown: Value =
            app.merchant(&merchant, reqwest::Method::GET, &path).send().await.unwrap().json().await.unwrap();
        (shown["status"] == "DISABLED").then_some(shown)
    })
    .await;
    assert!(shown["disabled_reason"].as_str().unwrap().contains("410"));

    app.publish_ok(&merchant, "subscription.canceled", json!({"n": 2})).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.received().len(), 1, "a disabled webhook gets nothing: no retry, no new event");

    // Enabling it again resumes the delivery that was pending, and only that one.
    let enable = json!([{"op": "replace", "path": "/status", "value": "ENABLED"}]);
    let enabled = app.merchant(&merchant, reqwest::Method::PATCH, &path).json(&enable).send().await.unwrap();
    assert_eq!(enabled.status(), 200);
    let arrived = receiver.wait_for(2, WAIT).await;
    assert_eq!(arrived[1].json()["resource"]["n"], 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotent_publish_returns_the_first_result_and_creates_nothing() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let webhook = app.create_webhook(&merchant, &receiver.url, &["*"]).await;
    let body = json!({"account_id": merchant.id, "event_type": "charge.succeeded", "resource": {"id": "ch_1"}});
    let publish = |body: Value| {
        app.operator(reqwest::Method::POST, "/v1/events").header("Idempotency-Key", "order-42").json(&body).send()
    };

    let first = publish(body.clone()).await.unwrap();
    assert_eq!(first.status(), 202);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = first.bytes().await.unwrap();
    let again = publish(body.clone()).await.unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.bytes().await.unwrap(), first, "the same event, byte for byte");

    let changed = json!({"account_id": merchant.id, "event_type": "charge.succeeded", "resource": {"id": "ch_2"}});
    let conflict = publish(changed).await.unwrap();
    assert_eq!(conflict.status(), 409);
    let error: Value = conflict.json().await.unwrap();
    assert_eq!(error["name"], "RESOURCE_CONFLICT");

    receiver.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1);
    let webhook_id = WebhookId::parse(webhook["id"].as_str().unwrap()).unwrap();
    let stored = app.store.list_deliveries(&webhook_id, None, all_deliveries()).await.unwrap();
    assert_eq!(stored.len(), 1, "one delivery stored for one event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_is_forgotten_after_its_lifetime() {
    let app = crate::support::spawn_app_with(|s| s.idempotency_key_lifetime = Duration::from_secs(1)).await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let publish = |n: u32| {
        let body = json!({"account_id": merchant.id, "event_type": "charge.succeeded", "resource": {"n": n}});
        app.operator(reqwest::Method::POST, "/v1/events").header("Idempotency-Key", "order-43").json(&body).send()
    };
    assert_eq!(publish(1).await.unwrap().status(), 202);
    assert_eq!(publish(2).await.unwrap().status(), 409, "within its lifetime the key belongs to the first request");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let later = publish(2).await.unwrap();
    assert_eq!(later.status(), 202, "an expired key is new again");
    assert!(later.headers().get("idempotent-replayed").is_none());
    let event: Value = later.json().await.unwrap();
    assert_eq!(event["resource"]["n"], 2);
    let again = publish(2).await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true", "and replays its new answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_publishes_every_event_and_a_deleted_webhook_gets_nothing_more() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    app.put_event_type("payment.created").await;
    let merchant = app.create_account("Acme").await;
    let webhook = app.create_webhook(&merchant, &receiver.url, &["*"]).await;
    let events: Vec<Value> = (0..25)
        .map(|n| json!({"account_id": merchant.id, "event_type": "payment.created", "resource": {"payment_id": n}}))
        .collect();
    let response =
        app.operator(reqwest::Method::POST, "/v1/events/batch").json(&json!({"events": events})).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["events"].as_array().unwrap().len(), 25);
    let arrived = receiver.wait_for(25, WAIT).await;
    let mut ids: Vec<i64> = arrived.iter().map(|r| r.json()["resource"]["payment_id"].as_i64().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, (0..25).collect::<Vec<_>>());

    let path = format!("/v1/notifications/webhooks/{}", webhook["id"].as_str().unwrap());
    let deleted = app.merchant(&merchant, reqwest::Method::DELETE, &path).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.merchant(&merchant, reqwest::Method::GET, &path).send().await.unwrap().status(), 404);
    app.publish_ok(&merchant, "payment.created", json!({"payment_id": 99})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 25);
}
