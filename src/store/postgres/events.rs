//! PostgreSQL: stored events: reads and the listener stream's cursor reads.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::sql::{Params, all, query, query_opt};
use super::{PostgresStore, rows};
use crate::domain::model::*;
use crate::domain::*;
use crate::store::columns::*;
use crate::store::*;

#[async_trait]
impl EventStore for PostgresStore {
    async fn get_event(&self, account: &AccountId, id: &EventId) -> StoreResult<Option<Event>> {
        get_event(&self.client().await?, account, id).await
    }

    async fn list_events(
        &self,
        account: &AccountId,
        filter: EventFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<Event>> {
        list_events(&self.client().await?, account, &filter, &page).await
    }

    async fn events_after(&self, account: &AccountId, after: &EventId, limit: u32) -> StoreResult<Vec<Event>> {
        events_after(&self.client().await?, account, after, limit).await
    }
}

pub async fn get_event(c: &impl GenericClient, account: &AccountId, id: &EventId) -> StoreResult<Option<Event>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1 AND account_id = $2");
    query_opt(c, &sql, &[&id.as_str(), &account.as_str()]).await?.as_ref().map(rows::event).transpose()
}

pub async fn list_events(
    c: &impl GenericClient,
    account: &AccountId,
    f: &EventFilter,
    page: &PageRequest,
) -> StoreResult<Vec<Event>> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE account_id = $1 AND NOT simulated \
         AND ($2::BIGINT IS NULL OR created_at >= $2) AND ($3::BIGINT IS NULL OR created_at <= $3) \
         AND ($4::TEXT IS NULL OR event_type = $4) AND ($5::TEXT IS NULL OR resource_id = $5) \
         AND ($6::TEXT IS NULL OR id < $6) ORDER BY id DESC LIMIT $7"
    );
    let params: Params = &[
        &account.as_str(),
        &f.start_time.map(Timestamp::as_millis),
        &f.end_time.map(Timestamp::as_millis),
        &f.event_type.as_ref().map(EventTypeName::as_str),
        &f.resource_id,
        &page.after,
        &i64::from(page.limit),
    ];
    all(query(c, &sql, params).await?, rows::event)
}

pub async fn events_after(
    c: &impl GenericClient,
    account: &AccountId,
    after: &EventId,
    limit: u32,
) -> StoreResult<Vec<Event>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3");
    all(query(c, &sql, &[&account.as_str(), &after.as_str(), &i64::from(limit)]).await?, rows::event)
}
