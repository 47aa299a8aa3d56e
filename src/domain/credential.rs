//! A merchant's API credentials: each key opens one of the account's two environments (its mode) with a
//! scope, and each mode is a world of its own.

use super::{AccountId, ApiKeyId, Timestamp};

/// Which of an account's two environments: live data, or test data that reaches only test webhooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Live,
    Test,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Test => "test",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "live" => Some(Self::Live),
            "test" => Some(Self::Test),
            _ => None,
        }
    }

    /// The mode of an event published with this `livemode`.
    pub fn of_livemode(livemode: bool) -> Self {
        if livemode { Self::Live } else { Self::Test }
    }

    pub fn is_live(self) -> bool {
        self == Self::Live
    }
}

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// Everything the merchant API offers.
    Full,
    /// Reads only: every write is refused (403).
    ReadOnly,
}

impl KeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::ReadOnly => "read_only",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "full" => Some(Self::Full),
            "read_only" => Some(Self::ReadOnly),
            _ => None,
        }
    }
}

/// One API key. Its secret is never stored, only a keyed hash of it (and, for a while after a roll, of
/// the secret before).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    /// The merchant's account, as the operator knows it.
    pub owner_id: AccountId,
    /// The environment the key opens: the account itself for live keys, its test environment for test keys.
    pub environment_id: AccountId,
    pub name: String,
    pub mode: Mode,
    pub scope: KeyScope,
    pub client_id: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    /// Until when the secret before the last roll still works.
    pub previous_expires_at: Option<Timestamp>,
}
