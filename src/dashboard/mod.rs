//! The dashboard: server-rendered pages for merchants (webhooks, their attempts, events, API keys, the
//! request log, in live or test mode) and for the
//! operator (accounts, the event-type catalog, health), served by the same binary under `/dashboard`.
//!
//! Templates (`templates/dashboard/`), the catalogs of each language (`locales/`) and the static assets
//! (`assets/`, Pico CSS vendored from the npm registry) are compiled in. Pages work without JavaScript; the
//! one small script only shows times in the viewer's zone. Every change is an operation of `service`, the
//! same the API's handlers call, so the dashboard and the API accept and refuse exactly the same things;
//! reads come from the store directly. `dashboard` may use `service`, `api` (the shared state and the one
//! error mapping), `domain`, `store` (the contract) and `keyring`.

mod assets;
mod auth;
mod chart;
mod endpoint;
mod events;
mod frame;
pub mod i18n;
mod keys;
mod logs;
mod operator;
mod pretty;
pub mod session;
mod webhooks;

use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::api::AppState;

/// Every dashboard route, with errors rendered as pages and a `Server-Timing` header on every answer; the
/// application merges these beside the API's.
pub fn router() -> Router<AppState> {
    Router::new()
        // A browser opening Herald's address lands in the console.
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/dashboard", get(|| async { Redirect::to("/dashboard/webhooks") }))
        .route("/dashboard/assets/{name}", get(assets::serve))
        .route("/dashboard/lang/{code}", get(auth::switch_language))
        .route("/dashboard/mode/{mode}", get(auth::switch_mode))
        .route("/dashboard/login", get(auth::merchant_login_page).post(auth::merchant_login))
        .route("/dashboard/operator/login", get(auth::operator_login_page).post(auth::operator_login))
        .route("/dashboard/logout", post(auth::logout))
        .route("/dashboard/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/dashboard/webhooks/new", get(webhooks::new_form))
        .route("/dashboard/webhooks/{id}", get(endpoint::show))
        .route("/dashboard/webhooks/{id}/edit", get(webhooks::edit_form).post(webhooks::edit))
        .route("/dashboard/webhooks/{id}/secret", post(endpoint::reveal_secret))
        .route("/dashboard/webhooks/{id}/secret/roll", post(endpoint::roll_secret))
        .route("/dashboard/webhooks/{id}/status", post(endpoint::set_status))
        .route("/dashboard/webhooks/{id}/delete", post(endpoint::delete))
        .route("/dashboard/webhooks/{id}/test", post(endpoint::send_test))
        .route("/dashboard/events", get(events::list))
        .route("/dashboard/events/{id}", get(events::show))
        .route("/dashboard/events/{id}/resend", post(events::resend))
        .route("/dashboard/api-keys", get(keys::list).post(keys::create))
        .route("/dashboard/api-keys/{id}/roll", post(keys::roll))
        .route("/dashboard/api-keys/{id}/revoke", post(keys::revoke))
        .route("/dashboard/logs", get(logs::list))
        .route("/dashboard/logs/{id}", get(logs::show))
        .route("/dashboard/operator", get(|| async { Redirect::to("/dashboard/operator/accounts") }))
        .route("/dashboard/operator/accounts", get(operator::accounts).post(operator::create_account))
        .route("/dashboard/operator/accounts/{id}/roll", post(operator::roll_credentials))
        .route("/dashboard/operator/catalog", get(operator::catalog))
        .route("/dashboard/operator/health", get(operator::health))
        .route("/dashboard/{*rest}", get(|| async { frame::PageError::not_found().into_response() }))
        .layer(middleware::from_fn(frame::render_errors))
        .layer(middleware::from_fn(server_timing))
}

/// Says how long the server spent on the page (`Server-Timing: app;dur=…` in milliseconds), so slow pages
/// show up in the browser's tools and in the benchmark without a profiler.
async fn server_timing(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut response = next.run(request).await;
    let took = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&format!("app;dur={took:.2}")) {
        response.headers_mut().insert("server-timing", value);
    }
    response
}
