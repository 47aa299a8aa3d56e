//! The one place where errors become HTTP answers, in PayPal's error shape:
//! `{"name", "message", "debug_id", "details": [{field, value, location, issue, description}], "links": []}`.
//!
//! Internal failures are logged here once, with their cause chain and the `debug_id` the caller sees; the
//! caller never sees the cause itself.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error_chain::error_chain;
use crate::paypal_identity::IdentityError;
use crate::publish::PublishError;
use crate::service::{Field, Refusal, ServiceError, Severity};
use crate::store::StoreError;

/// One problem with one part of a request.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub location: &'static str,
    pub issue: String,
    pub description: String,
}

impl ErrorDetail {
    /// A problem with a field of the JSON body, named by its JSON pointer (`/events/3/event_type`).
    pub fn body(pointer: impl Into<String>, issue: &str, description: impl Into<String>) -> Self {
        Self {
            field: Some(pointer.into()),
            value: None,
            location: "body",
            issue: issue.to_owned(),
            description: description.into(),
        }
    }

    /// A condition of the server rather than of the request (what ran out, what is full).
    pub fn server(issue: &str, description: impl Into<String>) -> Self {
        Self { field: None, value: None, location: "server", issue: issue.to_owned(), description: description.into() }
    }

    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        let value: String = value.into();
        self.value = Some(value.chars().take(200).collect());
        self
    }
}

/// An error answer. Build one with the constructors; `From` impls map library errors.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    name: &'static str,
    message: String,
    details: Vec<ErrorDetail>,
    /// Kept for the log only.
    cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// Seconds to wait before trying again (`Retry-After`), when the answer is a 429.
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        Self { status, name, message: message.into(), details: Vec::new(), cause: None, retry_after: None }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// What was wrong, field by field (the dashboard shows each next to its field).
    pub fn details(&self) -> &[ErrorDetail] {
        &self.details
    }

    pub fn with_detail(mut self, detail: ErrorDetail) -> Self {
        self.details.push(detail);
        self
    }

    /// Replaces the generic details with a more precise one.
    pub fn with_only_detail(mut self, detail: ErrorDetail) -> Self {
        self.details = vec![detail];
        self
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }

    /// A well-formed request whose values are not acceptable (422).
    pub fn validation(detail: ErrorDetail) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", "the request is not valid; see details")
            .with_detail(detail)
    }

    pub fn unprocessable(name: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, name, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(StatusCode::UNAUTHORIZED, "AUTHENTICATION_FAILURE", message.clone()).with_detail(ErrorDetail {
            field: Some("Authorization".into()),
            value: None,
            location: "header",
            issue: "INVALID_CREDENTIALS".into(),
            description: message,
        })
    }

    /// The caller's key may not do this: a read-only key writing, a test key reaching for live keys.
    pub fn not_authorized(why: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "NOT_AUTHORIZED", "the API key is not allowed to do this".to_owned())
            .with_detail(ErrorDetail {
                field: Some("Authorization".into()),
                value: None,
                location: "header",
                issue: "PERMISSION_DENIED".into(),
                description: why.into(),
            })
    }

    pub fn not_found(what: &str) -> Self {
        let message = format!("the {what} does not exist");
        Self::new(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", message.clone()).with_detail(ErrorDetail {
            field: None,
            value: None,
            location: "path",
            issue: "INVALID_RESOURCE_ID".into(),
            description: format!("{message}, or it belongs to another account"),
        })
    }

    pub fn conflict(name: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, name, message)
    }

    pub fn method_not_allowed() -> Self {
        let message = "this method is not supported on this path";
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_SUPPORTED", message).with_detail(ErrorDetail {
            field: None,
            value: None,
            location: "method",
            issue: "METHOD_NOT_SUPPORTED".into(),
            description: "see GET /v1/openapi.json for the methods of each path".into(),
        })
    }

    pub fn unsupported_media_type() -> Self {
        let message = "send the body as application/json";
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", message).with_detail(ErrorDetail {
            field: Some("Content-Type".into()),
            value: None,
            location: "header",
            issue: "UNSUPPORTED_MEDIA_TYPE".into(),
            description: message.into(),
        })
    }

    pub fn too_large(limit: usize) -> Self {
        let message = format!("the body is larger than {limit} bytes");
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", message.clone()).with_detail(ErrorDetail::body(
            "",
            "PAYLOAD_TOO_LARGE",
            message,
        ))
    }

    /// Too many failed authentications from this caller: 429 with the wait (at least a second).
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        let message = format!("too many failed authentications; try again in {seconds} s");
        let mut answer =
            Self::new(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMIT_REACHED", message.clone()).with_detail(ErrorDetail {
                field: Some("Authorization".into()),
                value: None,
                location: "header",
                issue: "TOO_MANY_FAILED_AUTHENTICATIONS".into(),
                description: message,
            });
        answer.retry_after = Some(seconds);
        answer
    }

    /// How long a 429 asks its caller to wait.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// The body did not arrive in full within the server's body timeout (the connection is closed after).
    pub fn body_timeout() -> Self {
        let message = "the request body did not arrive in time";
        Self::new(StatusCode::REQUEST_TIMEOUT, "REQUEST_TIMEOUT", message).with_detail(ErrorDetail::body(
            "",
            "REQUEST_TIMEOUT",
            "send the whole body without pausing; HERALD_BODY_TIMEOUT bounds how long it may take",
        ))
    }

    /// The process is over its memory budget (`HERALD_MEMORY_LIMIT`): new events wait.
    pub fn over_memory(over: crate::memory_budget::OverBudget) -> Self {
        let description = over.to_string();
        let message = format!("not accepting new events now: {description}");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", message)
            .with_detail(ErrorDetail::server("OUT_OF_MEMORY", description))
    }

    /// This node streams as many listeners as it may (`HERALD_MAX_STREAMS`).
    pub fn too_many_streams() -> Self {
        let message = "this node streams as many listeners as it may; retry later or on another node";
        let detail = ErrorDetail::server("TOO_MANY_STREAMS", message);
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", message).with_detail(detail)
    }

    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        let mut error =
            Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", "an internal error occurred");
        error.cause = Some(Box::new(cause));
        error
    }

    pub fn unavailable(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "the service is unavailable; retry later",
        );
        error.cause = Some(Box::new(cause));
        error
    }

    /// Why this node cannot take new work now (`GET /readyz`): 503, whatever the store's failure, with
    /// the resource or condition named in the detail.
    pub fn not_ready(error: StoreError) -> Self {
        let issue = match &error {
            StoreError::Exhausted { resource, .. } => resource.code(),
            StoreError::Closed => "SHUTTING_DOWN",
            _ => "DATABASE_UNAVAILABLE",
        };
        let description = error_chain(&error);
        let message = format!("not ready: {description}");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", message)
            .with_detail(ErrorDetail::server(issue, description))
    }
}

