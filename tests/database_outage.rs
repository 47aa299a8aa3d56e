//! PostgreSQL goes away mid-run: publish answers 503 (never a 2xx that was not committed), nothing
//! accepted is lost, and delivery resumes by itself when the database is back. The outage is made by a TCP
//! proxy between Herald and PostgreSQL that this test cuts and restores, so the shared server is untouched.
//! Ignored unless asked for (`--include-ignored`, as CI does); then it needs PostgreSQL.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Arrivals, HeraldProcess, PgSchema, Proxy, postgres_url, set_up_tenant, start_slow_receiver};
use serde_json::{Value, json};

const TOKEN: &str = "outage-test-token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), run with --include-ignored"]
async fn publish_answers_503_while_the_database_is_away_and_nothing_accepted_is_lost() {
    let url = postgres_url();
    let schema = PgSchema::create(&url).await;
    let upstream = url::Url::parse(&url).unwrap();
    let upstream_address = format!("{}:{}", upstream.host_str().unwrap(), upstream.port().unwrap_or(5432));
    let proxy = Proxy::start(upstream_address.clone()).await;
    let proxied_url = schema.url.replacen(&upstream_address, &proxy.address.to_string(), 1);
    assert_ne!(proxied_url, schema.url, "the database URL names {upstream_address}");

    let arrivals: Arrivals = Arc::default();
    let receiver = start_slow_receiver(arrivals.clone(), 16, Duration::ZERO).await;
    let data_dir = tempfile::tempdir().unwrap();
    let env = [("HERALD_DATABASE_URL", proxied_url.as_str()), ("HERALD_DATABASE_TIMEOUT", "1s")];
    let herald = HeraldProcess::start(data_dir.path(), TOKEN, &[], &env);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let account = set_up_tenant(&http, &herald.base, TOKEN, "payment.created", &receiver).await.account_id;

    let accepted: Arc<Mutex<HashSet<String>>> = Arc::default();
    let unavailable = Arc::new(Mutex::new(0usize));
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (http, base, accepted, unavailable, stop) =
            (http.clone(), herald.base.clone(), accepted.clone(), unavailable.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let body = json!({"account_id": account, "event_type": "payment.created", "resource": {"n": n}});
                let response =
                    http.post(format!("{base}/v1/events")).bearer_auth(TOKEN).json(&body).send().await.unwrap();
                match response.status().as_u16() {
                    202 => {
                        let event: Value = response.json().await.unwrap();
                        accepted.lock().unwrap().insert(event["id"].as_str().unwrap().to_owned());
                    }
                    503 => {
                        let error: Value = response.json().await.unwrap();
                        assert_eq!(error["name"], "SERVICE_UNAVAILABLE");
                        *unavailable.lock().unwrap() += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    other => panic!("publish answered {other} during the outage test"),
                }
            }
        })
    };

    tokio::time::sleep(Duration::from_secs(1)).await;
    let before_cut = accepted.lock().unwrap().len();
    assert!(before_cut > 0, "publishing works before the outage");
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let during = *unavailable.lock().unwrap();
    let ready = http.get(format!("{}/readyz", herald.base)).send().await.unwrap().status();
    proxy.restore();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let ready_again = http.get(format!("{}/readyz", herald.base)).send().await.unwrap().status();
    stop.store(true, Ordering::SeqCst);
    publisher.await.unwrap();

    assert!(during > 0, "publish answered 503 while the database was away");
    assert_eq!(ready, 503, "readiness fails while the store is unreachable");
    assert_eq!(ready_again, 200, "and comes back with it");
    let accepted = accepted.lock().unwrap().clone();
    assert!(accepted.len() > before_cut, "publishing resumed after the outage");
    common::wait_until_all_arrived(&arrivals, &accepted, Duration::from_secs(60)).await;
    eprintln!(
        "outage: {} events accepted ({} before the cut), {} publishes answered 503 during 3 s without the database",
        accepted.len(),
        before_cut,
        during
    );
}
