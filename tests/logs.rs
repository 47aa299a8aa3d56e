//! Herald's logs with `HERALD_LOG_FORMAT=json`: one JSON object per line, attempts carrying their event,
//! webhook, delivery and attempt number, and no secret, credential or payload anywhere.

mod common;

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::{HeraldProcess, Requests, set_up_tenant, start_recording_receiver};
use serde_json::{Value, json};

const TOKEN: &str = "logs-test-admin-token-5d1f";

fn refuse(_: &[u8]) -> (StatusCode, &'static str) {
    (StatusCode::INTERNAL_SERVER_ERROR, "no")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_attempt_and_never_a_secret_or_payload() {
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("stderr.log");
    let logs = Stdio::from(std::fs::File::create(&log_path).unwrap());
    let env = [("HERALD_LOG", "info"), ("HERALD_LOG_FORMAT", "json")];
    let herald = HeraldProcess::start_logging(&data.path().join("data"), TOKEN, &[], &env, logs);
    let base = herald.base.clone();
    // A receiver that fails, so that the attempt logs the webhook's first failure.
    let requests: Requests = Arc::default();
    let receiver = start_recording_receiver(requests.clone(), refuse).await;
    let http = reqwest::Client::new();
    let tenant = set_up_tenant(&http, &base, TOKEN, "charge.succeeded", &receiver).await;
    let merchant =
        |request: reqwest::RequestBuilder| request.basic_auth(&tenant.client_id, Some(&tenant.client_secret));
    let path = format!("{base}/v1/notifications/webhooks/{}/secret", tenant.webhook_id);
    let revealed: Value = merchant(http.get(path)).send().await.unwrap().json().await.unwrap();
    let secret = revealed["secret"].as_str().unwrap().to_owned();
    let body = json!({"account_id": tenant.account_id, "event_type": "charge.succeeded", "resource": {"card": "payload-marker-4242"}});
    let event: Value = http
        .post(format!("{base}/v1/events"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // A request with a wrong secret, so that authentication failures are exercised too.
    let wrong =
        http.get(format!("{base}/v1/notifications/webhooks")).basic_auth(&tenant.client_id, Some("wrong-secret-77"));
    assert_eq!(wrong.send().await.unwrap().status(), 401);

    let deadline = Instant::now() + Duration::from_secs(15);
    let lines = loop {
        let text = std::fs::read_to_string(&log_path).unwrap();
        if text.contains("started failing") {
            break text;
        }
        assert!(Instant::now() < deadline, "no failure was logged:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    drop(herald);

    let records: Vec<Value> =
        lines.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    let failing = records
        .iter()
        .find(|r| r["fields"]["message"].as_str().is_some_and(|m| m.contains("started failing")))
        .unwrap();
    assert_eq!(failing["span"]["event.id"], event["id"], "{failing}");
    assert_eq!(failing["span"]["webhook.id"], tenant.webhook_id.as_str());
    assert!(failing["span"]["delivery.id"].as_str().unwrap().starts_with("dlv_"));
    assert_eq!(failing["span"]["attempt.n"], 1);
    for forbidden in
        [TOKEN, &tenant.client_secret, "wrong-secret-77", &secret, "payload-marker-4242", "Basic ", "Bearer "]
    {
        assert!(!lines.contains(forbidden), "the logs contain {forbidden:?}");
    }
    assert!(!requests.lock().unwrap().is_empty());
}
