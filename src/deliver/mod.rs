//! The delivery worker: takes claimed deliveries, makes each attempt, logs it and schedules what follows.
//!
//! Work arrives two ways. The publisher hands freshly committed deliveries over in memory ([`queue`]), so
//! they go out at once. The poller claims whatever is due in the database under a lease: retries whose time
//! has come, deliveries the publisher could not hand over, and anything a crashed process left behind. It
//! sleeps until the earliest due time it knows of, at most one poll interval, or until woken; nothing
//! depends on a wake-up arriving. Concurrency is bounded by a semaphore of `max_in_flight` permits.
//!
//! `deliver` uses `store` (the contract, never SQL), the pure policy modules (`retry`, `attempt_log`,
//! `fanout` for what a target subscribes to), `keyring` and `paypal_identity` (to open targets' keys),
//! `notices` (to report health changes), `metrics`, `error_chain` and `herald-signature`. It knows nothing
//! of the HTTP API.

pub mod broker;
pub mod destination;
pub mod egress;
pub mod endpoint_auth;
pub mod format;
pub mod gate;
pub mod http_client;
pub mod queue;
pub mod resolve;
pub mod send;
pub mod target;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::attempt_log;
use crate::domain::{Timestamp, WebhookId};
use crate::keyring::Keyring;
use crate::metrics::{AttemptEnd, Metrics};
use crate::notices::{About, LastAttempt, Notice, Notices};
use crate::paypal_identity::PaypalIdentities;
use crate::retry::{self, Decision, RetrySchedule};
use crate::store::{
    AttemptRecord, ClaimRequest, DeliveryTransition, FailingLimit, HealthChange, Lease, RecordOutcome, Store,
};
use crate::telemetry::{AttemptAbout, Telemetry};
use queue::{DeliveryJob, JobQueue, JobReceiver};
use send::{SendLimits, Sender};
use target::Target;

/// The most deliveries the poller claims in one round.
const CLAIM_BATCH: usize = 256;

/// How the worker behaves.
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    pub schedule: RetrySchedule,
    pub limits: SendLimits,
    pub max_in_flight: usize,
    /// How long a claim holds. A job that could not finish its attempt within its lease is left for the
    /// poller, so an attempt never outlives the claim it was made under.
    pub lease_duration: Duration,
    pub poll_interval: Duration,
    pub shutdown_grace: Duration,
    /// How long a webhook may fail every attempt before it is disabled; zero never disables.
    pub disable_after: Duration,
    /// Where health changes and exhausted deliveries are reported (nowhere without an operator URL).
    pub notices: Notices,
    /// Makes each attempt's span.
    pub telemetry: Telemetry,
}

impl DeliveryConfig {
    /// The configured lease, but never shorter than four attempts, so that only a dead (or stalled)
    /// process lets one run out.
    pub fn lease_for(configured: Duration, timeout: Duration) -> Duration {
        configured.max(timeout * 4)
    }
}

/// What the attempt tasks share.
struct Worker {
    store: Arc<dyn Store>,
    /// Asked just before each request goes out.
    gate: gate::SendGate,
    keyring: Arc<Keyring>,
    paypal: Arc<PaypalIdentities>,
    sender: Sender,
    queue: JobQueue,
    config: DeliveryConfig,
    metrics: Arc<Metrics>,
}

/// The running delivery machinery; [`Deliverer::run`] drives it until shutdown.
pub struct Deliverer {
    worker: Arc<Worker>,
    receiver: JobReceiver,
}

impl Deliverer {
    /// Builds the worker and the queue the publisher hands deliveries to.
    pub fn new(
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        paypal: Arc<PaypalIdentities>,
        metrics: Arc<Metrics>,
        config: DeliveryConfig,
    ) -> Result<(Self, JobQueue), send::SenderError> {
        let (queue, receiver) = queue::channel(config.max_in_flight * 4);
        let sender = Sender::new(config.limits.clone())?;
        let gate = gate::SendGate::spawn(store.clone());
        let worker = Arc::new(Worker { store, gate, keyring, paypal, sender, queue: queue.clone(), metrics, config });
        Ok((Self { worker, receiver }, queue))
    }

