//! Merchant pages for webhooks: the list, the create and edit forms, and the endpoint page (Stripe's
//! webhook endpoint page): details, secret, attempts with their tabs and the detail of one delivery.

use std::collections::HashMap;

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::frame::{Chrome, FormData, MerchantPage, Moment, PageError, Posted, html, moment};
use super::i18n::Text;
use super::pretty::pretty_json;
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{JsonBody, OptionalJsonBody};
use crate::domain::model::{DeliveryState, EventType, Webhook, WebhookStatus};
use crate::domain::{DeliveryId, Timestamp, WebhookId};
use crate::store::{DeliveryStats, PageRequest};

/// Rows per page of attempts.
const PAGE_SIZE: u32 = 25;
/// The failure rate covers the last day.
const STATS_WINDOW: std::time::Duration = std::time::Duration::from_secs(86_400);

fn to_value<T: serde::Serialize>(json: Json<T>) -> Value {
    serde_json::to_value(json.0).unwrap_or(Value::Null)
}

fn deserialize<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, PageError> {
    serde_json::from_value(value).map_err(|e| PageError::from(ApiError::internal(e)))
}

async fn owned(state: &AppState, page: &MerchantPage, id: &str) -> Result<Webhook, PageError> {
    let id = WebhookId::parse(id).map_err(|_| PageError::not_found())?;
    state.store.get_webhook(&page.me.account_id, &id).await?.ok_or_else(PageError::not_found)
}

/// "12.5 %" of the day's deliveries failed or retrying, or "—" when there were none.
fn failure_rate(stats: DeliveryStats) -> String {
    let failing = stats.failed + stats.retrying;
    match stats.total {
        0 => "—".into(),
        total => format!("{:.1} %", failing as f64 * 100.0 / total as f64),
    }
}

fn subscriptions(webhook: &Webhook) -> Vec<String> {
    webhook.event_types.iter().map(|s| s.as_str().to_owned()).collect()
}

pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub enabled: bool,
    pub event_types: Vec<String>,
    pub failure_rate: String,
}

#[derive(Template)]
#[template(path = "dashboard/webhooks.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<WebhookRow>,
    notice: Option<String>,
    newer: Option<String>,
    older: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    notice: Option<String>,
    /// 0 for the first page.
    page: Option<usize>,
}

/// A confirmation named in the query after a redirect (`?notice=deleted`), in the viewer's language.
fn notice(t: Text, key: Option<&str>) -> Option<String> {
    let key = match key? {
        "created" => "notice_created",
        "deleted" => "notice_deleted",
        "updated" => "notice_updated",
        "enabled" => "notice_enabled",
        "disabled" => "notice_disabled",
        "test_sent" => "notice_test_sent",
        "resent" => "notice_resent",
        _ => return None,
    };
    Some(t.get(key).to_owned())
}

pub async fn list(
    page: MerchantPage,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let since = Timestamp::now().minus(STATS_WINDOW);
    let all = state.store.list_webhooks(&page.me.account_id).await?;
    // An account may be allowed many webhooks; only the page shown has its failure rate counted.
    let number = query.page.unwrap_or(0).min(all.len() / PAGE_SIZE as usize);
    let link = |n: usize| format!("/dashboard/webhooks?page={n}");
    let newer = (number > 0).then(|| link(number - 1));
    let older = (all.len() > (number + 1) * PAGE_SIZE as usize).then(|| link(number + 1));
    let mut rows = Vec::new();
    for webhook in all.into_iter().skip(number * PAGE_SIZE as usize).take(PAGE_SIZE as usize) {
        let stats = state.store.delivery_stats(&webhook.id, since).await?;
        rows.push(WebhookRow {
            id: webhook.id.to_string(),
            url: webhook.url.as_str().to_owned(),
            enabled: webhook.status == WebhookStatus::Enabled,
            event_types: subscriptions(&webhook),
            failure_rate: failure_rate(stats),
        });
    }
    let notice = notice(page.t, query.notice.as_deref());
    Ok(html(ListPage { chrome: page.chrome("webhooks"), rows, notice, newer, older }))
}

