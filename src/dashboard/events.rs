//! Merchant pages for events: the list (newest first, by type), one event with its payload and every
//! webhook it went to, and resending it.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::frame::{Chrome, MerchantPage, Moment, PageError, PageQuery, Posted, html, moment};
use super::pretty::pretty_json;
use crate::api::AppState;
use crate::domain::{EventId, EventTypeName};
use crate::store::{EventFilter, PageRequest};

const PAGE_SIZE: u32 = 25;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    cursor: Option<String>,
    event_type: Option<String>,
}

pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub when: Moment,
}

#[derive(Template)]
#[template(path = "dashboard/events.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<EventRow>,
    older: Option<String>,
    types: Vec<String>,
    chosen_type: String,
}

pub async fn list(
    page: MerchantPage,
    State(state): State<AppState>,
    PageQuery(query): PageQuery<ListQuery>,
) -> Result<Response, PageError> {
    let event_type = query.event_type.as_deref().filter(|t| !t.is_empty()).and_then(|t| EventTypeName::parse(t).ok());
    let cursor = query.cursor.filter(|c| EventId::parse(c).is_ok());
    let filter = EventFilter { event_type: event_type.clone(), ..EventFilter::default() };
    let mut found = state
        .store
        .list_events(&page.me.account_id, filter, PageRequest { after: cursor, limit: PAGE_SIZE + 1 })
        .await?;
    let chosen_type = event_type.map(|t| t.to_string()).unwrap_or_default();
    let older = (found.len() > PAGE_SIZE as usize).then(|| {
        found.truncate(PAGE_SIZE as usize);
        let last = found.last().map(|e| e.id.to_string()).unwrap_or_default();
        format!("/dashboard/events?event_type={chosen_type}&cursor={last}")
    });
    let rows = found
        .into_iter()
        .map(|e| EventRow { id: e.id.to_string(), event_type: e.event_type.to_string(), when: moment(e.created_at) })
        .collect();
    let types = state.store.list_event_types().await?.into_iter().map(|e| e.name.to_string()).collect();
    Ok(html(ListPage { chrome: page.chrome("events"), rows, older, types, chosen_type }))
}

pub struct SentTo {
    pub webhook_id: String,
    pub url: String,
    pub delivery_id: String,
    pub status: &'static str,
    pub status_label: String,
    pub code: String,
    pub attempts: u32,
    pub when: Moment,
}

#[derive(Template)]
#[template(path = "dashboard/event.html")]
struct EventPage {
    chrome: Chrome,
    id: String,
    event_type: String,
    when: Moment,
    lines: Vec<String>,
    sent_to: Vec<SentTo>,
    notice: Option<String>,
    csrf: String,
    /// The API requests that worked on the event (resends, test events).
    rows: Vec<super::logs::LogRow>,
}

#[derive(Deserialize, Default)]
pub struct EventQuery {
    notice: Option<String>,
}

pub async fn show(
    page: MerchantPage,
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageQuery(query): PageQuery<EventQuery>,
) -> Result<Response, PageError> {
    let id = EventId::parse(&id).map_err(|_| PageError::not_found())?;
    let account = &page.me.account_id;
    let event = state.store.get_event(account, &id).await?.ok_or_else(PageError::not_found)?;
    let body = String::from_utf8_lossy(&event.body);
    let lines = pretty_json(&body).unwrap_or_else(|| body.to_string()).lines().map(str::to_owned).collect();
    let urls: HashMap<String, String> = state
        .store
        .list_webhooks(account)
        .await?
        .into_iter()
        .map(|w| (w.id.to_string(), w.url.as_str().to_owned()))
        .collect();
    let sent_to = state
        .store
        .event_deliveries(account, &id)
        .await?
        .into_iter()
        .map(|d| SentTo {
            url: urls.get(d.webhook_id.as_str()).cloned().unwrap_or_else(|| page.t.get("deleted_webhook").to_owned()),
            webhook_id: d.webhook_id.to_string(),
            delivery_id: d.id.to_string(),
            status: d.state.as_str(),
            status_label: page.t.get(&format!("status_{}", d.state.as_str())).to_owned(),
            code: d.last_status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into()),
            attempts: d.attempt_count,
            when: moment(d.created_at),
        })
        .collect();
    let notice = (query.notice.as_deref() == Some("resent")).then(|| page.t.get("notice_resent").to_owned());
    let rows = super::logs::touching(&state, &page, &id).await?;
    Ok(html(EventPage {
        rows,
        chrome: page.chrome("events"),
        id: event.id.to_string(),
        event_type: event.event_type.to_string(),
        when: moment(event.created_at),
        lines,
        sent_to,
        notice,
        csrf: page.me.csrf.clone(),
    }))
}

/// Resends the event to one webhook (`webhook_id`) or to every webhook it went to, then goes `back`.
pub async fn resend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let only: Option<Vec<String>> = form.get("webhook_id").map(|webhook| vec![webhook.to_owned()]);
    if let Ok(event) = EventId::parse(&id) {
        crate::api::request_log::touched(&event);
    }
    crate::service::events::resend(&state, &page.me.account_id, &id, only.as_deref()).await?;
    let back = form.get("back").filter(|b| b.starts_with("/dashboard/") && !b.contains("//"));
    let to = match back {
        Some(back) => format!("{back}?notice=resent"),
        None => format!("/dashboard/events/{id}?notice=resent"),
    };
    Ok(Redirect::to(&to).into_response())
}
