//! Span export over OTLP/HTTP: a real `herald serve` with `HERALD_OTLP_ENDPOINT` pointed at a collector
//! this test runs on loopback, which decodes each export with the OpenTelemetry protocol's definitions.
//! A publish that comes with a `traceparent` is a span in that trace, with the store's commit as its
//! child; each attempt (a failed one and its retry) is a span under the publish; the receiver gets the
//! attempt span's own `traceparent`; a trace the publisher does not sample is continued but not recorded;
//! log lines carry the trace id; and no secret, credential or payload is in any exported attribute.

mod common;

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::{HeraldProcess, Requests, set_up_tenant, start_recording_receiver};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{Value, json};

const TOKEN: &str = "otlp-test-admin-token-93c2";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PUBLISHER_SPAN: &str = "00f067aa0ba902b7";
const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const PAYLOAD_MARKER: &str = "payload-marker-5151";
const QUERY_SECRET: &str = "query-secret-7e1d";

/// What the collector received: each span with its resource's `service.name`, and the exports' paths.
#[derive(Default)]
struct Collected {
    spans: Vec<(String, Span)>,
    content_types: Vec<String>,
}

async fn start_collector(collected: Arc<Mutex<Collected>>) -> String {
    use axum::extract::State;
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(
            |State(collected): State<Arc<Mutex<Collected>>>, headers: axum::http::HeaderMap, body: bytes::Bytes| async move {
                let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export");
                let mut collected = collected.lock().unwrap();
                let content_type = headers.get("content-type").map(|v| v.to_str().unwrap().to_owned());
                collected.content_types.push(content_type.unwrap_or_default());
                for resource_spans in request.resource_spans {
                    let resource = resource_spans.resource.unwrap_or_default();
                    let service = resource
                        .attributes
                        .iter()
                        .find(|kv| kv.key == "service.name")
                        .map(|kv| text(kv.value.as_ref()))
                        .unwrap_or_default();
                    for scope in resource_spans.scope_spans {
                        collected.spans.extend(scope.spans.into_iter().map(|span| (service.clone(), span)));
                    }
                }
                ExportTraceServiceResponse::default().encode_to_vec()
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app.with_state(collected)).await.unwrap() });
    url
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(n)) => n.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn attribute(span: &Span, key: &str) -> String {
    span.attributes.iter().find(|kv| kv.key == key).map(|kv| text(kv.value.as_ref())).unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

static ANSWERED: AtomicUsize = AtomicUsize::new(0);

/// Fails the first request, takes the rest.
fn fail_once(_: &[u8]) -> (StatusCode, &'static str) {
    match ANSWERED.fetch_add(1, Ordering::SeqCst) {
        0 => (StatusCode::INTERNAL_SERVER_ERROR, "not yet"),
        _ => (StatusCode::OK, "ok"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_and_its_attempts_are_spans_in_the_publishers_trace() {
    let collected = Arc::new(Mutex::new(Collected::default()));
    let collector = start_collector(collected.clone()).await;
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("stderr.log");
    let logs = Stdio::from(std::fs::File::create(&log_path).unwrap());
    let env = [
        ("HERALD_OTLP_ENDPOINT", collector.as_str()),
        ("HERALD_OTLP_SERVICE_NAME", "herald-under-test"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("HERALD_RETRY_SCHEDULE", "300ms"),
        ("HERALD_LOG", "info"),
        ("HERALD_LOG_FORMAT", "json"),
    ];
    let herald = HeraldProcess::start_logging(&data.path().join("data"), TOKEN, &[], &env, logs);
    let base = herald.base.clone();
    let requests: Requests = Arc::default();
    let receiver = start_recording_receiver(requests.clone(), fail_once).await;
    let http = reqwest::Client::new();
    let url = format!("{receiver}?token={QUERY_SECRET}");
    let tenant = set_up_tenant(&http, &base, TOKEN, "charge.succeeded", &url).await;
    let path = format!("{base}/v1/notifications/webhooks/{}/secret", tenant.webhook_id);
    let revealed: Value = http
        .get(path)
        .basic_auth(&tenant.client_id, Some(&tenant.client_secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let webhook_secret = revealed["secret"].as_str().unwrap().to_owned();

    let body = json!({"account_id": tenant.account_id, "event_type": "charge.succeeded", "resource": {"card": PAYLOAD_MARKER}});
    let published = http
        .post(format!("{base}/v1/events"))
        .bearer_auth(TOKEN)
        .header("traceparent", PARENT)
        .header("tracestate", "congo=t61rcWkgMzE")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 202);
    let event: Value = published.json().await.unwrap();
    let event_id = event["id"].as_str().unwrap().to_owned();

    // Two attempts arrive (a 500, then the retry); their spans follow within the export interval.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (delivered, spans) = loop {
        let delivered = requests.lock().unwrap().clone();
        let spans: Vec<(String, Span)> = collected.lock().unwrap().spans.clone();
        let attempts = spans.iter().filter(|(_, s)| s.name == "deliver").count();
        if delivered.len() >= 2 && attempts >= 2 && spans.iter().any(|(_, s)| s.name == "publish") {
            break (delivered, spans);
        }
        assert!(Instant::now() < deadline, "{} requests, spans: {:?}", delivered.len(), names(&spans));
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(spans.iter().all(|(service, _)| service == "herald-under-test"), "the service name is the setting's");
    assert!(collected.lock().unwrap().content_types.iter().all(|t| t == "application/x-protobuf"));

    let in_trace: Vec<&Span> = spans.iter().map(|(_, s)| s).filter(|s| hex(&s.trace_id) == TRACE_ID).collect();
    let publish = in_trace.iter().find(|s| s.name == "publish").expect("a publish span in the publisher's trace");
    assert_eq!(hex(&publish.parent_span_id), PUBLISHER_SPAN, "the publish is a child of the publisher's span");
    assert_eq!(attribute(publish, "herald.event.id"), event_id);
    assert_eq!(attribute(publish, "herald.outcome"), "committed");
    let commit = in_trace.iter().find(|s| s.name == "store.commit").expect("the commit's span");
    assert_eq!(commit.parent_span_id, publish.span_id, "the commit is the publish's child");

    let mut attempts: Vec<&&Span> = in_trace.iter().filter(|s| s.name == "deliver").collect();
    attempts.sort_by_key(|s| attribute(s, "herald.attempt.number"));
    assert_eq!(attempts.len(), 2, "one span per attempt");
    for (n, (span, (status, outcome))) in attempts.iter().zip([("500", "retrying"), ("200", "delivered")]).enumerate() {
        assert_eq!(span.parent_span_id, publish.span_id, "attempt {n} is the publish's child");
        assert_eq!(attribute(span, "herald.attempt.number"), (n + 1).to_string());
        assert_eq!(attribute(span, "http.response.status_code"), status);
        assert_eq!(attribute(span, "herald.outcome"), outcome);
        assert_eq!(attribute(span, "herald.event.id"), event_id);
        assert_eq!(attribute(span, "herald.webhook.id"), tenant.webhook_id);
        assert_eq!(attribute(span, "herald.destination"), receiver, "no query in the destination");
        assert!(span.end_time_unix_nano >= span.start_time_unix_nano);
        // The receiver saw this span as its parent, in the same trace, with the publisher's tracestate.
        let (headers, _) = &delivered[n];
        let expected = format!("00-{TRACE_ID}-{}-01", hex(&span.span_id));
        assert_eq!(headers["traceparent"].to_str().unwrap(), expected);
        assert_eq!(headers["tracestate"].to_str().unwrap(), "congo=t61rcWkgMzE");
    }

    // Nothing secret or private in any attribute of any span, or in their names.
    let secrets = [TOKEN, &tenant.client_secret, &webhook_secret, PAYLOAD_MARKER, QUERY_SECRET];
    for (_, span) in &spans {
        let values: Vec<String> =
            span.attributes.iter().map(|kv| format!("{}={}", kv.key, text(kv.value.as_ref()))).collect();
        for secret in secrets {
            assert!(!span.name.contains(secret) && values.iter().all(|v| !v.contains(secret)), "{values:?}");
        }
    }

    // A publisher's trace that is not sampled is continued (the receiver joins it) but nothing is recorded.
    let unsampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
    let published = http
        .post(format!("{base}/v1/events"))
        .bearer_auth(TOKEN)
        .header("traceparent", unsampled)
        .json(&json!({"account_id": tenant.account_id, "event_type": "charge.succeeded", "resource": {"n": 2}}))
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(10);
    let delivered = loop {
        let delivered = requests.lock().unwrap().clone();
        if delivered.len() >= 3 {
            break delivered;
        }
        assert!(Instant::now() < deadline, "the unsampled event was not delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let parts: Vec<String> = delivered[2].0["traceparent"].to_str().unwrap().split('-').map(str::to_owned).collect();
    assert_eq!((parts[1].as_str(), parts[3].as_str()), ("0af7651916cd43dd8448eb211c80319c", "00"));
    assert_ne!(parts[2], "b7ad6b7169203331", "a span id of the attempt's own");
    // Several export intervals pass; none brings a span of that trace.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let spans = collected.lock().unwrap().spans.clone();
    assert!(spans.iter().all(|(_, s)| hex(&s.trace_id) != "0af7651916cd43dd8448eb211c80319c"));

    // The attempt's log lines carry the trace id.
    let lines = std::fs::read_to_string(&log_path).unwrap();
    let traced: Vec<Value> = lines
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["span"]["trace.id"] == TRACE_ID)
        .collect();
    assert!(
        traced.iter().any(|line| line["fields"]["message"] == "the webhook started failing"),
        "no log line of the attempt carries the trace id:\n{lines}"
    );
}

fn names(spans: &[(String, Span)]) -> Vec<String> {
    spans.iter().map(|(_, s)| s.name.clone()).collect()
}
