//! The middleware that records each merchant API request (`GET /v1/request-logs` reads them back).
//!
//! A request is recorded when a merchant key authenticated it, whatever it was answered: the key, its
//! mode, the method, path, status and duration, the `Idempotency-Key`, the caller's address and its
//! request id. Writes keep their bodies, copied as the handler reads the request and as the answer goes
//! out, then cut and redacted by `crate::request_log`. The record is handed to the recorder after the
//! answer is ready, so recording never holds a request up.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::header::{AUTHORIZATION, COOKIE, HeaderName};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

use super::state::AppState;
use crate::domain::{AccountId, ApiKey, ApiKeyId, EventId, Mode, RequestId, Timestamp};
use crate::request_log::{kept_body, kept_path};
use crate::store::RequestLog;

/// The most of a request body copied for its record; redaction needs the whole of it.
const COPIED_REQUEST_BYTES: usize = 1024 * 1024;
/// Answers larger than this (or of unknown length, such as streams) keep no body.
const COPIED_RESPONSE_BYTES: u64 = 1024 * 1024;
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// Who a request was made by: a key, and the environment (with its mode) it acted in.
struct Caller {
    key: ApiKeyId,
    environment: AccountId,
    mode: Mode,
}

/// What the handler found out about its request, for the record.
#[derive(Default)]
struct Seen {
    caller: Mutex<Option<Caller>>,
    event: Mutex<Option<EventId>>,
}

tokio::task_local! {
    static SEEN: Arc<Seen>;
}

/// Notes the key a request was authenticated with (the merchant extractors call this): it acts in its
/// own environment.
pub fn authenticated(key: &ApiKey) {
    acting(key, &key.environment_id, key.mode);
}

/// Notes the key a request was made with and the environment it acted in (the dashboard's test mode
/// lets a live key act in the test environment).
pub fn acting(key: &ApiKey, environment: &AccountId, mode: Mode) {
    let caller = Caller { key: key.id.clone(), environment: environment.clone(), mode };
    let _ = SEEN.try_with(|seen| *seen.caller.lock().unwrap_or_else(|p| p.into_inner()) = Some(caller));
}

/// Notes the event a request worked on, so that the event's page lists it.
pub fn touched(event: &EventId) {
    let _ = SEEN.try_with(|seen| *seen.event.lock().unwrap_or_else(|p| p.into_inner()) = Some(event.clone()));
}

/// The bytes of a request body as the handler reads them.
#[derive(Default)]
struct Copied {
    bytes: Vec<u8>,
    /// More arrived than was copied.
    overflowed: bool,
    /// The body was read to its end.
    ended: bool,
}

/// A request body that copies what passes through it.
struct Copying {
    inner: Body,
    copied: Arc<Mutex<Copied>>,
}

impl http_body::Body for Copying {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let mut copied = self.copied.lock().unwrap_or_else(|p| p.into_inner());
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    match copied.bytes.len() + data.len() <= COPIED_REQUEST_BYTES {
                        true => copied.bytes.extend_from_slice(data),
                        false => copied.overflowed = true,
                    }
                }
            }
            Poll::Ready(None) => copied.ended = true,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Runs the request, then records it if a merchant key authenticated it.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let created_at = Timestamp::now();
    let method = request.method().clone();
    let path = kept_path(request.uri().path(), request.uri().query());
    let idempotency_key = request
        .headers()
        .get(IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .map(|key| key.chars().take(255).collect::<String>());
    let client_address = super::extract::peer_of(&request).map(|address| address.to_string());
    // Only a merchant's writes keep bodies: Basic credentials, a merchant access token or a dashboard
    // session; the operator's publishes pass untouched.
    let writes = state.request_logs.enabled()
        && !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
        && may_be_merchant(&request);
    let copied = Arc::new(Mutex::new(Copied::default()));
    let request = match writes {
        true => request.map(|inner| Body::new(Copying { inner, copied: copied.clone() })),
        false => request,
    };
    let seen = Arc::new(Seen::default());
    let response = SEEN.scope(seen.clone(), next.run(request)).await;
    let Some(caller) = seen.caller.lock().unwrap_or_else(|p| p.into_inner()).take() else { return response };
    let (response, response_body) = match writes {
        true => copy_response(response).await,
        false => (response, None),
    };
    let request_body = writes.then(|| request_body(&copied)).flatten();
    let log = RequestLog {
        id: super::request_id::current().unwrap_or_else(RequestId::generate),
        account_id: caller.environment,
        api_key_id: caller.key,
        mode: caller.mode,
        method: method.to_string(),
        path,
        status: response.status().as_u16(),
        duration_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
        idempotency_key,
        client_address,
        event_id: seen.event.lock().unwrap_or_else(|p| p.into_inner()).take(),
        request_body,
        response_body,
        created_at,
    };
    let mode = log.mode.as_str();
    match state.request_logs.record(log) {
        true => state.metrics.request_logged(mode),
        false => state.metrics.request_log_dropped(),
    }
    response
}

fn may_be_merchant(request: &Request) -> bool {
    let headers = request.headers();
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let scheme = authorization.split_once(' ').map(|(scheme, rest)| (scheme.to_ascii_lowercase(), rest.trim_start()));
    match scheme {
        Some((scheme, _)) if scheme == "basic" => true,
        Some((scheme, token)) if scheme == "bearer" => token.starts_with(super::oauth::TOKEN_PREFIX),
        _ => headers.contains_key(COOKIE),
    }
}

fn request_body(copied: &Mutex<Copied>) -> Option<String> {
    let copied = copied.lock().unwrap_or_else(|p| p.into_inner());
    kept_body(&copied.bytes, copied.ended && !copied.overflowed)
}

/// The answer as it was, and what its record keeps of its body (answers of a known, small length).
async fn copy_response(response: Response) -> (Response, Option<String>) {
    let small = http_body::Body::size_hint(response.body()).exact().is_some_and(|n| n <= COPIED_RESPONSE_BYTES);
    if !small {
        return (response, None);
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, COPIED_RESPONSE_BYTES as usize).await {
        Ok(bytes) => {
            let kept = kept_body(&bytes, true);
            (Response::from_parts(parts, Body::from(bytes)), kept)
        }
        Err(_) => (Response::from_parts(parts, Body::empty()), None),
    }
}
