//! `GET /healthz` (the process answers), `GET /readyz` (the store answers and can take new work; when not,
//! the answer's detail names why: `DISK_FULL`, `OUT_OF_MEMORY`, `DATABASE_UNAVAILABLE`, …) and `GET /metrics`
//! (Prometheus text, with the queue's gauges read from the store at each scrape).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::error::ApiError;
use super::openapi::Errors;
use super::state::AppState;

#[utoipa::path(operation_id = "healthz", get, path = "/healthz", tag = "health", responses((status = 200, description = "The process answers", body = Object), Errors))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[utoipa::path(operation_id = "readyz", get, path = "/readyz", tag = "health", responses((status = 200, description = "The store answers too", body = Object), Errors))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.store.ping().await.map_err(ApiError::not_ready)?;
    state.memory.admit().map_err(ApiError::over_memory)?;
    Ok(Json(json!({"status": "ready"})))
}

/// Counters, histograms and gauges for Prometheus to scrape; unauthenticated, like the health checks.
#[utoipa::path(operation_id = "metrics", get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // The queue gauges are read from the store at scrape time, so every node reports the cluster's queue.
    let overview = state.store.overview(crate::domain::Timestamp::now(), 0).await;
    if let Err(error) = &overview {
        tracing::warn!(error = %crate::error_chain::error_chain(error), "metrics: the store could not be read");
    }
    state.metrics.set_store_state(overview.ok().map(|o| (o.pending, o.due, o.disabled_count)));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}
