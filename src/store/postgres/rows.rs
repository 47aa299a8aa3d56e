//! PostgreSQL rows to domain records. Each `*_COLUMNS` list and its mapper go together; the column lists
//! are the SQLite ones, so both backends read the same shape.

use crate::domain::trace::TraceContext;
use tokio_postgres::Row;

use crate::domain::model::*;
use crate::domain::*;
use crate::store::StoreError;
use crate::store::columns::{headers_from_json, policy_from_json, subscriptions_from_json};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unexpected {what} {value:?}"))
}

fn parsed<T>(row: &Row, column: usize, what: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T, StoreError> {
    let text: String = row.get(column);
    parse(&text).ok_or_else(|| corrupt(what, &text))
}

fn time(row: &Row, column: usize) -> Timestamp {
    Timestamp::from_millis(row.get(column))
}

pub fn account(row: &Row) -> Result<Account, StoreError> {
    Ok(Account {
        id: AccountId::from_trusted(row.get(0)),
        name: row.get(1),
        client_id: row.get(2),
        created_at: time(row, 3),
    })
}

pub fn api_key(row: &Row) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: ApiKeyId::from_trusted(row.get(0)),
        owner_id: AccountId::from_trusted(row.get(1)),
        environment_id: AccountId::from_trusted(row.get(2)),
        name: row.get(3),
        mode: parsed(row, 4, "mode", Mode::parse)?,
        scope: parsed(row, 5, "scope", KeyScope::parse)?,
        client_id: row.get(6),
        created_at: time(row, 7),
        last_used_at: row.get::<_, Option<i64>>(8).map(Timestamp::from_millis),
        previous_expires_at: row.get::<_, Option<i64>>(9).map(Timestamp::from_millis),
    })
}

pub fn request_log(row: &Row) -> Result<crate::store::RequestLog, StoreError> {
    Ok(crate::store::RequestLog {
        id: RequestId::from_trusted(row.get(0)),
        account_id: AccountId::from_trusted(row.get(1)),
        api_key_id: ApiKeyId::from_trusted(row.get(2)),
        mode: parsed(row, 3, "mode", Mode::parse)?,
        method: row.get(4),
        path: row.get(5),
        status: u16::try_from(row.get::<_, i32>(6)).map_err(|_| corrupt("status", "out of range"))?,
        duration_ms: u32::try_from(row.get::<_, i32>(7)).unwrap_or(0),
        idempotency_key: row.get(8),
        client_address: row.get(9),
        event_id: row.get::<_, Option<String>>(10).map(EventId::from_trusted),
        request_body: row.get(11),
        response_body: row.get(12),
        created_at: time(row, 13),
    })
}

pub fn event_type(row: &Row) -> Result<EventType, StoreError> {
    Ok(EventType {
        name: EventTypeName::from_trusted(row.get(0)),
        description: row.get(1),
        resource_type: row.get(2),
        resource_version: row.get(3),
        sample: row.get(4),
        status: parsed(row, 5, "event type status", EventTypeStatus::parse)?,
        created_at: time(row, 6),
        updated_at: time(row, 7),
        schema: row.get(8),
    })
}

pub fn event(row: &Row) -> Result<Event, StoreError> {
    Ok(Event {
        id: EventId::from_trusted(row.get(0)),
        account_id: AccountId::from_trusted(row.get(1)),
        event_type: EventTypeName::from_trusted(row.get(2)),
        created_at: time(row, 3),
        body: bytes::Bytes::from(row.get::<_, Vec<u8>>(4)),
        resource_id: row.get(5),
        simulated: row.get(6),
        trace: row.get::<_, Option<String>>(7).map(|parent| TraceContext::from_stored(parent, row.get(8))),
    })
}

pub fn webhook(row: &Row) -> Result<Webhook, StoreError> {
    Ok(Webhook {
        id: WebhookId::from_trusted(row.get(0)),
        account_id: AccountId::from_trusted(row.get(1)),
        url: WebhookUrl::from_trusted(row.get(2)),
        event_types: parsed(row, 3, "event types", subscriptions_from_json)?,
        status: parsed(row, 4, "webhook status", WebhookStatus::parse)?,
        format: parsed(row, 5, "format", DeliveryFormat::parse)?,
        description: row.get(6),
        disabled_reason: row.get(7),
        created_at: time(row, 8),
        updated_at: time(row, 9),
        signing: parsed(row, 10, "signing", SigningAlgorithm::parse)?,
        api_version: row.get(11),
        policy: parsed(row, 12, "policy", policy_from_json)?,
    })
}

pub fn delivery(row: &Row) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: DeliveryId::from_trusted(row.get(0)),
        event_id: EventId::from_trusted(row.get(1)),
        webhook_id: WebhookId::from_trusted(row.get(2)),
        event_type: EventTypeName::from_trusted(row.get(3)),
        state: parsed(row, 4, "delivery state", DeliveryState::parse)?,
        trigger: parsed(row, 5, "trigger", Trigger::parse)?,
        attempt_count: row.get::<_, i32>(6) as u32,
        last_status_code: row.get::<_, Option<i32>>(7).map(|s| s as u16),
        created_at: time(row, 8),
        next_attempt_at: row.get::<_, Option<i64>>(9).map(Timestamp::from_millis),
    })
}

pub fn attempt(row: &Row) -> Result<Attempt, StoreError> {
    let headers = |column: usize| -> Result<Vec<(String, String)>, StoreError> {
        let text: String = row.get(column);
        headers_from_json(&text).ok_or_else(|| corrupt("headers", &text))
    };
    let response = match row.get::<_, Option<i32>>(8) {
        Some(status) => Some(AttemptResponse {
            status: status as u16,
            headers: headers(9)?,
            body: row.get::<_, Option<Vec<u8>>>(10).unwrap_or_default(),
            truncated: row.get(11),
        }),
        None => None,
    };
    let error = row
        .get::<_, Option<String>>(12)
        .map(|code| AttemptError { code, message: row.get::<_, Option<String>>(13).unwrap_or_default() });
    Ok(Attempt {
        id: AttemptId::from_trusted(row.get(0)),
        delivery_id: DeliveryId::from_trusted(row.get(1)),
        number: row.get::<_, i32>(2) as u32,
        started_at: time(row, 3),
        duration_ms: row.get::<_, i64>(4) as u64,
        trigger: parsed(row, 5, "trigger", Trigger::parse)?,
        request_url: row.get(6),
        request_headers: headers(7)?,
        response,
        error,
        node: row.get(14),
    })
}

pub fn listener(row: &Row) -> Result<crate::store::StoredListener, StoreError> {
    Ok(crate::store::StoredListener {
        listener: Listener {
            id: ListenerId::from_trusted(row.get(0)),
            account_id: AccountId::from_trusted(row.get(1)),
            format: parsed(row, 2, "format", DeliveryFormat::parse)?,
            event_types: parsed(row, 3, "event types", subscriptions_from_json)?,
            created_at: time(row, 4),
        },
        sealed_secret: row.get(5),
    })
}
