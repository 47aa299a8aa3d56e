//! The test harness: a real Herald on a random port with its own data directory, and real HTTP receivers
//! that record what arrives.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use herald::app::Application;
use herald::config::Settings;
use herald::store::Store;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A running Herald and what a test needs to talk to it.
pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    _data_dir: tempfile::TempDir,
    _schema: Option<crate::common::PgSchema>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A merchant account with its credentials (a live key's, unless made by [`Merchant::in_test_mode`]).
#[derive(Clone)]
pub struct Merchant {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
    /// The account's first test key.
    pub test_client_id: String,
    pub test_client_secret: String,
}

impl Merchant {
    /// The same account seen through its first test key.
    pub fn in_test_mode(&self) -> Merchant {
        Merchant {
            client_id: self.test_client_id.clone(),
            client_secret: self.test_client_secret.clone(),
            ..self.clone()
        }
    }

    /// The same account seen through another of its keys.
    pub fn with_key(&self, client_id: &str, client_secret: &str) -> Merchant {
        Merchant { client_id: client_id.into(), client_secret: client_secret.into(), ..self.clone() }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::with_data_dir(data_dir.path());
    settings.admin_token = Some(ADMIN_TOKEN.into());
    settings.retry_schedule = "100ms,200ms".parse().unwrap();
    settings.delivery_timeout = Duration::from_secs(2);
    settings.shutdown_grace = Duration::from_secs(1);
    settings.seed_catalog = false;
    // Receivers run on loopback, and nothing a test does may reach any other address.
    settings.destinations.allow = vec!["127.0.0.0/8".parse().unwrap()];
    settings.destinations.only_allowed = true;
    configure(&mut settings);
    // The same stories run on PostgreSQL when the environment asks for it (CI does, as a second pass).
    let schema = match std::env::var("HERALD_TEST_BACKEND").as_deref() {
        Ok("postgres") => Some(crate::common::PgSchema::create(&crate::common::postgres_url()).await),
        _ => None,
    };
    if let Some(schema) = &schema {
        settings.database_url = Some(schema.url.clone());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = Application::build(settings, listener).await.unwrap();
    let base = format!("http://{}", app.address());
    let store = app.store();
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run_until_stopped(shutdown.clone()));
    TestApp { base, store, http: reqwest::Client::new(), shutdown, _data_dir: data_dir, _schema: schema }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn operator(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).bearer_auth(ADMIN_TOKEN)
    }

    pub fn merchant(&self, merchant: &Merchant, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path)).basic_auth(&merchant.client_id, Some(&merchant.client_secret))
    }

    pub async fn create_account(&self, name: &str) -> Merchant {
        let response =
            self.operator(reqwest::Method::POST, "/v1/accounts").json(&json!({"name": name})).send().await.unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        Merchant {
            id: body["id"].as_str().unwrap().into(),
            client_id: body["client_id"].as_str().unwrap().into(),
            client_secret: body["client_secret"].as_str().unwrap().into(),
            test_client_id: body["test_client_id"].as_str().unwrap().into(),
            test_client_secret: body["test_client_secret"].as_str().unwrap().into(),
        }
    }

    /// Where the embedded database lives (when the test runs on SQLite).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    /// The PostgreSQL URL Herald uses, when the test runs on PostgreSQL.
    pub fn database_url(&self) -> Option<&str> {
        self._schema.as_ref().map(|schema| schema.url.as_str())
    }

    pub async fn put_event_type(&self, name: &str) {
        let body = json!({"description": format!("{name} happened"), "resource_type": "thing"});
        let response =
            self.operator(reqwest::Method::PUT, &format!("/v1/event-types/{name}")).json(&body).send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.text().await.unwrap());
    }

    /// Creates a webhook and returns the create response (with its `secret`).
    pub async fn create_webhook(&self, merchant: &Merchant, url: &str, types: &[&str]) -> Value {
        let event_types: Vec<Value> = types.iter().map(|name| json!({"name": name})).collect();
        self.create_webhook_from(merchant, json!({"url": url, "event_types": event_types})).await
    }

    /// A webhook to `url` for every type, with the `extra` fields (format, rules…) added to the request.
    pub async fn create_webhook_with(&self, merchant: &Merchant, url: &str, extra: Value) -> Value {
        let mut body = json!({"url": url, "event_types": [{"name": "*"}]});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        self.create_webhook_from(merchant, body).await
    }

    async fn create_webhook_from(&self, merchant: &Merchant, body: Value) -> Value {
        let response = self
            .merchant(merchant, reqwest::Method::POST, "/v1/notifications/webhooks")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    pub async fn publish(&self, merchant: &Merchant, event_type: &str, resource: Value) -> reqwest::Response {
        let body = json!({"account_id": merchant.id, "event_type": event_type, "resource": resource});
        self.operator(reqwest::Method::POST, "/v1/events").json(&body).send().await.unwrap()
    }

    /// Publishes and returns the accepted event object.
    pub async fn publish_ok(&self, merchant: &Merchant, event_type: &str, resource: Value) -> Value {
        let response = self.publish(merchant, event_type, resource).await;
        assert_eq!(response.status(), 202);
        response.json().await.unwrap()
    }
}

