//! Merchant pages for webhooks: the list (with each one's failure rate over the last day) and the create
//! and edit forms; and what the endpoint page (`endpoint.rs`) shares with them.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::frame::{Chrome, FormData, MerchantPage, PageError, PageQuery, Posted, html};
use super::i18n::Text;
use crate::api::AppState;
use crate::domain::Timestamp;
use crate::domain::model::{EventType, Webhook, WebhookStatus};
use crate::service::ServiceError;
use crate::service::webhooks::{self as operations, WebhookInput};
use crate::store::DeliveryStats;

/// Rows per page of attempts.
pub(super) const PAGE_SIZE: u32 = 25;
/// The failure rate covers the last day.
pub(super) const STATS_WINDOW: std::time::Duration = std::time::Duration::from_secs(86_400);

pub(super) async fn owned(state: &AppState, page: &MerchantPage, id: &str) -> Result<Webhook, PageError> {
    Ok(operations::owned(state, &page.me.account_id, id).await?)
}

/// "12.5 %" of the day's deliveries failed or retrying, or "—" when there were none.
pub(super) fn failure_rate(stats: DeliveryStats) -> String {
    let failing = stats.failed + stats.retrying;
    match stats.total {
        0 => "—".into(),
        total => format!("{:.1} %", failing as f64 * 100.0 / total as f64),
    }
}

pub(super) fn subscriptions(webhook: &Webhook) -> Vec<String> {
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
pub(super) fn notice(t: Text, key: Option<&str>) -> Option<String> {
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
    PageQuery(query): PageQuery<ListQuery>,
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
    /// The payload filter (CEL), empty for none.
    pub filter: String,
    /// By field name (`url`, `event_types`, …): the refusal's code and what to tell the person.
    pub errors: HashMap<&'static str, (&'static str, String)>,
    /// A problem no single field is to blame for, with its code.
    pub general: Option<(&'static str, String)>,
}

/// The fields the forms have, by the names the operations give them.
const FORM_FIELDS: [&str; 6] = ["url", "description", "event_types", "format", "signing", "filter"];

impl WebhookForm {
    fn empty() -> Self {
        Self {
            url: String::new(),
            description: String::new(),
            event_types: Vec::new(),
            format: "standard".into(),
            signing: String::new(),
            filter: String::new(),
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
            filter: form.get("filter").unwrap_or_default().to_owned(),
            errors: HashMap::new(),
            general: None,
        }
    }

    /// The operation's input: what the form has, as typed. An empty signing keeps (or defaults) the
    /// algorithm; an empty description clears it.
    fn input(&self) -> WebhookInput {
        WebhookInput {
            url: Some(self.url.clone()),
            event_types: Some(self.event_types.clone()),
            format: Some(self.format.clone()),
            signing: (!self.signing.is_empty()).then(|| self.signing.clone()),
            description: Some((!self.description.is_empty()).then(|| self.description.clone())),
            filter: Some((!self.filter.is_empty()).then(|| self.filter.clone())),
            ..WebhookInput::default()
        }
    }

    fn signing_or(&self, current: &str) -> String {
        if self.signing.is_empty() { current.to_owned() } else { self.signing.clone() }
    }

    pub fn selected(&self, name: &str) -> bool {
        self.event_types.iter().any(|n| n == name)
    }

    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(|(_, text)| text.as_str())
    }

    /// The code of the field's refusal, for programs reading the page.
    pub fn issue(&self, field: &str) -> &str {
        self.errors.get(field).map_or("", |(code, _)| code)
    }

    /// Files a refusal under the field it names; anything else is an error page.
    fn refused(mut self, error: ServiceError) -> Result<Self, PageError> {
        let ServiceError::Refused(refusal) = error else { return Err(error.into()) };
        match FORM_FIELDS.into_iter().find(|f| *f == refusal.field.name) {
            Some(field) => {
                self.errors.insert(field, (refusal.code, refusal.description));
            }
            None => self.general = Some((refusal.code, refusal.description)),
        }
        Ok(self)
    }
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
    match operations::create(&state, &page.me.account_id, typed.input()).await {
        Ok(saved) => {
            Ok(Redirect::to(&format!("/dashboard/webhooks/{}?notice=created", saved.webhook.id)).into_response())
        }
        Err(error) => {
            let form = typed.refused(error)?;
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
        filter: webhook.policy.filter.clone().unwrap_or_default(),
        ..WebhookForm::empty()
    };
    let catalog = state.store.list_event_types().await?;
    Ok(html(FormPage { chrome: page.chrome("webhooks"), form, catalog, editing: Some(webhook.id.to_string()) }))
}

pub async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let webhook = owned(&state, &page, &id).await?;
    let typed = WebhookForm::from_posted(&form);
    // "The format's default" on the edit form means the webhook's current algorithm: a format that cannot
    // use it is refused rather than given a new key the page would not show.
    let input = WebhookInput { signing: Some(typed.signing_or(webhook.signing.as_str())), ..typed.input() };
    match operations::update(&state, &page.me.account_id, &id, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/dashboard/webhooks/{id}?notice=updated")).into_response()),
        Err(error) => {
            let form = typed.refused(error)?;
            let catalog = state.store.list_event_types().await?;
            let page = FormPage { chrome: page.chrome("webhooks"), form, catalog, editing: Some(id) };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html(page)).into_response())
        }
    }
}
