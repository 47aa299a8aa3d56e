//! Standard Webhooks v1: `webhook-id`, `webhook-timestamp` and `webhook-signature` headers.
//!
//! The signed content is `"{id}.{timestamp}.{body}"`, the key is the base64-decoded part of a `whsec_`
//! secret, and each signature is `v1,` followed by the padded standard-base64 HMAC-SHA256. Several
//! signatures (one per live secret, during a roll) are separated by single spaces. The asymmetric variant,
//! `v1a`, signs the same content with Ed25519: the sender keeps `whsk_` (base64 of seed ‖ public key) and
//! receivers get `whpk_` (base64 of the public key).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The prefix every Standard Webhooks secret carries.
pub const SECRET_PREFIX: &str = "whsec_";

/// How far a `webhook-timestamp` may be from the receiver's clock, in seconds (inclusive).
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 300;

/// The key lengths the Standard Webhooks specification asks senders to generate. Receivers' libraries
/// accept other lengths (Svix's own documentation example has an 18-byte key), so parsing does not insist.
pub const GENERATED_KEY_LENGTHS: std::ops::RangeInclusive<usize> = 24..=64;

/// Why a secret or a signature was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the secret must start with \"{SECRET_PREFIX}\"")]
    MissingPrefix,
    #[error("the secret is not valid padded standard base64")]
    BadBase64,
    #[error("the secret's key is empty")]
    EmptyKey,
    #[error("the webhook-timestamp header is not an integer number of seconds")]
    BadTimestamp,
    #[error("the webhook-timestamp is more than {DEFAULT_TOLERANCE_SECONDS} seconds from now")]
    StaleTimestamp,
    #[error("no signature in the webhook-signature header matches")]
    NoMatch,
    #[error("the key must be \"whsk_\" + base64 of 64 bytes (or \"whpk_\" + base64 of 32 for a public key)")]
    BadAsymmetricKey,
}

/// The prefix of an Ed25519 signing key (seed ‖ public key).
pub const SIGNING_KEY_PREFIX: &str = "whsk_";
/// The prefix of an Ed25519 public key, what receivers of `v1a` signatures hold.
pub const PUBLIC_KEY_PREFIX: &str = "whpk_";

/// An Ed25519 signing key for `v1a` signatures.
pub struct AsymmetricKey {
    pair: Ed25519KeyPair,
    seed: [u8; 32],
}

impl std::fmt::Debug for AsymmetricKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AsymmetricKey(..)")
    }
}

impl AsymmetricKey {
    /// A key from 32 random bytes.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).expect("any 32 bytes are an Ed25519 seed");
        Self { pair, seed }
    }

    /// Parses `whsk_` + base64(seed ‖ public key), checking that the public half belongs to the seed.
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let encoded = text.strip_prefix(SIGNING_KEY_PREFIX).ok_or(SignatureError::BadAsymmetricKey)?;
        let bytes = BASE64.decode(encoded).map_err(|_| SignatureError::BadAsymmetricKey)?;
        let (seed, public) = bytes.split_at_checked(32).ok_or(SignatureError::BadAsymmetricKey)?;
        let pair =
            Ed25519KeyPair::from_seed_and_public_key(seed, public).map_err(|_| SignatureError::BadAsymmetricKey)?;
        Ok(Self { pair, seed: seed.try_into().map_err(|_| SignatureError::BadAsymmetricKey)? })
    }

    pub fn to_whsk(&self) -> String {
        format!(
            "{SIGNING_KEY_PREFIX}{}",
            BASE64.encode([self.seed.as_slice(), self.pair.public_key().as_ref()].concat())
        )
    }

    /// The `whpk_` public key receivers verify with.
    pub fn public_key(&self) -> String {
        format!("{PUBLIC_KEY_PREFIX}{}", BASE64.encode(self.pair.public_key().as_ref()))
    }

    /// One `v1a,<base64>` signature.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let content = [id.as_bytes(), b".", timestamp.to_string().as_bytes(), b".", body].concat();
        format!("v1a,{}", BASE64.encode(self.pair.sign(&content).as_ref()))
    }
}

/// Checks the `v1a` signatures of a header against a `whpk_` public key (timestamp rules as for `v1`).
pub fn verify_asymmetric(
    public_key: &str,
    id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let encoded = public_key.strip_prefix(PUBLIC_KEY_PREFIX).ok_or(SignatureError::BadAsymmetricKey)?;
    let key = BASE64.decode(encoded).map_err(|_| SignatureError::BadAsymmetricKey)?;
    if key.len() != 32 {
        return Err(SignatureError::BadAsymmetricKey);
    }
    check_timestamp(timestamp, now)?;
    let content = [id.as_bytes(), b".", timestamp.trim().as_bytes(), b".", body].concat();
    let verifier = UnparsedPublicKey::new(&ED25519, &key);
    let matches = signature_header
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1a,"))
        .any(|candidate| BASE64.decode(candidate).is_ok_and(|sig| verifier.verify(&content, &sig).is_ok()));
    if matches { Ok(()) } else { Err(SignatureError::NoMatch) }
}

