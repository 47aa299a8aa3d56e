//! The installation's own secrets, kept in the data directory: the master key and the admin token.
//!
//! The master key (32 random bytes, made on first start) encrypts webhook signing secrets at rest and keys
//! the hash of merchants' client secrets. Client secrets are long random strings, so a keyed SHA-256 is as
//! strong as a slow password hash against guessing and costs microseconds on every API call instead of
//! milliseconds. Nothing here is ever logged.

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const MASTER_KEY_FILE: &str = "master.key";
const ADMIN_TOKEN_FILE: &str = "admin-token";
const NONCE_LEN: usize = 12;

/// The store's name for the master key's fingerprint.
pub const KEY_FINGERPRINT: &str = "key_fingerprint";

/// Why the key material could not be loaded or a sealed value could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("cannot read or write {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} does not hold a base64-encoded 32-byte key")]
    BadKeyFile { path: String },
    #[error("a stored secret could not be decrypted with this installation's master key")]
    CannotOpen,
}

/// Encryption and keyed hashing with keys derived from the master key.
pub struct Keyring {
    cipher: ChaCha20Poly1305,
    credential_hash_key: [u8; 32],
}

impl Keyring {
    /// Derives purpose-specific keys so that no key is used for two jobs.
    pub fn from_master_key(master: &[u8; 32]) -> Self {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("any key length");
            mac.update(label);
            mac.finalize().into_bytes().into()
        };
        Self {
            cipher: ChaCha20Poly1305::new(&derive(b"herald secret encryption v1").into()),
            credential_hash_key: derive(b"herald credential hash v1"),
        }
    }

    /// The configured master key (base64 of 32 bytes) if there is one; otherwise `master.key` in the data
    /// directory, created (readable by the owner only) on first start. Nodes that share a database must
    /// share the key, so they are given it in configuration.
    pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> Result<Self, KeyringError> {
        let (text, origin) = match configured.filter(|k| !k.is_empty()) {
            Some(text) => (text.to_owned(), "HERALD_MASTER_KEY".to_owned()),
            None => {
                let path = data_dir.join(MASTER_KEY_FILE);
                (read_or_create(&path, || BASE64.encode(rand::random::<[u8; 32]>()))?, path.display().to_string())
            }
        };
        let bad = || KeyringError::BadKeyFile { path: origin.clone() };
        let key: [u8; 32] = BASE64.decode(text.trim()).map_err(|_| bad())?.try_into().map_err(|_| bad())?;
        Ok(Self::from_master_key(&key))
    }

    /// Identifies the master key without revealing it, so the store can tell whether data was sealed
    /// with the same key.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.hash_credential("herald master key fingerprint")
    }

    /// Encrypts a secret for storage: a random nonce followed by the ciphertext and its tag.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let ciphertext =
            self.cipher.encrypt(Nonce::from_slice(&nonce), plaintext).expect("encryption of a small value");
        [nonce.as_slice(), &ciphertext].concat()
    }

    /// Decrypts what [`Keyring::seal`] produced; fails if it was altered or sealed under another key.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, KeyringError> {
        if sealed.len() < NONCE_LEN {
            return Err(KeyringError::CannotOpen);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher.decrypt(Nonce::from_slice(nonce), ciphertext).map_err(|_| KeyringError::CannotOpen)
    }

    /// The keyed SHA-256 stored in place of a client secret.
    pub fn hash_credential(&self, secret: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.credential_hash_key).expect("any key length");
        mac.update(secret.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// A random string of `bytes` random bytes, URL-safe, for client ids, client secrets and tokens.
pub fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(raw)
}

/// Where the operator's token came from, so that start-up can print a generated one exactly once.
pub enum AdminToken {
    Configured(String),
    Generated(String),
    Stored(String),
}

impl AdminToken {
    pub fn value(&self) -> &str {
        match self {
            Self::Configured(token) | Self::Generated(token) | Self::Stored(token) => token,
        }
    }

    /// The configured token wins; otherwise the one stored in the data directory, made on first start.
    pub fn resolve(configured: Option<String>, data_dir: &Path) -> Result<Self, KeyringError> {
        if let Some(token) = configured.filter(|t| !t.is_empty()) {
            return Ok(Self::Configured(token));
        }
        let path = data_dir.join(ADMIN_TOKEN_FILE);
        let existed = path.exists();
        let token = read_or_create(&path, || format!("hadm_{}", random_token(32)))?.trim().to_owned();
        Ok(if existed { Self::Stored(token) } else { Self::Generated(token) })
    }
}

fn read_or_create(path: &Path, make: impl FnOnce() -> String) -> Result<String, KeyringError> {
    let io = |source| KeyringError::Io { path: path.display().to_string(), source };
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let value = make();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(io)?;
            file.write_all(value.as_bytes()).and_then(|()| file.sync_all()).map_err(io)?;
            Ok(value)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key() {
        let keyring = Keyring::from_master_key(&[1; 32]);
        let sealed = keyring.seal(b"whsec_secret");
        assert_ne!(&sealed[NONCE_LEN..], b"whsec_secret");
        assert_eq!(keyring.open(&sealed).unwrap(), b"whsec_secret");
        assert!(Keyring::from_master_key(&[2; 32]).open(&sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(keyring.open(&tampered).is_err());
    }

    #[test]
    fn key_and_token_files_persist_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let first = Keyring::load_or_create(None, dir.path()).unwrap();
        let again = Keyring::load_or_create(None, dir.path()).unwrap();
        let configured = Keyring::load_or_create(Some(&BASE64.encode([9u8; 32])), dir.path()).unwrap();
        assert_ne!(configured.fingerprint(), first.fingerprint());
        assert!(Keyring::load_or_create(Some("short"), dir.path()).is_err());
        assert_eq!(first.hash_credential("x"), again.hash_credential("x"));
        let token = AdminToken::resolve(None, dir.path()).unwrap();
        assert!(matches!(token, AdminToken::Generated(_)));
        let stored = AdminToken::resolve(None, dir.path()).unwrap();
        assert!(matches!(&stored, AdminToken::Stored(t) if t == token.value()));
        let configured = AdminToken::resolve(Some("op".into()), dir.path()).unwrap();
        assert_eq!(configured.value(), "op");
    }
}
