//! Merchant: what Stripe's endpoint page shows. The attempts list of one webhook with All / Succeeded /
//! Failed / Pending tabs, one delivery with every attempt, and recovery of failed deliveries.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorDetail};
use super::extract::{JsonBody, Merchant, RequestBody};
use super::openapi::Errors;
use super::paging::{Link, PageQuery, QueryParams, finish_page};
use super::state::AppState;
use super::webhooks::owned_webhook;
use crate::domain::model::{Attempt, Delivery, DeliveryState};
use crate::domain::{DeliveryId, EventId, EventTypeName, Timestamp};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// `succeeded`, `failed`, `pending`, `cancelled` or `all` (the default)
    status: Option<String>,
    page_size: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    id: DeliveryId,
    event_id: EventId,
    event_type: EventTypeName,
    status: &'static str,
    trigger: &'static str,
    attempt_count: u32,
    last_status_code: Option<u16>,
    created_at: Timestamp,
    next_attempt_at: Option<Timestamp>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.state.as_str(),
            trigger: d.trigger.as_str(),
            attempt_count: d.attempt_count,
            last_status_code: d.last_status_code,
            created_at: d.created_at,
            next_attempt_at: d.next_attempt_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    deliveries: Vec<DeliveryView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    links: Vec<Link>,
}

/// `GET /v1/notifications/webhooks/{id}/deliveries?status=succeeded|failed|pending`, newest first.
#[utoipa::path(operation_id = "list_deliveries", get, path = "/v1/notifications/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path, description = "Webhook id"), DeliveryQuery), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = DeliveryList), Errors))]
pub async fn list(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<DeliveryQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    let webhook = owned_webhook(&state, &merchant, &id).await?;
    let status = match query.status.as_deref() {
        None | Some("all") => None,
        Some(text) => Some(DeliveryState::parse(text).ok_or_else(|| {
            ApiError::invalid_request("the status filter is not valid").with_detail(ErrorDetail {
                field: Some("status".into()),
                value: Some(text.chars().take(50).collect()),
                location: "query",
                issue: "INVALID_PARAMETER_VALUE".into(),
                description: "use succeeded, failed, pending or cancelled".into(),
            })
        })?),
    };
    let request = PageQuery { page_size: query.page_size, cursor: query.cursor }.to_request()?;
    let found = state.store.list_deliveries(&webhook.id, status, request.clone()).await?;
    let base = format!("{}/v1/notifications/webhooks/{}/deliveries", state.public_url, webhook.id);
    let filter = status.map(|s| format!("&status={}", s.as_str())).unwrap_or_default();
    let page_size = request.limit - 1;
    let (deliveries, next_cursor, links) = finish_page(
        found,
        &request,
        |d| d.id.as_str(),
        |cursor| format!("{base}?page_size={page_size}&cursor={cursor}{filter}"),
    );
    Ok(Json(DeliveryList { deliveries: deliveries.into_iter().map(DeliveryView::from).collect(), next_cursor, links }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    delivery: DeliveryView,
    attempts: Vec<AttemptView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    id: String,
    number: u32,
    started_at: Timestamp,
    duration_ms: u64,
    trigger: &'static str,
    request: RequestView,
    response: Option<ResponseView>,
    error: Option<ErrorView>,
    /// The Herald process that made the attempt.
    node: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RequestView {
    url: String,
    headers: BTreeMap<String, String>,
    body: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ResponseView {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
    truncated: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorView {
    code: String,
    message: String,
}

fn attempt_view(attempt: Attempt, request_body: &str) -> AttemptView {
    AttemptView {
        id: attempt.id.to_string(),
        number: attempt.number,
        started_at: attempt.started_at,
        duration_ms: attempt.duration_ms,
        trigger: attempt.trigger.as_str(),
        request: RequestView {
            url: attempt.request_url,
            headers: attempt.request_headers.into_iter().collect(),
            body: request_body.to_owned(),
        },
        response: attempt.response.map(|r| ResponseView {
            status: r.status,
            headers: r.headers.into_iter().collect(),
            body: String::from_utf8_lossy(&r.body).into_owned(),
            truncated: r.truncated,
        }),
        error: attempt.error.map(|e| ErrorView { code: e.code, message: e.message }),
        node: attempt.node,
    }
}

/// `GET /v1/notifications/webhooks/{id}/deliveries/{delivery_id}`: one delivery with every attempt.
#[utoipa::path(operation_id = "show_delivery", get, path = "/v1/notifications/webhooks/{id}/deliveries/{delivery_id}", tag = "webhooks", params(("id" = String, Path, description = "Webhook id"), ("delivery_id" = String, Path, description = "Delivery id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = DeliveryDetail), Errors))]
pub async fn show(
    merchant: Merchant,
    State(state): State<AppState>,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Json<DeliveryDetail>, ApiError> {
    let detail = crate::service::deliveries::detail(&state, &merchant.account_id, &id, &delivery_id).await?;
    let body = String::from_utf8_lossy(&detail.body_sent);
    let attempts = detail.attempts.into_iter().map(|a| attempt_view(a, &body)).collect();
    let delivery = detail.delivery;
    Ok(Json(DeliveryDetail { delivery: delivery.into(), attempts }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recover {
    since: String,
    until: Option<String>,
}

impl RequestBody for Recover {}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Recovered {
    requeued: u64,
}

/// `POST /v1/notifications/webhooks/{id}/recover`: every failed delivery created in the window gets one
/// more attempt now.
#[utoipa::path(operation_id = "recover_failed_deliveries", post, path = "/v1/notifications/webhooks/{id}/recover", tag = "webhooks", request_body = Recover, params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 202, body = Recovered), Errors))]
pub async fn recover(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): JsonBody<Recover>,
) -> Result<(StatusCode, Json<Recovered>), ApiError> {
    let webhook = owned_webhook(&state, &merchant, &id).await?;
    let time = |field: &str, text: &str| {
        Timestamp::parse_rfc3339(text).ok_or_else(|| {
            ApiError::validation(
                ErrorDetail::body(format!("/{field}"), "INVALID_TIME", "use an RFC 3339 date-time").with_value(text),
            )
        })
    };
    let now = Timestamp::now();
    let since = time("since", &body.since)?;
    let until = match &body.until {
        Some(text) => time("until", text)?,
        None => now,
    };
    if until < since {
        let detail = ErrorDetail::body("/until", "INVALID_TIME_RANGE", "until must not be before since");
        return Err(ApiError::validation(detail));
    }
    let requeued = state.store.requeue_failed(&webhook.id, since, until, now).await?;
    if requeued > 0 {
        state.publisher.wake_delivery();
    }
    Ok((StatusCode::ACCEPTED, Json(Recovered { requeued })))
}
