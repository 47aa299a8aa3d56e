//! Failed authentication, throttled, so that guessing a credential costs time.
//!
//! Every failure (Basic credentials, an access token, the admin token, a dashboard sign-in) takes a token
//! from two buckets: the credential's own (the client id, or the operator) and the caller's address's.
//! A bucket holds `failures` tokens and gets them back evenly over `window`. While either bucket of a
//! request is empty the request is refused before its credential is looked at — the right one too, for
//! the few seconds until a token is back — and the caller is told when to come back. A success refills its
//! credential's bucket (not its address's: a valid login must not launder someone else's guesses).
//!
//! The buckets live in each node's memory. Across N nodes an attacker gets N times the budget, which
//! against secrets of 190 bits changes nothing; in exchange a failure costs no database write (which
//! would hand the attacker a lever on the database) and a request no read. The map is bounded: full
//! buckets are forgotten first, and past [`MAX_KEYS`] new credentials are not tracked (their addresses
//! still are).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most buckets kept.
const MAX_KEYS: usize = 100_000;

/// What a bucket is kept for.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Caller {
    /// A merchant's client id, or `operator`.
    Credential(String),
    Address(IpAddr),
}

impl Caller {
    /// `credential` or `address`, the label of the throttling counter.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Credential(_) => "credential",
            Self::Address(_) => "address",
        }
    }
}

impl std::fmt::Display for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Credential(name) => write!(f, "credential {name}"),
            Self::Address(address) => write!(f, "address {address}"),
        }
    }
}

/// How many failures are allowed in a row, and how fast they come back.
#[derive(Clone, Copy, Debug)]
pub struct ThrottleRules {
    /// Failures per credential before it is throttled; 0 turns the credential buckets off.
    pub per_credential: u32,
    /// Failures per source address; 0 turns the address buckets off (behind a proxy every caller has its
    /// address).
    pub per_address: u32,
    /// The time in which a bucket refills completely.
    pub window: Duration,
}

impl Default for ThrottleRules {
    fn default() -> Self {
        Self { per_credential: 10, per_address: 50, window: Duration::from_secs(60) }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A refusal: which bucket is empty, and when it will hold a token again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Throttled {
    pub caller: Caller,
    pub retry_after: Duration,
}

/// The buckets of one node.
pub struct AuthThrottle {
    rules: ThrottleRules,
    buckets: Mutex<HashMap<Caller, Bucket>>,
}

impl AuthThrottle {
    pub fn new(rules: ThrottleRules) -> Self {
        Self { rules, buckets: Mutex::new(HashMap::new()) }
    }

    fn capacity(&self, caller: &Caller) -> f64 {
        f64::from(match caller {
            Caller::Credential(_) => self.rules.per_credential,
            Caller::Address(_) => self.rules.per_address,
        })
    }

    /// Tokens per second a bucket of `capacity` gets back.
    fn refill_rate(&self, capacity: f64) -> f64 {
        capacity / self.rules.window.as_secs_f64().max(0.001)
    }

    /// The bucket's tokens at `now` (a bucket never seen is full).
    fn tokens(&self, caller: &Caller, bucket: Option<&Bucket>, now: Instant) -> f64 {
        let capacity = self.capacity(caller);
        bucket.map_or(capacity, |b| {
            (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * self.refill_rate(capacity)).min(capacity)
        })
    }

    /// Whether these callers may try to authenticate now.
    pub fn check(&self, callers: &[Caller], now: Instant) -> Result<(), Throttled> {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        for caller in callers {
            let capacity = self.capacity(caller);
            if capacity == 0.0 {
                continue;
            }
            let tokens = self.tokens(caller, buckets.get(caller), now);
            if tokens < 1.0 {
                let retry_after = Duration::from_secs_f64((1.0 - tokens) / self.refill_rate(capacity));
                return Err(Throttled { caller: caller.clone(), retry_after });
            }
        }
        Ok(())
    }

    /// A failed try by these callers; returns those whose bucket it emptied (to be logged once).
    pub fn failed(&self, callers: &[Caller], now: Instant) -> Vec<Caller> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_KEYS {
            buckets.retain(|caller, bucket| self.tokens(caller, Some(bucket), now) < self.capacity(caller));
        }
        let mut emptied = Vec::new();
        for caller in callers {
            if self.capacity(caller) == 0.0
                || (buckets.len() >= MAX_KEYS
                    && matches!(caller, Caller::Credential(_))
                    && !buckets.contains_key(caller))
            {
                continue;
            }
            let tokens = (self.tokens(caller, buckets.get(caller), now) - 1.0).max(0.0);
            if tokens < 1.0 {
                emptied.push(caller.clone());
            }
            buckets.insert(caller.clone(), Bucket { tokens, at: now });
        }
        emptied
    }

    /// A successful sign-in with this credential: its bucket is full again.
    pub fn succeeded(&self, credential: &Caller) {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).remove(credential);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ThrottleRules {
        ThrottleRules { per_credential: 3, per_address: 5, window: Duration::from_secs(6) }
    }

    #[test]
    fn a_credential_is_throttled_after_its_failures_and_gets_a_try_back_in_time() {
        let throttle = AuthThrottle::new(rules());
        let start = Instant::now();
        let callers = [Caller::Credential("c".into()), Caller::Address([10, 0, 0, 1].into())];
        for n in 0..3 {
            assert!(throttle.check(&callers, start).is_ok(), "failure {n} is still allowed");
            throttle.failed(&callers, start);
        }
        let refused = throttle.check(&callers, start).unwrap_err();
        assert_eq!(refused.caller, callers[0]);
        assert_eq!(refused.retry_after, Duration::from_secs(2), "one of 3 tokens back in 6 s / 3");
        assert!(throttle.check(&callers, start + Duration::from_secs(2)).is_ok());
        // Another credential from the same address may still try, until the address's bucket is empty.
        let other = [Caller::Credential("d".into()), callers[1].clone()];
        throttle.failed(&other, start);
        throttle.failed(&other, start);
        assert_eq!(throttle.check(&other, start).unwrap_err().caller, callers[1]);
    }

    #[test]
    fn a_success_refills_the_credential_but_not_the_address() {
        let throttle = AuthThrottle::new(rules());
        let now = Instant::now();
        let callers = [Caller::Credential("c".into()), Caller::Address([10, 0, 0, 1].into())];
        for _ in 0..3 {
            throttle.failed(&callers, now);
        }
        throttle.succeeded(&callers[0]);
        assert!(throttle.check(&callers[..1], now).is_ok());
        assert_eq!(throttle.failed(&callers, now), Vec::<Caller>::new());
        assert_eq!(throttle.failed(&callers, now), vec![callers[1].clone()], "the fifth failure empties the address");
    }

    #[test]
    fn zero_turns_a_kind_of_bucket_off() {
        let throttle = AuthThrottle::new(ThrottleRules { per_address: 0, ..rules() });
        let now = Instant::now();
        let address = [Caller::Address([10, 0, 0, 1].into())];
        for _ in 0..100 {
            throttle.failed(&address, now);
        }
        assert!(throttle.check(&address, now).is_ok());
    }
}
