//! What Herald counts, exposed at `GET /metrics` in the Prometheus text format.
//!
//! Labels are bounded: event types come from the operator's catalog, outcomes and status classes are
//! fixed sets; there is never a series per event, webhook or URL.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventTypeLabel {
    event_type: String,
    /// `live` or `test`.
    mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabel {
    mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ThrottledLabel {
    /// `credential` or `address`: the bucket that was empty.
    by: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    /// `succeeded`, `retrying` or `failed` (no retries left).
    outcome: &'static str,
    /// `2xx` … `5xx`, or `none` when no answer came (timeout, refused, connection error).
    status_class: &'static str,
}

/// Herald's counters, histograms and gauges; shared by the publisher, the worker and the API.
pub struct Metrics {
    registry: Registry,
    published: Family<EventTypeLabel, Counter>,
    attempts: Family<AttemptLabels, Counter>,
    attempt_duration: Histogram,
    first_attempt_latency: Histogram,
    in_flight: Gauge,
    recent: RecentAttempts,
    /// Read from the store at each scrape.
    pending: Gauge,
    due: Gauge,
    disabled: Gauge,
    store_up: Gauge,
    auth_failures: Counter,
    auth_throttled: Family<ThrottledLabel, Counter>,
    merchant_requests: Family<ModeLabel, Counter>,
    request_logs_dropped: Counter,
}

/// Attempts of the last minute, counted per second: the health page's deliveries per second.
struct RecentAttempts {
    started: Instant,
    /// (second since `started`, attempts in it), oldest first, at most a minute's worth.
    seconds: Mutex<VecDeque<(u64, u64)>>,
}

/// The window the rate is averaged over.
const RATE_WINDOW_SECONDS: u64 = 60;

impl RecentAttempts {
    fn new() -> Self {
        Self { started: Instant::now(), seconds: Mutex::new(VecDeque::new()) }
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    fn record(&self) {
        let now = self.now();
        let mut seconds = self.seconds.lock().unwrap_or_else(|p| p.into_inner());
        match seconds.back_mut() {
            Some((second, count)) if *second == now => *count += 1,
            _ => seconds.push_back((now, 1)),
        }
        while seconds.front().is_some_and(|(second, _)| second + RATE_WINDOW_SECONDS <= now) {
            seconds.pop_front();
        }
    }

    /// Attempts per second over the last full minute (or since start, if that is shorter).
    fn per_second(&self) -> f64 {
        let now = self.now();
        let seconds = self.seconds.lock().unwrap_or_else(|p| p.into_inner());
        let window = RATE_WINDOW_SECONDS.min(now).max(1);
        let counted: u64 =
            seconds.iter().filter(|(second, _)| *second < now && second + window >= now).map(|(_, n)| n).sum();
        counted as f64 / window as f64
    }
}

/// How an attempt ended, for the attempt counter.
#[derive(Clone, Copy, Debug)]
pub enum AttemptEnd {
    Succeeded,
    Retrying,
    Failed,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("herald");
        let published = Family::<EventTypeLabel, Counter>::default();
        registry.register("events_published", "Events accepted by the publish API", published.clone());
        let attempts = Family::<AttemptLabels, Counter>::default();
        registry.register("delivery_attempts", "Delivery attempts by outcome and status class", attempts.clone());
        // 1 ms to about 33 s.
        let attempt_duration = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register("attempt_duration_seconds", "Time one HTTP attempt took", attempt_duration.clone());
        // 1 ms to about 9 hours: first attempts may wait behind a rate limit or an outage.
        let first_attempt_latency = Histogram::new(exponential_buckets(0.001, 3.0, 16));
        registry.register(
            "publish_to_first_attempt_seconds",
            "Time from an event's publication to the end of its first delivery attempt",
            first_attempt_latency.clone(),
        );
        let in_flight = Gauge::default();
        registry.register("attempts_in_flight", "Delivery attempts being made right now", in_flight.clone());
        let recent = RecentAttempts::new();
        let [pending, due, disabled, store_up] = std::array::from_fn(|_| Gauge::default());
        registry.register("deliveries_pending", "Deliveries waiting for an attempt, due now or later", pending.clone());
        registry.register("deliveries_due", "Deliveries whose time has come and that no worker holds", due.clone());
        registry.register("webhooks_disabled", "Webhooks disabled by their merchant or by Herald", disabled.clone());
        registry.register("store_up", "1 when the last scrape could read the store, else 0", store_up.clone());
        let auth_failures = Counter::default();
        registry.register("auth_failures", "Failed authentications (API and dashboard)", auth_failures.clone());
        let auth_throttled = Family::<ThrottledLabel, Counter>::default();
        registry.register(
            "auth_throttled",
            "Requests refused with 429 after too many failed authentications, by the bucket that was empty",
            auth_throttled.clone(),
        );
        let merchant_requests = Family::<ModeLabel, Counter>::default();
        registry.register(
            "merchant_requests",
            "Merchant API requests (and dashboard forms) by the mode of their key",
            merchant_requests.clone(),
        );
        let request_logs_dropped = Counter::default();
        registry.register(
            "request_logs_dropped",
            "Request log records dropped because the store did not keep up",
            request_logs_dropped.clone(),
        );
        Self {
            registry,
            published,
            attempts,
            attempt_duration,
            first_attempt_latency,
            in_flight,
            recent,
            pending,
            due,
            disabled,
            store_up,
            auth_failures,
            auth_throttled,
            merchant_requests,
            request_logs_dropped,
        }
    }
}

impl Metrics {
    pub fn auth_failed(&self) {
        self.auth_failures.inc();
    }

    pub fn request_log_dropped(&self) {
        self.request_logs_dropped.inc();
    }

    /// `mode`: `live` or `test`.
    pub fn request_logged(&self, mode: &'static str) {
        self.merchant_requests.get_or_create(&ModeLabel { mode }).inc();
    }

    pub fn auth_throttled(&self, by: &'static str) {
        self.auth_throttled.get_or_create(&ThrottledLabel { by }).inc();
    }

    /// `mode`: `live` or `test`.
    pub fn event_published(&self, event_type: &str, mode: &'static str) {
        self.published.get_or_create(&EventTypeLabel { event_type: event_type.to_owned(), mode }).inc();
    }

    /// Counts a finished attempt; `since_publish` is given for first attempts.
    pub fn attempt_finished(
        &self,
        end: AttemptEnd,
        status: Option<u16>,
        took: Duration,
        since_publish: Option<Duration>,
    ) {
        let outcome = match end {
            AttemptEnd::Succeeded => "succeeded",
            AttemptEnd::Retrying => "retrying",
            AttemptEnd::Failed => "failed",
        };
        let status_class = match status {
            Some(200..=299) => "2xx",
            Some(300..=399) => "3xx",
            Some(400..=499) => "4xx",
            Some(500..=599) => "5xx",
            Some(_) => "other",
            None => "none",
        };
        self.attempts.get_or_create(&AttemptLabels { outcome, status_class }).inc();
        self.recent.record();
        self.attempt_duration.observe(took.as_secs_f64());
        if let Some(latency) = since_publish {
            self.first_attempt_latency.observe(latency.as_secs_f64());
        }
    }

    /// Counts an attempt in flight until the returned guard is dropped.
    pub fn attempt_started(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight(&self.in_flight)
    }

    /// What the store said at this scrape: (pending, due, disabled), or `None` when it could not be read (the
    /// three gauges then keep their last values and `herald_store_up` drops to 0).
    pub fn set_store_state(&self, state: Option<(u64, u64, u64)>) {
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        match state {
            Some((pending, due, disabled)) => {
                self.pending.set(gauge(pending));
                self.due.set(gauge(due));
                self.disabled.set(gauge(disabled));
                self.store_up.set(1);
            }
            None => {
                self.store_up.set(0);
            }
        }
    }

    /// Attempts this process made per second, averaged over the last minute.
    pub fn attempts_per_second(&self) -> f64 {
        self.recent.per_second()
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("writing to a String");
        text
    }
}

/// Decrements the in-flight gauge when the attempt ends, however it ends.
pub struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_appear_in_the_exposition_with_bounded_labels() {
        let metrics = Metrics::default();
        metrics.event_published("charge.succeeded", "live");
        metrics.event_published("charge.succeeded", "live");
        let guard = metrics.attempt_started();
        assert!(metrics.render().contains("herald_attempts_in_flight 1"));
        drop(guard);
        metrics.attempt_finished(
            AttemptEnd::Retrying,
            Some(503),
            Duration::from_millis(5),
            Some(Duration::from_millis(9)),
        );
        let text = metrics.render();
        assert!(
            text.contains("herald_events_published_total{event_type=\"charge.succeeded\",mode=\"live\"} 2"),
            "{text}"
        );
        assert!(text.contains("herald_delivery_attempts_total{outcome=\"retrying\",status_class=\"5xx\"} 1"), "{text}");
        assert!(text.contains("herald_attempt_duration_seconds_count 1"), "{text}");
        assert!(text.contains("herald_publish_to_first_attempt_seconds_count 1"), "{text}");
        assert!(text.contains("herald_attempts_in_flight 0"), "{text}");
    }
}
