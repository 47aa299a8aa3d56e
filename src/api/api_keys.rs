//! Merchant: API keys (`GET/POST /v1/api-keys`, `GET/DELETE /v1/api-keys/{id}`,
//! `POST /v1/api-keys/{id}/roll`). A key's secret is shown once, when it is made or rolled.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{JsonBody, Merchant, OptionalJsonBody, RequestBody};
use super::openapi::Errors;
use super::state::AppState;
use crate::domain::{ApiKey, ApiKeyId, KeyScope, Mode, Timestamp};
use crate::service::api_keys::{self, KeyInput, WithSecret};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiKeyView {
    id: ApiKeyId,
    name: String,
    mode: Mode,
    scope: KeyScope,
    client_id: String,
    /// Present only in the answers to create and roll: it is not stored and cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
    /// Until when the secret before the last roll still works.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_expires_at: Option<Timestamp>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(key: ApiKey) -> Self {
        Self {
            id: key.id,
            name: key.name,
            mode: key.mode,
            scope: key.scope,
            client_id: key.client_id,
            client_secret: None,
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            previous_expires_at: key.previous_expires_at,
        }
    }
}

impl From<WithSecret> for ApiKeyView {
    fn from(shown: WithSecret) -> Self {
        Self { client_secret: Some(shown.client_secret), ..Self::from(shown.key) }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiKeyList {
    api_keys: Vec<ApiKeyView>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// 1 to 100 characters: what the key is for.
    name: String,
    /// The caller's mode when left out; a test key makes test keys only.
    mode: Option<Mode>,
    /// `full` (the default) or `read_only`.
    scope: Option<KeyScope>,
}

impl RequestBody for CreateApiKey {}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollApiKey {
    /// 0 to 604800; how long the secret before keeps working (and the key's access tokens). Default 0.
    expire_previous_in_seconds: Option<u64>,
}

impl RequestBody for RollApiKey {}

/// The account's keys that the caller may see: both modes for a live key, test keys for a test key.
#[utoipa::path(operation_id = "list_api_keys", get, path = "/v1/api-keys", tag = "api_keys", security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = ApiKeyList), Errors))]
pub async fn list(merchant: Merchant, State(state): State<AppState>) -> Result<Json<ApiKeyList>, ApiError> {
    let keys = api_keys::list(&state, &merchant.key).await?;
    Ok(Json(ApiKeyList { api_keys: keys.into_iter().map(ApiKeyView::from).collect() }))
}

#[utoipa::path(operation_id = "create_api_key", post, path = "/v1/api-keys", tag = "api_keys", request_body = CreateApiKey, security(("client_credentials" = []), ("access_token" = [])), responses((status = 201, description = "The key with its client_secret, shown this once", body = ApiKeyView), Errors))]
pub async fn create(
    merchant: Merchant,
    State(state): State<AppState>,
    JsonBody(body, _): JsonBody<CreateApiKey>,
) -> Result<(StatusCode, Json<ApiKeyView>), ApiError> {
    let input = KeyInput { name: body.name, mode: body.mode, scope: body.scope };
    let created = api_keys::create(&state, &merchant.key, input).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(operation_id = "show_api_key", get, path = "/v1/api-keys/{id}", tag = "api_keys", params(("id" = String, Path, description = "API key id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = ApiKeyView), Errors))]
pub async fn show(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ApiKeyView>, ApiError> {
    Ok(Json(api_keys::existing(&state, &merchant.key, &id).await?.into()))
}

/// Revokes the key and every access token of it at once.
#[utoipa::path(operation_id = "revoke_api_key", delete, path = "/v1/api-keys/{id}", tag = "api_keys", params(("id" = String, Path, description = "API key id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 204, description = "The key no longer works"), Errors))]
pub async fn revoke(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    api_keys::revoke(&state, &merchant.key, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret; the one before and the key's access tokens keep working for the grace period asked for.
#[utoipa::path(operation_id = "roll_api_key", post, path = "/v1/api-keys/{id}/roll", tag = "api_keys", request_body(content = Option<RollApiKey>), params(("id" = String, Path, description = "API key id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, description = "The key with its new client_secret, shown this once", body = ApiKeyView), Errors))]
pub async fn roll(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<RollApiKey>,
) -> Result<Json<ApiKeyView>, ApiError> {
    let rolled = api_keys::roll(&state, &merchant.key, &id, body.expire_previous_in_seconds).await?;
    Ok(Json(rolled.into()))
}
