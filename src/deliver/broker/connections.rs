//! One open connection per broker, shared by every delivery to it, made again when it broke.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// Connections by key. A slot is locked while its connection is made, so a burst of deliveries to a
/// broker that is down waits for one connection attempt rather than making one each.
pub struct Connections<C> {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<C>>>>>,
}

impl<C: Clone> Connections<C> {
    pub fn new() -> Self {
        Self { slots: Mutex::new(HashMap::new()) }
    }

    /// The open connection for `key` if `usable` says it still is, or a new one from `connect`.
    pub async fn get<E, F>(&self, key: &str, usable: impl Fn(&C) -> bool, connect: F) -> Result<C, E>
    where
        F: Future<Output = Result<C, E>>,
    {
        let slot =
            self.slots.lock().expect("the connection map is never poisoned").entry(key.to_owned()).or_default().clone();
        let mut held = slot.lock().await;
        if let Some(connection) = held.as_ref().filter(|c| usable(c)) {
            return Ok(connection.clone());
        }
        *held = None;
        let connection = connect.await?;
        *held = Some(connection.clone());
        Ok(connection)
    }

    /// Drops the connection for `key` (it failed or stopped answering), so that the next delivery
    /// connects anew. The slot stays, so a delivery already waiting on it sees the connection gone.
    pub async fn forget(&self, key: &str) {
        let slot = self.slots.lock().expect("the connection map is never poisoned").get(key).cloned();
        if let Some(slot) = slot {
            *slot.lock().await = None;
        }
    }
}
