//! `GET /healthz` (the process answers), `GET /readyz` (the store answers too) and `GET /metrics`
//! (Prometheus text).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
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

/// Counters, histograms and gauges for Prometheus to scrape; unauthenticated, like the health checks.
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}
