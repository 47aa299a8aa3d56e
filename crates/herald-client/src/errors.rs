//! One error for every call: Herald's refusal with the fields of its error body, or why no answer came.

use std::fmt;
use std::time::Duration;

use crate::types;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum HeraldError {
    /// Herald answered with an error status.
    #[error("{0}")]
    Refused(Refusal),
    /// No answer: the connection could not be made or broke.
    #[error("cannot reach Herald")]
    Unreachable(#[source] reqwest::Error),
    /// An answer this version of the client cannot read.
    #[error("Herald's answer was not what this client expects: {0}")]
    Unexpected(String),
    /// The client could not be built or the request could not be formed.
    #[error("{0}")]
    Setup(String),
}

/// Herald's error answer: the status and its error body (`name`, `message`, `debug_id`, `details`).
#[derive(Clone, Debug)]
pub struct Refusal {
    pub status: u16,
    /// A machine-readable name, such as `RESOURCE_NOT_FOUND`; empty when the body was not Herald's.
    pub name: String,
    pub message: String,
    /// The request's id, which Herald's log line of the failure carries too.
    pub debug_id: String,
    /// Each problem with a part of the request: the field and what is wrong with it.
    pub details: Vec<(String, String)>,
    /// What `Retry-After` asked for, on a 429 or 503.
    pub retry_after: Option<Duration>,
}

impl Refusal {
    /// The details as ` (field: issue; field: issue)`, or nothing when there are none.
    pub fn details_line(&self) -> String {
        if self.details.is_empty() {
            return String::new();
        }
        let details: Vec<String> = self.details.iter().map(|(field, issue)| format!("{field}: {issue}")).collect();
        format!(" ({})", details.join("; "))
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}{}", self.status, self.name, self.message, self.details_line())
    }
}

impl HeraldError {
    /// The refusal's status, if Herald answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused(refusal) => Some(refusal.status),
            _ => None,
        }
    }

    /// The refusal's machine-readable name, if Herald answered with one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Refused(refusal) if !refusal.name.is_empty() => Some(&refusal.name),
            _ => None,
        }
    }
}

impl From<progenitor_client::Error<types::ErrorBody>> for HeraldError {
    fn from(error: progenitor_client::Error<types::ErrorBody>) -> Self {
        use progenitor_client::Error;
        match error {
            Error::ErrorResponse(response) => {
                let (status, retry_after) = (response.status().as_u16(), retry_after(response.headers()));
                let body = response.into_inner();
                let details =
                    body.details.into_iter().map(|d| (d.field.unwrap_or(d.location), d.description)).collect();
                Self::Refused(Refusal {
                    status,
                    name: body.name,
                    message: body.message,
                    debug_id: body.debug_id,
                    details,
                    retry_after,
                })
            }
            Error::UnexpectedResponse(response) => Self::Refused(Refusal {
                status: response.status().as_u16(),
                name: String::new(),
                message: response.status().canonical_reason().unwrap_or("unexpected answer").to_owned(),
                debug_id: String::new(),
                details: Vec::new(),
                retry_after: retry_after(response.headers()),
            }),
            Error::CommunicationError(error) | Error::ResponseBodyError(error) => Self::Unreachable(error),
            Error::InvalidUpgrade(error) => Self::Unexpected(error.to_string()),
            Error::InvalidResponsePayload(_, error) => Self::Unexpected(error.to_string()),
            Error::InvalidRequest(message) | Error::Custom(message) => Self::Setup(message),
        }
    }
}

/// `Retry-After` in seconds (the form Herald sends).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}
