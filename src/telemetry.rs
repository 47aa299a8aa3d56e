//! Spans exported over OTLP/HTTP (protobuf) when `HERALD_OTLP_ENDPOINT` is set: one for each publish,
//! with the store's commit as its child, and one for each delivery attempt, a child of the publish it
//! delivers. A publish that arrives with a W3C `traceparent` continues that trace, and the context stored
//! with its event is the publish span's, so every attempt of every delivery (retries days later and
//! resends included) lands in the publisher's trace, and the receiver, given the attempt's own
//! `traceparent`, can join it as the attempt's child.
//!
//! Spans carry ids, counts, statuses and codes, never a payload, a header value or a URL's userinfo or
//! query. Without an endpoint there is no tracer: an attempt still continues a stored trace (a
//! `traceparent` with a span id of its own), and nothing is recorded or sent. The same holds for a trace
//! that is not sampled, so its attempts cost nothing more; and a trace Herald started itself but did not
//! sample is not stored with the event at all.
//!
//! The exporter runs on the SDK's batch thread; its HTTP requests run on Herald's Tokio runtime with
//! Herald's own HTTP client, so export never blocks a request or a delivery. When the queue of finished
//! spans is full, spans are dropped, not waited for.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer as _,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider, Span};

use crate::domain::trace::TraceContext;

/// The signal path a collector takes traces on, appended to a base URL.
const TRACES_PATH: &str = "/v1/traces";

/// How long one export to the collector may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most of a collector's answer read.
const MAX_ANSWER: usize = 64 * 1024;

/// The settings of span export.
#[derive(Clone, Debug)]
pub struct OtlpSettings {
    /// The collector's OTLP/HTTP base URL (`http://collector:4318`) or its traces URL (`…/v1/traces`).
    pub endpoint: Option<String>,
    /// The share of traces Herald starts that are recorded (0 to 1); a publisher's sampling decision,
    /// sent in its `traceparent`, is followed instead.
    pub sampling: f64,
    /// The `service.name` of the exported spans.
    pub service_name: String,
}

/// Why span export could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("HERALD_OTLP_ENDPOINT is not an http(s) URL: {0}")]
    Endpoint(String),
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
}

/// Makes the spans; cheap to clone. [`Telemetry::default`] records nothing.
#[derive(Clone, Debug, Default)]
pub struct Telemetry {
    tracer: Option<SdkTracer>,
}

/// Flushes and stops export when Herald stops.
pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    /// Sends the spans still queued, then stops the batch thread (blocking; call it off the runtime).
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown() {
            tracing::warn!(error = %error, "could not flush the last spans to the collector");
        }
    }
}

impl Telemetry {
    /// Span export as `settings` say, running its requests on the current Tokio runtime; without an
    /// endpoint, a `Telemetry` that records nothing.
    pub fn start(settings: &OtlpSettings) -> Result<(Self, Option<Exporter>), TelemetryError> {
        let Some(endpoint) = settings.endpoint.as_deref().filter(|e| !e.trim().is_empty()) else {
            return Ok((Self::default(), None));
        };
        let endpoint = traces_url(endpoint)?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
        let client = Collector { http, runtime: tokio::runtime::Handle::current() };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
        let ratio = settings.sampling.clamp(0.0, 1.0);
        let provider = SdkTracerProvider::builder()
            .with_span_processor(BatchSpanProcessor::builder(exporter).build())
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio))))
            .with_resource(Resource::builder().with_service_name(settings.service_name.clone()).build())
            .build();
        let tracer = provider.tracer("herald");
        Ok((Self { tracer: Some(tracer) }, Some(Exporter { provider })))
    }

    /// The span of one publish request (of `events` events), continuing `publisher`'s trace if given.
    pub fn publish(&self, publisher: Option<&TraceContext>, events: usize) -> PublishSpan {
        let Some(tracer) = &self.tracer else {
            return PublishSpan { tracer: None, span: None, context: Context::new(), stored: publisher.cloned() };
        };
        let parent = publisher.and_then(remote_context).unwrap_or_default();
        let span = tracer
            .span_builder("publish")
            .with_kind(SpanKind::Server)
            .with_attributes([KeyValue::new("herald.event.count", events as i64)])
            .start_with_context(tracer, &parent);
        // A trace Herald started and does not record is not kept: its attempts would carry it for nothing.
        let kept = span.span_context().is_sampled() || publisher.is_some();
        let stored = kept.then(|| trace_context(span.span_context(), publisher));
        let context = parent.with_remote_span_context(span.span_context().clone());
        PublishSpan { tracer: Some(tracer.clone()), span: Some(span), context, stored }
    }

    /// The span of one delivery attempt, a child of the stored publish context (none without one).
    pub fn attempt(&self, stored: Option<&TraceContext>, about: &AttemptAbout<'_>) -> AttemptSpan {
        let Some(stored) = stored else { return AttemptSpan { span: None, outgoing: None } };
        // An unsampled trace records nothing: the request only continues it, as the SDK's span would.
        let recording = self.tracer.as_ref().filter(|_| stored.sampled());
        let (Some(tracer), Some(parent)) = (recording, remote_context(stored)) else {
            return AttemptSpan { span: None, outgoing: Some(stored.child(rand::random())) };
        };
        let mut attributes = vec![
            KeyValue::new("herald.event.id", about.event_id.to_owned()),
            KeyValue::new("herald.webhook.id", about.webhook_id.to_owned()),
            KeyValue::new("herald.delivery.id", about.delivery_id.to_owned()),
            KeyValue::new("herald.attempt.number", i64::from(about.number)),
            KeyValue::new("herald.destination", destination(about.url)),
        ];
        if about.http {
            attributes.push(KeyValue::new("http.request.method", "POST"));
        }
        let span = tracer
            .span_builder("deliver")
            .with_kind(SpanKind::Client)
            .with_start_time(SystemTime::now())
            .with_attributes(attributes)
            .start_with_context(tracer, &parent);
        let outgoing = Some(trace_context(span.span_context(), Some(stored)));
        AttemptSpan { span: Some(span), outgoing }
    }
}

