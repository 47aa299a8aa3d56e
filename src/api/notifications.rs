//! Merchant: event notifications (`GET /v1/notifications/webhooks-events/{event_id}`).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::Merchant;
use super::state::AppState;
use crate::domain::EventId;

/// The event object exactly as its deliveries carry it; another account's event is simply not found.
pub async fn show_event(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("event");
    let id = EventId::parse(&id).map_err(|_| not_found())?;
    let event = state.store.get_event(&merchant.account_id, &id).await?.ok_or_else(not_found)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], event.body).into_response())
}
