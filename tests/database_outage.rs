//! PostgreSQL goes away mid-run: publish answers 503 (never a 2xx that was not committed), nothing
//! accepted is lost, and delivery resumes by itself when the database is back. The outage is made by a TCP
//! proxy between Herald and PostgreSQL that this test cuts and restores, so the shared server is untouched.
//! A second test has the server end Herald's sessions, as a restart does: still 503, never 500.
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
                        assert_eq!(response.headers()["retry-after"], "1", "a 503 says when to come back");
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

/// PostgreSQL ends Herald's sessions (as a restart or `pg_terminate_backend` does: SQLSTATE 57P01, "terminating
/// connection due to administrator command") while eight publishers keep going: every publish is answered
/// 202 or 503, never 500, Herald reconnects by itself, and every accepted event is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), run with --include-ignored"]
async fn sessions_the_server_terminates_are_an_outage_not_an_error() {
    let schema = PgSchema::create(&postgres_url()).await;
    let application = format!("herald-terminated-{}", std::process::id());
    let url = format!("{}&application_name={application}", schema.url);
    let arrivals: Arrivals = Arc::default();
    let receiver = start_slow_receiver(arrivals.clone(), 16, Duration::ZERO).await;
    let data_dir = tempfile::tempdir().unwrap();
    let herald = HeraldProcess::start(data_dir.path(), TOKEN, &[], &[("HERALD_DATABASE_URL", url.as_str())]);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let account = set_up_tenant(&http, &herald.base, TOKEN, "payment.created", &receiver).await.account_id;
    let (admin, connection) = tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);

    let accepted: Arc<Mutex<HashSet<String>>> = Arc::default();
    let answers: Arc<Mutex<Vec<u16>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let publishers: Vec<_> = (0..8)
        .map(|p| {
            let (http, base, accepted, answers, stop, account) =
                (http.clone(), herald.base.clone(), accepted.clone(), answers.clone(), stop.clone(), account.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let body =
                        json!({"account_id": account, "event_type": "payment.created", "resource": {"p": p, "n": n}});
                    let response =
                        http.post(format!("{base}/v1/events")).bearer_auth(TOKEN).json(&body).send().await.unwrap();
                    let status = response.status().as_u16();
                    if status == 503 {
                        assert_eq!(response.headers()["retry-after"], "1", "a 503 says when to come back");
                    }
                    answers.lock().unwrap().push(status);
                    if status == 202 {
                        let event: Value = response.json().await.unwrap();
                        accepted.lock().unwrap().insert(event["id"].as_str().unwrap().to_owned());
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1";
    let mut terminated = 0;
    for _ in 0..5 {
        terminated += admin.query_one(sql, &[&application]).await.unwrap().get::<_, i64>(0);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let before_end = accepted.lock().unwrap().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    for publisher in publishers {
        publisher.await.unwrap();
    }

    assert!(terminated > 0, "Herald's sessions were found and terminated");
    let answers = answers.lock().unwrap().clone();
    let odd: Vec<u16> = answers.iter().copied().filter(|s| *s != 202 && *s != 503).collect();
    assert!(odd.is_empty(), "publishes answered {odd:?} besides 202 and 503");
    let accepted = accepted.lock().unwrap().clone();
    assert!(accepted.len() > before_end, "publishing went on after the sessions ended");
    common::wait_until_all_arrived(&arrivals, &accepted, Duration::from_secs(60)).await;
    eprintln!(
        "terminated {terminated} sessions: {} publishes, {} accepted, {} answered 503",
        answers.len(),
        accepted.len(),
        answers.iter().filter(|s| **s == 503).count()
    );
}
