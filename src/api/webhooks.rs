//! Merchant: webhooks (`POST/GET /v1/notifications/webhooks`, `GET/PATCH/DELETE /v1/notifications/webhooks/{id}`,
//! the subscriptions, the secret and its roll). The operations are `service::webhooks`; this file holds the
//! wire shapes and turns a JSON Patch into the operation's input.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorDetail, body_pointer};
use super::extract::{JsonBody, Merchant, OptionalJsonBody, RequestBody};
use super::openapi::Errors;
use super::paging::Link;
use super::state::AppState;
use crate::domain::event_type::Subscription;
use crate::domain::model::Webhook;
use crate::domain::{Timestamp, WebhookId, WebhookUrl};
use crate::service::Field;
use crate::service::webhooks::{self as operations, OAuth2Input, Secrets, TlsInput, WebhookInput};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where deliveries go, by scheme: `https://…` (POSTed to), `amqp://user:pass@host:port/vhost?exchange=E&routing_key=K`
    /// (RabbitMQ), `nats://host:port?subject=S` (NATS JetStream) or `redis://host:port/db?stream=S` (Redis
    /// Streams). A password in the URL is sealed and shown back as `***`.
    url: String,
    event_types: Vec<EventTypeRef>,
    /// `standard` (default), `stripe` or `paypal`.
    format: Option<String>,
    /// `hmac-sha256` (the default for `standard` and `stripe`), `ed25519` (`standard` only) or `rsa-sha256`
    /// (`paypal`, its default and only choice).
    signing: Option<String>,
    /// The `api_version` of Stripe envelopes (format `stripe`); default 2018-02-06.
    api_version: Option<String>,
    description: Option<String>,
    /// Deliveries per second at most (1 to 10,000); unset: no limit.
    rate_limit: Option<u32>,
    /// Requests to this webhook at once, at most (1 to 1,000); unset: only Herald's overall limit.
    max_in_flight: Option<u32>,
    /// `none` (default) or `fifo`: one delivery at a time, in publish order.
    ordering: Option<String>,
    /// Request headers sent with every delivery (not `Host`, `Content-*`, hop-by-hop or signature headers).
    headers: Option<HashMap<String, String>>,
    /// A CEL expression over the event object (its fields are top-level names): only events it holds
    /// for are delivered, e.g. `resource.amount >= 10000 && resource.currency == "eur"`.
    filter: Option<String>,
    /// OAuth2 client credentials: Herald gets a token from `token_url` and sends it as a bearer.
    oauth2: Option<OAuth2Body>,
    /// A client certificate for receivers that require mutual TLS.
    tls: Option<TlsBody>,
}

impl RequestBody for CreateWebhook {}

/// The client-credentials grant. `client_secret` is never shown back; a PATCH without it keeps it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Body {
    token_url: String,
    client_id: String,
    client_secret: Option<String>,
    scope: Option<String>,
}

/// Mutual TLS (PEM). `client_key_pem` is never shown back; a PATCH without it keeps it. With
/// `ca_certificate_pem`, the receiver's certificate must chain to that CA (and to no other).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsBody {
    client_certificate_pem: String,
    client_key_pem: Option<String>,
    ca_certificate_pem: Option<String>,
}

impl From<OAuth2Body> for OAuth2Input {
    fn from(body: OAuth2Body) -> Self {
        Self {
            token_url: body.token_url,
            client_id: body.client_id,
            client_secret: body.client_secret,
            scope: body.scope,
        }
    }
}

impl From<TlsBody> for TlsInput {
    fn from(body: TlsBody) -> Self {
        Self {
            client_certificate_pem: body.client_certificate_pem,
            client_key_pem: body.client_key_pem,
            ca_certificate_pem: body.ca_certificate_pem,
        }
    }
}

/// A webhook's OAuth2 settings as shown: everything but the secret.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OAuth2View {
    token_url: String,
    client_id: String,
    scope: Option<String>,
}

