//! The records Herald keeps: accounts, the event-type catalog, webhooks, events, deliveries and attempts.
//!
//! These are plain data shared by the store (which reads and writes them) and the API (which shows them).

use bytes::Bytes;

use super::delivery_policy::DeliveryPolicy;
use super::event_type::Subscription;
use super::{AccountId, AttemptId, DeliveryId, EventId, EventTypeName, Timestamp, WebhookId, WebhookUrl};

/// A merchant: one tenant whose webhooks and events are invisible to every other account.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    /// The public half of the merchant's API credentials (PayPal's "client id").
    pub client_id: String,
    pub created_at: Timestamp,
}

/// One entry of the event-type catalog that the operator maintains.
#[derive(Clone, Debug)]
pub struct EventType {
    pub name: EventTypeName,
    pub description: String,
    pub resource_type: Option<String>,
    pub resource_version: Option<String>,
    /// The resource that simulated events of this type carry, as JSON text.
    pub sample: Option<String>,
    /// A JSON Schema that published resources of this type must satisfy, as JSON text.
    pub schema: Option<String>,
    pub status: EventTypeStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventTypeStatus {
    Enabled,
    Deprecated,
}

impl EventTypeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "ENABLED",
            Self::Deprecated => "DEPRECATED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ENABLED" => Some(Self::Enabled),
            "DEPRECATED" => Some(Self::Deprecated),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookStatus {
    Enabled,
    /// Gets no new deliveries; its pending ones wait until it is enabled again.
    Disabled,
}

impl WebhookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "ENABLED",
            Self::Disabled => "DISABLED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ENABLED" => Some(Self::Enabled),
            "DISABLED" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// The body and headers a webhook receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryFormat {
    /// Standard Webhooks: the event object as the body, `webhook-*` headers.
    Standard,
    /// A Stripe event envelope as the body and a `Stripe-Signature` header, for receivers using Stripe's
    /// libraries.
    Stripe,
    /// PayPal's event notification as the body and `PAYPAL-TRANSMISSION-*` headers, RSA-signed with the
    /// installation's key.
    Paypal,
}

impl DeliveryFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Stripe => "stripe",
            Self::Paypal => "paypal",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "standard" => Some(Self::Standard),
            "stripe" => Some(Self::Stripe),
            "paypal" => Some(Self::Paypal),
            _ => None,
        }
    }

    /// The signing algorithms receivers of this format can check.
    pub fn supports(self, signing: SigningAlgorithm) -> bool {
        use SigningAlgorithm::*;
        matches!(
            (self, signing),
            (Self::Standard, HmacSha256 | Ed25519) | (Self::Stripe, HmacSha256) | (Self::Paypal, RsaSha256)
        )
    }

    /// The algorithm a webhook of this format gets when none is asked for.
    pub fn default_signing(self) -> SigningAlgorithm {
        match self {
            Self::Standard | Self::Stripe => SigningAlgorithm::HmacSha256,
            Self::Paypal => SigningAlgorithm::RsaSha256,
        }
    }
}

/// How a webhook's deliveries are signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// A shared `whsec_` secret.
    HmacSha256,
    /// A `whsk_` key held by Herald; merchants verify with its `whpk_` public key.
    Ed25519,
    /// The installation's RSA key (PayPal's SHA256withRSA); merchants verify with its certificate.
    RsaSha256,
}

impl SigningAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HmacSha256 => "hmac-sha256",
            Self::Ed25519 => "ed25519",
            Self::RsaSha256 => "rsa-sha256",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "hmac-sha256" => Some(Self::HmacSha256),
            "ed25519" => Some(Self::Ed25519),
            "rsa-sha256" => Some(Self::RsaSha256),
            _ => None,
        }
    }
}

/// The Stripe `api_version` put in envelopes when the webhook sets none (the version of the seed documents).
pub const DEFAULT_STRIPE_API_VERSION: &str = "2018-02-06";

/// A merchant's endpoint and what it subscribes to. Its signing secrets live apart, encrypted.
#[derive(Clone, Debug)]
pub struct Webhook {
    pub id: WebhookId,
    pub account_id: AccountId,
    pub url: WebhookUrl,
    pub event_types: Vec<Subscription>,
    pub status: WebhookStatus,
    pub format: DeliveryFormat,
    pub signing: SigningAlgorithm,
    /// Pacing, ordering and custom headers.
    pub policy: DeliveryPolicy,
    /// The `api_version` of Stripe envelopes; some Stripe libraries insist on their own.
    pub api_version: Option<String>,
    pub description: Option<String>,
    /// Why Herald disabled it (for example, the endpoint answered 410 Gone).
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A temporary delivery channel: the account's events, streamed to `herald listen` on a developer's
/// machine and signed with the listener's own secret in the chosen format.
#[derive(Clone, Debug)]
pub struct Listener {
    pub id: crate::domain::ListenerId,
    pub account_id: AccountId,
    pub format: DeliveryFormat,
    pub event_types: Vec<Subscription>,
    pub created_at: Timestamp,
}

/// A published event. `body` is the exact JSON every delivery sends, fixed at publish time.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: EventId,
    pub account_id: AccountId,
    pub event_type: EventTypeName,
    pub created_at: Timestamp,
    pub body: Bytes,
    /// The resource's own `id`, which the `transaction_id` filter matches.
    pub resource_id: Option<String>,
    /// Made by simulate-event: delivered once, never listed among real events.
    pub simulated: bool,
    /// The publisher's trace, which every delivery of the event continues.
    pub trace: Option<crate::domain::trace::TraceContext>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its next attempt (or for its webhook to be enabled again).
    Pending,
    Succeeded,
    /// Every scheduled attempt failed.
    Failed,
    /// Its webhook was deleted before it succeeded.
    Cancelled,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

/// What started an attempt: the retry schedule, or a person (resend, recover).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Scheduled,
    Manual,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "scheduled" => Some(Self::Scheduled),
            "manual" => Some(Self::Manual),
            _ => None,
        }
    }
}

/// One event on its way to one webhook.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub webhook_id: WebhookId,
    pub event_type: EventTypeName,
    pub state: DeliveryState,
    pub trigger: Trigger,
    pub attempt_count: u32,
    pub last_status_code: Option<u16>,
    pub created_at: Timestamp,
    pub next_attempt_at: Option<Timestamp>,
}

/// One HTTP try, as the attempt log keeps it. The request body is the event's body and is not copied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub id: AttemptId,
    pub delivery_id: DeliveryId,
    /// 1 for the first try of the delivery.
    pub number: u32,
    pub started_at: Timestamp,
    pub duration_ms: u64,
    pub trigger: Trigger,
    pub request_url: String,
    pub request_headers: Vec<(String, String)>,
    pub response: Option<AttemptResponse>,
    pub error: Option<AttemptError>,
    /// The Herald process that made it.
    pub node: Option<String>,
}

/// What the receiver answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// At most the configured number of bytes (16 KiB by default).
    pub body: Vec<u8>,
    /// True when the receiver sent more than was kept.
    pub truncated: bool,
}

/// Why an attempt failed without (or despite) a response, as a stable code and a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptError {
    pub code: String,
    pub message: String,
}
