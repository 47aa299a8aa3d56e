//! Operator: merchant accounts (`POST/GET /v1/accounts`, `GET /v1/accounts/{id}`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorDetail};
use super::extract::{JsonBody, Operator, RequestBody};
use super::openapi::Errors;
use super::paging::{Link, PageQuery, QueryParams, finish_page};
use super::state::AppState;
use crate::domain::model::Account;
use crate::domain::{AccountId, Timestamp};
use crate::keyring::random_token;
use crate::store::NewAccount;

const MAX_NAME_LEN: usize = 200;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// 1 to 200 characters, not only spaces.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    name: String,
}

impl RequestBody for CreateAccount {}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountView {
    id: AccountId,
    name: String,
    client_id: String,
    /// Present only in the answer to the create call: it is not stored and cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    created_at: Timestamp,
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        Self {
            id: account.id,
            name: account.name,
            client_id: account.client_id,
            client_secret: None,
            created_at: account.created_at,
        }
    }
}

#[utoipa::path(post, path = "/v1/accounts", tag = "operator", request_body = CreateAccount, security(("admin_token" = [])), responses((status = 201, body = AccountView), Errors))]
pub async fn create(
    _: Operator,
    State(state): State<AppState>,
    JsonBody(body, _): JsonBody<CreateAccount>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        let detail =
            ErrorDetail::body("/name", "INVALID_NAME", format!("the name must be 1 to {MAX_NAME_LEN} characters"));
        return Err(ApiError::validation(detail));
    }
    let client_secret = new_client_secret();
    let account = Account {
        id: AccountId::generate(),
        name,
        client_id: format!("hcl_{}", random_token(18)),
        created_at: Timestamp::now(),
    };
    let secret_hash = state.keyring.hash_credential(&client_secret);
    state.store.create_account(NewAccount { account: account.clone(), secret_hash }).await?;
    let view = AccountView { client_secret: Some(client_secret), ..AccountView::from(account) };
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountList {
    accounts: Vec<AccountView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    links: Vec<Link>,
}

#[utoipa::path(get, path = "/v1/accounts", tag = "operator", params(PageQuery), security(("admin_token" = [])), responses((status = 200, body = AccountList), Errors))]
pub async fn list(
    _: Operator,
    State(state): State<AppState>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<AccountList>, ApiError> {
    let request = query.to_request()?;
    let found = state.store.list_accounts(request.clone()).await?;
    let base = format!("{}/v1/accounts", state.public_url);
    let page_size = request.limit - 1;
    let (accounts, next_cursor, links) =
        finish_page(found, &request, |a| a.id.as_str(), |c| format!("{base}?page_size={page_size}&cursor={c}"));
    Ok(Json(AccountList { accounts: accounts.into_iter().map(AccountView::from).collect(), next_cursor, links }))
}

#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "operator", params(("id" = String, Path, description = "Account id")), security(("admin_token" = [])), responses((status = 200, body = AccountView), Errors))]
pub async fn show(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    Ok(Json(existing_account(&state, &id).await?.into()))
}

/// The account with this id, or 404.
async fn existing_account(state: &AppState, id: &str) -> Result<Account, ApiError> {
    let not_found = || ApiError::not_found("account");
    let id = AccountId::parse(id).map_err(|_| not_found())?;
    state.store.get_account(&id).await?.ok_or_else(not_found)
}

/// A client secret: long and random, so a keyed hash of it is as strong as a slow password hash.
fn new_client_secret() -> String {
    format!("hsk_{}", random_token(32))
}

/// A new client secret for the account; the old one and every access token stop working at once.
#[utoipa::path(post, path = "/v1/accounts/{id}/credentials/roll", tag = "operator", params(("id" = String, Path, description = "Account id")), security(("admin_token" = [])), responses((status = 200, description = "The account with its new client_secret", body = AccountView), Errors))]
pub async fn roll_credentials(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    let account = existing_account(&state, &id).await?;
    let client_secret = new_client_secret();
    let hash = state.keyring.hash_credential(&client_secret);
    if !state.store.roll_client_secret(&account.id, hash, Timestamp::now()).await? {
        return Err(ApiError::not_found("account"));
    }
    Ok(Json(AccountView { client_secret: Some(client_secret), ..AccountView::from(account) }))
}
