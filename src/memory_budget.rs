//! The process's memory against a budget: while its resident set is above `HERALD_MEMORY_LIMIT`, new
//! events are refused with 503 (`OUT_OF_MEMORY`) and `/readyz` says so, while deliveries already accepted
//! go on and bring it down. The resident set is read from `/proc/self/statm` at most every [`RECHECK`];
//! where that file does not exist, nothing is refused.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a reading is trusted.
const RECHECK: Duration = Duration::from_millis(100);

/// The budget, and the last reading of the resident set.
pub struct MemoryBudget {
    limit: u64,
    last: Mutex<Option<(Instant, u64)>>,
}

/// Over budget: how much is resident, and the limit.
#[derive(Debug, thiserror::Error)]
#[error("{resident} bytes are resident, more than the memory limit of {limit} bytes")]
pub struct OverBudget {
    pub resident: u64,
    pub limit: u64,
}

impl MemoryBudget {
    /// A budget of `limit` bytes; zero means none.
    pub fn new(limit: u64) -> Self {
        Self { limit, last: Mutex::new(None) }
    }

    /// Whether new work may be taken on now.
    pub fn admit(&self) -> Result<(), OverBudget> {
        if self.limit == 0 {
            return Ok(());
        }
        match self.resident() {
            Some(resident) if resident > self.limit => Err(OverBudget { resident, limit: self.limit }),
            _ => Ok(()),
        }
    }

    fn resident(&self) -> Option<u64> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((read_at, resident)) = *last
            && read_at.elapsed() < RECHECK
        {
            return Some(resident);
        }
        let resident = resident_bytes()?;
        *last = Some((Instant::now(), resident));
        Some(resident)
    }
}

/// The second field of `/proc/self/statm` is the resident set in pages.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * rustix::param::page_size() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_below_what_is_resident_refuses_and_none_admits() {
        assert!(MemoryBudget::new(0).admit().is_ok());
        let over = MemoryBudget::new(1).admit().unwrap_err();
        assert!(over.resident > 1, "this process has more than a byte resident");
        assert!(MemoryBudget::new(u64::MAX).admit().is_ok());
    }
}
