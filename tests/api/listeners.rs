//! A listener's event stream sends every event of the account once, in the order they were committed:
//! one committed seconds after an event with a later id was already streamed (ids are made before commit,
//! so commits land out of order), and every one of a burst of a thousand.

use std::time::Duration;

use bytes::Bytes;
use herald::domain::model::Event;
use herald::domain::{AccountId, EventId, EventTypeName, Timestamp};
use herald::store::PublishBatch;
use reqwest::Method;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::support::{Merchant, TestApp, spawn_app};

/// Stores an event with the given id directly, as a publish that committed late would.
async fn store_event(app: &TestApp, merchant: &Merchant, id: &EventId) {
    let event = Event {
        id: id.clone(),
        account_id: AccountId::parse(&merchant.id).unwrap(),
        event_type: EventTypeName::parse("charge.succeeded").unwrap(),
        created_at: Timestamp::now(),
        body: Bytes::from(format!("{{\"id\":\"{id}\"}}")),
        resource_id: None,
        simulated: false,
        trace: None,
    };
    app.store.publish(PublishBatch { idempotency: None, events: vec![event], deliveries: vec![] }).await.unwrap();
}

/// Reads the stream in the background and passes on each event id.
async fn follow(
    app: &TestApp,
    merchant: &Merchant,
    listener: &str,
    last: Option<&str>,
) -> mpsc::UnboundedReceiver<String> {
    let path = format!("/v1/notifications/listeners/{listener}/events");
    let mut request = app.merchant(merchant, Method::GET, &path);
    if let Some(last) = last {
        request = request.header("last-event-id", last);
    }
    let mut response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut text = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = text.find("\n\n") {
                let message: String = text.drain(..end + 2).collect();
                if let Some(id) = message.lines().find_map(|l| l.strip_prefix("id: ")) {
                    let _ = sender.send(id.to_owned());
                }
            }
        }
    });
    receiver
}

async fn next(ids: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(5), ids.recv()).await.expect("an event within 5 s").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_behind_one_already_streamed_is_still_sent_once() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let created = app.merchant(&merchant, Method::POST, "/v1/notifications/listeners").send().await.unwrap();
    assert_eq!(created.status(), 201);
    let listener: Value = created.json().await.unwrap();
    let listener = listener["id"].as_str().unwrap().to_owned();
    let mut ids = follow(&app, &merchant, &listener, None).await;

    // The early id is five seconds older than the late one, and is committed after it.
    let early = EventId::generate_at(Timestamp::now().minus(Duration::from_secs(5)));
    let late = EventId::generate();
    store_event(&app, &merchant, &late).await;
    assert_eq!(next(&mut ids).await, late.as_str());
    store_event(&app, &merchant, &early).await;
    assert_eq!(next(&mut ids).await, early.as_str(), "the event committed late, with an earlier id");
    let published = app.publish_ok(&merchant, "charge.succeeded", serde_json::json!({"n": 1})).await;
    assert_eq!(next(&mut ids).await, published["id"].as_str().unwrap(), "each event once, in commit order");

    // A burst from eight publishers at once: every event arrives, none twice.
    let mut burst = Vec::new();
    let publishers: Vec<_> = (0..8)
        .map(|task| {
            let (http, url, client_id) = (app.http.clone(), app.url("/v1/events"), merchant.id.clone());
            tokio::spawn(async move {
                let mut published = Vec::new();
                for n in 0..125 {
                    let body = serde_json::json!({"account_id": client_id, "event_type": "charge.succeeded",
                                                  "resource": {"task": task, "n": n}});
                    let answer = http.post(&url).bearer_auth(crate::support::ADMIN_TOKEN).json(&body).send().await;
                    let event: Value = answer.unwrap().json().await.unwrap();
                    published.push(event["id"].as_str().unwrap().to_owned());
                }
                published
            })
        })
        .collect();
    for publisher in publishers {
        burst.extend(publisher.await.unwrap());
    }
    let mut streamed = Vec::new();
    while streamed.len() < burst.len() {
        streamed.push(next(&mut ids).await);
    }
    let unique: std::collections::HashSet<&String> = streamed.iter().collect();
    assert_eq!(unique.len(), streamed.len(), "no event of the burst twice");
    assert_eq!(unique, burst.iter().collect(), "every event of the burst");
    assert!(tokio::time::timeout(Duration::from_millis(300), ids.recv()).await.is_err(), "and nothing more");

    // A client resuming after an event gets exactly what was committed after it: the burst, then a newer one.
    let mut resumed = follow(&app, &merchant, &listener, published["id"].as_str()).await;
    let newer = app.publish_ok(&merchant, "charge.succeeded", serde_json::json!({"n": 2})).await;
    let newer = newer["id"].as_str().unwrap().to_owned();
    let mut got = Vec::new();
    while got.len() <= burst.len() {
        got.push(next(&mut resumed).await);
    }
    assert_eq!(got.last(), Some(&newer), "the newest comes last");
    got.pop();
    assert_eq!(got.iter().collect::<std::collections::HashSet<_>>(), burst.iter().collect(), "no more, no less");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_streams_at_most_its_limit_of_listeners_and_frees_a_place_when_one_ends() {
    let app = crate::support::spawn_app_with(|settings| settings.max_streams = 2).await;
    let merchant = app.create_account("Acme").await;
    let created = app.merchant(&merchant, Method::POST, "/v1/notifications/listeners").send().await.unwrap();
    let listener: Value = created.json().await.unwrap();
    let path = format!("/v1/notifications/listeners/{}/events", listener["id"].as_str().unwrap());
    let open = || async { app.merchant(&merchant, Method::GET, &path).send().await.unwrap() };

    let mut streams = vec![open().await, open().await];
    assert!(streams.iter().all(|s| s.status() == 200));
    let refused = open().await;
    assert_eq!(refused.status(), 503, "a third stream is refused while two are open");
    assert_eq!(refused.headers()["retry-after"], "1");
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["details"][0]["issue"], "TOO_MANY_STREAMS", "{error}");

    drop(streams.pop());
    let reopened = crate::support::eventually(Duration::from_secs(5), || async {
        let response = open().await;
        (response.status() == 200).then_some(response)
    })
    .await;
    assert_eq!(reopened.status(), 200, "the place of a stream that ended is free again");
}
