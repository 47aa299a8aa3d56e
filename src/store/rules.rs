//! The decisions both backends make that are not SQL (pure): whether an account may have another webhook
//! at a URL, what state and time a delivery moves to after an attempt, and what an attempt does to its
//! webhook's health. The backends read the facts, call these, and write what they answer, so SQLite and
//! PostgreSQL cannot drift apart on them. The paced admission lives beside them in `crate::pacing`.

use super::{AttemptRecord, DeliveryTransition, HealthChange, StoreError, StoreResult};
use crate::domain::model::{DeliveryState, Webhook, WebhookStatus};
use crate::domain::{Timestamp, WebhookId, WebhookUrl};

/// Whether an account that has `existing` webhooks may add one for `url`: at most `limit` webhooks, and
/// one per URL.
pub fn admit_webhook(existing: &[Webhook], url: &WebhookUrl, limit: u32) -> StoreResult<()> {
    if existing.len() as u32 >= limit {
        return Err(StoreError::WebhookLimitReached { limit });
    }
    if existing.iter().any(|w| &w.url == url) {
        return Err(StoreError::WebhookUrlTaken);
    }
    Ok(())
}

/// Whether webhook `id` may move to `url`: no other webhook of the account may have it.
pub fn admit_url_change(existing: &[Webhook], id: &WebhookId, url: &WebhookUrl) -> StoreResult<()> {
    if existing.iter().any(|w| &w.id != id && &w.url == url) {
        return Err(StoreError::WebhookUrlTaken);
    }
    Ok(())
}

/// The state a delivery is in after an attempt, and when it is next due (only while pending).
pub fn state_after(transition: DeliveryTransition) -> (DeliveryState, Option<Timestamp>) {
    match transition {
        DeliveryTransition::Succeeded => (DeliveryState::Succeeded, None),
        DeliveryTransition::RetryAt(at) => (DeliveryState::Pending, Some(at)),
        DeliveryTransition::Exhausted => (DeliveryState::Failed, None),
    }
}

/// What the store knows of a webhook's health before an attempt is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    pub status: WebhookStatus,
    /// When the current failing streak began; `None` while the webhook succeeds.
    pub failing_since: Option<Timestamp>,
}

/// A webhook's health after an attempt, and the change to report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthAfter {
    pub failing_since: Option<Timestamp>,
    /// Disable the webhook with this reason.
    pub disable: Option<String>,
    pub change: HealthChange,
}

