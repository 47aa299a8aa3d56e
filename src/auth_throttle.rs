//! Failed authentication, throttled, so that guessing a credential costs time.
//!
//! Every try (Basic credentials, an access token, the admin token, a dashboard sign-in) takes a token from
//! two buckets: the one of its credential (the client id, or the operator) from its address, and the one
//! of its address alone (IPv6 addresses by their /64, which one host usually holds whole). A bucket holds
//! `failures` tokens and gets them back evenly over `window`. The token is taken before the credential is
//! looked at, all or none, so guesses sent at once cannot slip past together; a success gives both back
//! and fills its credential's bucket again. While either bucket is empty the caller is refused — the right
//! credential too, for the seconds until a token is back — and told when to come back. Keying a
//! credential's bucket by address means a guesser elsewhere cannot lock its owner out.
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

    /// Takes a try from the attempt's buckets, from all or from none. Refused while one is empty; else
    /// returns the kinds of bucket this try emptied (to be logged once).
    pub fn begin(&self, attempt: &Attempt, now: Instant) -> Result<Vec<&'static str>, Throttled> {
        let keys = self.keys(attempt);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        for key in &keys {
            let tokens = self.tokens(key, buckets.map.get(key), now);
            if tokens < 1.0 {
                let retry_after = Duration::from_secs_f64((1.0 - tokens) / self.refill_rate(self.capacity(key)));
                return Err(Throttled { by: kind(key), retry_after });
            }
        }
        self.make_room(&mut buckets, now);
        let mut emptied = Vec::new();
        for key in &keys {
            let full = buckets.map.len() >= MAX_KEYS && !buckets.map.contains_key(key);
            if full && matches!(key, Key::Credential(..)) {
                continue;
            }
            let tokens = self.tokens(key, buckets.map.get(key), now) - 1.0;
            if tokens < 1.0 {
                emptied.push(kind(key));
            }
            buckets.map.insert(*key, Bucket { tokens, at: now });
        }
        Ok(emptied)
    }

    /// The try succeeded: its credential's bucket is full again, and its address gets the try back.
    pub fn succeeded(&self, attempt: &Attempt, now: Instant) {
        let keys = self.keys(attempt);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            match key {
                Key::Credential(..) => {
                    buckets.map.remove(&key);
                }
                Key::Address(_) => {
                    let tokens = (self.tokens(&key, buckets.map.get(&key), now) + 1.0).min(self.capacity(&key));
                    buckets.map.insert(key, Bucket { tokens, at: now });
                }
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
            assert!(throttle.begin(&guess, start).is_ok(), "failure {n} is still allowed");
        }
        let refused = throttle.begin(&guess, start).unwrap_err();
        assert_eq!(refused, Throttled { by: "credential", retry_after: Duration::from_secs(2) });
        assert!(throttle.begin(&guess, start + Duration::from_secs(2)).is_ok(), "one of 3 back in 6 s / 3");
        // The same credential from elsewhere is not locked out by these guesses.
        assert!(throttle.begin(&attempt("c", [10, 0, 0, 2]), start).is_ok());
        // Other credentials from the guessing address try until the address's bucket is empty.
        let later = start + Duration::from_secs(2);
        assert!(throttle.begin(&attempt("d", [10, 0, 0, 1]), later).is_ok());
        assert!(throttle.begin(&attempt("e", [10, 0, 0, 1]), later).is_ok());
        assert_eq!(throttle.begin(&attempt("f", [10, 0, 0, 1]), later).unwrap_err().by, "address");
    }

    #[test]
    fn a_success_refills_the_credential_and_returns_the_try() {
        let throttle = AuthThrottle::new(rules());
        let now = Instant::now();
        let guess = attempt("c", [10, 0, 0, 1]);
        for _ in 0..2 {
            throttle.begin(&guess, now).unwrap();
        }
        assert_eq!(throttle.begin(&guess, now).unwrap(), vec!["credential"], "the third try empties it");
        throttle.succeeded(&guess, now);
        for _ in 0..3 {
            throttle.begin(&guess, now).unwrap();
        }
        assert_eq!(throttle.begin(&guess, now).unwrap_err().by, "credential", "a full bucket of 3 again, spent");
    }

    #[test]
    fn ipv6_callers_share_their_64_and_zero_turns_a_kind_off() {
        let throttle = AuthThrottle::new(ThrottleRules { per_credential: 0, ..rules() });
        let now = Instant::now();
        for host in 1..=5u16 {
            let address = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, host));
            throttle.begin(&Attempt { credential: Some(format!("id{host}")), address: Some(address) }, now).unwrap();
        }
        let neighbour = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9));
        let refused = throttle.begin(&Attempt { credential: None, address: Some(neighbour) }, now).unwrap_err();
        assert_eq!(refused.by, "address", "the sixth try from the same /64");
        let off = AuthThrottle::new(ThrottleRules { per_credential: 0, per_address: 0, ..rules() });
        for _ in 0..100 {
            off.begin(&attempt("c", [10, 0, 0, 1]), now).unwrap();
        }
    }
}