    /// The HTTP sender, for one-off sends that are not deliveries (simulations to a bare URL).
    pub fn sender(&self) -> Sender {
        self.worker.sender.clone()
    }

    /// Delivers until `shutdown`, then lets in-flight attempts finish for up to the shutdown grace.
    pub async fn run(self, shutdown: CancellationToken) {
        let JobReceiver { mut jobs, poller } = self.receiver;
        let remote = self.worker.store.work_signal();
        let poll_task = tokio::spawn(poll(self.worker.clone(), poller, remote, shutdown.clone()));
        let in_flight = TaskTracker::new();
        let permits = Arc::new(Semaphore::new(self.worker.config.max_in_flight));
        loop {
            let job = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                job = jobs.recv() => match job { Some(job) => job, None => break },
            };
            let permit = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            };
            let (worker, permits) = (self.worker.clone(), permits.clone());
            in_flight.spawn(async move {
                // A paced delivery waits for its slot without holding a worker's place.
                let permit = match job.not_before.map(|at| at.since(Timestamp::now())).filter(|w| !w.is_zero()) {
                    Some(wait) => {
                        drop(permit);
                        tokio::time::sleep(wait).await;
                        permits.acquire_owned().await.expect("the semaphore is never closed")
                    }
                    None => permit,
                };
                worker.attempt(job).await;
                drop(permit);
            });
        }
        in_flight.close();
        let grace = self.worker.config.shutdown_grace;
        if tokio::time::timeout(grace, in_flight.wait()).await.is_err() {
            tracing::warn!(attempts = in_flight.len(), "shutdown grace ran out with attempts in flight");
        }
        let _ = poll_task.await;
    }
}

impl Worker {
    async fn attempt(&self, job: DeliveryJob) {
        let span = tracing::info_span!(
            "attempt",
            event.id = %job.event_id,
            webhook.id = %job.target.webhook_id,
            delivery.id = %job.delivery_id,
            attempt.n = job.attempt_number,
            trace.id = job.trace.as_ref().map(|t| t.trace_id())
        );
        self.attempt_in_span(job).instrument(span).await;
    }

