//! Helpers for the tests that run the real `herald` binary as a separate process.
//!
//! Each test binary compiles this module and uses only part of it, hence the allowance below.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

use serde_json::{Value, json};

pub mod brokers;

/// A `herald serve` process on a free port; killed when dropped if still running.
pub struct HeraldProcess {
    child: Child,
    pub base: String,
    /// What it printed before it listened (generated secrets, the demo's login).
    pub printed: Vec<String>,
}

impl HeraldProcess {
    /// Starts the binary with the given admin token, extra flags and variables, and waits until it listens.
    pub fn start(data_dir: &Path, token: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_logging(data_dir, token, args, env, Stdio::inherit())
    }

    /// The same, with its logs (stderr) sent to `logs`.
    pub fn start_logging(data_dir: &Path, token: &str, args: &[&str], env: &[(&str, &str)], logs: Stdio) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["serve", "--listen", ":0"])
            .args(args)
            .env("HERALD_DATA_DIR", data_dir)
            .env("HERALD_ADMIN_TOKEN", token)
            .env("HERALD_LOG", "warn")
            .env("HERALD_ALLOW_SUBNETS", "127.0.0.0/8")
            .env("HERALD_DELIVER_ONLY_TO_ALLOWED", "true")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(logs)
            .spawn()
            .expect("the herald binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut printed = Vec::new();
        let base = loop {
            let line = lines.next().expect("herald printed its address").unwrap();
            if let Some(address) = line.strip_prefix("listening on ") {
                break address.to_owned();
            }
            printed.push(line);
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, base, printed }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn wait(&mut self) -> ExitStatus {
        self.child.wait().unwrap()
    }
}

impl Drop for HeraldProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An account with one webhook subscribed to everything.
pub struct Tenant {
    pub account_id: String,
    pub webhook_id: String,
    /// The merchant's credentials, for merchant calls.
    pub client_id: String,
    pub client_secret: String,
}

/// Adds `event_type` to the catalog and creates an account; the answer has its credentials.
pub async fn create_account(http: &reqwest::Client, base: &str, token: &str, event_type: &str) -> Value {
    let put = http.put(format!("{base}/v1/event-types/{event_type}")).bearer_auth(token);
    assert!(put.json(&json!({"description": "test events"})).send().await.unwrap().status().is_success());
    let created = http.post(format!("{base}/v1/accounts")).bearer_auth(token).json(&json!({"name": "Test merchant"}));
    created.send().await.unwrap().json().await.unwrap()
}

/// Adds `event_type` to the catalog, creates an account and a `*` webhook to `receiver`.
pub async fn set_up_tenant(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    event_type: &str,
    receiver: &str,
) -> Tenant {
    let account = create_account(http, base, token, event_type).await;
    let created = http
        .post(format!("{base}/v1/notifications/webhooks"))
        .basic_auth(account["client_id"].as_str().unwrap(), account["client_secret"].as_str())
        .json(&json!({"url": receiver, "event_types": [{"name": "*"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let webhook: Value = created.json().await.unwrap();
    Tenant {
        account_id: account["id"].as_str().unwrap().into(),
        webhook_id: webhook["id"].as_str().unwrap().into(),
        client_id: account["client_id"].as_str().unwrap().into(),
        client_secret: account["client_secret"].as_str().unwrap().into(),
    }
}

/// The PostgreSQL server tests use: `HERALD_TEST_DATABASE_URL`, or the local one. Tests that need it are
/// `#[ignore]`d with the reason, so they run only when asked for (CI does), and then a missing
/// server fails them.
pub fn postgres_url() -> String {
    match std::env::var("HERALD_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => "postgres://postgres@127.0.0.1:5432/test".into(),
    }
}

/// A schema of its own for one test, dropped (with everything in it) when the guard goes.
pub struct PgSchema {
    base: String,
    name: String,
    /// The URL Herald connects with: the base URL with `search_path` set to this schema.
    pub url: String,
}

impl PgSchema {
    pub async fn create(base: &str) -> Self {
        let name = format!("herald_t_{}", herald::keyring::random_token(9).to_lowercase().replace(['-', '_'], "x"));
        let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {base} is needed for this test: {e}"));
        tokio::spawn(connection);
        client.batch_execute(&format!("CREATE SCHEMA {name}")).await.unwrap();
        let separator = if base.contains('?') { '&' } else { '?' };
        // Its connections carry the schema's name, so that the cleanup can end those a test left behind.
        let url = format!("{base}{separator}options=-csearch_path%3D{name}&application_name={name}");
        Self { base: base.to_owned(), name, url }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Drop runs outside async code, so a small runtime of its own does the cleanup.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                if let Ok((client, connection)) = tokio_postgres::connect(&base, tokio_postgres::NoTls).await {
                    tokio::spawn(connection);
                    // A test's Herald may be stopped in the middle of a transaction that holds locks in
                    // the schema, on a runtime this drop is now blocking: end its connections first, or
                    // the drop waits for them forever.
                    let _ = client
                        .execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                             WHERE application_name = $1 AND pid <> pg_backend_pid()",
                            &[&name],
                        )
                        .await;
                    let _ = client.batch_execute(&format!("DROP SCHEMA {name} CASCADE")).await;
                }
            });
        })
        .join();
    }
}

