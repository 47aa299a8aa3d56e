//! Herald's nouns and the validated newtypes built at the edge ("parse, don't validate").
//!
//! Nothing here does I/O. Every other module may use `domain`; `domain` uses none of them.

pub mod credential;
pub mod delivery_policy;
pub mod event_type;
pub mod ids;
pub mod model;
pub mod time;
pub mod trace;
pub mod webhook_url;

pub use credential::{ApiKey, KeyScope, Mode};
pub use event_type::EventTypeName;
pub use ids::{AccountId, ApiKeyId, AttemptId, DeliveryId, EventId, IdError, ListenerId, RequestId, WebhookId};
pub use time::Timestamp;
pub use webhook_url::WebhookUrl;
