//! What one try records, and what it counts as: pure functions over the HTTP exchange.
//!
//! The sender hands over what it saw (status, headers, the first bytes of the body, or why there was no
//! response); this module turns that into the attempt-log entry and into the outcome that `retry` decides
//! on. Keeping it pure makes "a receiver that answers garbage costs one failed attempt" testable without
//! a network.

use std::time::Duration;

use crate::domain::model::{Attempt, AttemptError, AttemptResponse, Trigger};
use crate::domain::{AttemptId, DeliveryId, Timestamp};
use crate::retry::AttemptOutcome;

/// Response headers beyond this many are not kept.
const MAX_KEPT_HEADERS: usize = 64;
/// The response header with which a receiver stops the retries of one delivery (`abort`).
pub const ABORT_HEADER: &str = "webhook-delivery";
/// A longer header value is cut to this many bytes.
const MAX_HEADER_VALUE: usize = 1024;

/// Why there was no usable response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportFailure {
    /// The whole attempt took longer than the delivery timeout.
    Timeout,
    /// No connection could be made (refused, unreachable, DNS, TLS).
    Connect(String),
    /// The connection broke or the response was not valid HTTP.
    Broken(String),
    /// The destination policy refused the address; nothing was sent.
    Refused(String),
    /// A broker answered but did not take the message (no such exchange, stream or route; a nack).
    Rejected(String),
    /// The TLS handshake failed: the receiver's certificate was not trusted, or it refused Herald's.
    Tls(String),
    /// No OAuth2 token could be obtained from the receiver's token URL; nothing was sent.
    Auth(String),
}

impl TransportFailure {
    fn to_error(&self) -> AttemptError {
        let (code, message) = match self {
            Self::Timeout => ("timeout", "the endpoint did not answer within the delivery timeout".to_owned()),
            Self::Connect(detail) => ("connection_failed", format!("could not connect: {detail}")),
            Self::Broken(detail) => ("connection_broken", format!("the exchange broke off: {detail}")),
            Self::Refused(detail) => ("destination_refused", format!("not sent: {detail}")),
            Self::Rejected(detail) => ("broker_rejected", format!("not taken: {detail}")),
            Self::Tls(detail) => ("tls_failed", format!("the TLS handshake failed: {detail}")),
            Self::Auth(detail) => ("oauth2_token_failed", format!("no OAuth2 token: {detail}")),
        };
        AttemptError { code: code.to_owned(), message }
    }
}

/// What the receiver sent back, already limited in size by the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub truncated: bool,
}

/// How a destination took a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// An HTTP receiver's answer, whatever its status.
    Http(ReceivedResponse),
    /// A broker confirmed that it stored the message; the text says where.
    Confirmed(String),
}

/// Everything the sender observed about one try.
pub struct Exchange {
    pub delivery_id: DeliveryId,
    /// The Herald process making the attempt.
    pub node: String,
    pub number: u32,
    pub trigger: Trigger,
    pub started_at: Timestamp,
    pub duration: Duration,
    pub request_url: String,
    pub request_headers: Vec<(String, String)>,
    pub result: Result<Reply, TransportFailure>,
}

impl Exchange {
    /// The HTTP status the receiver answered, if it was an HTTP receiver and it answered.
    pub fn status(&self) -> Option<u16> {
        match &self.result {
            Ok(Reply::Http(response)) => Some(response.status),
            _ => None,
        }
    }
}

/// Turns an exchange into its attempt-log entry and the outcome the retry policy sees.
pub fn record(exchange: Exchange) -> (Attempt, AttemptOutcome) {
    let (response, error, outcome) = match exchange.result {
        Ok(Reply::Confirmed(_)) => (None, None, AttemptOutcome::Delivered),
        Ok(Reply::Http(received)) => {
            let outcome = outcome_of(received.status, &received.headers);
            let error = match outcome {
                AttemptOutcome::Aborted => Some(AttemptError {
                    code: "aborted_by_receiver".to_owned(),
                    message: format!(
                        "the endpoint answered {} with {ABORT_HEADER}: abort; no more retries",
                        received.status
                    ),
                }),
                _ => status_error(received.status),
            };
            let response = AttemptResponse {
                status: received.status,
                headers: sanitize_headers(received.headers),
                body: received.body,
                truncated: received.truncated,
            };
            (Some(response), error, outcome)
        }
        Err(failure) => (None, Some(failure.to_error()), AttemptOutcome::Failed { retry_after: None }),
    };
    let attempt = Attempt {
        id: AttemptId::generate(),
        delivery_id: exchange.delivery_id,
        number: exchange.number,
        started_at: exchange.started_at,
        duration_ms: exchange.duration.as_millis() as u64,
        trigger: exchange.trigger,
        request_url: exchange.request_url,
        request_headers: exchange.request_headers,
        response,
        error,
        node: Some(exchange.node),
    };
    (attempt, outcome)
}

