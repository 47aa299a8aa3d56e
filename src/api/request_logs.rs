//! Merchant: the request log (`GET /v1/request-logs`, `GET /v1/request-logs/{id}`): every API request
//! made with the environment's keys, newest first, with the bodies of writes (secrets redacted).

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::Merchant;
use super::openapi::Errors;
use super::paging::{Link, PageQuery, QueryParams, finish_page, query_error};
use super::state::AppState;
use crate::domain::{ApiKeyId, EventId, Mode, RequestId, Timestamp};
use crate::store::{RequestLog, RequestLogFilter};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestLogQuery {
    /// `succeeded` (answered below 400) or `failed`
    status: Option<String>,
    /// `GET`, `POST`, `PATCH`, `DELETE`, …
    method: Option<String>,
    /// Requests whose path begins with this
    path: Option<String>,
    /// Requests that worked on this event (resends, test events)
    event_id: Option<String>,
    page_size: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RequestLogView {
    id: RequestId,
    method: String,
    path: String,
    status: u16,
    duration_ms: u32,
    api_key_id: ApiKeyId,
    mode: Mode,
    idempotency_key: Option<String>,
    client_address: Option<String>,
    event_id: Option<EventId>,
    created_at: Timestamp,
    /// In `GET /v1/request-logs/{id}` only: the request's body (writes only, else null), secrets redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    request_body: Option<Option<String>>,
    /// In `GET /v1/request-logs/{id}` only: the answer's body (writes only, else null), secrets redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    response_body: Option<Option<String>>,
}

impl RequestLogView {
    fn of(log: RequestLog, with_bodies: bool) -> Self {
        Self {
            id: log.id,
            method: log.method,
            path: log.path,
            status: log.status,
            duration_ms: log.duration_ms,
            api_key_id: log.api_key_id,
            mode: log.mode,
            idempotency_key: log.idempotency_key,
            client_address: log.client_address,
            event_id: log.event_id,
            created_at: log.created_at,
            request_body: with_bodies.then_some(log.request_body),
            response_body: with_bodies.then_some(log.response_body),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RequestLogList {
    request_logs: Vec<RequestLogView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    links: Vec<Link>,
}

impl RequestLogQuery {
    fn filter(&self) -> Result<RequestLogFilter, ApiError> {
        let succeeded = match self.status.as_deref() {
            None | Some("all") => None,
            Some("succeeded") => Some(true),
            Some("failed") => Some(false),
            Some(_) => return Err(query_error("status", "status must be succeeded, failed or all")),
        };
        let method = self.method.as_ref().map(|m| m.trim().to_ascii_uppercase()).filter(|m| !m.is_empty());
        if method.as_ref().is_some_and(|m| m.len() > 10 || !m.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(query_error("method", "method must be an HTTP method such as GET or POST"));
        }
        let path_prefix = self.path.as_ref().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
        if path_prefix.as_ref().is_some_and(|p| p.len() > 500) {
            return Err(query_error("path", "path must be at most 500 characters"));
        }
        let event_id = match &self.event_id {
            Some(id) => Some(EventId::parse(id).map_err(|_| query_error("event_id", "event_id is not an event id"))?),
            None => None,
        };
        Ok(RequestLogFilter { succeeded, method, path_prefix, event_id })
    }
}

/// The environment's requests, newest first.
#[utoipa::path(operation_id = "list_request_logs", get, path = "/v1/request-logs", tag = "request_logs", params(RequestLogQuery), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = RequestLogList), Errors))]
pub async fn list(
    merchant: Merchant,
    State(state): State<AppState>,
    QueryParams(query): QueryParams<RequestLogQuery>,
) -> Result<Json<RequestLogList>, ApiError> {
    let filter = query.filter()?;
    let page = PageQuery { page_size: query.page_size, cursor: query.cursor.clone() }.to_request()?;
    let found = state.store.list_request_logs(&merchant.account_id, filter, page.clone()).await?;
    let base = format!("{}/v1/request-logs", state.public_url);
    let mut kept: Vec<String> = vec![format!("page_size={}", page.limit - 1)];
    for (name, value) in
        [("status", &query.status), ("method", &query.method), ("path", &query.path), ("event_id", &query.event_id)]
    {
        if let Some(value) = value {
            kept.push(format!("{name}={}", url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()));
        }
    }
    let kept = kept.join("&");
    let (logs, next_cursor, links) =
        finish_page(found, &page, |l| l.id.as_str(), |c| format!("{base}?{kept}&cursor={c}"));
    let request_logs = logs.into_iter().map(|log| RequestLogView::of(log, false)).collect();
    Ok(Json(RequestLogList { request_logs, next_cursor, links }))
}

/// One request with its bodies.
#[utoipa::path(operation_id = "show_request_log", get, path = "/v1/request-logs/{id}", tag = "request_logs", params(("id" = String, Path, description = "Request id (the Request-Id header)")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = RequestLogView), Errors))]
pub async fn show(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RequestLogView>, ApiError> {
    let id = RequestId::parse(&id).map_err(|_| ApiError::not_found("request log"))?;
    let log = state
        .store
        .get_request_log(&merchant.account_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("request log"))?;
    Ok(Json(RequestLogView::of(log, true)))
}
