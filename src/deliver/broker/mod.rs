//! Delivery to a message broker the merchant runs: a RabbitMQ exchange, a NATS JetStream subject or a
//! Redis stream, named by the webhook's URL.
//!
//! A broker delivery carries what an HTTP delivery does: the same body, and the signature headers as AMQP
//! headers, NATS headers or stream fields of the same names, so one verification routine serves every
//! kind. It counts only once the broker confirms it (a publisher confirm, the stream's acknowledgement, the
//! id `XADD` returns); anything else is a failed attempt that retries on the webhook's schedule.
//!
//! Each kind is one module behind [`Publish`]. They keep a connection per broker and connect only to the
//! addresses [`resolve`](super::resolve) allows, so the guard that protects HTTP deliveries covers broker
//! hosts too.

mod amqp;
mod connections;
mod nats;
mod redis;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::destination::DestinationPolicy;
use super::resolve::{self, ResolveError};
use crate::domain::webhook_url::DestinationKind;

/// A broker destination, parsed from a webhook URL with its secret put back.
#[derive(Clone)]
pub struct BrokerAddress {
    pub kind: DestinationKind,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The AMQP virtual host, or the Redis database number.
    pub path: String,
    /// Query parameters: `exchange` and `routing_key`, `subject`, or `stream`.
    parameters: HashMap<String, String>,
    /// What identifies one connection: the URL without its query.
    connection_key: String,
}

impl std::fmt::Debug for BrokerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.kind.as_str(), self.host, self.port)
    }
}

impl BrokerAddress {
    /// Parses a broker URL (already checked when the webhook was saved); `None` for an HTTP URL.
    pub fn parse(text: &str) -> Option<Self> {
        let url = url::Url::parse(text).ok()?;
        let kind = DestinationKind::of_scheme(url.scheme()).filter(|kind| *kind != DestinationKind::Http)?;
        let decode = |text: &str| percent_decode(text);
        let mut without_query = url.clone();
        without_query.set_query(None);
        Some(Self {
            kind,
            host: url.host_str()?.to_owned(),
            port: url.port().unwrap_or(kind.default_port()),
            username: Some(decode(url.username())).filter(|user| !user.is_empty()),
            password: url.password().map(decode),
            path: decode(url.path().trim_start_matches('/')),
            parameters: url.query_pairs().map(|(name, value)| (name.into_owned(), value.into_owned())).collect(),
            connection_key: without_query.to_string(),
        })
    }

    fn parameter(&self, name: &str) -> &str {
        self.parameters.get(name).map(String::as_str).unwrap_or_default()
    }
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// One message for a broker: the delivery body and the headers an HTTP delivery would carry.
pub struct Message<'a> {
    /// Unique per delivery: the broker's deduplication id (`Nats-Msg-Id`, the AMQP `message-id`).
    pub id: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// Why a broker did not take a message.
#[derive(Debug, thiserror::Error)]
pub enum BrokerFailure {
    #[error(transparent)]
    Refused(#[from] ResolveError),
    #[error("{0}")]
    Connect(String),
    /// The broker answered but did not take the message: no such exchange, stream or route, or a nack.
    #[error("{0}")]
    Rejected(String),
    #[error("{0}")]
    Broken(String),
    #[error("the broker did not confirm within the delivery timeout")]
    Timeout,
}

/// What a broker connection may reach. Asked only when a connection is made, so a delivery over an open
/// connection looks nothing up.
#[derive(Clone, Copy)]
struct Guard<'a>(&'a DestinationPolicy);

impl Guard<'_> {
    /// The first address of the broker's host that the policy allows.
    async fn address(self, to: &BrokerAddress) -> Result<SocketAddr, BrokerFailure> {
        Ok(resolve::allowed_addresses(self.0, &to.host, to.port).await?[0])
    }
}

/// One kind of broker: publishes a message and returns the broker's receipt for it.
#[async_trait::async_trait]
trait Publish: Send + Sync {
    async fn publish(
        &self,
        to: &BrokerAddress,
        guard: Guard<'_>,
        message: &Message<'_>,
    ) -> Result<String, BrokerFailure>;

    /// Drops the connection a publish to `to` used: it did not answer within the delivery timeout.
    async fn forget(&self, to: &BrokerAddress);
}

/// Every broker kind, behind the guard and the delivery timeouts.
pub struct Brokers {
    amqp: amqp::Amqp,
    nats: nats::Nats,
    redis: redis::Redis,
    destinations: Arc<DestinationPolicy>,
    total_timeout: Duration,
}

impl Brokers {
    pub fn new(destinations: Arc<DestinationPolicy>, connect_timeout: Duration, total_timeout: Duration) -> Self {
        Self {
            amqp: amqp::Amqp::new(connect_timeout),
            nats: nats::Nats::new(connect_timeout, total_timeout),
            redis: redis::Redis::new(connect_timeout, total_timeout),
            destinations,
            total_timeout,
        }
    }

    /// Publishes `message` to `to` and returns the broker's receipt (which names where it was stored).
    pub async fn publish(&self, to: &BrokerAddress, message: &Message<'_>) -> Result<String, BrokerFailure> {
        let publisher: &dyn Publish = match to.kind {
            DestinationKind::Amqp => &self.amqp,
            DestinationKind::Nats => &self.nats,
            DestinationKind::Redis => &self.redis,
            DestinationKind::Http => unreachable!("an HTTP URL parses into no broker address"),
        };
        let work = publisher.publish(to, Guard(&self.destinations), message);
        match tokio::time::timeout(self.total_timeout, work).await {
            Ok(result) => result,
            Err(_) => {
                // A connection that let the timeout run out may be half open; the next attempt makes a new one.
                publisher.forget(to).await;
                Err(BrokerFailure::Timeout)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broker_url_parses_into_its_parts() {
        let amqp =
            BrokerAddress::parse("amqp://shop:p%40ss@mq.test:5673/pay%2Fments?exchange=ex&routing_key=k").unwrap();
        assert_eq!((amqp.host.as_str(), amqp.port), ("mq.test", 5673));
        assert_eq!((amqp.username.as_deref(), amqp.password.as_deref()), (Some("shop"), Some("p@ss")));
        assert_eq!(amqp.path, "pay/ments");
        assert_eq!((amqp.parameter("exchange"), amqp.parameter("routing_key")), ("ex", "k"));
        assert_eq!(amqp.connection_key, "amqp://shop:p%40ss@mq.test:5673/pay%2Fments");
        let nats = BrokerAddress::parse("nats://127.0.0.1?subject=a.b").unwrap();
        assert_eq!((nats.port, nats.parameter("subject"), nats.username.as_deref()), (4222, "a.b", None));
        assert!(BrokerAddress::parse("https://example.com/").is_none());
    }
}
