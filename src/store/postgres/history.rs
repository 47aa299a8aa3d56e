//! PostgreSQL: the history in spans of time. Events, deliveries and attempts are partitioned by event id
//! (which begins with its creation time, so a range of ids is a span); every span has one partition of
//! each table, named `<table>_p<start in ms>` and listed in `history_partitions`.
//!
//! Spans are made a few ahead of the clock, as empty tables attached to their parents (attaching does not
//! stop the writes of other sessions), and expire whole: once a span ended before the retention cutoff, its
//! three partitions are detached concurrently (readers and writers of the other spans go on) and dropped —
//! no row is deleted one by one, so expiry writes almost no WAL and leaves no dead rows to vacuum. The
//! first span, `p0`, holds whatever was stored before partitioning began and reaches back to the first
//! id ever made; its old rows are deleted in batches, as before, until it expires in turn.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::sql::{execute, query};
use super::{PostgresStore, pg};
use crate::domain::*;
use crate::store::*;

/// The partitioned tables, in the order a span's partitions are dropped: attempts before their deliveries
/// before their events, so that what stays visible is always whole.
const TABLES: [&str; 3] = ["attempts", "deliveries", "events"];
/// How many spans exist ahead of the one the clock is in.
const SPANS_AHEAD: i64 = 3;
/// Serialises span changes between nodes: the first key of a two-key advisory lock whose second is the
/// schema's (advisory locks are per database, and one database may hold several installations' schemas).
const PARTITION_LOCK: i32 = 0x4845_5241; // "HERA"

#[async_trait]
impl HistoryStore for PostgresStore {
    async fn prepare_history(&self, now: Timestamp) -> StoreResult<u32> {
        prepare(&mut self.client().await?, self.span, now).await
    }

    async fn expire_history(&self, cutoff: Timestamp, limit: u32) -> StoreResult<Expired> {
        let mut client = self.client().await?;
        let partitions = drop_spans_ended_by(&client, cutoff).await?;
        let transaction = client.transaction().await.map_err(pg)?;
        let events = delete_old_rows_of_first_span(&transaction, cutoff, limit).await?;
        transaction.commit().await.map_err(pg)?;
        Ok(Expired { events, partitions })
    }

    async fn expire_bookkeeping(&self, cutoffs: Bookkeeping, limit: u32) -> StoreResult<Removed> {
        let client = self.client().await?;
        let limit = i64::from(limit);
        // Each a statement of its own (autocommit); rows another node is deleting are skipped.
        let delete = |sql: &'static str, cutoff: Timestamp| {
            let client = &client;
            async move { execute(client, sql, &[&cutoff.as_millis(), &limit]).await }
        };
        let idempotency_keys = delete(
            "DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys WHERE created_at < $1 \
             LIMIT $2 FOR UPDATE SKIP LOCKED)",
            cutoffs.keys_before,
        )
        .await?;
        let tokens = delete(
            "DELETE FROM oauth_tokens WHERE token_hash IN (SELECT token_hash FROM oauth_tokens \
             WHERE expires_at < $1 OR revoked_at IS NOT NULL LIMIT $2 FOR UPDATE SKIP LOCKED)",
            cutoffs.tokens_before,
        )
        .await?;
        let listeners = delete(
            "DELETE FROM listeners WHERE id IN (SELECT id FROM listeners WHERE last_seen_at < $1 \
             LIMIT $2 FOR UPDATE SKIP LOCKED)",
            cutoffs.listeners_before,
        )
        .await?;
        let secrets = delete(
            "DELETE FROM webhook_secrets WHERE ctid IN (SELECT ctid FROM webhook_secrets WHERE expires_at < $1 \
             LIMIT $2 FOR UPDATE SKIP LOCKED)",
            cutoffs.secrets_before,
        )
        .await?;
        Ok(Removed { idempotency_keys, tokens, listeners, secrets })
    }

    fn history_span(&self) -> Option<Duration> {
        Some(self.span)
    }
}

/// The spans that begin where the last one ends and reach `SPANS_AHEAD` spans past `now`. A gap (no node
/// ran for a while) is closed by one span up to the current boundary; spans then start on multiples of
/// `span` since the epoch, so nodes agree on them.
fn spans_to_add(last_end: i64, now: i64, span: i64) -> Vec<(i64, i64)> {
    let horizon = now + SPANS_AHEAD * span;
    let mut spans = Vec::new();
    let mut start = last_end;
    while start < horizon {
        let end = start.max(now).div_euclid(span) * span + span;
        spans.push((start, end));
        start = end;
    }
    spans
}

async fn prepare(client: &mut deadpool_postgres::Object, span: Duration, now: Timestamp) -> StoreResult<u32> {
    let span = (span.as_millis() as i64).max(1);
    let transaction = client.transaction().await.map_err(pg)?;
    execute(&transaction, "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", &[&PARTITION_LOCK]).await?;
    let sql = "SELECT COALESCE(MAX(ends_at), 0) FROM history_partitions";
    let last_end: i64 = query(&transaction, sql, &[]).await?[0].get(0);
    let spans = spans_to_add(last_end, now.as_millis(), span);
    for &(start, end) in &spans {
        add_span(&transaction, start, end).await?;
    }
    transaction.commit().await.map_err(pg)?;
    if !spans.is_empty() {
        tracing::debug!(spans = spans.len(), "created history partitions ahead");
    }
    Ok(spans.len() as u32)
}