/// A webhook's TLS settings as shown: the certificates, not the key.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TlsView {
    client_certificate_pem: String,
    ca_certificate_pem: Option<String>,
}

/// An event type to subscribe to, by name (`*` for every type).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTypeRef {
    pub(super) name: String,
}

/// An event type a webhook subscribes to, with the catalog's description.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SubscribedType {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    id: WebhookId,
    /// As given, with a broker password shown as `***`.
    url: WebhookUrl,
    /// The kind of destination the URL names: `http`, `amqp`, `nats` or `redis`.
    destination: &'static str,
    event_types: Vec<SubscribedType>,
    status: &'static str,
    format: &'static str,
    signing: &'static str,
    /// The `api_version` of Stripe envelopes (null: the default, 2018-02-06).
    api_version: Option<String>,
    description: Option<String>,
    /// Deliveries per second; null means no limit.
    rate_limit: Option<u32>,
    /// Concurrent requests to this webhook; null means only Herald's overall limit applies.
    max_in_flight: Option<u32>,
    ordering: &'static str,
    headers: HashMap<String, String>,
    /// The payload filter (CEL); null: every subscribed event.
    filter: Option<String>,
    /// OAuth2 client credentials (without the secret); null: none.
    oauth2: Option<OAuth2View>,
    /// Mutual TLS (without the key); null: none.
    tls: Option<TlsView>,
    disabled_reason: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    links: Vec<Link>,
    /// Only in the answer to the create call (and to a PATCH that changes the signing algorithm).
    #[serde(flatten)]
    verification: VerificationKey,
}

/// What a merchant verifies deliveries with; one of the three, by signing algorithm.
#[derive(Serialize, Default, utoipa::ToSchema)]
pub struct VerificationKey {
    /// `hmac-sha256`: the shared `whsec_` secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// `ed25519`: the `whpk_` public key.
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key: Option<String>,
    /// `rsa-sha256`: where the installation's certificate is served (also sent as `PAYPAL-CERT-URL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    cert_url: Option<String>,
}

fn view(webhook: Webhook, descriptions: &HashMap<String, String>, public_url: &str) -> WebhookView {
    let href = format!("{public_url}/v1/notifications/webhooks/{}", webhook.id);
    let event_types = webhook
        .event_types
        .iter()
        .map(|sub| SubscribedType {
            name: sub.as_str().to_owned(),
            description: match sub {
                Subscription::All => Some("All events".to_owned()),
                Subscription::One(name) => descriptions.get(name.as_str()).cloned(),
            },
        })
        .collect();
    WebhookView {
        id: webhook.id,
        destination: webhook.url.kind().as_str(),
        url: webhook.url,
        event_types,
        status: webhook.status.as_str(),
        format: webhook.format.as_str(),
        signing: webhook.signing.as_str(),
        api_version: webhook.api_version,
        description: webhook.description,
        rate_limit: webhook.policy.rate_limit,
        max_in_flight: webhook.policy.max_in_flight,
        ordering: webhook.policy.ordering.as_str(),
        filter: webhook.policy.filter,
        oauth2: webhook.policy.oauth2.map(|client| OAuth2View {
            token_url: client.token_url,
            client_id: client.client_id,
            scope: client.scope,
        }),
        tls: webhook.policy.tls.map(|tls| TlsView {
            client_certificate_pem: tls.client_certificate_pem,
            ca_certificate_pem: tls.ca_certificate_pem,
        }),
        headers: webhook.policy.headers.into_iter().collect(),
        disabled_reason: webhook.disabled_reason,
        created_at: webhook.created_at,
        updated_at: webhook.updated_at,
        links: vec![
            Link { href: href.clone(), rel: "self", method: "GET" },
            Link { href: href.clone(), rel: "update", method: "PATCH" },
            Link { href, rel: "delete", method: "DELETE" },
        ],
        verification: VerificationKey::default(),
    }
}

