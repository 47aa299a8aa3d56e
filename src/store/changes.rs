//! What changed that nodes may keep in memory: the catalog, or an account's delivery targets (its enabled
//! webhooks and their secrets). Every backend announces its own writes on a [`ChangeFeed`] as they commit;
//! PostgreSQL also tells the other nodes (`NOTIFY herald_changes`), whose listener puts the same changes on
//! their feeds. A cache that follows the feed (the publisher's) is then stale for no longer than a
//! notification takes; a feed that lagged or a lost listener connection says [`Change::Everything`].

use tokio::sync::broadcast;

use crate::domain::AccountId;

/// One change a cache may hold a stale copy of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// An event type was created or replaced.
    Catalog,
    /// A webhook of this account was created, changed, disabled or deleted, or its secret rolled.
    Targets(AccountId),
    /// Anything may have changed (a webhook disabled by its receiver; notifications were missed).
    Everything,
}

impl Change {
    /// As a `NOTIFY herald_changes` payload.
    pub fn payload(&self) -> String {
        match self {
            Change::Catalog => "catalog".to_owned(),
            Change::Targets(account) => format!("targets {account}"),
            Change::Everything => "everything".to_owned(),
        }
    }

    /// Reads a payload back; anything unexpected is taken as [`Change::Everything`].
    pub fn from_payload(payload: &str) -> Self {
        match payload.split_once(' ') {
            Some(("targets", account)) => Change::Targets(AccountId::from_trusted(account.to_owned())),
            _ if payload == "catalog" => Change::Catalog,
            _ => Change::Everything,
        }
    }
}

/// The local broadcast of changes; subscribers that fall behind are told [`Change::Everything`] by
/// `broadcast`'s `Lagged`.
#[derive(Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<Change>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self { sender: broadcast::channel(1024).0 }
    }
}

impl ChangeFeed {
    pub fn announce(&self, change: Change) {
        // Nobody listening is fine: there is nothing to invalidate.
        let _ = self.sender.send(change);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_as_the_change() {
        let account = AccountId::generate();
        for change in [Change::Catalog, Change::Targets(account), Change::Everything] {
            assert_eq!(Change::from_payload(&change.payload()), change);
        }
        assert_eq!(Change::from_payload("something new"), Change::Everything);
    }
}
