//! Accepting events: validate, build the exact bytes to deliver, fan out, commit, hand over.
//!
//! One call publishes one event or a batch, all or nothing. The events, their deliveries and the
//! idempotency key are written in a single store transaction (a transactional outbox: there is no separate
//! queue that could disagree with the database), and only after that commit does the caller get its
//! answer. Deliveries that fit in the worker queue are stored leased to this process and handed over in
//! memory at once; the rest are left for the poller.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::deliver::queue::{DeliveryJob, JobQueue};
use crate::deliver::target::{Target, TargetError};
use crate::domain::model::{Event, EventType, Trigger};
use crate::domain::{AccountId, DeliveryId, EventId, EventTypeName, Timestamp};
use crate::fanout;
use crate::keyring::Keyring;
use crate::store::{IdempotencyRecord, Lease, NewDelivery, PublishBatch, PublishOutcome, Store, StoreError};

/// The version of the event envelope Herald sends.
pub const EVENT_VERSION: &str = "1.0";

/// One event as the operator submits it, already parsed at the API edge.
pub struct EventDraft {
    pub account_id: AccountId,
    pub event_type: EventTypeName,
    /// The resource exactly as published; its bytes are kept, not re-serialised.
    pub resource: Box<RawValue>,
    pub summary: Option<String>,
    pub resource_type: Option<String>,
    pub resource_version: Option<String>,
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

/// Why a publish was refused. `index` is the event's position in a batch (`None` for a single event).
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the event type \"{name}\" is not in the catalog")]
    UnknownEventType { index: Option<usize>, name: String },
    #[error("there is no account \"{id}\"")]
    UnknownAccount { index: Option<usize>, id: String },
    #[error("a webhook's signing keys could not be prepared")]
    Target(#[from] TargetError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether the response is one event or `{"events": [...]}`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ResponseShape {
    Single,
    Batch,
}

/// Publishes events; shared by the API handlers.
pub struct Publisher {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    queue: JobQueue,
    public_url: String,
    lease_duration: std::time::Duration,
}

impl Publisher {
    pub fn new(
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        queue: JobQueue,
        public_url: String,
        lease_duration: std::time::Duration,
    ) -> Self {
        Self { store, keyring, queue, public_url, lease_duration }
    }

    /// Publishes `drafts` all or nothing and returns the response body to send.
    pub async fn publish(
        &self,
        drafts: Vec<EventDraft>,
        idempotency: Option<IdempotencyKey>,
        shape: ResponseShape,
    ) -> Result<Published, PublishError> {
        let now = Timestamp::now();
        let position = |index| (shape == ResponseShape::Batch).then_some(index);
        let catalog = self.catalog_entries(&drafts, position).await?;
        let targets = self.targets_by_account(&drafts, now, position).await?;
        let events: Vec<Event> =
            drafts.iter().map(|draft| self.build_event(draft, &catalog[&draft.event_type], now)).collect();
        let mut deliveries = Vec::new();
        let mut jobs_targets = Vec::new();
        for event in &events {
            for target in fanout::recipients(&targets[&event.account_id], &event.event_type) {
                deliveries.push(NewDelivery {
                    id: DeliveryId::generate(),
                    event_id: event.id.clone(),
                    webhook_id: target.webhook_id.clone(),
                    account_id: event.account_id.clone(),
                    trigger: Trigger::Scheduled,
                    next_attempt_at: now,
                    lease: None,
                });
                jobs_targets.push(((*target).clone(), event.body.clone()));
            }
        }
        let reservation = self.queue.try_reserve(deliveries.len());
        let lease = Lease { token: rand::random(), until: now.plus(self.lease_duration) };
        if reservation.is_some() {
            deliveries.iter_mut().for_each(|d| d.lease = Some(lease));
        }
        let response = response_body(&events, shape);
        let idempotency = idempotency.map(|k| IdempotencyRecord {
            key: k.key,
            request_hash: k.request_hash,
            response: response.clone(),
        });
        let jobs: Vec<DeliveryJob> = deliveries
            .iter()
            .zip(jobs_targets)
            .map(|(delivery, (target, body))| DeliveryJob {
                delivery_id: delivery.id.clone(),
                event_id: delivery.event_id.clone(),
                trigger: Trigger::Scheduled,
                attempt_number: 1,
                lease,
                body,
                target,
            })
            .collect();
        let has_deliveries = !deliveries.is_empty();
        let outcome = self.store.publish(PublishBatch { idempotency, events, deliveries }).await?;
        match outcome {
            PublishOutcome::Replayed { response } => Ok(Published::Replayed(response)),
            PublishOutcome::Committed => {
                match reservation {
                    Some(reservation) => reservation.send(jobs),
                    None if has_deliveries => self.queue.wake_poller(),
                    None => {}
                }
                Ok(Published::Created(response))
            }
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
            let Some(entry) = self.store.get_event_type(&draft.event_type).await? else {
                return Err(PublishError::UnknownEventType {
                    index: position(index),
                    name: draft.event_type.to_string(),
                });
            };
            found.insert(draft.event_type.clone(), entry);
        }
        Ok(found)
    }

    async fn targets_by_account(
        &self,
        drafts: &[EventDraft],
        now: Timestamp,
        position: impl Fn(usize) -> Option<usize>,
    ) -> Result<HashMap<AccountId, Vec<Arc<Target>>>, PublishError> {
        let mut found = HashMap::new();
        for (index, draft) in drafts.iter().enumerate() {
            if found.contains_key(&draft.account_id) {
                continue;
            }
            if self.store.get_account(&draft.account_id).await?.is_none() {
                return Err(PublishError::UnknownAccount { index: position(index), id: draft.account_id.to_string() });
            }
            let stored = self.store.delivery_targets(&draft.account_id, now).await?;
            let opened =
                stored.iter().map(|t| Target::open(t, &self.keyring).map(Arc::new)).collect::<Result<_, _>>()?;
            found.insert(draft.account_id.clone(), opened);
        }
        Ok(found)
    }

    fn build_event(&self, draft: &EventDraft, entry: &EventType, now: Timestamp) -> Event {
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
            links: [
                Link { href: self_href.clone(), rel: "self", method: "GET" },
                Link { href: format!("{self_href}/resend"), rel: "resend", method: "POST" },
            ],
        };
        let body = serde_json::to_vec(&envelope).expect("the envelope serialises");
        Event {
            id,
            account_id: draft.account_id.clone(),
            event_type: draft.event_type.clone(),
            created_at: now,
            body: Bytes::from(body),
        }
    }
}

/// The event object, as `GET …/webhooks-events/{id}` shows it and as a `standard` delivery sends it.
#[derive(Serialize)]
struct Envelope<'a> {
    id: &'a str,
    create_time: String,
    event_type: &'a str,
    resource_type: Option<&'a str>,
    resource_version: Option<&'a str>,
    event_version: &'a str,
    summary: &'a str,
    resource: &'a RawValue,
    links: [Link; 2],
}

#[derive(Serialize)]
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
