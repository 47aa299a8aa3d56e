//! Accepting events: validate, build the exact bytes to deliver, fan out, commit, hand over.
//!
//! One call publishes one event or a batch, all or nothing. The events, their deliveries and the
//! idempotency key are written in a single store transaction (a transactional outbox: there is no separate
//! queue that could disagree with the database), and only after that commit does the caller get its
//! answer. Deliveries that fit in the worker queue are stored leased to this process and handed over in
//! memory at once; the rest are left for the poller. Resending and simulating events take the same path.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde_json::value::RawValue;
use tracing::Instrument;

use crate::deliver::queue::{DeliveryJob, JobQueue, Reservation};
use crate::deliver::send::Sender;
use crate::deliver::target::{Target, TargetError};
use crate::domain::model::{DeliveryFormat, Event, EventType, Trigger};
use crate::domain::trace::TraceContext;
use crate::domain::{AccountId, DeliveryId, EventId, EventTypeName, Mode, RequestId, Timestamp, WebhookId, WebhookUrl};
use crate::fanout;
use crate::internal_error::InternalError;
use crate::keyring::Keyring;
use crate::metrics::Metrics;
use crate::paypal_identity::{IdentityError, PaypalIdentities};
use crate::publish_cache::{PublishCache, Targets};
use crate::resource_schema::{SchemaCache, Violation};
use crate::store::{IdempotencyRecord, Lease, NewDelivery, PublishBatch, PublishOutcome, Store, StoreError};
use crate::telemetry::{PublishSpan, Telemetry};

/// The version of the event envelope Herald sends.
pub const EVENT_VERSION: &str = "1.0";

/// One event as the operator submits it, already parsed at the API edge.
pub struct EventDraft {
    /// The account as the operator names it; the event goes to its environment for `mode`.
    pub account_id: AccountId,
    /// Live events reach live webhooks, test events (`"livemode": false`) test webhooks.
    pub mode: Mode,
    /// The API request that published it, which a Stripe envelope names.
    pub request: Option<RequestRef>,
    pub event_type: EventTypeName,
    /// The resource exactly as published; its bytes are kept, not re-serialised.
    pub resource: Box<RawValue>,
    pub summary: Option<String>,
    pub resource_type: Option<String>,
    pub resource_version: Option<String>,
    /// The publisher's W3C trace context, which every delivery continues.
    pub trace: Option<TraceContext>,
}

/// The request behind an event: its id and `Idempotency-Key`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RequestRef {
    pub id: RequestId,
    pub idempotency_key: Option<String>,
}

/// An `Idempotency-Key` and a digest of the request it came with.
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: [u8; 32],
}

/// The answer to give: freshly committed, or replayed for a repeated idempotency key.
pub enum Published {
    Created(Bytes),
    Replayed(Bytes),
}

/// Why a publish, resend or simulation was refused. `index` is the event's position in a batch (`None`
/// for a single event).
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the event type \"{name}\" is not in the catalog")]
    UnknownEventType { index: Option<usize>, name: String },
    #[error("there is no account \"{id}\"")]
    UnknownAccount { index: Option<usize>, id: String },
    #[error("the event does not exist")]
    EventNotFound,
    #[error("the webhook \"{0}\" does not exist")]
    WebhookNotFound(String),
    #[error("the event type \"{0}\" has no sample to simulate")]
    NoSample(String),
    #[error("the resource does not satisfy the event type's schema")]
    SchemaViolation { index: Option<usize>, violations: Vec<Violation> },
    #[error("the event type's stored schema cannot be used")]
    BrokenSchema(#[from] crate::resource_schema::InvalidSchema),
    #[error("a webhook's signing keys could not be prepared")]
    Target(#[from] TargetError),
    #[error("the installation's PayPal signing key could not be prepared")]
    PaypalIdentity(#[from] IdentityError),
    #[error(transparent)]
    Internal(#[from] InternalError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PublishError {
    /// A short name of what went wrong, for the publish's span.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnknownEventType { .. } => "unknown_event_type",
            Self::UnknownAccount { .. } => "unknown_account",
            Self::EventNotFound => "event_not_found",
            Self::WebhookNotFound(_) => "webhook_not_found",
            Self::NoSample(_) => "no_sample",
            Self::SchemaViolation { .. } => "schema_violation",
            Self::BrokenSchema(_) => "broken_schema",
            Self::Target(_) => "target_keys",
            Self::PaypalIdentity(_) => "paypal_identity",
            Self::Internal(_) => "internal",
            Self::Store(_) => "store",
        }
    }
}

/// Whether the response is one event or `{"events": [...]}`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ResponseShape {
    Single,
    Batch,
}