    async fn attempt_in_span(&self, job: DeliveryJob) {
        if Timestamp::now().plus(self.config.limits.total_timeout) > job.lease.until {
            tracing::debug!("lease too close to its end; the poller will claim the delivery again");
            return;
        }
        if !self.gate.may_send(job.target.webhook_id.clone()).await {
            tracing::info!("not sent: the webhook was disabled or deleted");
            return;
        }
        // The look may have waited behind a slow store; the attempt must still end inside the lease.
        if Timestamp::now().plus(self.config.limits.total_timeout) > job.lease.until {
            tracing::debug!("lease too close to its end after the last look; the poller will claim it again");
            return;
        }
        let about = AttemptAbout {
            event_id: job.event_id.as_str(),
            webhook_id: job.target.webhook_id.as_str(),
            delivery_id: job.delivery_id.as_str(),
            number: job.attempt_number,
            url: job.target.url.as_str(),
            http: job.target.broker.is_none(),
        };
        let span = self.config.telemetry.attempt(job.trace.as_ref(), &about);
        let in_flight = self.metrics.attempt_started();
        let exchange = self.sender.attempt(&job, span.outgoing()).await;
        drop(in_flight);
        let (attempt, outcome) = attempt_log::record(exchange);
        let took = Duration::from_millis(attempt.duration_ms);
        let status_code = attempt.response.as_ref().map(|r| r.status);
        let error_code = attempt.error.as_ref().map(|e| e.code.clone());
        let jitter_draw = rand::random_range(-1.0..=1.0);
        let schedule = if job.single_attempt { &RetrySchedule::NONE } else { &self.config.schedule };
        let decision = retry::next_attempt_at(schedule, job.attempt_number, outcome, Timestamp::now(), jitter_draw);
        let (transition, disable_webhook) = match decision {
            Decision::Succeeded => (DeliveryTransition::Succeeded, None),
            Decision::RetryAt(at) => (DeliveryTransition::RetryAt(at), None),
            Decision::Exhausted => (DeliveryTransition::Exhausted, None),
            Decision::DisableWebhook { retry_at } => {
                (DeliveryTransition::RetryAt(retry_at), Some("the endpoint answered 410 Gone".to_owned()))
            }
        };
        tracing::debug!(status = ?status_code, ?transition, "attempt made");
        let end = match transition {
            DeliveryTransition::Succeeded => AttemptEnd::Succeeded,
            DeliveryTransition::RetryAt(_) => AttemptEnd::Retrying,
            DeliveryTransition::Exhausted => AttemptEnd::Failed,
        };
        span.finish(&crate::telemetry::AttemptEnd {
            status: status_code,
            error: error_code.as_deref(),
            outcome: match end {
                AttemptEnd::Succeeded => "delivered",
                AttemptEnd::Retrying => "retrying",
                AttemptEnd::Failed => "failed",
            },
            duration: took,
        });
        let since_publish = (job.attempt_number == 1).then(|| Timestamp::now().since(job.event_id.created_at()));
        self.metrics.attempt_finished(end, status_code, took, since_publish);
        // Only a failure can end a failing streak in a disable; a success needs no cutoff.
        let failing_limit = (transition != DeliveryTransition::Succeeded).then(|| self.failing_limit()).flatten();
        let lease_token = job.lease.token;
        let event_id = job.event_id.clone();
        let record =
            AttemptRecord { attempt, event_id, status_code, lease_token, transition, disable_webhook, failing_limit };
        match self.store.record_attempt(record).await {
            Ok(RecordOutcome::Applied(health)) => {
                // A paced webhook's next delivery may go now that this one is done.
                if job.target.policy.paces() || matches!(transition, DeliveryTransition::RetryAt(_)) {
                    self.queue.wake_poller();
                }
                let exhausted = transition == DeliveryTransition::Exhausted;
                self.report_health(&job, health, &LastAttempt { status: status_code, error_code }, exhausted);
            }
            Ok(RecordOutcome::Stale) => tracing::info!("the delivery was claimed again or cancelled meanwhile"),
            // The lease stays; when it runs out the delivery is attempted again (at least once, never lost).
            Err(error) => tracing::error!(error = %error, "could not record an attempt"),
        }
    }

    /// The failing streak after which a webhook is disabled, as of now.
    fn failing_limit(&self) -> Option<FailingLimit> {
        let period = self.config.disable_after;
        if period.is_zero() {
            return None;
        }
        let since_before = Timestamp::from_millis(Timestamp::now().as_millis() - period.as_millis() as i64);
        let reason = format!("every attempt failed for {}", humantime::format_duration(period));
        Some(FailingLimit { since_before, reason })
    }

    /// Logs a change of the webhook's health and reports it (and an exhausted delivery) to the operator.
    fn report_health(&self, job: &DeliveryJob, health: HealthChange, last: &LastAttempt, exhausted: bool) {
        match &health {
            HealthChange::Unchanged => {}
            HealthChange::StartedFailing => tracing::info!("the webhook started failing"),
            HealthChange::Recovered => tracing::info!("the webhook recovered"),
            HealthChange::Disabled(reason) => tracing::warn!(reason = %reason, "the webhook was disabled"),
        }
        let target = &job.target;
        let notices = &self.config.notices;
        if !notices.watches(&target.account_id) {
            return;
        }
        let about = About { webhook_id: &target.webhook_id, account_id: &target.account_id, url: target.url.as_str() };
        if let Some(notice) = Notice::of_health(&about, &health, last) {
            notices.report(notice);
        }
        if exhausted && !job.single_attempt {
            notices.report(Notice::exhausted(&about, &job.delivery_id, &job.event_id, job.attempt_number, last));
        }
    }

