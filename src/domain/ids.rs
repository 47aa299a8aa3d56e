//! Prefixed identifiers (`acct_`, `wh_`, `evt_`, `dlv_`, `att_`, `lsn_`, `key_`, `req_`) that sort by creation time.
//!
//! The part after the prefix is a ULID-style 128-bit value: 48 bits of milliseconds since the epoch, then
//! 80 random bits, written in 26 Crockford base32 characters. Ids made by one process are strictly
//! increasing, even within one millisecond, so ordering by id is ordering by creation and a list cursor
//! can be the last id seen.

use std::sync::Mutex;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ENCODED_LEN: usize = 26;

/// Why a string is not an id of the expected kind.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("\"{given}\" is not a valid {prefix} id")]
pub struct IdError {
    prefix: &'static str,
    given: String,
}

/// The last value handed out, so that ids made in the same millisecond still increase.
static LAST: Mutex<u128> = Mutex::new(0);

fn next_value(now_ms: u64) -> u128 {
    let random: u128 = rand::random::<u128>() & ((1u128 << 80) - 1);
    let candidate = ((now_ms as u128) << 80) | random;
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    *last = if candidate > *last { candidate } else { *last + 1 };
    *last
}

fn encode(mut value: u128) -> String {
    let mut out = [0u8; ENCODED_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value & 31) as usize];
        value >>= 5;
    }
    String::from_utf8(out.to_vec()).expect("alphabet is ASCII")
}

fn decode(text: &str) -> u128 {
    text.bytes().fold(0u128, |value, b| {
        let digit = ALPHABET.iter().position(|a| *a == b).unwrap_or(0) as u128;
        value.wrapping_shl(5) | digit
    })
}

/// When an id was made, from its first 48 bits.
fn created_at(id: &str, prefix: &str) -> super::Timestamp {
    let body = id.strip_prefix(prefix).unwrap_or(id);
    super::Timestamp::from_millis((decode(body) >> 80) as i64)
}

fn is_encoded(text: &str) -> bool {
    // The first character carries only 3 bits (128 = 25 * 5 + 3), so it is at most '7'.
    text.len() == ENCODED_LEN && text.as_bytes()[0] <= b'7' && text.bytes().all(|b| ALPHABET.contains(&b))
}

/// Makes a fresh id string with the given prefix, stamped with the current time.
pub fn generate(prefix: &str) -> String {
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    format!("{prefix}{}", encode(next_value(now_ms)))
}

/// An id string with the given prefix stamped with `time`, with fresh random bits.
fn generate_at(prefix: &str, time: super::Timestamp) -> String {
    let random: u128 = rand::random::<u128>() & ((1u128 << 80) - 1);
    format!("{prefix}{}", encode(((time.as_millis().max(0) as u128) << 80) | random))
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new id, later than every id this process made before.
            pub fn generate() -> Self {
                Self(generate(Self::PREFIX))
            }

            /// An id stamped with `time` rather than the clock, for history made elsewhere (an import, a
            /// fixture). Unlike [`Self::generate`] it is not ordered against other ids of the same millisecond.
            pub fn generate_at(time: super::Timestamp) -> Self {
                Self(generate_at(Self::PREFIX, time))
            }

            /// Accepts only this kind's prefix followed by a well-formed 26-character body.
            pub fn parse(text: &str) -> Result<Self, IdError> {
                match text.strip_prefix(Self::PREFIX) {
                    Some(body) if is_encoded(body) => Ok(Self(text.to_owned())),
                    _ => Err(IdError { prefix: Self::PREFIX, given: text.chars().take(64).collect() }),
                }
            }

            /// Wraps a value read back from the store, which only ever holds ids this type made.
            pub fn from_trusted(text: String) -> Self {
                Self(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The smallest id made at `time`: ids made at or after it compare greater or equal.
            pub fn floor_at(time: super::Timestamp) -> Self {
                Self(format!("{}{}", Self::PREFIX, encode((time.as_millis().max(0) as u128) << 80)))
            }

            /// When this id was made (to the millisecond).
            pub fn created_at(&self) -> super::Timestamp {
                created_at(&self.0, Self::PREFIX)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// A merchant account (one tenant).
    AccountId, "acct_");
prefixed_id!(
    /// A webhook endpoint registered by a merchant.
    WebhookId, "wh_");
prefixed_id!(
    /// A published event; also the `webhook-id` header of every delivery of it.
    EventId, "evt_");
prefixed_id!(
    /// One event on its way to one webhook.
    DeliveryId, "dlv_");
prefixed_id!(
    /// One HTTP try of a delivery.
    AttemptId, "att_");
prefixed_id!(
    /// A temporary delivery channel to a developer's machine (`herald listen`).
    ListenerId, "lsn_");
prefixed_id!(
    /// One API credential of a merchant: a client id and secret for one mode, with a scope.
    ApiKeyId, "key_");
prefixed_id!(
    /// One request to Herald's API or dashboard: its `Request-Id` header, and the `debug_id` of its error.
    RequestId, "req_");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_within_one_millisecond() {
        let first = next_value(1_000);
        let second = next_value(1_000);
        assert!(second > first);
        assert!(next_value(999) > second, "a clock step back must not reorder ids");
    }

    #[test]
    fn an_id_tells_when_it_was_made() {
        let before = super::super::Timestamp::now();
        let id = EventId::generate();
        let made = id.created_at();
        assert!(made >= before && made <= super::super::Timestamp::now(), "{made:?}");
        assert_eq!(
            EventId::parse("evt_01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap().created_at().as_millis(),
            1_469_922_850_259
        );
    }

    #[test]
    fn a_floor_id_sorts_before_every_id_made_from_its_time_on() {
        let before = crate::domain::Timestamp::now();
        let made = DeliveryId::generate();
        assert!(DeliveryId::floor_at(before) <= made);
        assert!(DeliveryId::floor_at(made.created_at().plus(std::time::Duration::from_millis(1))) > made);
    }

    #[test]
    fn an_id_made_for_a_past_time_tells_that_time_and_parses() {
        let then = crate::domain::Timestamp::from_millis(1_700_000_000_123);
        let id = EventId::generate_at(then);
        assert_eq!(id.created_at(), then);
        assert!(EventId::floor_at(then) <= id && EventId::parse(id.as_str()).is_ok());
    }

    #[test]
    fn ids_sort_by_time_as_strings() {
        assert!(encode(2u128 << 80) > encode((1u128 << 80) | ((1u128 << 80) - 1)));
    }

    #[test]
    fn parse_checks_prefix_and_body() {
        let id = EventId::generate();
        assert_eq!(EventId::parse(id.as_str()).unwrap(), id);
        assert!(WebhookId::parse(id.as_str()).is_err());
        assert!(EventId::parse("evt_").is_err());
        assert!(EventId::parse("evt_01ARZ3NDEKTSV4RRFFQ69G5FAI").is_err(), "I is not Crockford");
        assert!(EventId::parse("evt_81ARZ3NDEKTSV4RRFFQ69G5FAV").is_err(), "overflows 128 bits");
        assert!(EventId::parse("evt_01ARZ3NDEKTSV4RRFFQ69G5FAV").is_ok());
    }
}