/// What an attempt span says of the attempt before it is made.
pub struct AttemptAbout<'a> {
    pub event_id: &'a str,
    pub webhook_id: &'a str,
    pub delivery_id: &'a str,
    pub number: u32,
    /// The webhook's URL as shown (a span keeps only its scheme, host, port and path).
    pub url: &'a str,
    /// An HTTP POST rather than a hand-over to a broker.
    pub http: bool,
}

/// How an attempt ended, for its span.
pub struct AttemptEnd<'a> {
    pub status: Option<u16>,
    /// The error's code, when the attempt failed without an answer.
    pub error: Option<&'a str>,
    /// `delivered`, `retrying` or `failed`.
    pub outcome: &'static str,
    pub duration: Duration,
}

/// A publish's span, recording until [`PublishSpan::finish`].
pub struct PublishSpan {
    tracer: Option<SdkTracer>,
    span: Option<Span>,
    context: Context,
    stored: Option<TraceContext>,
}

impl PublishSpan {
    /// The trace context to keep with the published events: the publish span's (the publisher's when
    /// nothing is recorded), so attempts become its children.
    pub fn stored_context(&self) -> Option<TraceContext> {
        self.stored.clone()
    }

    /// The 32 hex digits of the trace, for log lines.
    pub fn trace_id(&self) -> Option<String> {
        self.stored.as_ref().map(|context| context.trace_id().to_owned())
    }

    /// The span of the store's commit, a child of this one; it ends when dropped.
    pub fn commit(&self) -> Option<Span> {
        let tracer = self.tracer.as_ref()?;
        Some(
            tracer.span_builder("store.commit").with_kind(SpanKind::Internal).start_with_context(tracer, &self.context),
        )
    }

    /// Names the one event a single publish made.
    pub fn describe(&mut self, event_id: &str, event_type: &str, account_id: &str) {
        let Some(span) = &mut self.span else { return };
        span.set_attribute(KeyValue::new("herald.event.id", event_id.to_owned()));
        span.set_attribute(KeyValue::new("herald.event.type", event_type.to_owned()));
        span.set_attribute(KeyValue::new("herald.account.id", account_id.to_owned()));
    }

    /// Ends the span: `committed` or `replayed`, or what went wrong.
    pub fn finish(self, result: Result<&'static str, &str>) {
        let Some(mut span) = self.span else { return };
        match result {
            Ok(outcome) => span.set_attribute(KeyValue::new("herald.outcome", outcome)),
            Err(code) => {
                span.set_attribute(KeyValue::new("herald.outcome", "refused"));
                span.set_attribute(KeyValue::new("error.type", code.to_owned()));
                span.set_status(Status::error(code.to_owned()));
            }
        }
        span.end();
    }
}

/// An attempt's span and the context its request carries.
pub struct AttemptSpan {
    span: Option<Span>,
    outgoing: Option<TraceContext>,
}

impl AttemptSpan {
    /// The `traceparent` and `tracestate` the attempt's request carries: this span's context.
    pub fn outgoing(&self) -> Option<&TraceContext> {
        self.outgoing.as_ref()
    }

