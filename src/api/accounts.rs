//! Operator: merchant accounts (`POST/GET /v1/accounts`, `GET /v1/accounts/{id}`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{JsonBody, Operator, RequestBody};
use super::openapi::Errors;
use super::paging::{Link, PageQuery, QueryParams, finish_page};
use super::state::AppState;
use crate::domain::model::Account;
use crate::domain::{AccountId, Timestamp};
use crate::service::accounts;

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
    /// The first test key's client id (create call only): it sees only the account's test objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    test_client_id: Option<String>,
    /// The first test key's secret, shown only in the answer to the create call.
    #[serde(skip_serializing_if = "Option::is_none")]
    test_client_secret: Option<String>,
    created_at: Timestamp,
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        Self {
            id: account.id,
            name: account.name,
            client_id: account.client_id,
            client_secret: None,
            test_client_id: None,
            test_client_secret: None,
            created_at: account.created_at,
        }
    }
}

#[utoipa::path(operation_id = "create_account", post, path = "/v1/accounts", tag = "operator", request_body = CreateAccount, security(("admin_token" = [])), responses((status = 201, body = AccountView), Errors))]
pub async fn create(
    _: Operator,
    State(state): State<AppState>,
    JsonBody(body, _): JsonBody<CreateAccount>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let created = accounts::create(&state, &body.name).await?;
    let view = AccountView {
        client_secret: Some(created.live.client_secret),
        test_client_id: Some(created.test.key.client_id),
        test_client_secret: Some(created.test.client_secret),
        ..AccountView::from(created.account)
    };
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountList {
    accounts: Vec<AccountView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    links: Vec<Link>,
}

#[utoipa::path(operation_id = "list_accounts", get, path = "/v1/accounts", tag = "operator", params(PageQuery), security(("admin_token" = [])), responses((status = 200, body = AccountList), Errors))]
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

#[utoipa::path(operation_id = "show_account", get, path = "/v1/accounts/{id}", tag = "operator", params(("id" = String, Path, description = "Account id")), security(("admin_token" = [])), responses((status = 200, body = AccountView), Errors))]
pub async fn show(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    Ok(Json(accounts::existing(&state, &id).await?.into()))
}

/// A new client secret for the account; the old one and every access token stop working at once.
#[utoipa::path(operation_id = "roll_account_credentials", post, path = "/v1/accounts/{id}/credentials/roll", tag = "operator", params(("id" = String, Path, description = "Account id")), security(("admin_token" = [])), responses((status = 200, description = "The account with its new client_secret", body = AccountView), Errors))]
pub async fn roll_credentials(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    let rolled = accounts::roll_credentials(&state, &id).await?;
    Ok(Json(AccountView { client_secret: Some(rolled.client_secret), ..AccountView::from(rolled.account) }))
}
