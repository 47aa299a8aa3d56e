//! What publishing reads that rarely changes — the catalog's entries, and each account's delivery targets
//! with their keys already opened — kept in memory by each node, so that a publish reads nothing but what
//! it writes.
//!
//! Copies are dropped when the store's change feed says their source changed (on PostgreSQL that includes
//! every other node's writes, through `NOTIFY herald_changes`), when one of a target's secrets stops
//! signing (the end of a roll's grace period), and after [`FRESH_FOR`] at most, the fallback should a
//! notification be lost. A copy loaded while a change arrived is not kept: every change moves a
//! generation counter, and a load keeps its result only if the counter did not move meanwhile.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use crate::deliver::target::Target;
use crate::domain::model::EventType;
use crate::domain::{AccountId, EventTypeName, Timestamp};
use crate::store::Change;

/// The longest a copy is used, even if no change was heard of.
pub const FRESH_FOR: Duration = Duration::from_secs(5);
/// The most accounts whose targets are kept; past it, the copies start over.
const MAX_ACCOUNTS: usize = 10_000;

/// An account's targets as publishing uses them.
pub type Targets = Arc<[Arc<Target>]>;

/// The copies, shared by the publisher and the task that follows the change feed.
#[derive(Default)]
pub struct PublishCache {
    copies: Mutex<Copies>,
}

#[derive(Default)]
struct Copies {
    /// Moves on every change; see the module's doc.
    generation: u64,
    catalog: HashMap<EventTypeName, (EventType, Instant)>,
    targets: HashMap<AccountId, TargetsCopy>,
}

struct TargetsCopy {
    targets: Targets,
    loaded: Instant,
    /// When one of the targets' secrets stops signing.
    stale_at: Option<Timestamp>,
}

/// Where a load started: pass it back with the result.
#[derive(Clone, Copy)]
pub struct Generation(u64);

impl PublishCache {
    /// A cache that forgets what `changes` announce, for as long as the feed lasts.
    pub fn following(mut changes: broadcast::Receiver<Change>) -> Arc<Self> {
        let cache = Arc::new(Self::default());
        let weak = Arc::downgrade(&cache);
        tokio::spawn(async move {
            loop {
                let change = match changes.recv().await {
                    Ok(change) => change,
                    Err(broadcast::error::RecvError::Lagged(_)) => Change::Everything,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let Some(cache) = weak.upgrade() else { return };
                cache.forget(&change);
            }
        });
        cache
    }

    fn copies(&self) -> std::sync::MutexGuard<'_, Copies> {
        self.copies.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Call before loading what may then be kept.
    pub fn generation(&self) -> Generation {
        Generation(self.copies().generation)
    }

    pub fn event_type(&self, name: &EventTypeName) -> Option<EventType> {
        let copies = self.copies();
        let (entry, loaded) = copies.catalog.get(name)?;
        (loaded.elapsed() < FRESH_FOR).then(|| entry.clone())
    }

    pub fn keep_event_type(&self, since: Generation, entry: EventType) {
        let mut copies = self.copies();
        if copies.generation == since.0 {
            copies.catalog.insert(entry.name.clone(), (entry, Instant::now()));
        }
    }

    /// The account's targets, if a copy is still good at `now`.
    pub fn targets(&self, account: &AccountId, now: Timestamp) -> Option<Targets> {
        let copies = self.copies();
        let copy = copies.targets.get(account)?;
        let fresh = copy.loaded.elapsed() < FRESH_FOR && copy.stale_at.is_none_or(|at| now < at);
        fresh.then(|| copy.targets.clone())
    }

    /// Keeps `targets`, loaded since `since`; `stale_at` is when one of their secrets stops signing.
    pub fn keep_targets(&self, since: Generation, account: &AccountId, targets: Targets, stale_at: Option<Timestamp>) {
        let mut copies = self.copies();
        if copies.generation != since.0 {
            return;
        }
        if copies.targets.len() >= MAX_ACCOUNTS {
            copies.targets.clear();
        }
        copies.targets.insert(account.clone(), TargetsCopy { targets, loaded: Instant::now(), stale_at });
    }

    fn forget(&self, change: &Change) {
        let mut copies = self.copies();
        copies.generation += 1;
        match change {
            Change::Catalog => copies.catalog.clear(),
            Change::Targets(account) => {
                copies.targets.remove(account);
            }
            Change::Everything => {
                copies.catalog.clear();
                copies.targets.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::EventTypeStatus;

    fn entry(name: &str) -> EventType {
        EventType {
            name: EventTypeName::parse(name).unwrap(),
            description: String::new(),
            resource_type: None,
            resource_version: None,
            sample: None,
            schema: None,
            status: EventTypeStatus::Enabled,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn a_change_drops_its_copies_and_a_load_that_raced_it_is_not_kept() {
        let cache = PublishCache::default();
        let (a, b) = (AccountId::generate(), AccountId::generate());
        let none: Targets = Arc::from(Vec::new());
        let now = Timestamp::from_millis(1_000);
        let since = cache.generation();
        cache.keep_event_type(since, entry("charge.succeeded"));
        cache.keep_targets(since, &a, none.clone(), None);
        cache.keep_targets(since, &b, none.clone(), Some(Timestamp::from_millis(2_000)));
        assert!(cache.event_type(&EventTypeName::parse("charge.succeeded").unwrap()).is_some());
        assert!(cache.targets(&a, now).is_some());
        assert!(cache.targets(&b, Timestamp::from_millis(2_000)).is_none(), "a secret stopped signing");

        let raced = cache.generation();
        cache.forget(&Change::Targets(a.clone()));
        assert!(cache.targets(&a, now).is_none(), "the changed account is dropped");
        assert!(cache.targets(&b, now).is_some(), "the others stay");
        cache.keep_targets(raced, &a, none.clone(), None);
        assert!(cache.targets(&a, now).is_none(), "a load that started before the change is not kept");

        cache.forget(&Change::Everything);
        assert!(cache.targets(&b, now).is_none());
        assert!(cache.event_type(&EventTypeName::parse("charge.succeeded").unwrap()).is_none());
    }
}
