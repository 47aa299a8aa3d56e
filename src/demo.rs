//! `herald serve --demo`: a lively dashboard one command after cloning. A demo account with two webhooks
//! that point at a sink this same process serves (`POST /demo/sink/{name}`), and a stream of the catalog's
//! sample events (Stripe, Fastbill, PayPal) published through the ordinary path. The `orders` sink fails
//! one event in five (the first, the sixth, …), every time it is tried, so the Failed tab fills as retries
//! run out; `billing` is slow but always answers 200.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use crate::domain::event_type::Subscription;
use crate::domain::model::{Account, DeliveryFormat, EventType, SigningAlgorithm, Webhook, WebhookStatus};
use crate::domain::{AccountId, EventTypeName, Mode, Timestamp, WebhookId, WebhookUrl};
use crate::keyring::{Keyring, random_token};
use crate::publish::{EventDraft, Publisher, ResponseShape};
use crate::store::{NewAccount, NewApiKey, NewWebhook, Store, StoreError};

/// Retries of the demo: quick, so that failures are exhausted within a minute.
pub const RETRY_SCHEDULE: &str = "2s,10s,30s";
/// Where the demo remembers its account across restarts.
const META_KEY: &str = "demo_account";
/// Events published at start, then one every `INTERVAL`.
const FIRST_BURST: usize = 12;
const INTERVAL: Duration = Duration::from_secs(3);

/// The demo account's credentials, to print.
pub struct DemoLogin {
    pub client_id: String,
    pub client_secret: String,
}

/// Whether the `orders` sink fails each event it has seen, by event id.
type Verdicts = Arc<Mutex<HashMap<String, bool>>>;

/// The sink the demo webhooks deliver to.
pub fn sink() -> Router {
    Router::new().route("/demo/sink/{name}", post(receive)).with_state(Verdicts::default())
}

async fn receive(
    State(verdicts): State<Verdicts>,
    Path(name): Path<String>,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let id = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|event| event["id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    match name.as_str() {
        "orders" => {
            // The same event always gets the same answer, so a failing one fails every retry.
            let fails = {
                let mut verdicts = verdicts.lock().unwrap_or_else(|p| p.into_inner());
                let seen = verdicts.len();
                *verdicts.entry(id).or_insert(seen % 5 == 0)
            };
            if fails {
                (StatusCode::INTERNAL_SERVER_ERROR, "{\"error\":\"orders database timed out\"}")
            } else {
                (StatusCode::OK, "{\"received\":true}")
            }
        }
        _ => {
            tokio::time::sleep(Duration::from_millis(rand::random_range(20..250))).await;
            (StatusCode::OK, "{\"received\":true}")
        }
    }
}

/// Why the demo could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the demo sink's URL is not valid")]
    SinkUrl(#[source] crate::domain::webhook_url::WebhookUrlError),
}

/// Makes (or, on a restart, finds and re-keys) the demo account and its two webhooks to `base`'s sink.
pub async fn prepare(store: &dyn Store, keyring: &Keyring, base: &str) -> Result<(AccountId, DemoLogin), DemoError> {
    let client_secret = format!("hsk_{}", random_token(32));
    let hash = keyring.hash_credential(&client_secret);
    let now = Timestamp::now();
    if let Some(id) = store.get_meta(META_KEY).await? {
        let id = AccountId::from_trusted(String::from_utf8_lossy(&id).into_owned());
        if let Some(account) = store.get_account(&id).await? {
            store.roll_client_secret(&account.id, hash, now).await?;
            return Ok((account.id, DemoLogin { client_id: account.client_id, client_secret }));
        }
    }
    let account = Account {
        id: AccountId::generate(),
        name: "Demo Shop".into(),
        client_id: format!("hcl_{}", random_token(18)),
        created_at: now,
    };
    let key = NewApiKey::first(&account.id, &account.id, Mode::Live, account.client_id.clone(), hash, now);
    let new = NewAccount { account: account.clone(), test_environment: AccountId::generate(), keys: vec![key] };
    store.create_account(new).await?;
    let webhooks = [
        ("orders", "Order service (fails one event in five)", DeliveryFormat::Standard, vec![Subscription::All]),
        ("billing", "Billing service (Stripe format)", DeliveryFormat::Stripe, billing_types()),
    ];
    for (name, description, format, event_types) in webhooks {
        let url = WebhookUrl::parse(&format!("{base}/demo/sink/{name}")).map_err(DemoError::SinkUrl)?;
        let webhook = Webhook {
            id: WebhookId::generate(),
            account_id: account.id.clone(),
            url,
            event_types,
            status: WebhookStatus::Enabled,
            format,
            signing: SigningAlgorithm::HmacSha256,
            api_version: None,
            policy: Default::default(),
            description: Some(description.into()),
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        };
        let sealed_secret = keyring.seal(&rand::random::<[u8; 32]>());
        store.create_webhook(NewWebhook { webhook, sealed_secret, limit: 10 }).await?;
    }
    store.insert_meta_if_absent(META_KEY, account.id.as_str().as_bytes().to_vec()).await?;
    Ok((account.id, DemoLogin { client_id: account.client_id, client_secret }))
}

fn billing_types() -> Vec<Subscription> {
    ["invoice.payment_succeeded", "invoice.updated", "customer.subscription.updated", "subscription.created"]
        .into_iter()
        .filter_map(|name| EventTypeName::parse(name).ok().map(Subscription::One))
        .collect()
}

/// Publishes the catalog's samples for the demo account, a burst at first and then one every few seconds.
pub async fn run(store: Arc<dyn Store>, publisher: Arc<Publisher>, account: AccountId, stop: CancellationToken) {
    let samples: Vec<EventType> = match store.list_event_types().await {
        Ok(types) => types.into_iter().filter(|t| t.sample.is_some()).collect(),
        Err(error) => return tracing::warn!(error = %error, "the demo cannot read the catalog"),
    };
    if samples.is_empty() {
        return tracing::warn!("the demo has no sample events: the catalog has none");
    }
    // The burst starts with each type the billing webhook takes, so that both endpoints have deliveries at
    // once; after that, types come at random.
    let billing = billing_types();
    let mut first: Vec<&EventType> = samples.iter().filter(|t| billing.iter().any(|s| s.matches(&t.name))).collect();
    first.reverse();
    for n in 0.. {
        let pause = if n < FIRST_BURST { Duration::from_millis(150) } else { INTERVAL };
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(pause) => {}
        }
        let entry = first.pop().unwrap_or_else(|| &samples[rand::random_range(0..samples.len())]);
        let Some(resource) = entry.sample.clone().and_then(|s| RawValue::from_string(s).ok()) else { continue };
        let draft = EventDraft {
            account_id: account.clone(),
            mode: Mode::Live,
            request: None,
            event_type: entry.name.clone(),
            resource,
            summary: None,
            resource_type: entry.resource_type.clone(),
            resource_version: entry.resource_version.clone(),
            trace: None,
        };
        if let Err(error) = publisher.publish(vec![draft], None, ResponseShape::Single).await {
            tracing::warn!(error = %error, "the demo could not publish a sample event");
        }
    }
}
