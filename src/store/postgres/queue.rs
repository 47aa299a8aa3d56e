//! PostgreSQL: the delivery queue: publishing, adding deliveries, claims under a lease, recording attempts.

use crate::domain::trace::TraceContext;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use deadpool_postgres::GenericClient;
use tokio::sync::Notify;

use super::sql::{Params, execute, query, query_opt};
use super::{PostgresStore, pg};
use crate::domain::delivery_policy::DeliveryOrder;
use crate::domain::model::*;
use crate::domain::*;
use crate::store::columns::*;
use crate::store::rules;
use crate::store::*;

#[async_trait]
impl DeliveryQueue for PostgresStore {
    async fn publish(&self, batch: PublishBatch) -> StoreResult<PublishOutcome> {
        let committed = Committed::of(batch.events.iter().map(|event| &event.account_id));
        // Without an idempotency key a publish only adds fresh rows, so it can share a commit with others.
        let outcome = if batch.idempotency.is_none() {
            self.publishes.write(batch).await?
        } else {
            let mut client = self.client().await?;
            let transaction = client.transaction().await.map_err(pg)?;
            let outcome = publish(&transaction, &batch).await?;
            transaction.commit().await.map_err(pg)?;
            outcome
        };
        if matches!(outcome, PublishOutcome::Committed) {
            self.commits.announce(committed);
        }
        Ok(outcome)
    }

    async fn enabled_webhooks(&self, ids: &[WebhookId]) -> StoreResult<std::collections::HashSet<WebhookId>> {
        let ids: Vec<&str> = ids.iter().map(WebhookId::as_str).collect();
        let sql = "SELECT id FROM webhooks WHERE id = ANY($1) AND status = 'ENABLED' AND deleted_at IS NULL";
        let rows = query(&self.client().await?, sql, &[&ids]).await?;
        Ok(rows.iter().map(|row| WebhookId::from_trusted(row.get(0))).collect())
    }

    async fn add_deliveries(&self, deliveries: Vec<NewDelivery>) -> StoreResult<()> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        add_deliveries(&transaction, &deliveries).await?;
        transaction.commit().await.map_err(pg)
    }

    async fn claim_due_deliveries(&self, claim: ClaimRequest) -> StoreResult<Vec<ClaimedDelivery>> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let claimed = claim_due(&transaction, &claim).await?;
        transaction.commit().await.map_err(pg)?;
        Ok(claimed)
    }

    async fn next_due_at(&self, now: Timestamp) -> StoreResult<Option<Timestamp>> {
        next_due_at(&self.client().await?, now).await
    }

    async fn record_attempt(&self, record: AttemptRecord) -> StoreResult<RecordOutcome> {
        self.attempts.write(record).await
    }

    async fn requeue_failed(
        &self,
        webhook: &WebhookId,
        since: Timestamp,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<u64> {
        let client = self.client().await?;
        let requeued = requeue_failed(&client, webhook, since, until, now).await?;
        if requeued > 0 {
            client.execute("SELECT pg_notify('herald_work', '')", &[]).await.map_err(pg)?;
        }
        Ok(requeued)
    }

    fn work_signal(&self) -> Option<Arc<Notify>> {
        Some(self.work.clone())
    }
}

