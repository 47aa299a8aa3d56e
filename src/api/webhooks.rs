//! Merchant: webhooks (`POST/GET /v1/notifications/webhooks`, `GET/DELETE /v1/notifications/webhooks/{id}`).

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_signature::standard::{AsymmetricKey, SigningSecret};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorDetail};
use super::extract::{JsonBody, Merchant, OptionalJsonBody, RequestBody};
use super::openapi::Errors;
use super::paging::Link;
use super::state::AppState;
use crate::domain::delivery_policy::{
    DeliveryOrder, DeliveryPolicy, MAX_IN_FLIGHT_RANGE, RATE_LIMIT_RANGE, check_headers,
};
use crate::domain::event_type::Subscription;
use crate::domain::model::{DeliveryFormat, SigningAlgorithm, Webhook, WebhookStatus};
use crate::domain::{Timestamp, WebhookId, WebhookUrl};
use crate::internal_error::InternalError;
use crate::store::{NewWebhook, WebhookChanges};

const MAX_DESCRIPTION_LEN: usize = 500;
/// Bytes of randomness in a new signing secret (the Standard Webhooks range is 24 to 64).
const SECRET_BYTES: usize = 32;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
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
}

impl RequestBody for CreateWebhook {}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventTypeRef {
    name: String,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    id: WebhookId,
    url: WebhookUrl,
    event_types: Vec<EventTypeRef>,
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
        .map(|sub| EventTypeRef {
            name: sub.as_str().to_owned(),
            description: match sub {
                Subscription::All => Some("All events".to_owned()),
                Subscription::One(name) => descriptions.get(name.as_str()).cloned(),
            },
        })
        .collect();
    WebhookView {
        id: webhook.id,
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

fn parse_format(text: &str, pointer: &str) -> Result<DeliveryFormat, ApiError> {
    DeliveryFormat::parse(text).ok_or_else(|| {
        let detail = ErrorDetail::body(pointer, "UNSUPPORTED_FORMAT", FORMATS);
        ApiError::validation(detail.with_value(text))
    })
}

fn parse_signing(text: &str, pointer: &str) -> Result<SigningAlgorithm, ApiError> {
    SigningAlgorithm::parse(text).ok_or_else(|| {
        let detail = ErrorDetail::body(pointer, "UNSUPPORTED_SIGNING", SIGNINGS);
        ApiError::validation(detail.with_value(text))
    })
}

fn check_combination(format: DeliveryFormat, signing: SigningAlgorithm, pointer: &str) -> Result<(), ApiError> {
    if format.supports(signing) {
        return Ok(());
    }
    let text = match format {
        DeliveryFormat::Standard => "the standard format is signed with hmac-sha256 or ed25519",
        DeliveryFormat::Stripe => "the stripe format is signed with hmac-sha256 only",
        DeliveryFormat::Paypal => "the paypal format is signed with rsa-sha256 (the installation's key) only",
    };
    Err(ApiError::validation(ErrorDetail::body(pointer, "UNSUPPORTED_SIGNING", text).with_value(signing.as_str())))
}

/// Parses a webhook URL; an installation that delivers over HTTPS only refuses `http://` up front.
pub fn webhook_url(text: &str, https_only: bool, pointer: &str) -> Result<WebhookUrl, ApiError> {
    let invalid = |why: String| ApiError::validation(ErrorDetail::body(pointer, "INVALID_URL", why).with_value(text));
    let url = WebhookUrl::parse(text).map_err(|e| invalid(e.to_string()))?;
    if https_only && !url.as_str().starts_with("https://") {
        return Err(invalid("this installation delivers to https:// URLs only".into()));
    }
    Ok(url)
}

fn in_range(value: u32, range: &std::ops::RangeInclusive<u32>, pointer: &str) -> Result<u32, ApiError> {
    if range.contains(&value) {
        return Ok(value);
    }
    let text = format!("a whole number from {} to {}, or null", range.start(), range.end());
    Err(ApiError::validation(ErrorDetail::body(pointer, "INVALID_PARAMETER_VALUE", text).with_value(value.to_string())))
}

fn parse_ordering(text: &str, pointer: &str) -> Result<DeliveryOrder, ApiError> {
    DeliveryOrder::parse(text).ok_or_else(|| {
        let detail = ErrorDetail::body(pointer, "INVALID_PARAMETER_VALUE", "ordering is \"none\" or \"fifo\"");
        ApiError::validation(detail.with_value(text))
    })
}

/// Checks custom headers and keeps them sorted by name, so that what is stored does not depend on the
/// order of a JSON object's keys.
fn custom_headers(headers: HashMap<String, String>, pointer: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut headers: Vec<(String, String)> = headers.into_iter().collect();
    headers.sort();
    check_headers(&headers)
        .map_err(|refusal| ApiError::validation(ErrorDetail::body(pointer, "INVALID_HEADER", refusal.to_string())))?;
    Ok(headers)
}

fn parse_api_version(text: &str, pointer: &str) -> Result<String, ApiError> {
    let valid = !text.is_empty()
        && text.len() <= 32
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if valid {
        return Ok(text.to_owned());
    }
    let detail = ErrorDetail::body(pointer, "INVALID_API_VERSION", "an API version such as 2024-06-20");
    Err(ApiError::validation(detail.with_value(text)))
}

/// New key material: an HMAC key or an Ed25519 seed, both 32 random bytes.
fn new_key() -> Vec<u8> {
    rand::random::<[u8; SECRET_BYTES]>().to_vec()
}

const FORMATS: &str = "the formats are \"standard\", \"stripe\" and \"paypal\"";
const SIGNINGS: &str = "signing is \"hmac-sha256\", \"ed25519\" or \"rsa-sha256\"";

/// What a merchant is shown of a webhook's key: the shared secret, the public half, or (for the
/// installation's RSA key) where its certificate is.
async fn shown(state: &AppState, signing: SigningAlgorithm, key: Vec<u8>) -> Result<VerificationKey, ApiError> {
    Ok(match signing {
        SigningAlgorithm::HmacSha256 => VerificationKey {
            secret: Some(SigningSecret::from_key(key).map_err(ApiError::internal)?.to_whsec()),
            ..VerificationKey::default()
        },
        SigningAlgorithm::Ed25519 => {
            let seed: [u8; 32] = key
                .try_into()
                .map_err(|_| ApiError::internal(InternalError::new("an Ed25519 seed is not 32 bytes")))?;
            VerificationKey {
                public_key: Some(AsymmetricKey::from_seed(seed).public_key()),
                ..VerificationKey::default()
            }
        }
        SigningAlgorithm::RsaSha256 => {
            let identity = state.paypal.get_or_create().await?;
            VerificationKey { cert_url: Some(identity.cert_url().to_owned()), ..VerificationKey::default() }
        }
    })
}

pub(super) async fn catalog_descriptions(state: &AppState) -> Result<HashMap<String, String>, ApiError> {
    let entries = state.store.list_event_types().await?;
    Ok(entries.into_iter().map(|e| (e.name.to_string(), e.description)).collect())
}

#[utoipa::path(post, path = "/v1/notifications/webhooks", tag = "webhooks", request_body = CreateWebhook, security(("client_credentials" = []), ("access_token" = [])), responses((status = 201, description = "Created; the only answer that shows the secret", body = WebhookView), Errors))]
pub async fn create(
    merchant: Merchant,
    State(state): State<AppState>,
    JsonBody(body, _): JsonBody<CreateWebhook>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let url = webhook_url(&body.url, state.limits.https_only, "/url")?;
    let descriptions = catalog_descriptions(&state).await?;
    let event_types = subscriptions(&body.event_types, &descriptions)?;
    let format = match body.format.as_deref() {
        None => DeliveryFormat::Standard,
        Some(text) => parse_format(text, "/format")?,
    };
    let signing = match body.signing.as_deref() {
        None => format.default_signing(),
        Some(text) => parse_signing(text, "/signing")?,
    };
    check_combination(format, signing, "/signing")?;
    let api_version = body.api_version.map(|v| parse_api_version(&v, "/api_version")).transpose()?;
    if body.description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_LEN) {
        let description = format!("the description is longer than {MAX_DESCRIPTION_LEN} characters");
        return Err(ApiError::validation(ErrorDetail::body("/description", "DESCRIPTION_TOO_LONG", description)));
    }
    let policy = DeliveryPolicy {
        rate_limit: body.rate_limit.map(|n| in_range(n, &RATE_LIMIT_RANGE, "/rate_limit")).transpose()?,
        max_in_flight: body.max_in_flight.map(|n| in_range(n, &MAX_IN_FLIGHT_RANGE, "/max_in_flight")).transpose()?,
        ordering: body.ordering.map(|o| parse_ordering(&o, "/ordering")).transpose()?.unwrap_or_default(),
        headers: body.headers.map(|h| custom_headers(h, "/headers")).transpose()?.unwrap_or_default(),
    };
    let now = Timestamp::now();
    let webhook = Webhook {
        id: WebhookId::generate(),
        account_id: merchant.account_id,
        url,
        event_types,
        status: WebhookStatus::Enabled,
        format,
        signing,
        api_version,
        policy,
        description: body.description,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    // An rsa-sha256 webhook keeps a key too, unused while it signs with the installation's, so that every
    // webhook has one and changing its algorithm is a key swap like any other.
    let key = new_key();
    // Shown before the write: making the installation's PayPal key can fail, and then nothing is created.
    let verification = shown(&state, signing, key.clone()).await?;
    let sealed_secret = state.keyring.seal(&key);
    let limit = state.limits.webhooks_per_account;
    state.store.create_webhook(NewWebhook { webhook: webhook.clone(), sealed_secret, limit }).await?;
    let created = WebhookView { verification, ..view(webhook, &descriptions, &state.public_url) };
    Ok((StatusCode::CREATED, Json(created)))
}

/// Parses the subscription list: known catalog names or `*`, at least one, duplicates folded.
pub(super) fn subscriptions(
    refs: &[EventTypeRef],
    catalog: &HashMap<String, String>,
) -> Result<Vec<Subscription>, ApiError> {
    if refs.is_empty() {
        let detail =
            ErrorDetail::body("/event_types", "MISSING_EVENT_TYPES", "subscribe to at least one event type, or \"*\"");
        return Err(ApiError::validation(detail));
    }
    let mut unique = BTreeSet::new();
    for (index, entry) in refs.iter().enumerate() {
        let pointer = format!("/event_types/{index}/name");
        let subscription = Subscription::parse(&entry.name).map_err(|e| {
            ApiError::validation(
                ErrorDetail::body(&pointer, "INVALID_EVENT_TYPE", e.to_string()).with_value(&*entry.name),
            )
        })?;
        if let Subscription::One(name) = &subscription
            && !catalog.contains_key(name.as_str())
        {
            let message = format!("the event type \"{name}\" is not in the catalog");
            let detail = ErrorDetail::body(&pointer, "UNKNOWN_EVENT_TYPE", "see the list of available events");
            return Err(
                ApiError::unprocessable("UNKNOWN_EVENT_TYPE", message).with_detail(detail.with_value(name.as_str()))
            );
        }
        unique.insert(subscription);
    }
    Ok(unique.into_iter().collect())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    webhooks: Vec<WebhookView>,
}

#[utoipa::path(get, path = "/v1/notifications/webhooks", tag = "webhooks", security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = WebhookList), Errors))]
pub async fn list(merchant: Merchant, State(state): State<AppState>) -> Result<Json<WebhookList>, ApiError> {
    let descriptions = catalog_descriptions(&state).await?;
    let webhooks = state.store.list_webhooks(&merchant.account_id).await?;
    let webhooks = webhooks.into_iter().map(|w| view(w, &descriptions, &state.public_url)).collect();
    Ok(Json(WebhookList { webhooks }))
}

#[utoipa::path(get, path = "/v1/notifications/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = WebhookView), Errors))]
pub async fn show(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let not_found = || ApiError::not_found("webhook");
    let id = WebhookId::parse(&id).map_err(|_| not_found())?;
    let webhook = state.store.get_webhook(&merchant.account_id, &id).await?.ok_or_else(not_found)?;
    let descriptions = catalog_descriptions(&state).await?;
    Ok(Json(view(webhook, &descriptions, &state.public_url)))
}

#[utoipa::path(delete, path = "/v1/notifications/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 204, description = "Deleted; its pending deliveries are cancelled"), Errors))]
pub async fn delete(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let not_found = || ApiError::not_found("webhook");
    let id = WebhookId::parse(&id).map_err(|_| not_found())?;
    if state.store.delete_webhook(&merchant.account_id, &id, Timestamp::now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}

/// One operation of a JSON Patch (RFC 6902). Only `replace` is supported, on the paths below.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchOperation {
    op: String,
    path: String,
    #[schema(value_type = Option<Object>)]
    value: Option<serde_json::Value>,
    from: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Patch(Vec<PatchOperation>);

impl RequestBody for Patch {
    const OBJECT: bool = false;
}

const PATCHABLE: [&str; 11] = [
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
];

#[utoipa::path(patch, path = "/v1/notifications/webhooks/{id}", tag = "webhooks", request_body(content = Patch, content_type = "application/json"), params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = WebhookView), Errors))]
pub async fn update(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(Patch(operations), _): JsonBody<Patch>,
) -> Result<Json<WebhookView>, ApiError> {
    let not_found = || ApiError::not_found("webhook");
    let current = owned_webhook(&state, &merchant, &id).await?;
    let descriptions = catalog_descriptions(&state).await?;
    let mut changes = WebhookChanges::default();
    if operations.is_empty() {
        return Err(ApiError::validation(ErrorDetail::body("", "EMPTY_PATCH", "give at least one operation")));
    }
    let mut policy = current.policy.clone();
    for (index, operation) in operations.into_iter().enumerate() {
        apply(&mut changes, state.limits.https_only, &mut policy, index, operation, &descriptions)?;
    }
    changes.policy = (policy != current.policy).then_some(policy);
    let format = changes.format.unwrap_or(current.format);
    // A new format that cannot use the current algorithm gets its own default unless one is asked for.
    let kept = if format.supports(current.signing) { current.signing } else { format.default_signing() };
    let signing = *changes.signing.get_or_insert(kept);
    check_combination(format, signing, "/signing")?;
    let enabling = changes.status == Some(WebhookStatus::Enabled);
    // A key of the old kind cannot sign for a new algorithm, so a new key replaces it in the same write,
    // and this answer shows it (as the create answer does).
    let new_key = (signing != current.signing).then(new_key);
    let verification = match &new_key {
        Some(key) => shown(&state, signing, key.clone()).await?,
        None => VerificationKey::default(),
    };
    changes.replace_secret = new_key.as_ref().map(|key| state.keyring.seal(key));
    let updated = state.store.update_webhook(&merchant.account_id, &current.id, changes, Timestamp::now()).await?;
    let webhook = updated.ok_or_else(not_found)?;
    let answer = WebhookView { verification, ..view(webhook, &descriptions, &state.public_url) };
    if enabling {
        state.publisher.wake_delivery();
    }
    Ok(Json(answer))
}

fn apply(
    changes: &mut WebhookChanges,
    https_only: bool,
    policy: &mut DeliveryPolicy,
    index: usize,
    operation: PatchOperation,
    catalog: &HashMap<String, String>,
) -> Result<(), ApiError> {
    let at = |field: &str| format!("/{index}/{field}");
    let invalid =
        |field: &str, issue: &str, text: String| ApiError::validation(ErrorDetail::body(at(field), issue, text));
    if operation.op != "replace" || operation.from.is_some() {
        let text = "only the \"replace\" operation is supported".to_owned();
        let detail = ErrorDetail::body(at("op"), "UNSUPPORTED_PATCH_OPERATION", text).with_value(&*operation.op);
        return Err(ApiError::validation(detail));
    }
    let Some(value) = operation.value else {
        return Err(invalid("value", "MISSING_REQUIRED_PARAMETER", "replace needs a value".into()));
    };
    let wrong_type =
        |expected: &str| invalid("value", "INVALID_PARAMETER_SYNTAX", format!("the value must be {expected}"));
    match operation.path.as_str() {
        "/url" => {
            let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
            changes.url = Some(webhook_url(text, https_only, &at("value"))?);
        }
        "/event_types" => {
            let refs: Vec<EventTypeRef> =
                serde_json::from_value(value).map_err(|_| wrong_type("an array of {\"name\": …}"))?;
            changes.event_types = Some(subscriptions(&refs, catalog)?);
        }
        "/status" => {
            let text = value.as_str().ok_or_else(|| wrong_type("\"ENABLED\" or \"DISABLED\""))?;
            changes.status = Some(WebhookStatus::parse(text).ok_or_else(|| wrong_type("\"ENABLED\" or \"DISABLED\""))?);
        }
        "/description" => match value {
            serde_json::Value::Null => changes.description = Some(None),
            serde_json::Value::String(text) if text.chars().count() <= MAX_DESCRIPTION_LEN => {
                changes.description = Some(Some(text))
            }
            _ => return Err(wrong_type(&format!("a string of at most {MAX_DESCRIPTION_LEN} characters, or null"))),
        },
        "/format" => {
            let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
            let format = DeliveryFormat::parse(text);
            changes.format = Some(format.ok_or_else(|| wrong_type("\"standard\", \"stripe\" or \"paypal\""))?);
        }
        "/signing" => {
            let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
            let signing = SigningAlgorithm::parse(text);
            changes.signing =
                Some(signing.ok_or_else(|| wrong_type("\"hmac-sha256\", \"ed25519\" or \"rsa-sha256\""))?);
        }
        "/rate_limit" | "/max_in_flight" => {
            let (field, range) = match operation.path.as_str() {
                "/rate_limit" => (&mut policy.rate_limit, RATE_LIMIT_RANGE),
                _ => (&mut policy.max_in_flight, MAX_IN_FLIGHT_RANGE),
            };
            *field = match value {
                serde_json::Value::Null => None,
                serde_json::Value::Number(n) => {
                    let n =
                        n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| wrong_type("a whole number"))?;
                    Some(in_range(n, &range, &at("value"))?)
                }
                _ => return Err(wrong_type("a whole number, or null")),
            };
        }
        "/ordering" => {
            policy.ordering = parse_ordering(value.as_str().ok_or_else(|| wrong_type("a string"))?, &at("value"))?;
        }
        "/headers" => {
            let headers: HashMap<String, String> =
                serde_json::from_value(value).map_err(|_| wrong_type("an object of header names to strings"))?;
            policy.headers = custom_headers(headers, &at("value"))?;
        }
        "/api_version" => match value {
            serde_json::Value::Null => changes.api_version = Some(None),
            serde_json::Value::String(text) => {
                changes.api_version = Some(Some(parse_api_version(&text, &at("value"))?));
            }
            _ => return Err(wrong_type("a string such as 2024-06-20, or null")),
        },
        other => {
            let text = format!("the path must be one of {}", PATCHABLE.join(", "));
            let detail = ErrorDetail::body(at("path"), "UNSUPPORTED_PATCH_PATH", text).with_value(other);
            return Err(ApiError::validation(detail));
        }
    }
    Ok(())
}

/// `GET /v1/notifications/webhooks/{id}/event-types`: what the webhook subscribes to.
#[utoipa::path(get, path = "/v1/notifications/webhooks/{id}/event-types", tag = "webhooks", params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = SubscriptionList), Errors))]
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
    event_types: Vec<EventTypeRef>,
}

/// The merchant's webhook with this id, or 404 (also for another account's webhook).
pub async fn owned_webhook(state: &AppState, merchant: &Merchant, id: &str) -> Result<Webhook, ApiError> {
    let not_found = || ApiError::not_found("webhook");
    let id = WebhookId::parse(id).map_err(|_| not_found())?;
    state.store.get_webhook(&merchant.account_id, &id).await?.ok_or_else(not_found)
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

async fn secrets_view(state: &AppState, webhook: &Webhook) -> Result<SecretView, ApiError> {
    let stored = state.store.webhook_secrets(&webhook.id, Timestamp::now()).await?;
    let open = |sealed: &[u8]| state.keyring.open(sealed).map_err(ApiError::internal);
    let Some((current, older)) = stored.split_first() else {
        let message = format!("webhook {} has no secret", webhook.id);
        return Err(ApiError::internal(InternalError(message)));
    };
    let mut previous = Vec::with_capacity(older.len());
    for secret in older {
        let key = shown(state, webhook.signing, open(&secret.sealed)?).await?;
        previous.push(PreviousSecret { key, expires_at: secret.expires_at.unwrap_or(secret.created_at) });
    }
    Ok(SecretView { current: shown(state, webhook.signing, open(&current.sealed)?).await?, previous })
}

/// `GET /v1/notifications/webhooks/{id}/secret`: the current signing secret and those still in their grace period.
#[utoipa::path(get, path = "/v1/notifications/webhooks/{id}/secret", tag = "webhooks", params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = SecretView), Errors))]
pub async fn reveal_secret(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SecretView>, ApiError> {
    let webhook = owned_webhook(&state, &merchant, &id).await?;
    Ok(Json(secrets_view(&state, &webhook).await?))
}

/// The longest grace period of a rolled secret: one week.
const MAX_GRACE_SECONDS: u64 = 604_800;
const DEFAULT_GRACE_SECONDS: u64 = 86_400;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollSecret {
    expire_previous_in_seconds: Option<u64>,
}

impl RequestBody for RollSecret {}

/// `POST /v1/notifications/webhooks/{id}/secret/roll`: a new secret signs from now on; the previous one
/// keeps signing too until its grace period ends.
#[utoipa::path(post, path = "/v1/notifications/webhooks/{id}/secret/roll", tag = "webhooks", request_body(content = Option<RollSecret>), params(("id" = String, Path, description = "Webhook id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = SecretView), Errors))]
pub async fn roll_secret(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<RollSecret>,
) -> Result<Json<SecretView>, ApiError> {
    let grace = body.expire_previous_in_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    if grace > MAX_GRACE_SECONDS {
        let text = format!("expire_previous_in_seconds must be 0 to {MAX_GRACE_SECONDS}");
        return Err(ApiError::validation(ErrorDetail::body(
            "/expire_previous_in_seconds",
            "INVALID_PARAMETER_VALUE",
            text,
        )));
    }
    let webhook = owned_webhook(&state, &merchant, &id).await?;
    if webhook.signing == SigningAlgorithm::RsaSha256 {
        let message = "this webhook is signed with the installation's certificate; it has no secret of its own to roll";
        let detail = ErrorDetail::body("", "NO_WEBHOOK_SECRET", "switch the webhook to hmac-sha256 or ed25519 first");
        return Err(ApiError::unprocessable("UNPROCESSABLE_ENTITY", message).with_detail(detail));
    }
    let now = Timestamp::now();
    let previous_expire_at = now.plus(std::time::Duration::from_secs(grace));
    state.store.roll_webhook_secret(&webhook.id, state.keyring.seal(&new_key()), now, previous_expire_at).await?;
    Ok(Json(secrets_view(&state, &webhook).await?))
}
