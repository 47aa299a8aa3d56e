//! Instants as milliseconds since the Unix epoch, shown as RFC 3339 UTC.
//!
//! The store keeps integers (cheap to index and compare on every backend); the API shows
//! `2026-11-27T10:00:00.123Z`. Code that decides something by time takes a `Timestamp` argument rather
//! than reading the clock, so tests can pass any instant.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An instant, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Self(since_epoch.as_millis() as i64)
    }

    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds, as `webhook-timestamp` carries them.
    pub const fn as_unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn plus(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration.as_millis().min(i64::MAX as u128) as i64))
    }

    pub fn minus(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration.as_millis().min(i64::MAX as u128) as i64))
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0).max(0) as u64)
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-27T10:00:00.123Z`.
    pub fn to_rfc3339(self) -> String {
        let mut text = self.to_rfc3339_seconds();
        text.insert_str(text.len() - 1, &format!(".{:03}", self.0.rem_euclid(1000)));
        text
    }

    /// RFC 3339 in UTC to the second, e.g. `2026-11-27T10:00:00Z`, as PayPal's transmission times are.
    pub fn to_rfc3339_seconds(self) -> String {
        let Ok(at) = OffsetDateTime::from_unix_timestamp(self.as_unix_seconds()) else {
            return "invalid".to_owned();
        };
        let (date, time) = (at.date(), at.time());
        let (year, month, day) = (date.year(), u8::from(date.month()), date.day());
        format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", time.hour(), time.minute(), time.second())
    }

    /// Parses any RFC 3339 date-time (with any offset), keeping millisecond precision.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        Some(Self((at.unix_timestamp_nanos() / 1_000_000) as i64))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_milliseconds() {
        assert_eq!(Timestamp::from_millis(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::from_millis(1_555_192_997_123).to_rfc3339(), "2019-04-13T22:03:17.123Z");
        assert_eq!(Timestamp::from_millis(1_555_192_997_123).to_rfc3339_seconds(), "2019-04-13T22:03:17Z");
    }

    #[test]
    fn parses_offsets_back_to_utc() {
        let parsed = Timestamp::parse_rfc3339("2019-04-14T00:03:17.123+02:00").unwrap();
        assert_eq!(parsed, Timestamp::from_millis(1_555_192_997_123));
        assert!(Timestamp::parse_rfc3339("yesterday").is_none());
    }
}
