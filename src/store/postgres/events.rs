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

    async fn stream_position(&self, account: &AccountId, after: &EventId) -> StoreResult<CommitPosition> {
        stream_position(&self.client().await?, account, after).await
    }

    async fn events_committed_after(
        &self,
        account: &AccountId,
        position: &CommitPosition,
        limit: u32,
    ) -> StoreResult<Vec<(CommitPosition, Event)>> {
        events_committed_after(&self.client().await?, account, position, limit).await
    }

    fn commits(&self) -> CommitWatch {
        self.commits.watch()
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

/// The event's own place; else the earlier of two: just before the first committed event with a later
/// id (its transaction, any id), and the oldest transaction still running (whatever commits from now on,
/// a later id of an older transaction included, has that id or a later one).
pub async fn stream_position(
    c: &impl GenericClient,
    account: &AccountId,
    after: &EventId,
) -> StoreResult<CommitPosition> {
    let sql = "SELECT COALESCE( \
                 (SELECT txid FROM events WHERE id = $2 AND account_id = $1), \
                 LEAST((SELECT txid FROM events WHERE account_id = $1 AND id > $2 ORDER BY txid LIMIT 1), \
                       pg_snapshot_xmin(pg_current_snapshot())))::text::bigint, \
               COALESCE((SELECT id FROM events WHERE id = $2 AND account_id = $1), '')";
    let row = &query(c, sql, &[&account.as_str(), &after.as_str()]).await?[0];
    Ok(CommitPosition { order: row.get(0), id: row.get(1) })
}

/// Events of transactions that have all ended, and of no transaction older than one still running, so a
/// transaction committing late behind a newer one is waited for, never passed.
pub async fn events_committed_after(
    c: &impl GenericClient,
    account: &AccountId,
    position: &CommitPosition,
    limit: u32,
) -> StoreResult<Vec<(CommitPosition, Event)>> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS}, txid::text::bigint FROM events WHERE account_id = $1 \
         AND (txid, id) > ($2::text::xid8, $3) AND txid < pg_snapshot_xmin(pg_current_snapshot()) \
         ORDER BY txid, id LIMIT $4"
    );
    let order = position.order.to_string();
    let params: Params = &[&account.as_str(), &order, &position.id, &i64::from(limit)];
    let found = query(c, &sql, params).await?;
    found.iter().map(|row| Ok((CommitPosition { order: row.get(9), id: row.get(0) }, rows::event(row)?))).collect()
}
