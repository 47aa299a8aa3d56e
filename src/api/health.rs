//! `GET /healthz` (the process answers) and `GET /readyz` (the store answers too).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::error::ApiError;
use super::openapi::Errors;
use super::state::AppState;

#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "The process answers", body = Object), Errors))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, description = "The store answers too", body = Object), Errors))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.store.ping().await.map_err(ApiError::unavailable)?;
    Ok(Json(json!({"status": "ready"})))
}