/// Where a simulated event goes.
pub enum SimulationTarget {
    Webhook(WebhookId),
    /// A URL with no webhook behind it: sent once, unsigned, and recorded nowhere.
    Url(WebhookUrl),
}

/// A simulation target after checking that the webhook belongs to the account.
enum Resolved {
    Webhook(Arc<Target>),
    Url(WebhookUrl),
}

/// Publishes events; shared by the API handlers.
pub struct Publisher {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    paypal: Arc<PaypalIdentities>,
    queue: JobQueue,
    sender: Sender,
    public_url: String,
    lease_duration: std::time::Duration,
    idempotency_lifetime: std::time::Duration,
    telemetry: Telemetry,
    schemas: SchemaCache,
    metrics: Arc<Metrics>,
    /// The catalog's entries and the accounts' targets this node read lately.
    cache: Arc<PublishCache>,
    /// Accounts' test environments, which never change once made.
    test_environments: std::sync::Mutex<HashMap<AccountId, AccountId>>,
    /// Ids known to be accounts (live environments).
    known_accounts: std::sync::Mutex<std::collections::HashSet<AccountId>>,
}

/// The most test environments (and accounts) kept in memory; past it, the copies start over.
const MAX_TEST_ENVIRONMENTS_KEPT: usize = 10_000;

/// The most schema violations reported for one resource.
const MAX_VIOLATIONS: usize = 20;

/// What [`Publisher`] needs besides the store.
pub struct PublisherParts {
    pub metrics: Arc<Metrics>,
    pub keyring: Arc<Keyring>,
    pub paypal: Arc<PaypalIdentities>,
    pub queue: JobQueue,
    pub sender: Sender,
    pub public_url: String,
    pub lease_duration: std::time::Duration,
    /// How long an idempotency key replays its first answer.
    pub idempotency_lifetime: std::time::Duration,
    /// Makes each publish's span.
    pub telemetry: Telemetry,
}

/// Deliveries planned for events, and the jobs to hand over once they are committed.
struct Plan<'q> {
    deliveries: Vec<NewDelivery>,
    jobs: Vec<DeliveryJob>,
    reservation: Option<Reservation<'q>>,
    /// Some deliveries were stored unleased, for the poller to claim.
    waiting: bool,
}

impl Publisher {
    pub fn new(store: Arc<dyn Store>, parts: PublisherParts) -> Self {
        let PublisherParts {
            metrics,
            keyring,
            paypal,
            queue,
            sender,
            public_url,
            lease_duration,
            idempotency_lifetime,
            telemetry,
        } = parts;
        let schemas = SchemaCache::default();
        let cache = PublishCache::following(store.changes());
        Self {
            store,
            keyring,
            paypal,
            queue,
            sender,
            public_url,
            lease_duration,
            idempotency_lifetime,
            telemetry,
            schemas,
            metrics,
            cache,
            test_environments: Default::default(),
            known_accounts: Default::default(),
        }
    }

    /// Tells the worker to look for due deliveries now (after re-enabling a webhook or re-queueing).
    pub fn wake_delivery(&self) {
        self.queue.wake_poller();
    }

