//! PostgreSQL: the delivery and attempt log as the API and the dashboard read it.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::sql::{Params, all, query, query_opt};
use super::{PostgresStore, rows};
use crate::domain::model::*;
use crate::domain::*;
use crate::store::columns::*;
use crate::store::*;

#[async_trait]
impl DeliveryLog for PostgresStore {
    async fn list_deliveries(
        &self,
        webhook: &WebhookId,
        state: Option<DeliveryState>,
        page: PageRequest,
    ) -> StoreResult<Vec<Delivery>> {
        list_deliveries(&self.client().await?, webhook, state, &page).await
    }

    async fn get_delivery(&self, webhook: &WebhookId, id: &DeliveryId) -> StoreResult<Option<Delivery>> {
        get_delivery(&self.client().await?, webhook, id).await
    }

    async fn list_attempts(&self, delivery: &DeliveryId) -> StoreResult<Vec<Attempt>> {
        list_attempts(&self.client().await?, delivery).await
    }

    async fn delivery_stats(&self, webhook: &WebhookId, since: Timestamp) -> StoreResult<DeliveryStats> {
        delivery_stats(&self.client().await?, webhook, since).await
    }

    async fn event_deliveries(&self, account: &AccountId, event: &EventId) -> StoreResult<Vec<Delivery>> {
        event_deliveries(&self.client().await?, account, event).await
    }

    async fn overview(&self, now: Timestamp, limit: u32) -> StoreResult<Overview> {
        overview(&self.client().await?, now, limit).await
    }

    async fn attempts_per_hour(
        &self,
        webhook: Option<&WebhookId>,
        since: Timestamp,
    ) -> StoreResult<Vec<HourOfAttempts>> {
        let per_hour = "a.started_at / 3600000 AS hour, \
             SUM(CASE WHEN a.response_status BETWEEN 200 AND 299 THEN 1 ELSE 0 END)::bigint, \
             SUM(CASE WHEN a.response_status BETWEEN 200 AND 299 THEN 0 ELSE 1 END)::bigint";
        let c = self.client().await?;
        let found = match webhook {
            Some(webhook) => {
                let made_after = DeliveryId::floor_at(since.minus(ATTEMPTS_FOLLOW_WITHIN));
                let sql = format!(
                    "SELECT {per_hour} FROM deliveries d \
                     JOIN attempts a ON a.delivery_id = d.id AND a.event_id = d.event_id \
                     WHERE d.webhook_id = $1 AND d.id >= $2 AND a.started_at >= $3 GROUP BY hour ORDER BY hour"
                );
                query(&c, &sql, &[&webhook.as_str(), &made_after.as_str(), &since.as_millis()]).await?
            }
            None => {
                let floor = AttemptId::floor_at(since.minus(std::time::Duration::from_secs(3600)));
                let sql = format!(
                    "SELECT {per_hour} FROM attempts a WHERE a.id >= $1 AND a.started_at >= $2 GROUP BY hour ORDER BY hour"
                );
                query(&c, &sql, &[&floor.as_str(), &since.as_millis()]).await?
            }
        };
        Ok(found
            .iter()
            .map(|row| HourOfAttempts {
                hour: Timestamp::from_millis(row.get::<_, i64>(0) * 3_600_000),
                succeeded: row.get::<_, i64>(1) as u64,
                failed: row.get::<_, i64>(2) as u64,
            })
            .collect())
    }
}

pub async fn list_deliveries(
    c: &impl GenericClient,
    webhook: &WebhookId,
    state: Option<DeliveryState>,
    page: &PageRequest,
) -> StoreResult<Vec<Delivery>> {
    // The state is written into the statement (one of four fixed words) so that the planner can use the
    // partial indexes of the rare states (`deliveries_failed_by_webhook_id`, `deliveries_pending_by_webhook`).
    let state_filter = state.map(|s| format!("AND d.state = '{}'", s.as_str())).unwrap_or_default();
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id \
         WHERE d.webhook_id = $1 {state_filter} AND ($2::TEXT IS NULL OR d.id < $2) \
         ORDER BY d.id DESC LIMIT $3"
    );
    let params: Params = &[&webhook.as_str(), &page.after, &i64::from(page.limit)];
    all(query(c, &sql, params).await?, rows::delivery)
}

