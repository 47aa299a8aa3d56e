//! Broker destinations against the real local RabbitMQ, NATS JetStream and Redis: a published event
//! arrives on each, signed as an HTTP delivery is; a broker that is down, or whose exchange or stream is
//! missing, fails the attempts until it is back and then gets the event; FIFO order holds through an
//! outage; the URL's password is sealed and never shown back.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::Proxy;
use crate::common::brokers::{self, Consumed, Inbox, NatsStream, RabbitQueue, RedisStream};
use crate::support::*;

const WAIT: Duration = Duration::from_secs(20);

/// Whether all three brokers run (see [`brokers::available`]).
async fn brokers_available() -> bool {
    brokers::available("RabbitMQ", brokers::RABBITMQ).await
        & brokers::available("NATS", brokers::NATS).await
        & brokers::available("Redis", brokers::REDIS).await
}

/// A Herald that retries every 300 ms for a while, so that an outage of a few seconds is ridden out.
async fn patient_app() -> TestApp {
    spawn_app_with(|settings| settings.retry_schedule = vec!["300ms"; 40].join(",").parse().unwrap()).await
}

/// Every attempt's error code (`none` for a success) for the webhook's last 100 deliveries.
async fn attempt_errors(app: &TestApp, merchant: &Merchant, webhook: &str) -> Vec<String> {
    attempts_of(app, merchant, webhook).await.iter().map(error_code).collect()
}

/// The webhook's attempt error codes, once `enough` says they are.
async fn errors_once(app: &TestApp, merchant: &Merchant, webhook: &str, enough: fn(&[String]) -> bool) -> Vec<String> {
    eventually(WAIT, || async {
        let errors = attempt_errors(app, merchant, webhook).await;
        enough(&errors).then_some(errors)
    })
    .await
}

fn any(errors: &[String]) -> bool {
    !errors.is_empty()
}

fn two_failures(errors: &[String]) -> bool {
    errors.iter().filter(|code| *code != "none").count() >= 2
}

fn the_event(message: &Consumed, event: &Value, secret: &str) {
    message.verify(secret);
    verified_by_the_cli(message, secret);
    assert_eq!(message.json()["id"], event["id"]);
    assert_eq!(message.header("webhook-id"), event["id"].as_str().unwrap());
    assert_eq!(message.header("content-type"), "application/json");
}