    /// Publishes `drafts` all or nothing and returns the response body to send, in a span of its own
    /// whose context the events keep (see `telemetry`).
    pub async fn publish(
        &self,
        mut drafts: Vec<EventDraft>,
        idempotency: Option<IdempotencyKey>,
        shape: ResponseShape,
    ) -> Result<Published, PublishError> {
        let mut span = self.telemetry.publish(drafts.first().and_then(|d| d.trace.as_ref()), drafts.len());
        let stored = span.stored_context();
        drafts.iter_mut().for_each(|draft| draft.trace = stored.clone());
        // A span for the log lines only when there is a trace to name in them.
        let log_span = match span.trace_id() {
            Some(trace_id) => tracing::info_span!("publish", trace.id = trace_id),
            None => tracing::Span::none(),
        };
        let result = self.publish_in_span(drafts, idempotency, shape, &mut span).instrument(log_span).await;
        span.finish(match &result {
            Ok(Published::Created(_)) => Ok("committed"),
            Ok(Published::Replayed(_)) => Ok("replayed"),
            Err(error) => Err(error.kind()),
        });
        result
    }

    async fn publish_in_span(
        &self,
        drafts: Vec<EventDraft>,
        idempotency: Option<IdempotencyKey>,
        shape: ResponseShape,
        span: &mut PublishSpan,
    ) -> Result<Published, PublishError> {
        let now = Timestamp::now();
        let position = |index| (shape == ResponseShape::Batch).then_some(index);
        let catalog = self.catalog_entries(&drafts, position).await?;
        self.check_schemas(&drafts, &catalog, position)?;
        let environments = self.environments(&drafts, position).await?;
        let targets = self.targets_by_account(&drafts, &environments, now, position).await?;
        let events: Vec<Event> = drafts
            .iter()
            .zip(&environments)
            .map(|(draft, environment)| self.build_event(draft, environment, &catalog[&draft.event_type], now, false))
            .collect();
        let pairs = events.iter().flat_map(|event| {
            let published = fanout::Published { event_type: &event.event_type, body: &event.body };
            fanout::recipients(&targets[&event.account_id], &published).into_iter().map(move |t| (event, t))
        });
        let plan = self.plan(pairs, Trigger::Scheduled, false, now);
        let response = response_body(&events, shape);
        let idempotency = idempotency.map(|key| IdempotencyRecord {
            key: key.key,
            request_hash: key.request_hash,
            response: response.clone(),
            forget_before: now.minus(self.idempotency_lifetime),
        });
        let types: Vec<(EventTypeName, Mode)> =
            events.iter().zip(&drafts).map(|(event, draft)| (event.event_type.clone(), draft.mode)).collect();
        if let [event] = &events[..] {
            span.describe(event.id.as_str(), event.event_type.as_str(), event.account_id.as_str());
        }
        let batch = PublishBatch { idempotency, events, deliveries: plan.deliveries };
        let commit = span.commit();
        let committed = self.store.publish(batch).await;
        drop(commit);
        match committed? {
            PublishOutcome::Replayed { response } => Ok(Published::Replayed(response)),
            PublishOutcome::Committed => {
                self.hand_over(plan.jobs, plan.reservation, plan.waiting);
                types.iter().for_each(|(name, mode)| self.metrics.event_published(name.as_str(), mode.as_str()));
                Ok(Published::Created(response))
            }
        }
    }

