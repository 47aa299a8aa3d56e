//! SQLite: the delivery queue: publishing, adding deliveries, claims under a lease, recording attempts.

use async_trait::async_trait;
use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, backend, rows};
use crate::domain::delivery_policy::DeliveryOrder;
use crate::domain::model::*;
use crate::domain::*;
use crate::store::rules;
use crate::store::*;

#[async_trait]
impl DeliveryQueue for SqliteStore {
    async fn publish(&self, batch: PublishBatch) -> StoreResult<PublishOutcome> {
        self.admit_new_work()?;
        let committed = Committed::of(batch.events.iter().map(|event| &event.account_id));
        // Without an idempotency key a publish only adds fresh rows: nothing to refuse, no savepoint needed.
        let outcome = match batch.idempotency.is_none() {
            true => self.writer.write_unguarded(move |conn| publish(conn, &batch)).await?,
            false => self.writer.write(move |conn| publish(conn, &batch)).await?,
        };
        if matches!(outcome, PublishOutcome::Committed) {
            self.commits.announce(committed);
        }
        Ok(outcome)
    }

    async fn add_deliveries(&self, deliveries: Vec<NewDelivery>) -> StoreResult<()> {
        self.admit_new_work()?;
        self.writer.write(move |conn| add_deliveries(conn, &deliveries)).await
    }

    async fn claim_due_deliveries(&self, claim: ClaimRequest) -> StoreResult<Vec<ClaimedDelivery>> {
        self.writer.write(move |conn| claim_due(conn, &claim)).await
    }

    async fn next_due_at(&self, now: Timestamp) -> StoreResult<Option<Timestamp>> {
        self.read(|conn| next_due_at(conn, now))
    }

    async fn enabled_webhooks(&self, ids: &[WebhookId]) -> StoreResult<std::collections::HashSet<WebhookId>> {
        self.read(|conn| enabled_webhooks(conn, ids))
    }

    async fn record_attempt(&self, record: AttemptRecord) -> StoreResult<RecordOutcome> {
        // A stale attempt is an answer, not a failure: recording one refuses nothing.
        let outcome = self.writer.write_unguarded(move |conn| record_attempt(conn, &record)).await?;
        if let RecordOutcome::Applied(HealthChange::Disabled(_)) = &outcome {
            self.changes.announce(Change::Everything);
        }
        Ok(outcome)
    }

    async fn requeue_failed(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let webhook = webhook.clone();
        self.writer.write(move |conn| requeue_failed(conn, &webhook, since, until, now)).await
    }
}

pub fn next_due_at(conn: &Connection, now: Timestamp) -> StoreResult<Option<Timestamp>> {
    conn.prepare_cached(
        // A leased delivery becomes claimable again when its lease runs out, not before.
        "SELECT MIN(CASE WHEN w.paced THEN d.next_attempt_at \
                    ELSE MAX(d.next_attempt_at, COALESCE(d.leased_until, 0)) END) \
         FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         WHERE d.state = 'pending' AND w.status = 'ENABLED' AND w.deleted_at IS NULL \
           AND (w.paced = 0 OR d.next_attempt_at > ?1)",
    )
    .and_then(|mut stmt| stmt.query_row([now.as_millis()], |row| row.get::<_, Option<i64>>(0)))
    .map(|found| found.map(Timestamp::from_millis))
    .map_err(backend)
}

