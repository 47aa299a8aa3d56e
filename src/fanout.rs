//! Which webhooks get an event: a pure choice over the account's webhooks.
//!
//! A webhook gets an event when it is enabled and one of its subscriptions matches the event's type
//! (`*` matches every type, including types added to the catalog after the webhook was made).

use crate::domain::EventTypeName;
use crate::domain::event_type::Subscription;
use crate::domain::model::WebhookStatus;

/// The part of a webhook that fan-out looks at.
pub trait Subscriber {
    fn status(&self) -> WebhookStatus;
    fn subscriptions(&self) -> &[Subscription];
}

impl<S: Subscriber> Subscriber for std::sync::Arc<S> {
    fn status(&self) -> WebhookStatus {
        (**self).status()
    }

    fn subscriptions(&self) -> &[Subscription] {
        (**self).subscriptions()
    }
}

/// The subscribers, among `candidates`, that must receive an event of type `event_type`.
pub fn recipients<'a, S: Subscriber>(candidates: &'a [S], event_type: &EventTypeName) -> Vec<&'a S> {
    candidates
        .iter()
        .filter(|s| s.status() == WebhookStatus::Enabled)
        .filter(|s| s.subscriptions().iter().any(|sub| sub.matches(event_type)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Hook(&'static str, WebhookStatus, Vec<Subscription>);

    impl Subscriber for Hook {
        fn status(&self) -> WebhookStatus {
            self.1
        }
        fn subscriptions(&self) -> &[Subscription] {
            &self.2
        }
    }

    fn subs(names: &[&str]) -> Vec<Subscription> {
        names.iter().map(|n| Subscription::parse(n).unwrap()).collect()
    }

    #[test]
    fn picks_enabled_webhooks_whose_filter_matches() {
        let hooks = [
            Hook("all", WebhookStatus::Enabled, subs(&["*"])),
            Hook("charges", WebhookStatus::Enabled, subs(&["charge.succeeded", "charge.failed"])),
            Hook("disputes", WebhookStatus::Enabled, subs(&["charge.dispute.closed"])),
            Hook("off", WebhookStatus::Disabled, subs(&["*"])),
        ];
        let cases = [
            ("charge.succeeded", vec!["all", "charges"]),
            ("charge.dispute.closed", vec!["all", "disputes"]),
            ("invoice.updated", vec!["all"]),
        ];
        for (event_type, expected) in cases {
            let name = EventTypeName::parse(event_type).unwrap();
            let got: Vec<&str> = recipients(&hooks, &name).iter().map(|h| h.0).collect();
            assert_eq!(got, expected, "{event_type}");
        }
    }
}
