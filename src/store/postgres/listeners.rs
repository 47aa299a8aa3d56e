//! PostgreSQL: listeners: temporary delivery channels for `herald listen`.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::sql::{Params, execute, query_opt};
use super::{PostgresStore, pg, rows};
use crate::domain::*;
use crate::store::columns::*;
use crate::store::*;

#[async_trait]
impl ListenerStore for PostgresStore {
    async fn create_listener(&self, new: StoredListener, idle_before: Timestamp) -> StoreResult<()> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        create_listener(&transaction, &new, idle_before).await?;
        transaction.commit().await.map_err(pg)
    }

    async fn get_listener(&self, account: &AccountId, id: &ListenerId) -> StoreResult<Option<StoredListener>> {
        get_listener(&self.client().await?, account, id).await
    }

    async fn touch_listener(&self, id: &ListenerId, now: Timestamp) -> StoreResult<()> {
        touch_listener(&self.client().await?, id, now).await
    }

    async fn delete_listener(&self, account: &AccountId, id: &ListenerId) -> StoreResult<bool> {
        delete_listener(&self.client().await?, account, id).await
    }
}

pub async fn create_listener(c: &impl GenericClient, new: &StoredListener, idle_before: Timestamp) -> StoreResult<()> {
    execute(c, "DELETE FROM listeners WHERE last_seen_at < $1", &[&idle_before.as_millis()]).await?;
    let listener = &new.listener;
    let sql = "INSERT INTO listeners (id, account_id, format, event_types, sealed_secret, created_at, last_seen_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $6)";
    let event_types = subscriptions_to_json(&listener.event_types);
    let params: Params = &[
        &listener.id.as_str(),
        &listener.account_id.as_str(),
        &listener.format.as_str(),
        &event_types,
        &new.sealed_secret,
        &listener.created_at.as_millis(),
    ];
    execute(c, sql, params).await?;
    Ok(())
}

pub async fn get_listener(
    c: &impl GenericClient,
    account: &AccountId,
    id: &ListenerId,
) -> StoreResult<Option<StoredListener>> {
    let sql = format!("SELECT {LISTENER_COLUMNS} FROM listeners WHERE id = $1 AND account_id = $2");
    query_opt(c, &sql, &[&id.as_str(), &account.as_str()]).await?.as_ref().map(rows::listener).transpose()
}

pub async fn touch_listener(c: &impl GenericClient, id: &ListenerId, now: Timestamp) -> StoreResult<()> {
    execute(c, "UPDATE listeners SET last_seen_at = $2 WHERE id = $1", &[&id.as_str(), &now.as_millis()]).await?;
    Ok(())
}

pub async fn delete_listener(c: &impl GenericClient, account: &AccountId, id: &ListenerId) -> StoreResult<bool> {
    let sql = "DELETE FROM listeners WHERE id = $1 AND account_id = $2";
    Ok(execute(c, sql, &[&id.as_str(), &account.as_str()]).await? > 0)
}
