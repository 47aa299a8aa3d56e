//! Merchant: temporary delivery channels for `herald listen` (`/v1/notifications/listeners`).
//!
//! A listener streams the account's events as server-sent events, each already laid out and signed as a
//! webhook of the listener's format would receive it (the same code as real deliveries), with the
//! listener's own secret. The stream resumes after the last event id the client saw (`Last-Event-ID`), so
//! a reconnecting client loses nothing. Listeners are deleted by the client when it exits, or after an hour
//! without a stream.
//!
//! Event ids are made before their event is committed, so commits land out of id order (two publishers,
//! or two nodes). A stream therefore follows the order of commits, which the store keeps
//! ([`crate::store::CommitPosition`]): each event is sent once, however late it committed behind a newer
//! id, and a client resuming after an event id gets what was committed after that event. A stream waits
//! for the store's announcement that its account committed events, and looks by itself every
//! [`LOOK_AGAIN`] in case one was missed.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use herald_signature::standard::SigningSecret;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorDetail, body_pointer};
use super::extract::{Merchant, OptionalJsonBody, RequestBody};
use super::openapi::Errors;
use super::paging::QueryParams;
use super::state::AppState;
use super::webhooks::{EventTypeRef, catalog_descriptions};
use crate::deliver::format::{Keys, Parties, body_for, headers_for};
use crate::domain::event_type::Subscription;
use crate::domain::model::{DeliveryFormat, Event, Listener};
use crate::domain::{EventId, ListenerId, Timestamp};
use crate::service::webhooks::parse_subscriptions;
use crate::store::{CommitPosition, CommitWatch, LISTENER_IDLE_LIFETIME, StoredListener};

/// How often a stream looks for events when no announcement woke it, and how often it tells the store
/// it is alive.
const LOOK_AGAIN: Duration = Duration::from_secs(1);
const TOUCH: Duration = Duration::from_secs(30);
/// After an announcement that found nothing readable yet (on PostgreSQL an older transaction was still
/// open), how soon to look again.
const SOON: Duration = Duration::from_millis(20);
const BATCH: u32 = 100;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateListener {
    /// The events to stream; default all (`[{"name": "*"}]`).
    event_types: Option<Vec<EventTypeRef>>,
    /// `standard` (default) or `stripe`: how each event is laid out and signed.
    format: Option<String>,
}

impl RequestBody for CreateListener {}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ListenerView {
    id: ListenerId,
    format: &'static str,
    event_types: Vec<String>,
    /// The `whsec_` secret the streamed events are signed with.
    secret: String,
    /// Where to read the events (`text/event-stream`).
    stream_url: String,
    created_at: Timestamp,
}

fn view(state: &AppState, listener: &Listener, secret: &SigningSecret) -> ListenerView {
    ListenerView {
        id: listener.id.clone(),
        format: listener.format.as_str(),
        event_types: listener.event_types.iter().map(|s| s.as_str().to_owned()).collect(),
        secret: secret.to_whsec(),
        stream_url: format!("{}/v1/notifications/listeners/{}/events", state.public_url, listener.id),
        created_at: listener.created_at,
    }
}