pub async fn publish(c: &impl GenericClient, batch: &PublishBatch) -> StoreResult<PublishOutcome> {
    if let Some(record) = &batch.idempotency {
        // An expired record of the key (older than `forget_before`) is replaced as if it were not there.
        let sql = "INSERT INTO idempotency_keys (key, request_hash, response, created_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (key) DO UPDATE SET request_hash = EXCLUDED.request_hash, \
                   response = EXCLUDED.response, created_at = EXCLUDED.created_at \
                   WHERE idempotency_keys.created_at < $5";
        let params: Params = &[
            &record.key,
            &record.request_hash.as_slice(),
            &record.response.as_ref(),
            &Timestamp::now().as_millis(),
            &record.forget_before.as_millis(),
        ];
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
    insert_events(c, &batch.events.iter().collect::<Vec<_>>()).await?;
    insert_deliveries(c, &batch.deliveries.iter().collect::<Vec<_>>()).await?;
    Ok(PublishOutcome::Committed)
}

pub async fn add_deliveries(c: &impl GenericClient, deliveries: &[NewDelivery]) -> StoreResult<()> {
    insert_deliveries(c, &deliveries.iter().collect::<Vec<_>>()).await
}

/// The events in one multi-row insert.
pub async fn insert_events(c: &impl GenericClient, events: &[&Event]) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    let accounts: Vec<&str> = events.iter().map(|e| e.account_id.as_str()).collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let created: Vec<i64> = events.iter().map(|e| e.created_at.as_millis()).collect();
    let bodies: Vec<&[u8]> = events.iter().map(|e| e.body.as_ref()).collect();
    let resources: Vec<Option<&str>> = events.iter().map(|e| e.resource_id.as_deref()).collect();
    let simulated: Vec<bool> = events.iter().map(|e| e.simulated).collect();
    let parents: Vec<Option<&str>> = events.iter().map(|e| e.trace.as_ref().map(|t| t.traceparent())).collect();
    let states: Vec<Option<&str>> = events.iter().map(|e| e.trace.as_ref().and_then(|t| t.tracestate())).collect();
    // The same statement tells every node's listener streams whose events these are, as the transaction
    // commits (a notification is delivered at commit, and not at all on rollback).
    let committed = Committed::of(events.iter().map(|e| &e.account_id)).payload();
    let sql = "WITH inserted AS (INSERT INTO events (id, account_id, event_type, created_at, body, resource_id, \
               simulated, traceparent, tracestate) SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], \
               $4::BIGINT[], $5::BYTEA[], $6::TEXT[], $7::BOOLEAN[], $8::TEXT[], $9::TEXT[])) \
               SELECT pg_notify('herald_events', $10)";
    let values: [&(dyn tokio_postgres::types::ToSql + Sync); 10] =
        [&ids, &accounts, &types, &created, &bodies, &resources, &simulated, &parents, &states, &committed];
    execute(c, sql, &values).await?;
    Ok(())
}

/// The deliveries in one multi-row insert; those nobody holds are announced, so an idle node picks them up
/// at once.
pub async fn insert_deliveries(c: &impl GenericClient, deliveries: &[&NewDelivery]) -> StoreResult<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = deliveries.iter().map(|d| d.id.as_str()).collect();
    let events: Vec<&str> = deliveries.iter().map(|d| d.event_id.as_str()).collect();
    let webhooks: Vec<&str> = deliveries.iter().map(|d| d.webhook_id.as_str()).collect();
    let accounts: Vec<&str> = deliveries.iter().map(|d| d.account_id.as_str()).collect();
    let triggers: Vec<&str> = deliveries.iter().map(|d| d.trigger.as_str()).collect();
    let due: Vec<i64> = deliveries.iter().map(|d| d.next_attempt_at.as_millis()).collect();
    let leased_until: Vec<Option<i64>> = deliveries.iter().map(|d| d.lease.map(|l| l.until.as_millis())).collect();
    let tokens: Vec<Option<i64>> = deliveries.iter().map(|d| d.lease.map(|l| l.token)).collect();
    let single: Vec<bool> = deliveries.iter().map(|d| d.single_attempt).collect();
    let sql = "INSERT INTO deliveries (id, event_id, webhook_id, account_id, state, trigger, created_at, updated_at, \
               next_attempt_at, leased_until, lease_token, single_attempt) \
               SELECT u.id, u.event_id, u.webhook_id, u.account_id, 'pending', u.trigger, u.due, u.due, u.due, \
                 u.leased_until, u.token, u.single \
               FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::BIGINT[], $7::BIGINT[], \
                 $8::BIGINT[], $9::BOOLEAN[]) \
                 AS u(id, event_id, webhook_id, account_id, trigger, due, leased_until, token, single)";
    let params: Params = &[&ids, &events, &webhooks, &accounts, &triggers, &due, &leased_until, &tokens, &single];
    execute(c, sql, params).await?;
    if deliveries.iter().any(|d| d.lease.is_none()) {
        execute(c, "SELECT pg_notify('herald_work', '')", &[]).await?;
    }
    Ok(())
}