    /// New manual deliveries of a stored event: to `only` (any of the account's enabled webhooks), or to
    /// every enabled webhook that subscribes to its type.
    pub async fn resend(
        &self,
        account: &AccountId,
        event_id: &EventId,
        only: Option<Vec<WebhookId>>,
    ) -> Result<Event, PublishError> {
        let now = Timestamp::now();
        let event = self.store.get_event(account, event_id).await?.ok_or(PublishError::EventNotFound)?;
        let targets = self.open_targets(account, now).await?;
        let chosen: Vec<&Arc<Target>> = match &only {
            Some(ids) => ids
                .iter()
                .map(|id| {
                    targets
                        .iter()
                        .find(|t| &t.webhook_id == id)
                        .ok_or_else(|| PublishError::WebhookNotFound(id.to_string()))
                })
                .collect::<Result<_, _>>()?,
            None => {
                fanout::recipients(&targets, &fanout::Published { event_type: &event.event_type, body: &event.body })
            }
        };
        let plan = self.plan(chosen.into_iter().map(|t| (&event, t)), Trigger::Manual, false, now);
        self.store.add_deliveries(plan.deliveries).await?;
        self.hand_over(plan.jobs, plan.reservation, plan.waiting);
        Ok(event)
    }

    /// Sends the type's sample once, as an event marked `"simulated": true` that is not listed among
    /// real events.
    pub async fn simulate(
        &self,
        account: &AccountId,
        mode: Mode,
        request: Option<RequestRef>,
        entry: &EventType,
        target: SimulationTarget,
    ) -> Result<Event, PublishError> {
        let now = Timestamp::now();
        // The target is resolved first, so another account's webhook is "not found" whatever the type.
        let target = match target {
            SimulationTarget::Webhook(id) => {
                let targets = self.open_targets(account, now).await?;
                let found = targets.iter().find(|t| t.webhook_id == id).cloned();
                Resolved::Webhook(found.ok_or_else(|| PublishError::WebhookNotFound(id.to_string()))?)
            }
            SimulationTarget::Url(url) => Resolved::Url(url),
        };
        let sample = entry.sample.clone().ok_or_else(|| PublishError::NoSample(entry.name.to_string()))?;
        let resource = RawValue::from_string(sample).map_err(|e| StoreError::Corrupt(format!("sample: {e}")))?;
        let draft = EventDraft {
            account_id: account.clone(),
            mode,
            request,
            event_type: entry.name.clone(),
            resource,
            summary: None,
            resource_type: None,
            resource_version: None,
            trace: None,
        };
        let event = self.build_event(&draft, account, entry, now, true);
        match target {
            Resolved::Webhook(target) => {
                let plan = self.plan(std::iter::once((&event, &target)), Trigger::Manual, true, now);
                let batch =
                    PublishBatch { idempotency: None, events: vec![event.clone()], deliveries: plan.deliveries };
                self.store.publish(batch).await?;
                self.hand_over(plan.jobs, plan.reservation, plan.waiting);
            }
            Resolved::Url(url) => {
                let batch = PublishBatch { idempotency: None, events: vec![event.clone()], deliveries: Vec::new() };
                self.store.publish(batch).await?;
                self.send_unrecorded(&event, url);
            }
        }
        Ok(event)
    }

    fn send_unrecorded(&self, event: &Event, url: WebhookUrl) {
        let target = Target {
            webhook_id: WebhookId::generate(),
            account_id: event.account_id.clone(),
            url,
            format: DeliveryFormat::Standard,
            subscriptions: Vec::new(),
            keys: crate::deliver::format::Keys::Hmac(Vec::new()),
            api_version: None,
            policy: Default::default(),
            filter: None,
            broker: None,
            oauth2: None,
            tls: None,
        };
        let job = DeliveryJob {
            delivery_id: DeliveryId::generate(),
            event_id: event.id.clone(),
            trigger: Trigger::Manual,
            single_attempt: true,
            attempt_number: 1,
            lease: Lease { token: 0, until: Timestamp::now().plus(self.lease_duration) },
            body: event.body.clone(),
            trace: event.trace.clone(),
            target: Arc::new(target),
            not_before: None,
        };
        let sender = self.sender.clone();
        tokio::spawn(async move {
            let exchange = sender.attempt(&job, None).await;
            let status = exchange.status();
            tracing::info!(event.id = %job.event_id, status, "sent a simulated event to a bare URL");
        });
    }