/// `POST /v1/notifications/listeners`: a new channel; its events start with those published from now on.
#[utoipa::path(operation_id = "create_listener", post, path = "/v1/notifications/listeners", tag = "listeners", request_body(content = Option<CreateListener>), security(("client_credentials" = []), ("access_token" = [])), responses((status = 201, body = ListenerView), Errors))]
pub async fn create(
    merchant: Merchant,
    State(state): State<AppState>,
    OptionalJsonBody(body): OptionalJsonBody<CreateListener>,
) -> Result<(StatusCode, Json<ListenerView>), ApiError> {
    let format = match body.format.as_deref() {
        None | Some("standard") => DeliveryFormat::Standard,
        Some("stripe") => DeliveryFormat::Stripe,
        Some(other) => {
            let detail =
                ErrorDetail::body("/format", "UNSUPPORTED_FORMAT", "a listener's format is standard or stripe");
            return Err(ApiError::validation(detail.with_value(other)));
        }
    };
    let event_types = match &body.event_types {
        Some(refs) => {
            let names: Vec<String> = refs.iter().map(|r| r.name.clone()).collect();
            let catalog = catalog_descriptions(&state).await?;
            parse_subscriptions(&names, &catalog).map_err(|refusal| ApiError::refused(refusal, body_pointer))?
        }
        None => vec![Subscription::All],
    };
    let key = rand::random::<[u8; 32]>().to_vec();
    let secret = SigningSecret::from_key(key.clone()).map_err(ApiError::internal)?;
    let now = Timestamp::now();
    let listener =
        Listener { id: ListenerId::generate(), account_id: merchant.account_id, format, event_types, created_at: now };
    let stored = StoredListener { listener: listener.clone(), sealed_secret: state.keyring.seal(&key) };
    state.store.create_listener(stored, now.minus(LISTENER_IDLE_LIFETIME)).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &listener, &secret))))
}

async fn owned(state: &AppState, merchant: &Merchant, id: &str) -> Result<(Listener, SigningSecret), ApiError> {
    let not_found = || ApiError::not_found("listener");
    let id = ListenerId::parse(id).map_err(|_| not_found())?;
    let stored = state.store.get_listener(&merchant.account_id, &id).await?.ok_or_else(not_found)?;
    let key = state.keyring.open(&stored.sealed_secret).map_err(ApiError::internal)?;
    Ok((stored.listener, SigningSecret::from_key(key).map_err(ApiError::internal)?))
}

/// `GET /v1/notifications/listeners/{id}`: the listener and its secret (a CLI resuming after a restart).
#[utoipa::path(operation_id = "show_listener", get, path = "/v1/notifications/listeners/{id}", tag = "listeners", params(("id" = String, Path, description = "Listener id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, body = ListenerView), Errors))]
pub async fn show(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ListenerView>, ApiError> {
    let (listener, secret) = owned(&state, &merchant, &id).await?;
    Ok(Json(view(&state, &listener, &secret)))
}

/// `DELETE /v1/notifications/listeners/{id}`: the channel goes; its stream ends.
#[utoipa::path(operation_id = "delete_listener", delete, path = "/v1/notifications/listeners/{id}", tag = "listeners", params(("id" = String, Path, description = "Listener id")), security(("client_credentials" = []), ("access_token" = [])), responses((status = 204, description = "Deleted"), Errors))]
pub async fn delete(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = ListenerId::parse(&id).map_err(|_| ApiError::not_found("listener"))?;
    match state.store.delete_listener(&merchant.account_id, &id).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found("listener")),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Resume after this event id (the `Last-Event-ID` header does the same and wins).
    after: Option<String>,
}

/// One streamed event: what a webhook of the listener's format would receive.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StreamedDelivery {
    event_id: String,
    event_type: String,
    /// The request headers, signatures included.
    headers: std::collections::BTreeMap<String, String>,
    /// The request body, exactly.
    body: String,
}

