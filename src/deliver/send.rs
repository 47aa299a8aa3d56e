//! One attempt: sign the body, then POST it (with the webhook's bearer token and client certificate, if it
//! has them) or hand it to a broker, and read back at most a bounded part of the answer.
//!
//! Every exchange is bounded in connection time and in total, and follows no redirects. Whatever the
//! receiver does (hang, reset, answer garbage or a huge body) ends as an [`Exchange`] value, never as a
//! panic or an unbounded read.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use super::broker::{BrokerAddress, BrokerFailure, Brokers, Message};
use super::egress::{self, EgressProxy};
use super::endpoint_auth::{OAuth2Credentials, Tokens};
use super::http_client::{HttpClients, Recipe};
use super::queue::DeliveryJob;
use super::resolve::ResolveError;
use super::{format, resolve};
use crate::attempt_log::{Exchange, ReceivedResponse, Reply, TransportFailure};
use crate::deliver::destination::{DestinationPolicy, Refusal};
use crate::domain::Timestamp;
use crate::domain::trace::TraceContext;
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

/// What makes every attempt: the HTTP clients, the OAuth2 tokens and the brokers.
#[derive(Clone)]
pub struct Sender {
    clients: Arc<HttpClients>,
    tokens: Arc<Tokens>,
    brokers: Arc<Brokers>,
    max_response_body: usize,
    destinations: Arc<DestinationPolicy>,
    /// Whether HTTP deliveries go through the egress proxy.
    proxied: bool,
    total_timeout: Duration,
    node: Arc<str>,
}

impl Sender {
    /// The sender; with an egress proxy it starts the relay on the current Tokio runtime.
    pub fn new(limits: SendLimits) -> Result<Self, SenderError> {
        let destinations = Arc::new(limits.destinations.clone());
        let relay = match &limits.egress_proxy {
            Some(proxy) => Some(egress::start_relay(proxy.clone(), destinations.clone(), limits.connect_timeout)?),
            None => None,
        };
        let recipe = Recipe {
            destinations: destinations.clone(),
            connect_timeout: limits.connect_timeout,
            total_timeout: limits.total_timeout,
            relay,
        };
        let brokers = Brokers::new(destinations.clone(), limits.connect_timeout, limits.total_timeout);
        Ok(Self {
            clients: Arc::new(HttpClients::new(recipe)?),
            tokens: Arc::default(),
            brokers: Arc::new(brokers),
            max_response_body: limits.max_response_body,
            destinations,
            proxied: relay.is_some(),
            total_timeout: limits.total_timeout,
            node: limits.node.as_str().into(),
        })
    }

