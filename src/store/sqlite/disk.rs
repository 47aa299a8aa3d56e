//! Room on the filesystem that holds the database file.
//!
//! New work (publishes, resends) is refused while the free space is below a reserve, so that the
//! deliveries already accepted can still record their attempts and finish: a full disk then stops intake
//! cleanly with 503 instead of failing every write half-way. The free space is read from the filesystem
//! (`statvfs`) at most every [`RECHECK`], which bounds what a burst can write unseen. Without a reserve,
//! a write that failed for want of space still stops intake until [`AFTER_FULL`] is free again: small writes
//! may fit where an event does not, and intake should not flap between the two.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::store::{Resource, StoreError, StoreResult};

/// How long a reading of the free space is trusted.
const RECHECK: Duration = Duration::from_millis(100);
/// The free space needed again after a write found the disk full, when the reserve is smaller.
const AFTER_FULL: u64 = 2 << 20;

/// The free space of the database's filesystem against the reserve kept for work already accepted.
pub struct DiskRoom {
    dir: PathBuf,
    reserve: u64,
    last: Mutex<Option<(Instant, u64)>>,
    /// How many writes have failed for want of space, and how many of those enough free space has
    /// answered since (a count, not a flag: a reading taken before a failure must not clear it).
    ran_out: AtomicU64,
    answered: AtomicU64,
}

impl DiskRoom {
    pub fn new(dir: PathBuf, reserve: u64) -> Self {
        Self { dir, reserve, last: Mutex::new(None), ran_out: AtomicU64::new(0), answered: AtomicU64::new(0) }
    }

    /// A write failed because the disk is full.
    pub fn ran_out(&self) {
        self.ran_out.fetch_add(1, Ordering::SeqCst);
        // A reading from before the failure says nothing about now.
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn needed(&self, failures: u64) -> u64 {
        match failures > self.answered.load(Ordering::SeqCst) {
            true => self.reserve.max(AFTER_FULL),
            false => self.reserve,
        }
    }

    /// Whether new work may be accepted: a shortage of disk while less than the reserve is free, counting
    /// the database's own free pages (`reusable`, asked only then: rows retention deleted leave pages that
    /// new rows fill before the file grows). A filesystem that cannot be asked refuses nothing (the writes
    /// themselves will tell).
    pub fn admit_new_work(&self, reusable: impl FnOnce() -> u64) -> StoreResult<()> {
        let failures = self.ran_out.load(Ordering::SeqCst);
        let needed = self.needed(failures);
        let Some(free) = self.free(needed) else { return Ok(()) };
        let free = if free < needed { free.saturating_add(reusable()) } else { free };
        if free < needed {
            return Err(StoreError::Exhausted {
                resource: Resource::Disk,
                detail: format!("{free} bytes are free, less than the {needed} bytes new events need"),
            });
        }
        self.answered.fetch_max(failures, Ordering::SeqCst);
        Ok(())
    }

    fn free(&self, needed: u64) -> Option<u64> {
        if needed == 0 {
            return None;
        }
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((read_at, free)) = *last
            && read_at.elapsed() < RECHECK
        {
            return Some(free);
        }
        let stat = rustix::fs::statvfs(&self.dir).ok()?;
        let free = stat.f_bavail.saturating_mul(stat.f_frsize);
        *last = Some((Instant::now(), free));
        Some(free)
    }
}
