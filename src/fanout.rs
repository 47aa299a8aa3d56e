//! Which webhooks get an event: a pure choice over the account's webhooks.
//!
//! A webhook gets an event when it is enabled, one of its subscriptions matches the event's type (`*`
//! matches every type, including types added to the catalog after the webhook was made), and its payload
//! filter, if it has one, holds for the event object. The object is read only when a filter needs it.

use std::cell::OnceCell;

use crate::domain::EventTypeName;
use crate::domain::event_type::Subscription;
use crate::domain::model::WebhookStatus;
use crate::filter::Filter;

/// The part of a webhook that fan-out looks at.
pub trait Subscriber {
    fn status(&self) -> WebhookStatus;
    fn subscriptions(&self) -> &[Subscription];
    /// The payload filter, when the webhook has one.
    fn filter(&self) -> Option<&Filter> {
        None
    }
}

impl<S: Subscriber> Subscriber for std::sync::Arc<S> {
    fn status(&self) -> WebhookStatus {
        (**self).status()
    }

    fn subscriptions(&self) -> &[Subscription] {
        (**self).subscriptions()
    }

    fn filter(&self) -> Option<&Filter> {
        (**self).filter()
    }
}

/// The event as fan-out sees it: its type, and its object as delivered (the bytes, read on demand).
pub struct Published<'a> {
    pub event_type: &'a EventTypeName,
    pub body: &'a [u8],
}

/// The subscribers, among `candidates`, that must receive `event`.
pub fn recipients<'a, S: Subscriber>(candidates: &'a [S], event: &Published<'_>) -> Vec<&'a S> {
    let object: OnceCell<serde_json::Value> = OnceCell::new();
    let read = || serde_json::from_slice(event.body).unwrap_or(serde_json::Value::Null);
    candidates
        .iter()
        .filter(|s| s.status() == WebhookStatus::Enabled)
        .filter(|s| s.subscriptions().iter().any(|sub| sub.matches(event.event_type)))
        .filter(|s| s.filter().is_none_or(|filter| filter.matches(object.get_or_init(read))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Hook(&'static str, WebhookStatus, Vec<Subscription>, Option<Filter>);

    impl Subscriber for Hook {
        fn status(&self) -> WebhookStatus {
            self.1
        }
        fn subscriptions(&self) -> &[Subscription] {
            &self.2
        }
        fn filter(&self) -> Option<&Filter> {
            self.3.as_ref()
        }
    }

    fn subs(names: &[&str]) -> Vec<Subscription> {
        names.iter().map(|n| Subscription::parse(n).unwrap()).collect()
    }

    #[test]
    fn picks_enabled_webhooks_whose_subscription_matches() {
        let hooks = [
            Hook("all", WebhookStatus::Enabled, subs(&["*"]), None),
            Hook("charges", WebhookStatus::Enabled, subs(&["charge.succeeded", "charge.failed"]), None),
            Hook("disputes", WebhookStatus::Enabled, subs(&["charge.dispute.closed"]), None),
            Hook("off", WebhookStatus::Disabled, subs(&["*"]), None),
        ];
        let cases = [
            ("charge.succeeded", vec!["all", "charges"]),
            ("charge.dispute.closed", vec!["all", "disputes"]),
            ("invoice.updated", vec!["all"]),
        ];
        for (event_type, expected) in cases {
            let name = EventTypeName::parse(event_type).unwrap();
            let event = Published { event_type: &name, body: b"{}" };
            let got: Vec<&str> = recipients(&hooks, &event).iter().map(|h| h.0).collect();
            assert_eq!(got, expected, "{event_type}");
        }
    }

    #[test]
    fn a_filter_narrows_a_subscription_to_the_events_it_holds_for() {
        let filter = |source: &str| Some(Filter::compile(source).unwrap());
        let hooks = [
            Hook("big", WebhookStatus::Enabled, subs(&["*"]), filter("resource.amount >= 10000")),
            Hook("eur", WebhookStatus::Enabled, subs(&["charge.succeeded"]), filter(r#"resource.currency == "eur""#)),
            Hook("plain", WebhookStatus::Enabled, subs(&["charge.succeeded"]), None),
        ];
        let name = EventTypeName::parse("charge.succeeded").unwrap();
        let cases: [(&[u8], Vec<&str>); 3] = [
            (br#"{"resource":{"amount":20000,"currency":"eur"}}"#, vec!["big", "eur", "plain"]),
            (br#"{"resource":{"amount":50,"currency":"usd"}}"#, vec!["plain"]),
            (b"not json", vec!["plain"]),
        ];
        for (body, expected) in cases {
            let got: Vec<&str> =
                recipients(&hooks, &Published { event_type: &name, body }).iter().map(|h| h.0).collect();
            assert_eq!(got, expected, "{}", String::from_utf8_lossy(body));
        }
    }
}
