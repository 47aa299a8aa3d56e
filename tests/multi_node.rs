//! Several Herald nodes on one PostgreSQL database: every node takes API traffic and delivers, and losing
//! a node loses nothing. Ignored unless asked for (`--include-ignored`, as CI does); then it needs PostgreSQL.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Arrivals, HeraldProcess, PgSchema, postgres_url, set_up_tenant, start_slow_receiver};
use serde_json::{Value, json};

const TOKEN: &str = "multi-node-token";
const EVENTS: usize = 10_000;
const NODES: usize = 3;

fn start_node(schema: &PgSchema, n: usize) -> HeraldProcess {
    let extra = [
        ("HERALD_DELIVERY_TIMEOUT", "1s"),
        ("HERALD_LEASE_DURATION", "4s"),
        ("HERALD_RETRY_SCHEDULE", "200ms,500ms,1s,2s"),
    ];
    common::start_pg_node(schema, "node", n, TOKEN, &extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), run with --include-ignored"]
async fn three_nodes_share_the_work_and_a_killed_node_loses_nothing() {
    let url = postgres_url();
    let schema = PgSchema::create(&url).await;
    let arrivals: Arrivals = Arc::default();
    // Eight requests at a time, 2 ms each: the deliveries take a few seconds, so the kill lands mid-way.
    let receiver = start_slow_receiver(arrivals.clone(), 8, Duration::from_millis(2)).await;
    let mut nodes: Vec<HeraldProcess> = (1..=NODES).map(|n| start_node(&schema, n)).collect();
    let bases: Vec<String> = nodes.iter().map(|n| n.base.clone()).collect();
    let http = reqwest::Client::new();
    let account = set_up_tenant(&http, &bases[0], TOKEN, "payment.created", &receiver).await.account_id;

    // Sixteen publishers spread the events over the three nodes; a publish to a node that is gone is
    // made again on the next node, as a client behind a load balancer would.
    let accepted: Arc<Mutex<HashSet<String>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let mut publishers = Vec::new();
    for _ in 0..16 {
        let (http, bases, account, accepted, next) =
            (http.clone(), bases.clone(), account.clone(), accepted.clone(), next.clone());
        publishers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= EVENTS {
                    return;
                }
                let body = json!({"account_id": account, "event_type": "payment.created", "resource": {"n": n}});
                for attempt in 0..NODES {
                    let url = format!("{}/v1/events", bases[(n + attempt) % NODES]);
                    let Ok(response) = http.post(url).bearer_auth(TOKEN).json(&body).send().await else { continue };
                    assert_eq!(response.status(), 202);
                    let event: Value = response.json().await.unwrap();
                    accepted.lock().unwrap().insert(event["id"].as_str().unwrap().to_owned());
                    break;
                }
            }
        }));
    }
    // Node 2 dies (SIGKILL) while events are still being published and delivered.
    let deadline = Instant::now() + Duration::from_secs(120);
    while arrivals.lock().unwrap().len() < EVENTS / 4 {
        assert!(Instant::now() < deadline, "deliveries did not start");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    nodes[1].kill();
    let killed_at = Instant::now();
    let killed_at_ms = herald::domain::Timestamp::now().as_millis();
    let arrived_before_kill = arrivals.lock().unwrap().len();
    let published_before_kill = next.load(Ordering::SeqCst).min(EVENTS);
    for publisher in publishers {
        publisher.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), EVENTS, "every event was accepted by some node");
    assert!(published_before_kill < EVENTS, "the kill landed mid-way");

    common::wait_until_all_arrived(&arrivals, &accepted, Duration::from_secs(180)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let arrivals = arrivals.lock().unwrap().clone();
    let mut copies: HashMap<&str, Vec<Instant>> = HashMap::new();
    for (header_id, body_id, at) in &arrivals {
        assert_eq!(header_id, body_id);
        copies.entry(header_id).or_default().push(*at);
    }
    let duplicated: Vec<_> = copies.iter().filter(|(_, times)| times.len() > 1).collect();
    for (id, times) in &duplicated {
        assert!(times.iter().any(|at| *at < killed_at), "{id} was duplicated without being in flight at the kill");
    }

    // Who delivered what, from the attempt log.
    let (client, connection) = tokio_postgres::connect(&schema.url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let per_node = |sql: &'static str, since: i64| {
        let client = &client;
        async move {
            let rows = client.query(sql, &[&since]).await.unwrap();
            rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1))).collect::<HashMap<_, _>>()
        }
    };
    let sql = "SELECT node, COUNT(*) FROM attempts WHERE response_status = 200 AND started_at >= $1 GROUP BY node";
    let before = per_node(sql, 0).await;
    let after = per_node(sql, killed_at_ms).await;
    assert!(after.get("node-1").copied().unwrap_or(0) > 0, "node-1 kept delivering after the kill: {after:?}");
    assert!(after.get("node-3").copied().unwrap_or(0) > 0, "node-3 kept delivering after the kill: {after:?}");
    assert_eq!(after.get("node-2"), None, "the killed node made no attempts after the kill");
    eprintln!(
        "multi-node: {} accepted; node-2 killed after {} publishes and {} arrivals; {} arrivals in all; {} events \
         duplicated; successful attempts by node, whole run: {before:?}, after the kill: {after:?}",
        accepted.len(),
        published_before_kill,
        arrived_before_kill,
        arrivals.len(),
        duplicated.len()
    );
}
