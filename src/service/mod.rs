//! The operations merchants and the operator perform, as typed functions with typed inputs, answers and
//! errors: create, change and delete a webhook, show and roll its secret, resend an event, send a test
//! event, open a delivery, create an account and roll its credentials.
//!
//! The API's handlers and the dashboard's pages are two faces of these: each turns what arrived (JSON, a
//! posted form) into the input, calls the operation, and shapes the answer its own way. So both accept
//! and refuse exactly the same things, with the same codes: a [`Refusal`] names the field it is about,
//! and each face puts it where its caller looks (a JSON pointer in the API's error; the form field on a
//! page). `service` may use `domain`, `store`, `publish`, `keyring`, `paypal_identity`, `deliver::format`,
//! `internal_error` and `herald-signature`.

pub mod accounts;
pub mod api_keys;
pub mod deliveries;
pub mod events;
pub mod webhooks;

use std::sync::Arc;

use crate::internal_error::InternalError;
use crate::keyring::Keyring;
use crate::paypal_identity::{IdentityError, PaypalIdentities};
use crate::publish::{PublishError, Publisher};
use crate::store::{Store, StoreError};

/// What the operations work with; one per process, shared by the API and the dashboard.
pub struct Services {
    pub store: Arc<dyn Store>,
    pub keyring: Arc<Keyring>,
    /// The installation's PayPal signing key and certificate, made on first need.
    pub paypal: Arc<PaypalIdentities>,
    pub publisher: Arc<Publisher>,
    pub rules: WebhookRules,
}

/// What the installation allows of merchants' webhooks.
#[derive(Clone, Copy, Debug)]
pub struct WebhookRules {
    pub webhooks_per_account: u32,
    /// Webhook URLs must be https://.
    pub https_only: bool,
}

/// Which part of an input a refusal is about: a field by its name, and where inside its value (a JSON
/// pointer relative to the value: `/2/name` for the third event type), or the input as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub within: String,
}

impl Field {
    pub fn named(name: &'static str) -> Self {
        Self { name, within: String::new() }
    }

    pub fn item(name: &'static str, index: usize, within: &str) -> Self {
        Self { name, within: format!("/{index}{within}") }
    }

    /// The input as a whole.
    pub fn whole() -> Self {
        Self::named("")
    }
}

/// How serious a refusal is, which is what the answer's status says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The request is well formed but a value is not acceptable (422).
    Invalid,
    /// The request conflicts with what exists (409).
    Conflict,
    /// The request names something that does not exist (404).
    Missing,
}

/// Why an operation refused its input: the field it is about, with a machine-readable code and a
/// description for the person who typed it, and how serious it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub severity: Severity,
    pub field: Field,
    /// What is wrong, for programs: `INVALID_URL`, `UNSUPPORTED_FORMAT`, …
    pub code: &'static str,
    /// What is wrong, for people.
    pub description: String,
    /// The value refused, as given (cut to 200 characters when shown).
    pub value: Option<String>,
    /// The answer's own name and message, when it has them; otherwise it is a `VALIDATION_ERROR`.
    named: Option<Box<(&'static str, String)>>,
}

impl Refusal {
    /// A value that is not acceptable.
    pub fn invalid(field: Field, code: &'static str, description: impl Into<String>) -> Self {
        Self { severity: Severity::Invalid, field, code, description: description.into(), value: None, named: None }
    }

    /// A refusal whose answer has a name (`UNKNOWN_EVENT_TYPE`, `WEBHOOK_URL_ALREADY_EXISTS`) and message of
    /// its own.
    pub fn named(mut self, name: &'static str, message: impl Into<String>) -> Self {
        self.named = Some(Box::new((name, message.into())));
        self
    }

    /// The answer's name: `VALIDATION_ERROR` unless the refusal has its own.
    pub fn name(&self) -> &'static str {
        self.named.as_ref().map_or("VALIDATION_ERROR", |named| named.0)
    }

    pub fn message(&self) -> &str {
        self.named.as_ref().map_or("the request is not valid; see details", |named| named.1.as_str())
    }

    pub fn conflict(mut self) -> Self {
        self.severity = Severity::Conflict;
        self
    }

    pub fn missing(mut self) -> Self {
        self.severity = Severity::Missing;
        self
    }

    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }
}

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{}: {}", .0.code, .0.description)]
    Refused(Refusal),
    /// No such object, or it belongs to another account.
    #[error("the {0} does not exist")]
    NotFound(&'static str),
    /// The caller's key may not do this (a read-only key writing, a test key reaching for live).
    #[error("{0}")]
    NotAuthorized(&'static str),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Internal(#[from] InternalError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<Refusal> for ServiceError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

/// The store's refusals of a webhook are refusals of the input like any other; the rest stays as it is.
impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::WebhookLimitReached { limit } => {
                let message = format!("the account already has the maximum of {limit} webhooks");
                let description = format!("{message}; delete one first");
                Refusal::invalid(Field::whole(), "WEBHOOK_NUMBER_LIMIT_EXCEEDED", description)
                    .named("WEBHOOK_NUMBER_LIMIT_EXCEEDED", message)
                    .into()
            }
            StoreError::WebhookUrlTaken => {
                let refusal = Refusal::invalid(
                    Field::named("url"),
                    "WEBHOOK_URL_ALREADY_EXISTS",
                    "update the existing webhook instead",
                );
                refusal.named("WEBHOOK_URL_ALREADY_EXISTS", StoreError::WebhookUrlTaken.to_string()).conflict().into()
            }
            other => Self::Store(other),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
