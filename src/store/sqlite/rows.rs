//! SQLite rows to domain records, in the column order of `store::columns`.

use crate::domain::trace::TraceContext;
use rusqlite::Row;
use rusqlite::types::Type;

use crate::domain::model::*;
use crate::domain::*;
use crate::store::columns;
pub use crate::store::columns::*;

/// A stored value this version cannot read back is an error, not a silent default.
fn bad(column: usize, what: impl Into<String>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, what.into().into())
}

fn parsed<T>(row: &Row, column: usize, parse: impl FnOnce(&str) -> Option<T>) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    parse(&text).ok_or_else(|| bad(column, format!("unexpected value {text:?}")))
}

fn time(row: &Row, column: usize) -> rusqlite::Result<Timestamp> {
    row.get(column).map(Timestamp::from_millis)
}

pub fn account(row: &Row) -> rusqlite::Result<Account> {
    Ok(Account {
        id: AccountId::from_trusted(row.get(0)?),
        name: row.get(1)?,
        client_id: row.get(2)?,
        created_at: time(row, 3)?,
    })
}

pub fn api_key(row: &Row) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: ApiKeyId::from_trusted(row.get(0)?),
        owner_id: AccountId::from_trusted(row.get(1)?),
        environment_id: AccountId::from_trusted(row.get(2)?),
        name: row.get(3)?,
        mode: parsed(row, 4, Mode::parse)?,
        scope: parsed(row, 5, KeyScope::parse)?,
        client_id: row.get(6)?,
        created_at: time(row, 7)?,
        last_used_at: row.get::<_, Option<i64>>(8)?.map(Timestamp::from_millis),
        previous_expires_at: row.get::<_, Option<i64>>(9)?.map(Timestamp::from_millis),
    })
}

pub fn request_log(row: &Row) -> rusqlite::Result<crate::store::RequestLog> {
    Ok(crate::store::RequestLog {
        id: RequestId::from_trusted(row.get(0)?),
        account_id: AccountId::from_trusted(row.get(1)?),
        api_key_id: ApiKeyId::from_trusted(row.get(2)?),
        mode: parsed(row, 3, Mode::parse)?,
        method: row.get(4)?,
        path: row.get(5)?,
        status: row.get(6)?,
        duration_ms: row.get(7)?,
        idempotency_key: row.get(8)?,
        client_address: row.get(9)?,
        event_id: row.get::<_, Option<String>>(10)?.map(EventId::from_trusted),
        request_body: row.get(11)?,
        response_body: row.get(12)?,
        created_at: time(row, 13)?,
    })
}

pub fn event_type(row: &Row) -> rusqlite::Result<EventType> {
    Ok(EventType {
        name: EventTypeName::from_trusted(row.get(0)?),
        description: row.get(1)?,
        resource_type: row.get(2)?,
        resource_version: row.get(3)?,
        sample: row.get(4)?,
        status: parsed(row, 5, EventTypeStatus::parse)?,
        created_at: time(row, 6)?,
        updated_at: time(row, 7)?,
        schema: row.get(8)?,
    })
}

pub fn event(row: &Row) -> rusqlite::Result<Event> {
    Ok(Event {
        id: EventId::from_trusted(row.get(0)?),
        account_id: AccountId::from_trusted(row.get(1)?),
        event_type: EventTypeName::from_trusted(row.get(2)?),
        created_at: time(row, 3)?,
        body: bytes::Bytes::from(row.get::<_, Vec<u8>>(4)?),
        resource_id: row.get(5)?,
        simulated: row.get(6)?,
        trace: trace_context(row.get(7)?, row.get(8)?),
    })
}

/// The stored trace context, if the event came with one.
pub fn trace_context(traceparent: Option<String>, tracestate: Option<String>) -> Option<TraceContext> {
    traceparent.map(|parent| TraceContext::from_stored(parent, tracestate))
}

pub fn webhook(row: &Row) -> rusqlite::Result<Webhook> {
    Ok(Webhook {
        id: WebhookId::from_trusted(row.get(0)?),
        account_id: AccountId::from_trusted(row.get(1)?),
        url: WebhookUrl::from_trusted(row.get(2)?),
        event_types: parsed(row, 3, columns::subscriptions_from_json)?,
        status: parsed(row, 4, WebhookStatus::parse)?,
        format: parsed(row, 5, DeliveryFormat::parse)?,
        description: row.get(6)?,
        disabled_reason: row.get(7)?,
        created_at: time(row, 8)?,
        updated_at: time(row, 9)?,
        signing: parsed(row, 10, SigningAlgorithm::parse)?,
        api_version: row.get(11)?,
        policy: parsed(row, 12, columns::policy_from_json)?,
    })
}

pub fn delivery(row: &Row) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: DeliveryId::from_trusted(row.get(0)?),
        event_id: EventId::from_trusted(row.get(1)?),
        webhook_id: WebhookId::from_trusted(row.get(2)?),
        event_type: EventTypeName::from_trusted(row.get(3)?),
        state: parsed(row, 4, DeliveryState::parse)?,
        trigger: parsed(row, 5, Trigger::parse)?,
        attempt_count: row.get(6)?,
        last_status_code: row.get(7)?,
        created_at: time(row, 8)?,
        next_attempt_at: row.get::<_, Option<i64>>(9)?.map(Timestamp::from_millis),
    })
}

fn headers_from_json(row: &Row, column: usize) -> rusqlite::Result<Vec<(String, String)>> {
    let text: String = row.get(column)?;
    columns::headers_from_json(&text).ok_or_else(|| bad(column, "headers are not a JSON list of pairs"))
}

pub fn attempt(row: &Row) -> rusqlite::Result<Attempt> {
    let response = match row.get::<_, Option<u16>>(8)? {
        Some(status) => Some(AttemptResponse {
            status,
            headers: headers_from_json(row, 9)?,
            body: row.get::<_, Option<Vec<u8>>>(10)?.unwrap_or_default(),
            truncated: row.get(11)?,
        }),
        None => None,
    };
    let error = match row.get::<_, Option<String>>(12)? {
        Some(code) => Some(AttemptError { code, message: row.get::<_, Option<String>>(13)?.unwrap_or_default() }),
        None => None,
    };
    Ok(Attempt {
        id: AttemptId::from_trusted(row.get(0)?),
        delivery_id: DeliveryId::from_trusted(row.get(1)?),
        number: row.get(2)?,
        started_at: time(row, 3)?,
        duration_ms: row.get(4)?,
        trigger: parsed(row, 5, Trigger::parse)?,
        request_url: row.get(6)?,
        request_headers: headers_from_json(row, 7)?,
        response,
        error,
        node: row.get(14)?,
    })
}

pub fn listener(row: &Row) -> rusqlite::Result<crate::store::StoredListener> {
    Ok(crate::store::StoredListener {
        listener: Listener {
            id: ListenerId::from_trusted(row.get(0)?),
            account_id: AccountId::from_trusted(row.get(1)?),
            format: parsed(row, 2, DeliveryFormat::parse)?,
            event_types: parsed(row, 3, subscriptions_from_json)?,
            created_at: time(row, 4)?,
        },
        sealed_secret: row.get(5)?,
    })
}
