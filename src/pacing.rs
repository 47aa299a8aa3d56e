//! Which of a paced webhook's waiting deliveries may start now, and when each may send (pure).
//!
//! A webhook with a rate limit, a concurrency cap or FIFO ordering is *paced*: its deliveries do not go
//! straight to a worker but wait for the claim, which asks [`admit`] how many may go. Concurrency is
//! counted from the deliveries already leased; the rate is a schedule of send slots one interval apart,
//! kept as the webhook's `next_slot_at` so that every node (on PostgreSQL) draws from the same schedule.
//! Slots up to [`HORIZON`] ahead are handed out at once; the worker waits for its slot before sending, so
//! the pace is exact however often the poller runs.

use std::time::Duration;

use crate::domain::Timestamp;
use crate::domain::delivery_policy::DeliveryPolicy;

/// How far ahead slots are handed out in one claim.
pub const HORIZON: Duration = Duration::from_secs(1);

/// What the claim may do for one webhook.
#[derive(Debug, PartialEq, Eq)]
pub struct Admission {
    /// One send time per admitted delivery, in order; `now` when there is no rate limit.
    pub slots: Vec<Timestamp>,
    /// The rate schedule after these slots (unchanged when nothing was admitted or there is no rate).
    pub next_slot_at: Option<Timestamp>,
}

/// Admits up to `waiting` deliveries of a webhook with `policy`, of which `in_flight` are already leased.
pub fn admit(
    policy: &DeliveryPolicy,
    in_flight: u32,
    next_slot_at: Option<Timestamp>,
    waiting: usize,
    now: Timestamp,
) -> Admission {
    let room = policy.concurrency().map_or(waiting, |cap| cap.saturating_sub(in_flight) as usize).min(waiting);
    let Some(rate) = policy.rate_limit.filter(|rate| *rate > 0) else {
        return Admission { slots: vec![now; room], next_slot_at };
    };
    let interval_ms = 1000.0 / f64::from(rate);
    // An idle webhook does not bank slots: the schedule restarts at now.
    let start = next_slot_at.filter(|at| *at > now).unwrap_or(now);
    let last_allowed = now.plus(HORIZON);
    let slot = |k: usize| Timestamp::from_millis(start.as_millis() + (k as f64 * interval_ms).round() as i64);
    let slots: Vec<Timestamp> = (0..room).map(slot).take_while(|at| *at <= last_allowed).collect();
    let next = if slots.is_empty() { next_slot_at } else { Some(slot(slots.len())) };
    Admission { slots, next_slot_at: next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::delivery_policy::DeliveryOrder;

    const NOW: Timestamp = Timestamp::from_millis(1_000_000);

    fn policy(rate: Option<u32>, cap: Option<u32>, ordering: DeliveryOrder) -> DeliveryPolicy {
        DeliveryPolicy { rate_limit: rate, max_in_flight: cap, ordering, ..DeliveryPolicy::default() }
    }

    #[test]
    fn a_concurrency_cap_counts_what_is_already_in_flight() {
        let capped = policy(None, Some(3), DeliveryOrder::Unordered);
        assert_eq!(admit(&capped, 1, None, 10, NOW).slots, vec![NOW; 2]);
        assert!(admit(&capped, 3, None, 10, NOW).slots.is_empty());
        assert_eq!(admit(&capped, 0, None, 1, NOW).slots.len(), 1, "never more than are waiting");
    }

    #[test]
    fn fifo_admits_one_only_when_nothing_is_in_flight() {
        let fifo = policy(None, Some(10), DeliveryOrder::Fifo);
        assert_eq!(admit(&fifo, 0, None, 5, NOW).slots, vec![NOW]);
        assert!(admit(&fifo, 1, None, 5, NOW).slots.is_empty());
    }

    #[test]
    fn a_rate_hands_out_slots_one_interval_apart_up_to_the_horizon() {
        let twenty = policy(Some(20), None, DeliveryOrder::Unordered);
        let first = admit(&twenty, 0, None, 100, NOW);
        assert_eq!(first.slots.len(), 21, "0, 50, …, 1000 ms");
        assert_eq!(first.slots[1], Timestamp::from_millis(1_000_050));
        assert_eq!(first.next_slot_at, Some(Timestamp::from_millis(1_001_050)));
        // The next claim continues the schedule rather than starting again.
        let later = NOW.plus(Duration::from_millis(100));
        let second = admit(&twenty, 21, first.next_slot_at, 100, later);
        assert_eq!(second.slots.first(), Some(&Timestamp::from_millis(1_001_050)));
        assert_eq!(second.slots.len(), 2, "only 1,001,050 and 1,001,100: within the later claim's horizon");
        // Slots beyond the horizon leave the schedule as it was.
        let full = admit(&twenty, 0, Some(NOW.plus(Duration::from_secs(5))), 100, NOW);
        assert_eq!(full, Admission { slots: vec![], next_slot_at: Some(NOW.plus(Duration::from_secs(5))) });
    }

    #[test]
    fn an_idle_webhook_does_not_bank_slots() {
        let five = policy(Some(5), None, DeliveryOrder::Unordered);
        let admitted = admit(&five, 0, Some(Timestamp::from_millis(0)), 100, NOW);
        assert_eq!(admitted.slots[0], NOW);
        assert_eq!(admitted.slots.len(), 6, "0, 200, …, 1000 ms: no burst from the idle past");
    }

    #[test]
    fn an_unpaced_webhook_admits_everything_now() {
        assert_eq!(admit(&DeliveryPolicy::default(), 50, None, 4, NOW).slots, vec![NOW; 4]);
    }
}
