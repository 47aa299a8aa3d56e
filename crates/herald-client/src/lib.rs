//! A client for Herald's HTTP API.
//!
//! The operations and their types are generated from the OpenAPI document Herald serves
//! ([`Client`], [`types`]; `generated.rs`, by cargo-progenitor — regenerate it with
//! `scripts/generate-clients`, never edit it). This crate adds only what a generator cannot:
//!
//! - who calls: [`Herald::operator`] (the admin token) or [`Herald::merchant`] (client credentials);
//! - [`Herald::publish`] and [`Herald::publish_batch`], each with an automatic `Idempotency-Key` kept
//!   across retries on 429 and 503 that honour `Retry-After` ([`RetryPolicy`]);
//! - paging through every event or delivery ([`Herald::events`], [`Herald::deliveries`]);
//! - one error type with Herald's error fields ([`HeraldError`]);
//! - [`verify`], the check of a received delivery, by the Standard Webhooks library.

mod errors;
#[rustfmt::skip]
#[allow(clippy::all, unused_imports, dead_code)]
mod generated;
mod pages;
mod publish;
mod verify;

use std::time::Duration;

pub use errors::{HeraldError, Refusal};
pub use generated::{ByteStream, Client, Error, ResponseValue, types};
pub use pages::{EventQuery, Pages};
pub use publish::RetryPolicy;
pub use verify::{VerifyError, verify};

/// How long a call may wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to one Herald, as the operator or as one merchant.
#[derive(Clone, Debug)]
pub struct Herald {
    api: Client,
    base_url: String,
    retry: RetryPolicy,
}

impl Herald {
    /// Calls as the operator, with the admin token.
    pub fn operator(base_url: &str, admin_token: &str) -> Result<Self, HeraldError> {
        Self::with_authorization(base_url, &format!("Bearer {admin_token}"))
    }

    /// Calls as a merchant, with its client credentials (HTTP Basic, which every merchant call takes).
    pub fn merchant(base_url: &str, client_id: &str, client_secret: &str) -> Result<Self, HeraldError> {
        use base64::Engine as _;
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{client_secret}"));
        Self::with_authorization(base_url, &format!("Basic {credentials}"))
    }

    /// Calls through `http`, which brings its own authentication (and timeouts, proxies, TLS).
    pub fn with_http(base_url: &str, http: reqwest::Client) -> Self {
        let base_url = base_url.trim_end_matches('/').to_owned();
        Self { api: Client::new_with_client(&base_url, http), base_url, retry: RetryPolicy::default() }
    }

    fn with_authorization(base_url: &str, authorization: &str) -> Result<Self, HeraldError> {
        let mut value = reqwest::header::HeaderValue::from_str(authorization)
            .map_err(|_| HeraldError::Setup("the credentials are not valid in an HTTP header".into()))?;
        value.set_sensitive(true);
        let headers = reqwest::header::HeaderMap::from_iter([(reqwest::header::AUTHORIZATION, value)]);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| HeraldError::Setup(e.to_string()))?;
        Ok(Self::with_http(base_url, http))
    }

    /// The same connection, retrying publishes as `retry` says.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Every generated operation: `herald.api().list_webhooks().await`.
    pub fn api(&self) -> &Client {
        &self.api
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}
