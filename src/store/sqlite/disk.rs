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
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// A write failed for want of space, and not enough has been free since.
    ran_out: AtomicBool,
}

impl DiskRoom {
    pub fn new(dir: PathBuf, reserve: u64) -> Self {
        Self { dir, reserve, last: Mutex::new(None), ran_out: AtomicBool::new(false) }
    }

    /// A write failed because the disk is full.
    pub fn ran_out(&self) {
        self.ran_out.store(true, Ordering::Relaxed);
        // A reading from before the failure says nothing about now.
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn needed(&self) -> u64 {
        match self.ran_out.load(Ordering::Relaxed) {
            true => self.reserve.max(AFTER_FULL),
            false => self.reserve,
        }
    }

    /// Whether new work may be accepted: a shortage of disk while less than the reserve is free. A
    /// filesystem that cannot be asked refuses nothing (the writes themselves will tell).
    pub fn admit_new_work(&self) -> StoreResult<()> {
        let needed = self.needed();
        match self.free(needed) {
            Some(free) if free < needed => Err(StoreError::Exhausted {
                resource: Resource::Disk,
                detail: format!("{free} bytes are free, less than the {needed} bytes new events need"),
            }),
            Some(_) => {
                self.ran_out.store(false, Ordering::Relaxed);
                Ok(())
            }
            None => Ok(()),
        }
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
