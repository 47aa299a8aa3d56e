//! Installation facts: the first value written wins.

use crate::*;

/// Installation facts (the PayPal signing identity) are written once: nodes racing to write one all read
/// back the first.
pub async fn installation_facts_keep_the_first_value_written_under_races(backend: Backend) {
    let store = backend.store.clone();
    assert_eq!(store.get_meta("paypal_identity").await.unwrap(), None, "{}", backend.name);
    let racers: Vec<_> = (0..8u8)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_meta_if_absent("paypal_identity", vec![n; 16]).await.unwrap() })
        })
        .collect();
    let mut seen = HashSet::new();
    for racer in racers {
        seen.insert(racer.await.unwrap());
    }
    assert_eq!(seen.len(), 1, "{}: every racer reads back the same value", backend.name);
    let winner = seen.into_iter().next().unwrap();
    assert_eq!(store.get_meta("paypal_identity").await.unwrap(), Some(winner), "{}", backend.name);
}

contract!(installation_facts_keep_the_first_value_written_under_races);
