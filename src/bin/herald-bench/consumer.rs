//! The benchmark's broker consumers: a RabbitMQ queue, a JetStream stream or a Redis stream made for the
//! run, read as fast as it fills, each message noted as an arrival like an HTTP request at the receiver.

use std::sync::Arc;

use futures_util::StreamExt;
use lapin::options::{BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};

use super::BenchResult;
use super::receiver::Arrivals;

pub const RABBITMQ: &str = "127.0.0.1:5672";
pub const NATS: &str = "127.0.0.1:4222";
pub const REDIS: &str = "127.0.0.1:6379";

/// Makes a fresh target of `kind` (`amqp`, `nats` or `redis`), starts reading it into `arrivals`, and
/// returns the webhook URL that names it.
pub async fn start(kind: &str, arrivals: Arc<Arrivals>) -> BenchResult<String> {
    let name = format!("herald-bench-{:08x}", rand::random::<u32>());
    match kind {
        "amqp" => amqp(&name, arrivals).await,
        "nats" => nats(&name.replace('-', "_"), arrivals).await,
        "redis" => redis(&name, arrivals).await,
        other => Err(format!("unknown destination {other}: use http, amqp, nats or redis").into()),
    }
}

async fn amqp(name: &str, arrivals: Arc<Arrivals>) -> BenchResult<String> {
    let connection =
        lapin::Connection::connect(&format!("amqp://guest:guest@{RABBITMQ}/%2f"), Default::default()).await?;
    let channel = connection.create_channel().await?;
    let auto_delete = ExchangeDeclareOptions { auto_delete: true, ..Default::default() };
    channel.exchange_declare(name.into(), lapin::ExchangeKind::Direct, auto_delete, FieldTable::default()).await?;
    let queue = QueueDeclareOptions { auto_delete: true, ..Default::default() };
    channel.queue_declare(name.into(), queue, FieldTable::default()).await?;
    channel
        .queue_bind(name.into(), name.into(), "bench".into(), QueueBindOptions::default(), FieldTable::default())
        .await?;
    let options = BasicConsumeOptions { no_ack: true, ..Default::default() };
    let mut consumer =
        channel.basic_consume(name.into(), "herald-bench".into(), options, FieldTable::default()).await?;
    tokio::spawn(async move {
        let _keep = connection;
        while let Some(Ok(delivery)) = consumer.next().await {
            let id =
                delivery.properties.headers().as_ref().and_then(|headers| match headers.inner().get("webhook-id") {
                    Some(AMQPValue::LongString(id)) => Some(String::from_utf8_lossy(id.as_bytes()).into_owned()),
                    _ => None,
                });
            arrivals.arrived(id.as_deref(), &delivery.data);
        }
    });
    Ok(format!("amqp://guest:guest@{RABBITMQ}/%2f?exchange={name}&routing_key=bench"))
}

async fn nats(name: &str, arrivals: Arc<Arrivals>) -> BenchResult<String> {
    use async_nats::jetstream::{consumer, stream};
    let jetstream = async_nats::jetstream::new(async_nats::connect(NATS).await?);
    let subject = format!("herald.bench.{name}");
    let config = stream::Config {
        name: name.to_owned(),
        subjects: vec![subject.clone()],
        storage: stream::StorageType::Memory,
        max_age: std::time::Duration::from_secs(600),
        ..Default::default()
    };
    let created = jetstream.create_stream(config).await?;
    let reader = created
        .create_consumer(consumer::pull::Config { ack_policy: consumer::AckPolicy::None, ..Default::default() })
        .await?;
    let mut messages = reader.messages().await?;
    tokio::spawn(async move {
        while let Some(Ok(message)) = messages.next().await {
            let id = message.headers.as_ref().and_then(|headers| headers.get("webhook-id")).map(|v| v.to_string());
            arrivals.arrived(id.as_deref(), &message.payload);
        }
    });
    Ok(format!("nats://{NATS}?subject={subject}"))
}

async fn redis(name: &str, arrivals: Arc<Arrivals>) -> BenchResult<String> {
    let client = redis::Client::open(format!("redis://{REDIS}/0"))?;
    let mut connection = client.get_multiplexed_async_connection().await?;
    let key = name.to_owned();
    tokio::spawn(async move {
        let mut last = "0".to_owned();
        loop {
            let read: redis::RedisResult<redis::streams::StreamReadReply> = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(1000)
                .arg("BLOCK")
                .arg(1000)
                .arg("STREAMS")
                .arg(&key)
                .arg(&last)
                .query_async(&mut connection)
                .await;
            let Ok(reply) = read else { return };
            for entry in reply.keys.into_iter().flat_map(|stream| stream.ids) {
                let id = entry.get::<String>("webhook-id");
                let body = entry.get::<Vec<u8>>("body").unwrap_or_default();
                arrivals.arrived(id.as_deref(), &body);
                last = entry.id;
            }
        }
    });
    Ok(format!("redis://{REDIS}/0?stream={name}"))
}

/// Removes what [`start`] made for `kind` under the URL it returned (a queue deletes itself when its
/// consumer goes).
pub async fn remove(kind: &str, url: &str) -> BenchResult<()> {
    let parameter = |name: &str| {
        url::Url::parse(url).ok()?.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
    };
    match kind {
        "nats" => {
            let subject = parameter("subject").ok_or("no subject")?;
            // The stream is named as the subject's last token (see `nats`).
            let name = subject.trim_start_matches("herald.bench.");
            let jetstream = async_nats::jetstream::new(async_nats::connect(NATS).await?);
            jetstream.delete_stream(name).await?;
        }
        "redis" => {
            let client = redis::Client::open(format!("redis://{REDIS}/0"))?;
            let mut connection = client.get_multiplexed_async_connection().await?;
            let _: i64 =
                redis::cmd("DEL").arg(parameter("stream").ok_or("no stream")?).query_async(&mut connection).await?;
        }
        _ => {}
    }
    Ok(())
}
