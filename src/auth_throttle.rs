//! Failed authentication, throttled, so that guessing a credential costs time.
//!
//! Every failed try (Basic credentials, an access token, the admin token, a dashboard sign-in) takes a
//! token from two buckets: the one of its credential (the client id, or the operator) from its address,
//! and the one of its address alone (IPv6 addresses by their /64, which one host usually holds whole). A
//! bucket holds `failures` tokens and gets them back evenly over `window`. While either bucket is empty the
//! caller is refused before its credential is looked at — the right credential too, for the seconds until
//! a token is back — and told when to come back. Guesses sent all at once may pass the check together, but
//! each failure still takes its token, into debt: the bucket stays empty until the debt is paid, so the
//! guessing rate stays bounded by the refill. Successes take nothing (a client may send many requests at
//! once) and fill their credential's bucket again. Keying a credential's bucket by address means a guesser
//! elsewhere cannot lock its owner out.
//!
//! The buckets live in each node's memory. Across N nodes a guesser gets N times the allowance, which
//! against secrets of 190 bits changes nothing; in exchange a failure costs no database write (which
//! would hand the guesser a lever on the database) and a request no read. Keys are fixed-size (a keyed
//! hash of the credential, never the text a caller sent), and the map is bounded: full buckets are
//! forgotten first, at most once a second, and past [`MAX_KEYS`] new credential buckets are not made
//! (addresses still are).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most buckets kept.
const MAX_KEYS: usize = 100_000;
/// How often a full map may be swept.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// The deepest debt a bucket can run into, in bucketfuls.
const MAX_DEBT: f64 = 100.0;

/// How many tries may fail in a row, and how fast they come back.
#[derive(Clone, Copy, Debug)]
pub struct ThrottleRules {
    /// Failures of one credential from one address before it is throttled; 0 turns these buckets off.
    pub per_credential: u32,
    /// Failures from one address, whatever they name; 0 turns these off (behind a proxy every caller has
    /// its address).
    pub per_address: u32,
    /// The time in which a bucket refills completely.
    pub window: Duration,
}

impl Default for ThrottleRules {
    fn default() -> Self {
        Self { per_credential: 10, per_address: 50, window: Duration::from_secs(60) }
    }
}

/// Who is trying: the credential it names (if any) and where it comes from.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub credential: Option<String>,
    pub address: Option<IpAddr>,
}

/// Which kind of bucket refused, and when it will hold a token again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Throttled {
    /// `credential` or `address`, the label of the throttling counter.
    pub by: &'static str,
    pub retry_after: Duration,
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum Key {
    Credential(u64, Option<IpAddr>),
    Address(IpAddr),
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Buckets {
    map: HashMap<Key, Bucket>,
    swept_at: Option<Instant>,
}

/// The buckets of one node.
pub struct AuthThrottle {
    rules: ThrottleRules,
    hasher: std::collections::hash_map::RandomState,
    buckets: Mutex<Buckets>,
}

/// An address as its bucket knows it: IPv4 whole, IPv6 by its /64.
fn network(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => IpAddr::V6((u128::from(v6) & (u128::MAX << 64)).into()),
        IpAddr::V6(v6) => IpAddr::V4(v6.to_ipv4_mapped().expect("checked")),
        v4 => v4,
    }
}

impl AuthThrottle {
    pub fn new(rules: ThrottleRules) -> Self {
        let buckets = Mutex::new(Buckets { map: HashMap::new(), swept_at: None });
        Self { rules, hasher: Default::default(), buckets }
    }

    fn keys(&self, attempt: &Attempt) -> Vec<Key> {
        let address = attempt.address.map(network);
        let credential = attempt.credential.as_ref().map(|name| Key::Credential(self.hasher.hash_one(name), address));
        credential.into_iter().chain(address.map(Key::Address)).filter(|key| self.capacity(key) > 0.0).collect()
    }

    fn capacity(&self, key: &Key) -> f64 {
        f64::from(match key {
            Key::Credential(..) => self.rules.per_credential,
            Key::Address(_) => self.rules.per_address,
        })
    }

    fn refill_rate(&self, capacity: f64) -> f64 {
        capacity / self.rules.window.as_secs_f64().max(0.001)
    }

    /// The bucket's tokens at `now` (a bucket never seen is full).
    fn tokens(&self, key: &Key, bucket: Option<&Bucket>, now: Instant) -> f64 {
        let capacity = self.capacity(key);
        bucket.map_or(capacity, |b| {
            (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * self.refill_rate(capacity)).min(capacity)
        })
    }

    /// Whether the attempt may try now: refused while one of its buckets is empty (or in debt).
    pub fn check(&self, attempt: &Attempt, now: Instant) -> Result<(), Throttled> {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        for key in self.keys(attempt) {
            let tokens = self.tokens(&key, buckets.map.get(&key), now);
            if tokens < 1.0 {
                let retry_after = Duration::from_secs_f64((1.0 - tokens) / self.refill_rate(self.capacity(&key)));
                return Err(Throttled { by: kind(&key), retry_after });
            }
        }
        Ok(())
    }

