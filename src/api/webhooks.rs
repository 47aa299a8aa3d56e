//! Merchant: webhooks (`POST/GET /v1/notifications/webhooks`, `GET/DELETE /v1/notifications/webhooks/{id}`).

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use herald_signature::standard::SigningSecret;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorDetail};
use super::extract::{JsonBody, Merchant, RequestBody};
use super::paging::Link;
use super::state::AppState;
use crate::domain::event_type::Subscription;
use crate::domain::model::{DeliveryFormat, Webhook, WebhookStatus};
use crate::domain::{Timestamp, WebhookId, WebhookUrl};
use crate::store::NewWebhook;

const MAX_DESCRIPTION_LEN: usize = 500;
/// Bytes of randomness in a new signing secret (the Standard Webhooks range is 24 to 64).
const SECRET_BYTES: usize = 32;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    url: String,
    event_types: Vec<EventTypeRef>,
    format: Option<String>,
    description: Option<String>,
}

impl RequestBody for CreateWebhook {}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventTypeRef {
    name: String,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Serialize)]
pub struct WebhookView {
    id: WebhookId,
    url: WebhookUrl,
    event_types: Vec<EventTypeRef>,
    status: &'static str,
    format: &'static str,
    signing: &'static str,
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
    /// Only in the answer to the create call.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
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
        signing: "hmac-sha256",
        description: webhook.description,
        rate_limit: None,
        max_in_flight: None,
        ordering: "none",
        headers: HashMap::new(),
        disabled_reason: webhook.disabled_reason,
        created_at: webhook.created_at,
        updated_at: webhook.updated_at,
        links: vec![
            Link { href: href.clone(), rel: "self", method: "GET" },
            Link { href: href.clone(), rel: "update", method: "PATCH" },
            Link { href, rel: "delete", method: "DELETE" },
        ],
        secret: None,
    }
}

async fn catalog_descriptions(state: &AppState) -> Result<HashMap<String, String>, ApiError> {
    let entries = state.store.list_event_types().await?;
    Ok(entries.into_iter().map(|e| (e.name.to_string(), e.description)).collect())
}

pub async fn create(
    merchant: Merchant,
    State(state): State<AppState>,
    JsonBody(body, _): JsonBody<CreateWebhook>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let url = WebhookUrl::parse(&body.url).map_err(|e| {
        ApiError::validation(ErrorDetail::body("/url", "INVALID_URL", e.to_string()).with_value(&*body.url))
    })?;
    let descriptions = catalog_descriptions(&state).await?;
    let event_types = subscriptions(&body.event_types, &descriptions)?;
    let format = match body.format.as_deref() {
        None => DeliveryFormat::Standard,
        Some(text) => DeliveryFormat::parse(text).ok_or_else(|| {
            ApiError::validation(
                ErrorDetail::body("/format", "UNSUPPORTED_FORMAT", "the supported format is \"standard\"")
                    .with_value(text),
            )
        })?,
    };
    if body.description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_LEN) {
        let description = format!("the description is longer than {MAX_DESCRIPTION_LEN} characters");
        return Err(ApiError::validation(ErrorDetail::body("/description", "DESCRIPTION_TOO_LONG", description)));
    }
    let now = Timestamp::now();
    let webhook = Webhook {
        id: WebhookId::generate(),
        account_id: merchant.account_id,
        url,
        event_types,
        status: WebhookStatus::Enabled,
        format,
        description: body.description,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    let secret =
        SigningSecret::from_key(rand::random::<[u8; SECRET_BYTES]>().to_vec()).expect("32 bytes is a valid key");
    let sealed_secret = state.keyring.seal(secret.key());
    let limit = state.limits.webhooks_per_account;
    state.store.create_webhook(NewWebhook { webhook: webhook.clone(), sealed_secret, limit }).await?;
    let mut created = view(webhook, &descriptions, &state.public_url);
    created.secret = Some(secret.to_whsec());
    Ok((StatusCode::CREATED, Json(created)))
}

/// Parses the subscription list: known catalog names or `*`, at least one, duplicates folded.
fn subscriptions(refs: &[EventTypeRef], catalog: &HashMap<String, String>) -> Result<Vec<Subscription>, ApiError> {
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

#[derive(Serialize)]
pub struct WebhookList {
    webhooks: Vec<WebhookView>,
}

pub async fn list(merchant: Merchant, State(state): State<AppState>) -> Result<Json<WebhookList>, ApiError> {
    let descriptions = catalog_descriptions(&state).await?;
    let webhooks = state.store.list_webhooks(&merchant.account_id).await?;
    let webhooks = webhooks.into_iter().map(|w| view(w, &descriptions, &state.public_url)).collect();
    Ok(Json(WebhookList { webhooks }))
}

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