/// A signing secret, with its HMAC key prepared once so that signing an attempt costs only the hash.
#[derive(Clone)]
pub struct SigningSecret {
    key: Vec<u8>,
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for SigningSecret {
    // Secrets never appear in logs, so Debug shows only that one is there.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

impl SigningSecret {
    /// Parses `whsec_<base64>`, as shown to merchants and accepted by every Standard Webhooks library.
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let encoded = text.strip_prefix(SECRET_PREFIX).ok_or(SignatureError::MissingPrefix)?;
        let key = BASE64.decode(encoded).map_err(|_| SignatureError::BadBase64)?;
        Self::from_key(key)
    }

    /// Builds a secret from raw key bytes. Herald generates keys in [`GENERATED_KEY_LENGTHS`].
    pub fn from_key(key: Vec<u8>) -> Result<Self, SignatureError> {
        if key.is_empty() {
            return Err(SignatureError::EmptyKey);
        }
        let mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts keys of any length");
        Ok(Self { key, mac })
    }

    /// The raw key bytes.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The `whsec_…` form, with padded standard base64 (some libraries reject anything else).
    pub fn to_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", BASE64.encode(&self.key))
    }

    fn mac_of(&self, id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// One `v1,<base64>` signature of a message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let digest = self.mac_of(id, &timestamp.to_string(), body);
        format!("v1,{}", BASE64.encode(digest))
    }
}

/// The whole `webhook-signature` header value: one `v1` signature per live secret, space-separated.
pub fn sign_header(secrets: &[&SigningSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    let signatures: Vec<String> = secrets.iter().map(|s| s.sign(id, timestamp, body)).collect();
    signatures.join(" ")
}

/// The Standard Webhooks rule: a timestamp at most the tolerance away from `now`, in either direction.
fn check_timestamp(timestamp: &str, now: i64) -> Result<(), SignatureError> {
    let sent_at: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    if (now - sent_at).abs() > DEFAULT_TOLERANCE_SECONDS {
        return Err(SignatureError::StaleTimestamp);
    }
    Ok(())
}

/// Checks a received request in one call, given a way to read its headers (names in lower case).
///
/// ```
/// use std::collections::HashMap;
/// use herald_signature::standard::{SigningSecret, verify_request};
///
/// let headers: HashMap<&str, &str> = HashMap::from([
///     ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
///     ("webhook-timestamp", "1614265330"),
///     ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
/// ]);
/// let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
/// let verified = verify_request(&secret, |name| headers.get(name).copied(), br#"{"test": 2432232314}"#, 1614265330);
/// assert!(verified.is_ok());
/// ```
pub fn verify_request<'h>(
    secret: &SigningSecret,
    header: impl Fn(&str) -> Option<&'h str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let id = header("webhook-id").unwrap_or_default();
    let timestamp = header("webhook-timestamp").unwrap_or_default();
    verify(secret, id, timestamp, header("webhook-signature").unwrap_or_default(), body, now)
}

/// Checks a delivery as a receiver would: the timestamp must be within the default tolerance of `now`
/// (unix seconds) and at least one `v1` signature in the header must match. Other schemes (`v1a`) are skipped.
pub fn verify(
    secret: &SigningSecret,
    id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    check_timestamp(timestamp, now)?;
    let expected = secret.mac_of(id, timestamp.trim(), body);
    let matches = signature_header
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .any(|candidate| BASE64.decode(candidate).is_ok_and(|given| given.ct_eq(&expected).into()));
    if matches { Ok(()) } else { Err(SignatureError::NoMatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_secrets_that_libraries_reject() {
        assert_eq!(
            SigningSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            SignatureError::MissingPrefix
        );
        assert_eq!(SigningSecret::parse("whsec_***").unwrap_err(), SignatureError::BadBase64);
        assert_eq!(SigningSecret::parse("whsec_").unwrap_err(), SignatureError::EmptyKey);
    }

    #[test]
    fn round_trips_the_whsec_form() {
        let secret = SigningSecret::from_key(vec![7; 32]).unwrap();
        assert_eq!(SigningSecret::parse(&secret.to_whsec()).unwrap().key(), secret.key());
    }

    #[test]
    fn tolerance_is_inclusive_at_300_seconds_both_ways() {
        let secret = SigningSecret::from_key(vec![1; 24]).unwrap();
        let header = secret.sign("evt_1", 1000, b"{}");
        assert!(verify(&secret, "evt_1", "1000", &header, b"{}", 1300).is_ok());
        assert!(verify(&secret, "evt_1", "1000", &header, b"{}", 700).is_ok());
        assert_eq!(verify(&secret, "evt_1", "1000", &header, b"{}", 1301), Err(SignatureError::StaleTimestamp));
        assert_eq!(verify(&secret, "evt_1", "1000", &header, b"{}", 699), Err(SignatureError::StaleTimestamp));
    }

    #[test]
    fn any_live_secret_in_a_multi_signature_header_verifies() {
        let old = SigningSecret::from_key(vec![1; 32]).unwrap();
        let new = SigningSecret::from_key(vec![2; 32]).unwrap();
        let other = SigningSecret::from_key(vec![3; 32]).unwrap();
        let header = sign_header(&[&new, &old], "evt_1", 5, b"x");
        assert_eq!(header.split(' ').count(), 2);
        assert!(verify(&old, "evt_1", "5", &header, b"x", 5).is_ok());
        assert!(verify(&new, "evt_1", "5", &header, b"x", 5).is_ok());
        assert_eq!(verify(&other, "evt_1", "5", &header, b"x", 5), Err(SignatureError::NoMatch));
        assert_eq!(verify(&new, "evt_2", "5", &header, b"x", 5), Err(SignatureError::NoMatch));
        assert_eq!(verify(&new, "evt_1", "5", &header, b"y", 5), Err(SignatureError::NoMatch));
    }
}
