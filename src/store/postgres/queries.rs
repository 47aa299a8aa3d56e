//! The SQL of the PostgreSQL backend. Each function runs on a pooled connection or inside a transaction
//! (both are a `GenericClient`), with statements prepared once per connection.

use std::collections::HashMap;

use bytes::Bytes;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{pg, rows};
use crate::domain::delivery_policy::DeliveryOrder;
use crate::domain::model::*;
use crate::domain::*;
use crate::store::columns::*;
use crate::store::*;

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

async fn query(c: &impl GenericClient, sql: &str, params: Params<'_>) -> StoreResult<Vec<Row>> {
    let statement = c.prepare_cached(sql).await.map_err(pg)?;
    c.query(&statement, params).await.map_err(pg)
}

async fn query_opt(c: &impl GenericClient, sql: &str, params: Params<'_>) -> StoreResult<Option<Row>> {
    let statement = c.prepare_cached(sql).await.map_err(pg)?;
    c.query_opt(&statement, params).await.map_err(pg)
}

async fn execute(c: &impl GenericClient, sql: &str, params: Params<'_>) -> StoreResult<u64> {
    let statement = c.prepare_cached(sql).await.map_err(pg)?;
    c.execute(&statement, params).await.map_err(pg)
}

fn all<T>(found: Vec<Row>, map: fn(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    found.iter().map(map).collect()
}

pub async fn insert_account(c: &impl GenericClient, new: &NewAccount) -> StoreResult<()> {
    let a = &new.account;
    let sql = "INSERT INTO accounts (id, name, client_id, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)";
    execute(c, sql, &[&a.id.as_str(), &a.name, &a.client_id, &new.secret_hash.as_slice(), &a.created_at.as_millis()])
        .await?;
    Ok(())
}

pub async fn list_accounts(c: &impl GenericClient, page: &PageRequest) -> StoreResult<Vec<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id > $1 ORDER BY id LIMIT $2");
    let after = page.after.clone().unwrap_or_default();
    all(query(c, &sql, &[&after, &i64::from(page.limit)]).await?, rows::account)
}

pub async fn get_account(c: &impl GenericClient, id: &AccountId) -> StoreResult<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
    query_opt(c, &sql, &[&id.as_str()]).await?.as_ref().map(rows::account).transpose()
}

pub async fn find_credentials(c: &impl GenericClient, client_id: &str) -> StoreResult<Option<AccountCredentials>> {
    let Some(row) = query_opt(c, "SELECT id, secret_hash FROM accounts WHERE client_id = $1", &[&client_id]).await?
    else {
        return Ok(None);
    };
    let hash: Vec<u8> = row.get(1);
    let secret_hash = hash.try_into().map_err(|_| StoreError::Corrupt("secret hash length".into()))?;
    Ok(Some(AccountCredentials { account_id: AccountId::from_trusted(row.get(0)), secret_hash }))
}

pub async fn roll_client_secret(
    c: &impl GenericClient,
    id: &AccountId,
    hash: &[u8; 32],
    now: Timestamp,
) -> StoreResult<bool> {
    let changed =
        execute(c, "UPDATE accounts SET secret_hash = $2 WHERE id = $1", &[&id.as_str(), &hash.as_slice()]).await?;
    let sql = "UPDATE oauth_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL";
    execute(c, sql, &[&id.as_str(), &now.as_millis()]).await?;
    Ok(changed == 1)
}

pub async fn create_token(c: &impl GenericClient, token: &NewToken) -> StoreResult<()> {
    let sql = "INSERT INTO oauth_tokens (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
    let params: Params = &[
        &token.token_hash.as_slice(),
        &token.account_id.as_str(),
        &token.created_at.as_millis(),
        &token.expires_at.as_millis(),
    ];
    execute(c, sql, params).await?;
    Ok(())
}

