//! The single SQLite writer: one thread, one connection, group commit.
//!
//! SQLite serialises writers anyway, so Herald gives all writes to one thread. Whatever has queued up while
//! the previous transaction was committing goes into the next one: each write runs inside its own
//! savepoint (so one failing write does not undo its neighbours), then a single `COMMIT` (one fsync, since
//! `synchronous = FULL`) makes the whole group durable, and only then is each caller answered. The writes
//! of the delivery path (publishes, attempts) can only fail when the database does, so they go without a
//! savepoint, whose journal of changed pages cost about a fifth of the embedded path's instructions; should
//! one fail after all, the whole group is rolled back and every caller told. Under load
//! this turns thousands of small transactions per second into a few hundred commits; when idle, a write
//! commits at once, without waiting to gather company.

use std::sync::{Arc, Mutex, mpsc};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::backend;
use crate::store::{StoreError, StoreResult};

/// The most writes gathered into one transaction; bounds the latency one commit can add.
const MAX_GROUP: usize = 1024;

/// A write runs inside the open transaction and returns what to tell its caller once the commit is known;
/// when it cannot run (the transaction could not begin, or SQLite gave it up), it is given why instead of
/// the connection.
type Job = Box<dyn FnOnce(Result<&Connection, &StoreError>) -> Ran + Send>;
type Reply = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// What running a write left behind.
struct Ran {
    reply: Reply,
    /// Its error, if it failed.
    failed: Option<StoreError>,
    /// A write without a savepoint failed: what it did cannot be told apart, so the group must not commit.
    spoiled: bool,
}

/// Whether a write runs in a savepoint of its own.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Guard {
    Savepoint,
    /// Only for writes that fail only when the database does (no refusals after a partial write).
    None,
}

/// The handle the store uses to hand writes to the writer thread.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// Why the last group could not be written, when the database could not serve it (a full disk, an
    /// I/O error); cleared by the next commit that succeeds.
    failing: Arc<Mutex<Option<StoreError>>>,
}

impl Writer {
    /// Starts the writer thread on `conn`. The thread ends when every `Writer` handle is dropped.
    /// `on_failure` hears why each group that failed as a whole did.
    pub fn spawn(conn: Connection, on_failure: impl Fn(&StoreError) + Send + 'static) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let failing = Arc::new(Mutex::new(None));
        let recorder = failing.clone();
        let writing = move || run(conn, queue, recorder, on_failure);
        std::thread::Builder::new().name("herald-sqlite-writer".into()).spawn(writing)?;
        Ok(Self { jobs, failing })
    }

    /// Why writes are failing now, if the last group failed because the database could not serve it.
    pub fn failing(&self) -> Option<StoreError> {
        self.failing.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(StoreError::duplicate)
    }

    /// Runs `op` in the next group transaction and returns its result once that transaction committed.
    pub async fn write<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.submit(Guard::Savepoint, op).await
    }

    /// The same for a write that fails only when the database does — it returns no refusal, least of all
    /// after writing part of its rows — without the savepoint. If it fails, its whole group is rolled back.
    pub async fn write_unguarded<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.submit(Guard::None, op).await
    }

    async fn submit<T, F>(&self, guard: Guard, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = match conn {
                Ok(conn) if guard == Guard::Savepoint => in_savepoint(conn, op),
                Ok(conn) => op(conn),
                // The transaction could not begin (another program holds the file, its disk is full or
                // failing) or was given up: nothing was written, and the caller may try again later.
                Err(failure) => Err(failure.duplicate()),
            };
            let failed = result.as_ref().err().map(StoreError::duplicate);
            let spoiled = failed.is_some() && guard == Guard::None && conn.is_ok();
            let own_error_first = failed.is_some() && conn.is_ok();
            let reply: Reply = Box::new(move |commit: Result<(), &StoreError>| {
                let outcome = match (commit, result) {
                    (Ok(()), result) => result,
                    // Its own error says more than the group's.
                    (Err(_), Err(error)) if own_error_first => Err(error),
                    (Err(failure), _) => Err(failure.duplicate()),
                };
                let _ = answer.send(outcome);
            });
            Ran { reply, failed, spoiled }
        });
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        answered.await.map_err(|_| StoreError::Closed)?
    }
}

fn in_savepoint<T>(conn: &Connection, op: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
    conn.execute_batch("SAVEPOINT op").map_err(backend)?;
    let result = op(conn);
    // On a full disk or an I/O error SQLite may roll the whole transaction back by itself: then there is
    // no savepoint left to undo, and the group is given up (see `commit_group`).
    if result.is_err() && conn.is_autocommit() {
        return result;
    }
    let undo = if result.is_err() { "ROLLBACK TO op; RELEASE op" } else { "RELEASE op" };
    conn.execute_batch(undo).map_err(backend)?;
    result
}

