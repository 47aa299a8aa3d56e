//! Merchant: event notifications. List and show events, resend one, simulate a sample event.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::error::{ApiError, ErrorDetail};
use super::extract::{JsonBody, Merchant, OptionalJsonBody, RequestBody};
use super::openapi::Errors;
use super::paging::{Link, PageQuery, QueryParams, finish_page, query_error};
use super::state::AppState;
use crate::domain::model::Event;
use crate::domain::{EventId, EventTypeName, Timestamp};
use crate::publish::RequestRef;
use crate::service::events::{self, TestTarget};
use crate::store::EventFilter;

fn event_response(status: StatusCode, event: Event) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], event.body).into_response()
}

fn parse_event_id(id: &str) -> Result<EventId, ApiError> {
    EventId::parse(id).map_err(|_| ApiError::not_found("event"))
}

/// The event object exactly as its deliveries carry it; another account's event is simply not found.
#[utoipa::path(operation_id = "show_event", get, path = "/v1/notifications/webhooks-events/{id}", tag = "events", params(("id" = String, Path, description = "Event id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = crate::publish::Envelope), Errors))]
pub async fn show_event(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_event_id(&id)?;
    let event = state.store.get_event(&merchant.account_id, &id).await?.ok_or_else(|| ApiError::not_found("event"))?;
    Ok(event_response(StatusCode::OK, event))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    page_size: Option<u32>,
    cursor: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    event_type: Option<String>,
    transaction_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventList {
    #[schema(value_type = Vec<crate::publish::Envelope>)]
    events: Vec<Box<RawValue>>,
    count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    links: Vec<Link>,
}

fn event_filter(query: &EventQuery) -> Result<EventFilter, ApiError> {
    let time = |field, text: &Option<String>| match text {
        Some(text) => {
            Timestamp::parse_rfc3339(text).map(Some).ok_or_else(|| query_error(field, "use an RFC 3339 date-time"))
        }
        None => Ok(None),
    };
    let event_type = match &query.event_type {
        Some(name) => Some(EventTypeName::parse(name).map_err(|e| query_error("event_type", e.to_string()))?),
        None => None,
    };
    Ok(EventFilter {
        start_time: time("start_time", &query.start_time)?,
        end_time: time("end_time", &query.end_time)?,
        event_type,
        resource_id: query.transaction_id.clone(),
    })
}

/// `GET /v1/notifications/webhooks-events`: the account's events, newest first, filtered and paged.
#[utoipa::path(operation_id = "list_events", get, path = "/v1/notifications/webhooks-events", tag = "events", params(EventQuery), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = EventList), Errors))]
pub async fn list_events(
    merchant: Merchant,
    State(state): State<AppState>,
    QueryParams(query): QueryParams<EventQuery>,
) -> Result<Json<EventList>, ApiError> {
    let filter = event_filter(&query)?;
    let request = PageQuery { page_size: query.page_size, cursor: query.cursor.clone() }.to_request()?;
    let found = state.store.list_events(&merchant.account_id, filter, request.clone()).await?;
    let mut next = vec![format!("page_size={}", request.limit - 1)];
    for (name, value) in [
        ("start_time", &query.start_time),
        ("end_time", &query.end_time),
        ("event_type", &query.event_type),
        ("transaction_id", &query.transaction_id),
    ] {
        if let Some(value) = value {
            next.push(serde_urlencoded::to_string([(name, value)]).unwrap_or_default());
        }
    }
    let base = format!("{}/v1/notifications/webhooks-events?{}", state.public_url, next.join("&"));
    let (events, next_cursor, links) =
        finish_page(found, &request, |e| e.id.as_str(), |cursor| format!("{base}&cursor={cursor}"));
    let events = events
        .into_iter()
        .map(|e| serde_json::from_slice::<Box<RawValue>>(&e.body).map_err(ApiError::internal))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(EventList { count: events.len(), events, next_cursor, links }))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resend {
    webhook_ids: Option<Vec<String>>,
}

impl RequestBody for Resend {}

/// `POST /v1/notifications/webhooks-events/{id}/resend`: new manual deliveries of the same bytes.
#[utoipa::path(operation_id = "resend_event", post, path = "/v1/notifications/webhooks-events/{id}/resend", tag = "events", request_body(content = Option<Resend>), params(("id" = String, Path, description = "Event id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 202, body = crate::publish::Envelope), Errors))]
pub async fn resend(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<Resend>,
) -> Result<Response, ApiError> {
    if let Ok(event_id) = EventId::parse(&id) {
        super::request_log::touched(&event_id);
    }
    let event = events::resend(&state, &merchant.account_id, &id, body.webhook_ids.as_deref()).await?;
    Ok(event_response(StatusCode::ACCEPTED, event))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Simulate {
    webhook_id: Option<String>,
    url: Option<String>,
    event_type: String,
    resource_version: Option<String>,
}

impl RequestBody for Simulate {}

/// `POST /v1/notifications/simulate-event`: the type's sample, sent once to a webhook or a bare URL.
#[utoipa::path(operation_id = "simulate_event", post, path = "/v1/notifications/simulate-event", tag = "events", request_body = Simulate, security(("client_credentials" = []), ("access_token" = [])), responses((status = 202, body = crate::publish::Envelope), Errors))]
pub async fn simulate(
    merchant: Merchant,
    State(state): State<AppState>,
    JsonBody(body, _): JsonBody<Simulate>,
) -> Result<Response, ApiError> {
    let target = match (&body.webhook_id, &body.url) {
        (Some(id), None) => TestTarget::Webhook(id),
        (None, Some(url)) => TestTarget::Url(url),
        _ => {
            let detail =
                ErrorDetail::body("/webhook_id", "MISSING_OR_CONFLICTING", "give exactly one of webhook_id and url");
            return Err(ApiError::validation(detail));
        }
    };
    let version = body.resource_version.as_deref();
    let request = super::request_id::current().map(|id| RequestRef { id, idempotency_key: None });
    let (account, mode) = (&merchant.account_id, merchant.key.mode);
    let event = events::send_test(&state, account, mode, request, target, &body.event_type, version).await?;
    super::request_log::touched(&event.id);
    Ok(event_response(StatusCode::ACCEPTED, event))
}
