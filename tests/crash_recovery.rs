//! Crash safety of the real binary: SIGKILL `herald serve` while it delivers, restart it on the same data
//! directory, and every accepted event still arrives (at least once, duplicates with the same webhook-id).

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Arrivals, HeraldProcess, set_up_tenant, start_slow_receiver};
use serde_json::{Value, json};

const TOKEN: &str = "crash-test-token";
const EVENTS: usize = 2000;
const KILL_AFTER_ARRIVALS: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_delivery_loses_nothing() {
    let data_dir = tempfile::tempdir().unwrap();
    let arrivals: Arrivals = Arc::default();
    // Two requests at a time, 5 ms each (at most 400 a second), so the kill lands mid-way.
    let receiver = start_slow_receiver(arrivals.clone(), 2, Duration::from_millis(5)).await;
    let start =
        || HeraldProcess::start(data_dir.path(), TOKEN, &[], &[("HERALD_RETRY_SCHEDULE", "200ms,500ms,1s,2s,5s")]);
    let mut herald = start();
    let http = reqwest::Client::new();
    let account = set_up_tenant(&http, &herald.base, TOKEN, "payment.created", &receiver).await.account_id;

    // Eight publishers share the 2,000 events; each remembers the ids that got a 202.
    let accepted: Arc<Mutex<HashSet<String>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let mut publishers = Vec::new();
    for _ in 0..8 {
        let (http, base, account, accepted, next) =
            (http.clone(), herald.base.clone(), account.clone(), accepted.clone(), next.clone());
        publishers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::SeqCst) < EVENTS {
                let body = json!({"account_id": account, "event_type": "payment.created", "resource": {"n": 1}});
                let Ok(response) = http.post(format!("{base}/v1/events")).bearer_auth(TOKEN).json(&body).send().await
                else {
                    return; // the server is gone
                };
                if response.status() != 202 {
                    return;
                }
                let event: Value = response.json().await.unwrap();
                accepted.lock().unwrap().insert(event["id"].as_str().unwrap().to_owned());
            }
        }));
    }

    for publisher in publishers {
        publisher.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), EVENTS, "every publish was accepted");
    let deadline = Instant::now() + Duration::from_secs(60);
    while arrivals.lock().unwrap().len() < KILL_AFTER_ARRIVALS {
        assert!(Instant::now() < deadline, "deliveries did not start");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    herald.kill();
    let killed_at = Instant::now();
    let arrived_before_kill = arrivals.lock().unwrap().len();
    assert!(
        arrived_before_kill < accepted.len(),
        "the kill must land mid-way ({arrived_before_kill} of {})",
        accepted.len()
    );

    let _restarted = start();
    common::wait_until_all_arrived(&arrivals, &accepted, Duration::from_secs(120)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let arrivals = arrivals.lock().unwrap().clone();
    let mut copies: HashMap<&str, Vec<Instant>> = HashMap::new();
    for (header_id, body_id, at) in &arrivals {
        assert_eq!(header_id, body_id, "webhook-id is the event id on every copy");
        copies.entry(header_id).or_default().push(*at);
    }
    let duplicated: Vec<(&&str, &Vec<Instant>)> = copies.iter().filter(|(_, times)| times.len() > 1).collect();
    for (id, times) in &duplicated {
        assert!(times.iter().any(|at| *at < killed_at), "{id} was duplicated without being in flight at the kill");
    }
    eprintln!(
        "crash test: {} accepted, {} arrived before the kill, {} arrivals in all, {} events duplicated",
        accepted.len(),
        arrived_before_kill,
        arrivals.len(),
        duplicated.len()
    );
}
