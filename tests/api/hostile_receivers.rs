//! Receivers that misbehave cost one failed attempt each, never a crashed worker.

use std::time::Duration;

use herald::deliver::destination::DestinationPolicy;
use herald::domain::WebhookId;
use herald::domain::model::{Attempt, DeliveryState};
use herald::store::PageRequest;
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{Receiver, TestApp, eventually, spawn_app_with};

#[derive(Clone, Copy)]
enum Misbehaviour {
    /// Reads the request and never answers.
    Hang,
    /// Reads the request and resets the connection.
    Reset,
    /// Answers 200 with a 10 MiB body.
    HugeBody,
    /// Answers with a status line followed by a line that is not a header.
    GarbageHeaders,
    /// Answers 500 and asks, with `webhook-delivery: abort`, that the delivery not be retried.
    AbortRetries,
}

/// A raw TCP "HTTP server" that misbehaves in one way on every connection.
async fn start_hostile(behaviour: Misbehaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(misbehave(stream, behaviour));
        }
    });
    url
}

async fn misbehave(mut stream: TcpStream, behaviour: Misbehaviour) {
    let mut buffer = vec![0u8; 64 * 1024];
    let _ = stream.read(&mut buffer).await;
    match behaviour {
        Misbehaviour::Hang => tokio::time::sleep(Duration::from_secs(3600)).await,
        Misbehaviour::Reset => {
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Misbehaviour::HugeBody => {
            let size = 10 * 1024 * 1024;
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\nx-receiver: hostile\r\n\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let chunk = vec![b'a'; 64 * 1024];
            for _ in 0..(size / chunk.len()) {
                if stream.write_all(&chunk).await.is_err() {
                    break;
                }
            }
        }
        Misbehaviour::AbortRetries => {
            let answer =
                b"HTTP/1.1 500 Internal Server Error\r\nwebhook-delivery: abort\r\ncontent-length: 2\r\n\r\nno";
            let _ = stream.write_all(answer).await;
        }
        Misbehaviour::GarbageHeaders => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nthis is not a header\r\n\r\n").await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

async fn finished_attempt(app: &TestApp, webhook: &str) -> (DeliveryState, Attempt) {
    let id = WebhookId::parse(webhook).unwrap();
    eventually(Duration::from_secs(10), || async {
        let deliveries = app.store.list_deliveries(&id, None, PageRequest { after: None, limit: 10 }).await.unwrap();
        let delivery = deliveries.into_iter().find(|d| d.state != DeliveryState::Pending)?;
        let attempt = app.store.list_attempts(&delivery.id).await.unwrap().into_iter().next()?;
        Some((delivery.state, attempt))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_misbehaviour_is_one_recorded_failure_and_delivery_goes_on() {
    let app = spawn_app_with(|s| {
        s.delivery_timeout = Duration::from_millis(700);
        s.retry_schedule = "".parse().unwrap();
    })
    .await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let mut webhooks = Vec::new();
    for behaviour in [Misbehaviour::Hang, Misbehaviour::Reset, Misbehaviour::HugeBody, Misbehaviour::GarbageHeaders] {
        let url = start_hostile(behaviour).await;
        let created = app.create_webhook(&merchant, &url, &["*"]).await;
        webhooks.push(created["id"].as_str().unwrap().to_owned());
    }
    let healthy = Receiver::start().await;
    app.create_webhook(&merchant, &healthy.url, &["*"]).await;

    app.publish_ok(&merchant, "charge.succeeded", json!({"n": 1})).await;

    let (state, hang) = finished_attempt(&app, &webhooks[0]).await;
    assert_eq!(state, DeliveryState::Failed);
    assert_eq!(hang.error.as_ref().unwrap().code, "timeout");
    assert!(hang.response.is_none());
    assert!(hang.duration_ms >= 600, "{}", hang.duration_ms);

    let (state, reset) = finished_attempt(&app, &webhooks[1]).await;
    assert_eq!(state, DeliveryState::Failed);
    assert_eq!(reset.error.as_ref().unwrap().code, "connection_broken", "{:?}", reset.error);

    let (state, huge) = finished_attempt(&app, &webhooks[2]).await;
    let response = huge.response.as_ref().unwrap();
    assert_eq!(state, DeliveryState::Succeeded, "a 2xx is a success even with an oversized body");
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len(), 16 * 1024);
    assert!(response.truncated);
    assert!(response.headers.iter().any(|(n, v)| n == "x-receiver" && v == "hostile"));

    let (state, garbage) = finished_attempt(&app, &webhooks[3]).await;
    assert_eq!(state, DeliveryState::Failed);
    assert_eq!(garbage.error.as_ref().unwrap().code, "connection_broken", "{:?}", garbage.error);

    // The worker is still alive: the healthy receiver got the first event and gets the next one.
    healthy.wait_for(1, Duration::from_secs(10)).await;
    app.publish_ok(&merchant, "charge.succeeded", json!({"n": 2})).await;
    let arrived = healthy.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(arrived[1].json()["resource"]["n"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_destinations_are_refused_unless_allowed() {
    // The default policy: loopback is internal and not allow-listed. Only loopback URLs are used, so
    // nothing could leave this machine even if the guard failed.
    // The test's own resolver maps a made-up name to the receiver; a redirector on 127.0.0.2 (the one
    // allowed address) points at the receiver too.
    let receiver = Receiver::start().await;
    let redirector = start_redirector(&receiver.url).await;
    let hosts = vec![("merchant.test".to_owned(), "127.0.0.1".parse().unwrap())];
    let refusing = spawn_app_with(|s| {
        s.destinations =
            DestinationPolicy { allow: vec!["127.0.0.2/32".parse().unwrap()], hosts, ..Default::default() };
        s.retry_schedule = "".parse().unwrap();
    })
    .await;
    let urls = [
        receiver.url.clone(),
        receiver.url.replace("127.0.0.1", "localhost"),
        receiver.url.replace("127.0.0.1", "merchant.test"),
    ];
    let refused = deliver_once_to(&refusing, &urls, &redirector).await;
    for (webhook, url) in refused.iter().zip(&urls) {
        let (state, attempt) = finished_attempt(&refusing, webhook["id"].as_str().unwrap()).await;
        assert_eq!(state, DeliveryState::Failed);
        let error = attempt.error.unwrap();
        assert_eq!(error.code, "destination_refused", "{url}: {}", error.message);
        assert!(error.message.contains("loopback"), "{}", error.message);
        assert!(attempt.response.is_none());
    }
    let (state, attempt) = finished_attempt(&refusing, refused[3]["id"].as_str().unwrap()).await;
    assert_eq!(state, DeliveryState::Failed);
    assert_eq!(attempt.response.unwrap().status, 307, "the redirector answered");
    assert_eq!(attempt.error.unwrap().code, "redirect_not_followed");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receiver.received().is_empty(), "no request reached the receiver");

    // The same receiver, once loopback is allow-listed, gets one delivery per URL (the redirect is still
    // a failure, never followed).
    let hosts = vec![("merchant.test".to_owned(), "127.0.0.1".parse().unwrap())];
    let allowing = spawn_app_with(|s| {
        s.destinations = DestinationPolicy { allow: vec!["127.0.0.0/8".parse().unwrap()], hosts, ..Default::default() };
        s.retry_schedule = "".parse().unwrap();
    })
    .await;
    deliver_once_to(&allowing, &urls, &redirector).await;
    receiver.wait_for(3, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 3);
}

/// Makes one webhook per URL plus one to `redirector`, and publishes one event to them all.
async fn deliver_once_to(app: &TestApp, urls: &[String], redirector: &str) -> Vec<serde_json::Value> {
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let mut webhooks = Vec::new();
    for url in urls.iter().map(String::as_str).chain([redirector]) {
        webhooks.push(app.create_webhook(&merchant, url, &["*"]).await);
    }
    app.publish_ok(&merchant, "charge.succeeded", json!({"n": 1})).await;
    webhooks
}

/// An HTTP server on 127.0.0.2 that answers every request with a redirect to `target`.
async fn start_redirector(target: &str) -> String {
    let listener = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let answer = format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {target}\r\ncontent-length: 0\r\n\r\n");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let _ = stream.read(&mut buffer).await;
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_can_stop_the_retries_of_one_delivery() {
    let app = spawn_app_with(|s| s.retry_schedule = "50ms,50ms,50ms".parse().unwrap()).await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let url = start_hostile(Misbehaviour::AbortRetries).await;
    let webhook = app.create_webhook(&merchant, &url, &["*"]).await;
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    let (state, attempt) = finished_attempt(&app, webhook["id"].as_str().unwrap()).await;
    assert_eq!(state, DeliveryState::Failed, "given up at once");
    assert_eq!(attempt.error.as_ref().unwrap().code, "aborted_by_receiver");
    assert_eq!(attempt.response.as_ref().unwrap().status, 500);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id = WebhookId::parse(webhook["id"].as_str().unwrap()).unwrap();
    let deliveries = app.store.list_deliveries(&id, None, PageRequest { after: None, limit: 10 }).await.unwrap();
    assert_eq!(app.store.list_attempts(&deliveries[0].id).await.unwrap().len(), 1, "no retry was made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_only_installation_refuses_plain_http_urls() {
    let app = spawn_app_with(|s| s.destinations.https_only = true).await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let body = json!({"url": "http://127.0.0.1:9/hook", "event_types": [{"name": "*"}]});
    let answer =
        crate::support::fetch_json(app.merchant(&merchant, Method::POST, "/v1/notifications/webhooks").json(&body))
            .await;
    assert_eq!(answer["name"], "VALIDATION_ERROR");
    assert_eq!(answer["details"][0]["issue"], "INVALID_URL");
    assert!(answer["details"][0]["description"].as_str().unwrap().contains("https"));
    let https = json!({"url": "https://127.0.0.1:9/hook", "event_types": [{"name": "*"}]});
    let created =
        app.merchant(&merchant, Method::POST, "/v1/notifications/webhooks").json(&https).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let simulate = json!({"url": "http://127.0.0.1:9/x", "event_type": "charge.succeeded"});
    let refused =
        app.merchant(&merchant, Method::POST, "/v1/notifications/simulate-event").json(&simulate).send().await.unwrap();
    assert_eq!(refused.status(), 422);
}

/// Herald's own events at the operator's receiver, checked against the operator secret: `(type, resource)`.
fn operator_events(receiver: &Receiver, secret: &str) -> Vec<(String, serde_json::Value)> {
    let secret = herald_signature::standard::SigningSecret::parse(secret).unwrap();
    receiver
        .received()
        .iter()
        .map(|r| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
            let (id, ts, sig) = (r.header("webhook-id"), r.header("webhook-timestamp"), r.header("webhook-signature"));
            herald_signature::standard::verify(&secret, id, ts, sig, &r.body, now)
                .expect("signed with the operator secret");
            let event = r.json();
            (event["event_type"].as_str().unwrap().to_owned(), event["resource"].clone())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_failing_for_too_long_is_disabled_and_the_operator_hears_of_it() {
    const OPERATOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let operator = Receiver::start().await;
    let operator_url = operator.url.clone();
    let app = spawn_app_with(|s| {
        s.retry_schedule = ["100ms"; 40].join(",").parse().unwrap();
        s.disable_after = Duration::from_millis(600);
        s.operator_url = Some(operator_url);
        s.operator_secret = Some(OPERATOR_SECRET.into());
    })
    .await;
    app.put_event_type("charge.succeeded").await;
    app.put_event_type("charge.refunded").await;
    let merchant = app.create_account("Acme").await;
    let failing = Receiver::start_with_script(&[503; 100]).await;
    let webhook = app.create_webhook(&merchant, &failing.url, &["charge.succeeded"]).await;
    let webhook_id = webhook["id"].as_str().unwrap().to_owned();
    let aborting =
        app.create_webhook(&merchant, &start_hostile(Misbehaviour::AbortRetries).await, &["charge.refunded"]).await;
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    app.publish_ok(&merchant, "charge.refunded", json!({"id": "re_1"})).await;

    // Every attempt fails for longer than the configured 600 ms: the webhook is disabled, with its reason.
    let path = format!("/v1/notifications/webhooks/{webhook_id}");
    let disabled = eventually(Duration::from_secs(10), || async {
        let shown = crate::support::fetch_json(app.merchant(&merchant, Method::GET, &path)).await;
        (shown["status"] == "DISABLED").then_some(shown)
    })
    .await;
    assert_eq!(disabled["disabled_reason"], "every attempt failed for 600ms");
    let attempts_when_disabled = failing.received().len();
    assert!(attempts_when_disabled >= 5, "{attempts_when_disabled} attempts over 600 ms");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(failing.received().len(), attempts_when_disabled, "a disabled webhook gets nothing more");

    // Re-enabled (at a receiver that works), its pending delivery resumes and the webhook has recovered.
    let healthy = Receiver::start().await;
    let enable = json!([{"op": "replace", "path": "/status", "value": "ENABLED"}, {"op": "replace", "path": "/url", "value": healthy.url}]);
    let enabled = crate::support::fetch_json(app.merchant(&merchant, Method::PATCH, &path).json(&enable)).await;
    assert_eq!((enabled["status"].as_str(), &enabled["disabled_reason"]), (Some("ENABLED"), &serde_json::Value::Null));
    let resumed = healthy.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(resumed[0].json()["resource"]["id"], "ch_1");

    // The operator heard everything, signed with its own secret, through the ordinary delivery machinery.
    let kinds = |events: &[(String, serde_json::Value)]| events.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    let events = eventually(Duration::from_secs(10), || async {
        let events = operator_events(&operator, OPERATOR_SECRET);
        let seen = kinds(&events);
        let all = ["webhook.failing", "webhook.disabled", "webhook.recovered", "delivery.exhausted"];
        all.iter().all(|kind| seen.iter().any(|s| s == kind)).then_some(events)
    })
    .await;
    let about = |kind: &str, webhook: &str| {
        events.iter().find(|(k, r)| k == kind && r["webhook_id"] == webhook).map(|(_, r)| r.clone())
    };
    let failing_notice = about("webhook.failing", &webhook_id).expect("webhook.failing");
    assert_eq!(
        (failing_notice["account_id"].as_str(), failing_notice["last_status"].as_u64()),
        (Some(merchant.id.as_str()), Some(503))
    );
    assert_eq!(about("webhook.disabled", &webhook_id).unwrap()["reason"], "every attempt failed for 600ms");
    assert!(about("webhook.recovered", &webhook_id).is_some());
    let exhausted = about("delivery.exhausted", aborting["id"].as_str().unwrap()).expect("delivery.exhausted");
    assert_eq!(exhausted["last_error"], "aborted_by_receiver");
    assert_eq!(kinds(&events).iter().filter(|k| *k == "webhook.disabled").count(), 1, "{:?}", kinds(&events));
}
