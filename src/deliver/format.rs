//! What a delivery looks like on the wire, per webhook format: the body and the signed headers.
//!
//! `standard` sends the stored event object as it is, with Standard Webhooks headers (`v1` HMAC or `v1a`
//! Ed25519 signatures). `stripe` wraps the same event in a Stripe event envelope and signs it the way
//! Stripe's libraries check (`Stripe-Signature`). Both are derived from the stored bytes alone, so every
//! retry of a delivery sends the same body; only the timestamp and signatures are new each attempt.
//! `paypal` sends the event object too, with PayPal's transmission headers, RSA-signed with the
//! installation's key over a string that names the receiving webhook.

use std::sync::Arc;

use bytes::Bytes;
use herald_signature::standard::{self, AsymmetricKey, SigningSecret};
use herald_signature::{paypal, stripe};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::domain::Timestamp;
use crate::domain::model::{DEFAULT_STRIPE_API_VERSION, DeliveryFormat};
use crate::paypal_identity::PaypalIdentity;

const USER_AGENT_VALUE: &str = concat!("Herald/", env!("CARGO_PKG_VERSION"));

/// A webhook's signing material, ready to use; newest first.
#[derive(Debug)]
pub enum Keys {
    Hmac(Vec<SigningSecret>),
    Ed25519(Vec<AsymmetricKey>),
    /// The installation's key, shared by every `paypal` webhook.
    Rsa(Arc<PaypalIdentity>),
}

/// Who a delivery is from and for, as the signatures name them.
#[derive(Clone, Copy)]
pub struct Parties<'a> {
    pub event_id: &'a str,
    pub webhook_id: &'a str,
}

/// The body a webhook of this format receives for a stored event object.
pub fn body_for(format: DeliveryFormat, api_version: Option<&str>, event: &Bytes) -> Bytes {
    match format {
        DeliveryFormat::Standard | DeliveryFormat::Paypal => event.clone(),
        DeliveryFormat::Stripe => stripe_envelope(event, api_version.unwrap_or(DEFAULT_STRIPE_API_VERSION)),
    }
}

/// The headers of one attempt: content type, user agent and the format's signatures over `body`.
pub fn headers_for(format: DeliveryFormat, keys: &Keys, parties: Parties, body: &[u8], now: Timestamp) -> HeaderMap {
    let event_id = parties.event_id;
    let mut headers = HeaderMap::with_capacity(6);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    let value = |text: &str| HeaderValue::from_str(text).expect("ids, digits, hex and base64 are valid header values");
    let timestamp = now.as_unix_seconds();
    match format {
        DeliveryFormat::Standard => {
            headers.insert("webhook-id", value(event_id));
            headers.insert("webhook-timestamp", value(&timestamp.to_string()));
            let signature = match keys {
                Keys::Hmac(secrets) => {
                    let secrets: Vec<&SigningSecret> = secrets.iter().collect();
                    standard::sign_header(&secrets, event_id, timestamp, body)
                }
                Keys::Ed25519(keys) => {
                    let signatures: Vec<String> = keys.iter().map(|k| k.sign(event_id, timestamp, body)).collect();
                    signatures.join(" ")
                }
                Keys::Rsa(_) => String::new(),
            };
            // A target without keys (a simulation to a bare URL) is sent unsigned.
            if !signature.is_empty() {
                headers.insert("webhook-signature", value(&signature));
            }
        }
        DeliveryFormat::Stripe => {
            let Keys::Hmac(secrets) = keys else { return headers };
            if !secrets.is_empty() {
                let strings: Vec<String> = secrets.iter().map(SigningSecret::to_whsec).collect();
                let refs: Vec<&str> = strings.iter().map(String::as_str).collect();
                headers.insert(stripe::HEADER, value(&stripe::sign_header(&refs, timestamp, body)));
            }
        }
        DeliveryFormat::Paypal => {
            let Keys::Rsa(identity) = keys else { return headers };
            let transmission_id = uuid::Uuid::new_v4().to_string();
            let transmission_time = now.to_rfc3339_seconds();
            let signed = paypal::signed_string(&transmission_id, &transmission_time, parties.webhook_id, body);
            headers.insert(paypal::TRANSMISSION_ID, value(&transmission_id));
            headers.insert(paypal::TRANSMISSION_TIME, value(&transmission_time));
            headers.insert(paypal::TRANSMISSION_SIG, value(&identity.sign(&signed)));
            headers.insert(paypal::CERT_URL, value(identity.cert_url()));
            headers.insert(paypal::AUTH_ALGO_HEADER, HeaderValue::from_static(paypal::AUTH_ALGO));
        }
    }
    headers
}

/// Adds the merchant's own headers. They were checked when saved, so none can replace what HTTP or the
/// signature scheme owns; should one ever collide, Herald's header stays.
pub fn add_custom(headers: &mut HeaderMap, custom: &[(String, String)]) {
    for (name, value) in custom {
        let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) else {
            continue;
        };
        headers.entry(name).or_insert(value);
    }
}

