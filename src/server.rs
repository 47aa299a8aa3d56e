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

/// File descriptors kept for everything but client connections: the database's, logs, the listening
/// socket, the listener streams' wake-ups.
const OTHER_DESCRIPTORS: u64 = 64;
/// The fewest client connections a node serves, however low its descriptor limit.
const MIN_CONNECTIONS: usize = 16;

/// The connection cap this process can honour: the configured one, lowered so that client connections
/// and `outbound` delivery connections together fit the process's file descriptor limit (whose soft
/// value is first raised to the hard one, as far as the system allows). A node that hit the limit would
/// fail accepts and database opens alike; one that stays under it makes clients wait instead.
pub fn connection_cap(configured: usize, outbound: usize) -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if let Some(hard) = limit.maximum
        && limit.current.is_some_and(|soft| soft < hard)
    {
        limit.current = Some(hard);
        let _ = setrlimit(Resource::Nofile, limit);
    }
    let descriptors = getrlimit(Resource::Nofile).current;
    let cap = cap_for(configured, descriptors, outbound);
    if cap < configured {
        tracing::warn!(
            configured,
            cap,
            ?descriptors,
            "fewer client connections than configured fit the file descriptor limit"
        );
    }
    cap
}

/// `configured`, at most what `descriptors` leave after `outbound` connections and the others.
fn cap_for(configured: usize, descriptors: Option<u64>, outbound: usize) -> usize {
    let Some(descriptors) = descriptors else { return configured };
    let left = descriptors.saturating_sub(outbound as u64 + OTHER_DESCRIPTORS);
    configured.min(usize::try_from(left).unwrap_or(usize::MAX).max(MIN_CONNECTIONS))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_for_deliveries_and_the_database() {
        assert_eq!(cap_for(1000, None, 512), 1000, "no limit known");
        assert_eq!(cap_for(1000, Some(1_048_576), 512), 1000);
        assert_eq!(cap_for(1000, Some(1024), 512), 448);
        assert_eq!(cap_for(1000, Some(256), 512), MIN_CONNECTIONS, "never below the floor");
        assert_eq!(cap_for(8, Some(256), 512), 8, "unless configured lower");
    }
}
