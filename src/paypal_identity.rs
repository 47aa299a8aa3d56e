//! The installation's PayPal signing identity: one RSA key pair and a self-signed certificate.
//!
//! PayPal signs every notification with its own key and names the certificate in `PAYPAL-CERT-URL`, so a
//! Herald installation acts as one sender: a single 2048-bit key signs `paypal`-format deliveries of every
//! webhook, and its certificate is served at `/v1/notifications/certs/{id}`. The pair is made the first time
//! something needs it (RSA key generation costs a noticeable fraction of a second) and is kept in the
//! store's `meta` table, sealed with the master key, so that every node sharing a database signs with the
//! same key and a restart keeps it. Nodes racing to make it all end up with the first one written.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use herald_signature::paypal::{self, Signer};
use rsa::pkcs8::EncodePrivateKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::domain::model::SigningAlgorithm;
use crate::keyring::{Keyring, KeyringError};
use crate::store::{Store, StoreError, StoredTarget};

/// The store's name for the sealed identity.
const META_KEY: &str = "paypal_identity";
/// PayPal's own certificates carry 2048-bit keys; receivers' checks accept them everywhere.
const KEY_BITS: usize = 2048;
/// The path under which certificates are served; the last segment is the certificate id.
pub const CERT_PATH: &str = "/v1/notifications/certs";

/// Why the identity could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored PayPal signing key could not be decrypted")]
    Sealed(#[source] KeyringError),
    #[error("the stored PayPal signing identity is damaged: {0}")]
    Corrupt(String),
    #[error("could not make the PayPal signing key: {0}")]
    Generate(String),
}

/// A loaded key pair and certificate, ready to sign.
pub struct PaypalIdentity {
    signer: Signer,
    certificate_pem: String,
    certificate_id: String,
    cert_url: String,
}

impl std::fmt::Debug for PaypalIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaypalIdentity").field("cert_url", &self.cert_url).finish_non_exhaustive()
    }
}

impl PaypalIdentity {
    /// The base64 `PAYPAL-TRANSMISSION-SIG` of a signed string.
    pub fn sign(&self, signed: &str) -> String {
        self.signer.sign(signed)
    }

    /// Whether `signature` is this identity's signature of `signed`.
    pub fn verify(&self, signed: &str, signature: &str) -> bool {
        paypal::verify(self.certificate_pem.as_bytes(), signed, signature).is_ok()
    }

    /// The certificate in PEM, as served.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The last segment of the certificate's URL, derived from the certificate itself.
    pub fn certificate_id(&self) -> &str {
        &self.certificate_id
    }

    /// Where the certificate is served, as sent in `PAYPAL-CERT-URL`.
    pub fn cert_url(&self) -> &str {
        &self.cert_url
    }
}

/// What is kept in the store, sealed as a whole.
#[derive(Serialize, Deserialize)]
struct Stored {
    /// The private key, PKCS#8 DER in base64.
    private_key: String,
    certificate_pem: String,
}

/// Hands out the identity, loading or making it once per process.
pub struct PaypalIdentities {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    public_url: String,
    loaded: OnceCell<Arc<PaypalIdentity>>,
}