/// Tracks the failing streak: a success ends it, the first failure after a success starts it at the
/// attempt's start. A failure disables an enabled webhook when the receiver asked for it (410 Gone) or when
/// the streak began before the record's failing limit.
pub fn health_after(before: Health, record: &AttemptRecord) -> HealthAfter {
    if record.transition == DeliveryTransition::Succeeded {
        let change = if before.failing_since.is_some() { HealthChange::Recovered } else { HealthChange::Unchanged };
        return HealthAfter { failing_since: None, disable: None, change };
    }
    let failing_since = before.failing_since.unwrap_or(record.attempt.started_at);
    let mut change =
        if before.failing_since.is_none() { HealthChange::StartedFailing } else { HealthChange::Unchanged };
    let enabled = before.status == WebhookStatus::Enabled;
    let too_long = record.failing_limit.as_ref().filter(|limit| failing_since <= limit.since_before);
    let disable = match (&record.disable_webhook, too_long) {
        _ if !enabled => None,
        (Some(reason), _) => Some(reason.clone()),
        (None, Some(limit)) => Some(limit.reason.clone()),
        (None, None) => None,
    };
    if let Some(reason) = &disable {
        change = HealthChange::Disabled(reason.clone());
    }
    HealthAfter { failing_since: Some(failing_since), disable, change }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::delivery_policy::DeliveryPolicy;
    use crate::domain::model::{Attempt, DeliveryFormat, SigningAlgorithm, Trigger};
    use crate::domain::{AccountId, AttemptId, DeliveryId, EventId};
    use crate::store::FailingLimit;

    const T: Timestamp = Timestamp::from_millis(1_000_000);

    fn webhook(id: &str, url: &str) -> Webhook {
        Webhook {
            id: WebhookId::from_trusted(id.to_owned()),
            account_id: AccountId::from_trusted("acct_1".to_owned()),
            url: WebhookUrl::parse(url).unwrap(),
            event_types: Vec::new(),
            status: WebhookStatus::Enabled,
            format: DeliveryFormat::Standard,
            signing: SigningAlgorithm::HmacSha256,
            api_version: None,
            policy: DeliveryPolicy::default(),
            description: None,
            disabled_reason: None,
            created_at: T,
            updated_at: T,
        }
    }

    fn record(transition: DeliveryTransition, gone: bool, limit: Option<Timestamp>) -> AttemptRecord {
        AttemptRecord {
            attempt: Attempt {
                id: AttemptId::generate(),
                delivery_id: DeliveryId::generate(),
                number: 1,
                started_at: T,
                duration_ms: 1,
                trigger: Trigger::Scheduled,
                request_url: String::new(),
                request_headers: Vec::new(),
                response: None,
                error: None,
                node: None,
            },
            event_id: EventId::generate(),
            status_code: None,
            lease_token: 1,
            transition,
            disable_webhook: gone.then(|| "gone".to_owned()),
            failing_limit: limit.map(|since_before| FailingLimit { since_before, reason: "too long".to_owned() }),
        }
    }

    #[test]
    fn an_account_gets_a_webhook_below_its_limit_at_a_new_url() {
        let a = webhook("wh_a", "https://a.example/h");
        let b = webhook("wh_b", "https://b.example/h");
        let url = |u: &str| WebhookUrl::parse(u).unwrap();
        let one = [a.clone()];
        let two = [a.clone(), b.clone()];
        let cases: [(&[Webhook], &str, u32, Option<&str>); 4] = [
            (&[], "https://a.example/h", 1, None),
            (&one, "https://c.example/h", 2, None),
            (&two, "https://c.example/h", 2, Some("limit")),
            (&one, "https://a.example/h", 5, Some("url")),
        ];
        for (existing, candidate, limit, refused) in cases {
            let answer = admit_webhook(existing, &url(candidate), limit);
            let kind = match answer {
                Ok(()) => None,
                Err(StoreError::WebhookLimitReached { .. }) => Some("limit"),
                Err(StoreError::WebhookUrlTaken) => Some("url"),
                Err(other) => panic!("unexpected {other}"),
            };
            assert_eq!(kind, refused, "{candidate} with {} existing, limit {limit}", existing.len());
        }
        let both = two;
        assert!(admit_url_change(&both, &a.id, &url("https://a.example/h")).is_ok(), "its own URL");
        assert!(admit_url_change(&both, &a.id, &url("https://c.example/h")).is_ok(), "a free URL");
        assert!(matches!(admit_url_change(&both, &a.id, &b.url), Err(StoreError::WebhookUrlTaken)));
    }

    #[test]
    fn each_transition_has_its_state_and_due_time() {
        let later = T.plus(std::time::Duration::from_secs(5));
        assert_eq!(state_after(DeliveryTransition::Succeeded), (DeliveryState::Succeeded, None));
        assert_eq!(state_after(DeliveryTransition::RetryAt(later)), (DeliveryState::Pending, Some(later)));
        assert_eq!(state_after(DeliveryTransition::Exhausted), (DeliveryState::Failed, None));
    }

    #[test]
    fn health_follows_the_failing_streak() {
        use DeliveryTransition::*;
        use HealthChange::*;
        let earlier = Timestamp::from_millis(T.as_millis() - 10_000);
        let enabled = |since| Health { status: WebhookStatus::Enabled, failing_since: since };
        let disabled = |since| Health { status: WebhookStatus::Disabled, failing_since: since };
        let retry = RetryAt(T);
        // (before, transition, 410, failing limit, failing_since after, change)
        let cases = [
            (enabled(None), Succeeded, false, None, None, Unchanged),
            (enabled(Some(earlier)), Succeeded, false, None, None, Recovered),
            (enabled(None), retry, false, None, Some(T), StartedFailing),
            (enabled(Some(earlier)), Exhausted, false, None, Some(earlier), Unchanged),
            (enabled(None), retry, true, None, Some(T), Disabled("gone".into())),
            (enabled(Some(earlier)), retry, false, Some(T), Some(earlier), Disabled("too long".into())),
            (enabled(Some(earlier)), retry, false, Some(Timestamp::from_millis(0)), Some(earlier), Unchanged),
            (enabled(None), retry, false, Some(T), Some(T), Disabled("too long".into())),
            (disabled(Some(earlier)), retry, true, Some(T), Some(earlier), Unchanged),
        ];
        for (i, (before, transition, gone, limit, since, change)) in cases.into_iter().enumerate() {
            let after = health_after(before, &record(transition, gone, limit));
            assert_eq!(after.failing_since, since, "case {i}");
            assert_eq!(after.change, change, "case {i}");
            let disabled_for = match &after.change {
                Disabled(reason) => Some(reason.clone()),
                _ => None,
            };
            assert_eq!(after.disable, disabled_for, "case {i}");
        }
    }
}