/// `GET /v1/notifications/listeners/{id}/events`: the account's events as server-sent events (`id:` the
/// event id, `event: delivery`, `data:` a [`StreamedDelivery`]), from after `Last-Event-ID` (or `?after=`,
/// or the listener's creation) on, for as long as the client reads and the listener exists.
#[utoipa::path(operation_id = "stream_listener_events", get, path = "/v1/notifications/listeners/{id}/events", tag = "streams", params(("id" = String, Path, description = "Listener id"), StreamQuery), security(("client_credentials" = []), ("access_token" = [])), responses((status = 200, description = "A stream of `delivery` events", content_type = "text/event-stream", body = StreamedDelivery), Errors))]
pub async fn stream(
    merchant: Merchant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    QueryParams(query): QueryParams<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let (listener, secret) = owned(&state, &merchant, &id).await?;
    let place = state.streams.clone().try_acquire_owned().map_err(|_| ApiError::too_many_streams())?;
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_owned).or(query.after);
    let cursor = match resume.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(text) => EventId::parse(text).map_err(|_| {
            let detail = ErrorDetail::body("", "INVALID_RESUME_ID", "Last-Event-ID (or after) must be an event id");
            ApiError::validation(detail.with_value(text))
        })?,
        None => EventId::floor_at(listener.created_at),
    };
    let keys = Keys::Hmac(vec![secret]);
    // Subscribed before the first read, so that nothing committed after it goes unannounced.
    let commits = state.store.commits();
    let position = state.store.stream_position(&listener.account_id, &cursor).await?;
    let reader = Reader {
        state,
        listener,
        keys,
        position,
        commits,
        buffered: VecDeque::new(),
        touched: Instant::now(),
        _place: place,
    };
    let events = futures_util::stream::unfold(reader, |mut reader| async move {
        let next = reader.next().await?;
        Some((Ok(next), reader))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Reads a listener's events from the store in commit order and lays each out as a delivery.
struct Reader {
    state: AppState,
    listener: Listener,
    keys: Keys,
    /// Where the stream stands in the order of commits: what was committed after it is sent.
    position: CommitPosition,
    commits: CommitWatch,
    buffered: VecDeque<Event>,
    /// When the store last heard that this stream is being read.
    touched: Instant,
    /// Its place among the node's open streams, given back when the stream ends.
    _place: tokio::sync::OwnedSemaphorePermit,
}

impl Reader {
    /// The next matching event as an SSE message; `None` ends the stream (shutdown, or the listener went).
    async fn next(&mut self) -> Option<SseEvent> {
        let mut wait = LOOK_AGAIN;
        loop {
            // Also while events flow without a pause, so a busy stream is never taken for an idle one.
            if self.touched.elapsed() >= TOUCH {
                self.touched = Instant::now();
                if !self.still_there().await {
                    return None;
                }
            }
            while let Some(event) = self.buffered.pop_front() {
                if self.listener.event_types.iter().any(|s| s.matches(&event.event_type)) {
                    return Some(self.message(&event));
                }
            }
            match self.refill().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(error = %error, listener.id = %self.listener.id, "a listener's stream cannot read events")
                }
            }
            let account = self.listener.account_id.clone();
            tokio::select! {
                _ = self.state.shutdown.cancelled() => return None,
                _ = self.commits.committed(&account) => wait = SOON,
                _ = tokio::time::sleep(wait) => wait = LOOK_AGAIN,
            }
        }
    }

    /// Buffers the next events committed after the stream's position; whether it found any.
    async fn refill(&mut self) -> Result<bool, crate::store::StoreError> {
        let account = &self.listener.account_id;
        let page = self.state.store.events_committed_after(account, &self.position, BATCH).await?;
        let found = !page.is_empty();
        for (position, event) in page {
            self.position = position;
            self.buffered.push_back(event);
        }
        Ok(found)
    }

    /// Refreshes the listener's last-seen time; false once it has been deleted.
    async fn still_there(&self) -> bool {
        let id = &self.listener.id;
        match self.state.store.get_listener(&self.listener.account_id, id).await {
            Ok(None) => false,
            Ok(Some(_)) => {
                let _ = self.state.store.touch_listener(id, Timestamp::now()).await;
                true
            }
            Err(_) => true,
        }
    }

    fn message(&self, event: &Event) -> SseEvent {
        let body = body_for(self.listener.format, None, &event.body);
        let parties = Parties { event_id: event.id.as_str(), webhook_id: self.listener.id.as_str() };
        let headers = headers_for(self.listener.format, &self.keys, parties, &body, Timestamp::now());
        let headers = headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        let delivery = StreamedDelivery {
            event_id: event.id.to_string(),
            event_type: event.event_type.to_string(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let data = serde_json::to_string(&delivery).unwrap_or_default();
        SseEvent::default().id(event.id.as_str()).event("delivery").data(data)
    }
}
