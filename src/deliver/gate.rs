//! The last look before a request goes out: is the delivery still held under its lease, and its webhook
//! still enabled? A webhook disabled or deleted on any node then gets no request from any node once that
//! change has committed — not only no recorded result — and a delivery another node claimed meanwhile is
//! not sent twice. The attempts about to start are asked about together, one store read for all that
//! queued up while the previous read ran, so the look costs a fraction of a read per delivery. When the
//! store cannot answer, nothing is sent: the lease runs out and the delivery is attempted later.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{HeldDelivery, Store};

/// The most deliveries asked about in one read.
const MAX_BATCH: usize = 512;

type Question = (HeldDelivery, oneshot::Sender<bool>);

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

    /// Whether the held delivery may be sent now.
    pub async fn may_send(&self, held: HeldDelivery) -> bool {
        let (reply, answer) = oneshot::channel();
        if self.questions.send((held, reply)).is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

async fn answer(store: Arc<dyn Store>, mut receiver: mpsc::UnboundedReceiver<Question>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let held: Vec<HeldDelivery> = batch.iter().map(|(held, _)| held.clone()).collect();
        let deliverable = match store.still_deliverable(&held).await {
            Ok(deliverable) => deliverable,
            Err(error) => {
                tracing::warn!(error = %error, deliveries = held.len(), "cannot check deliveries before sending; they wait");
                Default::default()
            }
        };
        for (held, reply) in batch.drain(..) {
            let _ = reply.send(deliverable.contains(&held.delivery_id));
        }
    }
}
