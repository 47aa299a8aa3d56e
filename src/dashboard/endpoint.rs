//! The endpoint page, Stripe's webhook endpoint page: the webhook's details, its signing secret (revealed
//! on request, rolled with a grace period), enable / disable / delete, a test event, and the attempts with
//! their All / Succeeded / Failed / Pending tabs and the detail of one delivery.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::frame::{Chrome, MerchantPage, Moment, PageError, PageQuery, Posted, html, moment};
use super::i18n::Text;
use super::pretty::pretty_json;
use super::webhooks::{PAGE_SIZE, STATS_WINDOW, failure_rate, notice, owned, subscriptions};
use crate::api::AppState;
use crate::domain::model::{DeliveryState, Webhook, WebhookStatus};
use crate::domain::webhook_url::DestinationKind;
use crate::domain::{DeliveryId, Timestamp};
use crate::service::events::{RequestRef, TestTarget};
use crate::service::webhooks::{self as operations, Secrets, VerificationKey, WebhookInput};
use crate::service::{deliveries, events};
use crate::store::PageRequest;

#[derive(Deserialize, Default)]
pub struct DetailsQuery {
    tab: Option<String>,
    cursor: Option<String>,
    delivery: Option<String>,
    attempt: Option<u32>,
    notice: Option<String>,
}

pub struct Tab {
    pub key: &'static str,
    pub label: String,
    pub href: String,
    pub current: bool,
}

pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: &'static str,
    pub status_label: String,
    pub code: String,
    pub when: Moment,
    pub href: String,
    pub selected: bool,
}

/// One delivery opened in the side panel.
pub struct DetailPanel {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub next_attempt: Option<Moment>,
    /// Every attempt: number, HTTP status (or error code), link, whether it is the one shown.
    pub attempts: Vec<(u32, String, String, bool)>,
    pub shown: Option<ShownAttempt>,
    /// The request body as sent, one entry per line (pretty-printed when it is JSON).
    pub body_lines: Vec<String>,
}

pub struct ShownAttempt {
    pub number: u32,
    pub started: Moment,
    pub duration_ms: u64,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub status: Option<u16>,
    pub response_body: String,
    pub truncated: bool,
    pub error: Option<String>,
}

/// The secret shown after "reveal" or "roll".
pub struct SecretShown {
    pub label: &'static str,
    pub current: String,
    pub previous: Vec<(String, Moment)>,
}

#[derive(Template)]
#[template(path = "dashboard/webhook.html")]
struct DetailsPage {
    chrome: Chrome,
    webhook: Webhook,
    event_types: Vec<String>,
    failure_rate: String,
    tabs: Vec<Tab>,
    rows: Vec<DeliveryRow>,
    older: Option<String>,
    detail: Option<DetailPanel>,
    secret: Option<SecretShown>,
    notice: Option<String>,
    catalog: Vec<String>,
    csrf: String,
    /// Deliveries per hour, the last day and the last week.
    charts: Vec<super::chart::Chart>,
}

impl DetailsPage {
    fn enabled(&self) -> bool {
        self.webhook.status == WebhookStatus::Enabled
    }

    /// The locale key naming where the webhook delivers.
    fn destination_label(&self) -> &'static str {
        match self.webhook.url.kind() {
            DestinationKind::Http => "destination_http",
            DestinationKind::Amqp => "destination_amqp",
            DestinationKind::Nats => "destination_nats",
            DestinationKind::Redis => "destination_redis",
        }
    }
}

const TABS: [(&str, Option<DeliveryState>, &str); 4] = [
    ("all", None, "tab_all"),
    ("succeeded", Some(DeliveryState::Succeeded), "tab_succeeded"),
    ("failed", Some(DeliveryState::Failed), "tab_failed"),
    ("pending", Some(DeliveryState::Pending), "tab_pending"),
];

fn status_label(t: Text, status: &str) -> String {
    t.get(&format!("status_{status}")).to_owned()
}

