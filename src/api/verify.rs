//! Merchant: `POST /v1/notifications/verify-webhook-signature`, PayPal's postback check, for every format.
//!
//! Two request shapes: Herald's `{webhook_id, headers, body}` (the delivery's headers and raw body, any
//! format) and PayPal's own `{auth_algo, cert_url, transmission_id, transmission_sig, transmission_time,
//! webhook_id, webhook_event}`, so that code written against PayPal's API works unchanged. The answer is
//! SUCCESS or FAILURE; only a request that cannot be read is an error.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use herald_signature::standard::{self, AsymmetricKey, SigningSecret};
use herald_signature::{paypal, stripe};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::error::{ApiError, ErrorDetail};
use super::extract::{JsonBody, Merchant, RequestBody};
use super::openapi::Errors;
use super::state::AppState;
use crate::domain::model::{DeliveryFormat, SigningAlgorithm, Webhook};
use crate::domain::{EventId, Timestamp};

/// How far a transmission time may be from now, either way, as for the other formats' timestamps.
const TOLERANCE_SECONDS: i64 = standard::DEFAULT_TOLERANCE_SECONDS;

/// Either shape; which one is meant is decided by `webhook_event`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    webhook_id: String,
    /// Herald's shape: the delivery's headers (names in any case).
    headers: Option<HashMap<String, String>>,
    /// Herald's shape: the delivery's body, exactly as received.
    body: Option<String>,
    /// PayPal's shape: `PAYPAL-AUTH-ALGO`.
    auth_algo: Option<String>,
    /// PayPal's shape: `PAYPAL-CERT-URL`.
    cert_url: Option<String>,
    /// PayPal's shape: `PAYPAL-TRANSMISSION-ID`.
    transmission_id: Option<String>,
    /// PayPal's shape: `PAYPAL-TRANSMISSION-SIG`.
    transmission_sig: Option<String>,
    /// PayPal's shape: `PAYPAL-TRANSMISSION-TIME`.
    transmission_time: Option<String>,
    /// PayPal's shape: the delivered event object.
    #[schema(value_type = Option<Object>)]
    webhook_event: Option<Box<RawValue>>,
}

impl RequestBody for VerifyRequest {}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VerifyResponse {
    verification_status: &'static str,
}

/// The PayPal transmission headers, from either shape.
struct Transmission {
    auth_algo: String,
    cert_url: String,
    id: String,
    signature: String,
    time: String,
}

/// What is to be checked, once the shape is known.
enum Claim {
    Delivery { headers: HashMap<String, String>, body: String },
    Paypal { transmission: Transmission, event: Box<RawValue> },
}

/// `POST /v1/notifications/verify-webhook-signature`: SUCCESS when the webhook's key signed these headers
/// and body (or this PayPal transmission) within the last five minutes.
#[utoipa::path(operation_id = "verify_webhook_signature", post, path = "/v1/notifications/verify-webhook-signature", tag = "events", request_body = VerifyRequest, security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = VerifyResponse), Errors))]
pub async fn verify_signature(
    merchant: Merchant,
    State(state): State<AppState>,
    JsonBody(request, _): JsonBody<VerifyRequest>,
) -> Result<Json<VerifyResponse>, ApiError> {
    let webhook = super::webhooks::owned_webhook(&state, &merchant, &request.webhook_id).await?;
    let now = Timestamp::now();
    let verified = match claim(request)? {
        Claim::Delivery { headers, body } if webhook.format == DeliveryFormat::Paypal => {
            let transmission = Transmission::from_headers(&headers);
            verify_transmission(&state, &webhook, &transmission, body.as_bytes(), now).await?
        }
        Claim::Delivery { headers, body } => {
            verify_with_secrets(&state, &webhook, &headers, body.as_bytes(), now).await?
        }
        Claim::Paypal { transmission, event } => {
            verify_transmission(&state, &webhook, &transmission, event.get().as_bytes(), now).await?
                || verify_as_stored(&state, &merchant, &webhook, &transmission, &event, now).await?
        }
    };
    Ok(Json(VerifyResponse { verification_status: if verified { "SUCCESS" } else { "FAILURE" } }))
}

fn claim(request: VerifyRequest) -> Result<Claim, ApiError> {
    // The same answer as for any other missing field (400), naming the shape's missing field.
    let missing = |field: &str| {
        let detail = ErrorDetail::body(format!("/{field}"), "MISSING_REQUIRED_PARAMETER", "this field is required");
        ApiError::invalid_request("a field is missing or has the wrong type").with_detail(detail)
    };
    let Some(event) = request.webhook_event else {
        return Ok(Claim::Delivery {
            headers: request.headers.ok_or_else(|| missing("headers"))?,
            body: request.body.ok_or_else(|| missing("body"))?,
        });
    };
    if request.headers.is_some() || request.body.is_some() {
        let text = "give either headers and body, or PayPal's transmission fields and webhook_event";
        let detail = ErrorDetail::body("/webhook_event", "CONFLICTING_SHAPES", text);
        return Err(ApiError::invalid_request("the request mixes two shapes").with_detail(detail));
    }
    let transmission = Transmission {
        auth_algo: request.auth_algo.ok_or_else(|| missing("auth_algo"))?,
        cert_url: request.cert_url.ok_or_else(|| missing("cert_url"))?,
        id: request.transmission_id.ok_or_else(|| missing("transmission_id"))?,
        signature: request.transmission_sig.ok_or_else(|| missing("transmission_sig"))?,
        time: request.transmission_time.ok_or_else(|| missing("transmission_time"))?,
    };
    Ok(Claim::Paypal { transmission, event })
}

