//! SQLite: the merchant API's request logs.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, backend, rows};
use crate::domain::*;
use crate::store::*;

#[async_trait]
impl RequestLogStore for SqliteStore {
    async fn record_requests(&self, logs: Vec<RequestLog>) -> StoreResult<()> {
        self.writer.write(move |conn| record_requests(conn, &logs)).await
    }

    async fn list_request_logs(
        &self,
        account: &AccountId,
        filter: RequestLogFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<RequestLog>> {
        self.read(|conn| list_request_logs(conn, account, &filter, &page))
    }

    async fn get_request_log(&self, account: &AccountId, id: &RequestId) -> StoreResult<Option<RequestLog>> {
        self.read(|conn| {
            let sql =
                format!("SELECT {} FROM request_logs WHERE id = ?1 AND account_id = ?2", rows::REQUEST_LOG_COLUMNS);
            conn.prepare_cached(&sql)
                .and_then(|mut stmt| stmt.query_row([id.as_str(), account.as_str()], rows::request_log).optional())
                .map_err(backend)
        })
    }

    async fn expire_request_logs(&self, cutoff: Timestamp, limit: u32) -> StoreResult<u64> {
        let floor = RequestId::floor_at(cutoff);
        self.writer
            .write(move |conn| {
                conn.prepare_cached(
                    "DELETE FROM request_logs WHERE id IN (SELECT id FROM request_logs WHERE id < ?1 LIMIT ?2)",
                )
                .and_then(|mut stmt| stmt.execute(params![floor.as_str(), limit]))
                .map(|removed| removed as u64)
                .map_err(backend)
            })
            .await
    }
}

fn record_requests(conn: &Connection, logs: &[RequestLog]) -> StoreResult<()> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "INSERT INTO request_logs ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
             ON CONFLICT DO NOTHING",
            rows::REQUEST_LOG_COLUMNS
        ))
        .map_err(backend)?;
    for log in logs {
        stmt.execute(params![
            log.id.as_str(),
            log.account_id.as_str(),
            log.api_key_id.as_str(),
            log.mode.as_str(),
            log.method,
            log.path,
            log.status,
            log.duration_ms,
            log.idempotency_key,
            log.client_address,
            log.event_id.as_ref().map(EventId::as_str),
            log.request_body,
            log.response_body,
            log.created_at.as_millis()
        ])
        .map_err(backend)?;
    }
    super::accounts::touch_api_keys(conn, &last_use(logs))
}

fn list_request_logs(
    conn: &Connection,
    account: &AccountId,
    filter: &RequestLogFilter,
    page: &PageRequest,
) -> StoreResult<Vec<RequestLog>> {
    let sql = format!(
        "SELECT {} FROM request_logs WHERE account_id = ?1 \
         AND (?2 IS NULL OR (status < 400) = ?2) AND (?3 IS NULL OR method = ?3) \
         AND (?4 IS NULL OR substr(path, 1, length(?4)) = ?4) AND (?5 IS NULL OR event_id = ?5) \
         AND (?6 = '' OR id < ?6) ORDER BY id DESC LIMIT ?7",
        rows::REQUEST_LOG_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let found = stmt
        .query_map(
            params![
                account.as_str(),
                filter.succeeded,
                filter.method,
                filter.path_prefix,
                filter.event_id.as_ref().map(EventId::as_str),
                page.after.as_deref().unwrap_or(""),
                page.limit
            ],
            rows::request_log,
        )
        .map_err(backend)?;
    found.collect::<Result<_, _>>().map_err(backend)
}
