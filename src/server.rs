//! The HTTP server under the API and the dashboard, with the limits of a server that faces the internet:
//! at most [`ServerLimits::max_connections`] connections at once (more wait in the listening socket's
//! backlog until one ends), and each connection closed when it has not sent a complete request head
//! within [`ServerLimits::idle_timeout`] of opening or of its previous answer — an idle keep-alive
//! connection and one that sends its headers a byte at a time alike. Bodies that arrive too slowly are
//! cut off by the router's body timeout (`api::limits`).
//!
//! Each request carries its peer's address (`ConnectInfo`), which credential throttling keys on. On
//! shutdown the server stops accepting, asks every connection to close after its current answer, and
//! returns once they have.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

/// How long to wait after the operating system refused a connection (out of file descriptors, say)
/// before accepting again, so that the loop does not spin while the shortage lasts.
const AFTER_ACCEPT_ERROR: Duration = Duration::from_millis(100);

/// What one node's HTTP server allows its clients.
#[derive(Clone, Copy, Debug)]
pub struct ServerLimits {
    pub max_connections: usize,
    pub idle_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown`, then lets the open connections finish their answers.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let places = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let connections = TaskTracker::new();
    loop {
        let place = tokio::select! {
            place = places.clone().acquire_owned() => place.expect("the semaphore is never closed"),
            _ = shutdown.cancelled() => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(error = %error, "could not accept a connection");
                tokio::time::sleep(AFTER_ACCEPT_ERROR).await;
                continue;
            }
        };
        let (router, shutdown) = (router.clone(), shutdown.clone());
        connections.spawn(async move {
            serve_connection(stream, peer, router, limits, shutdown).await;
            drop(place);
        });
    }
    connections.close();
    connections.wait().await;
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request.map(axum::body::Body::new))
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.idle_timeout);
    let connection = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let served = tokio::select! {
        served = connection.as_mut() => served,
        _ = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = served {
        // Clients that go away or time out are routine; a log line each would let them flood the log.
        tracing::debug!(error = %error, %peer, "connection ended with an error");
    }
}
