//! One HTTP attempt: sign the body, POST it, and read back at most a bounded part of the answer.
//!
//! The client pools keep-alive connections per receiver, follows no redirects, and bounds both the
//! connection time and the whole exchange. Whatever the receiver does (hang, reset, answer garbage or a
//! huge body) ends as an [`Exchange`] value, never as a panic or an unbounded read.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use reqwest::header::HeaderMap;

use super::broker::{BrokerAddress, BrokerFailure, Brokers, Message};
use super::egress::{self, EgressProxy};
use super::queue::DeliveryJob;
use super::resolve::ResolveError;
use super::{format, resolve};
use crate::attempt_log::{Exchange, ReceivedResponse, Reply, TransportFailure};
use crate::deliver::destination::{DestinationPolicy, Refusal};
use crate::domain::Timestamp;
use crate::error_chain::error_chain;

/// What the sender needs to know about timeouts and limits.
#[derive(Clone, Debug)]
pub struct SendLimits {
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    pub max_response_body: usize,
    pub destinations: DestinationPolicy,
    /// The forward proxy every HTTP delivery goes through (`HERALD_EGRESS_PROXY`).
    pub egress_proxy: Option<EgressProxy>,
    /// This process's name in the attempt log.
    pub node: String,
}

/// Why the sender could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("could not start the egress relay: {0}")]
    Relay(#[from] std::io::Error),
}

/// The pooled HTTP client that makes every attempt.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    /// For `http://` URLs through the egress proxy: one request per connection (see `egress.rs`).
    plain_client: Option<reqwest::Client>,
    brokers: Arc<Brokers>,
    max_response_body: usize,
    destinations: Arc<DestinationPolicy>,
    node: Arc<str>,
}

