//! PostgreSQL: webhooks, their signing secrets, and the delivery targets built from them.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::sql::{Params, all, execute, notify_change, query, query_opt};
use super::{PostgresStore, pg, rows};
use crate::domain::model::*;
use crate::domain::*;
use crate::store::columns::*;
use crate::store::*;

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn create_webhook(&self, new: NewWebhook) -> StoreResult<()> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        insert_webhook(&transaction, &new).await?;
        let change = Change::Targets(new.webhook.account_id.clone());
        notify_change(&transaction, &change).await?;
        transaction.commit().await.map_err(pg)?;
        self.changes.announce(change);
        Ok(())
    }

    async fn list_webhooks(&self, account: &AccountId) -> StoreResult<Vec<Webhook>> {
        list_webhooks(&self.client().await?, account).await
    }

    async fn get_webhook(&self, account: &AccountId, id: &WebhookId) -> StoreResult<Option<Webhook>> {
        get_webhook(&self.client().await?, account, id).await
    }

    async fn delete_webhook(&self, account: &AccountId, id: &WebhookId, now: Timestamp) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let deleted = delete_webhook(&transaction, account, id, now).await?;
        let change = Change::Targets(account.clone());
        notify_change(&transaction, &change).await?;
        transaction.commit().await.map_err(pg)?;
        self.changes.announce(change);
        Ok(deleted)
    }

    async fn update_webhook(
        &self,
        account: &AccountId,
        id: &WebhookId,
        changes: WebhookChanges,
        now: Timestamp,
    ) -> StoreResult<Option<Webhook>> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let updated = update_webhook(&transaction, account, id, &changes, now).await?;
        let change = Change::Targets(account.clone());
        notify_change(&transaction, &change).await?;
        transaction.commit().await.map_err(pg)?;
        self.changes.announce(change);
        if changes.status == Some(crate::domain::model::WebhookStatus::Enabled) {
            self.client().await?.execute("SELECT pg_notify('herald_work', '')", &[]).await.map_err(pg)?;
        }
        Ok(updated)
    }

    async fn webhook_secrets(&self, id: &WebhookId, now: Timestamp) -> StoreResult<Vec<StoredSecret>> {
        webhook_secrets(&self.client().await?, id, now).await
    }

    async fn roll_webhook_secret(
        &self,
        id: &WebhookId,
        sealed: Vec<u8>,
        now: Timestamp,
        previous_expire_at: Timestamp,
    ) -> StoreResult<()> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        roll_webhook_secret(&transaction, id, &sealed, now, previous_expire_at).await?;
        // The store does not know the account here; a roll is rare enough to drop every copy.
        notify_change(&transaction, &Change::Everything).await?;
        transaction.commit().await.map_err(pg)?;
        self.changes.announce(Change::Everything);
        Ok(())
    }

    async fn delivery_targets(&self, account: &AccountId, now: Timestamp) -> StoreResult<Vec<StoredTarget>> {
        delivery_targets(&self.client().await?, account, now).await
    }
}

pub async fn list_webhooks(c: &impl GenericClient, account: &AccountId) -> StoreResult<Vec<Webhook>> {
    let sql =
        format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id");
    all(query(c, &sql, &[&account.as_str()]).await?, rows::webhook)
}

pub async fn get_webhook(c: &impl GenericClient, account: &AccountId, id: &WebhookId) -> StoreResult<Option<Webhook>> {
    let sql =
        format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL");
    query_opt(c, &sql, &[&id.as_str(), &account.as_str()]).await?.as_ref().map(rows::webhook).transpose()
}

pub async fn insert_webhook(c: &impl GenericClient, new: &NewWebhook) -> StoreResult<()> {
    let w = &new.webhook;
    // Lock the account row so two nodes cannot both create the account's last allowed webhook.
    execute(c, "SELECT id FROM accounts WHERE id = $1 FOR UPDATE", &[&w.account_id.as_str()]).await?;
    let existing = list_webhooks(c, &w.account_id).await?;
    crate::store::rules::admit_webhook(&existing, &w.url, new.limit)?;
    let sql = "INSERT INTO webhooks (id, account_id, url, event_types, status, format, description, disabled_reason, \
               created_at, updated_at, signing, api_version, policy, paced) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
    let params: Params = &[
        &w.id.as_str(),
        &w.account_id.as_str(),
        &w.url.as_str(),
        &subscriptions_to_json(&w.event_types),
        &w.status.as_str(),
        &w.format.as_str(),
        &w.description,
        &w.disabled_reason,
        &w.created_at.as_millis(),
        &w.updated_at.as_millis(),
        &w.signing.as_str(),
        &w.api_version,
        &policy_to_json(&w.policy),
        &w.policy.paces(),
    ];
    execute(c, sql, params).await?;
    let sql = "INSERT INTO webhook_secrets (webhook_id, sealed, created_at) VALUES ($1, $2, $3)";
    execute(c, sql, &[&w.id.as_str(), &new.sealed_secret, &w.created_at.as_millis()]).await?;
    Ok(())
}

