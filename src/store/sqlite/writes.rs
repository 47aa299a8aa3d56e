//! Write operations. Each runs on the writer thread inside its own savepoint of a group transaction.

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};

use super::{backend, reads, rows};
use crate::domain::delivery_policy::DeliveryOrder;
use crate::domain::model::*;
use crate::domain::*;
use crate::store::*;

pub fn insert_account(conn: &Connection, new: &NewAccount) -> StoreResult<()> {
    let account = &new.account;
    conn.prepare_cached(
        "INSERT INTO accounts (id, name, client_id, secret_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            account.id.as_str(),
            account.name,
            account.client_id,
            new.secret_hash.as_slice(),
            account.created_at.as_millis()
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub fn put_event_type(conn: &Connection, draft: EventTypeDraft) -> StoreResult<(EventType, bool)> {
    let existed = reads::get_event_type(conn, &draft.name)?;
    conn.prepare_cached(
        "INSERT INTO event_types (name, description, resource_type, resource_version, sample, schema, status, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?7, 'ENABLED', ?6, ?6) \
         ON CONFLICT (name) DO UPDATE SET description = excluded.description, resource_type = excluded.resource_type, \
         resource_version = excluded.resource_version, sample = excluded.sample, schema = excluded.schema, \
         updated_at = excluded.updated_at",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            draft.name.as_str(),
            draft.description,
            draft.resource_type,
            draft.resource_version,
            draft.sample,
            draft.now.as_millis(),
            draft.schema
        ])
    })
    .map_err(backend)?;
    let stored = reads::get_event_type(conn, &draft.name)?
        .ok_or_else(|| StoreError::Corrupt("event type vanished after upsert".into()))?;
    Ok((stored, existed.is_none()))
}

