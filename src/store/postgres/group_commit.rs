//! Group commit on PostgreSQL: every caller of a node hands its write to one task per kind of write, which
//! writes whatever has arrived while its previous transaction was committing in one transaction, with
//! multi-row statements, and only then answers each caller. Under load one commit and a handful of
//! statements cover many writes; when idle, a write commits at once. Two kinds are grouped: attempts
//! ([`Attempts`], `queue::record_attempts`) and publishes without an idempotency key ([`Publishes`]).
//!
//! A group stands or falls together: if any statement fails, nothing of it is written and every caller in
//! it is answered with the error — a publisher answers 503 or 500 (nothing was accepted), a worker keeps
//! its delivery's lease and the delivery is attempted again when it runs out (at least once, never lost).

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::sql::notify_change;
use super::{pg, pool_error, queue};
use crate::store::{
    AttemptRecord, Change, ChangeFeed, HealthChange, PublishBatch, PublishOutcome, RecordOutcome, StoreError,
    StoreResult,
};

/// The most writes in one transaction; bounds the time one commit can add.
const MAX_GROUP: usize = 256;

/// A kind of write that can be grouped.
#[async_trait]
pub trait GroupKind: Send + Sync + 'static {
    type Job: Send + Sync + 'static;
    type Outcome: Send + 'static;

    /// What no two jobs of one group may share (an attempt's delivery); a job with a key already in the
    /// group waits for the next one.
    fn key(_job: &Self::Job) -> Option<String> {
        None
    }

    /// Writes the group inside `transaction`; one outcome per job, in order.
    async fn write(
        transaction: &deadpool_postgres::Transaction<'_>,
        jobs: &[Self::Job],
    ) -> StoreResult<Vec<Self::Outcome>>;

    /// What a committed group changed, for this node's feed.
    fn changed(_outcomes: &[Self::Outcome]) -> Option<Change> {
        None
    }
}

type Queued<K> = (<K as GroupKind>::Job, oneshot::Sender<StoreResult<<K as GroupKind>::Outcome>>);

/// The handle callers write through.
pub struct GroupWriter<K: GroupKind> {
    jobs: mpsc::UnboundedSender<Queued<K>>,
}

impl<K: GroupKind> GroupWriter<K> {
    /// Starts the writing task; it ends when the handle is dropped.
    pub fn spawn(pool: deadpool_postgres::Pool, changes: ChangeFeed) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run::<K>(pool, changes, queue));
        Self { jobs }
    }

    /// Writes `job` in the next group; answers once that group committed.
    pub async fn write(&self, job: K::Job) -> StoreResult<K::Outcome> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send((job, reply)).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run<K: GroupKind>(
    pool: deadpool_postgres::Pool,
    changes: ChangeFeed,
    mut queue: mpsc::UnboundedReceiver<Queued<K>>,
) {
    let mut carried: Option<Queued<K>> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match queue.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let mut keys: std::collections::HashSet<String> = K::key(&first.0).into_iter().collect();
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            let Ok(job) = queue.try_recv() else { break };
            if K::key(&job.0).is_some_and(|key| !keys.insert(key)) {
                carried = Some(job);
                break;
            }
            group.push(job);
        }
        let (jobs, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        match write_group::<K>(&pool, &jobs).await {
            Ok(outcomes) => {
                if let Some(change) = K::changed(&outcomes) {
                    changes.announce(change);
                }
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                tracing::error!(error = %error, writes = jobs.len(), "a group of writes was not committed");
                for reply in replies {
                    let _ = reply.send(Err(StoreError::duplicate(&error)));
                }
            }
        }
    }
}

async fn write_group<K: GroupKind>(pool: &deadpool_postgres::Pool, jobs: &[K::Job]) -> StoreResult<Vec<K::Outcome>> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let transaction = client.transaction().await.map_err(pg)?;
    let outcomes = K::write(&transaction, jobs).await?;
    transaction.commit().await.map_err(pg)?;
    Ok(outcomes)
}

/// Attempts, their deliveries' new states and their webhooks' health.
pub struct Attempts;

fn disables(outcome: &RecordOutcome) -> bool {
    matches!(outcome, RecordOutcome::Applied(HealthChange::Disabled(_)))
}

#[async_trait]
impl GroupKind for Attempts {
    type Job = AttemptRecord;
    type Outcome = RecordOutcome;

    fn key(job: &AttemptRecord) -> Option<String> {
        Some(job.attempt.delivery_id.to_string())
    }

    async fn write(
        transaction: &deadpool_postgres::Transaction<'_>,
        jobs: &[AttemptRecord],
    ) -> StoreResult<Vec<RecordOutcome>> {
        let outcomes = queue::record_attempts(transaction, jobs).await?;
        if outcomes.iter().any(disables) {
            notify_change(transaction, &Change::Everything).await?;
        }
        Ok(outcomes)
    }

    fn changed(outcomes: &[RecordOutcome]) -> Option<Change> {
        outcomes.iter().any(disables).then_some(Change::Everything)
    }
}

/// Publishes without an idempotency key: their events and deliveries, all fresh rows, so nothing in one
/// can conflict with another.
pub struct Publishes;

#[async_trait]
impl GroupKind for Publishes {
    type Job = PublishBatch;
    type Outcome = PublishOutcome;

    async fn write(
        transaction: &deadpool_postgres::Transaction<'_>,
        jobs: &[PublishBatch],
    ) -> StoreResult<Vec<PublishOutcome>> {
        let events: Vec<_> = jobs.iter().flat_map(|batch| &batch.events).collect();
        let deliveries: Vec<_> = jobs.iter().flat_map(|batch| &batch.deliveries).collect();
        queue::insert_events(transaction, &events).await?;
        queue::insert_deliveries(transaction, &deliveries).await?;
        Ok(jobs.iter().map(|_| PublishOutcome::Committed).collect())
    }
}