/// Resolves host names and keeps only the addresses the policy allows; the client connects to exactly
/// those, so a name cannot resolve to one address when checked and another when connected.
struct GuardedResolver(Arc<DestinationPolicy>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let allowed = resolve::allowed_addresses(&policy, name.as_str(), 0).await.map_err(|error| {
                let boxed: Box<dyn std::error::Error + Send + Sync> = match error {
                    resolve::ResolveError::Refused(refused) => Box::new(refused),
                    other => Box::new(other),
                };
                boxed
            })?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

impl Sender {
    /// The sender; with an egress proxy it starts the relay on the current Tokio runtime.
    pub fn new(limits: SendLimits) -> Result<Self, SenderError> {
        let destinations = Arc::new(limits.destinations.clone());
        let relay = match &limits.egress_proxy {
            Some(proxy) => Some(egress::start_relay(proxy.clone(), destinations.clone(), limits.connect_timeout)?),
            None => None,
        };
        let builder = |pooled: bool| {
            let builder = reqwest::Client::builder()
                .dns_resolver(Arc::new(GuardedResolver(destinations.clone())))
                .connect_timeout(limits.connect_timeout)
                .timeout(limits.total_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .tcp_nodelay(true)
                .pool_idle_timeout(Duration::from_secs(60));
            let builder = if pooled { builder } else { builder.pool_max_idle_per_host(0) };
            // Never a proxy from the environment: it would look names up past the guard.
            match relay {
                Some(relay) => reqwest::Proxy::all(format!("http://{relay}")).map(|proxy| builder.proxy(proxy)),
                None => Ok(builder.no_proxy()),
            }
        };
        let client = builder(true)?.build()?;
        let plain_client = relay.map(|_| builder(false).and_then(reqwest::ClientBuilder::build)).transpose()?;
        let brokers = Brokers::new(destinations.clone(), limits.connect_timeout, limits.total_timeout);
        Ok(Self {
            client,
            plain_client,
            brokers: Arc::new(brokers),
            max_response_body: limits.max_response_body,
            destinations,
            node: limits.node.as_str().into(),
        })
    }

    /// Makes the attempt described by `job` and reports what happened.
    pub async fn attempt(&self, job: &DeliveryJob) -> Exchange {
        let started_at = Timestamp::now();
        let clock = Instant::now();
        let body = format::body_for(job.target.format, job.target.api_version.as_deref(), &job.body);
        let parties = format::Parties { event_id: job.event_id.as_str(), webhook_id: job.target.webhook_id.as_str() };
        let mut headers = format::headers_for(job.target.format, &job.target.keys, parties, &body, started_at);
        format::add_custom(&mut headers, &job.target.policy.headers);
        let request_headers: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()))
            .collect();
        let result = match &job.target.broker {
            Some(broker) => self.publish(job, broker, &request_headers, &body).await,
            None => self.exchange(job, headers, body).await.map(Reply::Http),
        };
        Exchange {
            delivery_id: job.delivery_id.clone(),
            node: self.node.to_string(),
            number: job.attempt_number,
            trigger: job.trigger,
            started_at,
            duration: clock.elapsed(),
            request_url: job.target.url.as_str().to_owned(),
            request_headers,
            result,
        }
    }

    /// Hands the delivery to a broker, with its headers as the message's headers.
    async fn publish(
        &self,
        job: &DeliveryJob,
        broker: &BrokerAddress,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Reply, TransportFailure> {
        self.destinations
            .check_scheme(broker.kind.as_str())
            .map_err(|refusal| TransportFailure::Refused(refusal.to_string()))?;
        let message = Message { id: job.delivery_id.as_str(), headers, body };
        match self.brokers.publish(broker, &message).await {
            Ok(receipt) => {
                tracing::debug!(receipt = %receipt, "the broker took the delivery");
                Ok(Reply::Confirmed(receipt))
            }
            Err(BrokerFailure::Refused(ResolveError::Refused(refusal))) => {
                Err(TransportFailure::Refused(refusal.to_string()))
            }
            Err(BrokerFailure::Refused(other)) => Err(TransportFailure::Connect(other.to_string())),
            Err(BrokerFailure::Connect(detail)) => Err(TransportFailure::Connect(detail)),
            Err(BrokerFailure::Rejected(detail)) => Err(TransportFailure::Rejected(detail)),
            Err(BrokerFailure::Broken(detail)) => Err(TransportFailure::Broken(detail)),
            Err(BrokerFailure::Timeout) => Err(TransportFailure::Timeout),
        }
    }

    async fn exchange(
        &self,
        job: &DeliveryJob,
        headers: HeaderMap,
        body: bytes::Bytes,
    ) -> Result<ReceivedResponse, TransportFailure> {
        let refused = |refusal: Refusal| TransportFailure::Refused(refusal.to_string());
        let url = url::Url::parse(job.target.url.as_str()).ok();
        if let Some(url) = &url {
            self.destinations.check_scheme(url.scheme()).map_err(refused)?;
        }
        // Names are checked by the resolver; a literal address never reaches it, so it is checked here.
        let literal = url.as_ref().and_then(|url| match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        });
        if let Some(ip) = literal {
            self.destinations.check(ip).map_err(refused)?;
        }
        let mut client = &self.client;
        if let (Some(plain), Some(url)) = (&self.plain_client, &url) {
            // Through the proxy the resolver is not asked, so the guard is asked first, and the relay asks
            // it again for the address it tunnels to.
            let (host, port) = (url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(80));
            resolve::allowed_addresses(&self.destinations, host, port).await.map_err(|error| match error {
                resolve::ResolveError::Refused(refusal) => refused(refusal),
                other => TransportFailure::Connect(other.to_string()),
            })?;
            if url.scheme() == "http" {
                client = plain;
            }
        }
        let request = client.post(job.target.url.as_str()).headers(headers).body(body);
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect();
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            let room = self.max_response_body - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                // Dropping the response closes the connection instead of draining an unbounded body.
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(ReceivedResponse { status, headers, body, truncated })
    }
}

fn classify(error: reqwest::Error) -> TransportFailure {
    // reqwest's own message names only the URL; the causes say what went wrong.
    let detail = error_chain(&error);
    if let Some(refused) = find_cause::<Refusal>(&error) {
        TransportFailure::Refused(refused.to_string())
    } else if error.is_timeout() {
        TransportFailure::Timeout
    } else if error.is_connect() {
        TransportFailure::Connect(detail)
    } else {
        TransportFailure::Broken(detail)
    }
}

/// The first cause of type `T` in an error's chain.
fn find_cause<'e, T: std::error::Error + 'static>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e T> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(found) = current.downcast_ref::<T>() {
            return Some(found);
        }
        cause = current.source();
    }
    None
}