impl Transmission {
    fn from_headers(headers: &HashMap<String, String>) -> Self {
        let header = |name: &str| header(headers, name).to_owned();
        Self {
            auth_algo: header(paypal::AUTH_ALGO_HEADER),
            cert_url: header(paypal::CERT_URL),
            id: header(paypal::TRANSMISSION_ID),
            signature: header(paypal::TRANSMISSION_SIG),
            time: header(paypal::TRANSMISSION_TIME),
        }
    }
}

fn header<'h>(headers: &'h HashMap<String, String>, name: &str) -> &'h str {
    headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or_default()
}

/// Each live key of the webhook is tried the way its format and algorithm sign.
async fn verify_with_secrets(
    state: &AppState,
    webhook: &Webhook,
    headers: &HashMap<String, String>,
    body: &[u8],
    now: Timestamp,
) -> Result<bool, ApiError> {
    let secrets = state.store.webhook_secrets(&webhook.id, now).await?;
    let (id, timestamp, signature) =
        (header(headers, "webhook-id"), header(headers, "webhook-timestamp"), header(headers, "webhook-signature"));
    let seconds = now.as_unix_seconds();
    let verified = secrets.iter().filter_map(|stored| state.keyring.open(&stored.sealed).ok()).any(|key| {
        match (webhook.format, webhook.signing) {
            (DeliveryFormat::Standard, SigningAlgorithm::HmacSha256) => SigningSecret::from_key(key)
                .is_ok_and(|secret| standard::verify(&secret, id, timestamp, signature, body, seconds).is_ok()),
            (DeliveryFormat::Standard, SigningAlgorithm::Ed25519) => {
                <[u8; 32]>::try_from(key.as_slice()).map(|seed| AsymmetricKey::from_seed(seed).public_key()).is_ok_and(
                    |public| standard::verify_asymmetric(&public, id, timestamp, signature, body, seconds).is_ok(),
                )
            }
            (DeliveryFormat::Stripe, _) => SigningSecret::from_key(key).is_ok_and(|secret| {
                stripe::verify(&secret.to_whsec(), header(headers, stripe::HEADER), body, seconds).is_ok()
            }),
            // Never stored (format and algorithm are checked together); PayPal is checked above.
            (DeliveryFormat::Standard, SigningAlgorithm::RsaSha256) | (DeliveryFormat::Paypal, _) => false,
        }
    });
    Ok(verified)
}

/// PayPal's check: the installation's certificate, the algorithm it names, a fresh transmission time and
/// the RSA signature over `id|time|webhook_id|crc32(body)`.
async fn verify_transmission(
    state: &AppState,
    webhook: &Webhook,
    transmission: &Transmission,
    body: &[u8],
    now: Timestamp,
) -> Result<bool, ApiError> {
    if webhook.format != DeliveryFormat::Paypal || !transmission.auth_algo.eq_ignore_ascii_case(paypal::AUTH_ALGO) {
        return Ok(false);
    }
    let Some(identity) = state.paypal.existing().await? else { return Ok(false) };
    // The URL's host depends on how the receiver reached Herald; the certificate id at its end does not.
    let names_our_certificate =
        transmission.cert_url.trim_end_matches('/').rsplit('/').next() == Some(identity.certificate_id());
    if !names_our_certificate || !is_fresh(&transmission.time, now) {
        return Ok(false);
    }
    let signed = paypal::signed_string(&transmission.id, &transmission.time, webhook.id.as_str(), body);
    Ok(identity.verify(&signed, &transmission.signature))
}

/// A transmission time (RFC 3339) at most the tolerance away from `now`, in either direction.
fn is_fresh(time: &str, now: Timestamp) -> bool {
    Timestamp::parse_rfc3339(time)
        .is_some_and(|sent| (now.as_unix_seconds() - sent.as_unix_seconds()).abs() <= TOLERANCE_SECONDS)
}

/// PayPal's shape carries the event as JSON, which merchants often parse and re-serialise before posting
/// it, changing the bytes the CRC covers. When the event is one of this merchant's and says the same thing
/// as the stored one, the check is made over the bytes that were actually delivered.
async fn verify_as_stored(
    state: &AppState,
    merchant: &Merchant,
    webhook: &Webhook,
    transmission: &Transmission,
    event: &RawValue,
    now: Timestamp,
) -> Result<bool, ApiError> {
    let Ok(claimed) = serde_json::from_str::<serde_json::Value>(event.get()) else { return Ok(false) };
    let Some(id) = claimed.get("id").and_then(|id| id.as_str()).and_then(|id| EventId::parse(id).ok()) else {
        return Ok(false);
    };
    let Some(stored) = state.store.get_event(&merchant.account_id, &id).await? else { return Ok(false) };
    let same = serde_json::from_slice::<serde_json::Value>(&stored.body).is_ok_and(|delivered| delivered == claimed);
    Ok(same && verify_transmission(state, webhook, transmission, &stored.body, now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transmission_older_or_newer_than_five_minutes_is_stale() {
        let now = Timestamp::parse_rfc3339("2026-11-27T10:00:00Z").unwrap();
        assert!(is_fresh("2026-11-27T09:55:00Z", now));
        assert!(is_fresh("2026-11-27T10:05:00Z", now));
        assert!(!is_fresh("2026-11-27T09:54:59Z", now));
        assert!(!is_fresh("2026-11-27T10:05:01Z", now));
        assert!(!is_fresh("yesterday", now));
    }
}
