//! Crash safety on every broker kind: SIGKILL `herald serve` while it publishes to RabbitMQ, NATS
//! JetStream and Redis, restart it on the same data directory, and every accepted event reaches each
//! broker (at least once; a copy carries the same `webhook-id`).

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::HeraldProcess;
use common::brokers::{self, Inbox, NatsStream, RabbitQueue, RedisStream};
use serde_json::{Value, json};

const TOKEN: &str = "broker-crash-token";
const EVENTS: usize = 600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_publish_loses_nothing_on_any_broker() {
    let up = brokers::available("RabbitMQ", brokers::RABBITMQ).await
        & brokers::available("NATS", brokers::NATS).await
        & brokers::available("Redis", brokers::REDIS).await;
    if !up {
        return;
    }
    let data_dir = tempfile::tempdir().unwrap();
    let start =
        || HeraldProcess::start(data_dir.path(), TOKEN, &[], &[("HERALD_RETRY_SCHEDULE", "200ms,500ms,1s,2s,5s")]);
    let mut herald = start();
    let http = reqwest::Client::new();
    let (rabbit, nats, redis) = (RabbitQueue::declared().await, NatsStream::created().await, RedisStream::new().await);
    let account = common::create_account(&http, &herald.base, TOKEN, "payment.created").await;
    let (client_id, client_secret) = (account["client_id"].as_str().unwrap(), account["client_secret"].as_str());
    // 100 a second per webhook, so the 600 events take six seconds each and the kill lands mid-way.
    for url in [rabbit.url(brokers::RABBITMQ), nats.url(brokers::NATS), redis.url(brokers::REDIS)] {
        let body = json!({"url": url, "event_types": [{"name": "*"}], "rate_limit": 100});
        let created = http
            .post(format!("{}/v1/notifications/webhooks", herald.base))
            .basic_auth(client_id, client_secret)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }

    let mut accepted = HashSet::new();
    for n in 0..EVENTS {
        let body = json!({"account_id": account["id"], "event_type": "payment.created", "resource": {"n": n}});
        let response =
            http.post(format!("{}/v1/events", herald.base)).bearer_auth(TOKEN).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 202);
        let event: Value = response.json().await.unwrap();
        accepted.insert(event["id"].as_str().unwrap().to_owned());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while redis.read().await.len() < 100 {
        assert!(Instant::now() < deadline, "deliveries did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    herald.kill();
    let before = [rabbit.read().await.len(), nats.read().await.len(), redis.read().await.len()];
    assert!(before.iter().any(|n| *n < EVENTS), "the kill must land mid-way ({before:?} of {EVENTS})");

    let _restarted = start();
    let inboxes: [(&str, &dyn Inbox); 3] = [("RabbitMQ", &rabbit), ("NATS", &nats), ("Redis", &redis)];
    for (name, inbox) in inboxes {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let got = inbox.read().await;
            let ids: HashSet<String> = got.iter().map(|m| m.header("webhook-id").to_owned()).collect();
            if accepted.is_subset(&ids) {
                eprintln!("broker crash test: {name} got {} messages for {} events", got.len(), accepted.len());
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{name}: {} of {} events arrived after the restart",
                accepted.intersection(&ids).count(),
                accepted.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    eprintln!("broker crash test: arrived before the kill {before:?} (RabbitMQ, NATS, Redis) of {EVENTS}");
    nats.delete().await;
    redis.delete().await;
}
