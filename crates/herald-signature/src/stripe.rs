//! Stripe's scheme: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`.
//!
//! The HMAC-SHA256 key is the UTF-8 bytes of the *whole* secret string, `whsec_` included (unlike Standard
//! Webhooks, which base64-decodes what follows the prefix), and the signed payload is `"{t}.{raw body}"`.
//! One `v1` per live secret; receivers accept any of them.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header's name, as Stripe's libraries read it.
pub const HEADER: &str = "Stripe-Signature";
/// Stripe's libraries' default tolerance for old timestamps, in seconds.
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 300;

/// Why a Stripe signature was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StripeError {
    #[error("the Stripe-Signature header has no t= timestamp")]
    MissingTimestamp,
    #[error("the timestamp is more than {DEFAULT_TOLERANCE_SECONDS} seconds old")]
    StaleTimestamp,
    #[error("no v1 signature in the header matches")]
    NoMatch,
}

fn digest(secret: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The whole header value: `t=…` then one `v1=…` per secret, comma-separated without spaces.
pub fn sign_header(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&hex::encode(digest(secret, timestamp, body)));
    }
    header
}

/// Checks a header as Stripe's libraries do: a `v1` matching the secret, and a timestamp no older than the
/// tolerance (they do not reject future timestamps).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), StripeError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(StripeError::MissingTimestamp)?;
    let expected = digest(secret, timestamp, body);
    let matches =
        signatures.iter().any(|candidate| hex::decode(candidate).is_ok_and(|given| given.ct_eq(&expected).into()));
    if !matches {
        return Err(StripeError::NoMatch);
    }
    if now - timestamp > DEFAULT_TOLERANCE_SECONDS {
        return Err(StripeError::StaleTimestamp);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_whsec_string_gives_different_keys_than_standard_webhooks() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let standard = crate::standard::SigningSecret::parse(secret).unwrap().sign("msg", 1614265330, body);
        let stripe = sign_header(&[secret], 1614265330, body);
        assert!(!stripe.contains(&standard[3..]));
    }

    #[test]
    fn several_secrets_give_several_v1_entries_and_any_verifies() {
        let header = sign_header(&["whsec_new", "whsec_old"], 100, b"{}");
        assert_eq!(header.matches(",v1=").count(), 2);
        assert!(!header.contains(' '));
        assert_eq!(verify("whsec_old", &header, b"{}", 100), Ok(()));
        assert_eq!(verify("whsec_other", &header, b"{}", 100), Err(StripeError::NoMatch));
        assert_eq!(verify("whsec_new", &header, b"{ }", 100), Err(StripeError::NoMatch));
        assert_eq!(verify("whsec_new", &header, b"{}", 401), Err(StripeError::StaleTimestamp));
        assert_eq!(verify("whsec_new", "v1=00", b"{}", 100), Err(StripeError::MissingTimestamp));
    }
}