impl From<operations::VerificationKey> for VerificationKey {
    fn from(key: operations::VerificationKey) -> Self {
        use operations::VerificationKey::*;
        match key {
            Secret(secret) => Self { secret: Some(secret), ..Self::default() },
            PublicKey(key) => Self { public_key: Some(key), ..Self::default() },
            CertUrl(url) => Self { cert_url: Some(url), ..Self::default() },
        }
    }
}

/// The answer to a create or an update: the webhook, with its key when the call made a new one.
async fn saved_view(state: &AppState, saved: operations::Saved) -> Result<WebhookView, ApiError> {
    let descriptions = operations::catalog_descriptions(state).await?;
    let verification = saved.new_key.map(VerificationKey::from).unwrap_or_default();
    Ok(WebhookView { verification, ..view(saved.webhook, &descriptions, &state.public_url) })
}

pub(super) async fn catalog_descriptions(state: &AppState) -> Result<HashMap<String, String>, ApiError> {
    Ok(operations::catalog_descriptions(state).await?)
}

#[utoipa::path(operation_id = "create_webhook", post, path = "/v1/notifications/webhooks", tag = "webhooks", request_body = CreateWebhook, security(("client_credentials" = []), ("access_token" = [])), responses((status = 201, description = "Created; the only answer that shows the secret", body = WebhookView), Errors))]
pub async fn create(
    merchant: Merchant,
    State(state): State<AppState>,
    JsonBody(body, _): JsonBody<CreateWebhook>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let input = WebhookInput {
        url: Some(body.url),
        event_types: Some(body.event_types.into_iter().map(|e| e.name).collect()),
        format: body.format,
        signing: body.signing,
        api_version: Some(body.api_version),
        description: Some(body.description),
        rate_limit: Some(body.rate_limit),
        max_in_flight: Some(body.max_in_flight),
        ordering: body.ordering,
        headers: body.headers.map(|headers| headers.into_iter().collect()),
        filter: Some(body.filter),
        oauth2: Some(body.oauth2.map(OAuth2Input::from)),
        tls: Some(body.tls.map(TlsInput::from)),
        status: None,
    };
    let saved = operations::create(&state, &merchant.account_id, input).await?;
    Ok((StatusCode::CREATED, Json(saved_view(&state, saved).await?)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    webhooks: Vec<WebhookView>,
}

#[utoipa::path(operation_id = "list_webhooks", get, path = "/v1/notifications/webhooks", tag = "webhooks", security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = WebhookList), Errors))]
pub async fn list(merchant: Merchant, State(state): State<AppState>) -> Result<Json<WebhookList>, ApiError> {
    let descriptions = catalog_descriptions(&state).await?;
    let webhooks = state.store.list_webhooks(&merchant.account_id).await?;
    let webhooks = webhooks.into_iter().map(|w| view(w, &descriptions, &state.public_url)).collect();
    Ok(Json(WebhookList { webhooks }))
}

#[utoipa::path(operation_id = "show_webhook", get, path = "/v1/notifications/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = WebhookView), Errors))]
pub async fn show(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let webhook = operations::owned(&state, &merchant.account_id, &id).await?;
    let descriptions = catalog_descriptions(&state).await?;
    Ok(Json(view(webhook, &descriptions, &state.public_url)))
}

#[utoipa::path(operation_id = "delete_webhook", delete, path = "/v1/notifications/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 204, description = "Deleted; its pending deliveries are cancelled"), Errors))]
pub async fn delete(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    operations::delete(&state, &merchant.account_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One operation of a JSON Patch (RFC 6902). Only `replace` is supported, on the paths below.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchOperation {
    op: String,
    path: String,
    /// Present as `null` (which clears a nullable field) is not the same as left out.
    #[schema(value_type = Value, required = false)]
    #[serde(default, deserialize_with = "present")]
    value: Option<serde_json::Value>,
    from: Option<String>,
}

/// A value that is there, `null` included.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<serde_json::Value>, D::Error> {
    <serde_json::Value as Deserialize>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Patch(Vec<PatchOperation>);

impl RequestBody for Patch {
    const OBJECT: bool = false;
}

const PATCHABLE: [&str; 14] = [
    "/url",
    "/event_types",
    "/status",
    "/description",
    "/format",
    "/signing",
    "/api_version",
    "/rate_limit",
    "/max_in_flight",
    "/ordering",
    "/headers",
    "/filter",
    "/oauth2",
    "/tls",
];

#[utoipa::path(operation_id = "update_webhook", patch, path = "/v1/notifications/webhooks/{id}", tag = "webhooks", request_body(content = Patch, content_type = "application/json"), params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = WebhookView), Errors))]
pub async fn update(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(Patch(operations_given), _): JsonBody<Patch>,
) -> Result<Json<WebhookView>, ApiError> {
    // A webhook that is not there is not found, whatever the patch says.
    operations::owned(&state, &merchant.account_id, &id).await?;
    if operations_given.is_empty() {
        return Err(ApiError::validation(ErrorDetail::body("", "EMPTY_PATCH", "give at least one operation")));
    }
    let mut input = WebhookInput::default();
    let mut positions: HashMap<&'static str, usize> = HashMap::new();
    for (index, operation) in operations_given.into_iter().enumerate() {
        let field = patch_into(&mut input, index, operation)?;
        // Each field is checked once, so a patch may set each once.
        if positions.insert(field, index).is_some() {
            let text = "each path may appear in one operation only";
            let detail = ErrorDetail::body(format!("/{index}/path"), "DUPLICATE_PATCH_PATH", text)
                .with_value(format!("/{field}"));
            return Err(ApiError::validation(detail));
        }
    }
    // The operation's refusals name a field; the patch names it by the operation that set it.
    let pointer = |field: &Field| match positions.get(field.name) {
        Some(index) => format!("/{index}/value{}", field.within),
        None => body_pointer(field),
    };
    let saved = operations::update(&state, &merchant.account_id, &id, input)
        .await
        .map_err(|error| ApiError::from_service(error, pointer))?;
    Ok(Json(saved_view(&state, saved).await?))
}

/// Reads one `replace` operation into the input; returns the field it sets. A value of the wrong JSON type
/// is refused as the create call's body would refuse it.
fn patch_into(input: &mut WebhookInput, index: usize, operation: PatchOperation) -> Result<&'static str, ApiError> {
    let at = |part: &str| format!("/{index}/{part}");
    if operation.op != "replace" || operation.from.is_some() {
        let text = "only the \"replace\" operation is supported";
        let detail = ErrorDetail::body(at("op"), "UNSUPPORTED_PATCH_OPERATION", text).with_value(&*operation.op);
        return Err(ApiError::validation(detail));
    }
    let Some(value) = operation.value else {
        let detail = ErrorDetail::body(at("value"), "MISSING_REQUIRED_PARAMETER", "replace needs a value");
        return Err(ApiError::validation(detail));
    };
    let Some(field) = PATCHABLE.iter().find(|path| **path == operation.path).map(|path| &path[1..]) else {
        let text = format!("the path must be one of {}", PATCHABLE.join(", "));
        let detail = ErrorDetail::body(at("path"), "UNSUPPORTED_PATCH_PATH", text).with_value(&*operation.path);
        return Err(ApiError::validation(detail));
    };
    let wrong_type = |error: serde_json::Error| {
        ApiError::invalid_request("a field is missing or has the wrong type").with_detail(ErrorDetail::body(
            at("value"),
            "INVALID_PARAMETER",
            error.to_string(),
        ))
    };
    fn read<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, serde_json::Error> {
        serde_json::from_value(value)
    }
    match field {
        "url" => input.url = Some(read(value).map_err(wrong_type)?),
        "event_types" => {
            let refs: Vec<EventTypeRef> = read(value).map_err(wrong_type)?;
            input.event_types = Some(refs.into_iter().map(|r| r.name).collect());
        }
        "status" => input.status = Some(read(value).map_err(wrong_type)?),
        "description" => input.description = Some(read(value).map_err(wrong_type)?),
        "format" => input.format = Some(read(value).map_err(wrong_type)?),
        "signing" => input.signing = Some(read(value).map_err(wrong_type)?),
        "api_version" => input.api_version = Some(read(value).map_err(wrong_type)?),
        "rate_limit" => input.rate_limit = Some(read(value).map_err(wrong_type)?),
        "max_in_flight" => input.max_in_flight = Some(read(value).map_err(wrong_type)?),
        "ordering" => input.ordering = Some(read(value).map_err(wrong_type)?),
        "filter" => input.filter = Some(read(value).map_err(wrong_type)?),
        "oauth2" => input.oauth2 = Some(read::<Option<OAuth2Body>>(value).map_err(wrong_type)?.map(OAuth2Input::from)),
        "tls" => input.tls = Some(read::<Option<TlsBody>>(value).map_err(wrong_type)?.map(TlsInput::from)),
        _ => {
            let headers: HashMap<String, String> = read(value).map_err(wrong_type)?;
            input.headers = Some(headers.into_iter().collect());
        }
    }
    Ok(field)
}

/// `GET /v1/notifications/webhooks/{id}/event-types`: what the webhook subscribes to.
#[utoipa::path(operation_id = "list_webhook_event_types", get, path = "/v1/notifications/webhooks/{id}/event-types", tag = "webhooks", params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = SubscriptionList), Errors))]
pub async fn subscriptions_of(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SubscriptionList>, ApiError> {
    let webhook = owned_webhook(&state, &merchant, &id).await?;
    let descriptions = catalog_descriptions(&state).await?;
    let event_types = view(webhook, &descriptions, &state.public_url).event_types;
    Ok(Json(SubscriptionList { event_types }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubscriptionList {
    event_types: Vec<SubscribedType>,
}

/// The merchant's webhook with this id, or 404 (also for another account's webhook).
pub async fn owned_webhook(state: &AppState, merchant: &Merchant, id: &str) -> Result<Webhook, ApiError> {
    Ok(operations::owned(state, &merchant.account_id, id).await?)
}

/// What a merchant needs to verify deliveries: the `whsec_` secret (hmac-sha256), the `whpk_` public key
/// (ed25519) or the certificate URL (rsa-sha256), with those still in their grace period after a roll.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SecretView {
    #[serde(flatten)]
    current: VerificationKey,
    previous: Vec<PreviousSecret>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PreviousSecret {
    #[serde(flatten)]
    key: VerificationKey,
    expires_at: Timestamp,
}

impl From<Secrets> for SecretView {
    fn from(secrets: Secrets) -> Self {
        let previous = secrets
            .previous
            .into_iter()
            .map(|(key, expires_at)| PreviousSecret { key: key.into(), expires_at })
            .collect();
        Self { current: secrets.current.into(), previous }
    }
}

/// `GET /v1/notifications/webhooks/{id}/secret`: the current signing secret and those still in their grace period.
#[utoipa::path(operation_id = "show_webhook_secret", get, path = "/v1/notifications/webhooks/{id}/secret", tag = "webhooks", params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = SecretView), Errors))]
pub async fn reveal_secret(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SecretView>, ApiError> {
    Ok(Json(operations::secrets(&state, &merchant.account_id, &id).await?.into()))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollSecret {
    expire_previous_in_seconds: Option<u64>,
}

impl RequestBody for RollSecret {}

/// `POST /v1/notifications/webhooks/{id}/secret/roll`: a new secret signs from now on; the previous one
/// keeps signing too until its grace period ends.
#[utoipa::path(operation_id = "roll_webhook_secret", post, path = "/v1/notifications/webhooks/{id}/secret/roll", tag = "webhooks", request_body(content = Option<RollSecret>), params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = SecretView), Errors))]
pub async fn roll_secret(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<RollSecret>,
) -> Result<Json<SecretView>, ApiError> {
    let grace = body.expire_previous_in_seconds;
    Ok(Json(operations::roll_secret(&state, &merchant.account_id, &id, grace).await?.into()))
}
