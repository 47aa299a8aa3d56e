//! Public: `GET /v1/notifications/certs/{id}`, the certificate named in `PAYPAL-CERT-URL`.
//!
//! Receivers fetch it without credentials, as they fetch PayPal's. The id is derived from the certificate,
//! so an answer never changes and may be cached for long.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::openapi::Errors;
use super::state::AppState;

#[utoipa::path(operation_id = "show_certificate", get, path = "/v1/notifications/certs/{id}", tag = "events", params(("id" = String, Path, description = "Certificate id, the last segment of PAYPAL-CERT-URL")), responses((status = 200, description = "The installation's signing certificate (PEM)", content_type = "application/x-pem-file", body = String), Errors))]
pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let identity = state.paypal.existing().await?.filter(|identity| identity.certificate_id() == id);
    let identity = identity.ok_or_else(|| ApiError::not_found("certificate"))?;
    let headers = [(header::CONTENT_TYPE, "application/x-pem-file"), (header::CACHE_CONTROL, "public, max-age=86400")];
    Ok((headers, identity.certificate_pem().to_owned()).into_response())
}
