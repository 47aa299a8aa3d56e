//! NATS JetStream: publish to a subject and wait for the stream's acknowledgement.
//!
//! The client is told to ignore the servers a NATS server advertises, so it only ever connects to the
//! address the guard allowed. `Nats-Msg-Id` is the delivery's id, so a retry after a lost acknowledgement
//! is stored once within the stream's duplicate window.

use std::net::SocketAddr;
use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::{ConnectOptions, HeaderMap};

use super::connections::Connections;
use super::{BrokerAddress, BrokerFailure, Guard, Message, Publish};

pub struct Nats {
    clients: Connections<async_nats::Client>,
    connect_timeout: Duration,
    total_timeout: Duration,
}

impl Nats {
    pub fn new(connect_timeout: Duration, total_timeout: Duration) -> Self {
        Self { clients: Connections::new(), connect_timeout, total_timeout }
    }

    async fn connect(&self, to: &BrokerAddress, at: SocketAddr) -> Result<async_nats::Client, BrokerFailure> {
        let mut options = ConnectOptions::new()
            .ignore_discovered_servers()
            .connection_timeout(self.connect_timeout)
            .request_timeout(Some(self.total_timeout))
            .name("herald");
        options = match (&to.username, &to.password) {
            (Some(user), Some(password)) => options.user_and_password(user.clone(), password.clone()),
            (Some(token), None) => options.token(token.clone()),
            _ => options,
        };
        options
            .connect(format!("nats://{at}"))
            .await
            .map_err(|error| BrokerFailure::Connect(format!("could not connect to NATS at {at}: {error}")))
    }
}

#[async_trait::async_trait]
impl Publish for Nats {
    async fn publish(
        &self,
        to: &BrokerAddress,
        guard: Guard<'_>,
        message: &Message<'_>,
    ) -> Result<String, BrokerFailure> {
        // A client reconnects by itself, but one that lost its server is replaced, so that a broker that is
        // down fails the attempt at once instead of holding it until the timeout.
        let usable =
            |client: &async_nats::Client| client.connection_state() == async_nats::connection::State::Connected;
        let client = self
            .clients
            .get(&to.connection_key, usable, async { self.connect(to, guard.address(to).await?).await })
            .await?;
        let mut jetstream = async_nats::jetstream::new(client);
        jetstream.set_timeout(self.total_timeout);
        let mut headers = HeaderMap::new();
        for (name, value) in message.headers {
            headers.insert(name.as_str(), value.as_str());
        }
        headers.insert("Nats-Msg-Id", message.id);
        let subject = to.parameter("subject").to_owned();
        let payload = bytes::Bytes::copy_from_slice(message.body);
        let sent = match jetstream.publish_with_headers(subject.clone(), headers, payload).await {
            Ok(sent) => sent,
            Err(error) => {
                self.clients.forget(&to.connection_key).await;
                return Err(BrokerFailure::Broken(format!("could not publish to NATS: {error}")));
            }
        };
        let ack = sent.await.map_err(|error| match error.kind() {
            PublishErrorKind::StreamNotFound => {
                BrokerFailure::Rejected(format!("no JetStream stream takes the subject \"{subject}\""))
            }
            PublishErrorKind::TimedOut => BrokerFailure::Timeout,
            _ => BrokerFailure::Rejected(format!("JetStream did not store the message: {error}")),
        })?;
        Ok(format!("stored by JetStream: stream \"{}\", sequence {}", ack.stream, ack.sequence))
    }

    async fn forget(&self, to: &BrokerAddress) {
        self.clients.forget(&to.connection_key).await;
    }
}