fn run(
    conn: Connection,
    queue: mpsc::Receiver<Job>,
    failing: Arc<Mutex<Option<StoreError>>>,
    on_failure: impl Fn(&StoreError),
) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let failure = commit_group(&conn, group);
        if let Some(failure) = &failure {
            on_failure(failure);
        }
        *failing.lock().unwrap_or_else(|p| p.into_inner()) = failure.filter(StoreError::is_unavailable);
    }
}

/// Writes and commits one group, answering each of its callers; returns why the group failed as a whole.
fn commit_group(conn: &Connection, group: Vec<Job>) -> Option<StoreError> {
    let started = std::time::Instant::now();
    let writes = group.len();
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(error = %e, writes, "sqlite writer could not begin a transaction");
        let failure = backend(e);
        for job in group {
            (job(Err(&failure)).reply)(Ok(()));
        }
        return Some(failure);
    }
    let mut replies = Vec::with_capacity(writes);
    let mut spoiled = None;
    // Set when SQLite rolled the transaction back by itself: what ran is gone, the rest does not run.
    let mut given_up: Option<StoreError> = None;
    for job in group {
        let ran = match &given_up {
            Some(failure) => job(Err(failure)),
            None => job(Ok(conn)),
        };
        if given_up.is_none() && conn.is_autocommit() {
            let why = ran.failed.as_ref().map(StoreError::duplicate);
            given_up = Some(why.unwrap_or_else(|| StoreError::Unavailable("sqlite ended the transaction".into())));
        }
        if ran.spoiled && spoiled.is_none() {
            spoiled = ran.failed.as_ref().map(StoreError::duplicate);
        }
        replies.push(ran.reply);
    }
    let failure = match (given_up, spoiled) {
        (Some(failure), _) => {
            tracing::error!(writes, error = %failure, "sqlite rolled the transaction back; the group was given up");
            Some(failure)
        }
        (None, Some(error)) => {
            tracing::error!(writes, error = %error, "a write without a savepoint failed; the group was rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            Some(error)
        }
        (None, None) => {
            let commit = conn.execute_batch("COMMIT");
            tracing::trace!(writes, micros = started.elapsed().as_micros() as u64, "group committed");
            commit.err().map(|e| {
                tracing::error!(error = %e, writes, "sqlite commit failed; the group was rolled back");
                let _ = conn.execute_batch("ROLLBACK");
                backend(e)
            })
        }
    };
    for reply in replies {
        reply(failure.as_ref().map_or(Ok(()), Err));
    }
    failure
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn insert(conn: &Connection, n: i64) -> StoreResult<()> {
        conn.execute("INSERT INTO t (n) VALUES (?1)", [n]).map(|_| ()).map_err(backend)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_without_a_savepoint_rolls_back_its_whole_group() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER)").unwrap();
        let writer = Writer::spawn(conn, |_| {}).unwrap();
        // Holds the writer while the next writes queue up, so that they share the next group.
        let holder = writer.clone();
        let hold = tokio::spawn(async move {
            holder
                .write(|_| {
                    std::thread::sleep(Duration::from_millis(300));
                    Ok(())
                })
                .await
                .unwrap()
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (good, bad) = (writer.clone(), writer.clone());
        let good = tokio::spawn(async move { good.write(|conn| insert(conn, 1)).await });
        let bad = tokio::spawn(async move {
            bad.write_unguarded(|conn| insert(conn, 2).and(Err::<(), _>(StoreError::Corrupt("half written".into()))))
                .await
        });
        hold.await.unwrap();
        assert!(matches!(bad.await.unwrap(), Err(StoreError::Corrupt(_))), "the failed write hears its own error");
        assert!(
            matches!(good.await.unwrap(), Err(StoreError::Backend(_))),
            "its neighbour is told nothing was written"
        );
        let count = |conn: &Connection| {
            conn.query_row("SELECT COUNT(*) FROM t", [], |row| row.get::<_, i64>(0)).map_err(backend)
        };
        assert_eq!(writer.write(count).await.unwrap(), 0);
        // A write without a savepoint that succeeds commits like any other.
        writer.write_unguarded(|conn| insert(conn, 3)).await.unwrap();
        assert_eq!(writer.write(count).await.unwrap(), 1);
    }
}