pub async fn get_delivery(
    c: &impl GenericClient,
    webhook: &WebhookId,
    id: &DeliveryId,
) -> StoreResult<Option<Delivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = $1 AND d.webhook_id = $2"
    );
    query_opt(c, &sql, &[&id.as_str(), &webhook.as_str()]).await?.as_ref().map(rows::delivery).transpose()
}

pub async fn list_attempts(c: &impl GenericClient, delivery: &DeliveryId) -> StoreResult<Vec<Attempt>> {
    let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE delivery_id = $1 ORDER BY number, id");
    all(query(c, &sql, &[&delivery.as_str()]).await?, rows::attempt)
}

pub async fn delivery_stats(
    c: &impl GenericClient,
    webhook: &WebhookId,
    since: Timestamp,
) -> StoreResult<DeliveryStats> {
    let sql = "SELECT \
         (SELECT count(*) FROM deliveries WHERE webhook_id = $1 AND id >= $2), \
         (SELECT count(*) FROM deliveries WHERE webhook_id = $1 AND state = 'failed' AND id >= $2), \
         (SELECT count(*) FROM deliveries WHERE webhook_id = $1 AND state = 'pending' AND id >= $2 \
             AND attempt_count > 0)";
    let floor = DeliveryId::floor_at(since);
    let row = query(c, sql, &[&webhook.as_str(), &floor.as_str()]).await?.pop();
    let count = |i| row.as_ref().map_or(0, |r| r.get::<_, i64>(i) as u64);
    Ok(DeliveryStats { total: count(0), failed: count(1), retrying: count(2) })
}

pub async fn event_deliveries(
    c: &impl GenericClient,
    account: &AccountId,
    event: &EventId,
) -> StoreResult<Vec<Delivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id \
         WHERE d.event_id = $1 AND d.account_id = $2 ORDER BY d.id"
    );
    all(query(c, &sql, &[&event.as_str(), &account.as_str()]).await?, rows::delivery)
}

pub async fn overview(c: &impl GenericClient, now: Timestamp, limit: u32) -> StoreResult<Overview> {
    let sql = "SELECT \
         (SELECT count(*) FROM deliveries WHERE state = 'pending' AND next_attempt_at IS NOT NULL), \
         (SELECT count(*) FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $1 \
             AND (leased_until IS NULL OR leased_until < $1)), \
         (SELECT count(*) FROM webhooks WHERE status = 'DISABLED' AND deleted_at IS NULL)";
    let counts = query(c, sql, &[&now.as_millis()]).await?.pop();
    let count = |i| counts.as_ref().map_or(0, |r| r.get::<_, i64>(i) as u64);
    let sql = format!(
        "SELECT {WEBHOOK_COLUMNS}, failing_since FROM webhooks WHERE status = 'ENABLED' AND deleted_at IS NULL \
         AND failing_since IS NOT NULL ORDER BY failing_since LIMIT $1"
    );
    let failing = query(c, &sql, &[&i64::from(limit)])
        .await?
        .iter()
        .map(|row| Ok((rows::webhook(row)?, Timestamp::from_millis(row.get(WEBHOOK_COLUMN_COUNT)))))
        .collect::<StoreResult<_>>()?;
    let sql = format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE status = 'DISABLED' AND deleted_at IS NULL \
         ORDER BY updated_at DESC LIMIT $1"
    );
    let disabled = all(query(c, &sql, &[&i64::from(limit)]).await?, rows::webhook)?;
    Ok(Overview { pending: count(0), due: count(1), disabled_count: count(2), failing, disabled })
}
