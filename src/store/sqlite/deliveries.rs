//! SQLite: the delivery and attempt log as the API and the dashboard read it.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, backend, rows};
use crate::domain::model::*;
use crate::domain::*;
use crate::store::*;

#[async_trait]
impl DeliveryLog for SqliteStore {
    async fn list_deliveries(
        &self,
        webhook: &WebhookId,
        state: Option<DeliveryState>,
        page: PageRequest,
    ) -> StoreResult<Vec<Delivery>> {
        self.read(|conn| list_deliveries(conn, webhook, state, &page))
    }

    async fn get_delivery(&self, webhook: &WebhookId, id: &DeliveryId) -> StoreResult<Option<Delivery>> {
        self.read(|conn| get_delivery(conn, webhook, id))
    }

    async fn list_attempts(&self, delivery: &DeliveryId) -> StoreResult<Vec<Attempt>> {
        self.read(|conn| list_attempts(conn, delivery))
    }

    async fn delivery_stats(&self, webhook: &WebhookId, since: Timestamp) -> StoreResult<DeliveryStats> {
        self.read(|conn| delivery_stats(conn, webhook, since))
    }

    async fn event_deliveries(&self, account: &AccountId, event: &EventId) -> StoreResult<Vec<Delivery>> {
        self.read(|conn| event_deliveries(conn, account, event))
    }

    async fn overview(&self, now: Timestamp, limit: u32) -> StoreResult<Overview> {
        self.read(|conn| overview(conn, now, limit))
    }

    async fn attempts_per_hour(
        &self,
        webhook: Option<&WebhookId>,
        since: Timestamp,
    ) -> StoreResult<Vec<HourOfAttempts>> {
        self.read(|conn| attempts_per_hour(conn, webhook, since))
    }
}

/// `SUM`s of 2xx and other answers per hour, for [`attempts_per_hour`].
const PER_HOUR: &str = "a.started_at / 3600000 AS hour, \
     SUM(CASE WHEN a.response_status BETWEEN 200 AND 299 THEN 1 ELSE 0 END), \
     SUM(CASE WHEN a.response_status BETWEEN 200 AND 299 THEN 0 ELSE 1 END)";

pub fn attempts_per_hour(
    conn: &Connection,
    webhook: Option<&WebhookId>,
    since: Timestamp,
) -> StoreResult<Vec<HourOfAttempts>> {
    let made_after = DeliveryId::floor_at(since.minus(ATTEMPTS_FOLLOW_WITHIN));
    let map = |row: &rusqlite::Row| {
        Ok(HourOfAttempts {
            hour: Timestamp::from_millis(row.get::<_, i64>(0)? * 3_600_000),
            succeeded: row.get::<_, i64>(1)? as u64,
            failed: row.get::<_, i64>(2)? as u64,
        })
    };
    let found = match webhook {
        Some(webhook) => {
            let sql = format!(
                "SELECT {PER_HOUR} FROM deliveries d JOIN attempts a ON a.delivery_id = d.id \
                 WHERE d.webhook_id = ?1 AND d.id >= ?2 AND a.started_at >= ?3 GROUP BY hour ORDER BY hour"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
            let rows = stmt
                .query_map(params![webhook.as_str(), made_after.as_str(), since.as_millis()], map)
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>()
        }
        None => {
            let sql = format!(
                "SELECT {PER_HOUR} FROM attempts a WHERE a.id >= ?1 AND a.started_at >= ?2 GROUP BY hour ORDER BY hour"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
            let floor = AttemptId::floor_at(since.minus(std::time::Duration::from_secs(3600)));
            let rows = stmt.query_map(params![floor.as_str(), since.as_millis()], map).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>()
        }
    };
    found.map_err(backend)
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
