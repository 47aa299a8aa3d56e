//! Read queries. Each takes a reader connection and returns domain records.

use rusqlite::{Connection, OptionalExtension, params};

use super::{backend, rows};
use crate::domain::model::*;
use crate::domain::*;
use crate::store::{
    AccountCredentials, DeliveryStats, EventFilter, Overview, PageRequest, StoreResult, StoredListener, StoredSecret,
    StoredTarget,
};

pub fn list_accounts(conn: &Connection, page: &PageRequest) -> StoreResult<Vec<Account>> {
    let sql = format!("SELECT {} FROM accounts WHERE id > ?1 ORDER BY id LIMIT ?2", rows::ACCOUNT_COLUMNS);
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let after = page.after.as_deref().unwrap_or("");
    let found = stmt.query_map(params![after, page.limit], rows::account).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

pub fn get_account(conn: &Connection, id: &AccountId) -> StoreResult<Option<Account>> {
    let sql = format!("SELECT {} FROM accounts WHERE id = ?1", rows::ACCOUNT_COLUMNS);
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([id.as_str()], rows::account).optional())
        .map_err(backend)
}

pub fn find_credentials(conn: &Connection, client_id: &str) -> StoreResult<Option<AccountCredentials>> {
    let found: Option<(String, Vec<u8>)> = conn
        .prepare_cached("SELECT id, secret_hash FROM accounts WHERE client_id = ?1")
        .and_then(|mut stmt| stmt.query_row([client_id], |row| Ok((row.get(0)?, row.get(1)?))).optional())
        .map_err(backend)?;
    let Some((id, hash)) = found else { return Ok(None) };
    let secret_hash = hash.try_into().map_err(|_| crate::store::StoreError::Corrupt("secret hash length".into()))?;
    Ok(Some(AccountCredentials { account_id: AccountId::from_trusted(id), secret_hash }))
}

pub fn list_event_types(conn: &Connection) -> StoreResult<Vec<EventType>> {
    let sql = format!("SELECT {} FROM event_types ORDER BY name", rows::EVENT_TYPE_COLUMNS);
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let found = stmt.query_map([], rows::event_type).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

pub fn get_event_type(conn: &Connection, name: &EventTypeName) -> StoreResult<Option<EventType>> {
    let sql = format!("SELECT {} FROM event_types WHERE name = ?1", rows::EVENT_TYPE_COLUMNS);
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([name.as_str()], rows::event_type).optional())
        .map_err(backend)
}

pub fn list_webhooks(conn: &Connection, account: &AccountId) -> StoreResult<Vec<Webhook>> {
    let sql = format!(
        "SELECT {} FROM webhooks WHERE account_id = ?1 AND deleted_at IS NULL ORDER BY id",
        rows::WEBHOOK_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let found = stmt.query_map([account.as_str()], rows::webhook).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

pub fn get_webhook(conn: &Connection, account: &AccountId, id: &WebhookId) -> StoreResult<Option<Webhook>> {
    let sql = format!(
        "SELECT {} FROM webhooks WHERE id = ?1 AND account_id = ?2 AND deleted_at IS NULL",
        rows::WEBHOOK_COLUMNS
    );
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([id.as_str(), account.as_str()], rows::webhook).optional())
        .map_err(backend)
}

/// The live secrets of a webhook, newest first (the newest signs first in the header).
pub fn sealed_secrets(conn: &Connection, webhook: &str, now: Timestamp) -> StoreResult<Vec<Vec<u8>>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT sealed FROM webhook_secrets WHERE webhook_id = ?1 AND (expires_at IS NULL OR expires_at > ?2) \
             ORDER BY created_at DESC",
        )
        .map_err(backend)?;
    let found = stmt.query_map(params![webhook, now.as_millis()], |row| row.get(0)).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

pub fn delivery_targets(conn: &Connection, account: &AccountId, now: Timestamp) -> StoreResult<Vec<StoredTarget>> {
    let sql = format!(
        "SELECT {} FROM webhooks w WHERE w.account_id = ?1 AND w.deleted_at IS NULL AND w.status = 'ENABLED' \
         ORDER BY w.id",
        rows::TARGET_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let found = stmt.query_map([account.as_str()], |row| target_row(row, 0)).map_err(backend)?;
    let rows = found.collect::<Result<Vec<_>, _>>().map_err(backend)?;
    rows.into_iter().map(|row| target(conn, row, now)).collect()
}

/// Reads [`rows::TARGET_COLUMNS`] starting at column `first`.
pub fn target_row(row: &rusqlite::Row, first: usize) -> rusqlite::Result<rows::TargetRow> {
    Ok(rows::TargetRow {
        id: row.get(first)?,
        url: row.get(first + 1)?,
        format: row.get(first + 2)?,
        event_types: row.get(first + 3)?,
        signing: row.get(first + 4)?,
        api_version: row.get(first + 5)?,
        policy: row.get(first + 6)?,
        account_id: row.get(first + 7)?,
    })
}

pub fn target(conn: &Connection, row: rows::TargetRow, now: Timestamp) -> StoreResult<StoredTarget> {
    let sealed = sealed_secrets(conn, &row.id, now)?;
    row.into_target(sealed)
}

pub fn get_event(conn: &Connection, account: &AccountId, id: &EventId) -> StoreResult<Option<Event>> {
    let sql = format!("SELECT {} FROM events WHERE id = ?1 AND account_id = ?2", rows::EVENT_COLUMNS);
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([id.as_str(), account.as_str()], rows::event).optional())
        .map_err(backend)
}