    /// Claims due deliveries into the room left in the queue.
    async fn claim_round(&self) -> Result<ClaimRound, crate::store::StoreError> {
        let wanted = self.queue.room().min(CLAIM_BATCH);
        let Some(reservation) = self.queue.try_reserve(wanted) else { return Ok(ClaimRound::NoRoom) };
        let now = Timestamp::now();
        let lease = Lease { token: rand::random(), until: now.plus(self.config.lease_duration) };
        let claimed = self.store.claim_due_deliveries(ClaimRequest { now, lease, limit: wanted as u32 }).await?;
        let count = claimed.len();
        // Without the PayPal key, `paypal` deliveries are skipped below and retried when their lease ends.
        let paypal = self.paypal.for_targets(claimed.iter().map(|d| &d.target)).await.unwrap_or_else(|error| {
            tracing::error!(error = %error, "cannot load the installation's PayPal signing key");
            None
        });
        let mut targets: HashMap<WebhookId, Arc<Target>> = HashMap::new();
        let mut jobs = Vec::with_capacity(count);
        for delivery in claimed {
            let target = match targets.get(&delivery.target.webhook_id) {
                Some(target) => target.clone(),
                None => match Target::open(&delivery.target, &self.keyring, paypal.as_ref()) {
                    Ok(target) => targets.entry(delivery.target.webhook_id.clone()).or_insert(Arc::new(target)).clone(),
                    Err(error) => {
                        tracing::error!(error = %error, delivery.id = %delivery.delivery_id, "cannot prepare the webhook's signing keys");
                        continue;
                    }
                },
            };
            jobs.push(DeliveryJob {
                delivery_id: delivery.delivery_id,
                event_id: delivery.event_id,
                trigger: delivery.trigger,
                single_attempt: delivery.single_attempt,
                attempt_number: delivery.attempt_count + 1,
                lease,
                body: delivery.body,
                trace: delivery.trace,
                target,
                not_before: delivery.not_before,
            });
        }
        reservation.send(jobs);
        Ok(if count == wanted { ClaimRound::Full } else { ClaimRound::CaughtUp })
    }
}

/// What one claim round found, which decides how long the poller waits.
enum ClaimRound {
    /// It claimed a whole batch: there may be more due right now.
    Full,
    /// It claimed everything that was due.
    CaughtUp,
    /// The workers are busy; the queue has no room for more.
    NoRoom,
}

/// The poller's loop: claim what is due, then sleep until the next due time, a wake-up or the interval.
async fn poll(
    worker: Arc<Worker>,
    wake: Arc<tokio::sync::Notify>,
    remote: Option<Arc<tokio::sync::Notify>>,
    shutdown: CancellationToken,
) {
    let interval = worker.config.poll_interval;
    loop {
        let wait = match worker.claim_round().await {
            Ok(ClaimRound::Full) => continue,
            Ok(ClaimRound::NoRoom) => interval.min(Duration::from_millis(50)),
            Ok(ClaimRound::CaughtUp) => match worker.store.next_due_at(Timestamp::now()).await {
                Ok(Some(due)) => due.since(Timestamp::now()).clamp(Duration::from_millis(1), interval),
                Ok(None) => interval,
                Err(error) => {
                    tracing::warn!(error = %error, "could not read the next due time");
                    interval
                }
            },
            Err(error) => {
                tracing::warn!(error = %error, "could not claim due deliveries; will try again");
                interval
            }
        };
        let remote_wake = async {
            match &remote {
                Some(signal) => signal.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = wake.notified() => {},
            _ = remote_wake => {},
            _ = tokio::time::sleep(wait) => {},
        }
    }
}
