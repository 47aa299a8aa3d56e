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