/// One request as a receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or_default()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Recording {
    received: Mutex<Vec<Received>>,
    /// Statuses to answer, in order; 200 once they run out.
    script: Mutex<VecDeque<u16>>,
    arrived: Notify,
}

/// A real HTTP receiver on loopback that records every request and answers from a script.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    recording: Arc<Recording>,
}

impl Receiver {
    pub async fn start() -> Self {
        Self::start_with_script(&[]).await
    }

    pub async fn start_with_script(statuses: &[u16]) -> Self {
        let recording = Arc::new(Recording::default());
        recording.script.lock().unwrap().extend(statuses);
        let app = axum::Router::new().fallback(record).with_state(recording.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url: format!("http://{address}/webhooks"), recording }
    }

    pub fn received(&self) -> Vec<Received> {
        self.recording.received.lock().unwrap().clone()
    }

    /// Waits until at least `count` requests arrived, or panics after `limit`.
    pub async fn wait_for(&self, count: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let notified = self.recording.arrived.notified();
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "expected {count} requests, got {}", received.len());
            let _ = tokio::time::timeout(left, notified).await;
        }
    }
}

async fn record(State(recording): State<Arc<Recording>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let status = recording.script.lock().unwrap().pop_front().unwrap_or(200);
    recording.received.lock().unwrap().push(Received { headers, body, at: Instant::now() });
    recording.arrived.notify_waiters();
    StatusCode::from_u16(status).unwrap()
}

/// Polls `check` until it returns `Some`, or panics after `limit`.
/// Sends a request and reads its answer as JSON, whatever the status.
/// Every attempt (as the API shows it) of the webhook's last 100 deliveries.
pub async fn attempts_of(app: &TestApp, merchant: &Merchant, webhook: &str) -> Vec<Value> {
    let path = format!("/v1/notifications/webhooks/{webhook}/deliveries");
    let list = fetch_json(app.merchant(merchant, reqwest::Method::GET, &format!("{path}?page_size=100"))).await;
    let mut attempts = Vec::new();
    for delivery in list["deliveries"].as_array().unwrap() {
        let id = delivery["id"].as_str().unwrap();
        let detail = fetch_json(app.merchant(merchant, reqwest::Method::GET, &format!("{path}/{id}"))).await;
        attempts.extend(detail["attempts"].as_array().unwrap().iter().cloned());
    }
    attempts
}

/// An attempt's error code, or `none` for a success.
pub fn error_code(attempt: &Value) -> String {
    attempt["error"]["code"].as_str().unwrap_or("none").to_owned()
}

pub async fn fetch_json(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "condition not met within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
