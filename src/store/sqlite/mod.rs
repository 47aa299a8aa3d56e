//! The embedded SQLite backend: one file in the data directory, WAL mode, one writer thread with group
//! commit ([`writer`]) and a small pool of reader connections.
//!
//! Reads are short indexed queries (lists are bounded by their page size) and run on the calling task; in
//! WAL mode they never wait for the writer. `synchronous = FULL` makes every commit reach the disk before
//! its callers are answered, which is what "202 means on disk" requires.

mod accounts;
mod catalog;
mod deliveries;
mod disk;
mod events;
mod history;
mod listeners;
mod meta;
mod queue;
mod request_logs;
mod rows;
mod webhooks;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension};

use super::*;
use writer::Writer;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_core.sql"),
    include_str!("migrations/0002_merchant_api.sql"),
    include_str!("migrations/0003_attempt_node.sql"),
    include_str!("migrations/0004_meta.sql"),
    include_str!("migrations/0005_events_by_time.sql"),
    include_str!("migrations/0006_webhook_signing.sql"),
    include_str!("migrations/0007_delivery_policy.sql"),
    include_str!("migrations/0008_webhook_health.sql"),
    include_str!("migrations/0009_dashboard.sql"),
    include_str!("migrations/0010_listeners.sql"),
    include_str!("migrations/0011_expiring_bookkeeping.sql"),
    include_str!("migrations/0012_events_in_commit_order.sql"),
    include_str!("migrations/0013_environments_and_keys.sql"),
    include_str!("migrations/0014_event_trace_context.sql"),
];
const MAX_IDLE_READERS: usize = 8;

/// A failure of the database, told apart by what it says: a full disk or no memory is a shortage, an I/O
/// error or a database another program keeps locked is an unavailable store (both answered 503 and tried
/// again later); anything else is a failure of the statement.
pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    let error: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
    let Some(rusqlite::Error::SqliteFailure(failure, _)) = error.downcast_ref::<rusqlite::Error>() else {
        return StoreError::Backend(error);
    };
    use rusqlite::ErrorCode as Code;
    match failure.code {
        Code::DiskFull => StoreError::Exhausted { resource: Resource::Disk, detail: error.to_string() },
        Code::OutOfMemory => StoreError::Exhausted { resource: Resource::Memory, detail: error.to_string() },
        Code::SystemIoFailure | Code::CannotOpen | Code::DatabaseBusy | Code::DatabaseLocked => {
            StoreError::Unavailable(error)
        }
        _ => StoreError::Backend(error),
    }
}

/// Herald's store in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    /// The free space kept for the work already accepted.
    disk: Arc<disk::DiskRoom>,
    /// Where this store's writes announce what they changed (one process owns the file, so no one else).
    changes: ChangeFeed,
    /// Where its publishes announce that they committed events.
    commits: CommitFeed,
    /// Held open for the life of the store: the data directory belongs to one process at a time.
    _lock: std::fs::File,
}

impl SqliteStore {
    /// Opens (creating and migrating) `herald.db` in `data_dir`, which this process then owns exclusively.
    ///
    /// Because no other process can use the file, any lease still recorded belongs to a process that has
    /// died: those deliveries are released at once instead of waiting for their leases to run out.
    pub fn open(data_dir: &Path) -> StoreResult<Self> {
        Self::open_reserving(data_dir, 0)
    }

    /// The same, refusing new work (publishes, resends) while less than `disk_reserve` bytes are free on
    /// the data directory's filesystem, so that accepted deliveries can still record their attempts.
    pub fn open_reserving(data_dir: &Path, disk_reserve: u64) -> StoreResult<Self> {
        let lock = lock_data_dir(data_dir)?;
        let path = data_dir.join("herald.db");
        let conn = connect(&path)?;
        conn.execute_batch("PRAGMA journal_mode = WAL").map_err(backend)?;
        migrate(&conn)?;
        queue::release_all_leases(&conn)?;
        let disk = Arc::new(disk::DiskRoom::new(data_dir.to_path_buf(), disk_reserve));
        let watcher = disk.clone();
        let writer = Writer::spawn(conn, move |failure| {
            if let StoreError::Exhausted { resource: Resource::Disk, .. } = failure {
                watcher.ran_out();
            }
        })
        .map_err(backend)?;
        let readers = Mutex::new(Vec::new());
        let (changes, commits) = (ChangeFeed::default(), CommitFeed::default());
        Ok(Self { path, writer, readers, disk, changes, commits, _lock: lock })
    }

    /// Refuses new work while the disk is short (see [`disk::DiskRoom`]).
    fn admit_new_work(&self) -> StoreResult<()> {
        self.disk.admit_new_work(|| self.reusable_bytes().unwrap_or(0))
    }

    /// The bytes of the database's free pages, which new rows fill before the file grows.
    fn reusable_bytes(&self) -> StoreResult<u64> {
        self.read(|conn| {
            let pages: u64 = conn.query_row("PRAGMA freelist_count", [], |row| row.get(0)).map_err(backend)?;
            let size: u64 = conn.query_row("PRAGMA page_size", [], |row| row.get(0)).map_err(backend)?;
            Ok(pages * size)
        })
    }

    fn read<T>(&self, query: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => connect(&self.path)?,
        };
        let result = query(&conn);
        let mut idle = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

fn lock_data_dir(data_dir: &Path) -> StoreResult<std::fs::File> {
    let path = data_dir.join("herald.lock");
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(backend)?;
    file.try_lock().map_err(|_| {
        StoreError::Backend(format!("{} is in use by another Herald process", data_dir.display()).into())
    })?;
    Ok(file)
}

fn connect(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -16000; \
         PRAGMA temp_store = MEMORY;",
    )
    .map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Applies the migrations this file has not seen, tracked in `PRAGMA user_version`.
fn migrate(conn: &Connection) -> StoreResult<()> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(backend)?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {applied}, newer than this Herald ({})",
            MIGRATIONS.len()
        )));
    }
    // A migration may rebuild a table others refer to, which SQLite allows with foreign keys off only
    // (and the switch works outside a transaction only); each one's result is checked before it commits.
    conn.execute_batch("PRAGMA foreign_keys = OFF").map_err(backend)?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let version = index + 1;
        let applied = conn.execute_batch(&format!("BEGIN; {sql};")).map_err(backend).and_then(|()| {
            let broken: Option<String> =
                conn.query_row("PRAGMA foreign_key_check", [], |row| row.get(0)).optional().map_err(backend)?;
            match broken {
                Some(table) => {
                    Err(StoreError::Corrupt(format!("migration {version} left rows of {table} pointing nowhere")))
                }
                None => conn.execute_batch(&format!("PRAGMA user_version = {version}; COMMIT;")).map_err(backend),
            }
        });
        if let Err(error) = applied {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(error);
        }
        tracing::info!(version, "applied sqlite migration");
    }
    conn.execute_batch("PRAGMA foreign_keys = ON").map_err(backend)?;
    Ok(())
}
