//! The single SQLite writer: one thread, one connection, group commit.
//!
//! SQLite serialises writers anyway, so Herald gives all writes to one thread. Whatever has queued up while
//! the previous transaction was committing goes into the next one: each write runs inside its own
//! savepoint (so one failing write does not undo its neighbours), then a single `COMMIT` (one fsync, since
//! `synchronous = FULL`) makes the whole group durable, and only then is each caller answered. Under load
//! this turns thousands of small transactions per second into a few hundred commits; when idle, a write
//! commits at once, without waiting to gather company.

use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::backend;
use crate::store::{StoreError, StoreResult};

/// The most writes gathered into one transaction; bounds the latency one commit can add.
const MAX_GROUP: usize = 1024;

/// A write runs inside the open transaction and returns what to tell its caller once the commit is known;
/// when the transaction could not even begin, it is given that error instead of the connection.
type Job = Box<dyn FnOnce(Result<&Connection, &rusqlite::Error>) -> Reply + Send>;
type Reply = Box<dyn FnOnce(Result<(), &str>) + Send>;

/// The handle the store uses to hand writes to the writer thread.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`. The thread ends when every `Writer` handle is dropped.
    pub fn spawn(conn: Connection) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new().name("herald-sqlite-writer".into()).spawn(move || run(conn, queue))?;
        Ok(Self { jobs })
    }

    /// Runs `op` in the next group transaction and returns its result once that transaction committed.
    pub async fn write<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = match conn {
                Ok(conn) => in_savepoint(conn, op),
                // The database could not start a transaction (locked by another program, or its disk is
                // failing): nothing was written, and the caller may try again later.
                Err(error) => Err(StoreError::Unavailable(error.to_string().into())),
            };
            Box::new(move |commit: Result<(), &str>| {
                let outcome = match commit {
                    Ok(()) => result,
                    Err(message) => Err(StoreError::Backend(message.to_owned().into())),
                };
                let _ = answer.send(outcome);
            })
        });
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        answered.await.map_err(|_| StoreError::Closed)?
    }
}

fn in_savepoint<T>(conn: &Connection, op: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
    conn.execute_batch("SAVEPOINT op").map_err(backend)?;
    let result = op(conn);
    let undo = if result.is_err() { "ROLLBACK TO op; RELEASE op" } else { "RELEASE op" };
    conn.execute_batch(undo).map_err(backend)?;
    result
}

fn run(conn: Connection, queue: mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&conn, group);
    }
}

fn commit_group(conn: &Connection, group: Vec<Job>) {
    let started = std::time::Instant::now();
    let writes = group.len();
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(error = %e, writes = group.len(), "sqlite writer could not begin a transaction");
        for job in group {
            job(Err(&e))(Ok(()));
        }
        return;
    }
    let replies: Vec<Reply> = group.into_iter().map(|job| job(Ok(conn))).collect();
    let commit = conn.execute_batch("COMMIT");
    tracing::trace!(writes, micros = started.elapsed().as_micros() as u64, "group committed");
    let failure = commit.as_ref().err().map(|e| {
        tracing::error!(error = %e, writes = replies.len(), "sqlite commit failed; the group was rolled back");
        let _ = conn.execute_batch("ROLLBACK");
        format!("commit failed: {e}")
    });
    for reply in replies {
        reply(failure.as_deref().map_or(Ok(()), Err));
    }
}
