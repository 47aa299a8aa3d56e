//! The last look before a request goes out: is its webhook still enabled and not deleted? A webhook
//! disabled or deleted on any node then gets no request from any node once that change has committed —
//! not only no recorded result. The attempts about to start are asked about together: one store read
//! for all that queued up while the previous read ran, of each webhook once (a primary-key lookup in a
//! small table), so the look costs a fraction of a read per delivery. When the store cannot answer,
//! nothing is sent: the lease runs out and the delivery is attempted later.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::domain::WebhookId;
use crate::store::Store;

/// The most attempts asked about in one read.
const MAX_BATCH: usize = 512;

type Question = (WebhookId, oneshot::Sender<bool>);

/// Where workers ask whether they may send.
#[derive(Clone)]
pub struct SendGate {
    questions: mpsc::UnboundedSender<Question>,
}

impl SendGate {
    /// Starts the task that answers; it ends when every handle is dropped.
    pub fn spawn(store: Arc<dyn Store>) -> Self {
        let (questions, receiver) = mpsc::unbounded_channel();
        tokio::spawn(answer(store, receiver));
        Self { questions }
    }

    /// Whether a request to this webhook may go out now.
    pub async fn may_send(&self, webhook: WebhookId) -> bool {
        let (reply, answer) = oneshot::channel();
        if self.questions.send((webhook, reply)).is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

async fn answer(store: Arc<dyn Store>, mut receiver: mpsc::UnboundedReceiver<Question>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut webhooks: Vec<WebhookId> = batch.iter().map(|(webhook, _)| webhook.clone()).collect();
        webhooks.sort();
        webhooks.dedup();
        let enabled = match store.enabled_webhooks(&webhooks).await {
            Ok(enabled) => enabled,
            Err(error) => {
                tracing::warn!(error = %error, webhooks = webhooks.len(), "cannot check webhooks before sending; their deliveries wait");
                Default::default()
            }
        };
        for (webhook, reply) in batch.drain(..) {
            let _ = reply.send(enabled.contains(&webhook));
        }
    }
}
