//! Two Herald nodes on one PostgreSQL database: each keeps the webhooks it publishes to in memory, and a
//! webhook created, disabled, enabled or deleted through one node is honoured by a publish on the other
//! within a second (the change reaches it through `NOTIFY herald_changes`; its copies would otherwise last
//! five seconds). Ignored unless asked for (`--include-ignored`, as CI does), then it needs PostgreSQL.

mod common;

use std::time::{Duration, Instant};

use common::{PgSchema, Requests, postgres_url, set_up_tenant, start_recording_receiver};
use serde_json::{Value, json};

const TOKEN: &str = "changes-test-token";

fn accept(_: &[u8]) -> (axum::http::StatusCode, &'static str) {
    (axum::http::StatusCode::OK, "ok")
}

/// The event ids `requests` received.
fn received(requests: &Requests) -> Vec<String> {
    requests.lock().unwrap().iter().map(|(headers, _)| headers["webhook-id"].to_str().unwrap().to_owned()).collect()
}

/// Waits until `requests` received `id`.
async fn arrives(requests: &Requests, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !received(requests).iter().any(|got| got == id) {
        assert!(Instant::now() < deadline, "{id} never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), run with --include-ignored"]
async fn a_webhook_changed_through_one_node_is_honoured_by_another_within_a_second() {
    let schema = PgSchema::create(&postgres_url()).await;
    let (first, second): (Requests, Requests) = Default::default();
    let first_url = start_recording_receiver(first.clone(), accept).await;
    let second_url = start_recording_receiver(second.clone(), accept).await;
    let a = common::start_pg_node(&schema, "changes", 1, TOKEN, &[]);
    let b = common::start_pg_node(&schema, "changes", 2, TOKEN, &[]);
    let http = reqwest::Client::new();
    let tenant = set_up_tenant(&http, &a.base, TOKEN, "payment.created", &first_url).await;
    let merchant = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{}{path}", a.base)).basic_auth(&tenant.client_id, Some(&tenant.client_secret))
    };
    let publish_on_b = || async {
        let body = json!({"account_id": tenant.account_id, "event_type": "payment.created", "resource": {"n": 1}});
        let answer = http.post(format!("{}/v1/events", b.base)).bearer_auth(TOKEN).json(&body).send().await.unwrap();
        assert_eq!(answer.status(), 202);
        answer.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    };

    // Node B publishes, so it now holds the account's one webhook in memory.
    let warm = publish_on_b().await;
    arrives(&first, &warm).await;

    // Through node A: a second webhook, and the first one disabled.
    let created = merchant(reqwest::Method::POST, "/v1/notifications/webhooks")
        .json(&json!({"url": second_url, "event_types": [{"name": "*"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let second_id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let disable = json!([{"op": "replace", "path": "/status", "value": "DISABLED"}]);
    let path = format!("/v1/notifications/webhooks/{}", tenant.webhook_id);
    assert_eq!(merchant(reqwest::Method::PATCH, &path).json(&disable).send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_change = publish_on_b().await;
    arrives(&second, &after_change).await;

    // Through node A again: the second webhook deleted, the first enabled.
    let deleted = merchant(reqwest::Method::DELETE, &format!("/v1/notifications/webhooks/{second_id}")).send();
    assert_eq!(deleted.await.unwrap().status(), 204);
    let enable = json!([{"op": "replace", "path": "/status", "value": "ENABLED"}]);
    assert_eq!(merchant(reqwest::Method::PATCH, &path).json(&enable).send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_delete = publish_on_b().await;
    arrives(&first, &after_delete).await;

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(received(&first), [warm, after_delete.clone()], "nothing reached the disabled webhook");
    assert_eq!(received(&second), [after_change], "nothing reached the deleted webhook");
}
