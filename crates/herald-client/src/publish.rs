//! Publishing as the operator: every publish carries an `Idempotency-Key` (a random one unless the caller
//! gives its own) and keeps it across retries, so a retry after a lost answer never publishes twice. A 429
//! or 503 is retried after what `Retry-After` says, a broken connection after a backoff, within
//! [`RetryPolicy`]; any other refusal is returned at once.

use std::time::Duration;

use crate::{Herald, HeraldError, types};

/// How publishes are retried.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub max_tries: u32,
    /// The wait before the second try when the answer named none; it doubles each time.
    pub backoff: Duration,
    /// The longest wait, whatever `Retry-After` asks.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_tries: 5, backoff: Duration::from_millis(500), max_wait: Duration::from_secs(30) }
    }
}

impl RetryPolicy {
    /// The wait before try `next` (2 or more) after `error`, or `None` when it is not worth retrying.
    fn wait_before(&self, next: u32, error: &HeraldError) -> Option<Duration> {
        let asked = match error {
            HeraldError::Refused(refusal) if matches!(refusal.status, 429 | 503) => refusal.retry_after,
            // The key makes a retry safe even if the lost answer was a success.
            HeraldError::Unreachable(_) => None,
            _ => return None,
        };
        if next > self.max_tries {
            return None;
        }
        let backoff = self.backoff.saturating_mul(1 << (next - 2).min(16));
        Some(asked.unwrap_or(backoff).min(self.max_wait))
    }
}

impl Herald {
    /// Publishes one event (`POST /v1/events`) with a new idempotency key.
    pub async fn publish(&self, event: &types::PublishEvent) -> Result<types::Envelope, HeraldError> {
        self.publish_with_key(&new_key(), event).await
    }

    /// Publishes one event under the caller's idempotency key: a repeat returns the first answer.
    pub async fn publish_with_key(
        &self,
        key: &str,
        event: &types::PublishEvent,
    ) -> Result<types::Envelope, HeraldError> {
        self.retrying(|| async { Ok(self.api.publish_event(Some(key), event).await?.into_inner()) }).await
    }

    /// Publishes up to 1,000 events all or nothing (`POST /v1/events/batch`) with a new idempotency key.
    pub async fn publish_batch(&self, events: Vec<types::PublishEvent>) -> Result<Vec<types::Envelope>, HeraldError> {
        let key = new_key();
        let batch = types::PublishBatch { events };
        self.retrying(|| async { Ok(self.api.publish_event_batch(Some(&key), &batch).await?.into_inner().events) })
            .await
    }

    async fn retrying<T, F, Fut>(&self, call: F) -> Result<T, HeraldError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, HeraldError>>,
    {
        let mut tries = 1;
        loop {
            let error = match call().await {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            tries += 1;
            let Some(wait) = self.retry.wait_before(tries, &error) else { return Err(error) };
            tokio::time::sleep(wait).await;
        }
    }
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Refusal;

    fn refused(status: u16, retry_after: Option<u64>) -> HeraldError {
        HeraldError::Refused(Refusal {
            status,
            name: String::new(),
            message: String::new(),
            debug_id: String::new(),
            details: Vec::new(),
            retry_after: retry_after.map(Duration::from_secs),
        })
    }

    #[test]
    fn only_429_and_503_are_retried_within_the_policy() {
        let policy = RetryPolicy { max_tries: 3, backoff: Duration::from_secs(1), max_wait: Duration::from_secs(10) };
        assert_eq!(policy.wait_before(2, &refused(503, Some(2))), Some(Duration::from_secs(2)));
        assert_eq!(policy.wait_before(2, &refused(429, Some(600))), Some(Duration::from_secs(10)), "capped");
        assert_eq!(policy.wait_before(3, &refused(503, None)), Some(Duration::from_secs(2)), "backoff doubles");
        assert_eq!(policy.wait_before(4, &refused(503, None)), None, "out of tries");
        assert_eq!(policy.wait_before(2, &refused(422, None)), None);
        assert_eq!(policy.wait_before(2, &HeraldError::Unexpected("x".into())), None);
    }
}
