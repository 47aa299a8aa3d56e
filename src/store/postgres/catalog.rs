//! PostgreSQL: the event-type catalog.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::sql::{Params, all, notify_change, query, query_opt};
use super::{PostgresStore, pg, rows};
use crate::domain::model::*;
use crate::domain::*;
use crate::store::columns::*;
use crate::store::*;

#[async_trait]
impl CatalogStore for PostgresStore {
    async fn put_event_type(&self, draft: EventTypeDraft) -> StoreResult<(EventType, bool)> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let put = put_event_type(&transaction, &draft).await?;
        notify_change(&transaction, &Change::Catalog).await?;
        transaction.commit().await.map_err(pg)?;
        self.changes.announce(Change::Catalog);
        Ok(put)
    }

    async fn list_event_types(&self) -> StoreResult<Vec<EventType>> {
        list_event_types(&self.client().await?).await
    }

    async fn get_event_type(&self, name: &EventTypeName) -> StoreResult<Option<EventType>> {
        get_event_type(&self.client().await?, name).await
    }
}

pub async fn put_event_type(c: &impl GenericClient, d: &EventTypeDraft) -> StoreResult<(EventType, bool)> {
    let sql = format!(
        "INSERT INTO event_types (name, description, resource_type, resource_version, sample, schema, status, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'ENABLED', $7, $7) \
         ON CONFLICT (name) DO UPDATE SET description = excluded.description, resource_type = excluded.resource_type, \
         resource_version = excluded.resource_version, sample = excluded.sample, schema = excluded.schema, \
         updated_at = excluded.updated_at RETURNING {EVENT_TYPE_COLUMNS}, (xmax = 0) AS created"
    );
    let params: Params = &[
        &d.name.as_str(),
        &d.description,
        &d.resource_type,
        &d.resource_version,
        &d.sample,
        &d.schema,
        &d.now.as_millis(),
    ];
    let row =
        query(c, &sql, params).await?.pop().ok_or_else(|| StoreError::Corrupt("upsert returned nothing".into()))?;
    Ok((rows::event_type(&row)?, row.get("created")))
}

pub async fn list_event_types(c: &impl GenericClient) -> StoreResult<Vec<EventType>> {
    all(query(c, &format!("SELECT {EVENT_TYPE_COLUMNS} FROM event_types ORDER BY name"), &[]).await?, rows::event_type)
}

pub async fn get_event_type(c: &impl GenericClient, name: &EventTypeName) -> StoreResult<Option<EventType>> {
    let sql = format!("SELECT {EVENT_TYPE_COLUMNS} FROM event_types WHERE name = $1");
    query_opt(c, &sql, &[&name.as_str()]).await?.as_ref().map(rows::event_type).transpose()
}
