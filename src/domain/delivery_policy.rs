//! How deliveries to one webhook are chosen, paced, ordered and dressed: a payload filter, a rate limit, a
//! cap on concurrent requests, FIFO ordering, the merchant's own request headers, and the destination's
//! sealed credentials.
//!
//! Stored as one JSON column, so adding a rule is not a schema change. Custom headers are checked here,
//! where they enter: they may not override what HTTP or the signature schemes own (`Host`, hop-by-hop
//! headers, `Content-*`, and the `webhook-`, `stripe-` and `paypal-` families), so a merchant's header can
//! never spoof or break a signature.

use serde::{Deserialize, Serialize};

/// The most custom headers a webhook may have, and their sizes.
pub const MAX_HEADERS: usize = 20;
const MAX_NAME_LEN: usize = 64;
const MAX_VALUE_LEN: usize = 1024;
/// The fastest rate a webhook may be limited to is also the slowest: 1 to 10,000 per second.
pub const RATE_LIMIT_RANGE: std::ops::RangeInclusive<u32> = 1..=10_000;
pub const MAX_IN_FLIGHT_RANGE: std::ops::RangeInclusive<u32> = 1..=1_000;

/// One webhook's delivery rules; the default sends as fast as Herald can, in any order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliveryPolicy {
    /// Deliveries per second at most.
    pub rate_limit: Option<u32>,
    /// Requests to this webhook at once, at most.
    pub max_in_flight: Option<u32>,
    pub ordering: DeliveryOrder,
    /// Sent with every delivery, under Herald's own headers.
    pub headers: Vec<(String, String)>,
    /// A CEL expression over the event object: only events it holds for are delivered (checked, and
    /// compiled, by `crate::filter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The password (or token) of a broker URL, sealed; the URL itself shows `***` in its place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_secret: Option<Sealed>,
    /// OAuth2 client credentials: every delivery carries a bearer token obtained with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Client>,
    /// A client certificate for mutual TLS, and the CA the receiver's own certificate is checked against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTls>,
}

/// The client-credentials grant (RFC 6749 §4.4) Herald performs against the receiver's token URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuth2Client {
    pub token_url: String,
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub client_secret: Sealed,
}

/// What Herald presents to, and expects of, a receiver that requires mutual TLS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientTls {
    /// PEM: the client certificate, then any intermediates.
    pub client_certificate_pem: String,
    /// PEM: the only CA the receiver's certificate may chain to; `None` trusts the public roots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_certificate_pem: Option<String>,
    pub client_key: Sealed,
}

/// A secret sealed by the installation's keyring, as base64 text so that it fits the policy's JSON. Its
/// debug form shows nothing of it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(pub String);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed(..)")
    }
}

impl DeliveryPolicy {
    /// Whether deliveries must wait their turn (and so go through the claim that enforces the rules)
    /// rather than straight to a worker.
    pub fn paces(&self) -> bool {
        self.rate_limit.is_some() || self.max_in_flight.is_some() || self.ordering == DeliveryOrder::Fifo
    }

    /// How many of this webhook's deliveries may be in flight at once.
    pub fn concurrency(&self) -> Option<u32> {
        match self.ordering {
            DeliveryOrder::Fifo => Some(1),
            DeliveryOrder::Unordered => self.max_in_flight,
        }
    }
}

/// Whether a webhook's deliveries keep publish order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryOrder {
    /// Deliveries go as they are due, several at once.
    #[default]
    #[serde(rename = "none")]
    Unordered,
    /// One at a time, in publish order; a delivery that exhausts its retries stops blocking the rest.
    #[serde(rename = "fifo")]
    Fifo,
}

impl DeliveryOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unordered => "none",
            Self::Fifo => "fifo",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "none" => Some(Self::Unordered),
            "fifo" => Some(Self::Fifo),
            _ => None,
        }
    }
}

