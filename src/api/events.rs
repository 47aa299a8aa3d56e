//! Operator: publishing (`POST /v1/events`, `POST /v1/events/batch`) with `Idempotency-Key`.
//!
//! A 202 is sent only after the events and all their deliveries are committed to disk.

use crate::domain::trace::TraceContext;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::error::{ApiError, ErrorDetail, event_pointer};
use super::event_types::is_object;
use super::extract::{JsonBody, Operator, RequestBody, WithinMemoryBudget};
use super::openapi::Errors;
use super::state::AppState;
use crate::domain::{AccountId, EventTypeName, Mode};
use crate::publish::{EventDraft, IdempotencyKey, Published, RequestRef, ResponseShape};

/// The most events one batch may carry.
pub const MAX_BATCH: usize = 1000;
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
const MAX_SUMMARY_LEN: usize = 1000;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishEvent {
    account_id: String,
    event_type: String,
    /// The resource, any JSON object; delivered byte for byte as given.
    #[schema(value_type = Object)]
    resource: Box<RawValue>,
    summary: Option<String>,
    resource_type: Option<String>,
    resource_version: Option<String>,
    /// `false` publishes in test mode: only the account's test webhooks receive the event.
    #[schema(default = true)]
    livemode: Option<bool>,
}

impl RequestBody for PublishEvent {}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBatch {
    events: Vec<PublishEvent>,
}

/// The answer to a batch: every event, in the order given.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BatchAccepted {
    events: Vec<crate::publish::Envelope<'static>>,
}

impl RequestBody for PublishBatch {
    fn limit(state: &AppState) -> usize {
        state.limits.max_batch_bytes
    }
}

#[utoipa::path(operation_id = "publish_event", post, path = "/v1/events", tag = "operator", request_body = PublishEvent, params(("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Makes a retried publish return the first answer and create nothing new")), security(("admin_token" = [])), responses((status = 202, description = "Committed to disk with all its deliveries", body = crate::publish::Envelope), Errors))]
pub async fn publish_one(
    _: Operator,
    _: WithinMemoryBudget,
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(event, raw): JsonBody<PublishEvent>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers, "/v1/events", &raw)?;
    let request = this_request(&key);
    let trace = trace_context(&headers);
    let draft = to_draft(event, None, state.limits.max_body_bytes, &request, &trace)?;
    let published = state.publisher.publish(vec![draft], key, ResponseShape::Single).await?;
    Ok(accepted(published))
}

#[utoipa::path(operation_id = "publish_event_batch", post, path = "/v1/events/batch", tag = "operator", request_body = PublishBatch, params(("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Makes a retried publish return the first answer and create nothing new")), security(("admin_token" = [])), responses((status = 202, description = "All committed, or none", body = BatchAccepted), Errors))]
pub async fn publish_batch(
    _: Operator,
    _: WithinMemoryBudget,
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(batch, raw): JsonBody<PublishBatch>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers, "/v1/events/batch", &raw)?;
    let request = this_request(&key);
    let trace = trace_context(&headers);
    if batch.events.is_empty() || batch.events.len() > MAX_BATCH {
        let detail =
            ErrorDetail::body("/events", "INVALID_BATCH_SIZE", format!("a batch holds 1 to {MAX_BATCH} events"));
        return Err(ApiError::validation(detail));
    }
    let drafts = batch
        .events
        .into_iter()
        .enumerate()
        .map(|(index, event)| to_draft(event, Some(index), state.limits.max_body_bytes, &request, &trace))
        .collect::<Result<Vec<_>, _>>()?;
    let published = state.publisher.publish(drafts, key, ResponseShape::Batch).await?;
    Ok(accepted(published))
}

fn accepted(published: Published) -> Response {
    let (body, replayed) = match published {
        Published::Created(body) => (body, false),
        Published::Replayed(body) => (body, true),
    };
    let mut response = (StatusCode::ACCEPTED, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// The key and a digest of the request it guards (path and exact body bytes).
fn idempotency_key(headers: &HeaderMap, path: &str, body: &Bytes) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().ok().filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY_LEN).ok_or_else(|| {
        ApiError::invalid_request("the Idempotency-Key header is not valid").with_detail(ErrorDetail {
            field: Some("Idempotency-Key".into()),
            value: None,
            location: "header",
            issue: "INVALID_PARAMETER_VALUE".into(),
            description: format!("use 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"),
        })
    })?;
    let mut hasher = Sha256::new();
    hasher.update(path.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    Ok(Some(IdempotencyKey { key: key.to_owned(), request_hash: hasher.finalize().into() }))
}

/// The publishing request, as its events name it.
fn this_request(key: &Option<IdempotencyKey>) -> Option<RequestRef> {
    let idempotency_key = key.as_ref().map(|key| key.key.clone());
    super::request_id::current().map(|id| RequestRef { id, idempotency_key })
}

fn to_draft(
    event: PublishEvent,
    index: Option<usize>,
    max_resource_bytes: usize,
    request: &Option<RequestRef>,
    trace: &Option<TraceContext>,
) -> Result<EventDraft, ApiError> {
    let at = |field| event_pointer(index, field);
    let account_id = AccountId::parse(&event.account_id).map_err(|e| {
        ApiError::validation(
            ErrorDetail::body(at("account_id"), "UNKNOWN_ACCOUNT", e.to_string()).with_value(&*event.account_id),
        )
    })?;
    let event_type = EventTypeName::parse(&event.event_type).map_err(|_| {
        ApiError::unprocessable(
            "UNKNOWN_EVENT_TYPE",
            format!("the event type \"{}\" is not in the catalog", event.event_type),
        )
        .with_detail(
            ErrorDetail::body(at("event_type"), "UNKNOWN_EVENT_TYPE", "add it to the catalog first")
                .with_value(&*event.event_type),
        )
    })?;
    if !is_object(&event.resource) {
        return Err(ApiError::validation(ErrorDetail::body(
            at("resource"),
            "INVALID_RESOURCE",
            "the resource must be a JSON object",
        )));
    }
    if event.resource.get().len() > max_resource_bytes {
        let description = format!("the resource is larger than {max_resource_bytes} bytes");
        return Err(ApiError::validation(ErrorDetail::body(at("resource"), "RESOURCE_TOO_LARGE", description)));
    }
    if event.summary.as_ref().is_some_and(|s| s.chars().count() > MAX_SUMMARY_LEN) {
        let description = format!("the summary is longer than {MAX_SUMMARY_LEN} characters");
        return Err(ApiError::validation(ErrorDetail::body(at("summary"), "SUMMARY_TOO_LONG", description)));
    }
    Ok(EventDraft {
        account_id,
        mode: Mode::of_livemode(event.livemode.unwrap_or(true)),
        request: request.clone(),
        event_type,
        resource: event.resource,
        summary: event.summary,
        resource_type: event.resource_type,
        resource_version: event.resource_version,
        trace: trace.clone(),
    })
}

/// The W3C trace context the publish came with (`traceparent`, `tracestate`); a malformed one is ignored.
fn trace_context(headers: &HeaderMap) -> Option<TraceContext> {
    let value = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    TraceContext::parse(value("traceparent")?, value("tracestate"))
}