async fn details_page(
    state: &AppState,
    page: &MerchantPage,
    id: &str,
    query: DetailsQuery,
    secret: Option<SecretShown>,
) -> Result<Response, PageError> {
    let webhook = owned(state, page, id).await?;
    let t = page.t;
    let tab = TABS.iter().find(|(key, ..)| Some(*key) == query.tab.as_deref()).unwrap_or(&TABS[0]);
    let base = format!("/dashboard/webhooks/{}", webhook.id);
    let tabs = TABS
        .iter()
        .map(|(key, _, label)| Tab {
            key,
            label: t.get(label).to_owned(),
            href: format!("{base}?tab={key}"),
            current: *key == tab.0,
        })
        .collect();
    let cursor = query.cursor.filter(|c| DeliveryId::parse(c).is_ok());
    let request = PageRequest { after: cursor.clone(), limit: PAGE_SIZE + 1 };
    let mut found = state.store.list_deliveries(&webhook.id, tab.1, request).await?;
    let older = (found.len() > PAGE_SIZE as usize).then(|| {
        found.truncate(PAGE_SIZE as usize);
        format!("{base}?tab={}&cursor={}", tab.0, found.last().map(|d| d.id.as_str()).unwrap_or_default())
    });
    let page_query = format!("tab={}{}", tab.0, cursor.as_deref().map(|c| format!("&cursor={c}")).unwrap_or_default());
    let rows = found
        .into_iter()
        .map(|d| DeliveryRow {
            selected: query.delivery.as_deref() == Some(d.id.as_str()),
            href: format!("{base}?{page_query}&delivery={}", d.id),
            id: d.id.to_string(),
            event_id: d.event_id.to_string(),
            event_type: d.event_type.to_string(),
            status: d.state.as_str(),
            status_label: status_label(t, d.state.as_str()),
            code: d.last_status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into()),
            when: moment(d.created_at),
        })
        .collect();
    let detail = match &query.delivery {
        Some(delivery) => Some(detail_panel(state, page, &webhook, delivery, query.attempt, &base, &page_query).await?),
        None => None,
    };
    let now = Timestamp::now();
    let stats = state.store.delivery_stats(&webhook.id, now.minus(STATS_WINDOW)).await?;
    let hours = state.store.attempts_per_hour(Some(&webhook.id), super::chart::week_start(now)).await?;
    let charts = super::chart::day_and_week(t, &hours, now);
    // Only types with a sample can be sent as a test.
    let catalog = state
        .store
        .list_event_types()
        .await?
        .into_iter()
        .filter(|e| e.sample.is_some())
        .map(|e| e.name.to_string())
        .collect();
    let details = DetailsPage {
        chrome: page.chrome("webhooks"),
        event_types: subscriptions(&webhook),
        failure_rate: failure_rate(stats),
        webhook,
        tabs,
        rows,
        older,
        detail,
        secret,
        notice: notice(t, query.notice.as_deref()),
        catalog,
        csrf: page.me.csrf.clone(),
        charts,
    };
    Ok(html(details))
}