pub async fn delete_webhook(
    c: &impl GenericClient,
    account: &AccountId,
    id: &WebhookId,
    now: Timestamp,
) -> StoreResult<bool> {
    let sql =
        "UPDATE webhooks SET deleted_at = $3, updated_at = $3 WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL";
    if execute(c, sql, &[&id.as_str(), &account.as_str(), &now.as_millis()]).await? == 0 {
        return Ok(false);
    }
    let sql = "UPDATE deliveries SET state = 'cancelled', next_attempt_at = NULL, leased_until = NULL, \
               lease_token = NULL, updated_at = $2 WHERE webhook_id = $1 AND state = 'pending'";
    execute(c, sql, &[&id.as_str(), &now.as_millis()]).await?;
    Ok(true)
}

pub async fn update_webhook(
    c: &impl GenericClient,
    account: &AccountId,
    id: &WebhookId,
    changes: &WebhookChanges,
    now: Timestamp,
) -> StoreResult<Option<Webhook>> {
    let Some(current) = get_webhook(c, account, id).await? else { return Ok(None) };
    if let Some(url) = &changes.url {
        crate::store::rules::admit_url_change(&list_webhooks(c, account).await?, &current.id, url)?;
    }
    let status = changes.status.unwrap_or(current.status);
    let disabled_reason = if changes.status.is_some() { None } else { current.disabled_reason.clone() };
    let sql = "UPDATE webhooks SET url = $2, event_types = $3, status = $4, description = $5, format = $6, \
               disabled_reason = $7, updated_at = $8, signing = $9, api_version = $10, policy = $11, paced = $12 \
               WHERE id = $1";
    let params: Params = &[
        &id.as_str(),
        &changes.url.as_ref().unwrap_or(&current.url).as_str(),
        &subscriptions_to_json(changes.event_types.as_ref().unwrap_or(&current.event_types)),
        &status.as_str(),
        &changes.description.clone().unwrap_or(current.description.clone()),
        &changes.format.unwrap_or(current.format).as_str(),
        &disabled_reason,
        &now.as_millis(),
        &changes.signing.unwrap_or(current.signing).as_str(),
        &changes.api_version.clone().unwrap_or(current.api_version.clone()),
        &policy_to_json(changes.policy.as_ref().unwrap_or(&current.policy)),
        &changes.policy.as_ref().unwrap_or(&current.policy).paces(),
    ];
    execute(c, sql, params).await?;
    if let Some(sealed) = &changes.replace_secret {
        roll_webhook_secret(c, id, sealed, now, now).await?;
    }
    if changes.status == Some(WebhookStatus::Enabled) {
        // Re-enabled: a failing streak restarts now, or the next failure would disable it again; the next
        // success still counts as a recovery.
        let sql = "UPDATE webhooks SET failing_since = $2 WHERE id = $1 AND failing_since IS NOT NULL";
        execute(c, sql, &[&id.as_str(), &now.as_millis()]).await?;
    }
    get_webhook(c, account, id).await
}

pub async fn webhook_secrets(c: &impl GenericClient, id: &WebhookId, now: Timestamp) -> StoreResult<Vec<StoredSecret>> {
    let sql = "SELECT sealed, created_at, expires_at FROM webhook_secrets \
               WHERE webhook_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC";
    let found = query(c, sql, &[&id.as_str(), &now.as_millis()]).await?;
    Ok(found
        .iter()
        .map(|row| StoredSecret {
            sealed: row.get(0),
            created_at: Timestamp::from_millis(row.get(1)),
            expires_at: row.get::<_, Option<i64>>(2).map(Timestamp::from_millis),
        })
        .collect())
}

pub async fn roll_webhook_secret(
    c: &impl GenericClient,
    id: &WebhookId,
    sealed: &[u8],
    now: Timestamp,
    previous_expire_at: Timestamp,
) -> StoreResult<()> {
    let sql =
        "UPDATE webhook_secrets SET expires_at = $2 WHERE webhook_id = $1 AND (expires_at IS NULL OR expires_at > $2)";
    execute(c, sql, &[&id.as_str(), &previous_expire_at.as_millis()]).await?;
    let sql = "INSERT INTO webhook_secrets (webhook_id, sealed, created_at) VALUES ($1, $2, $3)";
    execute(c, sql, &[&id.as_str(), &sealed, &now.as_millis()]).await?;
    Ok(())
}

pub fn target_row(row: &Row, first: usize) -> TargetRow {
    TargetRow {
        id: row.get(first),
        url: row.get(first + 1),
        format: row.get(first + 2),
        event_types: row.get(first + 3),
        signing: row.get(first + 4),
        api_version: row.get(first + 5),
        policy: row.get(first + 6),
        account_id: row.get(first + 7),
    }
}

pub async fn target(c: &impl GenericClient, row: TargetRow, now: Timestamp) -> StoreResult<StoredTarget> {
    let secrets = webhook_secrets(c, &WebhookId::from_trusted(row.id.clone()), now).await?;
    row.into_target(secrets.into_iter().map(|s| (s.sealed, s.expires_at)).collect())
}

pub async fn delivery_targets(
    c: &impl GenericClient,
    account: &AccountId,
    now: Timestamp,
) -> StoreResult<Vec<StoredTarget>> {
    let sql = format!(
        "SELECT {TARGET_COLUMNS} FROM webhooks w WHERE w.account_id = $1 AND w.deleted_at IS NULL \
         AND w.status = 'ENABLED' ORDER BY w.id"
    );
    let mut targets = Vec::new();
    for row in query(c, &sql, &[&account.as_str()]).await? {
        targets.push(target(c, target_row(&row, 0), now).await?);
    }
    Ok(targets)
}
