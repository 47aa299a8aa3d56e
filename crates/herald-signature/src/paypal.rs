//! PayPal's scheme: RSASSA-PKCS1-v1_5 with SHA-256 over
//! `"{transmission_id}|{transmission_time}|{webhook_id}|{crc32}"`, base64 in `PAYPAL-TRANSMISSION-SIG`.
//!
//! `crc32` is the unsigned decimal CRC-32 (IEEE, as zlib) of the raw body; `webhook_id` is the receiver's
//! own webhook id and is not sent. The sender's public key comes from the certificate at
//! `PAYPAL-CERT-URL`; verification here checks the signature with that certificate's key (checking the
//! certificate's issuer is the receiver's policy, not the signature's).
//!
//! A receiver checks a delivery with the certificate it fetched once from `PAYPAL-CERT-URL`:
//!
//! ```
//! use herald_signature::paypal::{Signer, signed_string, verify};
//! # let key = include_bytes!("../tests/vectors/test_rsa_key.pk8");
//! let certificate = include_bytes!("../tests/vectors/test_rsa_cert.pem");
//! let (id, time, body) = ("0b9a0d2e-1d0c-4c53-9f0e-2a1b3c4d5e6f", "2026-11-27T10:00:00Z", br#"{"id":"evt_1"}"#);
//! # let sig = Signer::from_pkcs8(key).unwrap().sign(&signed_string(id, time, "wh_01", body));
//! // The three PAYPAL-TRANSMISSION-* headers, your own webhook id and the raw body:
//! assert!(verify(certificate, &signed_string(id, time, "wh_01", body), &sig).is_ok());
//! assert!(verify(certificate, &signed_string(id, time, "wh_02", body), &sig).is_err());
//! ```
//! (Check too that the transmission time is recent, as for the other schemes.)

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The algorithm name PayPal sends in `PAYPAL-AUTH-ALGO`.
pub const AUTH_ALGO: &str = "SHA256withRSA";

/// The headers of a PayPal notification, lower-case as HTTP/2 and most frameworks show them.
pub const TRANSMISSION_ID: &str = "paypal-transmission-id";
pub const TRANSMISSION_TIME: &str = "paypal-transmission-time";
pub const TRANSMISSION_SIG: &str = "paypal-transmission-sig";
pub const CERT_URL: &str = "paypal-cert-url";
pub const AUTH_ALGO_HEADER: &str = "paypal-auth-algo";

/// Why a PayPal signature could not be made or checked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PaypalError {
    #[error("the certificate is not a PEM or DER X.509 certificate")]
    BadCertificate,
    #[error("the signature is not valid base64")]
    BadBase64,
    #[error("the signature does not match")]
    NoMatch,
    #[error("the private key is not an RSA key in PKCS#8")]
    BadKey,
}

/// CRC-32 of the body, as PayPal puts it in the signed string.
pub fn crc32(body: &[u8]) -> u32 {
    crc32fast::hash(body)
}

/// The string PayPal signs.
pub fn signed_string(transmission_id: &str, transmission_time: &str, webhook_id: &str, body: &[u8]) -> String {
    format!("{transmission_id}|{transmission_time}|{webhook_id}|{}", crc32(body))
}

/// Checks a base64 signature of `signed` with the public key of a PEM (or DER) certificate.
pub fn verify(certificate: &[u8], signed: &str, signature_b64: &str) -> Result<(), PaypalError> {
    let der = match CertificateDer::from_pem_slice(certificate) {
        Ok(der) => der,
        Err(_) => CertificateDer::from(certificate.to_vec()),
    };
    let cert = webpki::EndEntityCert::try_from(&der).map_err(|_| PaypalError::BadCertificate)?;
    let signature = BASE64.decode(signature_b64.trim()).map_err(|_| PaypalError::BadBase64)?;
    cert.verify_signature(webpki::ring::RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
        .map_err(|_| PaypalError::NoMatch)
}

/// Signs with an RSA private key (PKCS#8 DER), for senders.
pub struct Signer {
    key: RsaKeyPair,
}

impl Signer {
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, PaypalError> {
        RsaKeyPair::from_pkcs8(der).map(|key| Self { key }).map_err(|_| PaypalError::BadKey)
    }

    /// The base64 `PAYPAL-TRANSMISSION-SIG` of `signed`.
    pub fn sign(&self, signed: &str) -> String {
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signed.as_bytes(), &mut signature)
            .expect("signing with a valid key does not fail");
        BASE64.encode(signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_zlibs() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(signed_string("a", "b", "c", b"123456789"), "a|b|c|3421780262");
    }
}
