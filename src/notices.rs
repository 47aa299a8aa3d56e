//! Herald's own events for the operator: `webhook.failing`, `webhook.recovered`, `webhook.disabled` and
//! `delivery.exhausted`, posted to the operator's URL (`HERALD_OPERATOR_URL`).
//!
//! They go through the same machinery as every merchant event: at start Herald puts the four types in the
//! catalog and keeps a system account ("Herald operator", remembered in the store's `meta`) with one
//! webhook to the operator's URL, signed with `HERALD_OPERATOR_SECRET`. The delivery worker reports what
//! it saw on a bounded channel ([`Notices`]); [`run`] publishes each report as an event of that account
//! through a [`NoticePublisher`] (the publisher, which implements it), so notices are stored, signed,
//! retried and logged like any delivery. Nothing about the operator's own
//! webhook is reported, so a failing operator endpoint cannot feed itself.

use std::sync::Arc;

use herald_signature::standard::SigningSecret;
use serde_json::json;
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::domain::event_type::Subscription;
use crate::domain::model::{Account, DeliveryFormat, SigningAlgorithm, Webhook, WebhookStatus};
use crate::domain::{AccountId, DeliveryId, EventId, EventTypeName, Timestamp, WebhookId, WebhookUrl};
use crate::keyring::Keyring;
use crate::store::{EventTypeDraft, HealthChange, NewAccount, NewWebhook, Store, StoreError, WebhookChanges};

pub const WEBHOOK_FAILING: &str = "webhook.failing";
pub const WEBHOOK_RECOVERED: &str = "webhook.recovered";
pub const WEBHOOK_DISABLED: &str = "webhook.disabled";
pub const DELIVERY_EXHAUSTED: &str = "delivery.exhausted";

const OPERATOR_ACCOUNT: &str = "operator_account";
/// Reports waiting to be published; beyond this the newest are dropped (and logged), never blocking delivery.
const CHANNEL_CAPACITY: usize = 1024;

/// One report: the event type and its resource.
#[derive(Debug)]
pub struct Notice {
    pub kind: &'static str,
    pub resource: serde_json::Value,
}

/// The webhook a notice is about.
pub struct About<'a> {
    pub webhook_id: &'a WebhookId,
    pub account_id: &'a AccountId,
    pub url: &'a str,
}

/// The end of the attempt that led to a notice.
pub struct LastAttempt {
    pub status: Option<u16>,
    pub error_code: Option<String>,
}

impl Notice {
    /// `webhook.failing`, `webhook.recovered` or `webhook.disabled`, for a change of health.
    pub fn of_health(about: &About, health: &HealthChange, last: &LastAttempt) -> Option<Self> {
        let (kind, extra) = match health {
            HealthChange::Unchanged => return None,
            HealthChange::StartedFailing => {
                (WEBHOOK_FAILING, json!({"last_status": last.status, "last_error": last.error_code}))
            }
            HealthChange::Recovered => (WEBHOOK_RECOVERED, json!({})),
            HealthChange::Disabled(reason) => (WEBHOOK_DISABLED, json!({"reason": reason})),
        };
        Some(Self { kind, resource: about.resource(extra) })
    }

    /// `delivery.exhausted`: a delivery failed its last attempt.
    pub fn exhausted(about: &About, delivery: &DeliveryId, event: &EventId, attempts: u32, last: &LastAttempt) -> Self {
        let extra = json!({
            "delivery_id": delivery, "event_id": event, "attempts": attempts,
            "last_status": last.status, "last_error": last.error_code,
        });
        Self { kind: DELIVERY_EXHAUSTED, resource: about.resource(extra) }
    }
}

impl About<'_> {
    fn resource(&self, extra: serde_json::Value) -> serde_json::Value {
        let mut resource = json!({"webhook_id": self.webhook_id, "account_id": self.account_id, "url": self.url});
        if let (Some(all), serde_json::Value::Object(extra)) = (resource.as_object_mut(), extra) {
            all.extend(extra);
        }
        resource
    }
}

/// The worker's side: report, or do nothing when no operator URL is configured.
#[derive(Clone, Debug, Default)]
pub struct Notices {
    channel: Option<(mpsc::Sender<Notice>, AccountId)>,
}

impl Notices {
    /// Whether events of webhooks of `account` are reported (not those of the operator's own account).
    pub fn watches(&self, account: &AccountId) -> bool {
        self.channel.as_ref().is_some_and(|(_, operator)| operator != account)
    }

    pub fn report(&self, notice: Notice) {
        let Some((sender, _)) = &self.channel else { return };
        if let Err(error) = sender.try_send(notice) {
            tracing::warn!(error = %error, "an operator notice was dropped: too many waiting");
        }
    }
}

/// The publishing side, started by [`run`].
pub struct NoticeReceiver {
    receiver: mpsc::Receiver<Notice>,
    operator: AccountId,
}

/// Why the operator's channel could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NoticeSetupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("HERALD_OPERATOR_SECRET is not a whsec_ secret")]
    BadSecret(#[source] herald_signature::standard::SignatureError),
}

