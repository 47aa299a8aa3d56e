//! The HTTP API: routes, wire types, authentication and the one error mapping ([`error`]).
//!
//! Handlers turn what arrived into an operation's input and call it: `service` for what the dashboard
//! offers too (webhooks, resend, test events, accounts); the publisher or the store for the API's own
//! (publishing, the catalog, listeners, recover, tokens) and for reads. Then they shape the answer. They hold no SQL and no delivery logic.
//! `api` may use `service`, `domain`, `store` (the contract), `publish`, `keyring`, `paypal_identity`,
//! `resource_schema` (to check a schema when it is saved), `deliver::format` (to lay out a listener's
//! stream) and `herald-signature` (the verify API). It does not know the dashboard: `app` puts the two
//! routers together.

pub mod accounts;
pub mod api_keys;
pub mod certs;
pub mod deliveries;
pub mod error;
pub mod event_types;
pub mod events;
pub mod extract;
pub mod health;
pub mod listeners;
pub mod notifications;
pub mod oauth;
pub mod openapi;
pub mod paging;
pub mod reference;
pub mod request_id;
pub mod request_log;
pub mod request_logs;
pub mod state;
pub mod verify;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use error::ApiError;
pub use state::{ApiContext, ApiLimits, AppState};

/// Every route, registered from its handler's OpenAPI description, plus the document itself
/// (`GET /v1/openapi.json`) and its readable rendering (`GET /docs`). The application merges other routers
/// (the dashboard's) beside it and then adds [`fallbacks`].
pub fn router(state: &AppState) -> Router<AppState> {
    let (router, api) = routes().split_for_parts();
    let document = openapi::document(api, &state.public_url);
    let reference: Arc<str> = reference::render(&document).into();
    let document: Arc<str> = document.to_string().into();
    let json =
        move || async move { ([(header::CONTENT_TYPE, "application/json")], document.to_string()).into_response() };
    let html = move || async move { axum::response::Html(reference.to_string()) };
    router.route("/v1/openapi.json", axum::routing::get(json)).route("/docs", axum::routing::get(html))
}

/// The OpenAPI document as `GET /v1/openapi.json` serves it, with `public_url` as its server: what
/// `herald openapi` prints and the client libraries are generated from.
pub fn document(public_url: &str) -> serde_json::Value {
    openapi::document(routes().split_for_parts().1, public_url)
}

/// Every route with its handler's OpenAPI description.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(accounts::create, accounts::list))
        .routes(routes!(accounts::show))
        .routes(routes!(accounts::roll_credentials))
        .routes(routes!(oauth::issue))
        .routes(routes!(oauth::terminate))
        .routes(routes!(event_types::list))
        .routes(routes!(event_types::put))
        .routes(routes!(events::publish_one))
        .routes(routes!(events::publish_batch))
        .routes(routes!(event_types::list_available))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::show, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::subscriptions_of))
        .routes(routes!(webhooks::reveal_secret))
        .routes(routes!(webhooks::roll_secret))
        .routes(routes!(deliveries::list))
        .routes(routes!(deliveries::show))
        .routes(routes!(deliveries::recover))
        .routes(routes!(notifications::list_events))
        .routes(routes!(notifications::show_event))
        .routes(routes!(notifications::resend))
        .routes(routes!(notifications::simulate))
        .routes(routes!(listeners::create))
        .routes(routes!(listeners::show, listeners::delete))
        .routes(routes!(listeners::stream))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(api_keys::show, api_keys::revoke))
        .routes(routes!(api_keys::roll))
        .routes(routes!(request_logs::list))
        .routes(routes!(request_logs::show))
        .routes(routes!(verify::verify_signature))
        .routes(routes!(certs::show))
}

/// The API's answers (in its error shape) for a path no route has, and for a method a path does not take.
pub fn fallbacks(router: Router<AppState>) -> Router<AppState> {
    router
        .fallback(|| async { ApiError::not_found("path") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
}
