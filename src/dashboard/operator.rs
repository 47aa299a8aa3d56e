//! The operator's pages: merchant accounts (create, roll credentials), the event-type catalog with its
//! samples and schemas, and the installation's health.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::frame::{Chrome, Moment, OperatorPage, PageError, PageQuery, Posted, api_answer, api_request, html, moment};
use super::pretty::pretty_json;
use crate::api::AppState;
use crate::api::extract::{JsonBody, Operator};
use crate::domain::model::{EventType, Webhook};
use crate::domain::{AccountId, Timestamp};
use crate::store::PageRequest;

const PAGE_SIZE: u32 = 50;

pub struct AccountRow {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub created: Moment,
}

/// Credentials shown once, right after they were made.
pub struct NewCredentials {
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Template)]
#[template(path = "dashboard/accounts.html")]
struct AccountsPage {
    chrome: Chrome,
    rows: Vec<AccountRow>,
    older: Option<String>,
    shown: Option<NewCredentials>,
    name: String,
    name_error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CursorQuery {
    cursor: Option<String>,
}

async fn accounts_page(
    state: &AppState,
    page: &OperatorPage,
    cursor: Option<String>,
    shown: Option<NewCredentials>,
    name: String,
    name_error: Option<String>,
) -> Result<Response, PageError> {
    let cursor = cursor.filter(|c| AccountId::parse(c).is_ok());
    let mut found = state.store.list_accounts(PageRequest { after: cursor, limit: PAGE_SIZE + 1 }).await?;
    let older = (found.len() > PAGE_SIZE as usize).then(|| {
        found.truncate(PAGE_SIZE as usize);
        format!("/dashboard/operator/accounts?cursor={}", found.last().map(|a| a.id.as_str()).unwrap_or_default())
    });
    let rows = found
        .into_iter()
        .map(|a| AccountRow {
            id: a.id.to_string(),
            name: a.name,
            client_id: a.client_id,
            created: moment(a.created_at),
        })
        .collect();
    Ok(html(AccountsPage { chrome: page.chrome("accounts"), rows, older, shown, name, name_error }))
}

pub async fn accounts(
    page: OperatorPage,
    State(state): State<AppState>,
    PageQuery(query): PageQuery<CursorQuery>,
) -> Result<Response, PageError> {
    accounts_page(&state, &page, query.cursor, None, String::new(), None).await
}

fn credentials(value: Value) -> Option<NewCredentials> {
    Some(NewCredentials {
        name: value["name"].as_str()?.to_owned(),
        client_id: value["client_id"].as_str()?.to_owned(),
        client_secret: value["client_secret"].as_str()?.to_owned(),
    })
}

pub async fn create_account(
    State(state): State<AppState>,
    posted: Posted<OperatorPage>,
) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let name = form.get("name").unwrap_or_default().to_owned();
    let body = api_request(json!({ "name": name }))?;
    match crate::api::accounts::create(Operator, State(state.clone()), JsonBody(body, Bytes::new())).await {
        Ok((_, created)) => {
            let shown = credentials(api_answer(created));
            accounts_page(&state, &page, None, shown, String::new(), None).await
        }
        Err(error) if error.status().is_client_error() => {
            let text = error.details().first().map_or_else(|| error.message().to_owned(), |d| d.description.clone());
            accounts_page(&state, &page, None, None, name, Some(text)).await
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn roll_credentials(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<OperatorPage>,
) -> Result<Response, PageError> {
    let page = posted.page;
    let rolled = crate::api::accounts::roll_credentials(Operator, State(state.clone()), Path(id)).await?;
    let shown = credentials(api_answer(rolled));
    accounts_page(&state, &page, None, shown, String::new(), None).await
}

pub struct CatalogEntry {
    pub entry: EventType,
    pub sample: Option<String>,
    pub schema: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/catalog.html")]
struct CatalogPage {
    chrome: Chrome,
    entries: Vec<CatalogEntry>,
}

pub async fn catalog(page: OperatorPage, State(state): State<AppState>) -> Result<Response, PageError> {
    let pretty = |text: &Option<String>| text.as_deref().map(|t| pretty_json(t).unwrap_or_else(|| t.to_owned()));
    let entries = state
        .store
        .list_event_types()
        .await?
        .into_iter()
        .map(|entry| CatalogEntry { sample: pretty(&entry.sample), schema: pretty(&entry.schema), entry })
        .collect();
    Ok(html(CatalogPage { chrome: page.chrome("catalog"), entries }))
}

#[derive(Template)]
#[template(path = "dashboard/health.html")]
struct HealthPage {
    chrome: Chrome,
    pending: u64,
    due: u64,
    per_second: String,
    disabled_count: u64,
    failing: Vec<(Webhook, Moment)>,
    disabled: Vec<Webhook>,
}

/// How many troubled webhooks of each kind the page lists.
const TROUBLE_LIMIT: u32 = 50;

pub async fn health(page: OperatorPage, State(state): State<AppState>) -> Result<Response, PageError> {
    let overview = state.store.overview(Timestamp::now(), TROUBLE_LIMIT).await?;
    let failing = overview.failing.into_iter().map(|(w, since)| (w, moment(since))).collect();
    Ok(html(HealthPage {
        chrome: page.chrome("health"),
        pending: overview.pending,
        due: overview.due,
        per_second: format!("{:.1}", state.metrics.attempts_per_second()),
        disabled_count: overview.disabled_count,
        failing,
        disabled: overview.disabled,
    }))
}
