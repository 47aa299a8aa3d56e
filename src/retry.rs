//! When to try a delivery again: a pure function of the schedule, the attempt and its outcome.
//!
//! The schedule lists the delays after the first attempt (`5s,5m,30m,2h,5h,10h,14h,20h,24h` by default,
//! about three days in all). Each delay is spread by ±20 % jitter so that a receiver that comes back up is
//! not hit by every retry at once. The caller passes the clock and the random draw, so every decision here
//! can be tested with a table of cases.

use std::str::FromStr;
use std::time::Duration;

use crate::domain::Timestamp;

/// The longest a receiver's `Retry-After` can push a retry back.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The delays between attempts, and how much each may be spread.
#[derive(Clone, Debug, PartialEq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
    /// The fraction of a delay that jitter may add or remove (0.2 = ±20 %).
    jitter: f64,
}

/// Why a schedule string was not understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("\"{0}\" is not a duration (use forms like 5s, 500ms, 5m, 2h)")]
pub struct ScheduleError(String);

impl Default for RetrySchedule {
    fn default() -> Self {
        "5s,5m,30m,2h,5h,10h,14h,20h,24h".parse().expect("the default schedule parses")
    }
}

impl FromStr for RetrySchedule {
    type Err = ScheduleError;

    /// Parses a comma-separated list of delays; an empty string means "never retry".
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let delays = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| humantime::parse_duration(part).map_err(|_| ScheduleError(part.to_owned())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { delays, jitter: 0.2 })
    }
}

impl RetrySchedule {
    /// One attempt, no retries.
    pub const NONE: Self = Self { delays: Vec::new(), jitter: 0.0 };

    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// How many attempts a delivery gets in all: the first, then one per delay.
    pub fn max_attempts(&self) -> u32 {
        self.delays.len() as u32 + 1
    }
}

/// What one attempt came to, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Delivered,
    /// 410 Gone: the receiver says the endpoint is gone for good.
    Gone,
    /// Any other status, a timeout or a connection error. `retry_after` is the receiver's
    /// `Retry-After` on a 429 or 503, if it sent one.
    Failed { retry_after: Option<Duration> },
    /// A failure whose answer carried `webhook-delivery: abort`: the receiver asks for no more retries of
    /// this delivery.
    Aborted,
}

/// What happens to the delivery next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Succeeded,
    RetryAt(Timestamp),
    /// Every attempt of the schedule was used.
    Exhausted,
    /// Stop delivering to this webhook at all (it answered 410); the delivery waits for re-enabling.
    DisableWebhook {
        retry_at: Timestamp,
    },
}

/// Decides what follows attempt number `attempt` (1-based) of a delivery.
///
/// `jitter_draw` is a random number in `[-1, 1]`; the delay is scaled by `1 + jitter * jitter_draw`. A
/// `Retry-After` can only lengthen the wait, up to [`MAX_RETRY_AFTER`], so a receiver cannot make Herald
/// retry faster than the schedule.
pub fn next_attempt_at(
    schedule: &RetrySchedule,
    attempt: u32,
    outcome: AttemptOutcome,
    now: Timestamp,
    jitter_draw: f64,
) -> Decision {
    let retry_after = match outcome {
        AttemptOutcome::Delivered => return Decision::Succeeded,
        AttemptOutcome::Aborted => return Decision::Exhausted,
        AttemptOutcome::Gone => None,
        AttemptOutcome::Failed { retry_after } => retry_after,
    };
    let Some(&base) = schedule.delays.get(attempt.saturating_sub(1) as usize) else {
        return match outcome {
            AttemptOutcome::Gone => Decision::DisableWebhook { retry_at: now },
            _ => Decision::Exhausted,
        };
    };
    let factor = 1.0 + schedule.jitter * jitter_draw.clamp(-1.0, 1.0);
    let jittered = base.mul_f64(factor);
    let delay = retry_after.map_or(jittered, |asked| jittered.max(asked.min(MAX_RETRY_AFTER)));
    let retry_at = now.plus(delay);
    match outcome {
        AttemptOutcome::Gone => Decision::DisableWebhook { retry_at },
        _ => Decision::RetryAt(retry_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_000_000);
    const FAILED: AttemptOutcome = AttemptOutcome::Failed { retry_after: None };

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn the_default_schedule_spans_about_three_days_in_ten_attempts() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.max_attempts(), 10);
        let total: Duration = schedule.delays.iter().sum();
        assert!(total > secs(3 * 24 * 3600) && total < secs(4 * 24 * 3600), "{total:?}");
    }

    #[test]
    fn decisions_follow_the_schedule() {
        let schedule: RetrySchedule = "5s,5m".parse::<RetrySchedule>().unwrap().with_jitter(0.0);
        let cases = [
            (1, AttemptOutcome::Delivered, Decision::Succeeded),
            (1, AttemptOutcome::Aborted, Decision::Exhausted),
            (1, FAILED, Decision::RetryAt(NOW.plus(secs(5)))),
            (2, FAILED, Decision::RetryAt(NOW.plus(secs(300)))),
            (3, FAILED, Decision::Exhausted),
            (3, AttemptOutcome::Delivered, Decision::Succeeded),
            (1, AttemptOutcome::Gone, Decision::DisableWebhook { retry_at: NOW.plus(secs(5)) }),
            (3, AttemptOutcome::Gone, Decision::DisableWebhook { retry_at: NOW }),
        ];
        for (attempt, outcome, expected) in cases {
            assert_eq!(next_attempt_at(&schedule, attempt, outcome, NOW, 0.0), expected, "{attempt} {outcome:?}");
        }
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let schedule: RetrySchedule = "100s".parse().unwrap();
        let at = |draw| next_attempt_at(&schedule, 1, FAILED, NOW, draw);
        assert_eq!(at(-1.0), Decision::RetryAt(NOW.plus(secs(80))));
        assert_eq!(at(1.0), Decision::RetryAt(NOW.plus(secs(120))));
        assert_eq!(at(7.0), Decision::RetryAt(NOW.plus(secs(120))), "draws are clamped");
    }

    #[test]
    fn retry_after_only_lengthens_and_is_capped() {
        let schedule: RetrySchedule = "10s".parse::<RetrySchedule>().unwrap().with_jitter(0.0);
        let with = |asked| AttemptOutcome::Failed { retry_after: Some(asked) };
        assert_eq!(next_attempt_at(&schedule, 1, with(secs(60)), NOW, 0.0), Decision::RetryAt(NOW.plus(secs(60))));
        assert_eq!(next_attempt_at(&schedule, 1, with(secs(1)), NOW, 0.0), Decision::RetryAt(NOW.plus(secs(10))));
        let far = next_attempt_at(&schedule, 1, with(secs(10 * 24 * 3600)), NOW, 0.0);
        assert_eq!(far, Decision::RetryAt(NOW.plus(MAX_RETRY_AFTER)));
    }

    #[test]
    fn schedules_parse_from_configuration() {
        let schedule: RetrySchedule = " 500ms, 2s ,1h".parse().unwrap();
        assert_eq!(schedule.delays, vec![Duration::from_millis(500), secs(2), secs(3600)]);
        assert_eq!("".parse::<RetrySchedule>().unwrap().max_attempts(), 1);
        assert_eq!("5s,soon".parse::<RetrySchedule>(), Err(ScheduleError("soon".into())));
    }
}