/// Prepares the catalog entries, the operator account and its webhook to `url`; returns both sides of
/// the channel. `secret` is the `whsec_` the operator verifies with; without one, a new one is made and
/// returned so that start-up can show it once.
pub async fn prepare(
    store: &dyn Store,
    keyring: &Keyring,
    url: WebhookUrl,
    secret: Option<&str>,
) -> Result<(Notices, NoticeReceiver, Option<String>), NoticeSetupError> {
    let now = Timestamp::now();
    for (name, description) in CATALOG {
        let name = EventTypeName::parse(name).expect("the notice names are valid");
        let draft = EventTypeDraft {
            name,
            description: description.to_owned(),
            resource_type: Some("webhook".into()),
            resource_version: None,
            sample: None,
            schema: None,
            now,
        };
        store.put_event_type(draft).await?;
    }
    let operator = operator_account(store, now).await?;
    let given = secret.map(SigningSecret::parse).transpose().map_err(NoticeSetupError::BadSecret)?;
    let shown = reconcile_webhook(store, keyring, &operator, url, given, now).await?;
    let (sender, receiver) = mpsc::channel(CHANNEL_CAPACITY);
    let notices = Notices { channel: Some((sender, operator.clone())) };
    Ok((notices, NoticeReceiver { receiver, operator }, shown))
}

const CATALOG: [(&str, &str); 4] = [
    (WEBHOOK_FAILING, "A webhook's attempts started failing"),
    (WEBHOOK_RECOVERED, "A failing webhook delivered again"),
    (WEBHOOK_DISABLED, "A webhook was disabled (410 Gone, or failing for too long)"),
    (DELIVERY_EXHAUSTED, "A delivery failed its last attempt and will not be retried"),
];

/// The system account, made on first start and remembered; nodes racing to make it agree on the first.
async fn operator_account(store: &dyn Store, now: Timestamp) -> Result<AccountId, StoreError> {
    if let Some(id) = store.get_meta(OPERATOR_ACCOUNT).await? {
        return Ok(AccountId::from_trusted(String::from_utf8_lossy(&id).into_owned()));
    }
    let account = Account {
        id: AccountId::generate(),
        name: "Herald operator".into(),
        client_id: String::new(),
        created_at: now,
    };
    // No one holds a credential for it: it has no keys.
    let new = NewAccount { account: account.clone(), test_environment: AccountId::generate(), keys: Vec::new() };
    store.create_account(new).await?;
    let stored = store.insert_meta_if_absent(OPERATOR_ACCOUNT, account.id.as_str().as_bytes().to_vec()).await?;
    Ok(AccountId::from_trusted(String::from_utf8_lossy(&stored).into_owned()))
}

/// Makes or updates the operator's webhook; returns a newly made secret, if one was made.
async fn reconcile_webhook(
    store: &dyn Store,
    keyring: &Keyring,
    operator: &AccountId,
    url: WebhookUrl,
    secret: Option<SigningSecret>,
    now: Timestamp,
) -> Result<Option<String>, StoreError> {
    let existing = store.list_webhooks(operator).await?.into_iter().next();
    let Some(webhook) = existing else {
        let made = secret.is_none();
        let secret = secret.unwrap_or_else(|| {
            SigningSecret::from_key(rand::random::<[u8; 32]>().to_vec()).expect("32 bytes is a valid key")
        });
        let webhook = operator_webhook(operator, url, now);
        let sealed_secret = keyring.seal(secret.key());
        store.create_webhook(NewWebhook { webhook, sealed_secret, limit: 1 }).await?;
        return Ok(made.then(|| secret.to_whsec()));
    };
    let current = store.webhook_secrets(&webhook.id, now).await?;
    let current_key = current.first().and_then(|s| keyring.open(&s.sealed).ok());
    let changes = WebhookChanges {
        url: (webhook.url != url).then_some(url),
        status: (webhook.status != WebhookStatus::Enabled).then_some(WebhookStatus::Enabled),
        replace_secret: secret.filter(|s| current_key.as_deref() != Some(s.key())).map(|s| keyring.seal(s.key())),
        ..WebhookChanges::default()
    };
    store.update_webhook(operator, &webhook.id, changes, now).await?;
    Ok(None)
}

fn operator_webhook(operator: &AccountId, url: WebhookUrl, now: Timestamp) -> Webhook {
    Webhook {
        id: WebhookId::generate(),
        account_id: operator.clone(),
        url,
        event_types: vec![Subscription::All],
        status: WebhookStatus::Enabled,
        format: DeliveryFormat::Standard,
        signing: SigningAlgorithm::HmacSha256,
        policy: Default::default(),
        api_version: None,
        description: Some("Herald's own notices".into()),
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    }
}

/// Where notices become events: the publisher implements it. Owned here, below both the worker and the
/// publisher, so that the worker can report and the publisher can publish without either importing the
/// other's side.
#[async_trait::async_trait]
pub trait NoticePublisher: Send + Sync {
    /// Publishes one event of `kind` with `resource` for `account`, as any published event.
    async fn publish_notice(
        &self,
        account: &AccountId,
        kind: EventTypeName,
        resource: Box<RawValue>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// Publishes reports as events of the operator account until shutdown.
pub async fn run(publisher: Arc<dyn NoticePublisher>, mut notices: NoticeReceiver, shutdown: CancellationToken) {
    loop {
        let notice = tokio::select! {
            _ = shutdown.cancelled() => return,
            notice = notices.receiver.recv() => match notice { Some(notice) => notice, None => return },
        };
        let Ok(resource) = RawValue::from_string(notice.resource.to_string()) else { continue };
        let kind = EventTypeName::parse(notice.kind).expect("the notice names are valid");
        if let Err(error) = publisher.publish_notice(&notices.operator, kind, resource).await {
            tracing::error!(error = %error, kind = notice.kind, "could not publish an operator notice");
        }
    }
}