/// `herald verify` takes a broker message's headers saved as a JSON object, as a consumer would save them.
fn verified_by_the_cli(message: &Consumed, secret: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (headers, body) = (dir.path().join("headers.json"), dir.path().join("body.json"));
    std::fs::write(&headers, serde_json::to_string(&message.headers).unwrap()).unwrap();
    std::fs::write(&body, &message.body).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["verify", "--secret", secret, "--headers-file"])
        .arg(&headers)
        .arg("--body-file")
        .arg(&body)
        .output()
        .unwrap();
    assert!(output.status.success(), "herald verify: {}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test]
async fn a_published_event_arrives_signed_on_each_broker() {
    if !brokers_available().await {
        return;
    }
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let (rabbit, nats, redis) = (RabbitQueue::declared().await, NatsStream::created().await, RedisStream::new().await);
    let amqp_hook = app.create_webhook(&merchant, &rabbit.url(brokers::RABBITMQ), &["*"]).await;
    let nats_hook = app.create_webhook(&merchant, &nats.url(brokers::NATS), &["*"]).await;
    let redis_hook = app.create_webhook(&merchant, &redis.url(brokers::REDIS), &["*"]).await;
    // The password is sealed: the webhook shows `***` in its place, on create and on every read.
    let shown = amqp_hook["url"].as_str().unwrap();
    assert_eq!(shown, rabbit.url(brokers::RABBITMQ).replace("guest:guest@", "guest:***@"));
    let read = fetch_json(app.merchant(
        &merchant,
        Method::GET,
        &format!("/v1/notifications/webhooks/{}", amqp_hook["id"].as_str().unwrap()),
    ))
    .await;
    assert_eq!(read["url"], shown);

    let event = app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1", "amount": 1200})).await;
    the_event(&rabbit.wait_for(1, WAIT).await[0], &event, amqp_hook["secret"].as_str().unwrap());
    let from_nats = &nats.wait_for(1, WAIT).await[0];
    the_event(from_nats, &event, nats_hook["secret"].as_str().unwrap());
    assert!(from_nats.header("Nats-Msg-Id").starts_with("dlv_"), "deduplicated per delivery: {from_nats:?}");
    the_event(&redis.wait_for(1, WAIT).await[0], &event, redis_hook["secret"].as_str().unwrap());

    // Each delivery succeeded on its first attempt, logged against the URL as shown.
    for hook in [&amqp_hook, &nats_hook, &redis_hook] {
        let id = hook["id"].as_str().unwrap();
        let errors = errors_once(&app, &merchant, id, any).await;
        assert_eq!(errors, ["none"], "{}", hook["url"]);
        let path = format!("/v1/notifications/webhooks/{id}/deliveries");
        let list = fetch_json(app.merchant(&merchant, Method::GET, &path)).await;
        let delivery = list["deliveries"][0]["id"].as_str().unwrap().to_owned();
        let detail = fetch_json(app.merchant(&merchant, Method::GET, &format!("{path}/{delivery}"))).await;
        assert_eq!(detail["attempts"][0]["request"]["url"], hook["url"]);
        assert!(!detail.to_string().contains("guest:guest"), "the password is nowhere in the log");
    }
    nats.delete().await;
    redis.delete().await;
}

#[tokio::test]
async fn a_broker_that_is_down_fails_the_attempts_and_gets_the_event_once_it_is_back() {
    if !brokers_available().await {
        return;
    }
    let app = patient_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let (rabbit, nats, redis) = (RabbitQueue::declared().await, NatsStream::created().await, RedisStream::new().await);
    let proxies = [
        Proxy::start(brokers::RABBITMQ.into()).await,
        Proxy::start(brokers::NATS.into()).await,
        Proxy::start(brokers::REDIS.into()).await,
    ];
    let urls = [
        rabbit.url(&proxies[0].address.to_string()),
        nats.url(&proxies[1].address.to_string()),
        redis.url(&proxies[2].address.to_string()),
    ];
    let mut hooks = Vec::new();
    for url in &urls {
        hooks.push(app.create_webhook(&merchant, url, &["*"]).await);
    }
    // A first event opens the connections, then every broker goes away under them.
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_0"})).await;
    rabbit.wait_for(1, WAIT).await;
    nats.wait_for(1, WAIT).await;
    redis.wait_for(1, WAIT).await;
    proxies.iter().for_each(Proxy::cut);

    let event = app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    for hook in &hooks {
        let id = hook["id"].as_str().unwrap();
        let failed = errors_once(&app, &merchant, id, two_failures).await;
        let failure = failed.iter().find(|code| *code != "none").unwrap();
        assert!(
            ["connection_failed", "connection_broken", "timeout"].contains(&failure.as_str()),
            "{}: {failed:?}",
            hook["url"]
        );
    }
    assert_eq!(rabbit.read().await.len(), 1, "nothing arrived while the brokers were down");
    proxies.iter().for_each(Proxy::restore);
    let inboxes: [&dyn Inbox; 3] = [&rabbit, &nats, &redis];
    for (inbox, hook) in inboxes.into_iter().zip(&hooks) {
        let got = inbox.wait_for(2, WAIT).await;
        the_event(&got[1], &event, hook["secret"].as_str().unwrap());
    }
    nats.delete().await;
    redis.delete().await;
}

#[tokio::test]
async fn a_missing_exchange_or_stream_fails_the_attempts_until_it_exists() {
    if !brokers_available().await {
        return;
    }
    let app = patient_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let (rabbit, nats) = (RabbitQueue::named().await, NatsStream::named().await);
    let amqp_hook = app.create_webhook(&merchant, &rabbit.url(brokers::RABBITMQ), &["*"]).await;
    let nats_hook = app.create_webhook(&merchant, &nats.url(brokers::NATS), &["*"]).await;
    let event = app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    for hook in [&amqp_hook, &nats_hook] {
        let id = hook["id"].as_str().unwrap();
        let failed = errors_once(&app, &merchant, id, |errors| errors.len() >= 2).await;
        assert!(failed.iter().all(|code| code == "broker_rejected"), "{}: {failed:?}", hook["url"]);
    }
    let path = format!("/v1/notifications/webhooks/{}/deliveries", nats_hook["id"].as_str().unwrap());
    let list = fetch_json(app.merchant(&merchant, Method::GET, &path)).await;
    let detail = fetch_json(app.merchant(
        &merchant,
        Method::GET,
        &format!("{path}/{}", list["deliveries"][0]["id"].as_str().unwrap()),
    ))
    .await;
    let message = detail["attempts"][0]["error"]["message"].as_str().unwrap();
    assert!(message.contains(&nats.subject), "the error names what is missing: {message}");

    rabbit.declare().await;
    nats.create().await;
    the_event(&rabbit.wait_for(1, WAIT).await[0], &event, amqp_hook["secret"].as_str().unwrap());
    the_event(&nats.wait_for(1, WAIT).await[0], &event, nats_hook["secret"].as_str().unwrap());
    nats.delete().await;
}

#[tokio::test]
async fn fifo_order_holds_on_a_broker_through_an_outage() {
    if !brokers_available().await {
        return;
    }
    let app = patient_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let redis = RedisStream::new().await;
    let proxy = Proxy::start(brokers::REDIS.into()).await;
    let url = redis.url(&proxy.address.to_string());
    let hook = app.create_webhook_with(&merchant, &url, json!({"ordering": "fifo"})).await;
    let mut published = Vec::new();
    for n in 0..30 {
        if n == 10 {
            // The broker goes away with deliveries queued behind the one in flight.
            redis.wait_for(3, WAIT).await;
            proxy.cut();
        }
        let event = app.publish_ok(&merchant, "charge.succeeded", json!({"n": n})).await;
        published.push(event["id"].as_str().unwrap().to_owned());
    }
    let id = hook["id"].as_str().unwrap();
    errors_once(&app, &merchant, id, two_failures).await;
    proxy.restore();
    let got = redis.wait_for(30, WAIT).await;
    let order: Vec<String> = got.iter().map(|m| m.header("webhook-id").to_owned()).collect();
    let mut first_seen = Vec::new();
    for id in order {
        if !first_seen.contains(&id) {
            first_seen.push(id);
        }
    }
    assert_eq!(first_seen, published, "publish order, every event");
    redis.delete().await;
}

#[tokio::test]
async fn a_url_sent_back_as_shown_keeps_its_password_and_a_wrong_one_fails_clearly() {
    if !brokers::available("RabbitMQ", brokers::RABBITMQ).await {
        return;
    }
    let app = patient_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let rabbit = RabbitQueue::declared().await;
    let hook = app
        .create_webhook(&merchant, &rabbit.url(brokers::RABBITMQ).replace("guest:guest", "guest:wrong"), &["*"])
        .await;
    let id = hook["id"].as_str().unwrap();
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    let failed = errors_once(&app, &merchant, id, any).await;
    assert_eq!(failed[0], "connection_failed", "a refused login cannot connect");

    let patch = |value: String| {
        let body = json!([{"op": "replace", "path": "/url", "value": value}]);
        app.merchant(&merchant, Method::PATCH, &format!("/v1/notifications/webhooks/{id}"))
            .header("content-type", "application/json-patch+json")
            .body(body.to_string())
            .send()
    };
    let fixed = patch(rabbit.url(brokers::RABBITMQ)).await.unwrap();
    assert_eq!(fixed.status(), 200);
    rabbit.wait_for(1, WAIT).await;
    // The URL as shown (with ***) and another routing key: the password stays.
    let shown: Value = fixed.json().await.unwrap();
    let shown = shown["url"].as_str().unwrap().to_owned();
    assert!(shown.contains("guest:***@"), "{shown}");
    let kept = patch(shown.replace("routing_key=payments", "routing_key=payments&exchange=")).await.unwrap();
    assert_eq!(kept.status(), 422, "a parameter twice is refused");
    let kept = patch(shown.clone()).await.unwrap();
    assert_eq!(kept.status(), 200);
    // The kept password goes to this broker and user only, never to another host.
    let moved = patch(shown.replace("@127.0.0.1:", "@127.0.0.2:")).await.unwrap();
    assert_eq!(moved.status(), 422, "a hidden password does not follow the URL to another host");
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_2"})).await;
    rabbit.wait_for(2, WAIT).await;

    // A new webhook cannot say *** for a password it never had, and a refusal never echoes one.
    let body = json!({"url": shown, "event_types": [{"name": "*"}]});
    let refused = app.merchant(&merchant, Method::POST, "/v1/notifications/webhooks").json(&body).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let body = json!({"url": "amqp://guest:hunter2@127.0.0.1/%2f?exchange=e&queue=q", "event_types": [{"name": "*"}]});
    let refused = app.merchant(&merchant, Method::POST, "/v1/notifications/webhooks").json(&body).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["details"][0]["issue"], "INVALID_URL", "{error}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn the_guard_refuses_a_broker_host_before_connecting() {
    // 10.0.0.1 is outside the test's allowed subnet: refused by the policy, nothing is sent anywhere.
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let hook = app.create_webhook(&merchant, "redis://10.0.0.1:6379/0?stream=s", &["*"]).await;
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    let id = hook["id"].as_str().unwrap();
    let errors = errors_once(&app, &merchant, id, any).await;
    assert_eq!(errors[0], "destination_refused");
}
