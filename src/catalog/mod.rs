//! The event-type catalog's starting content: the payment events that Stripe, Fastbill and PayPal send,
//! each with a realistic sample resource (for simulate-event), from `seed.json`.
//!
//! Seeding runs only on an empty catalog, so an operator's own entries and edits are never overwritten, and
//! `HERALD_SEED_CATALOG=false` turns it off.

use serde::Deserialize;

use crate::domain::{EventTypeName, Timestamp};
use crate::store::{EventTypeDraft, Store, StoreError};

const SEED: &str = include_str!("seed.json");

#[derive(Deserialize)]
struct SeedFile {
    event_types: Vec<SeedEntry>,
}

#[derive(Deserialize)]
struct SeedEntry {
    name: String,
    description: String,
    resource_type: Option<String>,
    resource_version: Option<String>,
    sample: serde_json::Value,
}

/// The seed entries as catalog drafts.
pub fn seed_drafts(now: Timestamp) -> Vec<EventTypeDraft> {
    let file: SeedFile = serde_json::from_str(SEED).expect("seed.json is valid (checked by a test)");
    file.event_types
        .into_iter()
        .map(|entry| EventTypeDraft {
            name: EventTypeName::parse(&entry.name).expect("seed names are valid (checked by a test)"),
            description: entry.description,
            resource_type: entry.resource_type,
            resource_version: entry.resource_version,
            sample: Some(entry.sample.to_string()),
            schema: None,
            now,
        })
        .collect()
}

/// Fills the catalog with the seed entries if it is empty; returns how many were added.
pub async fn seed_if_empty(store: &dyn Store) -> Result<usize, StoreError> {
    if !store.list_event_types().await?.is_empty() {
        return Ok(0);
    }
    let drafts = seed_drafts(Timestamp::now());
    let count = drafts.len();
    for draft in drafts {
        store.put_event_type(draft).await?;
    }
    tracing::info!(event_types = count, "seeded the event-type catalog");
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_entry_is_valid_and_has_an_object_sample() {
        let drafts = seed_drafts(Timestamp::from_millis(0));
        assert!(drafts.len() >= 30);
        for name in ["charge.dispute.closed", "subscription.created", "payment.refunded", "PAYMENT.CAPTURE.COMPLETED"] {
            assert!(drafts.iter().any(|d| d.name.as_str() == name), "{name}");
        }
        assert!(drafts.iter().all(|d| d.sample.as_deref().is_some_and(|s| s.starts_with('{'))));
    }
}