/// 2xx delivers; 410 is Gone; a failure with `webhook-delivery: abort` ends the delivery; everything else
/// fails, with `Retry-After` read on 429 and 503.
pub fn outcome_of(status: u16, headers: &[(String, String)]) -> AttemptOutcome {
    match status {
        200..=299 => AttemptOutcome::Delivered,
        410 => AttemptOutcome::Gone,
        _ if asks_to_abort(headers) => AttemptOutcome::Aborted,
        429 | 503 => AttemptOutcome::Failed { retry_after: retry_after(headers) },
        _ => AttemptOutcome::Failed { retry_after: None },
    }
}

fn asks_to_abort(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .any(|(name, value)| name.eq_ignore_ascii_case(ABORT_HEADER) && value.trim().eq_ignore_ascii_case("abort"))
}

/// `Retry-After` in delay-seconds form. The HTTP-date form is rare for webhooks and is ignored.
fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
    let (_, value) = headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn status_error(status: u16) -> Option<AttemptError> {
    let (code, message) = match status {
        200..=299 => return None,
        300..=399 => ("redirect_not_followed", format!("the endpoint answered {status}; redirects are not followed")),
        410 => ("gone", "the endpoint answered 410 Gone; the webhook was disabled".to_owned()),
        _ => ("unexpected_status", format!("the endpoint answered {status}, not 2xx")),
    };
    Some(AttemptError { code: code.to_owned(), message })
}

/// Keeps a bounded number of headers with bounded values, so a hostile receiver cannot bloat the log.
fn sanitize_headers(headers: Vec<(String, String)>) -> Vec<(String, String)> {
    headers
        .into_iter()
        .take(MAX_KEPT_HEADERS)
        .map(|(name, value)| (name, truncate_utf8(value, MAX_HEADER_VALUE)))
        .collect()
}

fn truncate_utf8(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(result: Result<Reply, TransportFailure>) -> Exchange {
        Exchange {
            delivery_id: DeliveryId::generate(),
            node: "node-a".into(),
            number: 2,
            trigger: Trigger::Scheduled,
            started_at: Timestamp::from_millis(5),
            duration: Duration::from_millis(42),
            request_url: "http://127.0.0.1:9/hook".into(),
            request_headers: vec![("webhook-id".into(), "evt_x".into())],
            result,
        }
    }

    fn answered(status: u16, headers: &[(&str, &str)]) -> Result<Reply, TransportFailure> {
        let headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        Ok(Reply::Http(ReceivedResponse { status, headers, body: b"ok".to_vec(), truncated: false }))
    }

    #[test]
    fn outcomes_by_status() {
        let none = AttemptOutcome::Failed { retry_after: None };
        let cases = [
            (200, vec![], AttemptOutcome::Delivered),
            (204, vec![], AttemptOutcome::Delivered),
            (301, vec![], none),
            (410, vec![], AttemptOutcome::Gone),
            (500, vec![("Retry-After", "30")], none),
            (429, vec![("retry-after", " 30 ")], AttemptOutcome::Failed { retry_after: Some(Duration::from_secs(30)) }),
            (503, vec![("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")], none),
        ];
        for (status, headers, expected) in cases {
            let headers: Vec<_> = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
            assert_eq!(outcome_of(status, &headers), expected, "{status}");
        }
    }

    #[test]
    fn a_response_is_recorded_with_its_status_and_error_code() {
        let (attempt, outcome) = record(exchange(answered(500, &[("x", "y")])));
        assert_eq!(outcome, AttemptOutcome::Failed { retry_after: None });
        assert_eq!(attempt.number, 2);
        assert_eq!(attempt.duration_ms, 42);
        let response = attempt.response.unwrap();
        assert_eq!((response.status, response.body.as_slice()), (500, b"ok".as_slice()));
        assert_eq!(attempt.error.unwrap().code, "unexpected_status");
        let (ok, _) = record(exchange(answered(200, &[])));
        assert!(ok.error.is_none());
    }

    #[test]
    fn transport_failures_are_failed_attempts_with_a_code() {
        for (failure, code) in [
            (TransportFailure::Timeout, "timeout"),
            (TransportFailure::Connect("refused".into()), "connection_failed"),
            (TransportFailure::Broken("reset".into()), "connection_broken"),
        ] {
            let (attempt, outcome) = record(exchange(Err(failure)));
            assert!(attempt.response.is_none());
            assert_eq!(attempt.error.unwrap().code, code);
            assert_eq!(outcome, AttemptOutcome::Failed { retry_after: None });
        }
    }

    #[test]
    fn hostile_headers_are_bounded() {
        let many: Vec<(String, String)> = (0..500).map(|i| (format!("h{i}"), "é".repeat(2000))).collect();
        let kept = sanitize_headers(many);
        assert_eq!(kept.len(), MAX_KEPT_HEADERS);
        assert!(kept.iter().all(|(_, v)| v.len() <= MAX_HEADER_VALUE && v.chars().all(|c| c == 'é')));
    }
}
