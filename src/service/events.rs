//! A merchant's events: resend one to its webhooks, and send a catalog sample as a test event.

use super::{Field, Refusal, ServiceError, ServiceResult, Services};
use crate::domain::model::Event;
use crate::domain::{AccountId, EventId, EventTypeName, Mode, WebhookId};
pub use crate::publish::RequestRef;
use crate::publish::SimulationTarget;

/// New manual deliveries of the event's stored bytes: to the listed webhooks, or without a list to every
/// enabled webhook that subscribes to its type.
pub async fn resend(
    services: &Services,
    account: &AccountId,
    event_id: &str,
    webhook_ids: Option<&[String]>,
) -> ServiceResult<Event> {
    let id = EventId::parse(event_id).map_err(|_| ServiceError::NotFound("event"))?;
    let only = match webhook_ids {
        Some(ids) => {
            Some(ids.iter().enumerate().map(|(index, text)| webhook_id(index, text)).collect::<Result<_, _>>()?)
        }
        None => None,
    };
    Ok(services.publisher.resend(account, &id, only).await?)
}

fn webhook_id(index: usize, text: &str) -> Result<WebhookId, Refusal> {
    WebhookId::parse(text).map_err(|_| {
        Refusal::invalid(Field::item("webhook_ids", index, ""), "WEBHOOK_NOT_FOUND", "no such webhook")
            .named("RESOURCE_NOT_FOUND", "the webhook does not exist")
            .missing()
            .with_value(text)
    })
}

/// Where a test event goes: one of the account's webhooks, or a bare URL.
pub enum TestTarget<'a> {
    Webhook(&'a str),
    Url(&'a str),
}

/// The catalog sample of `event_type` (of `resource_version`, when given), sent once to `target`.
pub async fn send_test(
    services: &Services,
    account: &AccountId,
    mode: Mode,
    request: Option<RequestRef>,
    target: TestTarget<'_>,
    event_type: &str,
    resource_version: Option<&str>,
) -> ServiceResult<Event> {
    let target = match target {
        TestTarget::Webhook(id) => {
            SimulationTarget::Webhook(WebhookId::parse(id).map_err(|_| ServiceError::NotFound("webhook"))?)
        }
        TestTarget::Url(url) => SimulationTarget::Url(super::webhooks::parse_url(url, services.rules.https_only)?),
    };
    let unknown = || {
        let message = format!("the event type \"{event_type}\" is not in the catalog");
        Refusal::invalid(Field::named("event_type"), "UNKNOWN_EVENT_TYPE", "see the list of available events")
            .named("UNKNOWN_EVENT_TYPE", message)
    };
    let name = EventTypeName::parse(event_type).map_err(|_| unknown())?;
    let entry = services.store.get_event_type(&name).await?.ok_or_else(unknown)?;
    if let Some(version) = resource_version
        && entry.resource_version.as_deref() != Some(version)
    {
        let text = "the catalog has no sample of that version";
        return Err(Refusal::invalid(Field::named("resource_version"), "UNKNOWN_RESOURCE_VERSION", text)
            .with_value(version)
            .into());
    }
    Ok(services.publisher.simulate(account, mode, request, &entry, target).await?)
}
