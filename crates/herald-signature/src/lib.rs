//! Signing and verifying webhooks the way Herald sends them.
//!
//! This crate is pure: no I/O, no clock, no server dependencies. Herald's delivery worker uses it to sign
//! every attempt, and a receiver written in Rust can use the same code to verify what arrived.
//!
//! It implements [Standard Webhooks](https://www.standardwebhooks.com/) `v1` (HMAC-SHA256) and `v1a`
//! (Ed25519) in [`standard`], Stripe's `Stripe-Signature` in [`stripe`], and PayPal's RSA transmission
//! signature in [`paypal`]. A receiver checks a Standard Webhooks delivery like this:
//!
//! ```
//! use herald_signature::standard::{SigningSecret, sign_header, verify};
//!
//! let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
//! let body = br#"{"test": 2432232314}"#;
//! let header = sign_header(&[&secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
//! assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
//!
//! // A receiver checks the three headers against its secret and its own clock.
//! verify(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", &header, body, 1614265330).unwrap();
//! ```

pub mod paypal;
pub mod standard;
pub mod stripe;