/// A field as a JSON body spells it: `/url`, `/event_types/2/name`; the body as a whole is ``.
pub fn body_pointer(field: &Field) -> String {
    match field.name {
        "" => String::new(),
        name => format!("/{name}{}", field.within),
    }
}

impl ApiError {
    /// An operation's refusal, its field named by `pointer` (how this request's shape spells the field).
    pub fn refused(refusal: Refusal, pointer: impl Fn(&Field) -> String) -> Self {
        let status = match refusal.severity {
            Severity::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Severity::Conflict => StatusCode::CONFLICT,
            Severity::Missing => StatusCode::NOT_FOUND,
        };
        let answer = Self::new(status, refusal.name(), refusal.message());
        let mut detail = ErrorDetail::body(pointer(&refusal.field), refusal.code, refusal.description);
        if let Some(value) = refusal.value {
            detail = detail.with_value(value);
        }
        answer.with_detail(detail)
    }

    /// An operation's failure, with refused fields named by `pointer`.
    pub fn from_service(error: ServiceError, pointer: impl Fn(&Field) -> String) -> Self {
        match error {
            ServiceError::Refused(refusal) => Self::refused(refusal, pointer),
            ServiceError::NotFound(what) => Self::not_found(what),
            ServiceError::NotAuthorized(why) => Self::not_authorized(why),
            ServiceError::Publish(error) => error.into(),
            ServiceError::Identity(error) => error.into(),
            ServiceError::Internal(error) => Self::internal(error),
            ServiceError::Store(error) => error.into(),
        }
    }
}

