//! SQLite: webhooks, their signing secrets, and the delivery targets built from them.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, backend, rows};
use crate::domain::model::*;
use crate::domain::*;
use crate::store::*;

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_webhook(&self, new: NewWebhook) -> StoreResult<()> {
        let account = new.webhook.account_id.clone();
        self.writer.write(move |conn| insert_webhook(conn, &new)).await?;
        self.changes.announce(Change::Targets(account));
        Ok(())
    }

    async fn list_webhooks(&self, account: &AccountId) -> StoreResult<Vec<Webhook>> {
        self.read(|conn| list_webhooks(conn, account))
    }

    async fn get_webhook(&self, account: &AccountId, id: &WebhookId) -> StoreResult<Option<Webhook>> {
        self.read(|conn| get_webhook(conn, account, id))
    }

    async fn delete_webhook(&self, account: &AccountId, id: &WebhookId, now: Timestamp) -> StoreResult<bool> {
        let (account, id) = (account.clone(), id.clone());
        let announced = account.clone();
        let deleted = self.writer.write(move |conn| delete_webhook(conn, &account, &id, now)).await?;
        self.changes.announce(Change::Targets(announced));
        Ok(deleted)
    }

    async fn update_webhook(
        &self,
        account: &AccountId,
        id: &WebhookId,
        changes: WebhookChanges,
        now: Timestamp,
    ) -> StoreResult<Option<Webhook>> {
        let (account, id) = (account.clone(), id.clone());
        let announced = account.clone();
        let updated = self.writer.write(move |conn| update_webhook(conn, &account, &id, &changes, now)).await?;
        self.changes.announce(Change::Targets(announced));
        Ok(updated)
    }

    async fn webhook_secrets(&self, id: &WebhookId, now: Timestamp) -> StoreResult<Vec<StoredSecret>> {
        self.read(|conn| webhook_secrets(conn, id, now))
    }

    async fn roll_webhook_secret(
        &self,
        id: &WebhookId,
        sealed: Vec<u8>,
        now: Timestamp,
        previous_expire_at: Timestamp,
    ) -> StoreResult<()> {
        let id = id.clone();
        self.writer.write(move |conn| roll_webhook_secret(conn, &id, &sealed, now, previous_expire_at)).await?;
        // The store does not know the account here; a roll is rare enough to drop every copy.
        self.changes.announce(Change::Everything);
        Ok(())
    }

    async fn delivery_targets(&self, account: &AccountId, now: Timestamp) -> StoreResult<Vec<StoredTarget>> {
        self.read(|conn| delivery_targets(conn, account, now))
    }
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
/// The webhook's live secrets at `now`, newest first, each with when it stops signing.
pub fn sealed_secrets(
    conn: &Connection,
    webhook: &str,
    now: Timestamp,
) -> StoreResult<Vec<(Vec<u8>, Option<Timestamp>)>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT sealed, expires_at FROM webhook_secrets WHERE webhook_id = ?1 \
             AND (expires_at IS NULL OR expires_at > ?2) ORDER BY created_at DESC",
        )
        .map_err(backend)?;
    let read = |row: &rusqlite::Row| Ok((row.get(0)?, row.get::<_, Option<i64>>(1)?.map(Timestamp::from_millis)));
    let found = stmt.query_map(params![webhook, now.as_millis()], read).map_err(backend)?;
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

pub fn insert_webhook(conn: &Connection, new: &NewWebhook) -> StoreResult<()> {
    let webhook = &new.webhook;
    let existing = list_webhooks(conn, &webhook.account_id)?;
    crate::store::rules::admit_webhook(&existing, &webhook.url, new.limit)?;
    conn.prepare_cached(
        "INSERT INTO webhooks (id, account_id, url, event_types, status, format, description, disabled_reason, \
         created_at, updated_at, signing, api_version, policy, paced) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            webhook.id.as_str(),
            webhook.account_id.as_str(),
            webhook.url.as_str(),
            rows::subscriptions_to_json(&webhook.event_types),
            webhook.status.as_str(),
            webhook.format.as_str(),
            webhook.description,
            webhook.disabled_reason,
            webhook.created_at.as_millis(),
            webhook.updated_at.as_millis(),
            webhook.signing.as_str(),
            webhook.api_version,
            rows::policy_to_json(&webhook.policy),
            webhook.policy.paces(),
        ])
    })
    .map_err(backend)?;
    conn.prepare_cached("INSERT INTO webhook_secrets (webhook_id, sealed, created_at) VALUES (?1, ?2, ?3)")
        .and_then(|mut stmt| {
            stmt.execute(params![webhook.id.as_str(), new.sealed_secret, webhook.created_at.as_millis()])
        })
        .map_err(backend)?;
    Ok(())
}