pub async fn find_token(c: &impl GenericClient, hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<AccountId>> {
    let sql = "SELECT account_id FROM oauth_tokens WHERE token_hash = $1 AND expires_at > $2 AND revoked_at IS NULL";
    let found = query_opt(c, sql, &[&hash.as_slice(), &now.as_millis()]).await?;
    Ok(found.map(|row| AccountId::from_trusted(row.get(0))))
}

pub async fn revoke_token(c: &impl GenericClient, hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
    let sql = "UPDATE oauth_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL";
    Ok(execute(c, sql, &[&hash.as_slice(), &now.as_millis()]).await? == 1)
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
    if existing.len() as u32 >= new.limit {
        return Err(StoreError::WebhookLimitReached { limit: new.limit });
    }
    if existing.iter().any(|e| e.url == w.url) {
        return Err(StoreError::WebhookUrlTaken);
    }
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
    let sql = "UPDATE deliveries SET state = 'cancelled', next_attempt_at = NULL, leased_until = NULL, updated_at = $2 \
               WHERE webhook_id = $1 AND state = 'pending'";
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
        let taken = list_webhooks(c, account).await?.iter().any(|w| w.id != current.id && &w.url == url);
        if taken {
            return Err(StoreError::WebhookUrlTaken);
        }
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

fn target_row(row: &Row, first: usize) -> TargetRow {
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

async fn target(c: &impl GenericClient, row: TargetRow, now: Timestamp) -> StoreResult<StoredTarget> {
    let secrets = webhook_secrets(c, &WebhookId::from_trusted(row.id.clone()), now).await?;
    row.into_target(secrets.into_iter().map(|s| s.sealed).collect())
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

pub async fn publish(c: &impl GenericClient, batch: &PublishBatch) -> StoreResult<PublishOutcome> {
    if let Some(record) = &batch.idempotency {
        let sql = "INSERT INTO idempotency_keys (key, request_hash, response, created_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (key) DO NOTHING";
        let params: Params =
            &[&record.key, &record.request_hash.as_slice(), &record.response.as_ref(), &Timestamp::now().as_millis()];
        if execute(c, sql, params).await? == 0 {
            let sql = "SELECT request_hash, response FROM idempotency_keys WHERE key = $1";
            let row = query_opt(c, sql, &[&record.key])
                .await?
                .ok_or_else(|| StoreError::Corrupt("idempotency key".into()))?;
            let hash: Vec<u8> = row.get(0);
            if hash != record.request_hash {
                return Err(StoreError::IdempotencyKeyReused);
            }
            return Ok(PublishOutcome::Replayed { response: Bytes::from(row.get::<_, Vec<u8>>(1)) });
        }
    }
    let sql = "INSERT INTO events (id, account_id, event_type, created_at, body, resource_id, simulated) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    for e in &batch.events {
        let params: Params = &[
            &e.id.as_str(),
            &e.account_id.as_str(),
            &e.event_type.as_str(),
            &e.created_at.as_millis(),
            &e.body.as_ref(),
            &e.resource_id,
            &e.simulated,
        ];
        execute(c, sql, params).await?;
    }
    add_deliveries(c, &batch.deliveries).await?;
    Ok(PublishOutcome::Committed)
}

pub async fn add_deliveries(c: &impl GenericClient, deliveries: &[NewDelivery]) -> StoreResult<()> {
    let sql = "INSERT INTO deliveries (id, event_id, webhook_id, account_id, state, trigger, created_at, updated_at, \
               next_attempt_at, leased_until, lease_token, single_attempt) \
               VALUES ($1, $2, $3, $4, 'pending', $5, $6, $6, $6, $7, $8, $9)";
    for d in deliveries {
        let params: Params = &[
            &d.id.as_str(),
            &d.event_id.as_str(),
            &d.webhook_id.as_str(),
            &d.account_id.as_str(),
            &d.trigger.as_str(),
            &d.next_attempt_at.as_millis(),
            &d.lease.map(|l| l.until.as_millis()),
            &d.lease.map(|l| l.token),
            &d.single_attempt,
        ];
        execute(c, sql, params).await?;
    }
    // Deliveries nobody holds are announced, so an idle node picks them up at once.
    if deliveries.iter().any(|d| d.lease.is_none()) {
        execute(c, "SELECT pg_notify('herald_work', '')", &[]).await?;
    }
    Ok(())
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

/// Claims due deliveries: those of unpaced webhooks in due order, then what each paced webhook's rules
/// admit (see [`crate::pacing`]). A paced webhook's row is locked while its share is decided, so nodes
/// draw from one schedule; a node that finds it locked leaves it to the node holding it.
pub async fn claim_due(c: &impl GenericClient, claim: &ClaimRequest) -> StoreResult<Vec<ClaimedDelivery>> {
    let sql = "UPDATE deliveries SET leased_until = $1, lease_token = $2 WHERE id IN ( \
                 SELECT d.id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                 WHERE d.state = 'pending' AND d.next_attempt_at <= $3 \
                   AND (d.leased_until IS NULL OR d.leased_until <= $3) \
                   AND w.status = 'ENABLED' AND w.deleted_at IS NULL AND NOT w.paced \
                 ORDER BY d.next_attempt_at LIMIT $4 FOR UPDATE OF d SKIP LOCKED) \
               RETURNING id";
    let params: Params =
        &[&claim.lease.until.as_millis(), &claim.lease.token, &claim.now.as_millis(), &i64::from(claim.limit)];
    let mut ids: Vec<String> = query(c, sql, params).await?.iter().map(|row| row.get(0)).collect();
    let room = (claim.limit as usize).saturating_sub(ids.len());
    let mut slots: HashMap<String, Timestamp> = HashMap::new();
    if room > 0 {
        for (id, slot) in claim_paced(c, claim, room).await? {
            if let Some(slot) = slot {
                slots.insert(id.clone(), slot);
            }
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT d.id, d.event_id, d.trigger, d.attempt_count, e.body, d.single_attempt, {TARGET_COLUMNS} \
         FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id \
         WHERE d.id = ANY($1)"
    );
    let mut claimed = Vec::with_capacity(ids.len());
    for row in query(c, &sql, &[&ids]).await? {
        let trigger: String = row.get(2);
        claimed.push(ClaimedDelivery {
            delivery_id: DeliveryId::from_trusted(row.get(0)),
            event_id: EventId::from_trusted(row.get(1)),
            trigger: Trigger::parse(&trigger).ok_or_else(|| StoreError::Corrupt(format!("trigger {trigger:?}")))?,
            single_attempt: row.get(5),
            attempt_count: row.get::<_, i32>(3) as u32,
            body: Bytes::from(row.get::<_, Vec<u8>>(4)),
            target: target(c, target_row(&row, 6), claim.now).await?,
            not_before: slots.get(row.get::<_, &str>(0)).copied(),
        });
    }
    Ok(claimed)
}

/// The paced webhooks' share of a claim: ids with the time each may send.
async fn claim_paced(
    c: &impl GenericClient,
    claim: &ClaimRequest,
    mut room: usize,
) -> StoreResult<Vec<(String, Option<Timestamp>)>> {
    let now = claim.now.as_millis();
    let sql = "SELECT w.id, w.policy, w.next_slot_at FROM webhooks w \
               WHERE w.paced AND w.status = 'ENABLED' AND w.deleted_at IS NULL AND EXISTS ( \
                 SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending' \
                   AND d.next_attempt_at <= $1 AND (d.leased_until IS NULL OR d.leased_until <= $1)) \
               FOR UPDATE OF w SKIP LOCKED";
    let webhooks = query(c, sql, &[&now]).await?;
    let mut claimed = Vec::new();
    for row in webhooks {
        if room == 0 {
            break;
        }
        let (webhook, policy, next_slot_at): (String, String, Option<i64>) = (row.get(0), row.get(1), row.get(2));
        let policy = policy_from_json(&policy).ok_or_else(|| StoreError::Corrupt(format!("policy of {webhook}")))?;
        let sql = "SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1 AND state = 'pending' AND leased_until > $2";
        let in_flight: i64 = query(c, sql, &[&webhook, &now]).await?.first().map_or(0, |row| row.get(0));
        // FIFO: only the oldest pending delivery may go, and only when it is due; the rest wait behind it.
        let sql = if policy.ordering == DeliveryOrder::Fifo {
            "SELECT id FROM (SELECT id, next_attempt_at, leased_until FROM deliveries \
               WHERE webhook_id = $1 AND state = 'pending' ORDER BY id LIMIT 1) head \
             WHERE next_attempt_at <= $2 AND (leased_until IS NULL OR leased_until <= $2) LIMIT $3"
        } else {
            "SELECT id FROM deliveries WHERE webhook_id = $1 AND state = 'pending' AND next_attempt_at <= $2 \
               AND (leased_until IS NULL OR leased_until <= $2) ORDER BY next_attempt_at, id LIMIT $3"
        };
        let candidates: Vec<String> =
            query(c, sql, &[&webhook, &now, &(room as i64)]).await?.iter().map(|row| row.get(0)).collect();
        let next = next_slot_at.map(Timestamp::from_millis);
        let admission = crate::pacing::admit(&policy, in_flight as u32, next, candidates.len(), claim.now);
        for (id, slot) in candidates.into_iter().zip(admission.slots) {
            let sql = "UPDATE deliveries SET leased_until = $2, lease_token = $3 WHERE id = $1";
            execute(c, sql, &[&id, &claim.lease.until.as_millis(), &claim.lease.token]).await?;
            claimed.push((id, (slot > claim.now).then_some(slot)));
            room -= 1;
        }
        if admission.next_slot_at != next {
            let sql = "UPDATE webhooks SET next_slot_at = $2 WHERE id = $1";
            execute(c, sql, &[&webhook, &admission.next_slot_at.map(Timestamp::as_millis)]).await?;
        }
    }
    Ok(claimed)
}

pub async fn next_due_at(c: &impl GenericClient, now: Timestamp) -> StoreResult<Option<Timestamp>> {
    let sql = "SELECT MIN(CASE WHEN w.paced THEN d.next_attempt_at \
                           ELSE GREATEST(d.next_attempt_at, COALESCE(d.leased_until, 0)) END) \
               FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
               WHERE d.state = 'pending' AND w.status = 'ENABLED' AND w.deleted_at IS NULL \
                 AND (NOT w.paced OR d.next_attempt_at > $1)";
    let row = query(c, sql, &[&now.as_millis()]).await?.pop();
    Ok(row.and_then(|row| row.get::<_, Option<i64>>(0)).map(Timestamp::from_millis))
}

pub async fn record_attempt(c: &impl GenericClient, record: &AttemptRecord) -> StoreResult<RecordOutcome> {
    let a = &record.attempt;
    let response = a.response.as_ref();
    let error = a.error.as_ref();
    let sql = format!(
        "INSERT INTO attempts ({ATTEMPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    );
    let params: Params = &[
        &a.id.as_str(),
        &a.delivery_id.as_str(),
        &(a.number as i32),
        &a.started_at.as_millis(),
        &(a.duration_ms as i64),
        &a.trigger.as_str(),
        &a.request_url,
        &headers_to_json(&a.request_headers),
        &response.map(|r| i32::from(r.status)),
        &response.map(|r| headers_to_json(&r.headers)),
        &response.map(|r| r.body.as_slice()),
        &response.is_some_and(|r| r.truncated),
        &error.map(|e| e.code.as_str()),
        &error.map(|e| e.message.as_str()),
        &a.node,
    ];
    execute(c, &sql, params).await?;
    let (state, next_attempt_at) = match record.transition {
        DeliveryTransition::Succeeded => (DeliveryState::Succeeded, None),
        DeliveryTransition::RetryAt(at) => (DeliveryState::Pending, Some(at.as_millis())),
        DeliveryTransition::Exhausted => (DeliveryState::Failed, None),
    };
    let now = Timestamp::now().as_millis();
    let sql = "UPDATE deliveries SET state = $3, next_attempt_at = $4, attempt_count = attempt_count + 1, \
               last_status_code = $5, leased_until = NULL, lease_token = NULL, updated_at = $6 \
               WHERE id = $1 AND lease_token = $2 AND state = 'pending'";
    let params: Params = &[
        &a.delivery_id.as_str(),
        &record.lease_token,
        &state.as_str(),
        &next_attempt_at,
        &record.status_code.map(i32::from),
        &now,
    ];
    if execute(c, sql, params).await? == 0 {
        return Ok(RecordOutcome::Stale);
    }
    Ok(RecordOutcome::Applied(update_health(c, record, now).await?))
}

/// Tracks the webhook's failing streak and disables it on 410 Gone or when the streak is too long.
async fn update_health(c: &impl GenericClient, record: &AttemptRecord, now: i64) -> StoreResult<HealthChange> {
    let delivery = record.attempt.delivery_id.as_str();
    if record.transition == DeliveryTransition::Succeeded {
        // The common case, in one statement (one round trip) per delivery.
        let sql = "UPDATE webhooks SET failing_since = NULL \
                   WHERE id = (SELECT webhook_id FROM deliveries WHERE id = $1) AND failing_since IS NOT NULL";
        let recovered = execute(c, sql, &[&delivery]).await? > 0;
        return Ok(if recovered { HealthChange::Recovered } else { HealthChange::Unchanged });
    }
    let found = query(c, "SELECT webhook_id FROM deliveries WHERE id = $1", &[&delivery]).await?;
    let webhook: String = found.first().map(|row| row.get(0)).ok_or_else(|| StoreError::Corrupt("delivery".into()))?;
    let started = record.attempt.started_at.as_millis();
    let sql = "UPDATE webhooks SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL";
    let started_failing = execute(c, sql, &[&webhook, &started]).await? > 0;
    let mut change = if started_failing { HealthChange::StartedFailing } else { HealthChange::Unchanged };
    let disable = "UPDATE webhooks SET status = 'DISABLED', disabled_reason = $2, updated_at = $3 \
                   WHERE id = $1 AND status = 'ENABLED' AND ($4::BIGINT IS NULL OR failing_since <= $4)";
    if let Some(reason) = &record.disable_webhook
        && execute(c, disable, &[&webhook, reason, &now, &None::<i64>]).await? > 0
    {
        change = HealthChange::Disabled(reason.clone());
    } else if let Some(limit) = &record.failing_limit {
        let cutoff = Some(limit.since_before.as_millis());
        if execute(c, disable, &[&webhook, &limit.reason, &now, &cutoff]).await? > 0 {
            change = HealthChange::Disabled(limit.reason.clone());
        }
    }
    Ok(change)
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

pub async fn requeue_failed(
    c: &impl GenericClient,
    webhook: &WebhookId,
    since: Timestamp,
    until: Timestamp,
    now: Timestamp,
) -> StoreResult<u64> {
    let sql = "UPDATE deliveries SET state = 'pending', next_attempt_at = $4, trigger = 'manual', updated_at = $4 \
               WHERE webhook_id = $1 AND state = 'failed' AND created_at >= $2 AND created_at <= $3";
    execute(c, sql, &[&webhook.as_str(), &since.as_millis(), &until.as_millis(), &now.as_millis()]).await
}

pub async fn delete_events_before(c: &impl GenericClient, cutoff: Timestamp, limit: u32) -> StoreResult<u64> {
    let sql = "SELECT id FROM events WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED";
    let ids: Vec<String> =
        query(c, sql, &[&cutoff.as_millis(), &i64::from(limit)]).await?.iter().map(|row| row.get(0)).collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = ANY($1))";
    execute(c, sql, &[&ids]).await?;
    execute(c, "DELETE FROM deliveries WHERE event_id = ANY($1)", &[&ids]).await?;
    execute(c, "DELETE FROM events WHERE id = ANY($1)", &[&ids]).await
}

pub async fn get_meta(c: &impl GenericClient, key: &str) -> StoreResult<Option<Vec<u8>>> {
    let row = query(c, "SELECT value FROM meta WHERE key = $1", &[&key]).await?.pop();
    Ok(row.map(|row| row.get(0)))
}

pub async fn insert_meta_if_absent(c: &impl GenericClient, key: &str, value: &[u8]) -> StoreResult<Vec<u8>> {
    let sql = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
    execute(c, sql, &[&key, &value]).await?;
    let stored = get_meta(c, key).await?;
    stored.ok_or_else(|| StoreError::Corrupt(format!("the installation fact {key} vanished as it was written")))
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

pub async fn events_after(
    c: &impl GenericClient,
    account: &AccountId,
    after: &EventId,
    limit: u32,
) -> StoreResult<Vec<Event>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3");
    all(query(c, &sql, &[&account.as_str(), &after.as_str(), &i64::from(limit)]).await?, rows::event)
}