    /// Makes the attempt described by `job`, its request carrying the trace context `trace` (the attempt's
    /// own, see `telemetry`), and reports what happened.
    pub async fn attempt(&self, job: &DeliveryJob, trace: Option<&TraceContext>) -> Exchange {
        let started_at = Timestamp::now();
        let clock = Instant::now();
        let body = format::body_for(job.target.format, job.target.api_version.as_deref(), &job.body);
        let parties = format::Parties { event_id: job.event_id.as_str(), webhook_id: job.target.webhook_id.as_str() };
        let mut headers = format::headers_for(job.target.format, &job.target.keys, parties, &body, started_at);
        format::add_custom(&mut headers, &job.target.policy.headers);
        if let Some(trace) = trace {
            add_trace(&mut headers, trace);
        }
        let request_headers: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()))
            .collect();
        let result = match &job.target.broker {
            Some(broker) => self.publish(job, broker, &request_headers, &body).await,
            // One bound for everything the exchange does (token requests, the proxy's check, a second
            // POST after a 401), so an attempt never outlives the lease it was started under.
            None => match tokio::time::timeout(self.total_timeout, self.exchange(job, headers, body)).await {
                Ok(result) => result.map(Reply::Http),
                Err(_) => Err(TransportFailure::Timeout),
            },
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
        let target = &job.target;
        let scheme = url.as_ref().map_or("https", |url| url.scheme());
        if let (true, Some(url)) = (self.proxied, &url) {
            // Through the proxy the resolver is not asked, so the guard is asked first, and the relay asks
            // it again for the address it tunnels to.
            let (host, port) = (url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(80));
            resolve::allowed_addresses(&self.destinations, host, port).await.map_err(|error| match error {
                resolve::ResolveError::Refused(refusal) => refused(refusal),
                other => TransportFailure::Connect(other.to_string()),
            })?;
        }
        let client = self
            .clients
            .for_delivery(&target.webhook_id, target.tls.as_ref(), scheme)
            .map_err(|error| TransportFailure::Tls(error.to_string()))?;
        let Some(oauth2) = &target.oauth2 else { return self.post(&client, job, headers, body).await };
        // A bearer token from the receiver's token URL; on 401, one new token and one more try.
        let token = self.token(target, oauth2, None).await?;
        let answer = self.post(&client, job, with_bearer(headers.clone(), &token), body.clone()).await?;
        if answer.status != 401 {
            return Ok(answer);
        }
        let renewed = self.token(target, oauth2, Some(&token)).await?;
        self.post(&client, job, with_bearer(headers, &renewed), body).await
    }

    async fn token(
        &self,
        target: &super::target::Target,
        credentials: &OAuth2Credentials,
        rejected: Option<&str>,
    ) -> Result<String, TransportFailure> {
        let scheme = credentials.token_url.split(':').next().unwrap_or("https");
        let client = self.clients.shared_for(scheme);
        let token = self.tokens.get(&client, &target.webhook_id, credentials, rejected).await;
        token.map_err(TransportFailure::Auth)
    }

    /// One POST, its answer read up to the response limit.
    async fn post(
        &self,
        client: &reqwest::Client,
        job: &DeliveryJob,
        headers: HeaderMap,
        body: bytes::Bytes,
    ) -> Result<ReceivedResponse, TransportFailure> {
        let request = client.post(job.target.url.as_str()).headers(headers).body(body);
        let mut response = request.send().await.map_err(classify)?;
        if self.proxied
            && let Some(why) = response.headers().get(egress::REFUSAL_HEADER)
        {
            let why = String::from_utf8_lossy(why.as_bytes()).into_owned();
            return Err(match response.status().as_u16() {
                403 => TransportFailure::Refused(why),
                _ => TransportFailure::Connect(format!("through the egress proxy: {why}")),
            });
        }
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

/// The W3C headers of the attempt's trace context.
fn add_trace(headers: &mut HeaderMap, trace: &TraceContext) {
    if let Ok(parent) = HeaderValue::from_str(trace.traceparent()) {
        headers.insert("traceparent", parent);
    }
    if let Some(state) = trace.tracestate().and_then(|state| HeaderValue::from_str(state).ok()) {
        headers.insert("tracestate", state);
    }
}

/// The headers with `Authorization: Bearer` set (over a custom `Authorization` header, if any).
fn with_bearer(mut headers: HeaderMap, token: &str) -> HeaderMap {
    match HeaderValue::from_str(&format!("Bearer {token}")) {
        Ok(value) => {
            headers.insert(AUTHORIZATION, value);
        }
        Err(_) => tracing::warn!("the OAuth2 token is not a valid header value"),
    }
    headers
}

fn classify(error: reqwest::Error) -> TransportFailure {
    // reqwest's own message names only the URL; the causes say what went wrong.
    let detail = error_chain(&error);
    if let Some(refused) = find_cause::<Refusal>(&error) {
        TransportFailure::Refused(refused.to_string())
    } else if let Some(tls) = find_tls_error(&error) {
        TransportFailure::Tls(format!("{tls} ({detail})"))
    } else if error.is_timeout() {
        TransportFailure::Timeout
    } else if error.is_connect() {
        TransportFailure::Connect(detail)
    } else {
        TransportFailure::Broken(detail)
    }
}

/// The TLS error in an error's chain. rustls's errors travel inside `io::Error`s (sometimes one inside
/// another), whose `source()` skips the error they carry, so the walk goes into what each one carries.
fn find_tls_error<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(found) = current.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        cause = match current.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(carried) => Some(carried as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    None
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