pub fn delete_webhook(conn: &Connection, account: &AccountId, id: &WebhookId, now: Timestamp) -> StoreResult<bool> {
    let deleted = conn
        .prepare_cached(
            "UPDATE webhooks SET deleted_at = ?3, updated_at = ?3 WHERE id = ?1 AND account_id = ?2 AND deleted_at IS NULL",
        )
        .and_then(|mut stmt| stmt.execute(params![id.as_str(), account.as_str(), now.as_millis()]))
        .map_err(backend)?;
    if deleted == 0 {
        return Ok(false);
    }
    conn.prepare_cached(
        "UPDATE deliveries SET state = 'cancelled', next_attempt_at = NULL, leased_until = NULL, updated_at = ?2 \
         WHERE webhook_id = ?1 AND state = 'pending'",
    )
    .and_then(|mut stmt| stmt.execute(params![id.as_str(), now.as_millis()]))
    .map_err(backend)?;
    Ok(true)
}

pub fn update_webhook(
    conn: &Connection,
    account: &AccountId,
    id: &WebhookId,
    changes: &WebhookChanges,
    now: Timestamp,
) -> StoreResult<Option<Webhook>> {
    let Some(current) = get_webhook(conn, account, id)? else { return Ok(None) };
    if let Some(url) = &changes.url {
        crate::store::rules::admit_url_change(&list_webhooks(conn, account)?, &current.id, url)?;
    }
    let status = changes.status.unwrap_or(current.status);
    // Enabling clears why it was disabled; disabling by hand leaves no machine reason behind.
    let disabled_reason = if changes.status.is_some() { None } else { current.disabled_reason };
    conn.prepare_cached(
        "UPDATE webhooks SET url = ?2, event_types = ?3, status = ?4, description = ?5, format = ?6, \
         disabled_reason = ?7, updated_at = ?8, signing = ?9, api_version = ?10, policy = ?11, paced = ?12 \
         WHERE id = ?1",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            id.as_str(),
            changes.url.as_ref().unwrap_or(&current.url).as_str(),
            rows::subscriptions_to_json(changes.event_types.as_ref().unwrap_or(&current.event_types)),
            status.as_str(),
            changes.description.clone().unwrap_or(current.description),
            changes.format.unwrap_or(current.format).as_str(),
            disabled_reason,
            now.as_millis(),
            changes.signing.unwrap_or(current.signing).as_str(),
            changes.api_version.clone().unwrap_or(current.api_version),
            rows::policy_to_json(changes.policy.as_ref().unwrap_or(&current.policy)),
            changes.policy.as_ref().unwrap_or(&current.policy).paces(),
        ])
    })
    .map_err(backend)?;
    if let Some(sealed) = &changes.replace_secret {
        roll_webhook_secret(conn, id, sealed, now, now)?;
    }
    if changes.status == Some(WebhookStatus::Enabled) {
        // Re-enabled: a failing streak restarts now, or the next failure would disable it again; the next
        // success still counts as a recovery.
        conn.prepare_cached("UPDATE webhooks SET failing_since = ?2 WHERE id = ?1 AND failing_since IS NOT NULL")
            .and_then(|mut stmt| stmt.execute(params![id.as_str(), now.as_millis()]))
            .map_err(backend)?;
    }
    get_webhook(conn, account, id)
}

pub fn roll_webhook_secret(
    conn: &Connection,
    id: &WebhookId,
    sealed: &[u8],
    now: Timestamp,
    previous_expire_at: Timestamp,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE webhook_secrets SET expires_at = ?2 \
         WHERE webhook_id = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
    )
    .and_then(|mut stmt| stmt.execute(params![id.as_str(), previous_expire_at.as_millis()]))
    .map_err(backend)?;
    conn.prepare_cached("INSERT INTO webhook_secrets (webhook_id, sealed, created_at) VALUES (?1, ?2, ?3)")
        .and_then(|mut stmt| stmt.execute(params![id.as_str(), sealed, now.as_millis()]))
        .map_err(backend)?;
    Ok(())
}
