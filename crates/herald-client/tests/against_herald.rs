//! The client against a real `herald serve` (the workspace's binary, started per test on a free port):
//! publish, list and page, create a webhook, resend, verify a captured delivery, idempotency, and retries
//! of a 503 through a loopback proxy that refuses once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_client::{EventQuery, Herald, HeraldError, RetryPolicy, types};
use serde_json::json;

const TOKEN: &str = "client-test-admin-token-0d6b";

/// The `herald` binary beside this test's own build (`target/<profile>/herald`), or `HERALD_BIN`.
fn herald_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HERALD_BIN") {
        return path.into();
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = profile_dir.join("herald");
    assert!(
        binary.exists(),
        "no herald binary at {} (run `cargo build --bin herald` first, or set HERALD_BIN)",
        binary.display()
    );
    binary
}

struct Server {
    child: Child,
    base: String,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_herald() -> Server {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(herald_binary())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("HERALD_DATA_DIR", data.path())
        .env("HERALD_ADMIN_TOKEN", TOKEN)
        .env("HERALD_ALLOW_SUBNETS", "127.0.0.0/8")
        .env("HERALD_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("herald starts");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{base}/healthz")).await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(Instant::now() < deadline, "herald did not become healthy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Server { child, base, _data: data }
}

/// What a receiver got: each request's headers and raw body.
type Captured = Arc<Mutex<Vec<(http::HeaderMap, bytes::Bytes)>>>;

async fn start_receiver() -> (String, Captured) {
    let captured: Captured = Arc::default();
    let store = captured.clone();
    let app = axum::Router::new().fallback(move |headers: http::HeaderMap, body: bytes::Bytes| {
        let store = store.clone();
        async move {
            store.lock().unwrap().push((headers, body));
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, captured)
}

async fn wait_for(captured: &Captured, count: usize) -> Vec<(http::HeaderMap, bytes::Bytes)> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = captured.lock().unwrap().clone();
        if got.len() >= count {
            return got;
        }
        assert!(Instant::now() < deadline, "{} of {count} deliveries arrived", got.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn event(account_id: &str, n: u64) -> types::PublishEvent {
    let resource = json!({"id": format!("ch_{n}"), "amount": 100 * n});
    types::PublishEvent {
        account_id: account_id.into(),
        event_type: "charge.succeeded".into(),
        livemode: None,
        resource: resource.as_object().unwrap().clone(),
        resource_type: None,
        resource_version: None,
        summary: None,
    }
}

/// The operator's client, a merchant's account and client, after adding the event type.
async fn tenant(server: &Server) -> (Herald, String, Herald) {
    let operator = Herald::operator(&server.base, TOKEN).unwrap();
    let put = types::PutEventType {
        description: "A charge succeeded".into(),
        resource_type: None,
        resource_version: None,
        sample: None,
        schema: None,
    };
    operator.api().put_event_type("charge.succeeded", &put).await.unwrap();
    let account = operator.api().create_account(&types::CreateAccount { name: "Acme".parse().unwrap() }).await;
    let account = account.unwrap().into_inner();
    let merchant =
        Herald::merchant(&server.base, &account.client_id, account.client_secret.as_deref().unwrap()).unwrap();
    (operator, account.id.to_string(), merchant)
}

#[tokio::test]
async fn publish_list_page_create_resend_and_verify() {
    let server = start_herald().await;
    let (operator, account_id, merchant) = tenant(&server).await;
    let (url, captured) = start_receiver().await;
    let create: types::CreateWebhook =
        serde_json::from_value(json!({"url": url, "event_types": [{"name": "*"}]})).unwrap();
    let webhook = merchant.api().create_webhook(&create).await.unwrap().into_inner();
    let secret = webhook.secret.clone().expect("the create answer shows the secret");
    assert!(secret.starts_with("whsec_"));

    let first = operator.publish(&event(&account_id, 1)).await.unwrap();
    let batch = operator.publish_batch(vec![event(&account_id, 2), event(&account_id, 3)]).await.unwrap();
    assert_eq!(batch.len(), 2);

    // Listed one per page, every event comes back once.
    let query = EventQuery { page_size: Some(1), ..EventQuery::default() };
    let listed = merchant.events(query).collect().await.unwrap();
    let mut ids: Vec<String> = listed.iter().map(|e| e.id.to_string()).collect();
    ids.sort();
    let mut published = vec![first.id.to_string(), batch[0].id.to_string(), batch[1].id.to_string()];
    published.sort();
    assert_eq!(ids, published);

    // The captured deliveries verify with the webhook's secret; a changed body does not.
    let delivered = wait_for(&captured, 3).await;
    let (headers, body) = delivered.iter().find(|(h, _)| h["webhook-id"] == first.id.as_str()).unwrap();
    let verified = herald_client::verify(&secret, headers, body).unwrap();
    assert_eq!(verified["resource"]["id"], "ch_1");
    let mut tampered = body.to_vec();
    tampered[body.len() / 2] ^= 1;
    assert!(herald_client::verify(&secret, headers, &tampered).is_err());

    // A resend is one more delivery of the same bytes.
    let resend = types::Resend { webhook_ids: None };
    merchant.api().resend_event(&first.id, Some(&resend)).await.unwrap();
    let delivered = wait_for(&captured, 4).await;
    let again: Vec<_> = delivered.iter().filter(|(h, _)| h["webhook-id"] == first.id.as_str()).collect();
    assert_eq!(again.len(), 2);
    assert_eq!(again[0].1, again[1].1);

    let deliveries = merchant.deliveries(&webhook.id, None, Some(1)).collect().await.unwrap();
    assert_eq!(deliveries.len(), 4, "three deliveries and the resend, one page each");
}

#[tokio::test]
async fn a_repeated_key_publishes_once_and_a_refusal_is_typed() {
    let server = start_herald().await;
    let (operator, account_id, _) = tenant(&server).await;
    let once = operator.publish_with_key("order-77", &event(&account_id, 1)).await.unwrap();
    let twice = operator.publish_with_key("order-77", &event(&account_id, 1)).await.unwrap();
    assert_eq!(once.id, twice.id);

    let mut unknown = event(&account_id, 2);
    unknown.event_type = "no.such.type".into();
    match operator.publish(&unknown).await {
        Err(HeraldError::Refused(refusal)) => {
            assert_eq!((refusal.status, refusal.name.as_str()), (422, "UNKNOWN_EVENT_TYPE"));
            assert!(refusal.debug_id.starts_with("req_"), "{}", refusal.debug_id);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Forwards to `upstream`, but answers the first request `503 Retry-After: 1`; records each request's
/// `Idempotency-Key` and arrival.
async fn start_refusing_proxy(upstream: String) -> (SocketAddr, Arc<Mutex<Vec<(String, Instant)>>>) {
    let seen: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let record = seen.clone();
    let http = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let (record, http, upstream) = (record.clone(), http.clone(), upstream.clone());
        async move {
            let (parts, body) = request.into_parts();
            let key = parts.headers.get("idempotency-key").map(|v| v.to_str().unwrap().to_owned());
            let first = {
                let mut seen = record.lock().unwrap();
                seen.push((key.unwrap_or_default(), Instant::now()));
                seen.len() == 1
            };
            if first {
                let headers = [("retry-after", "1"), ("content-type", "application/json")];
                let body =
                    r#"{"name":"SERVICE_UNAVAILABLE","message":"busy","debug_id":"req_x","details":[],"links":[]}"#;
                return (http::StatusCode::SERVICE_UNAVAILABLE, headers, body.to_owned()).into_response();
            }
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let url = format!("{upstream}{}", parts.uri.path());
            let answer = http.request(parts.method, url).headers(parts.headers).body(body).send().await.unwrap();
            let status = answer.status();
            (status, answer.bytes().await.unwrap()).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, seen)
}

use axum::response::IntoResponse;

#[tokio::test]
async fn a_503_is_retried_after_retry_after_with_the_same_key() {
    let server = start_herald().await;
    let (_, account_id, _) = tenant(&server).await;
    let (proxy, seen) = start_refusing_proxy(server.base.clone()).await;
    let operator = Herald::operator(&format!("http://{proxy}"), TOKEN).unwrap();
    let published = operator.publish(&event(&account_id, 1)).await.unwrap();
    assert!(published.id.starts_with("evt_"));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one refusal, one retry");
    assert!(!seen[0].0.is_empty() && seen[0].0 == seen[1].0, "the same Idempotency-Key: {seen:?}");
    assert!(seen[1].1 - seen[0].1 >= Duration::from_millis(950), "the retry waited for Retry-After");

    // With one try allowed, the 503 comes back as a typed refusal.
    let (proxy, _) = start_refusing_proxy(server.base.clone()).await;
    let impatient = Herald::operator(&format!("http://{proxy}"), TOKEN)
        .unwrap()
        .with_retry(RetryPolicy { max_tries: 1, ..RetryPolicy::default() });
    let refused = impatient.publish(&event(&account_id, 2)).await.unwrap_err();
    assert_eq!(refused.status(), Some(503));
}
