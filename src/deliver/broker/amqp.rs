//! RabbitMQ (AMQP 0-9-1): publish to an exchange with a routing key, on a channel in confirm mode.
//!
//! The message is mandatory and persistent: a message no queue is bound to take comes back instead of
//! vanishing, and the delivery counts only on the broker's ack. A missing exchange closes the channel
//! (404), so the cached channel is dropped and the next attempt opens a new one.

use std::net::SocketAddr;
use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ErrorKind};

use super::connections::Connections;
use super::{BrokerAddress, BrokerFailure, Guard, Message, Publish};

/// A connection and its confirming channel, per webhook URL (a channel a bad exchange closed must not
/// take other webhooks' deliveries down with it).
#[derive(Clone)]
struct Open {
    connection: std::sync::Arc<Connection>,
    channel: Channel,
}

pub struct Amqp {
    open: Connections<Open>,
    connect_timeout: Duration,
}

impl Amqp {
    pub fn new(connect_timeout: Duration) -> Self {
        Self { open: Connections::new(), connect_timeout }
    }

    async fn connect(&self, to: &BrokerAddress, at: SocketAddr) -> Result<Open, BrokerFailure> {
        let uri = AMQPUri {
            scheme: AMQPScheme::AMQP,
            authority: AMQPAuthority {
                userinfo: AMQPUserInfo {
                    username: to.username.clone().unwrap_or_else(|| "guest".into()),
                    password: to.password.clone().unwrap_or_else(|| "guest".into()),
                },
                host: at.ip().to_string(),
                port: at.port(),
            },
            vhost: if to.path.is_empty() { "/".into() } else { to.path.clone() },
            query: AMQPQueryString {
                connection_timeout: Some(self.connect_timeout.as_millis() as u64),
                ..AMQPQueryString::default()
            },
        };
        let connection = Connection::connect_uri(uri, ConnectionProperties::default())
            .await
            .map_err(|error| BrokerFailure::Connect(format!("could not connect to RabbitMQ at {at}: {error}")))?;
        let channel = connection.create_channel().await.map_err(|error| failure(error, to))?;
        channel.confirm_select(ConfirmSelectOptions::default()).await.map_err(|error| failure(error, to))?;
        Ok(Open { connection: std::sync::Arc::new(connection), channel })
    }
}

#[async_trait::async_trait]
impl Publish for Amqp {
    async fn publish(
        &self,
        to: &BrokerAddress,
        guard: Guard<'_>,
        message: &Message<'_>,
    ) -> Result<String, BrokerFailure> {
        let key = channel_key(to);
        let usable = |open: &Open| open.connection.status().connected() && open.channel.status().connected();
        let open = self.open.get(&key, usable, async { self.connect(to, guard.address(to).await?).await }).await?;
        let (exchange, routing_key) = (to.parameter("exchange"), to.parameter("routing_key"));
        let confirm = open
            .channel
            .basic_publish(
                ShortString::from(exchange),
                ShortString::from(routing_key),
                BasicPublishOptions { mandatory: true, ..BasicPublishOptions::default() },
                message.body,
                properties(message),
            )
            .await;
        let confirmation = match confirm {
            Ok(confirm) => confirm.await,
            Err(error) => Err(error),
        };
        let confirmation = match confirmation {
            Ok(confirmation) => confirmation,
            Err(error) => {
                self.open.forget(&key).await;
                return Err(failure(error, to));
            }
        };
        match confirmation {
            Confirmation::Ack(None) => {
                Ok(format!("confirmed by RabbitMQ: exchange \"{exchange}\", routing key \"{routing_key}\""))
            }
            Confirmation::Ack(Some(returned)) => Err(BrokerFailure::Rejected(format!(
                "RabbitMQ returned the message: no queue is bound to routing key \"{routing_key}\" on exchange \"{exchange}\" ({} {})",
                returned.reply_code, returned.reply_text
            ))),
            Confirmation::Nack(_) => Err(BrokerFailure::Rejected("RabbitMQ refused the message (nack)".into())),
            Confirmation::NotRequested => Err(BrokerFailure::Broken("the channel is not in confirm mode".into())),
        }
    }

    async fn forget(&self, to: &BrokerAddress) {
        self.open.forget(&channel_key(to)).await;
    }
}

/// A channel per webhook URL: the connection's and the target's (exchange and routing key).
fn channel_key(to: &BrokerAddress) -> String {
    format!("{}?exchange={}&routing_key={}", to.connection_key, to.parameter("exchange"), to.parameter("routing_key"))
}

/// The delivery's headers as AMQP headers of the same names, and the body's type and id as properties.
fn properties(message: &Message<'_>) -> BasicProperties {
    let mut headers = FieldTable::default();
    for (name, value) in message.headers {
        headers.insert(ShortString::from(name.as_str()), AMQPValue::LongString(value.as_str().into()));
    }
    BasicProperties::default()
        .with_content_type(ShortString::from("application/json"))
        .with_delivery_mode(2)
        .with_message_id(ShortString::from(message.id))
        .with_app_id(ShortString::from("herald"))
        .with_headers(headers)
}

fn failure(error: lapin::Error, to: &BrokerAddress) -> BrokerFailure {
    match error.kind() {
        ErrorKind::ProtocolError(amqp) => BrokerFailure::Rejected(format!(
            "RabbitMQ refused the publish to exchange \"{}\": {amqp}",
            to.parameter("exchange")
        )),
        ErrorKind::IOError(_) | ErrorKind::MissingHeartbeatError => {
            BrokerFailure::Broken(format!("the connection to RabbitMQ broke: {error}"))
        }
        _ => BrokerFailure::Broken(format!("RabbitMQ: {error}")),
    }
}