pub fn publish(conn: &Connection, batch: &PublishBatch) -> StoreResult<PublishOutcome> {
    if let Some(record) = &batch.idempotency
        && let Some(response) = claim_idempotency_key(conn, record)?
    {
        return Ok(PublishOutcome::Replayed { response });
    }
    let mut insert_event = conn
        .prepare_cached(
            "INSERT INTO events (id, account_id, event_type, created_at, body, resource_id, simulated, \
             traceparent, tracestate) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
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
                event.simulated,
                event.trace.as_ref().map(|t| t.traceparent()),
                event.trace.as_ref().and_then(|t| t.tracestate())
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

fn enabled_webhooks(conn: &Connection, ids: &[WebhookId]) -> StoreResult<std::collections::HashSet<WebhookId>> {
    let mut stmt = conn
        .prepare_cached("SELECT 1 FROM webhooks WHERE id = ?1 AND status = 'ENABLED' AND deleted_at IS NULL")
        .map_err(backend)?;
    let mut enabled = std::collections::HashSet::new();
    for id in ids {
        if stmt.exists([id.as_str()]).map_err(backend)? {
            enabled.insert(id.clone());
        }
    }
    Ok(enabled)
}

/// Records the key, or returns the stored answer if the same request was made with it before.
fn claim_idempotency_key(conn: &Connection, record: &IdempotencyRecord) -> StoreResult<Option<Bytes>> {
    let sql = "SELECT request_hash, response FROM idempotency_keys WHERE key = ?1 AND created_at >= ?2";
    let seen: Option<(Vec<u8>, Vec<u8>)> = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| {
            let key = params![record.key, record.forget_before.as_millis()];
            stmt.query_row(key, |row| Ok((row.get(0)?, row.get(1)?))).optional()
        })
        .map_err(backend)?;
    match seen {
        Some((hash, _)) if hash != record.request_hash => Err(StoreError::IdempotencyKeyReused),
        Some((_, response)) => Ok(Some(Bytes::from(response))),
        None => {
            conn.prepare_cached(
                // An expired record of the key may still be there until the retention job removes it.
                "INSERT OR REPLACE INTO idempotency_keys (key, request_hash, response, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
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
        "SELECT d.event_id, d.trigger, d.attempt_count, e.body, d.single_attempt, e.traceparent, e.tracestate, {} \
         FROM deliveries d \
         JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?1",
        rows::TARGET_COLUMNS
    );
    type Parts = (String, String, u32, Vec<u8>, bool, Option<String>, Option<String>, rows::TargetRow);
    let parts: Parts = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_row([&id], |r| {
                let target = super::webhooks::target_row(r, 7)?;
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, target))
            })
        })
        .map_err(backend)?;
    let (event_id, trigger, attempt_count, body, single_attempt, traceparent, tracestate, target) = parts;
    Ok(ClaimedDelivery {
        delivery_id: DeliveryId::from_trusted(id),
        event_id: EventId::from_trusted(event_id),
        trigger: Trigger::parse(&trigger).ok_or_else(|| StoreError::Corrupt(format!("trigger {trigger:?}")))?,
        single_attempt,
        attempt_count,
        body: Bytes::from(body),
        trace: rows::trace_context(traceparent, tracestate),
        target: super::webhooks::target(conn, target, now)?,
        not_before,
    })
}

pub fn record_attempt(conn: &Connection, record: &AttemptRecord) -> StoreResult<RecordOutcome> {
    insert_attempt(conn, &record.attempt)?;
    let (state, next_attempt_at) = rules::state_after(record.transition);
    let next_attempt_at = next_attempt_at.map(Timestamp::as_millis);
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

/// Applies [`rules::health_after`] to the delivery's webhook. A success on a webhook that is not failing,
/// the common case, is one statement that changes nothing: this runs on the writer thread for every delivery.
fn update_health(conn: &Connection, record: &AttemptRecord, now: i64) -> StoreResult<HealthChange> {
    let delivery = record.attempt.delivery_id.as_str();
    if record.transition == DeliveryTransition::Succeeded {
        let sql = "UPDATE webhooks SET failing_since = NULL \
                   WHERE id = (SELECT webhook_id FROM deliveries WHERE id = ?1) AND failing_since IS NOT NULL";
        let recovered = conn.prepare_cached(sql).and_then(|mut stmt| stmt.execute([delivery])).map_err(backend)? > 0;
        return Ok(if recovered { HealthChange::Recovered } else { HealthChange::Unchanged });
    }
    let (webhook, status, failing_since): (String, String, Option<i64>) = conn
        .prepare_cached(
            "SELECT w.id, w.status, w.failing_since FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.id = ?1",
        )
        .and_then(|mut stmt| stmt.query_row([delivery], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
        .map_err(backend)?;
    let status = WebhookStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?;
    let before = rules::Health { status, failing_since: failing_since.map(Timestamp::from_millis) };
    let after = rules::health_after(before, record);
    if after.failing_since != before.failing_since {
        conn.prepare_cached("UPDATE webhooks SET failing_since = ?2 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![webhook, after.failing_since.map(Timestamp::as_millis)]))
            .map_err(backend)?;
    }
    if let Some(reason) = &after.disable {
        conn.prepare_cached(
            "UPDATE webhooks SET status = 'DISABLED', disabled_reason = ?2, updated_at = ?3 WHERE id = ?1",
        )
        .and_then(|mut stmt| stmt.execute(params![webhook, reason, now]))
        .map_err(backend)?;
    }
    Ok(after.change)
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
