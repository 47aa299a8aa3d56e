//! One delivery of a merchant's webhook, opened with everything it is made of.

use bytes::Bytes;

use super::{ServiceError, ServiceResult, Services};
use crate::domain::AccountId;
use crate::domain::DeliveryId;
use crate::domain::model::{Attempt, Delivery};

/// A delivery with its attempts, oldest first, and the bytes its webhook's format sent.
pub struct DeliveryDetail {
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
    /// For `stripe`, the envelope around the event; the event's own bytes otherwise.
    pub body_sent: Bytes,
}

pub async fn detail(
    services: &Services,
    account: &AccountId,
    webhook_id: &str,
    delivery_id: &str,
) -> ServiceResult<DeliveryDetail> {
    let webhook = super::webhooks::owned(services, account, webhook_id).await?;
    let not_found = || ServiceError::NotFound("delivery");
    let delivery_id = DeliveryId::parse(delivery_id).map_err(|_| not_found())?;
    let delivery = services.store.get_delivery(&webhook.id, &delivery_id).await?.ok_or_else(not_found)?;
    let event = services.store.get_event(account, &delivery.event_id).await?.ok_or_else(not_found)?;
    let body_sent = crate::deliver::format::body_for(webhook.format, webhook.api_version.as_deref(), &event.body);
    let attempts = services.store.list_attempts(&delivery.id).await?;
    Ok(DeliveryDetail { delivery, attempts, body_sent })
}
