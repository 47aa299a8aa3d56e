//! The API keys page: the account's keys (both modes for a live key, test keys for a test key) with
//! their scope and last use; making one (its secret shown once), rolling it with a grace period, and
//! revoking it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::frame::{Chrome, MerchantPage, Moment, PageError, PageQuery, Posted, html, moment};
use crate::api::AppState;
use crate::domain::{ApiKey, KeyScope, Mode};
use crate::service::ServiceError;
use crate::service::api_keys::{self, KeyInput, WithSecret};

/// The grace periods offered when rolling a key, in hours.
pub const GRACE_HOURS: [u64; 4] = [0, 1, 24, 168];

pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub mode: &'static str,
    pub scope: &'static str,
    pub client_id: String,
    pub created: Moment,
    pub last_used: Option<Moment>,
    /// This is the key the page is signed in with.
    pub yours: bool,
}

/// A key's secret, shown the once it is made or rolled.
pub struct Shown {
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Template)]
#[template(path = "dashboard/api_keys.html")]
struct KeysPage {
    chrome: Chrome,
    rows: Vec<KeyRow>,
    shown: Option<Shown>,
    name: String,
    error: Option<String>,
    notice: Option<String>,
    /// Live keys may make keys of either mode.
    both_modes: bool,
    grace_hours: [u64; 4],
}

#[derive(Deserialize, Default)]
pub struct KeysQuery {
    notice: Option<String>,
}

fn row(key: ApiKey, yours: &ApiKey) -> KeyRow {
    KeyRow {
        yours: key.id == yours.id,
        id: key.id.to_string(),
        name: key.name,
        mode: key.mode.as_str(),
        scope: key.scope.as_str(),
        client_id: key.client_id,
        created: moment(key.created_at),
        last_used: key.last_used_at.map(moment),
    }
}

async fn keys_page(
    state: &AppState,
    page: &MerchantPage,
    shown: Option<WithSecret>,
    name: String,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let keys = api_keys::list(state, &page.me.key).await?;
    let rows = keys.into_iter().map(|key| row(key, &page.me.key)).collect();
    let shown = shown.map(|s| Shown { name: s.key.name, client_id: s.key.client_id, client_secret: s.client_secret });
    let both_modes = page.me.key.mode.is_live();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = KeysPage {
        chrome: page.chrome("api_keys"),
        rows,
        shown,
        name,
        error,
        notice,
        both_modes,
        grace_hours: GRACE_HOURS,
    };
    Ok((status, html(page)).into_response())
}

pub async fn list(
    page: MerchantPage,
    State(state): State<AppState>,
    PageQuery(query): PageQuery<KeysQuery>,
) -> Result<Response, PageError> {
    let notice = (query.notice.as_deref() == Some("revoked")).then(|| page.t.get("notice_key_revoked").to_owned());
    keys_page(&state, &page, None, String::new(), None, notice).await
}

pub async fn create(State(state): State<AppState>, posted: Posted<MerchantPage>) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let name = form.get("name").unwrap_or_default().to_owned();
    let (mode, scope) = (form.get("mode"), form.get("scope"));
    if mode.is_some_and(|m| Mode::parse(m).is_none()) || scope.is_some_and(|s| KeyScope::parse(s).is_none()) {
        return Err(PageError::status(StatusCode::BAD_REQUEST, "error_bad_query"));
    }
    let input =
        KeyInput { name: name.clone(), mode: mode.and_then(Mode::parse), scope: scope.and_then(KeyScope::parse) };
    match api_keys::create(&state, &page.me.key, input).await {
        Ok(created) => keys_page(&state, &page, Some(created), String::new(), None, None).await,
        Err(ServiceError::Refused(refusal)) => {
            keys_page(&state, &page, None, name, Some(refusal.description), None).await
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn roll(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    let Posted { page, form } = posted;
    let rolled = api_keys::roll(&state, &page.me.key, &id, Some(form.grace_seconds(&GRACE_HOURS, 0))).await?;
    keys_page(&state, &page, Some(rolled), String::new(), None, None).await
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MerchantPage>,
) -> Result<Response, PageError> {
    api_keys::revoke(&state, &posted.page.me.key, &id).await?;
    Ok(Redirect::to("/dashboard/api-keys?notice=revoked").into_response())
}
