//! The OpenAPI 3.1 document served at `GET /v1/openapi.json`.
//!
//! It is generated from the code: every route is registered through `utoipa_axum::routes!` from the
//! handler's own `#[utoipa::path]` attribute, so a path cannot be served without being documented, and
//! bodies are described by the same types that (de)serialise them.

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{RefOr, Server};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use super::error::ErrorBody;
use crate::domain::{
    AccountId, ApiKeyId, AttemptId, DeliveryId, EventId, EventTypeName, ListenerId, RequestId, Timestamp, WebhookId,
    WebhookUrl,
};

fn string_schema(description: &str, format: Option<SchemaFormat>) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).format(format).description(Some(description)).into()
}

macro_rules! string_schemas {
    ($($type:ty => $description:literal),* $(,)?) => {$(
        impl PartialSchema for $type {
            fn schema() -> RefOr<Schema> {
                string_schema($description, None)
            }
        }
        impl ToSchema for $type {}
    )*};
}

string_schemas!(
    AccountId => "A merchant account id, `acct_` followed by 26 characters",
    WebhookId => "A webhook id, `wh_` followed by 26 characters",
    EventId => "An event id, `evt_` followed by 26 characters; also the `webhook-id` header of its deliveries",
    DeliveryId => "A delivery id, `dlv_` followed by 26 characters",
    AttemptId => "An attempt id, `att_` followed by 26 characters",
    ListenerId => "A listener id, `lsn_` followed by 26 characters",
    ApiKeyId => "An API key id, `key_` followed by 26 characters",
    RequestId => "A request id, `req_` followed by 26 characters: the `Request-Id` header of the answer",
    EventTypeName => "An event type, such as `charge.dispute.closed` or `PAYMENT.CAPTURE.COMPLETED`",
    WebhookUrl => "An absolute http(s) URL",
);

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        string_schema("RFC 3339 UTC time", Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
    }
}
impl ToSchema for Timestamp {}

/// The error answers any operation may give, all in PayPal's error shape.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    /// Malformed JSON, a wrong type, an unknown field or a bad query parameter.
    #[response(status = 400)]
    InvalidRequest(ErrorBody),
    /// Missing, wrong, expired or revoked credentials.
    #[response(status = 401)]
    AuthenticationFailure(ErrorBody),
    /// No such object for this caller (another account's objects are not found either).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// A conflict: the URL already has a webhook, or an idempotency key was reused with another request.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The body did not arrive within the server's body timeout.
    #[response(status = 408)]
    RequestTimeout(ErrorBody),
    /// The body is larger than the configured limit.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// The body is not JSON.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// Well-formed but not acceptable: see `details`.
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    /// Too many failed authentications from this client id or address: wait `Retry-After` seconds.
    #[response(status = 429)]
    TooManyFailures(ErrorBody),
    #[response(status = 500)]
    Internal(ErrorBody),
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            let mut http = Http::new(HttpAuthScheme::Bearer);
            http.description = Some(description.to_owned());
            SecurityScheme::Http(http)
        };
        components.add_security_scheme("admin_token", bearer("The operator's admin token (HERALD_ADMIN_TOKEN)"));
        let mut basic = Http::new(HttpAuthScheme::Basic);
        basic.description = Some("A merchant's client id and client secret".to_owned());
        components.add_security_scheme("client_credentials", SecurityScheme::Http(basic));
        components.add_security_scheme("access_token", bearer("A merchant access token from POST /v1/oauth2/token"));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Herald",
        description = "Webhook delivery: publish events once; Herald stores, fans out, signs, delivers, retries \
                       and logs every attempt. Operator calls use the admin token; merchant calls use Basic \
                       client credentials or an OAuth access token. Errors follow PayPal's error shape."
    ),
    modifiers(&Security),
    components(schemas(ErrorBody, super::error::ErrorDetail)),
    tags(
        (name = "operator", description = "Accounts, the event-type catalog and publishing"),
        (name = "oauth", description = "Merchant access tokens"),
        (name = "webhooks", description = "A merchant's webhooks, their secrets and deliveries"),
        (name = "events", description = "A merchant's event notifications"),
        (name = "api_keys", description = "A merchant's API keys: several per mode (live, test), each full or read-only"),
        (name = "request_logs", description = "The merchant API requests made with an environment's keys"),
        (name = "health", description = "Liveness and readiness"),
        (name = "listeners", description = "Temporary delivery channels for `herald listen`"),
        (name = "streams", description = "Server-sent event streams (not fuzzed: they do not end)"),
    )
)]
pub struct ApiDoc;

/// The document with the server it is served from. A free-form object (a resource, a sample, a schema)
/// says that it takes any member, so that generated clients type it as a map rather than an empty object.
pub fn document(api: utoipa::openapi::OpenApi, public_url: &str) -> serde_json::Value {
    let mut api = api;
    api.servers = Some(vec![Server::new(public_url)]);
    let mut document = serde_json::to_value(api).expect("the document serialises");
    open_free_form_objects(&mut document);
    describe_every_response(&mut document);
    document
}

/// A response a handler gave no description gets its status's reason phrase (OpenAPI requires one).
fn describe_every_response(document: &mut serde_json::Value) {
    let Some(paths) = document.get_mut("paths").and_then(|p| p.as_object_mut()) else { return };
    for operation in paths.values_mut().filter_map(|p| p.as_object_mut()).flat_map(|p| p.values_mut()) {
        let Some(responses) = operation.get_mut("responses").and_then(|r| r.as_object_mut()) else { continue };
        for (status, response) in responses.iter_mut() {
            let Some(response) = response.as_object_mut() else { continue };
            if response.get("description").and_then(|d| d.as_str()).is_none_or(str::is_empty) {
                let reason = status.parse().ok().and_then(|code| http::StatusCode::from_u16(code).ok());
                let reason = reason.and_then(|code| code.canonical_reason()).unwrap_or("Response");
                response.insert("description".into(), reason.into());
            }
        }
    }
}

fn open_free_form_objects(node: &mut serde_json::Value) {
    match node {
        serde_json::Value::Object(members) => {
            let is_object = match members.get("type") {
                Some(serde_json::Value::String(kind)) => kind == "object",
                Some(serde_json::Value::Array(kinds)) => kinds.iter().any(|k| k == "object"),
                _ => false,
            };
            let shaped = ["properties", "additionalProperties", "$ref", "allOf", "oneOf", "anyOf"]
                .iter()
                .any(|key| members.contains_key(*key));
            if is_object && !shaped {
                members.insert("additionalProperties".into(), serde_json::Value::Bool(true));
            }
            members.values_mut().for_each(open_free_form_objects);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(open_free_form_objects),
        _ => {}
    }
}
