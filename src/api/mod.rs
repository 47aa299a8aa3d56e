//! The HTTP API: routes, wire types, authentication and the one error mapping ([`error`]).
//!
//! Handlers parse and check input at the edge (into domain newtypes), call the store or the publisher,
//! and shape the answer. They hold no SQL and no delivery logic. `api` may use `domain`, `store` (the
//! contract), `publish` and `keyring`; nothing below it uses `api`.

pub mod accounts;
pub mod deliveries;
pub mod error;
pub mod event_types;
pub mod events;
pub mod extract;
pub mod health;
pub mod notifications;
pub mod oauth;
pub mod paging;
pub mod state;
pub mod webhooks;

use axum::Router;
use axum::routing::{get, post, put};

use error::ApiError;
pub use state::{ApiContext, ApiLimits, AppState};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/v1/accounts", post(accounts::create).get(accounts::list))
        .route("/v1/accounts/{id}", get(accounts::show))
        .route("/v1/accounts/{id}/credentials/roll", post(accounts::roll_credentials))
        .route("/v1/oauth2/token", post(oauth::issue))
        .route("/v1/oauth2/token/terminate", post(oauth::terminate))
        .route("/v1/event-types", get(event_types::list))
        .route("/v1/event-types/{name}", put(event_types::put))
        .route("/v1/events", post(events::publish_one))
        .route("/v1/events/batch", post(events::publish_batch))
        .route("/v1/notifications/webhooks", post(webhooks::create).get(webhooks::list))
        .route("/v1/notifications/webhooks-event-types", get(event_types::list_available))
        .route("/v1/notifications/webhooks/{id}", get(webhooks::show).patch(webhooks::update).delete(webhooks::delete))
        .route("/v1/notifications/webhooks/{id}/event-types", get(webhooks::subscriptions_of))
        .route("/v1/notifications/webhooks/{id}/secret", get(webhooks::reveal_secret))
        .route("/v1/notifications/webhooks/{id}/secret/roll", post(webhooks::roll_secret))
        .route("/v1/notifications/webhooks/{id}/deliveries", get(deliveries::list))
        .route("/v1/notifications/webhooks/{id}/deliveries/{delivery_id}", get(deliveries::show))
        .route("/v1/notifications/webhooks/{id}/recover", post(deliveries::recover))
        .route("/v1/notifications/webhooks-events", get(notifications::list_events))
        .route("/v1/notifications/webhooks-events/{id}", get(notifications::show_event))
        .route("/v1/notifications/webhooks-events/{id}/resend", post(notifications::resend))
        .route("/v1/notifications/simulate-event", post(notifications::simulate))
        .route("/v1/notifications/verify-webhook-signature", post(notifications::verify_signature))
        .fallback(|| async { ApiError::not_found("path") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
}
