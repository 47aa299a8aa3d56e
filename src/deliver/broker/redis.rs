//! Redis Streams: append the delivery to a stream with `XADD`.
//!
//! The entry's fields are `body` and then each header under its own name. The id Redis answers is the
//! confirmation; a stream that does not exist yet is created, as `XADD` does.

use std::net::SocketAddr;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};

use super::connections::Connections;
use super::{BrokerAddress, BrokerFailure, Guard, Message, Publish};

pub struct Redis {
    connections: Connections<MultiplexedConnection>,
    connect_timeout: Duration,
    total_timeout: Duration,
}

impl Redis {
    pub fn new(connect_timeout: Duration, total_timeout: Duration) -> Self {
        Self { connections: Connections::new(), connect_timeout, total_timeout }
    }

    async fn connect(&self, to: &BrokerAddress, at: SocketAddr) -> Result<MultiplexedConnection, BrokerFailure> {
        let mut settings = RedisConnectionInfo::default().set_db(to.path.parse().unwrap_or(0));
        if let Some(user) = &to.username {
            settings = settings.set_username(user);
        }
        if let Some(password) = &to.password {
            settings = settings.set_password(password);
        }
        let unreachable =
            |error: redis::RedisError| BrokerFailure::Connect(format!("could not connect to Redis at {at}: {error}"));
        let info = ConnectionAddr::Tcp(at.ip().to_string(), at.port())
            .into_connection_info()
            .map_err(unreachable)?
            .set_redis_settings(settings);
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.total_timeout));
        let client = redis::Client::open(info).map_err(unreachable)?;
        client.get_multiplexed_async_connection_with_config(&config).await.map_err(unreachable)
    }
}

#[async_trait::async_trait]
impl Publish for Redis {
    async fn publish(
        &self,
        to: &BrokerAddress,
        guard: Guard<'_>,
        message: &Message<'_>,
    ) -> Result<String, BrokerFailure> {
        let mut connection = self
            .connections
            .get(&to.connection_key, |_| true, async { self.connect(to, guard.address(to).await?).await })
            .await?;
        let stream = to.parameter("stream");
        let mut command = redis::cmd("XADD");
        command.arg(stream).arg("*").arg("body").arg(message.body);
        for (name, value) in message.headers {
            command.arg(name).arg(value);
        }
        let id: String = match command.query_async(&mut connection).await {
            Ok(id) => id,
            Err(error) if error.is_io_error() || error.is_connection_dropped() || error.is_timeout() => {
                self.connections.forget(&to.connection_key).await;
                return Err(BrokerFailure::Broken(format!("the connection to Redis broke: {error}")));
            }
            Err(error) => return Err(BrokerFailure::Rejected(format!("Redis refused XADD to \"{stream}\": {error}"))),
        };
        Ok(format!("appended to Redis stream \"{stream}\" as {id}"))
    }

    async fn forget(&self, to: &BrokerAddress) {
        self.connections.forget(&to.connection_key).await;
    }
}
