//! With `--otlp-sink`: a loopback OTLP/HTTP collector that takes every export and counts its bytes, so a
//! run shows what span export costs (Herald's CPU in the run's cost line, the bytes sent per delivery here).
//! `HERALD_OTLP_SAMPLING` in the bench's environment reaches the Herald it starts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;

/// The sink's counters.
#[derive(Default)]
pub struct Exported {
    requests: AtomicU64,
    bytes: AtomicU64,
}

impl Exported {
    /// Exports and bytes since the last call.
    pub fn take(&self) -> (u64, u64) {
        (self.requests.swap(0, Ordering::Relaxed), self.bytes.swap(0, Ordering::Relaxed))
    }
}

/// Starts the sink; returns its base URL and counters.
pub async fn start() -> std::io::Result<(String, Arc<Exported>)> {
    let exported = Arc::new(Exported::default());
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            axum::routing::post(|State(exported): State<Arc<Exported>>, body: bytes::Bytes| async move {
                exported.requests.fetch_add(1, Ordering::Relaxed);
                exported.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                // An empty ExportTraceServiceResponse.
                ([("content-type", "application/x-protobuf")], Vec::<u8>::new())
            }),
        )
        .with_state(exported.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, exported))
}
