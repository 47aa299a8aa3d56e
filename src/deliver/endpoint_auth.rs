//! How Herald authenticates itself to a receiver that asks for it: a client certificate (mutual TLS) and
//! an OAuth2 bearer token from the client-credentials grant.
//!
//! The certificate, key and CA are checked when a webhook is saved ([`check_tls`]), so that a delivery
//! never finds them unusable; an HTTP client with them is built once per webhook and kept by the sender.
//! Tokens are fetched through the sender's own guarded client (the SSRF guard covers token URLs too),
//! cached until shortly before they expire, fetched once for any number of concurrent deliveries, and
//! fetched again when the receiver answers 401.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::domain::WebhookId;

/// The most bytes a certificate chain, key or CA bundle may have.
pub const MAX_PEM_BYTES: usize = 64 * 1024;
/// A token is used until this long before it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// A token without `expires_in` is kept this long (or until a 401).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// The most of a token response that is read.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

/// Checks a client certificate chain, its private key and an optional CA bundle: each parses, and the
/// key is the certificate's.
pub fn check_tls(certificate_pem: &str, key_pem: &str, ca_pem: Option<&str>) -> Result<(), String> {
    for (name, pem) in [
        ("client_certificate_pem", Some(certificate_pem)),
        ("client_key_pem", Some(key_pem)),
        ("ca_certificate_pem", ca_pem),
    ] {
        if pem.is_some_and(|pem| pem.len() > MAX_PEM_BYTES) {
            return Err(format!("{name} is longer than {MAX_PEM_BYTES} bytes"));
        }
    }
    let chain = certificates(certificate_pem).map_err(|why| format!("client_certificate_pem: {why}"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| format!("client_key_pem is not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"))?;
    let provider = rustls::crypto::ring::default_provider();
    rustls::sign::CertifiedKey::from_der(chain, key, &provider)
        .map_err(|e| format!("client_key_pem is not the key of client_certificate_pem: {e}"))?;
    if let Some(ca) = ca_pem {
        certificates(ca).map_err(|why| format!("ca_certificate_pem: {why}"))?;
    }
    Ok(())
}

fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let parsed: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem.as_bytes()).collect();
    let parsed = parsed.map_err(|e| format!("not PEM certificates: {e}"))?;
    if parsed.is_empty() {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into());
    }
    Ok(parsed)
}

/// A webhook's TLS material, opened.
#[derive(Clone)]
pub struct TlsIdentity {
    pub certificate_pem: String,
    pub key_pem: String,
    pub ca_pem: Option<String>,
}

impl TlsIdentity {
    /// Tells one set of material from another, so that a changed certificate gets a new client.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&self.certificate_pem, &self.key_pem, &self.ca_pem).hash(&mut hasher);
        hasher.finish()
    }
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsIdentity(..)")
    }
}

/// A webhook's OAuth2 client credentials, opened.
#[derive(Clone)]
pub struct OAuth2Credentials {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scope: Option<String>,
}

impl OAuth2Credentials {
    fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&self.token_url, &self.client_id, &self.client_secret, &self.scope).hash(&mut hasher);
        hasher.finish()
    }
}

impl std::fmt::Debug for OAuth2Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OAuth2Credentials({} at {})", self.client_id, self.token_url)
    }
}

struct Token {
    value: String,
    good_until: Instant,
    credentials: u64,
}

type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// Each webhook's current token.
#[derive(Default)]
pub struct Tokens {
    slots: Mutex<HashMap<WebhookId, Slot>>,
}

impl Tokens {
    /// The webhook's token: the cached one unless it is about to expire, was made with other credentials,
    /// or is `rejected` (the receiver answered 401 to it); otherwise a new one from the token URL.
    pub async fn get(
        &self,
        client: &reqwest::Client,
        webhook: &WebhookId,
        credentials: &OAuth2Credentials,
        rejected: Option<&str>,
    ) -> Result<String, String> {
        let slot = self.slots.lock().expect("never poisoned").entry(webhook.clone()).or_default().clone();
        let mut held = slot.lock().await;
        let fingerprint = credentials.fingerprint();
        if let Some(token) = held.as_ref() {
            let fresh = token.good_until > Instant::now() && token.credentials == fingerprint;
            if fresh && rejected != Some(token.value.as_str()) {
                return Ok(token.value.clone());
            }
        }
        let token = fetch(client, credentials).await?;
        let value = token.value.clone();
        *held = Some(Token { credentials: fingerprint, ..token });
        Ok(value)
    }
}

/// The client-credentials grant: the id and secret as HTTP Basic (RFC 6749 §2.3.1), the form in the body.
async fn fetch(client: &reqwest::Client, credentials: &OAuth2Credentials) -> Result<Token, String> {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(scope) = &credentials.scope {
        form.push(("scope", scope));
    }
    let asked_at = Instant::now();
    let response = client
        .post(&credentials.token_url)
        .basic_auth(&credentials.client_id, Some(&credentials.client_secret))
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| {
            format!(
                "the token URL {} could not be reached: {}",
                credentials.token_url,
                crate::error_chain::error_chain(&e)
            )
        })?;
    let status = response.status();
    let mut body = Vec::new();
    let mut response = response;
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("the token response broke off: {e}"))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_TOKEN_RESPONSE {
            return Err("the token response is larger than 64 KiB".into());
        }
    }
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        return Err(format!("the token URL answered {}: {text}", status.as_u16()));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        access_token: String,
        expires_in: Option<u64>,
    }
    let answer: Answer =
        serde_json::from_slice(&body).map_err(|e| format!("the token response has no access_token: {e}"))?;
    let lifetime = answer.expires_in.map(Duration::from_secs).unwrap_or(DEFAULT_LIFETIME);
    let good_until = asked_at + lifetime.saturating_sub(EXPIRY_MARGIN.min(lifetime / 2));
    Ok(Token { value: answer.access_token, good_until, credentials: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued(name: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap().self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn tls_material_is_checked_when_saved() {
        let (cert, key) = issued("herald.client");
        assert_eq!(check_tls(&cert, &key, None), Ok(()));
        assert_eq!(check_tls(&cert, &key, Some(&cert)), Ok(()), "a CA bundle of one certificate");
        let (_, other_key) = issued("other");
        assert!(check_tls(&cert, &other_key, None).unwrap_err().contains("not the key"));
        assert!(check_tls("garbage", &key, None).unwrap_err().starts_with("client_certificate_pem"));
        assert!(check_tls(&cert, "garbage", None).unwrap_err().starts_with("client_key_pem"));
        assert!(check_tls(&cert, &key, Some("")).unwrap_err().starts_with("ca_certificate_pem"));
        assert!(check_tls(&"x".repeat(MAX_PEM_BYTES + 1), &key, None).unwrap_err().contains("longer"));
    }
}