/// Claims due deliveries: those of unpaced webhooks in due order, then what each paced webhook's rules
/// admit (see [`crate::pacing`]). A paced webhook's row is locked while its share is decided, so nodes
/// draw from one schedule; a node that finds it locked leaves it to the node holding it.
pub async fn claim_due(c: &impl GenericClient, claim: &ClaimRequest) -> StoreResult<Vec<ClaimedDelivery>> {
    // Due work is found through every span's index of pending work (empty where a span has none); the rows
    // found are then named by id and event, so PostgreSQL can look for them in their event's partition only.
    let sql = "UPDATE deliveries SET leased_until = $1, lease_token = $2 WHERE (id, event_id) IN ( \
                 SELECT d.id, d.event_id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                 WHERE d.state = 'pending' AND d.next_attempt_at <= $3 \
                   AND (d.leased_until IS NULL OR d.leased_until <= $3) \
                   AND w.status = 'ENABLED' AND w.deleted_at IS NULL AND NOT w.paced \
                 ORDER BY d.next_attempt_at LIMIT $4 FOR UPDATE OF d SKIP LOCKED) \
               RETURNING id, event_id";
    let params: Params =
        &[&claim.lease.until.as_millis(), &claim.lease.token, &claim.now.as_millis(), &i64::from(claim.limit)];
    let (mut ids, mut events): (Vec<String>, Vec<String>) =
        query(c, sql, params).await?.iter().map(|row| (row.get(0), row.get(1))).unzip();
    let room = (claim.limit as usize).saturating_sub(ids.len());
    let mut slots: HashMap<String, Timestamp> = HashMap::new();
    if room > 0 {
        for (id, event, slot) in claim_paced(c, claim, room).await? {
            if let Some(slot) = slot {
                slots.insert(id.clone(), slot);
            }
            ids.push(id);
            events.push(event);
        }
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT d.id, d.event_id, d.trigger, d.attempt_count, e.body, d.single_attempt, e.traceparent, \
         e.tracestate, {TARGET_COLUMNS} \
         FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id \
         WHERE d.id = ANY($1) AND d.event_id = ANY($2)"
    );
    let mut claimed = Vec::with_capacity(ids.len());
    for row in query(c, &sql, &[&ids, &events]).await? {
        let trigger: String = row.get(2);
        claimed.push(ClaimedDelivery {
            delivery_id: DeliveryId::from_trusted(row.get(0)),
            event_id: EventId::from_trusted(row.get(1)),
            trigger: Trigger::parse(&trigger).ok_or_else(|| StoreError::Corrupt(format!("trigger {trigger:?}")))?,
            single_attempt: row.get(5),
            attempt_count: row.get::<_, i32>(3) as u32,
            body: Bytes::from(row.get::<_, Vec<u8>>(4)),
            trace: row.get::<_, Option<String>>(6).map(|parent| TraceContext::from_stored(parent, row.get(7))),
            target: super::webhooks::target(c, super::webhooks::target_row(&row, 8), claim.now).await?,
            not_before: slots.get(row.get::<_, &str>(0)).copied(),
        });
    }
    Ok(claimed)
}

