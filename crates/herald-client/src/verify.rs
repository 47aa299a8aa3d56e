//! The check of a received delivery (`standard` format, HMAC secrets): the official Standard Webhooks
//! library verifies the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers against the raw
//! body, and rejects a timestamp more than five minutes off.

/// Why a delivery did not verify.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the delivery is not authentic: {0}")]
    Signature(#[from] standardwebhooks::WebhookError),
    #[error("the body is not a JSON event")]
    Body(#[source] serde_json::Error),
}

/// Verifies a delivery with the webhook's `whsec_` secret and returns its event, parsed.
pub fn verify(secret: &str, headers: &http::HeaderMap, body: &[u8]) -> Result<serde_json::Value, VerifyError> {
    standardwebhooks::Webhook::new(secret)?.verify(body, headers)?;
    serde_json::from_slice(body).map_err(VerifyError::Body)
}
