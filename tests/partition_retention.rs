//! Retention on PostgreSQL drops whole spans of history while deliveries go on: a node with one-second
//! partitions and a retention of three seconds takes a steady stream of publishes; spans that passed the
//! retention period disappear (their tables with them) while the stream continues, every publish is
//! answered and every event arrives, and an expired event is gone from the API while a recent one stays.
//! Ignored unless asked for (`--include-ignored`, as CI does), then it needs PostgreSQL.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use common::{PgSchema, Requests, postgres_url, set_up_tenant, start_recording_receiver};
use serde_json::{Value, json};

const TOKEN: &str = "partition-test-token";
const PUBLISHING: Duration = Duration::from_secs(12);

fn accept(_: &[u8]) -> (axum::http::StatusCode, &'static str) {
    (axum::http::StatusCode::OK, "ok")
}

fn received(requests: &Requests) -> HashSet<String> {
    requests.lock().unwrap().iter().map(|(headers, _)| headers["webhook-id"].to_str().unwrap().to_owned()).collect()
}

/// The spans the database lists now, by start.
async fn spans(db: &tokio_postgres::Client) -> BTreeSet<i64> {
    db.query("SELECT starts_at FROM history_partitions", &[]).await.unwrap().iter().map(|row| row.get(0)).collect()
}

async fn table_exists(db: &tokio_postgres::Client, name: &str) -> bool {
    db.query_one("SELECT to_regclass($1) IS NOT NULL", &[&name]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), run with --include-ignored"]
async fn retention_drops_whole_partitions_while_deliveries_continue() {
    let schema = PgSchema::create(&postgres_url()).await;
    let requests: Requests = Default::default();
    let url = start_recording_receiver(requests.clone(), accept).await;
    let extra = [("HERALD_PARTITION_SPAN", "1s"), ("HERALD_RETENTION", "3s")];
    let node = common::start_pg_node(&schema, "partitions", 1, TOKEN, &extra);
    let (db, connection) = tokio_postgres::connect(&schema.url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let http = reqwest::Client::new();
    let tenant = set_up_tenant(&http, &node.base, TOKEN, "payment.created", &url).await;

    // A steady stream of publishes; meanwhile, the spans the database lists.
    let started = Instant::now();
    let mut published: Vec<String> = Vec::new();
    let mut seen: BTreeSet<i64> = spans(&db).await;
    let mut dropped_while_publishing: BTreeSet<i64> = BTreeSet::new();
    while started.elapsed() < PUBLISHING {
        let body = json!({"account_id": tenant.account_id, "event_type": "payment.created", "resource": {"n": 1}});
        let answer = http.post(format!("{}/v1/events", node.base)).bearer_auth(TOKEN).json(&body).send().await.unwrap();
        assert_eq!(answer.status(), 202, "publish {} was refused", published.len());
        published.push(answer.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
        let now = spans(&db).await;
        dropped_while_publishing.extend(seen.difference(&now));
        seen.extend(now);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }

    // Every event arrived, the early ones before their spans went and the late ones after.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = received(&requests);
        let missing = published.iter().filter(|id| !got.contains(*id)).count();
        if missing == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{missing} of {} events never arrived", published.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Spans went whole while publishes and deliveries went on: at least the first few seconds' worth.
    assert!(
        dropped_while_publishing.len() >= 3,
        "spans dropped while publishing: {dropped_while_publishing:?} (listed: {seen:?})"
    );
    for start in &dropped_while_publishing {
        for table in ["events", "deliveries", "attempts"] {
            let partition = format!("{table}_p{start}");
            assert!(!table_exists(&db, &partition).await, "{partition} was dropped with its span");
        }
    }
    let remaining = spans(&db).await;
    assert!(remaining.len() >= 4, "the current span and those ahead remain: {remaining:?}");

    // The first event went with its span; the last one is still there.
    let event = |id: &str| {
        http.get(format!("{}/v1/notifications/webhooks-events/{id}", node.base))
            .basic_auth(&tenant.client_id, Some(&tenant.client_secret))
            .send()
    };
    assert_eq!(event(&published[0]).await.unwrap().status(), 404, "the first event expired");
    assert_eq!(event(published.last().unwrap()).await.unwrap().status(), 200, "the last event is kept");
    let stored: i64 = db.query_one("SELECT count(*) FROM events", &[]).await.unwrap().get(0);
    assert!(
        stored > 0 && (stored as usize) < published.len() / 2,
        "{stored} of {} events are still stored",
        published.len()
    );
}
