//! The benchmark's receiver: a real HTTP server on loopback that notes when each event first arrived.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::State;
use axum::http::HeaderMap;
use tokio::sync::Notify;

/// First arrival per `webhook-id`, and a count of every request.
#[derive(Default)]
pub struct Arrivals {
    first: Mutex<HashMap<String, Instant>>,
    requests: AtomicUsize,
    unique: AtomicUsize,
    changed: Notify,
}

impl Arrivals {
    pub fn unique(&self) -> usize {
        self.unique.load(Ordering::Relaxed)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn take(&self) -> HashMap<String, Instant> {
        std::mem::take(&mut *self.first.lock().unwrap())
    }

    pub fn reset(&self) {
        self.first.lock().unwrap().clear();
        self.requests.store(0, Ordering::Relaxed);
        self.unique.store(0, Ordering::Relaxed);
    }

    /// Waits until `count` distinct events have arrived.
    pub async fn wait_for(&self, count: usize, limit: std::time::Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let notified = self.changed.notified();
            if self.unique() >= count {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let _ = tokio::time::timeout(left.min(std::time::Duration::from_millis(100)), notified).await;
        }
    }

    fn note(&self, headers: &HeaderMap, body: &[u8]) {
        let from_header = headers.get("webhook-id").and_then(|v| v.to_str().ok());
        self.arrived(from_header, body);
    }

    /// Notes a message: `id` is its `webhook-id` where it has one.
    pub fn arrived(&self, id: Option<&str>, body: &[u8]) {
        let now = Instant::now();
        self.requests.fetch_add(1, Ordering::Relaxed);
        // Standard deliveries name the event in `webhook-id`; every format's body starts with `{"id":"evt_…"`.
        let Some(id) = id.or_else(|| leading_id(body)) else { return };
        let mut first = self.first.lock().unwrap();
        if !first.contains_key(id) {
            first.insert(id.to_owned(), now);
            self.unique.fetch_add(1, Ordering::Relaxed);
            self.changed.notify_waiters();
        }
    }
}

/// The value of a body's leading `"id"` field, without parsing the rest.
fn leading_id(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body.get(..64).unwrap_or(body)).ok()?;
    text.strip_prefix("{\"id\":\"")?.split('"').next()
}

/// Starts the receiver on 127.0.0.1 and returns its URL.
pub async fn start(arrivals: Arc<Arrivals>) -> std::io::Result<String> {
    let app = axum::Router::new()
        .fallback(|State(arrivals): State<Arc<Arrivals>>, headers: HeaderMap, body: axum::body::Bytes| async move {
            arrivals.note(&headers, &body);
            ""
        })
        .with_state(arrivals);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address: SocketAddr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{address}/webhooks"))
}