async fn detail_panel(
    state: &AppState,
    page: &MerchantPage,
    webhook: &Webhook,
    delivery: &str,
    attempt: Option<u32>,
    base: &str,
    page_query: &str,
) -> Result<DetailPanel, PageError> {
    let detail = deliveries::detail(state, &page.me.account_id, webhook.id.as_str(), delivery).await?;
    let delivery = detail.delivery;
    let chosen = attempt.or(detail.attempts.last().map(|a| a.number));
    let href = |n: u32| format!("{base}?{page_query}&delivery={}&attempt={n}", delivery.id);
    let attempts = detail
        .attempts
        .iter()
        .map(|a| {
            let outcome = match (&a.response, &a.error) {
                (Some(r), _) => r.status.to_string(),
                (None, Some(e)) => e.code.clone(),
                (None, None) => "—".into(),
            };
            (a.number, outcome, href(a.number), Some(a.number) == chosen)
        })
        .collect();
    let body = String::from_utf8_lossy(&detail.body_sent);
    let shown = detail.attempts.into_iter().find(|a| Some(a.number) == chosen);
    let body_lines = match &shown {
        Some(_) => pretty_json(&body).unwrap_or_else(|| body.to_string()).lines().map(str::to_owned).collect(),
        None => Vec::new(),
    };
    let shown = shown.map(|a| ShownAttempt {
        number: a.number,
        started: moment(a.started_at),
        duration_ms: a.duration_ms,
        url: a.request_url,
        request_headers: a
            .request_headers
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_iter()
            .collect(),
        status: a.response.as_ref().map(|r| r.status),
        response_body: a.response.as_ref().map(|r| String::from_utf8_lossy(&r.body).into_owned()).unwrap_or_default(),
        truncated: a.response.as_ref().is_some_and(|r| r.truncated),
        error: a.error.as_ref().map(|e| format!("{}: {}", e.code.as_str(), e.message)),
    });
    Ok(DetailPanel {
        id: delivery.id.to_string(),
        event_id: delivery.event_id.to_string(),
        event_type: delivery.event_type.to_string(),
        status: status_label(page.t, delivery.state.as_str()),
        next_attempt: delivery.next_attempt_at.map(moment),
        attempts,
        shown,
        body_lines,
    })
}

pub async fn show(
    page: MerchantPage,
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageQuery(query): PageQuery<DetailsQuery>,
) -> Result<Response, PageError> {
    details_page(&state, &page, &id, query, None).await
}

/// What the page shows of a webhook's secrets: the kind of key, the current one, and those in their grace
/// period with when they stop.
fn secret_shown(secrets: Secrets) -> SecretShown {
    let text = |key: VerificationKey| match key {
        VerificationKey::Secret(text) | VerificationKey::PublicKey(text) | VerificationKey::CertUrl(text) => text,
    };
    let label = match &secrets.current {
        VerificationKey::Secret(_) => "secret_signing",
        VerificationKey::PublicKey(_) => "secret_public_key",
        VerificationKey::CertUrl(_) => "secret_cert_url",
    };
    let previous = secrets.previous.into_iter().map(|(key, expires_at)| (text(key), moment(expires_at))).collect();
    SecretShown { label, current: text(secrets.current), previous }
}

pub async fn reveal_secret(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    let page = posted.page;
    let secret = secret_shown(operations::secrets(&state, &page.me.account_id, &id).await?);
    details_page(&state, &page, &id, DetailsQuery::default(), Some(secret)).await
}

/// The grace periods offered when rolling a secret, in hours.
pub const GRACE_HOURS: [u64; 5] = [0, 1, 24, 72, 168];

pub async fn roll_secret(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let grace = Some(form.grace_seconds(&GRACE_HOURS, 24));
    let secret = secret_shown(operations::roll_secret(&state, &page.me.account_id, &id, grace).await?);
    details_page(&state, &page, &id, DetailsQuery::default(), Some(secret)).await
}

pub async fn set_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let enable = form.get("status") == Some("enabled");
    let status = if enable { "ENABLED" } else { "DISABLED" };
    let input = WebhookInput { status: Some(status.to_owned()), ..WebhookInput::default() };
    operations::update(&state, &page.me.account_id, &id, input).await?;
    let notice = if enable { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!("/dashboard/webhooks/{id}?notice={notice}")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    operations::delete(&state, &posted.page.me.account_id, &id).await?;
    Ok(Redirect::to("/dashboard/webhooks?notice=deleted").into_response())
}

pub async fn send_test(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let event_type = form.get("event_type").unwrap_or_default();
    let (account, mode) = (&page.me.account_id, page.me.mode);
    let request = crate::api::request_id::current().map(|id| RequestRef { id, idempotency_key: None });
    let sent = events::send_test(&state, account, mode, request, TestTarget::Webhook(&id), event_type, None).await?;
    crate::api::request_log::touched(&sent.id);
    Ok(Redirect::to(&format!("/dashboard/webhooks/{id}?notice=test_sent")).into_response())
}
