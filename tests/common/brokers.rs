//! The local RabbitMQ, NATS JetStream and Redis, as a merchant's consumer sees them: each test makes its
//! own exchange and queue, stream or stream key (random names), and reads back what Herald published.
//!
//! Outside CI a broker that is not running makes its test say so and stop; under `CI=true` it fails.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use lapin::options::{BasicAckOptions, BasicGetOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};

pub const RABBITMQ: &str = "127.0.0.1:5672";
pub const NATS: &str = "127.0.0.1:4222";
pub const REDIS: &str = "127.0.0.1:6379";

/// Whether the broker answers at `address`. Under CI a missing broker fails the test; elsewhere the test
/// prints why it stops and returns.
pub async fn available(name: &str, address: &str) -> bool {
    match tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(_)) => true,
        outcome => {
            let why = match outcome {
                Ok(Err(error)) => error.to_string(),
                _ => "no answer within 2 s".into(),
            };
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{name} is required under CI and is not reachable at {address}: {why}"
            );
            eprintln!("SKIPPED: {name} is not reachable at {address} ({why}); this test needs the local {name}");
            false
        }
    }
}

/// A random suffix for names.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:016x}", rand::random::<u64>())
}

/// One message as a consumer got it: headers (or stream fields) by name, and the body.
#[derive(Clone, Debug)]
pub struct Consumed {
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Consumed {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// Checks the Standard Webhooks signature with the webhook's `whsec_` secret, as a receiver would.
    pub fn verify(&self, secret: &str) {
        let secret = herald_signature::standard::SigningSecret::parse(secret).unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        herald_signature::standard::verify_request(
            &secret,
            |name| self.headers.get(name).map(String::as_str),
            &self.body,
            now,
        )
        .expect("the message's signature verifies with the webhook's secret");
    }
}

/// Something messages are read from, until a count or a time limit.
#[async_trait::async_trait]
pub trait Inbox: Send + Sync {
    /// Everything that has arrived so far, oldest first.
    async fn read(&self) -> Vec<Consumed>;

