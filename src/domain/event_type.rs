//! Event-type names, such as `charge.dispute.closed` or `PAYMENT.CAPTURE.COMPLETED`.

/// A catalog name: 1 to 128 characters of letters, digits, `.`, `_` and `-`, starting with a letter or digit.
/// `*` is not a name: it is the wildcard a webhook subscribes with (see [`Subscription`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct EventTypeName(String);

/// Why a string is not an event-type name.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("an event type name is 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit")]
pub struct EventTypeNameError;

impl EventTypeName {
    pub fn parse(text: &str) -> Result<Self, EventTypeNameError> {
        let mut bytes = text.bytes();
        let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
        let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if first_ok && rest_ok && text.len() <= 128 { Ok(Self(text.to_owned())) } else { Err(EventTypeNameError) }
    }

    pub fn from_trusted(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EventTypeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What one entry of a webhook's `event_types` subscribes to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subscription {
    /// `*`: every type, including types added to the catalog later.
    All,
    One(EventTypeName),
}

impl Subscription {
    pub const WILDCARD: &'static str = "*";

    pub fn parse(text: &str) -> Result<Self, EventTypeNameError> {
        if text == Self::WILDCARD { Ok(Self::All) } else { EventTypeName::parse(text).map(Self::One) }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::All => Self::WILDCARD,
            Self::One(name) => name.as_str(),
        }
    }

    pub fn matches(&self, event_type: &EventTypeName) -> bool {
        match self {
            Self::All => true,
            Self::One(name) => name == event_type,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_names_payment_platforms_use() {
        for name in ["charge.dispute.closed", "PAYMENT.CAPTURE.COMPLETED", "subscription.created", "a", "x_y-z"] {
            assert!(EventTypeName::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for name in ["", "*", ".charge", "charge succeeded", "charge/x", &"a".repeat(129), "é"] {
            assert!(EventTypeName::parse(name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn wildcard_matches_everything() {
        let name = EventTypeName::parse("charge.succeeded").unwrap();
        assert!(Subscription::parse("*").unwrap().matches(&name));
        assert!(Subscription::parse("charge.succeeded").unwrap().matches(&name));
        assert!(!Subscription::parse("charge.failed").unwrap().matches(&name));
    }
}