pub fn insert_webhook(conn: &Connection, new: &NewWebhook) -> StoreResult<()> {
    let webhook = &new.webhook;
    let existing = reads::list_webhooks(conn, &webhook.account_id)?;
    if existing.len() as u32 >= new.limit {
        return Err(StoreError::WebhookLimitReached { limit: new.limit });
    }
    if existing.iter().any(|w| w.url == webhook.url) {
        return Err(StoreError::WebhookUrlTaken);
    }
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

pub fn publish(conn: &Connection, batch: &PublishBatch) -> StoreResult<PublishOutcome> {
    if let Some(record) = &batch.idempotency
        && let Some(response) = claim_idempotency_key(conn, record)?
    {
        return Ok(PublishOutcome::Replayed { response });
    }
    let mut insert_event = conn
        .prepare_cached(
            "INSERT INTO events (id, account_id, event_type, created_at, body, resource_id, simulated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(backend)?;
    for event in &batch.events {
        insert_event
            .execute(params![
                event.id.as_str(),
                event.account_id.as_str(),
                event.event_type.as_str(),
                event.created_at.as_millis(),
                event.body.as_ref(),
                event.resource_id,
                event.simulated
            ])
            .map_err(backend)?;
    }
    add_deliveries(conn, &batch.deliveries)?;
    Ok(PublishOutcome::Committed)
}

pub fn add_deliveries(conn: &Connection, deliveries: &[NewDelivery]) -> StoreResult<()> {
    let mut insert_delivery = conn
        .prepare_cached(
            "INSERT INTO deliveries (id, event_id, webhook_id, account_id, state, trigger, created_at, updated_at, \
             next_attempt_at, leased_until, lease_token, single_attempt) \
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?6, ?6, ?7, ?8, ?9)",
        )
        .map_err(backend)?;
    for delivery in deliveries {
        insert_delivery
            .execute(params![
                delivery.id.as_str(),
                delivery.event_id.as_str(),
                delivery.webhook_id.as_str(),
                delivery.account_id.as_str(),
                delivery.trigger.as_str(),
                delivery.next_attempt_at.as_millis(),
                delivery.lease.map(|l| l.until.as_millis()),
                delivery.lease.map(|l| l.token),
                delivery.single_attempt,
            ])
            .map_err(backend)?;
    }
    Ok(())
}

/// Records the key, or returns the stored answer if the same request was made with it before.
fn claim_idempotency_key(conn: &Connection, record: &IdempotencyRecord) -> StoreResult<Option<Bytes>> {
    let seen: Option<(Vec<u8>, Vec<u8>)> = conn
        .prepare_cached("SELECT request_hash, response FROM idempotency_keys WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([&record.key], |row| Ok((row.get(0)?, row.get(1)?))).optional())
        .map_err(backend)?;
    match seen {
        Some((hash, _)) if hash != record.request_hash => Err(StoreError::IdempotencyKeyReused),
        Some((_, response)) => Ok(Some(Bytes::from(response))),
        None => {
            conn.prepare_cached(
                "INSERT INTO idempotency_keys (key, request_hash, response, created_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut stmt| {
                let now = Timestamp::now().as_millis();
                stmt.execute(params![record.key, record.request_hash.as_slice(), record.response.as_ref(), now])
            })
            .map_err(backend)?;
            Ok(None)
        }
    }
}

/// Claims due deliveries: those of unpaced webhooks in due order, then what each paced webhook's rules
/// admit (see [`crate::pacing`]). Paced deliveries that must wait are never selected, so they cannot
/// crowd out the others.
pub fn claim_due(conn: &Connection, claim: &ClaimRequest) -> StoreResult<Vec<ClaimedDelivery>> {
    let ids: Vec<String> = {
        let mut stmt = conn
            .prepare_cached(
                "UPDATE deliveries SET leased_until = ?1, lease_token = ?2 WHERE id IN ( \
                   SELECT d.id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                   WHERE d.state = 'pending' AND d.next_attempt_at <= ?3 \
                     AND (d.leased_until IS NULL OR d.leased_until <= ?3) \
                     AND w.status = 'ENABLED' AND w.deleted_at IS NULL AND w.paced = 0 \
                   ORDER BY d.next_attempt_at LIMIT ?4) \
                 RETURNING id",
            )
            .map_err(backend)?;
        let params = params![claim.lease.until.as_millis(), claim.lease.token, claim.now.as_millis(), claim.limit];
        stmt.query_map(params, |row| row.get(0)).map_err(backend)?.collect::<Result<_, _>>().map_err(backend)?
    };
    let room = (claim.limit as usize).saturating_sub(ids.len());
    let mut claimed: Vec<(String, Option<Timestamp>)> = ids.into_iter().map(|id| (id, None)).collect();
    if room > 0 {
        claimed.extend(claim_paced(conn, claim, room)?);
    }
    claimed.into_iter().map(|(id, not_before)| load_claimed(conn, id, not_before, claim.now)).collect()
}

/// The paced webhooks' share of a claim: ids with the time each may send.
fn claim_paced(
    conn: &Connection,
    claim: &ClaimRequest,
    mut room: usize,
) -> StoreResult<Vec<(String, Option<Timestamp>)>> {
    let now = claim.now.as_millis();
    let webhooks: Vec<(String, String, Option<i64>)> = conn
        .prepare_cached(
            "SELECT w.id, w.policy, w.next_slot_at FROM webhooks w \
             WHERE w.paced = 1 AND w.status = 'ENABLED' AND w.deleted_at IS NULL AND EXISTS ( \
               SELECT 1 FROM deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending' \
                 AND d.next_attempt_at <= ?1 AND (d.leased_until IS NULL OR d.leased_until <= ?1))",
        )
        .and_then(|mut stmt| stmt.query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
        .map_err(backend)?;
    let mut claimed = Vec::new();
    for (webhook, policy, next_slot_at) in webhooks {
        if room == 0 {
            break;
        }
        let policy =
            rows::policy_from_json(&policy).ok_or_else(|| StoreError::Corrupt(format!("policy of {webhook}")))?;
        let in_flight: u32 = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM deliveries WHERE webhook_id = ?1 AND state = 'pending' AND leased_until > ?2",
            )
            .and_then(|mut stmt| stmt.query_row(params![webhook, now], |r| r.get(0)))
            .map_err(backend)?;
        // FIFO: only the oldest pending delivery may go, and only when it is due; the rest wait behind it.
        let candidates: Vec<String> = conn
            .prepare_cached(if policy.ordering == DeliveryOrder::Fifo {
                "SELECT id FROM (SELECT id, next_attempt_at, leased_until FROM deliveries \
                   WHERE webhook_id = ?1 AND state = 'pending' ORDER BY id LIMIT 1) \
                 WHERE next_attempt_at <= ?2 AND (leased_until IS NULL OR leased_until <= ?2) LIMIT ?3"
            } else {
                "SELECT id FROM deliveries WHERE webhook_id = ?1 AND state = 'pending' AND next_attempt_at <= ?2 \
                   AND (leased_until IS NULL OR leased_until <= ?2) ORDER BY next_attempt_at, id LIMIT ?3"
            })
            .and_then(|mut stmt| stmt.query_map(params![webhook, now, room as i64], |r| r.get(0))?.collect())
            .map_err(backend)?;
        let next = next_slot_at.map(Timestamp::from_millis);
        let admission = crate::pacing::admit(&policy, in_flight, next, candidates.len(), claim.now);
        for (id, slot) in candidates.into_iter().zip(admission.slots) {
            conn.prepare_cached("UPDATE deliveries SET leased_until = ?2, lease_token = ?3 WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute(params![id, claim.lease.until.as_millis(), claim.lease.token]))
                .map_err(backend)?;
            claimed.push((id, (slot > claim.now).then_some(slot)));
            room -= 1;
        }
        if admission.next_slot_at != next {
            conn.prepare_cached("UPDATE webhooks SET next_slot_at = ?2 WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute(params![webhook, admission.next_slot_at.map(Timestamp::as_millis)]))
                .map_err(backend)?;
        }
    }
    Ok(claimed)
}

fn load_claimed(
    conn: &Connection,
    id: String,
    not_before: Option<Timestamp>,
    now: Timestamp,
) -> StoreResult<ClaimedDelivery> {
    let sql = format!(
        "SELECT d.event_id, d.trigger, d.attempt_count, e.body, d.single_attempt, {} FROM deliveries d \
         JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?1",
        rows::TARGET_COLUMNS
    );
    type Parts = (String, String, u32, Vec<u8>, bool, rows::TargetRow);
    let parts: Parts = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_row([&id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, reads::target_row(r, 5)?))
            })
        })
        .map_err(backend)?;
    let (event_id, trigger, attempt_count, body, single_attempt, target) = parts;
    Ok(ClaimedDelivery {
        delivery_id: DeliveryId::from_trusted(id),
        event_id: EventId::from_trusted(event_id),
        trigger: Trigger::parse(&trigger).ok_or_else(|| StoreError::Corrupt(format!("trigger {trigger:?}")))?,
        single_attempt,
        attempt_count,
        body: Bytes::from(body),
        target: reads::target(conn, target, now)?,
        not_before,
    })
}