/// What the create and edit forms show: the values typed so far and the problems found with them.
pub struct WebhookForm {
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub format: String,
    pub signing: String,
    /// By field name (`url`, `event_types`, …).
    pub errors: HashMap<&'static str, String>,
    /// A problem no single field is to blame for.
    pub general: Option<String>,
}

impl WebhookForm {
    fn empty() -> Self {
        Self {
            url: String::new(),
            description: String::new(),
            event_types: Vec::new(),
            format: "standard".into(),
            signing: String::new(),
            errors: HashMap::new(),
            general: None,
        }
    }

    fn from_posted(form: &FormData) -> Self {
        Self {
            url: form.get("url").unwrap_or_default().to_owned(),
            description: form.get("description").unwrap_or_default().to_owned(),
            event_types: form.all("event_types").into_iter().map(str::to_owned).collect(),
            format: form.get("format").unwrap_or("standard").to_owned(),
            signing: form.get("signing").unwrap_or_default().to_owned(),
            errors: HashMap::new(),
            general: None,
        }
    }

    pub fn selected(&self, name: &str) -> bool {
        self.event_types.iter().any(|n| n == name)
    }

    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }

    /// Files the API's refusal under the fields it names (`field_of` maps a JSON pointer to a field).
    fn refused(mut self, error: ApiError, field_of: impl Fn(&str) -> Option<&'static str>) -> Result<Self, PageError> {
        if error.status().is_server_error() || error.status() == axum::http::StatusCode::NOT_FOUND {
            return Err(error.into());
        }
        for detail in error.details() {
            match detail.field.as_deref().and_then(&field_of) {
                Some(field) => {
                    self.errors.entry(field).or_insert_with(|| detail.description.clone());
                }
                None => self.general = Some(detail.description.clone()),
            }
        }
        if self.errors.is_empty() && self.general.is_none() {
            self.general = Some(error.message().to_owned());
        }
        Ok(self)
    }
}

/// The form field a create request's JSON pointer is about.
fn create_field(pointer: &str) -> Option<&'static str> {
    let top = pointer.trim_start_matches('/').split('/').next()?;
    ["url", "description", "event_types", "format", "signing"].into_iter().find(|f| *f == top)
}

#[derive(Template)]
#[template(path = "dashboard/webhook_form.html")]
struct FormPage {
    chrome: Chrome,
    form: WebhookForm,
    catalog: Vec<EventType>,
    /// `None` when creating.
    editing: Option<String>,
}

pub async fn new_form(page: MerchantPage, State(state): State<AppState>) -> Result<Response, PageError> {
    let catalog = state.store.list_event_types().await?;
    Ok(html(FormPage { chrome: page.chrome("webhooks"), form: WebhookForm::empty(), catalog, editing: None }))
}

pub async fn create(State(state): State<AppState>, posted: Posted<MerchantPage>) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let typed = WebhookForm::from_posted(&form);
    let mut body = json!({
        "url": typed.url,
        "event_types": typed.event_types.iter().map(|name| json!({ "name": name })).collect::<Vec<_>>(),
        "format": typed.format,
    });
    if !typed.description.is_empty() {
        body["description"] = json!(typed.description);
    }
    if !typed.signing.is_empty() {
        body["signing"] = json!(typed.signing);
    }
    let request = deserialize(body)?;
    match crate::api::webhooks::create(page.merchant(), State(state.clone()), JsonBody(request, Bytes::new())).await {
        Ok((_, created)) => {
            let id = to_value(created)["id"].as_str().unwrap_or_default().to_owned();
            Ok(Redirect::to(&format!("/dashboard/webhooks/{id}?notice=created")).into_response())
        }
        Err(error) => {
            let form = typed.refused(error, create_field)?;
            let catalog = state.store.list_event_types().await?;
            let page = FormPage { chrome: page.chrome("webhooks"), form, catalog, editing: None };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html(page)).into_response())
        }
    }
}

pub async fn edit_form(
    page: MerchantPage,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let webhook = owned(&state, &page, &id).await?;
    let form = WebhookForm {
        url: webhook.url.as_str().to_owned(),
        description: webhook.description.clone().unwrap_or_default(),
        event_types: subscriptions(&webhook),
        format: webhook.format.as_str().to_owned(),
        signing: webhook.signing.as_str().to_owned(),
        ..WebhookForm::empty()
    };
    let catalog = state.store.list_event_types().await?;
    Ok(html(FormPage { chrome: page.chrome("webhooks"), form, catalog, editing: Some(webhook.id.to_string()) }))
}

