//! PayPal-style OAuth 2.0 client credentials: `POST /v1/oauth2/token` and `POST /v1/oauth2/token/terminate`.
//!
//! A merchant exchanges its Basic client credentials for a bearer access token that expires after nine
//! hours by default (as PayPal's do). Only a keyed hash of the token is stored. Rolling the client secret revokes
//! every token of that key; revoking a key ends its tokens too. A token carries its key's mode and scope.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorDetail};
use super::extract::ClientCredentials;
use super::openapi::Errors;
use super::state::AppState;
use crate::domain::Timestamp;
use crate::keyring::random_token;
use crate::store::NewToken;

/// How every merchant access token begins.
pub const TOKEN_PREFIX: &str = "hat_";

#[derive(Deserialize, utoipa::ToSchema)]
struct TokenRequest {
    grant_type: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    scope: &'static str,
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

fn form<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_urlencoded::from_bytes(body).map_err(|e| {
        ApiError::invalid_request("the body must be application/x-www-form-urlencoded").with_detail(ErrorDetail::body(
            "",
            "INVALID_PARAMETER",
            e.to_string(),
        ))
    })
}

#[utoipa::path(operation_id = "issue_token", post, path = "/v1/oauth2/token", tag = "oauth", request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"), security(("client_credentials" = [])), responses((status = 200, body = TokenResponse), Errors))]
pub async fn issue(
    credentials: ClientCredentials,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<TokenResponse>, ApiError> {
    let request: TokenRequest = form(&body)?;
    if request.grant_type.as_deref() != Some("client_credentials") {
        let detail = ErrorDetail::body("grant_type", "UNSUPPORTED_GRANT_TYPE", "use grant_type=client_credentials");
        return Err(ApiError::invalid_request("the grant type is not supported").with_detail(detail));
    }
    let access_token = format!("{TOKEN_PREFIX}{}", random_token(32));
    let now = Timestamp::now();
    // A token made with a rolled-away secret ends when that secret does.
    let full = now.plus(state.limits.token_lifetime);
    let expires_at = credentials.until.map_or(full, |until| until.min(full));
    let lifetime = std::time::Duration::from_millis((expires_at.as_millis() - now.as_millis()).max(0) as u64);
    let token_hash = state.keyring.hash_credential(&access_token);
    state
        .store
        .create_token(NewToken {
            token_hash,
            key_id: credentials.key.id.clone(),
            account_id: credentials.key.environment_id.clone(),
            created_at: now,
            expires_at,
        })
        .await?;
    Ok(Json(TokenResponse {
        scope: "https://uri.herald/webhooks",
        access_token,
        token_type: "Bearer",
        expires_in: lifetime.as_secs().max(1),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct TerminateRequest {
    token: Option<String>,
}

/// Revokes one access token of the calling key (another key's token is not touched, whoever holds it).
#[utoipa::path(operation_id = "terminate_token", post, path = "/v1/oauth2/token/terminate", tag = "oauth", request_body(content = TerminateRequest, content_type = "application/x-www-form-urlencoded"), security(("client_credentials" = [])), responses((status = 204, description = "The token no longer works"), Errors))]
pub async fn terminate(
    credentials: ClientCredentials,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let request: TerminateRequest = form(&body)?;
    let Some(token) = request.token.filter(|t| !t.is_empty()) else {
        let detail = ErrorDetail::body("token", "MISSING_REQUIRED_PARAMETER", "give the access token to revoke");
        return Err(ApiError::invalid_request("no token was given").with_detail(detail));
    };
    let hash = state.keyring.hash_credential(&token);
    let now = Timestamp::now();
    // A key ends its own tokens only, never another key's.
    let found = state.store.find_token(&hash, now).await?;
    if found.is_some_and(|key| key.id == credentials.key.id) {
        state.store.revoke_token(&hash, now).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