/// One span's partitions: made as plain tables shaped like their parents, then attached, which takes a
/// lock that lets the parents' readers and writers go on (creating them as partitions outright would not).
async fn add_span(c: &impl GenericClient, start: i64, end: i64) -> StoreResult<()> {
    let from = EventId::floor_at(Timestamp::from_millis(start));
    let to = EventId::floor_at(Timestamp::from_millis(end));
    for table in TABLES {
        let sql = format!(
            "CREATE TABLE {table}_p{start} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS); \
             ALTER TABLE {table} ATTACH PARTITION {table}_p{start} FOR VALUES FROM ('{from}') TO ('{to}')"
        );
        c.batch_execute(&sql).await.map_err(pg)?;
    }
    execute(c, "INSERT INTO history_partitions (starts_at, ends_at) VALUES ($1, $2)", &[&start, &end]).await?;
    Ok(())
}

/// Drops every span that ended by `cutoff`; returns how many went. One node does it at a time; the others
/// find the lock taken and leave it to that node.
async fn drop_spans_ended_by(client: &deadpool_postgres::Object, cutoff: Timestamp) -> StoreResult<u32> {
    let locked: bool = query(client, "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))", &[&PARTITION_LOCK])
        .await?[0]
        .get(0);
    if !locked {
        return Ok(0);
    }
    let dropped = drop_spans_locked(client, cutoff).await;
    execute(client, "SELECT pg_advisory_unlock($1, hashtext(current_schema()))", &[&PARTITION_LOCK]).await?;
    dropped
}

async fn drop_spans_locked(client: &deadpool_postgres::Object, cutoff: Timestamp) -> StoreResult<u32> {
    let sql = "SELECT starts_at FROM history_partitions WHERE ends_at <= $1 ORDER BY starts_at";
    let starts: Vec<i64> = query(client, sql, &[&cutoff.as_millis()]).await?.iter().map(|row| row.get(0)).collect();
    for &start in &starts {
        for table in TABLES {
            drop_partition(client, table, start).await?;
        }
        execute(client, "DELETE FROM history_partitions WHERE starts_at = $1", &[&start]).await?;
        tracing::info!(span_start = start, "retention dropped a span of history");
    }
    Ok(starts.len() as u32)
}

/// Detaches a partition without blocking its parent's other users, then drops it. A detach that another
/// node started, or that was cut short, is finished first; one that is done leaves only the drop.
async fn drop_partition(client: &deadpool_postgres::Object, table: &str, start: i64) -> StoreResult<()> {
    let partition = format!("{table}_p{start}");
    let sql = "SELECT i.inhdetachpending FROM pg_inherits i WHERE i.inhrelid = to_regclass($1)";
    let attached = query(client, sql, &[&partition]).await?.first().map(|row| row.get::<_, bool>(0));
    match attached {
        Some(false) => {
            let sql = format!("ALTER TABLE {table} DETACH PARTITION {partition} CONCURRENTLY");
            client.batch_execute(&sql).await.map_err(pg)?;
        }
        Some(true) => {
            let sql = format!("ALTER TABLE {table} DETACH PARTITION {partition} FINALIZE");
            client.batch_execute(&sql).await.map_err(pg)?;
        }
        None => {}
    }
    client.batch_execute(&format!("DROP TABLE IF EXISTS {partition}")).await.map_err(pg)
}

/// The first span reaches back to before partitioning began, so it ends long after its oldest rows are
/// due: those go in batches, with their deliveries and attempts, while it lasts.
async fn delete_old_rows_of_first_span(c: &impl GenericClient, cutoff: Timestamp, limit: u32) -> StoreResult<u64> {
    let exists = query(c, "SELECT 1 FROM history_partitions WHERE starts_at = 0", &[]).await?;
    if exists.is_empty() {
        return Ok(0);
    }
    let sql = "SELECT id FROM events_p0 WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED";
    let ids: Vec<String> =
        query(c, sql, &[&cutoff.as_millis(), &i64::from(limit)]).await?.iter().map(|row| row.get(0)).collect();
    if ids.is_empty() {
        return Ok(0);
    }
    execute(c, "DELETE FROM attempts_p0 WHERE event_id = ANY($1)", &[&ids]).await?;
    execute(c, "DELETE FROM deliveries_p0 WHERE event_id = ANY($1)", &[&ids]).await?;
    execute(c, "DELETE FROM events_p0 WHERE id = ANY($1)", &[&ids]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn spans_follow_the_first_one_and_then_start_on_multiples_of_the_span() {
        let now = 100 * DAY + 5;
        let spans = spans_to_add(100 * DAY - 7, now, DAY);
        assert_eq!(
            spans,
            vec![(100 * DAY - 7, 101 * DAY), (101 * DAY, 102 * DAY), (102 * DAY, 103 * DAY), (103 * DAY, 104 * DAY)]
        );
    }

    #[test]
    fn a_gap_is_closed_by_one_span_up_to_the_current_boundary() {
        let spans = spans_to_add(10 * DAY, 20 * DAY + 1, DAY);
        assert_eq!(spans[0], (10 * DAY, 21 * DAY));
        assert_eq!(spans.len(), 4);
    }

    #[test]
    fn nothing_is_added_while_enough_spans_lie_ahead() {
        assert!(spans_to_add(14 * DAY, 10 * DAY + 1, DAY).is_empty());
        assert_eq!(spans_to_add(13 * DAY, 10 * DAY + 1, DAY), vec![(13 * DAY, 14 * DAY)]);
    }
}