pub fn record_attempt(conn: &Connection, record: &AttemptRecord) -> StoreResult<RecordOutcome> {
    insert_attempt(conn, &record.attempt)?;
    let (state, next_attempt_at) = match record.transition {
        DeliveryTransition::Succeeded => (DeliveryState::Succeeded, None),
        DeliveryTransition::RetryAt(at) => (DeliveryState::Pending, Some(at.as_millis())),
        DeliveryTransition::Exhausted => (DeliveryState::Failed, None),
    };
    let now = Timestamp::now().as_millis();
    let changed = conn
        .prepare_cached(
            "UPDATE deliveries SET state = ?3, next_attempt_at = ?4, attempt_count = attempt_count + 1, \
             last_status_code = ?5, leased_until = NULL, lease_token = NULL, updated_at = ?6 \
             WHERE id = ?1 AND lease_token = ?2 AND state = 'pending'",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                record.attempt.delivery_id.as_str(),
                record.lease_token,
                state.as_str(),
                next_attempt_at,
                record.status_code,
                now
            ])
        })
        .map_err(backend)?;
    if changed == 0 {
        return Ok(RecordOutcome::Stale);
    }
    Ok(RecordOutcome::Applied(update_health(conn, record, now)?))
}

/// Tracks the webhook's failing streak and disables it on 410 Gone or when the streak is too long.
fn update_health(conn: &Connection, record: &AttemptRecord, now: i64) -> StoreResult<HealthChange> {
    let run = |sql: &str, params: &[&dyn rusqlite::ToSql]| -> StoreResult<bool> {
        conn.prepare_cached(sql).and_then(|mut stmt| stmt.execute(params)).map(|n| n > 0).map_err(backend)
    };
    let delivery = record.attempt.delivery_id.as_str();
    if record.transition == DeliveryTransition::Succeeded {
        // The common case, in one statement: this runs on the writer thread for every delivery.
        let sql = "UPDATE webhooks SET failing_since = NULL \
                   WHERE id = (SELECT webhook_id FROM deliveries WHERE id = ?1) AND failing_since IS NOT NULL";
        return Ok(if run(sql, &[&delivery])? { HealthChange::Recovered } else { HealthChange::Unchanged });
    }
    let webhook: String = conn
        .prepare_cached("SELECT webhook_id FROM deliveries WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([delivery], |r| r.get(0)))
        .map_err(backend)?;
    let started = record.attempt.started_at.as_millis();
    let sql = "UPDATE webhooks SET failing_since = ?2 WHERE id = ?1 AND failing_since IS NULL";
    let mut change =
        if run(sql, &[&webhook, &started])? { HealthChange::StartedFailing } else { HealthChange::Unchanged };
    let disable = "UPDATE webhooks SET status = 'DISABLED', disabled_reason = ?2, updated_at = ?3 \
                   WHERE id = ?1 AND status = 'ENABLED' AND (?4 IS NULL OR failing_since <= ?4)";
    if let Some(reason) = &record.disable_webhook
        && run(disable, &[&webhook, reason, &now, &None::<i64>])?
    {
        change = HealthChange::Disabled(reason.clone());
    } else if let Some(limit) = &record.failing_limit
        && run(disable, &[&webhook, &limit.reason, &now, &Some(limit.since_before.as_millis())])?
    {
        change = HealthChange::Disabled(limit.reason.clone());
    }
    Ok(change)
}

fn insert_attempt(conn: &Connection, attempt: &Attempt) -> StoreResult<()> {
    let response = attempt.response.as_ref();
    let error = attempt.error.as_ref();
    conn.prepare_cached(&format!(
        "INSERT INTO attempts ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        rows::ATTEMPT_COLUMNS
    ))
    .and_then(|mut stmt| {
        stmt.execute(params![
            attempt.id.as_str(),
            attempt.delivery_id.as_str(),
            attempt.number,
            attempt.started_at.as_millis(),
            attempt.duration_ms,
            attempt.trigger.as_str(),
            attempt.request_url,
            rows::headers_to_json(&attempt.request_headers),
            response.map(|r| r.status),
            response.map(|r| rows::headers_to_json(&r.headers)),
            response.map(|r| r.body.as_slice()),
            response.is_some_and(|r| r.truncated),
            error.map(|e| e.code.as_str()),
            error.map(|e| e.message.as_str()),
            attempt.node,
        ])
    })
    .map_err(backend)?;
    Ok(())
}

/// Frees every lease; only safe when no other process can hold one (see `SqliteStore::open`).
pub fn release_all_leases(conn: &Connection) -> StoreResult<()> {
    let released = conn
        .execute("UPDATE deliveries SET leased_until = NULL, lease_token = NULL WHERE leased_until IS NOT NULL", [])
        .map_err(backend)?;
    if released > 0 {
        tracing::info!(deliveries = released, "released the leases of a previous run");
    }
    Ok(())
}

pub fn roll_client_secret(conn: &Connection, id: &AccountId, hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
    let changed = conn
        .prepare_cached("UPDATE accounts SET secret_hash = ?2 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute(params![id.as_str(), hash.as_slice()]))
        .map_err(backend)?;
    conn.prepare_cached("UPDATE oauth_tokens SET revoked_at = ?2 WHERE account_id = ?1 AND revoked_at IS NULL")
        .and_then(|mut stmt| stmt.execute(params![id.as_str(), now.as_millis()]))
        .map_err(backend)?;
    Ok(changed == 1)
}

pub fn create_token(conn: &Connection, token: &NewToken) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO oauth_tokens (token_hash, account_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            token.token_hash.as_slice(),
            token.account_id.as_str(),
            token.created_at.as_millis(),
            token.expires_at.as_millis()
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub fn revoke_token(conn: &Connection, hash: &[u8; 32], now: Timestamp) -> StoreResult<bool> {
    let changed = conn
        .prepare_cached("UPDATE oauth_tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL")
        .and_then(|mut stmt| stmt.execute(params![hash.as_slice(), now.as_millis()]))
        .map_err(backend)?;
    Ok(changed == 1)
}

pub fn update_webhook(
    conn: &Connection,
    account: &AccountId,
    id: &WebhookId,
    changes: &WebhookChanges,
    now: Timestamp,
) -> StoreResult<Option<Webhook>> {
    let Some(current) = reads::get_webhook(conn, account, id)? else { return Ok(None) };
    if let Some(url) = &changes.url {
        let taken = reads::list_webhooks(conn, account)?.iter().any(|w| w.id != current.id && &w.url == url);
        if taken {
            return Err(StoreError::WebhookUrlTaken);
        }
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
    reads::get_webhook(conn, account, id)
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

pub fn requeue_failed(
    conn: &Connection,
    webhook: &WebhookId,
    since: Timestamp,
    until: Timestamp,
    now: Timestamp,
) -> StoreResult<u64> {
    let changed = conn
        .prepare_cached(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = ?4, trigger = 'manual', updated_at = ?4 \
             WHERE webhook_id = ?1 AND state = 'failed' AND created_at >= ?2 AND created_at <= ?3",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![webhook.as_str(), since.as_millis(), until.as_millis(), now.as_millis()])
        })
        .map_err(backend)?;
    Ok(changed as u64)
}

pub fn delete_events_before(conn: &Connection, cutoff: Timestamp, limit: u32) -> StoreResult<u64> {
    let ids: Vec<String> = conn
        .prepare_cached("SELECT id FROM events WHERE created_at < ?1 ORDER BY created_at LIMIT ?2")
        .and_then(|mut stmt| stmt.query_map(params![cutoff.as_millis(), limit], |row| row.get(0))?.collect())
        .map_err(backend)?;
    for id in &ids {
        conn.prepare_cached(
            "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = ?1)",
        )
        .and_then(|mut stmt| stmt.execute([id]))
        .map_err(backend)?;
        conn.prepare_cached("DELETE FROM deliveries WHERE event_id = ?1")
            .and_then(|mut stmt| stmt.execute([id]))
            .map_err(backend)?;
        conn.prepare_cached("DELETE FROM events WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute([id]))
            .map_err(backend)?;
    }
    Ok(ids.len() as u64)
}

pub fn insert_meta_if_absent(conn: &Connection, key: &str, value: &[u8]) -> StoreResult<Vec<u8>> {
    conn.prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING")
        .and_then(|mut stmt| stmt.execute(rusqlite::params![key, value]))
        .map_err(backend)?;
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")
        .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)))
        .map_err(backend)
}

pub fn create_listener(conn: &Connection, new: &StoredListener, idle_before: Timestamp) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM listeners WHERE last_seen_at < ?1")
        .and_then(|mut stmt| stmt.execute([idle_before.as_millis()]))
        .map_err(backend)?;
    let listener = &new.listener;
    conn.prepare_cached(
        "INSERT INTO listeners (id, account_id, format, event_types, sealed_secret, created_at, last_seen_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            listener.id.as_str(),
            listener.account_id.as_str(),
            listener.format.as_str(),
            rows::subscriptions_to_json(&listener.event_types),
            new.sealed_secret,
            listener.created_at.as_millis(),
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub fn touch_listener(conn: &Connection, id: &ListenerId, now: Timestamp) -> StoreResult<()> {
    conn.prepare_cached("UPDATE listeners SET last_seen_at = ?2 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute(params![id.as_str(), now.as_millis()]))
        .map_err(backend)?;
    Ok(())
}

pub fn delete_listener(conn: &Connection, account: &AccountId, id: &ListenerId) -> StoreResult<bool> {
    let deleted = conn
        .prepare_cached("DELETE FROM listeners WHERE id = ?1 AND account_id = ?2")
        .and_then(|mut stmt| stmt.execute([id.as_str(), account.as_str()]))
        .map_err(backend)?;
    Ok(deleted > 0)
}