/// The paced webhooks' share of a claim: delivery and event ids with the time each may send.
async fn claim_paced(
    c: &impl GenericClient,
    claim: &ClaimRequest,
    mut room: usize,
) -> StoreResult<Vec<(String, String, Option<Timestamp>)>> {
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
            "SELECT id, event_id FROM (SELECT id, event_id, next_attempt_at, leased_until FROM deliveries \
               WHERE webhook_id = $1 AND state = 'pending' ORDER BY id LIMIT 1) head \
             WHERE next_attempt_at <= $2 AND (leased_until IS NULL OR leased_until <= $2) LIMIT $3"
        } else {
            "SELECT id, event_id FROM deliveries WHERE webhook_id = $1 AND state = 'pending' AND next_attempt_at <= $2 \
               AND (leased_until IS NULL OR leased_until <= $2) ORDER BY next_attempt_at, id LIMIT $3"
        };
        let candidates: Vec<(String, String)> = query(c, sql, &[&webhook, &now, &(room as i64)])
            .await?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let next = next_slot_at.map(Timestamp::from_millis);
        let admission = crate::pacing::admit(&policy, in_flight as u32, next, candidates.len(), claim.now);
        for ((id, event), slot) in candidates.into_iter().zip(admission.slots) {
            let sql = "UPDATE deliveries SET leased_until = $3, lease_token = $4 WHERE id = $1 AND event_id = $2";
            execute(c, sql, &[&id, &event, &claim.lease.until.as_millis(), &claim.lease.token]).await?;
            claimed.push((id, event, (slot > claim.now).then_some(slot)));
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

/// Records a group of attempts (no two of the same delivery): the attempts in one multi-row insert and the
/// deliveries' new states in one update that says which leases held. When every applied attempt succeeded
/// (the common case) one more update ends the streaks of their webhooks; when some failed, the health of
/// each is applied in the group's order (a failure reads its webhook's streak under a lock), so that a
/// success after a failure still ends the streak the failure began.
pub async fn record_attempts(c: &impl GenericClient, records: &[AttemptRecord]) -> StoreResult<Vec<RecordOutcome>> {
    insert_attempts(c, records).await?;
    let now = Timestamp::now().as_millis();
    let applied = apply_transitions(c, records, now).await?;
    let held = |r: &&AttemptRecord| applied.contains_key(r.attempt.delivery_id.as_str());
    let all_succeeded = records.iter().filter(held).all(|r| r.transition == DeliveryTransition::Succeeded);
    let mut recovered: HashSet<String> = HashSet::new();
    if all_succeeded {
        let webhooks: Vec<&str> =
            records.iter().filter_map(|r| applied.get(r.attempt.delivery_id.as_str()).map(String::as_str)).collect();
        let sql =
            "UPDATE webhooks SET failing_since = NULL WHERE id = ANY($1) AND failing_since IS NOT NULL RETURNING id";
        recovered = query(c, sql, &[&webhooks]).await?.iter().map(|row| row.get(0)).collect();
    }
    let mut outcomes = Vec::with_capacity(records.len());
    for record in records {
        let Some(webhook) = applied.get(record.attempt.delivery_id.as_str()) else {
            outcomes.push(RecordOutcome::Stale);
            continue;
        };
        let health = match all_succeeded {
            // The first success of a recovered webhook reports it; the others found nothing to change.
            true if recovered.remove(webhook) => HealthChange::Recovered,
            true => HealthChange::Unchanged,
            false => update_health(c, record, now).await?,
        };
        outcomes.push(RecordOutcome::Applied(health));
    }
    Ok(outcomes)
}

async fn insert_attempts(c: &impl GenericClient, records: &[AttemptRecord]) -> StoreResult<()> {
    let attempts: Vec<&Attempt> = records.iter().map(|r| &r.attempt).collect();
    let column = |f: fn(&Attempt) -> String| attempts.iter().map(|a| f(a)).collect::<Vec<String>>();
    let optional = |f: fn(&Attempt) -> Option<String>| attempts.iter().map(|a| f(a)).collect::<Vec<Option<String>>>();
    let ids = column(|a| a.id.to_string());
    let deliveries = column(|a| a.delivery_id.to_string());
    let numbers: Vec<i32> = attempts.iter().map(|a| a.number as i32).collect();
    let started: Vec<i64> = attempts.iter().map(|a| a.started_at.as_millis()).collect();
    let durations: Vec<i64> = attempts.iter().map(|a| a.duration_ms as i64).collect();
    let triggers = column(|a| a.trigger.as_str().to_owned());
    let urls = column(|a| a.request_url.clone());
    let request_headers = column(|a| headers_to_json(&a.request_headers));
    let statuses: Vec<Option<i32>> =
        attempts.iter().map(|a| a.response.as_ref().map(|r| i32::from(r.status))).collect();
    let response_headers = optional(|a| a.response.as_ref().map(|r| headers_to_json(&r.headers)));
    let bodies: Vec<Option<&[u8]>> = attempts.iter().map(|a| a.response.as_ref().map(|r| r.body.as_slice())).collect();
    let truncated: Vec<bool> = attempts.iter().map(|a| a.response.as_ref().is_some_and(|r| r.truncated)).collect();
    let codes = optional(|a| a.error.as_ref().map(|e| e.code.clone()));
    let messages = optional(|a| a.error.as_ref().map(|e| e.message.clone()));
    let nodes = optional(|a| a.node.clone());
    let events: Vec<&str> = records.iter().map(|r| r.event_id.as_str()).collect();
    let sql = format!(
        "INSERT INTO attempts ({ATTEMPT_COLUMNS}, event_id) SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], \
         $3::INTEGER[], $4::BIGINT[], $5::BIGINT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::INTEGER[], $10::TEXT[], \
         $11::BYTEA[], $12::BOOLEAN[], $13::TEXT[], $14::TEXT[], $15::TEXT[], $16::TEXT[])"
    );
    let params: Params = &[
        &ids,
        &deliveries,
        &numbers,
        &started,
        &durations,
        &triggers,
        &urls,
        &request_headers,
        &statuses,
        &response_headers,
        &bodies,
        &truncated,
        &codes,
        &messages,
        &nodes,
        &events,
    ];
    execute(c, &sql, params).await?;
    Ok(())
}

/// Moves on every delivery whose lease still holds; returns those delivery ids with their webhooks.
///
/// A lease token is only ever held by a pending delivery (every way out of `pending` clears it), so the
/// token alone says the lease holds. The statement fetches the group's rows by key (`= ANY` on both key
/// columns); a condition on `state` would offer the planner the partial index of pending deliveries,
/// which it takes on a young partition whose statistics are not yet gathered — and then reads every
/// pending delivery for each group.
async fn apply_transitions(
    c: &impl GenericClient,
    records: &[AttemptRecord],
    now: i64,
) -> StoreResult<HashMap<String, String>> {
    let ids: Vec<&str> = records.iter().map(|r| r.attempt.delivery_id.as_str()).collect();
    let events: Vec<&str> = records.iter().map(|r| r.event_id.as_str()).collect();
    let tokens: Vec<i64> = records.iter().map(|r| r.lease_token).collect();
    let (states, nexts): (Vec<&str>, Vec<Option<i64>>) = records
        .iter()
        .map(|r| {
            let (state, next) = rules::state_after(r.transition);
            (state.as_str(), next.map(Timestamp::as_millis))
        })
        .unzip();
    let statuses: Vec<Option<i32>> = records.iter().map(|r| r.status_code.map(i32::from)).collect();
    let sql = "UPDATE deliveries d SET state = u.state, next_attempt_at = u.next, attempt_count = d.attempt_count + 1, \
               last_status_code = u.status, leased_until = NULL, lease_token = NULL, updated_at = $6 \
               FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::BIGINT[], $5::INTEGER[], $7::TEXT[]) \
                 AS u(id, token, state, next, status, event_id) \
               WHERE d.event_id = ANY($7) AND d.id = ANY($1) \
                 AND d.id = u.id AND d.event_id = u.event_id AND d.lease_token = u.token \
               RETURNING d.id, d.webhook_id";
    let rows = query(c, sql, &[&ids, &tokens, &states, &nexts, &statuses, &now, &events]).await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Applies [`rules::health_after`] to the delivery's webhook. A success on a webhook that is not failing,
/// the common case, is one statement (one round trip) that changes nothing. A failure locks the webhook's
/// row, so that nodes recording failures of one webhook at once read and write its streak in turn.
async fn update_health(c: &impl GenericClient, record: &AttemptRecord, now: i64) -> StoreResult<HealthChange> {
    let (delivery, event) = (record.attempt.delivery_id.as_str(), record.event_id.as_str());
    if record.transition == DeliveryTransition::Succeeded {
        let sql = "UPDATE webhooks SET failing_since = NULL WHERE failing_since IS NOT NULL \
                   AND id = (SELECT webhook_id FROM deliveries WHERE id = $1 AND event_id = $2)";
        let recovered = execute(c, sql, &[&delivery, &event]).await? > 0;
        return Ok(if recovered { HealthChange::Recovered } else { HealthChange::Unchanged });
    }
    let sql = "SELECT w.id, w.status, w.failing_since FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
               WHERE d.id = $1 AND d.event_id = $2 FOR UPDATE OF w";
    let row = query_opt(c, sql, &[&delivery, &event]).await?.ok_or_else(|| StoreError::Corrupt("delivery".into()))?;
    let (webhook, status, failing_since): (String, String, Option<i64>) = (row.get(0), row.get(1), row.get(2));
    let status = WebhookStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?;
    let before = rules::Health { status, failing_since: failing_since.map(Timestamp::from_millis) };
    let after = rules::health_after(before, record);
    if after.failing_since != before.failing_since {
        let sql = "UPDATE webhooks SET failing_since = $2 WHERE id = $1";
        execute(c, sql, &[&webhook, &after.failing_since.map(Timestamp::as_millis)]).await?;
    }
    if let Some(reason) = &after.disable {
        let sql = "UPDATE webhooks SET status = 'DISABLED', disabled_reason = $2, updated_at = $3 WHERE id = $1";
        execute(c, sql, &[&webhook, reason, &now]).await?;
    }
    Ok(after.change)
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