    /// Waits until at least `count` messages have arrived.
    async fn wait_for(&self, count: usize, limit: Duration) -> Vec<Consumed> {
        let deadline = Instant::now() + limit;
        loop {
            let got = self.read().await;
            if got.len() >= count {
                return got;
            }
            assert!(Instant::now() < deadline, "only {} of {count} messages arrived within {limit:?}", got.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A RabbitMQ exchange with one queue bound to it by a routing key.
pub struct RabbitQueue {
    pub exchange: String,
    pub routing_key: String,
    queue: String,
    channel: lapin::Channel,
    _connection: lapin::Connection,
    got: tokio::sync::Mutex<Vec<Consumed>>,
}

impl RabbitQueue {
    /// Names only: the exchange does not exist until [`RabbitQueue::declare`].
    pub async fn named() -> Self {
        let connection = lapin::Connection::connect(&format!("amqp://guest:guest@{RABBITMQ}/%2f"), Default::default())
            .await
            .expect("RabbitMQ is reachable");
        let channel = connection.create_channel().await.unwrap();
        Self {
            exchange: unique("herald-test"),
            routing_key: "payments".into(),
            queue: unique("herald-test-queue"),
            channel,
            _connection: connection,
            got: Default::default(),
        }
    }

    pub async fn declared() -> Self {
        let queue = Self::named().await;
        queue.declare().await;
        queue
    }

    /// Declares the exchange and the queue (both deleted when unused) and binds them.
    pub async fn declare(&self) {
        let auto_delete = ExchangeDeclareOptions { auto_delete: true, ..Default::default() };
        self.channel
            .exchange_declare(
                self.exchange.as_str().into(),
                lapin::ExchangeKind::Direct,
                auto_delete,
                FieldTable::default(),
            )
            .await
            .unwrap();
        let queue = QueueDeclareOptions { auto_delete: true, ..Default::default() };
        self.channel.queue_declare(self.queue.as_str().into(), queue, FieldTable::default()).await.unwrap();
        self.channel
            .queue_bind(
                self.queue.as_str().into(),
                self.exchange.as_str().into(),
                self.routing_key.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
    }

    /// The webhook URL for this exchange, through `address` (the broker, or a proxy in front of it).
    pub fn url(&self, address: &str) -> String {
        format!("amqp://guest:guest@{address}/%2f?exchange={}&routing_key={}", self.exchange, self.routing_key)
    }
}

#[async_trait::async_trait]
impl Inbox for RabbitQueue {
    async fn read(&self) -> Vec<Consumed> {
        let mut got = self.got.lock().await;
        while let Ok(Some(message)) =
            self.channel.basic_get(self.queue.as_str().into(), BasicGetOptions::default()).await
        {
            let headers = message
                .properties
                .headers()
                .as_ref()
                .map(|table| {
                    table
                        .inner()
                        .iter()
                        .map(|(name, value)| {
                            let text = match value {
                                AMQPValue::LongString(text) => String::from_utf8_lossy(text.as_bytes()).into_owned(),
                                other => format!("{other:?}"),
                            };
                            (name.to_string(), text)
                        })
                        .collect()
                })
                .unwrap_or_default();
            message.ack(BasicAckOptions::default()).await.unwrap();
            got.push(Consumed { headers, body: message.data.clone() });
        }
        got.clone()
    }
}

/// A JetStream stream (in memory) that takes one subject.
pub struct NatsStream {
    pub name: String,
    pub subject: String,
    jetstream: async_nats::jetstream::Context,
}

impl NatsStream {
    /// Names only: no stream takes the subject until [`NatsStream::create`].
    pub async fn named() -> Self {
        let client = async_nats::connect(NATS).await.expect("NATS is reachable");
        let name = unique("HERALD_TEST").replace('-', "_");
        let subject = format!("herald.test.{}", name.to_lowercase());
        Self { name, subject, jetstream: async_nats::jetstream::new(client) }
    }

    pub async fn created() -> Self {
        let stream = Self::named().await;
        stream.create().await;
        stream
    }

    pub async fn create(&self) {
        self.jetstream
            .create_stream(async_nats::jetstream::stream::Config {
                name: self.name.clone(),
                subjects: vec![self.subject.clone()],
                storage: async_nats::jetstream::stream::StorageType::Memory,
                ..Default::default()
            })
            .await
            .unwrap();
    }

    pub fn url(&self, address: &str) -> String {
        format!("nats://{address}?subject={}", self.subject)
    }

    pub async fn delete(&self) {
        let _ = self.jetstream.delete_stream(&self.name).await;
    }
}

#[async_trait::async_trait]
impl Inbox for NatsStream {
    async fn read(&self) -> Vec<Consumed> {
        let Ok(stream) = self.jetstream.get_stream(&self.name).await else { return Vec::new() };
        let mut got = Vec::new();
        let mut sequence = 1;
        while let Ok(message) = stream.get_raw_message(sequence).await {
            let headers = message
                .headers
                .iter()
                .map(|(name, values)| (name.to_string(), values.first().map(|v| v.to_string()).unwrap_or_default()))
                .collect();
            got.push(Consumed { headers, body: message.payload.to_vec() });
            sequence += 1;
        }
        got
    }
}

/// A Redis stream key.
pub struct RedisStream {
    pub key: String,
    connection: redis::aio::MultiplexedConnection,
}

impl RedisStream {
    pub async fn new() -> Self {
        let client = redis::Client::open(format!("redis://{REDIS}/0")).unwrap();
        let connection = client.get_multiplexed_async_connection().await.expect("Redis is reachable");
        Self { key: unique("herald-test"), connection }
    }

    pub fn url(&self, address: &str) -> String {
        format!("redis://{address}/0?stream={}", self.key)
    }

    pub async fn delete(&self) {
        let _: redis::RedisResult<i64> =
            redis::cmd("DEL").arg(&self.key).query_async(&mut self.connection.clone()).await;
    }
}

#[async_trait::async_trait]
impl Inbox for RedisStream {
    async fn read(&self) -> Vec<Consumed> {
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&self.key)
            .arg("-")
            .arg("+")
            .query_async(&mut self.connection.clone())
            .await
            .unwrap();
        reply
            .ids
            .into_iter()
            .map(|entry| {
                let mut fields: HashMap<String, Vec<u8>> = entry
                    .map
                    .into_iter()
                    .map(|(name, value)| (name, redis::from_redis_value::<Vec<u8>>(value).unwrap_or_default()))
                    .collect();
                let body = fields.remove("body").unwrap_or_default();
                let headers = fields.into_iter().map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned())).collect();
                Consumed { headers, body }
            })
            .collect()
    }
}