/// The edit form's fields, in the order of the patch operations it sends.
const EDITED: [&str; 5] = ["url", "description", "event_types", "format", "signing"];

pub async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let webhook = owned(&state, &page, &id).await?;
    let typed = WebhookForm::from_posted(&form);
    let signing = if typed.signing.is_empty() { webhook.signing.as_str().to_owned() } else { typed.signing.clone() };
    let description = if typed.description.is_empty() { Value::Null } else { json!(typed.description) };
    let values = [
        json!(typed.url),
        description,
        json!(typed.event_types.iter().map(|name| json!({ "name": name })).collect::<Vec<_>>()),
        json!(typed.format),
        json!(signing),
    ];
    let operations: Vec<Value> = EDITED
        .iter()
        .zip(values)
        .map(|(field, value)| json!({ "op": "replace", "path": format!("/{field}"), "value": value }))
        .collect();
    let patch = deserialize(Value::Array(operations))?;
    let answer = crate::api::webhooks::update(
        page.merchant(),
        State(state.clone()),
        Path(id.clone()),
        JsonBody(patch, Bytes::new()),
    )
    .await;
    match answer {
        Ok(_) => Ok(Redirect::to(&format!("/dashboard/webhooks/{id}?notice=updated")).into_response()),
        Err(error) => {
            // A patch's pointers name the operation (`/2/value`), which names the field.
            let field_of = |pointer: &str| {
                let index: usize = pointer.trim_start_matches('/').split('/').next()?.parse().ok()?;
                EDITED.get(index).copied()
            };
            let form = typed.refused(error, field_of)?;
            let catalog = state.store.list_event_types().await?;
            let page = FormPage { chrome: page.chrome("webhooks"), form, catalog, editing: Some(id) };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html(page)).into_response())
        }
    }
}

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

/// The delivery detail as the merchant API shows it (`GET …/deliveries/{id}`).
#[derive(Deserialize)]
struct ApiDelivery {
    id: String,
    event_id: String,
    event_type: String,
    status: String,
    next_attempt_at: Option<String>,
    attempts: Vec<ApiAttempt>,
}

#[derive(Deserialize)]
struct ApiAttempt {
    number: u32,
    started_at: String,
    duration_ms: u64,
    request: ApiRequest,
    response: Option<ApiResponse>,
    error: Option<ApiAttemptError>,
}

#[derive(Deserialize)]
struct ApiRequest {
    url: String,
    headers: std::collections::BTreeMap<String, String>,
    body: String,
}

#[derive(Deserialize)]
struct ApiResponse {
    status: u16,
    body: String,
    truncated: bool,
}

