//! Herald's logs with `HERALD_LOG_FORMAT=json`: one JSON object per line, attempts carrying their event,
//! webhook, delivery and attempt number, and no secret, credential or payload anywhere.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "logs-test-admin-token-5d1f";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_attempt_and_never_a_secret_or_payload() {
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["serve", "--listen", ":0"])
        .env("HERALD_DATA_DIR", data.path().join("data"))
        .env("HERALD_ADMIN_TOKEN", TOKEN)
        .env("HERALD_LOG", "info")
        .env("HERALD_LOG_FORMAT", "json")
        .env("HERALD_ALLOW_SUBNETS", "127.0.0.0/8")
        .env("HERALD_DELIVER_ONLY_TO_ALLOWED", "true")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let stdout = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let mut base = String::new();
    for line in stdout.map_while(Result::ok) {
        if let Some(address) = line.strip_prefix("listening on ") {
            base = address.to_owned();
            break;
        }
    }

    // A receiver that fails, so that the attempt logs the webhook's first failure.
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { (StatusCode::INTERNAL_SERVER_ERROR, "no") }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let http = reqwest::Client::new();
    let put = http.put(format!("{base}/v1/event-types/charge.succeeded")).bearer_auth(TOKEN);
    assert!(put.json(&json!({"description": "c"})).send().await.unwrap().status().is_success());
    let account: Value = http
        .post(format!("{base}/v1/accounts"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "Logs"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (client_id, client_secret) =
        (account["client_id"].as_str().unwrap(), account["client_secret"].as_str().unwrap());
    let webhook: Value = http
        .post(format!("{base}/v1/notifications/webhooks"))
        .basic_auth(client_id, Some(client_secret))
        .json(&json!({"url": receiver, "event_types": [{"name": "*"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = webhook["secret"].as_str().unwrap().to_owned();
    let body = json!({"account_id": account["id"], "event_type": "charge.succeeded", "resource": {"card": "payload-marker-4242"}});
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
    http.get(format!("{base}/v1/notifications/webhooks"))
        .basic_auth(client_id, Some("wrong-secret-77"))
        .send()
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(15);
    let event_id = event["id"].as_str().unwrap();
    let lines = loop {
        let text = std::fs::read_to_string(&log_path).unwrap();
        if text.contains("started failing") {
            break text;
        }
        assert!(Instant::now() < deadline, "no failure was logged:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = child.kill();
    let _ = child.wait();

    let records: Vec<Value> =
        lines.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    let failing = records
        .iter()
        .find(|r| r["fields"]["message"].as_str().is_some_and(|m| m.contains("started failing")))
        .unwrap();
    assert_eq!(failing["span"]["event.id"], event_id, "{failing}");
    assert_eq!(failing["span"]["webhook.id"], webhook["id"]);
    assert!(failing["span"]["delivery.id"].as_str().unwrap().starts_with("dlv_"));
    assert_eq!(failing["span"]["attempt.n"], 1);
    for forbidden in
        [TOKEN, client_secret, "wrong-secret-77", secret.as_str(), "payload-marker-4242", "Basic ", "Bearer "]
    {
        assert!(!lines.contains(forbidden), "the logs contain {forbidden:?}");
    }
    assert!(hits.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}