    /// One delivery per (event, target), leased and with jobs ready if the worker queue has room.
    fn plan<'e, 'q>(
        &'q self,
        pairs: impl Iterator<Item = (&'e Event, &'e Arc<Target>)>,
        trigger: Trigger,
        single_attempt: bool,
        now: Timestamp,
    ) -> Plan<'q> {
        let pairs: Vec<_> = pairs.collect();
        // Paced webhooks' deliveries wait for the claim that enforces their rules; the rest go straight on.
        let direct = pairs.iter().filter(|(_, target)| !target.policy.paces()).count();
        let reservation = self.queue.try_reserve(direct);
        let lease = Lease { token: rand::random(), until: now.plus(self.lease_duration) };
        let mut deliveries = Vec::with_capacity(pairs.len());
        let mut jobs = Vec::with_capacity(direct);
        for (event, target) in pairs {
            let id = DeliveryId::generate();
            let handed_over = reservation.is_some() && !target.policy.paces();
            deliveries.push(NewDelivery {
                id: id.clone(),
                event_id: event.id.clone(),
                webhook_id: target.webhook_id.clone(),
                account_id: event.account_id.clone(),
                trigger,
                next_attempt_at: now,
                lease: handed_over.then_some(lease),
                single_attempt,
            });
            if handed_over {
                jobs.push(DeliveryJob {
                    delivery_id: id,
                    event_id: event.id.clone(),
                    trigger,
                    single_attempt,
                    attempt_number: 1,
                    lease,
                    body: event.body.clone(),
                    trace: event.trace.clone(),
                    target: target.clone(),
                    not_before: None,
                });
            }
        }
        let waiting = deliveries.len() > jobs.len();
        Plan { deliveries, jobs, reservation, waiting }
    }

    /// After the commit: jobs go to the workers, and the poller is told when unleased work was stored.
    fn hand_over(&self, jobs: Vec<DeliveryJob>, reservation: Option<Reservation<'_>>, waiting: bool) {
        if let Some(reservation) = reservation {
            reservation.send(jobs);
        }
        if waiting {
            self.queue.wake_poller();
        }
    }

    async fn catalog_entries(
        &self,
        drafts: &[EventDraft],
        position: impl Fn(usize) -> Option<usize>,
    ) -> Result<HashMap<EventTypeName, EventType>, PublishError> {
        let mut found = HashMap::new();
        for (index, draft) in drafts.iter().enumerate() {
            if found.contains_key(&draft.event_type) {
                continue;
            }
            if let Some(entry) = self.cache.event_type(&draft.event_type) {
                found.insert(draft.event_type.clone(), entry);
                continue;
            }
            let since = self.cache.generation();
            let Some(entry) = self.store.get_event_type(&draft.event_type).await? else {
                return Err(PublishError::UnknownEventType {
                    index: position(index),
                    name: draft.event_type.to_string(),
                });
            };
            self.cache.keep_event_type(since, entry.clone());
            found.insert(draft.event_type.clone(), entry);
        }
        Ok(found)
    }

    fn check_schemas(
        &self,
        drafts: &[EventDraft],
        catalog: &HashMap<EventTypeName, EventType>,
        position: impl Fn(usize) -> Option<usize>,
    ) -> Result<(), PublishError> {
        for (index, draft) in drafts.iter().enumerate() {
            let Some(validator) = self.schemas.validator(&catalog[&draft.event_type])? else { continue };
            let resource: serde_json::Value = serde_json::from_str(draft.resource.get())
                .map_err(|e| InternalError(format!("a checked resource: {e}")))?;
            let violations = crate::resource_schema::violations(&validator, &resource, MAX_VIOLATIONS);
            if !violations.is_empty() {
                return Err(PublishError::SchemaViolation { index: position(index), violations });
            }
        }
        Ok(())
    }

    /// Each draft's environment: the account itself for live events, its test environment for test events.
    async fn environments(
        &self,
        drafts: &[EventDraft],
        position: impl Fn(usize) -> Option<usize>,
    ) -> Result<Vec<AccountId>, PublishError> {
        let mut found = Vec::with_capacity(drafts.len());
        for (index, draft) in drafts.iter().enumerate() {
            if draft.mode.is_live() {
                found.push(draft.account_id.clone());
                continue;
            }
            let known =
                self.test_environments.lock().unwrap_or_else(|p| p.into_inner()).get(&draft.account_id).cloned();
            let environment = match known {
                Some(environment) => environment,
                None => {
                    let unknown =
                        || PublishError::UnknownAccount { index: position(index), id: draft.account_id.to_string() };
                    let environment =
                        self.store.environment(&draft.account_id, Mode::Test).await?.ok_or_else(unknown)?;
                    let mut known = self.test_environments.lock().unwrap_or_else(|p| p.into_inner());
                    if known.len() >= MAX_TEST_ENVIRONMENTS_KEPT {
                        known.clear();
                    }
                    known.insert(draft.account_id.clone(), environment.clone());
                    environment
                }
            };
            found.push(environment);
        }
        Ok(found)
    }

    async fn targets_by_account(
        &self,
        drafts: &[EventDraft],
        environments: &[AccountId],
        now: Timestamp,
        position: impl Fn(usize) -> Option<usize>,
    ) -> Result<HashMap<AccountId, Targets>, PublishError> {
        let mut found = HashMap::new();
        for (index, (draft, account)) in drafts.iter().zip(environments).enumerate() {
            if found.contains_key(account) {
                continue;
            }
            // A test environment was found above; a live event must name an account, not an environment.
            if draft.mode.is_live() && !self.is_account(account).await? {
                return Err(PublishError::UnknownAccount { index: position(index), id: account.to_string() });
            }
            if let Some(targets) = self.cache.targets(account, now) {
                found.insert(account.clone(), targets);
                continue;
            }
            let since = self.cache.generation();
            let (targets, stale_at) = self.load_targets(account, now).await?;
            self.cache.keep_targets(since, account, targets.clone(), stale_at);
            found.insert(account.clone(), targets);
        }
        Ok(found)
    }

    /// Whether `id` is an account (not a test environment), asked of the store once per node: accounts
    /// are never deleted.
    async fn is_account(&self, id: &AccountId) -> Result<bool, PublishError> {
        if self.known_accounts.lock().unwrap_or_else(|p| p.into_inner()).contains(id) {
            return Ok(true);
        }
        let exists = self.store.get_account(id).await?.is_some();
        if exists {
            let mut known = self.known_accounts.lock().unwrap_or_else(|p| p.into_inner());
            if known.len() >= MAX_TEST_ENVIRONMENTS_KEPT {
                known.clear();
            }
            known.insert(id.clone());
        }
        Ok(exists)
    }

    /// The account's targets read afresh, not from the cache: resends and test events use the webhooks as the
    /// store has them at this moment.
    async fn open_targets(&self, account: &AccountId, now: Timestamp) -> Result<Targets, PublishError> {
        Ok(self.load_targets(account, now).await?.0)
    }

    /// The account's targets with their keys opened, and when one of their secrets stops signing.
    async fn load_targets(
        &self,
        account: &AccountId,
        now: Timestamp,
    ) -> Result<(Targets, Option<Timestamp>), PublishError> {
        let stored = self.store.delivery_targets(account, now).await?;
        let paypal = self.paypal.for_targets(stored.iter()).await?;
        let open = |t| Target::open(t, &self.keyring, paypal.as_ref()).map(Arc::new);
        let targets = stored.iter().map(open).collect::<Result<Vec<_>, _>>()?;
        Ok((Targets::from(targets), stored.iter().filter_map(|t| t.secrets_change_at).min()))
    }

    fn build_event(
        &self,
        draft: &EventDraft,
        environment: &AccountId,
        entry: &EventType,
        now: Timestamp,
        simulated: bool,
    ) -> Event {
        let id = EventId::generate();
        let self_href = format!("{}/v1/notifications/webhooks-events/{id}", self.public_url);
        let envelope = Envelope {
            id: id.as_str(),
            create_time: now.to_rfc3339(),
            event_type: draft.event_type.as_str(),
            resource_type: draft.resource_type.as_deref().or(entry.resource_type.as_deref()),
            resource_version: draft.resource_version.as_deref().or(entry.resource_version.as_deref()),
            event_version: EVENT_VERSION,
            summary: draft.summary.as_deref().unwrap_or(&entry.description),
            resource: &draft.resource,
            simulated,
            livemode: draft.mode.is_live(),
            request: draft.request.as_ref(),
            links: [
                Link { href: self_href.clone(), rel: "self", method: "GET" },
                Link { href: format!("{self_href}/resend"), rel: "resend", method: "POST" },
            ],
        };
        let body = serde_json::to_vec(&envelope).expect("the envelope serialises");
        Event {
            id,
            account_id: environment.clone(),
            event_type: draft.event_type.clone(),
            created_at: now,
            body: Bytes::from(body),
            resource_id: resource_id(&draft.resource),
            simulated,
            trace: draft.trace.clone(),
        }
    }
}