/// What a receiver saw: (webhook-id header, the body's id, arrival time), in arrival order.
pub type Arrivals = std::sync::Arc<std::sync::Mutex<Vec<(String, String, std::time::Instant)>>>;

/// A receiver that takes `concurrency` requests at a time and `delay` for each, recording every arrival.
pub async fn start_slow_receiver(arrivals: Arrivals, concurrency: usize, delay: std::time::Duration) -> String {
    use axum::extract::State;
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
    let app = axum::Router::new().fallback(
        move |State(arrivals): State<Arrivals>, headers: axum::http::HeaderMap, body: bytes::Bytes| {
            let limit = limit.clone();
            async move {
                // A request counts as arrived when it reaches the receiver, not when its turn comes: one
                // sent before a node was killed is then seen as sent before, however long it queued here.
                let reached = std::time::Instant::now();
                let _permit = limit.acquire().await.unwrap();
                tokio::time::sleep(delay).await;
                let id_header = headers["webhook-id"].to_str().unwrap().to_owned();
                let body: Value = serde_json::from_slice(&body).unwrap();
                let arrived = (id_header, body["id"].as_str().unwrap().to_owned(), reached);
                arrivals.lock().unwrap().push(arrived);
                "ok"
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app.with_state(arrivals)).await.unwrap() });
    url
}

/// Every request a recording receiver got: headers and body, in arrival order.
pub type Requests = std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, bytes::Bytes)>>>;

/// A receiver on loopback that records every request and answers what `answer` says of its body.
pub async fn start_recording_receiver(
    requests: Requests,
    answer: fn(&[u8]) -> (axum::http::StatusCode, &'static str),
) -> String {
    use axum::extract::State;
    let app = axum::Router::new().fallback(
        move |State(requests): State<Requests>, headers: axum::http::HeaderMap, body: bytes::Bytes| async move {
            let answered = answer(&body);
            requests.lock().unwrap().push((headers, body));
            answered
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app.with_state(requests)).await.unwrap() });
    url
}

/// Waits until every accepted event id has arrived at least once, or panics after `limit`.
pub async fn wait_until_all_arrived(
    arrivals: &Arrivals,
    accepted: &std::collections::HashSet<String>,
    limit: std::time::Duration,
) {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let seen: std::collections::HashSet<String> =
            arrivals.lock().unwrap().iter().map(|(id, _, _)| id.clone()).collect();
        let missing = accepted.iter().filter(|id| !seen.contains(*id)).count();
        if missing == 0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{missing} accepted events never arrived");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The master key every node of a multi-node test shares.
pub const SHARED_MASTER_KEY: &str = "bXVsdGktbm9kZSB0ZXN0IG1hc3RlciBrZXkgLSAzMmI=";

/// One `herald serve` process on the schema's database, named `{label}-{n}`, with `extra` settings.
pub fn start_pg_node(schema: &PgSchema, label: &str, n: usize, token: &str, extra: &[(&str, &str)]) -> HeraldProcess {
    let data_dir = std::env::temp_dir().join(format!("herald-{label}-{}-{n}", std::process::id()));
    let node_id = format!("{label}-{n}");
    let mut env = vec![
        ("HERALD_DATABASE_URL", schema.url.as_str()),
        ("HERALD_NODE_ID", node_id.as_str()),
        ("HERALD_MASTER_KEY", SHARED_MASTER_KEY),
    ];
    env.extend_from_slice(extra);
    HeraldProcess::start(&data_dir, token, &[], &env)
}

/// A TCP proxy on loopback that can be cut (every connection dropped, new ones refused) and restored: an
/// outage of whatever is behind it, made without touching it.
pub struct Proxy {
    pub address: std::net::SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<std::sync::Mutex<tokio::task::JoinSet<()>>>,
}

impl Proxy {
    pub async fn start(upstream: String) -> Self {
        Self::start_with(upstream, None).await
    }

    /// A proxy that passes what the upstream sends on in pieces of `piece` bytes, a millisecond apart, so
    /// that the client reads it in many small chunks.
    pub async fn start_trickling(upstream: String, piece: usize) -> Self {
        Self::start_with(upstream, Some(piece)).await
    }

    async fn start_with(upstream: String, trickle: Option<usize>) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let connections: std::sync::Arc<std::sync::Mutex<tokio::task::JoinSet<()>>> = Default::default();
        let (flag, tasks) = (up.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    continue; // dropped at once: the upstream is "down"
                }
                let upstream = upstream.clone();
                tasks.lock().unwrap().spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else { return };
                    match trickle {
                        None => drop(tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await),
                        Some(piece) => trickle_copy(inbound, outbound, piece).await,
                    }
                });
            }
        });
        Self { address, up, connections }
    }

    pub fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        self.connections.lock().unwrap().abort_all();
    }

    pub fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn trickle_copy(inbound: tokio::net::TcpStream, outbound: tokio::net::TcpStream, piece: usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = inbound.set_nodelay(true);
    let (mut from_client, mut to_client) = inbound.into_split();
    let (mut from_upstream, mut to_upstream) = outbound.into_split();
    let requests = tokio::spawn(async move { tokio::io::copy(&mut from_client, &mut to_upstream).await });
    let mut buffer = vec![0u8; 16 * 1024];
    while let Ok(read) = from_upstream.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        for part in buffer[..read].chunks(piece) {
            if to_client.write_all(part).await.is_err() {
                requests.abort();
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
    requests.abort();
}
