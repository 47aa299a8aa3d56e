//! The in-memory hand-off from the publisher (and the poller) to the delivery workers.
//!
//! The publish path knows exactly which deliveries it just committed, so it hands them over here instead of
//! making a worker find them again in the database. The queue is bounded: a publisher first reserves room
//! for all its deliveries; with room, they are stored already leased to this process and sent after the
//! commit; without room, they are stored unleased and the poller is woken to claim them when workers are
//! free. Either way the database row is the truth, so a lost hand-off costs a delay, never a delivery.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{Notify, mpsc};

use super::target::Target;
use crate::domain::model::Trigger;
use crate::domain::{DeliveryId, EventId, Timestamp};
use crate::store::Lease;

/// One attempt to make: a claimed delivery with its body and target.
#[derive(Debug)]
pub struct DeliveryJob {
    pub delivery_id: DeliveryId,
    pub event_id: EventId,
    pub trigger: Trigger,
    /// Make one attempt and no retries (simulated events).
    pub single_attempt: bool,
    /// The number this attempt will have (1 for the first).
    pub attempt_number: u32,
    pub lease: Lease,
    pub body: Bytes,
    /// The publisher's trace, which the attempt's request continues.
    pub trace: Option<crate::domain::trace::TraceContext>,
    pub target: Arc<Target>,
    /// A paced delivery's send slot: the worker waits until then.
    pub not_before: Option<Timestamp>,
}

/// The sending side, shared by the publisher and the poller.
#[derive(Clone)]
pub struct JobQueue {
    jobs: mpsc::Sender<DeliveryJob>,
    /// Wakes the poller: unleased work was stored, or a retry was scheduled.
    poller: Arc<Notify>,
}

/// The receiving side, owned by the worker loop.
pub struct JobReceiver {
    pub(super) jobs: mpsc::Receiver<DeliveryJob>,
    pub(super) poller: Arc<Notify>,
}

/// Room reserved in the queue for a known number of jobs.
pub struct Reservation<'a> {
    permits: mpsc::PermitIterator<'a, DeliveryJob>,
}

impl Reservation<'_> {
    /// Hands the jobs over; there is room for exactly as many as were reserved.
    pub fn send(self, jobs: impl IntoIterator<Item = DeliveryJob>) {
        for (permit, job) in self.permits.zip(jobs) {
            permit.send(job);
        }
    }
}

pub fn channel(capacity: usize) -> (JobQueue, JobReceiver) {
    let (jobs, receiver) = mpsc::channel(capacity.max(1));
    let poller = Arc::new(Notify::new());
    (JobQueue { jobs, poller: poller.clone() }, JobReceiver { jobs: receiver, poller })
}

impl JobQueue {
    /// Reserves room for `count` jobs, or `None` if the workers are too far behind.
    pub fn try_reserve(&self, count: usize) -> Option<Reservation<'_>> {
        if count == 0 {
            return None;
        }
        self.jobs.try_reserve_many(count).ok().map(|permits| Reservation { permits })
    }

    /// Room left right now, for the poller to size its claims.
    pub fn room(&self) -> usize {
        self.jobs.capacity()
    }

    /// Tells the poller to look at the database now rather than at its next tick.
    pub fn wake_poller(&self) {
        self.poller.notify_one();
    }
}
