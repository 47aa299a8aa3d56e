//! The Logs page: the API requests made with the environment's keys, newest first, filtered by status,
//! method and path; one request with its bodies laid out for reading. The event page lists the requests
//! that touched its event with the same rows.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::frame::{Chrome, MerchantPage, Moment, PageError, PageQuery, html, moment};
use super::pretty::pretty_json;
use crate::api::AppState;
use crate::domain::{EventId, RequestId};
use crate::store::{PageRequest, RequestLog, RequestLogFilter};

const PAGE_SIZE: u32 = 50;
/// The methods the filter offers.
const METHODS: [&str; 4] = ["GET", "POST", "PATCH", "DELETE"];

#[derive(Deserialize, Default)]
pub struct LogsQuery {
    status: Option<String>,
    method: Option<String>,
    path: Option<String>,
    cursor: Option<String>,
}

pub struct LogRow {
    pub id: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub succeeded: bool,
    pub duration_ms: u32,
    pub when: Moment,
}

impl From<&RequestLog> for LogRow {
    fn from(log: &RequestLog) -> Self {
        Self {
            id: log.id.to_string(),
            method: log.method.clone(),
            path: log.path.clone(),
            status: log.status,
            succeeded: log.succeeded(),
            duration_ms: log.duration_ms,
            when: moment(log.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/logs.html")]
struct LogsPage {
    chrome: Chrome,
    rows: Vec<LogRow>,
    older: Option<String>,
    status: String,
    method: String,
    path: String,
    methods: [&'static str; 4],
}

fn encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub async fn list(
    page: MerchantPage,
    State(state): State<AppState>,
    PageQuery(query): PageQuery<LogsQuery>,
) -> Result<Response, PageError> {
    let status = query.status.unwrap_or_default();
    let method = query.method.unwrap_or_default().to_ascii_uppercase();
    let path = query.path.unwrap_or_default().trim().chars().take(500).collect::<String>();
    let filter = RequestLogFilter {
        succeeded: match status.as_str() {
            "succeeded" => Some(true),
            "failed" => Some(false),
            _ => None,
        },
        method: METHODS.contains(&method.as_str()).then(|| method.clone()),
        path_prefix: Some(path.clone()).filter(|p| !p.is_empty()),
        event_id: None,
    };
    let cursor = query.cursor.filter(|c| RequestId::parse(c).is_ok());
    let request = PageRequest { after: cursor, limit: PAGE_SIZE + 1 };
    let mut found = state.store.list_request_logs(&page.me.account_id, filter, request).await?;
    let older = (found.len() > PAGE_SIZE as usize).then(|| {
        found.truncate(PAGE_SIZE as usize);
        let last = found.last().map(|l| l.id.to_string()).unwrap_or_default();
        format!(
            "/dashboard/logs?status={}&method={}&path={}&cursor={last}",
            encoded(&status),
            encoded(&method),
            encoded(&path)
        )
    });
    let rows = found.iter().map(LogRow::from).collect();
    Ok(html(LogsPage { chrome: page.chrome("logs"), rows, older, status, method, path, methods: METHODS }))
}

#[derive(Template)]
#[template(path = "dashboard/log.html")]
struct LogPage {
    chrome: Chrome,
    row: LogRow,
    key_name: String,
    mode: &'static str,
    idempotency_key: Option<String>,
    client_address: Option<String>,
    event_id: Option<String>,
    request_lines: Option<Vec<String>>,
    response_lines: Option<Vec<String>>,
}

/// A kept body one entry per line, pretty-printed when it is JSON.
fn lines(body: Option<String>) -> Option<Vec<String>> {
    body.map(|text| pretty_json(&text).unwrap_or(text).lines().map(str::to_owned).collect())
}

pub async fn show(
    page: MerchantPage,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = RequestId::parse(&id).map_err(|_| PageError::not_found())?;
    let log = state.store.get_request_log(&page.me.account_id, &id).await?.ok_or_else(PageError::not_found)?;
    let key = state.store.get_api_key(&page.me.key.owner_id, &log.api_key_id).await?;
    let key_name = key.map(|k| k.name).unwrap_or_else(|| page.t.get("key_revoked").to_owned());
    Ok(html(LogPage {
        chrome: page.chrome("logs"),
        row: LogRow::from(&log),
        key_name,
        mode: log.mode.as_str(),
        idempotency_key: log.idempotency_key,
        client_address: log.client_address,
        event_id: log.event_id.map(|e| e.to_string()),
        request_lines: lines(log.request_body),
        response_lines: lines(log.response_body),
    }))
}

/// The requests that worked on one event, newest first, for its page.
pub async fn touching(state: &AppState, page: &MerchantPage, event: &EventId) -> Result<Vec<LogRow>, PageError> {
    let filter = RequestLogFilter { event_id: Some(event.clone()), ..RequestLogFilter::default() };
    let found =
        state.store.list_request_logs(&page.me.account_id, filter, PageRequest { after: None, limit: 20 }).await?;
    Ok(found.iter().map(LogRow::from).collect())
}
