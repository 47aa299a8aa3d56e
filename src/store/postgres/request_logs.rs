//! PostgreSQL: the merchant API's request logs.

use async_trait::async_trait;

use super::accounts::touch_api_keys;
use super::sql::{Params, all, execute, query, query_opt};
use super::{PostgresStore, pg, rows};
use crate::domain::*;
use crate::store::columns::REQUEST_LOG_COLUMNS;
use crate::store::*;

#[async_trait]
impl RequestLogStore for PostgresStore {
    async fn record_requests(&self, logs: Vec<RequestLog>) -> StoreResult<()> {
        if logs.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let column = |f: fn(&RequestLog) -> Option<String>| logs.iter().map(f).collect::<Vec<_>>();
        let ids = column(|l| Some(l.id.to_string()));
        let accounts = column(|l| Some(l.account_id.to_string()));
        let keys = column(|l| Some(l.api_key_id.to_string()));
        let modes = column(|l| Some(l.mode.as_str().to_owned()));
        let methods = column(|l| Some(l.method.clone()));
        let paths = column(|l| Some(l.path.clone()));
        let statuses: Vec<i32> = logs.iter().map(|l| i32::from(l.status)).collect();
        let durations: Vec<i32> = logs.iter().map(|l| i32::try_from(l.duration_ms).unwrap_or(i32::MAX)).collect();
        let idempotency = column(|l| l.idempotency_key.clone());
        let addresses = column(|l| l.client_address.clone());
        let events = column(|l| l.event_id.as_ref().map(EventId::to_string));
        let requests = column(|l| l.request_body.clone());
        let responses = column(|l| l.response_body.clone());
        let created: Vec<i64> = logs.iter().map(|l| l.created_at.as_millis()).collect();
        let sql = format!(
            "INSERT INTO request_logs ({REQUEST_LOG_COLUMNS}) SELECT * FROM unnest($1::text[], $2::text[], \
             $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::text[], $10::text[], \
             $11::text[], $12::text[], $13::text[], $14::bigint[]) ON CONFLICT DO NOTHING"
        );
        let params: Params = &[
            &ids,
            &accounts,
            &keys,
            &modes,
            &methods,
            &paths,
            &statuses,
            &durations,
            &idempotency,
            &addresses,
            &events,
            &requests,
            &responses,
            &created,
        ];
        execute(&transaction, &sql, params).await?;
        touch_api_keys(&transaction, &last_use(&logs)).await?;
        transaction.commit().await.map_err(pg)
    }

    async fn list_request_logs(
        &self,
        account: &AccountId,
        filter: RequestLogFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<RequestLog>> {
        let sql = format!(
            "SELECT {REQUEST_LOG_COLUMNS} FROM request_logs WHERE account_id = $1 \
             AND ($2::boolean IS NULL OR (status < 400) = $2) AND ($3::text IS NULL OR method = $3) \
             AND ($4::text IS NULL OR starts_with(path, $4)) AND ($5::text IS NULL OR event_id = $5) \
             AND ($6 = '' OR id < $6) ORDER BY id DESC LIMIT $7"
        );
        let event = filter.event_id.as_ref().map(EventId::as_str);
        let after = page.after.clone().unwrap_or_default();
        let params: Params = &[
            &account.as_str(),
            &filter.succeeded,
            &filter.method,
            &filter.path_prefix,
            &event,
            &after,
            &i64::from(page.limit),
        ];
        all(query(&self.client().await?, &sql, params).await?, rows::request_log)
    }

    async fn get_request_log(&self, account: &AccountId, id: &RequestId) -> StoreResult<Option<RequestLog>> {
        let sql = format!("SELECT {REQUEST_LOG_COLUMNS} FROM request_logs WHERE id = $1 AND account_id = $2");
        let found = query_opt(&self.client().await?, &sql, &[&id.as_str(), &account.as_str()]).await?;
        found.as_ref().map(rows::request_log).transpose()
    }

    async fn expire_request_logs(&self, cutoff: Timestamp, limit: u32) -> StoreResult<u64> {
        let floor = RequestId::floor_at(cutoff);
        let sql = "DELETE FROM request_logs WHERE id IN (SELECT id FROM request_logs WHERE id < $1 LIMIT $2)";
        execute(&self.client().await?, sql, &[&floor.as_str(), &i64::from(limit)]).await
    }
}