/// Why a custom header was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderRefusal {
    #[error("at most {MAX_HEADERS} custom headers")]
    TooMany,
    #[error("\"{0}\" is not a valid header name (letters, digits and !#$%&'*+-.^_`|~, at most 64)")]
    BadName(String),
    #[error("the value of \"{0}\" is not a valid header value (visible ASCII and spaces, at most 1024)")]
    BadValue(String),
    #[error("\"{0}\" is set by HTTP or by the signature scheme and cannot be overridden")]
    Reserved(String),
    #[error("\"{0}\" is given twice")]
    Duplicate(String),
}

const RESERVED: [&str; 12] = [
    "host",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    "user-agent",
    "cookie",
    "date",
    "accept-encoding",
];
const RESERVED_PREFIXES: [&str; 6] = ["content-", "proxy-", "webhook-", "stripe-", "paypal-", "x-herald-"];

/// Checks a webhook's custom headers; names are kept as given, compared without case.
pub fn check_headers(headers: &[(String, String)]) -> Result<(), HeaderRefusal> {
    if headers.len() > MAX_HEADERS {
        return Err(HeaderRefusal::TooMany);
    }
    let mut seen = std::collections::HashSet::new();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || name.len() > MAX_NAME_LEN || !name.bytes().all(token) {
            return Err(HeaderRefusal::BadName(name.clone()));
        }
        if RESERVED.contains(&lower.as_str()) || RESERVED_PREFIXES.iter().any(|p| lower.starts_with(p)) {
            return Err(HeaderRefusal::Reserved(name.clone()));
        }
        if value.len() > MAX_VALUE_LEN || !value.bytes().all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic()) {
            return Err(HeaderRefusal::BadValue(name.clone()));
        }
        if !seen.insert(lower) {
            return Err(HeaderRefusal::Duplicate(name.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, value: &str) -> Result<(), HeaderRefusal> {
        check_headers(&[(name.to_owned(), value.to_owned())])
    }

    #[test]
    fn ordinary_headers_pass_and_owned_ones_are_refused() {
        assert_eq!(one("X-Api-Key", "abc 123"), Ok(()));
        assert_eq!(one("Authorization", "Bearer t"), Ok(()), "merchants authenticate Herald this way");
        for owned in
            ["Host", "connection", "Transfer-Encoding", "Content-Length", "Content-Type", "Proxy-Authorization"]
        {
            assert_eq!(one(owned, "x"), Err(HeaderRefusal::Reserved(owned.into())), "{owned}");
        }
        for spoof in ["webhook-signature", "Webhook-Id", "Stripe-Signature", "PAYPAL-TRANSMISSION-SIG", "X-Herald-X"] {
            assert_eq!(one(spoof, "x"), Err(HeaderRefusal::Reserved(spoof.into())), "{spoof}");
        }
    }

    #[test]
    fn malformed_names_values_and_lists_are_refused() {
        assert!(matches!(one("Bad Name", "x"), Err(HeaderRefusal::BadName(_))));
        assert!(matches!(one("", "x"), Err(HeaderRefusal::BadName(_))));
        assert!(matches!(one("X-Split", "a\r\nHost: evil"), Err(HeaderRefusal::BadValue(_))));
        assert!(matches!(one("X-Long", &"v".repeat(1025)), Err(HeaderRefusal::BadValue(_))));
        let twice = [("X-A".to_owned(), "1".to_owned()), ("x-a".to_owned(), "2".to_owned())];
        assert_eq!(check_headers(&twice), Err(HeaderRefusal::Duplicate("x-a".into())));
        let many: Vec<_> = (0..21).map(|n| (format!("X-{n}"), "v".to_owned())).collect();
        assert_eq!(check_headers(&many), Err(HeaderRefusal::TooMany));
    }

    #[test]
    fn fifo_means_one_at_a_time() {
        let fifo = DeliveryPolicy { ordering: DeliveryOrder::Fifo, max_in_flight: Some(8), ..Default::default() };
        assert_eq!(fifo.concurrency(), Some(1));
        assert!(fifo.paces());
        assert!(!DeliveryPolicy::default().paces());
        let json = serde_json::to_string(&fifo).unwrap();
        assert_eq!(serde_json::from_str::<DeliveryPolicy>(&json).unwrap(), fifo);
        assert_eq!(serde_json::from_str::<DeliveryPolicy>("{}").unwrap(), DeliveryPolicy::default());
    }
}