/// The resource's top-level `"id"` string, if it has one (what `transaction_id` filters on).
fn resource_id(resource: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct WithId {
        id: Option<serde_json::Value>,
    }
    let parsed: WithId = serde_json::from_str(resource.get()).ok()?;
    match parsed.id? {
        serde_json::Value::String(id) => Some(id),
        serde_json::Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// The event object, as `GET …/webhooks-events/{id}` shows it and as a `standard` delivery sends it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Envelope<'a> {
    #[schema(value_type = crate::domain::EventId)]
    id: &'a str,
    #[schema(value_type = crate::domain::Timestamp)]
    create_time: String,
    event_type: &'a str,
    resource_type: Option<&'a str>,
    resource_version: Option<&'a str>,
    event_version: &'a str,
    summary: &'a str,
    /// The resource exactly as published.
    #[schema(value_type = Object)]
    resource: &'a RawValue,
    /// Present (and true) only on events made by simulate-event.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    simulated: bool,
    /// False for an event published in test mode, which only test webhooks receive.
    livemode: bool,
    /// The API request that published the event (absent for Herald's own notices).
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<&'a RequestRef>,
    links: [Link; 2],
}

#[derive(Serialize, utoipa::ToSchema)]
struct Link {
    href: String,
    rel: &'static str,
    method: &'static str,
}

/// The stored bodies themselves make the response, so what the caller sees is byte for byte what is sent.
fn response_body(events: &[Event], shape: ResponseShape) -> Bytes {
    if shape == ResponseShape::Single {
        return events[0].body.clone();
    }
    let mut out = Vec::with_capacity(events.iter().map(|e| e.body.len() + 1).sum::<usize>() + 16);
    out.extend_from_slice(b"{\"events\":[");
    for (index, event) in events.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&event.body);
    }
    out.extend_from_slice(b"]}");
    Bytes::from(out)
}

#[async_trait::async_trait]
impl crate::notices::NoticePublisher for Publisher {
    async fn publish_notice(
        &self,
        account: &AccountId,
        kind: EventTypeName,
        resource: Box<RawValue>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let draft = EventDraft {
            account_id: account.clone(),
            mode: Mode::Live,
            request: None,
            event_type: kind,
            resource,
            summary: None,
            resource_type: None,
            resource_version: None,
            trace: None,
        };
        self.publish(vec![draft], None, ResponseShape::Single).await?;
        Ok(())
    }
}