impl PaypalIdentities {
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>, public_url: String) -> Self {
        Self { store, keyring, public_url, loaded: OnceCell::new() }
    }

    /// The identity, made and stored first if the installation has none yet.
    pub async fn get_or_create(&self) -> Result<Arc<PaypalIdentity>, IdentityError> {
        self.loaded.get_or_try_init(|| self.load_or_create()).await.cloned()
    }

    /// The identity if any of `targets` is signed with it (made first if need be), else nothing.
    pub async fn for_targets<'a>(
        &self,
        mut targets: impl Iterator<Item = &'a StoredTarget>,
    ) -> Result<Option<Arc<PaypalIdentity>>, IdentityError> {
        if targets.any(|t| t.signing == SigningAlgorithm::RsaSha256) {
            return self.get_or_create().await.map(Some);
        }
        Ok(None)
    }

    /// The identity if the installation has one; never makes one (serving a certificate must not).
    pub async fn existing(&self) -> Result<Option<Arc<PaypalIdentity>>, IdentityError> {
        if let Some(identity) = self.loaded.get() {
            return Ok(Some(identity.clone()));
        }
        let Some(sealed) = self.store.get_meta(META_KEY).await? else { return Ok(None) };
        let identity = Arc::new(self.open(&sealed)?);
        Ok(Some(self.loaded.get_or_init(|| async { identity }).await.clone()))
    }

    async fn load_or_create(&self) -> Result<Arc<PaypalIdentity>, IdentityError> {
        if let Some(sealed) = self.store.get_meta(META_KEY).await? {
            return Ok(Arc::new(self.open(&sealed)?));
        }
        let made =
            tokio::task::spawn_blocking(generate).await.map_err(|e| IdentityError::Generate(e.to_string()))??;
        let plaintext = serde_json::to_vec(&made).expect("two strings serialise");
        let stored = self.store.insert_meta_if_absent(META_KEY, self.keyring.seal(&plaintext)).await?;
        tracing::info!("made this installation's PayPal signing key and certificate");
        Ok(Arc::new(self.open(&stored)?))
    }

    fn open(&self, sealed: &[u8]) -> Result<PaypalIdentity, IdentityError> {
        let plaintext = self.keyring.open(sealed).map_err(IdentityError::Sealed)?;
        let stored: Stored = serde_json::from_slice(&plaintext).map_err(|e| IdentityError::Corrupt(e.to_string()))?;
        let key = BASE64.decode(&stored.private_key).map_err(|e| IdentityError::Corrupt(e.to_string()))?;
        let signer = Signer::from_pkcs8(&key).map_err(|e| IdentityError::Corrupt(e.to_string()))?;
        let certificate_id = certificate_id(&stored.certificate_pem);
        let cert_url = format!("{}{CERT_PATH}/{certificate_id}", self.public_url);
        Ok(PaypalIdentity { signer, certificate_pem: stored.certificate_pem, certificate_id, cert_url })
    }
}

/// `CERT-` and the first 16 bytes of the certificate's SHA-256, in hex: stable for one certificate and
/// different for the next, so a cached certificate is never mistaken for a newer one.
fn certificate_id(pem: &str) -> String {
    let digest = Sha256::digest(pem.trim().as_bytes());
    format!("CERT-{}", hex_lower(&digest[..16]))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new RSA key and a self-signed certificate for it.
fn generate() -> Result<Stored, IdentityError> {
    let failed = |e: &dyn std::fmt::Display| IdentityError::Generate(e.to_string());
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, KEY_BITS).map_err(|e| failed(&e))?;
    let pkcs8 = key.to_pkcs8_der().map_err(|e| failed(&e))?;
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_bytes());
    let key_pair =
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256).map_err(|e| failed(&e))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| failed(&e))?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "Herald webhook signing");
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    let certificate = params.self_signed(&key_pair).map_err(|e| failed(&e))?;
    Ok(Stored { private_key: BASE64.encode(pkcs8.as_bytes()), certificate_pem: certificate.pem() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_identity_signs_what_its_certificate_verifies() {
        let stored = generate().unwrap();
        let key = BASE64.decode(&stored.private_key).unwrap();
        let signer = Signer::from_pkcs8(&key).unwrap();
        let signed = paypal::signed_string("id", "2026-01-01T00:00:00Z", "WH-1", b"{}");
        let signature = signer.sign(&signed);
        assert!(paypal::verify(stored.certificate_pem.as_bytes(), &signed, &signature).is_ok());
        assert!(paypal::verify(stored.certificate_pem.as_bytes(), &format!("{signed}x"), &signature).is_err());
        assert!(certificate_id(&stored.certificate_pem).starts_with("CERT-"));
        assert_eq!(certificate_id(&stored.certificate_pem).len(), 5 + 32);
    }
}