    /// Ends the span with the attempt's result.
    pub fn finish(self, end: &AttemptEnd<'_>) {
        let Some(mut span) = self.span else { return };
        span.set_attribute(KeyValue::new("herald.outcome", end.outcome));
        span.set_attribute(KeyValue::new("herald.duration_ms", end.duration.as_millis() as i64));
        if let Some(status) = end.status {
            span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status)));
        }
        if let Some(code) = end.error {
            span.set_attribute(KeyValue::new("error.type", code.to_owned()));
        }
        if end.outcome != "delivered" {
            let why = end.error.map(str::to_owned).or(end.status.map(|s| format!("answered {s}")));
            span.set_status(Status::error(why.unwrap_or_default()));
        }
        span.end();
    }
}

/// A destination URL as a span shows it: scheme, host, port and path, without userinfo or query.
fn destination(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(url) => {
            let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{}{port}{}", url.scheme(), url.host_str().unwrap_or_default(), url.path())
        }
        Err(_) => String::new(),
    }
}

/// `stored` as an OpenTelemetry parent: a remote span context.
fn remote_context(stored: &TraceContext) -> Option<Context> {
    let header = stored.traceparent();
    let trace_id = TraceId::from_hex(header.get(3..35)?).ok()?;
    let span_id = SpanId::from_hex(header.get(36..52)?).ok()?;
    let flags = u8::from_str_radix(header.get(53..55)?, 16).ok()?;
    let state = stored.tracestate().and_then(|s| TraceState::from_str(s).ok()).unwrap_or_default();
    let context = SpanContext::new(trace_id, span_id, TraceFlags::new(flags), true, state);
    Some(Context::new().with_remote_span_context(context))
}

/// A span's context as the W3C headers carry it, with the publisher's `tracestate`.
fn trace_context(span: &SpanContext, publisher: Option<&TraceContext>) -> TraceContext {
    let traceparent = format!("00-{}-{}-{:02x}", span.trace_id(), span.span_id(), span.trace_flags().to_u8());
    TraceContext::from_stored(traceparent, publisher.and_then(|p| p.tracestate()).map(str::to_owned))
}

/// The collector's traces URL: `endpoint` as given when it ends in `/v1/traces`, otherwise with it added.
fn traces_url(endpoint: &str) -> Result<String, TelemetryError> {
    let url = url::Url::parse(endpoint.trim()).map_err(|e| TelemetryError::Endpoint(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TelemetryError::Endpoint(format!("the scheme {} is not http or https", url.scheme())));
    }
    let text = url.as_str().trim_end_matches('/');
    Ok(if text.ends_with(TRACES_PATH) { text.to_owned() } else { format!("{text}{TRACES_PATH}") })
}

/// The exporter's HTTP client: each request runs as a task on Herald's runtime, so the SDK's batch thread
/// can wait for it without a runtime of its own.
#[derive(Debug)]
struct Collector {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for Collector {
    async fn send_bytes(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, HttpError> {
        let http = self.http.clone();
        let task = self.runtime.spawn(async move {
            let mut response = http.execute(reqwest::Request::try_from(request)?).await?;
            let mut answer = http::Response::builder().status(response.status());
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                body.extend_from_slice(&chunk[..chunk.len().min(MAX_ANSWER - body.len())]);
                if body.len() >= MAX_ANSWER {
                    break;
                }
            }
            if let Some(headers) = answer.headers_mut() {
                *headers = std::mem::take(response.headers_mut());
            }
            Ok::<_, HttpError>(answer.body(Bytes::from(body))?)
        });
        task.await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_to_a_base_url_once() {
        assert_eq!(traces_url("http://127.0.0.1:4318").unwrap(), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(traces_url("http://127.0.0.1:4318/").unwrap(), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(traces_url("https://c.example/otlp/v1/traces").unwrap(), "https://c.example/otlp/v1/traces");
        assert!(traces_url("grpc://c.example:4317").is_err());
        assert!(traces_url("not a url").is_err());
    }

    #[test]
    fn a_destination_loses_its_userinfo_and_query() {
        assert_eq!(
            destination("https://u:pw@shop.example:8443/hooks?token=s3cret#x"),
            "https://shop.example:8443/hooks"
        );
        assert_eq!(destination("amqp://guest:***@127.0.0.1:5672/%2f?exchange=e"), "amqp://127.0.0.1:5672/%2f");
    }

    #[test]
    fn without_an_endpoint_an_attempt_still_continues_the_stored_trace() {
        let stored = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", Some("a=b"));
        let about = AttemptAbout {
            event_id: "evt_1",
            webhook_id: "wh_1",
            delivery_id: "dlv_1",
            number: 1,
            url: "https://shop.example/hooks?token=s3cret",
            http: true,
        };
        let span = Telemetry::default().attempt(stored.as_ref(), &about);
        let outgoing = span.outgoing().unwrap();
        assert_eq!(outgoing.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(outgoing.traceparent(), stored.as_ref().unwrap().traceparent());
        assert_eq!(outgoing.tracestate(), Some("a=b"));
        assert!(Telemetry::default().attempt(None, &about).outgoing().is_none());
    }
}