/// An operation's failure for a request whose body has the operation's fields at the top.
impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        Self::from_service(error, body_pointer)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            // Refusals of a webhook: the operations' own words for them.
            StoreError::WebhookLimitReached { .. } | StoreError::WebhookUrlTaken => ServiceError::from(error).into(),
            StoreError::IdempotencyKeyReused => {
                Self::conflict("RESOURCE_CONFLICT", error.to_string()).with_detail(ErrorDetail {
                    field: Some("Idempotency-Key".into()),
                    value: None,
                    location: "header",
                    issue: "IDEMPOTENCY_KEY_REUSED".into(),
                    description: "use a new key for a different request".into(),
                })
            }
            StoreError::Exhausted { resource, .. } => {
                let description = error.to_string();
                Self::unavailable(error).with_detail(ErrorDetail::server(resource.code(), description))
            }
            StoreError::Closed | StoreError::Unavailable(_) => Self::unavailable(error),
            StoreError::Corrupt(_) | StoreError::Backend(_) => Self::internal(error),
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::Store(store) => store.into(),
            IdentityError::Sealed(_) | IdentityError::Corrupt(_) | IdentityError::Generate(_) => Self::internal(error),
        }
    }
}

impl From<PublishError> for ApiError {
    fn from(error: PublishError) -> Self {
        match error {
            PublishError::UnknownEventType { index, ref name } => {
                Self::unprocessable("UNKNOWN_EVENT_TYPE", error.to_string()).with_detail(
                    ErrorDetail::body(
                        event_pointer(index, "event_type"),
                        "UNKNOWN_EVENT_TYPE",
                        "add it to the catalog first",
                    )
                    .with_value(name.clone()),
                )
            }
            PublishError::UnknownAccount { index, ref id } => Self::validation(
                ErrorDetail::body(event_pointer(index, "account_id"), "UNKNOWN_ACCOUNT", error.to_string())
                    .with_value(id.clone()),
            ),
            PublishError::EventNotFound => Self::not_found("event"),
            PublishError::WebhookNotFound(ref id) => Self::not_found("webhook").with_only_detail(
                ErrorDetail::body("/webhook_ids", "WEBHOOK_NOT_FOUND", error.to_string()).with_value(id.clone()),
            ),
            PublishError::NoSample(_) => Self::unprocessable("UNPROCESSABLE_ENTITY", error.to_string()).with_detail(
                ErrorDetail::body("/event_type", "NO_SAMPLE", "the operator has not given this type a sample"),
            ),
            PublishError::SchemaViolation { index, ref violations } => {
                let mut answer = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", error.to_string());
                for violation in violations {
                    let pointer = format!("{}{}", event_pointer(index, "resource"), violation.pointer);
                    answer =
                        answer.with_detail(ErrorDetail::body(pointer, "SCHEMA_VIOLATION", violation.message.clone()));
                }
                answer
            }
            PublishError::Target(_)
            | PublishError::PaypalIdentity(_)
            | PublishError::BrokenSchema(_)
            | PublishError::Internal(_) => Self::internal(error),
            PublishError::Store(store) => store.into(),
        }
    }
}

/// A field of a published event: `/field` for a single event, `/events/N/field` in a batch.
pub fn event_pointer(index: Option<usize>, field: &str) -> String {
    match index {
        Some(index) => format!("/events/{index}/{field}"),
        None => format!("/{field}"),
    }
}

/// The error shape every failing call answers with (PayPal's).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A machine-readable name, such as `RESOURCE_NOT_FOUND` or `VALIDATION_ERROR`.
    name: &'static str,
    message: String,
    /// Quote this when reporting a problem; the server log has the same id.
    debug_id: String,
    details: Vec<ErrorDetail>,
    #[schema(value_type = Vec<Object>)]
    links: [(); 0],
}

impl ApiError {
    /// The request's id (a fresh one outside a request), with the internal cause (if any) logged under
    /// it once.
    pub fn log_cause(&self) -> String {
        let debug_id =
            super::request_id::current().map_or_else(|| crate::keyring::random_token(8), |id| id.to_string());
        if let Some(cause) = &self.cause {
            tracing::error!(debug_id, error = %error_chain(cause.as_ref()), status = self.status.as_u16(), "request failed");
        }
        debug_id
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let debug_id = self.log_cause();
        let body = ErrorBody { name: self.name, message: self.message, debug_id, details: self.details, links: [] };
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Herald\""));
        }
        // What cannot be accepted now (the database is away or cannot serve) can be sent again shortly.
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