pub fn list_events(
    conn: &Connection,
    account: &AccountId,
    filter: &EventFilter,
    page: &PageRequest,
) -> StoreResult<Vec<Event>> {
    let sql = format!(
        "SELECT {} FROM events WHERE account_id = ?1 AND simulated = 0 \
         AND (?2 IS NULL OR created_at >= ?2) AND (?3 IS NULL OR created_at <= ?3) \
         AND (?4 IS NULL OR event_type = ?4) AND (?5 IS NULL OR resource_id = ?5) AND (?6 IS NULL OR id < ?6) \
         ORDER BY id DESC LIMIT ?7",
        rows::EVENT_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let params = params![
        account.as_str(),
        filter.start_time.map(Timestamp::as_millis),
        filter.end_time.map(Timestamp::as_millis),
        filter.event_type.as_ref().map(EventTypeName::as_str),
        filter.resource_id,
        page.after,
        page.limit
    ];
    let found = stmt.query_map(params, rows::event).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

pub fn find_token(conn: &Connection, token_hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<AccountId>> {
    conn.prepare_cached(
        "SELECT account_id FROM oauth_tokens WHERE token_hash = ?1 AND expires_at > ?2 AND revoked_at IS NULL",
    )
    .and_then(|mut stmt| stmt.query_row(params![token_hash.as_slice(), now.as_millis()], |row| row.get(0)).optional())
    .map(|found| found.map(AccountId::from_trusted))
    .map_err(backend)
}

pub fn webhook_secrets(conn: &Connection, webhook: &WebhookId, now: Timestamp) -> StoreResult<Vec<StoredSecret>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT sealed, created_at, expires_at FROM webhook_secrets \
             WHERE webhook_id = ?1 AND (expires_at IS NULL OR expires_at > ?2) ORDER BY created_at DESC",
        )
        .map_err(backend)?;
    let found = stmt
        .query_map(params![webhook.as_str(), now.as_millis()], |row| {
            Ok(StoredSecret {
                sealed: row.get(0)?,
                created_at: Timestamp::from_millis(row.get(1)?),
                expires_at: row.get::<_, Option<i64>>(2)?.map(Timestamp::from_millis),
            })
        })
        .map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

pub fn get_delivery(conn: &Connection, webhook: &WebhookId, id: &DeliveryId) -> StoreResult<Option<Delivery>> {
    let sql = format!(
        "SELECT {} FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = ?1 AND d.webhook_id = ?2",
        rows::DELIVERY_COLUMNS
    );
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([id.as_str(), webhook.as_str()], rows::delivery).optional())
        .map_err(backend)
}

pub fn next_due_at(conn: &Connection, now: Timestamp) -> StoreResult<Option<Timestamp>> {
    conn.prepare_cached(
        // A leased delivery becomes claimable again when its lease runs out, not before.
        "SELECT MIN(CASE WHEN w.paced THEN d.next_attempt_at \
                    ELSE MAX(d.next_attempt_at, COALESCE(d.leased_until, 0)) END) \
         FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         WHERE d.state = 'pending' AND w.status = 'ENABLED' AND w.deleted_at IS NULL \
           AND (w.paced = 0 OR d.next_attempt_at > ?1)",
    )
    .and_then(|mut stmt| stmt.query_row([now.as_millis()], |row| row.get::<_, Option<i64>>(0)))
    .map(|found| found.map(Timestamp::from_millis))
    .map_err(backend)
}

pub fn list_deliveries(
    conn: &Connection,
    webhook: &WebhookId,
    state: Option<DeliveryState>,
    page: &PageRequest,
) -> StoreResult<Vec<Delivery>> {
    // Newest first, as the attempts list shows them; the cursor is the last (oldest) id of the page. The
    // state is written into the statement (it is one of four fixed words) so that a rare state's list can
    // use its partial index (`deliveries_failed_by_webhook_id`, `deliveries_pending_by_webhook`) instead
    // of walking every delivery of the webhook.
    let state_filter = state.map(|s| format!("AND d.state = '{}'", s.as_str())).unwrap_or_default();
    let sql = format!(
        "SELECT {} FROM deliveries d JOIN events e ON e.id = d.event_id \
         WHERE d.webhook_id = ?1 {state_filter} AND (?2 IS NULL OR d.id < ?2) \
         ORDER BY d.id DESC LIMIT ?3",
        rows::DELIVERY_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let found = stmt.query_map(params![webhook.as_str(), page.after, page.limit], rows::delivery).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

pub fn list_attempts(conn: &Connection, delivery: &DeliveryId) -> StoreResult<Vec<Attempt>> {
    let sql = format!("SELECT {} FROM attempts WHERE delivery_id = ?1 ORDER BY number, id", rows::ATTEMPT_COLUMNS);
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let found = stmt.query_map([delivery.as_str()], rows::attempt).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

pub fn get_meta(conn: &Connection, key: &str) -> StoreResult<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
        .map_err(backend)
}

pub fn delivery_stats(conn: &Connection, webhook: &WebhookId, since: Timestamp) -> StoreResult<DeliveryStats> {
    // Each count reads one index: all of the window's deliveries `deliveries_by_webhook`, the failed and the
    // pending ones their partial indexes.
    let sql = "SELECT \
         (SELECT count(*) FROM deliveries WHERE webhook_id = ?1 AND id >= ?2), \
         (SELECT count(*) FROM deliveries WHERE webhook_id = ?1 AND state = 'failed' AND id >= ?2), \
         (SELECT count(*) FROM deliveries \
             WHERE webhook_id = ?1 AND state = 'pending' AND id >= ?2 AND attempt_count > 0)";
    let floor = DeliveryId::floor_at(since);
    conn.prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.query_row(params![webhook.as_str(), floor.as_str()], |row| {
                Ok(DeliveryStats {
                    total: row.get::<_, i64>(0)? as u64,
                    failed: row.get::<_, i64>(1)? as u64,
                    retrying: row.get::<_, i64>(2)? as u64,
                })
            })
        })
        .map_err(backend)
}

pub fn event_deliveries(conn: &Connection, account: &AccountId, event: &EventId) -> StoreResult<Vec<Delivery>> {
    let sql = format!(
        "SELECT {} FROM deliveries d JOIN events e ON e.id = d.event_id \
         WHERE d.event_id = ?1 AND d.account_id = ?2 ORDER BY d.id",
        rows::DELIVERY_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let found = stmt.query_map([event.as_str(), account.as_str()], rows::delivery).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}

pub fn overview(conn: &Connection, now: Timestamp, limit: u32) -> StoreResult<Overview> {
    let count = |sql: &str, params: &[&dyn rusqlite::ToSql]| -> StoreResult<u64> {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.query_row(params, |r| r.get::<_, i64>(0)))
            .map(|n| n as u64)
            .map_err(backend)
    };
    // Both counts are answered by the partial index `deliveries_due`.
    let pending =
        count("SELECT count(*) FROM deliveries WHERE state = 'pending' AND next_attempt_at IS NOT NULL", &[])?;
    let due = count(
        "SELECT count(*) FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?1 \
         AND (leased_until IS NULL OR leased_until < ?1)",
        &[&now.as_millis()],
    )?;
    let disabled_count = count("SELECT count(*) FROM webhooks WHERE status = 'DISABLED' AND deleted_at IS NULL", &[])?;
    let sql = format!(
        "SELECT {}, failing_since FROM webhooks WHERE status = 'ENABLED' AND deleted_at IS NULL \
         AND failing_since IS NOT NULL ORDER BY failing_since LIMIT ?1",
        rows::WEBHOOK_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let failing = stmt
        .query_map([limit], |row| {
            Ok((
                rows::webhook(row)?,
                Timestamp::from_millis(row.get::<_, i64>(crate::store::columns::WEBHOOK_COLUMN_COUNT)?),
            ))
        })
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    let sql = format!(
        "SELECT {} FROM webhooks WHERE status = 'DISABLED' AND deleted_at IS NULL ORDER BY updated_at DESC LIMIT ?1",
        rows::WEBHOOK_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let disabled =
        stmt.query_map([limit], rows::webhook).map_err(backend)?.collect::<Result<_, _>>().map_err(backend)?;
    Ok(Overview { pending, due, disabled_count, failing, disabled })
}

pub fn get_listener(conn: &Connection, account: &AccountId, id: &ListenerId) -> StoreResult<Option<StoredListener>> {
    let sql = format!("SELECT {} FROM listeners WHERE id = ?1 AND account_id = ?2", rows::LISTENER_COLUMNS);
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([id.as_str(), account.as_str()], rows::listener).optional())
        .map_err(backend)
}

pub fn events_after(conn: &Connection, account: &AccountId, after: &EventId, limit: u32) -> StoreResult<Vec<Event>> {
    let sql =
        format!("SELECT {} FROM events WHERE account_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3", rows::EVENT_COLUMNS);
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let found = stmt.query_map(params![account.as_str(), after.as_str(), limit], rows::event).map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}