    /// The try failed: it takes a token from each of its buckets, into debt if others failed meanwhile.
    /// Returns the kinds of bucket it emptied (to be logged once).
    pub fn failed(&self, attempt: &Attempt, now: Instant) -> Vec<&'static str> {
        let keys = self.keys(attempt);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        self.make_room(&mut buckets, now);
        let mut emptied = Vec::new();
        for key in keys {
            let full = buckets.map.len() >= MAX_KEYS && !buckets.map.contains_key(&key);
            if full && matches!(key, Key::Credential(..)) {
                continue;
            }
            let before = self.tokens(&key, buckets.map.get(&key), now);
            let tokens = (before - 1.0).max(-MAX_DEBT * self.capacity(&key));
            if before >= 1.0 && tokens < 1.0 {
                emptied.push(kind(&key));
            }
            buckets.map.insert(key, Bucket { tokens, at: now });
        }
        emptied
    }

    /// The try succeeded: its credential's bucket is full again (its address's is left as it is, so a
    /// valid login cannot launder someone else's guesses).
    pub fn succeeded(&self, attempt: &Attempt) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        for key in self.keys(attempt) {
            if let Key::Credential(..) = key {
                buckets.map.remove(&key);
            }
        }
    }

    /// Forgets full buckets once the map is at its bound, at most once per [`SWEEP_EVERY`].
    fn make_room(&self, buckets: &mut Buckets, now: Instant) {
        let due = buckets.swept_at.is_none_or(|at| now.saturating_duration_since(at) >= SWEEP_EVERY);
        if buckets.map.len() >= MAX_KEYS && due {
            buckets.map.retain(|key, bucket| self.tokens(key, Some(bucket), now) < self.capacity(key));
            buckets.swept_at = Some(now);
        }
    }
}

fn kind(key: &Key) -> &'static str {
    match key {
        Key::Credential(..) => "credential",
        Key::Address(_) => "address",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ThrottleRules {
        ThrottleRules { per_credential: 3, per_address: 5, window: Duration::from_secs(6) }
    }

    fn attempt(credential: &str, address: [u8; 4]) -> Attempt {
        Attempt { credential: Some(credential.into()), address: Some(address.into()) }
    }

    #[test]
    fn a_credential_is_throttled_after_its_failures_and_gets_a_try_back_in_time() {
        let throttle = AuthThrottle::new(rules());
        let start = Instant::now();
        let guess = attempt("c", [10, 0, 0, 1]);
        for n in 0..3 {
            assert!(throttle.check(&guess, start).is_ok(), "failure {n} is still allowed");
            throttle.failed(&guess, start);
        }
        let refused = throttle.check(&guess, start).unwrap_err();
        assert_eq!(refused, Throttled { by: "credential", retry_after: Duration::from_secs(2) });
        let later = start + Duration::from_secs(2);
        assert!(throttle.check(&guess, later).is_ok(), "one of 3 back in 6 s / 3");
        // The same credential from elsewhere is not locked out by these guesses.
        assert!(throttle.check(&attempt("c", [10, 0, 0, 2]), start).is_ok());
        // Other credentials from the guessing address try until the address's bucket is empty.
        for other in ["d", "e", "f"] {
            assert!(throttle.check(&attempt(other, [10, 0, 0, 1]), later).is_ok(), "{other}");
            throttle.failed(&attempt(other, [10, 0, 0, 1]), later);
        }
        assert_eq!(throttle.check(&attempt("g", [10, 0, 0, 1]), later).unwrap_err().by, "address");
    }

    #[test]
    fn guesses_that_passed_together_leave_a_debt_and_successes_take_nothing() {
        let throttle = AuthThrottle::new(rules());
        let now = Instant::now();
        let guess = attempt("c", [10, 0, 0, 1]);
        // Nine guesses checked at once all pass; their failures put the bucket six tries into debt.
        for _ in 0..9 {
            throttle.check(&guess, now).unwrap();
        }
        let emptied: Vec<_> = (0..9).flat_map(|_| throttle.failed(&guess, now)).collect();
        assert_eq!(emptied, vec!["credential", "address"], "each bucket is logged once, when it empties");
        let wait = throttle.check(&guess, now).unwrap_err().retry_after;
        assert_eq!(wait, Duration::from_secs(14), "(1 + 6) tries at one per 2 s");
        // A client that authenticates rightly may send many requests at once.
        let owner = attempt("owner", [10, 0, 0, 9]);
        for _ in 0..100 {
            throttle.check(&owner, now).unwrap();
            throttle.succeeded(&owner);
        }
    }

    #[test]
    fn ipv6_callers_share_their_64_and_zero_turns_a_kind_off() {
        let throttle = AuthThrottle::new(ThrottleRules { per_credential: 0, ..rules() });
        let now = Instant::now();
        for host in 1..=5u16 {
            let address = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, host));
            throttle.failed(&Attempt { credential: Some(format!("id{host}")), address: Some(address) }, now);
        }
        let neighbour = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9));
        let refused = throttle.check(&Attempt { credential: None, address: Some(neighbour) }, now).unwrap_err();
        assert_eq!(refused.by, "address", "the sixth try from the same /64");
        let off = AuthThrottle::new(ThrottleRules { per_credential: 0, per_address: 0, ..rules() });
        for _ in 0..100 {
            off.failed(&attempt("c", [10, 0, 0, 1]), now);
        }
        assert!(off.check(&attempt("c", [10, 0, 0, 1]), now).is_ok());
    }
}