/// The fields of a stored event object that an envelope needs.
#[derive(Deserialize)]
struct Stored<'a> {
    id: &'a str,
    create_time: String,
    event_type: &'a str,
    #[serde(borrow)]
    resource: &'a RawValue,
    /// Events stored before test mode existed were all live.
    #[serde(default = "live")]
    livemode: bool,
    #[serde(default)]
    request: Option<StripeRequest>,
}

fn live() -> bool {
    true
}

#[derive(Serialize)]
struct StripeEnvelope<'a> {
    id: &'a str,
    object: &'static str,
    api_version: &'a str,
    created: i64,
    data: StripeData<'a>,
    livemode: bool,
    pending_webhooks: u32,
    request: StripeRequest,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct StripeData<'a> {
    object: &'a RawValue,
}

#[derive(Serialize, Deserialize, Default)]
struct StripeRequest {
    id: Option<String>,
    idempotency_key: Option<String>,
}

/// `{id, object: "event", api_version, created, data: {object: resource}, livemode, pending_webhooks,
/// request, type}`, as Stripe's `construct_event` expects.
fn stripe_envelope(event: &Bytes, api_version: &str) -> Bytes {
    let Ok(stored) = serde_json::from_slice::<Stored>(event) else {
        // Herald wrote these bytes itself; if they cannot be read the receiver gets them unchanged.
        return event.clone();
    };
    let created = Timestamp::parse_rfc3339(&stored.create_time).map_or(0, Timestamp::as_unix_seconds);
    let envelope = StripeEnvelope {
        id: stored.id,
        object: "event",
        api_version,
        created,
        data: StripeData { object: stored.resource },
        livemode: stored.livemode,
        pending_webhooks: 1,
        request: stored.request.unwrap_or_default(),
        kind: stored.event_type,
    };
    Bytes::from(serde_json::to_vec(&envelope).expect("the envelope serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"id":"evt_1","create_time":"2019-04-13T22:03:17.000Z","event_type":"charge.dispute.closed","resource_type":"dispute","resource_version":null,"event_version":"1.0","summary":"x","resource":{"id":"pdp_1", "amount": 54000},"links":[]}"#;

    #[test]
    fn a_stripe_body_is_an_event_envelope_around_the_resource_bytes() {
        let body = body_for(DeliveryFormat::Stripe, Some("2024-06-20"), &Bytes::from(EVENT));
        let text = std::str::from_utf8(&body).unwrap();
        assert!(text.contains(r#""data":{"object":{"id":"pdp_1", "amount": 54000}}"#), "{text}");
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["object"], "event");
        assert_eq!(parsed["type"], "charge.dispute.closed");
        assert_eq!(parsed["api_version"], "2024-06-20");
        assert_eq!(parsed["created"], 1555192997);
        assert_eq!(body, body_for(DeliveryFormat::Stripe, Some("2024-06-20"), &Bytes::from(EVENT)), "deterministic");
        assert_eq!(body_for(DeliveryFormat::Standard, None, &Bytes::from(EVENT)), Bytes::from(EVENT));
        assert_eq!(parsed["livemode"], true, "events stored before test mode were live");
        assert_eq!(parsed["request"], serde_json::json!({"id": null, "idempotency_key": null}));
    }

    #[test]
    fn a_stripe_envelope_carries_the_mode_and_the_publishing_request() {
        let event = EVENT.replace(
            r#""links":[]"#,
            r#""livemode":false,"request":{"id":"req_1","idempotency_key":"k-1"},"links":[]"#,
        );
        let body = body_for(DeliveryFormat::Stripe, None, &Bytes::from(event));
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["livemode"], false);
        assert_eq!(parsed["request"], serde_json::json!({"id": "req_1", "idempotency_key": "k-1"}));
    }

    const PARTIES: Parties = Parties { event_id: "evt_1", webhook_id: "WH-1" };

    #[test]
    fn each_format_signs_with_its_own_headers() {
        let secret = SigningSecret::from_key(vec![5; 32]).unwrap();
        let now = Timestamp::from_millis(1_000_000);
        let hmac = Keys::Hmac(vec![secret.clone()]);
        let standard = headers_for(DeliveryFormat::Standard, &hmac, PARTIES, b"{}", now);
        assert!(standard["webhook-signature"].to_str().unwrap().starts_with("v1,"));
        let stripe_headers = headers_for(DeliveryFormat::Stripe, &hmac, PARTIES, b"{}", now);
        let header = stripe_headers["stripe-signature"].to_str().unwrap();
        assert!(stripe::verify(&secret.to_whsec(), header, b"{}", 1000).is_ok());
        let ed = Keys::Ed25519(vec![AsymmetricKey::from_seed([3; 32])]);
        let signed = headers_for(DeliveryFormat::Standard, &ed, PARTIES, b"{}", now);
        assert!(signed["webhook-signature"].to_str().unwrap().starts_with("v1a,"));
        let unsigned = headers_for(DeliveryFormat::Standard, &Keys::Hmac(vec![]), PARTIES, b"{}", now);
        assert!(unsigned.get("webhook-signature").is_none());
    }
}
