//! Group commit of attempts on PostgreSQL: every worker of a node hands its attempt to one task, which
//! writes whatever has arrived while its previous transaction was committing in one transaction, with
//! multi-row statements (`queue::record_attempts`), and only then answers each worker. Under load one commit
//! and a handful of statements cover many attempts, their deliveries' new states and their webhooks'
//! health; when idle, an attempt commits at once. No two attempts of one delivery share a group (the later
//! one waits for the next), so the group's single update sees each delivery once.
//!
//! The group stands or falls together: if any statement fails, nothing of it is written and every attempt
//! in it is answered with the error, so each delivery keeps its lease and is attempted again when the lease
//! runs out (at least once, never lost).

use tokio::sync::{mpsc, oneshot};

use super::sql::notify_change;
use super::{pg, pool_error, queue};
use crate::store::{AttemptRecord, Change, ChangeFeed, HealthChange, RecordOutcome, StoreError, StoreResult};

/// The most attempts in one transaction; bounds the time one commit can add.
const MAX_GROUP: usize = 256;

type Reply = oneshot::Sender<StoreResult<RecordOutcome>>;

/// The handle workers record attempts through.
#[derive(Clone)]
pub struct AttemptWriter {
    jobs: mpsc::UnboundedSender<(AttemptRecord, Reply)>,
}

impl AttemptWriter {
    /// Starts the writing task; it ends when every handle is dropped.
    pub fn spawn(pool: deadpool_postgres::Pool, changes: ChangeFeed) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, changes, queue));
        Self { jobs }
    }

    /// Records the attempt in the next group; answers once that group committed.
    pub async fn record(&self, record: AttemptRecord) -> StoreResult<RecordOutcome> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send((record, reply)).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(
    pool: deadpool_postgres::Pool,
    changes: ChangeFeed,
    mut queue: mpsc::UnboundedReceiver<(AttemptRecord, Reply)>,
) {
    let mut carried: Option<(AttemptRecord, Reply)> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match queue.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let mut deliveries = std::collections::HashSet::from([first.0.attempt.delivery_id.clone()]);
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            let Ok(job) = queue.try_recv() else { break };
            if !deliveries.insert(job.0.attempt.delivery_id.clone()) {
                carried = Some(job);
                break;
            }
            group.push(job);
        }
        let (records, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        match write_group(&pool, &records).await {
            Ok(outcomes) => {
                if outcomes.iter().any(disables) {
                    changes.announce(Change::Everything);
                }
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                tracing::error!(error = %error, attempts = records.len(), "a group of attempts was not recorded");
                for reply in replies {
                    let _ = reply.send(Err(copy_of(&error)));
                }
            }
        }
    }
}

fn disables(outcome: &RecordOutcome) -> bool {
    matches!(outcome, RecordOutcome::Applied(HealthChange::Disabled(_)))
}

/// Every record in one transaction, in the order they arrived.
async fn write_group(pool: &deadpool_postgres::Pool, records: &[AttemptRecord]) -> StoreResult<Vec<RecordOutcome>> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let transaction = client.transaction().await.map_err(pg)?;
    let outcomes = queue::record_attempts(&transaction, records).await?;
    if outcomes.iter().any(disables) {
        notify_change(&transaction, &Change::Everything).await?;
    }
    transaction.commit().await.map_err(pg)?;
    Ok(outcomes)
}

/// The group's error, for each of its attempts (errors are not `Clone`; their words and kind are kept).
fn copy_of(error: &StoreError) -> StoreError {
    let text = crate::error_chain::error_chain(error);
    match error {
        StoreError::Unavailable(_) => StoreError::Unavailable(text.into()),
        StoreError::Closed => StoreError::Closed,
        _ => StoreError::Backend(text.into()),
    }
}
