//! Announcements that events were committed, by account, which the listener streams wait on instead of
//! asking the store over and over. Every backend announces its own publishes as they commit; PostgreSQL
//! also tells the other nodes (`NOTIFY herald_events`, sent by the statement that inserts the events),
//! whose listener puts the same announcement on their feeds. A stream that missed announcements (its
//! receiver lagged, or the listener connection was lost) is woken as if its account had committed; and
//! streams still look by themselves now and then, so a lost announcement costs latency, never an event.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::domain::AccountId;

/// The longest payload `NOTIFY` takes is 8000 bytes; past this many accounts a commit says "any".
const MAX_ACCOUNTS_NAMED: usize = 200;

/// Whose events one commit added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Committed {
    Accounts(Arc<[AccountId]>),
    /// Possibly anyone's.
    Any,
}

impl Committed {
    /// The distinct accounts of a commit's events.
    pub fn of<'a>(accounts: impl IntoIterator<Item = &'a AccountId>) -> Self {
        let mut named: Vec<AccountId> = Vec::new();
        for account in accounts {
            if !named.contains(account) {
                if named.len() == MAX_ACCOUNTS_NAMED {
                    return Self::Any;
                }
                named.push(account.clone());
            }
        }
        Self::Accounts(named.into())
    }

    fn concerns(&self, account: &AccountId) -> bool {
        match self {
            Self::Accounts(accounts) => accounts.contains(account),
            Self::Any => true,
        }
    }

    /// As a `NOTIFY herald_events` payload: the account ids, comma-separated, or `*`.
    pub fn payload(&self) -> String {
        match self {
            Self::Accounts(accounts) => accounts.iter().map(AccountId::as_str).collect::<Vec<_>>().join(","),
            Self::Any => "*".to_owned(),
        }
    }

    pub fn from_payload(payload: &str) -> Self {
        match payload {
            "*" | "" => Self::Any,
            ids => Self::Accounts(ids.split(',').map(|id| AccountId::from_trusted(id.to_owned())).collect()),
        }
    }
}

/// The local broadcast of commits.
#[derive(Clone)]
pub struct CommitFeed {
    sender: broadcast::Sender<Committed>,
}

impl Default for CommitFeed {
    fn default() -> Self {
        Self { sender: broadcast::channel(1024).0 }
    }
}

impl CommitFeed {
    pub fn announce(&self, committed: Committed) {
        // No stream open is fine: nobody is waiting.
        let _ = self.sender.send(committed);
    }

    pub fn watch(&self) -> CommitWatch {
        CommitWatch { receiver: self.sender.subscribe() }
    }
}

/// One stream's view of the feed; what was announced since it was made waits in it.
pub struct CommitWatch {
    receiver: broadcast::Receiver<Committed>,
}

impl CommitWatch {
    /// Returns once events of `account` may have been committed since the last call.
    pub async fn committed(&mut self, account: &AccountId) {
        loop {
            match self.receiver.recv().await {
                Ok(committed) if committed.concerns(account) => return,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                // The store is gone; a stream then only ends by its own timer or shutdown.
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_the_accounts_once_or_say_any() {
        let (a, b) = (AccountId::from_trusted("acct_a".into()), AccountId::from_trusted("acct_b".into()));
        let committed = Committed::of([&a, &b, &a]);
        assert_eq!(committed.payload(), "acct_a,acct_b");
        assert_eq!(Committed::from_payload(&committed.payload()), committed);
        assert_eq!(Committed::from_payload("*"), Committed::Any);
        let many: Vec<AccountId> =
            (0..=MAX_ACCOUNTS_NAMED).map(|n| AccountId::from_trusted(format!("acct_{n}"))).collect();
        assert_eq!(Committed::of(&many), Committed::Any);
    }

    #[tokio::test]
    async fn a_watch_wakes_for_its_account_and_for_any() {
        let feed = CommitFeed::default();
        let mut watch = feed.watch();
        let (a, b) = (AccountId::from_trusted("acct_a".into()), AccountId::from_trusted("acct_b".into()));
        feed.announce(Committed::of([&b]));
        feed.announce(Committed::of([&a]));
        tokio::time::timeout(std::time::Duration::from_secs(1), watch.committed(&a)).await.unwrap();
        feed.announce(Committed::of([&b]));
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), watch.committed(&a)).await;
        assert!(waited.is_err(), "another account's commit does not wake it");
        feed.announce(Committed::Any);
        tokio::time::timeout(std::time::Duration::from_secs(1), watch.committed(&a)).await.unwrap();
    }
}
