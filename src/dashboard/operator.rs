//! The operator's pages: merchant accounts (create, roll credentials), the event-type catalog with its
//! samples and schemas, and the installation's health.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::frame::{Chrome, Moment, OperatorPage, PageError, PageQuery, Posted, html, moment};
use super::pretty::pretty_json;
use crate::api::AppState;
use crate::domain::model::{EventType, Webhook};
use crate::domain::{AccountId, Timestamp};
use crate::service::ServiceError;
use crate::service::accounts::{self, Created, WithSecret};
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
    /// The first test key, when the account was just made.
    pub test: Option<(String, String)>,
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

fn credentials(shown: WithSecret) -> Option<NewCredentials> {
    Some(NewCredentials {
        name: shown.account.name,
        client_id: shown.account.client_id,
        client_secret: shown.client_secret,
        test: None,
    })
}

fn new_account_credentials(created: Created) -> Option<NewCredentials> {
    Some(NewCredentials {
        name: created.account.name,
        client_id: created.live.key.client_id,
        client_secret: created.live.client_secret,
        test: Some((created.test.key.client_id, created.test.client_secret)),
    })
}

pub async fn create_account(
    State(state): State<AppState>,
    posted: Posted<OperatorPage>,
) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let name = form.get("name").unwrap_or_default().to_owned();
    match accounts::create(&state, &name).await {
        Ok(created) => accounts_page(&state, &page, None, new_account_credentials(created), String::new(), None).await,
        Err(ServiceError::Refused(refusal)) => {
            accounts_page(&state, &page, None, None, name, Some(refusal.description)).await
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
    let rolled = accounts::roll_credentials(&state, &id).await?;
    accounts_page(&state, &page, None, credentials(rolled), String::new(), None).await
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
    /// Deliveries per hour of every account, the last day and the last week.
    charts: Vec<super::chart::Chart>,
}

/// How many troubled webhooks of each kind the page lists.
const TROUBLE_LIMIT: u32 = 50;

pub async fn health(page: OperatorPage, State(state): State<AppState>) -> Result<Response, PageError> {
    let now = Timestamp::now();
    let overview = state.store.overview(now, TROUBLE_LIMIT).await?;
    let hours = state.store.attempts_per_hour(None, super::chart::week_start(now)).await?;
    let charts = super::chart::day_and_week(page.t, &hours, now);
    let failing = overview.failing.into_iter().map(|(w, since)| (w, moment(since))).collect();
    Ok(html(HealthPage {
        chrome: page.chrome("health"),
        pending: overview.pending,
        due: overview.due,
        per_second: format!("{:.1}", state.metrics.attempts_per_second()),
        disabled_count: overview.disabled_count,
        failing,
        disabled: overview.disabled,
        charts,
    }))
}