#[derive(Deserialize)]
struct ApiAttemptError {
    code: String,
    message: String,
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

fn when(text: &str) -> Option<Moment> {
    Timestamp::parse_rfc3339(text).map(moment)
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
}

impl DetailsPage {
    fn enabled(&self) -> bool {
        self.webhook.status == WebhookStatus::Enabled
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
    let stats = state.store.delivery_stats(&webhook.id, Timestamp::now().minus(STATS_WINDOW)).await?;
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
    let path = Path((webhook.id.to_string(), delivery.to_owned()));
    let found = crate::api::deliveries::show(page.merchant(), State(state.clone()), path).await?;
    let delivery: ApiDelivery = deserialize(to_value(found))?;
    let chosen = attempt.or(delivery.attempts.last().map(|a| a.number));
    let href = |n: u32| format!("{base}?{page_query}&delivery={}&attempt={n}", delivery.id);
    let attempts = delivery
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
    let shown = delivery.attempts.iter().find(|a| Some(a.number) == chosen);
    let body = shown.map(|a| a.request.body.as_str()).unwrap_or_default();
    let body_lines = pretty_json(body).unwrap_or_else(|| body.to_owned()).lines().map(str::to_owned).collect();
    let shown = shown.map(|a| ShownAttempt {
        number: a.number,
        started: when(&a.started_at).unwrap_or_else(|| moment(Timestamp::from_millis(0))),
        duration_ms: a.duration_ms,
        url: a.request.url.clone(),
        request_headers: a.request.headers.clone().into_iter().collect(),
        status: a.response.as_ref().map(|r| r.status),
        response_body: a.response.as_ref().map(|r| r.body.clone()).unwrap_or_default(),
        truncated: a.response.as_ref().is_some_and(|r| r.truncated),
        error: a.error.as_ref().map(|e| format!("{}: {}", e.code, e.message)),
    });
    Ok(DetailPanel {
        id: delivery.id,
        event_id: delivery.event_id,
        event_type: delivery.event_type,
        status: status_label(page.t, &delivery.status),
        next_attempt: delivery.next_attempt_at.as_deref().and_then(when),
        attempts,
        shown,
        body_lines,
    })
}

pub async fn show(
    page: MerchantPage,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<DetailsQuery>,
) -> Result<Response, PageError> {
    details_page(&state, &page, &id, query, None).await
}

#[derive(Deserialize)]
struct ApiSecrets {
    secret: Option<String>,
    public_key: Option<String>,
    cert_url: Option<String>,
    #[serde(default)]
    previous: Vec<ApiPreviousSecret>,
}

#[derive(Deserialize)]
struct ApiPreviousSecret {
    secret: Option<String>,
    public_key: Option<String>,
    cert_url: Option<String>,
    expires_at: String,
}

fn secret_shown(value: Value) -> Result<SecretShown, PageError> {
    let secrets: ApiSecrets = deserialize(value)?;
    let (label, current) = match (secrets.secret, secrets.public_key, secrets.cert_url) {
        (Some(secret), ..) => ("secret_signing", secret),
        (None, Some(key), _) => ("secret_public_key", key),
        (None, None, cert) => ("secret_cert_url", cert.unwrap_or_default()),
    };
    let previous = secrets
        .previous
        .into_iter()
        .filter_map(|p| Some((p.secret.or(p.public_key).or(p.cert_url)?, when(&p.expires_at)?)))
        .collect();
    Ok(SecretShown { label, current, previous })
}

pub async fn reveal_secret(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    let page = posted.page;
    let found = crate::api::webhooks::reveal_secret(page.merchant(), State(state.clone()), Path(id.clone())).await?;
    let secret = secret_shown(to_value(found))?;
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
    let hours = form.get("grace_hours").and_then(|h| h.parse::<u64>().ok()).filter(|h| GRACE_HOURS.contains(h));
    let body = deserialize(json!({ "expire_previous_in_seconds": hours.unwrap_or(24) * 3600 }))?;
    let rolled = crate::api::webhooks::roll_secret(
        page.merchant(),
        State(state.clone()),
        Path(id.clone()),
        OptionalJsonBody(body),
    )
    .await?;
    let secret = secret_shown(to_value(rolled))?;
    let query = DetailsQuery { notice: None, ..DetailsQuery::default() };
    details_page(&state, &page, &id, query, Some(secret)).await
}

pub async fn set_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let enable = form.get("status") == Some("enabled");
    let status = if enable { "ENABLED" } else { "DISABLED" };
    let patch = deserialize(json!([{ "op": "replace", "path": "/status", "value": status }]))?;
    let _updated =
        crate::api::webhooks::update(page.merchant(), State(state), Path(id.clone()), JsonBody(patch, Bytes::new()))
            .await?;
    let notice = if enable { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!("/dashboard/webhooks/{id}?notice={notice}")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    crate::api::webhooks::delete(posted.page.merchant(), State(state), Path(id)).await?;
    Ok(Redirect::to("/dashboard/webhooks?notice=deleted").into_response())
}

pub async fn send_test(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let body = deserialize(json!({ "webhook_id": id, "event_type": form.get("event_type").unwrap_or_default() }))?;
    crate::api::notifications::simulate(page.merchant(), State(state), JsonBody(body, Bytes::new())).await?;
    Ok(Redirect::to(&format!("/dashboard/webhooks/{id}?notice=test_sent")).into_response())
}
