//! `herald-bench`: end-to-end throughput and latency of a real Herald, beside this machine's loopback
//! ceiling measured in the same run.
//!
//! It starts a receiver on loopback, starts `herald serve` (the binary next to this one) on a fresh data
//! directory (or uses `--url`), publishes N events through the HTTP API with C concurrent publishers, waits
//! until every event has arrived, and prints the publish rate, deliveries per second end to end, and
//! publish→arrival latency. The ceiling ("direct") POSTs the same bodies straight to the receiver.
//!
//! Example: cargo build --release && target/release/herald-bench --events 20000 --concurrency 32 --runs 3

mod consumer;
mod cost;
mod dashboard;
mod otlp;
mod receiver;
mod stats;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use cost::{Cost, Meter, Storage};
use serde_json::{Value, json};
use stats::{Latency, median, ms};

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Parser, Clone)]
#[command(about = "Measure Herald end to end against the loopback ceiling")]
struct Args {
    /// Events to publish per run.
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    /// Concurrent publishers (and concurrent direct senders).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Runs; the summary gives the median of each figure.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Offered load in events per second across all publishers; 0 publishes as fast as possible.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Approximate size of each event's resource, in bytes.
    #[arg(long, default_value_t = 1000)]
    resource_bytes: usize,
    /// Measure only the direct ceiling.
    #[arg(long)]
    direct: bool,
    /// Skip the direct ceiling.
    #[arg(long)]
    no_direct: bool,
    /// A running Herald to use instead of starting one (needs --admin-token).
    #[arg(long)]
    url: Option<String>,
    /// Run Herald on this PostgreSQL database (each run gets a fresh schema, dropped afterwards).
    #[arg(long)]
    database_url: Option<String>,
    /// How many Herald nodes to start on the database; publishers spread events over them.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// The webhook's format: standard, stripe or paypal (RSA-signed).
    #[arg(long, default_value = "standard")]
    format: String,
    /// The webhook's signing: hmac-sha256 or ed25519 (to compare signing costs); default: the format's own.
    #[arg(long)]
    signing: Option<String>,
    #[arg(long, env = "HERALD_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// Merchant clients calling the API while events are published (each in turn lists the webhook's
    /// deliveries and has a signature checked), as a merchant's tools would; every call is recorded in the
    /// request log.
    #[arg(long, default_value_t = 0)]
    merchant_clients: usize,
    /// The destinations to deliver to, each in turn in every run: http (the receiver), amqp, nats, redis
    /// (the local RabbitMQ, NATS JetStream and Redis, with a target made for the run and read as it fills).
    #[arg(long, value_delimiter = ',', default_value = "http")]
    destinations: Vec<String>,
    /// Instead: fill a fresh Herald with about this many delivery attempts (one in eight failing), then
    /// time every dashboard page (server time from `Server-Timing`, and the whole request).
    #[arg(long)]
    dashboard_attempts: Option<usize>,
    /// Export spans to a loopback OTLP collector this bench runs (HERALD_OTLP_SAMPLING in the environment
    /// applies) and report the bytes exported per delivery.
    #[arg(long)]
    otlp_sink: bool,
    /// The sink's URL, once started.
    #[arg(skip)]
    otlp_url: Option<String>,
}

/// What one run measured.
#[derive(Default, Clone, Copy)]
struct Figures {
    publish_per_s: f64,
    deliveries_per_s: f64,
    /// Merchant API calls per second made meanwhile (with `--merchant-clients`).
    merchant_per_s: f64,
    latency: Latency,
    /// What the run cost (runs through a Herald this bench started).
    cost: Option<Cost>,
}

fn main() -> BenchResult<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(args))
}

async fn run(mut args: Args) -> BenchResult<()> {
    if let Some(attempts) = args.dashboard_attempts {
        return dashboard::run(attempts, args.runs).await;
    }
    let arrivals = Arc::new(receiver::Arrivals::default());
    let receiver_url = receiver::start(arrivals.clone()).await?;
    let exported = match args.otlp_sink {
        true => {
            let (url, exported) = otlp::start().await?;
            args.otlp_url = Some(url);
            Some(exported)
        }
        false => None,
    };
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency * 2).tcp_nodelay(true).build()?;
    let body = resource(args.resource_bytes);
    println!(
        "herald-bench: {} events of ~{} B, {} publishers, {} runs, format {} signed {}{}",
        args.events,
        args.resource_bytes,
        args.concurrency,
        args.runs,
        args.format,
        args.signing.as_deref().unwrap_or("by default"),
        if args.rate > 0.0 { format!(", offered {} events/s", args.rate) } else { String::new() }
    );
    let mut direct_runs = Vec::new();
    let mut herald_runs: Vec<Vec<Figures>> = vec![Vec::new(); args.destinations.len()];
    for run in 1..=args.runs {
        if !args.no_direct {
            arrivals.reset();
            let figures = direct(&args, &http, &receiver_url, &body).await?;
            report(&format!("run {run} direct"), &figures);
            direct_runs.push(figures);
        }
        if args.direct {
            continue;
        }
        for (kind, runs) in args.destinations.iter().zip(&mut herald_runs) {
            arrivals.reset();
            let target = match kind.as_str() {
                "http" => receiver_url.clone(),
                broker => consumer::start(broker, arrivals.clone()).await?,
            };
            let figures = through_herald(&args, &http, &target, &arrivals, &body).await?;
            consumer::remove(kind, &target).await?;
            report(&format!("run {run} herald to {kind}"), &figures);
            if let Some(exported) = &exported {
                let (requests, bytes) = exported.take();
                println!("  OTLP: {requests} exports, {:.0} B per delivery", bytes as f64 / args.events as f64);
            }
            runs.push(figures);
        }
    }
    println!("--- medians of {} runs", args.runs);
    let direct_median = summarize("direct (ceiling)", &direct_runs);
    let mut http_median = None;
    for (kind, runs) in args.destinations.iter().zip(&herald_runs) {
        let median = summarize(&format!("herald end to end to {kind}"), runs);
        match (kind.as_str(), median) {
            ("http", Some(herald)) => {
                http_median = Some(herald);
                if let Some(direct) = direct_median {
                    println!("herald / ceiling: {:.1} %", 100.0 * herald / direct);
                }
            }
            (_, Some(broker)) => {
                if let Some(http) = http_median {
                    println!("{kind} / http: {:.2}", broker / http);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn resource(size: usize) -> Value {
    json!({"object": "charge", "amount": 54000, "currency": "eur", "description": "x".repeat(size.saturating_sub(60))})
}

fn report(label: &str, figures: &Figures) {
    let l = figures.latency;
    println!(
        "{label}: publish {:.0}/s, delivered {:.0}/s, latency p50 {:.1} ms p90 {:.1} ms p99 {:.1} ms max {:.1} ms",
        figures.publish_per_s,
        figures.deliveries_per_s,
        ms(l.p50),
        ms(l.p90),
        ms(l.p99),
        ms(l.max)
    );
    if figures.merchant_per_s > 0.0 {
        println!("  merchant API calls meanwhile: {:.0}/s", figures.merchant_per_s);
    }
    if let Some(cost) = &figures.cost {
        println!("  {}", cost.line());
    }
}

fn summarize(label: &str, runs: &[Figures]) -> Option<f64> {
    if runs.is_empty() {
        return None;
    }
    let pick = |f: fn(&Figures) -> f64| median(runs.iter().map(f).collect());
    let figures = Figures {
        publish_per_s: pick(|f| f.publish_per_s),
        deliveries_per_s: pick(|f| f.deliveries_per_s),
        merchant_per_s: pick(|f| f.merchant_per_s),
        latency: Latency {
            p50: Duration::from_secs_f64(pick(|f| f.latency.p50.as_secs_f64())),
            p90: Duration::from_secs_f64(pick(|f| f.latency.p90.as_secs_f64())),
            p99: Duration::from_secs_f64(pick(|f| f.latency.p99.as_secs_f64())),
            max: Duration::from_secs_f64(pick(|f| f.latency.max.as_secs_f64())),
        },
        cost: median_cost(runs),
    };
    report(label, &figures);
    Some(figures.deliveries_per_s)
}

/// The median of each cost figure over the runs that have one.
fn median_cost(runs: &[Figures]) -> Option<Cost> {
    let costs: Vec<Cost> = runs.iter().filter_map(|f| f.cost).collect();
    if costs.is_empty() {
        return None;
    }
    let pick = |f: fn(&Cost) -> f64| median(costs.iter().map(f).collect());
    let optional = |f: fn(&Cost) -> Option<f64>| {
        let values: Vec<f64> = costs.iter().filter_map(f).collect();
        (!values.is_empty()).then(|| median(values))
    };
    Some(Cost {
        herald_cpu_ms: pick(|c| c.herald_cpu_ms),
        postgres_cpu_ms: optional(|c| c.postgres_cpu_ms),
        commits: optional(|c| c.commits),
        wal_bytes: optional(|c| c.wal_bytes),
        stored_bytes: pick(|c| c.stored_bytes),
    })
}

/// Waits for the slot of event `index` under the offered rate (none when the rate is 0).
async fn pace(start: Instant, index: usize, rate: f64) {
    if rate > 0.0 {
        tokio::time::sleep_until((start + Duration::from_secs_f64(index as f64 / rate)).into()).await;
    }
}

/// The ceiling: the same bodies POSTed straight to the receiver, with the same concurrency.
async fn direct(args: &Args, http: &reqwest::Client, url: &str, resource: &Value) -> BenchResult<Figures> {
    let body = bytes::Bytes::from(serde_json::to_vec(&json!({"id": "evt_direct", "resource": resource}))?);
    let next = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(args.events)));
    let start = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..args.concurrency {
        let (http, url, body, next, latencies, args) =
            (http.clone(), url.to_owned(), body.clone(), next.clone(), latencies.clone(), args.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= args.events {
                    return Ok::<_, reqwest::Error>(());
                }
                pace(start, index, args.rate).await;
                let sent = Instant::now();
                let id = format!("direct-{index}");
                let response = http.post(&url).header("webhook-id", id).body(body.clone()).send().await?;
                response.bytes().await?;
                latencies.lock().unwrap().push(sent.elapsed());
            }
        }));
    }
    for sender in senders {
        sender.await??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let rate = args.events as f64 / elapsed;
    let samples = std::mem::take(&mut *latencies.lock().unwrap());
    Ok(Figures {
        publish_per_s: rate,
        deliveries_per_s: rate,
        merchant_per_s: 0.0,
        latency: Latency::of(samples),
        cost: None,
    })
}

/// A Herald started for one run, stopped when dropped.
struct Spawned {
    child: Child,
    data_dir: tempfile::TempDir,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const BENCH_TOKEN: &str = "herald-bench-token";

/// A master key the bench's nodes share (they must, to open each other's secrets).
const BENCH_MASTER_KEY: &str = "aGVyYWxkLWJlbmNoIG1hc3RlciBrZXkgMzIgYnl0ZXM=";

fn spawn_herald(database_url: Option<&str>, node: usize, extra: &[(&str, &str)]) -> BenchResult<(String, Spawned)> {
    let exe = std::env::current_exe()?.with_file_name("herald");
    if !exe.exists() {
        return Err(format!("{} not found: build it first (cargo build --release)", exe.display()).into());
    }
    let data_dir = tempfile::tempdir()?;
    let mut command = Command::new(&exe);
    if let Some(url) = database_url {
        command.env("HERALD_DATABASE_URL", url).env("HERALD_NODE_ID", format!("bench-{node}"));
    }
    let mut child = command
        .arg("serve")
        .env("HERALD_MASTER_KEY", BENCH_MASTER_KEY)
        .env("HERALD_LISTEN", "127.0.0.1:0")
        .env("HERALD_DATA_DIR", data_dir.path())
        .env("HERALD_ADMIN_TOKEN", BENCH_TOKEN)
        .env("HERALD_LOG", "warn")
        .env("HERALD_ALLOW_SUBNETS", "127.0.0.0/8")
        .env("HERALD_DELIVER_ONLY_TO_ALLOWED", "true")
        .envs(extra.iter().copied())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    let base = loop {
        let line = lines.next().ok_or("herald exited before listening")??;
        if let Some(address) = line.strip_prefix("listening on ") {
            break address.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok((base, Spawned { child, data_dir }))
}

/// A schema of its own for one run on PostgreSQL.
struct BenchSchema {
    client: tokio_postgres::Client,
    name: String,
    url: String,
}

impl BenchSchema {
    async fn create(base: &str) -> BenchResult<Self> {
        let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        let name = format!("herald_bench_{}", std::process::id());
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}")).await?;
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-csearch_path%3D{name}");
        Ok(Self { client, name, url })
    }

    async fn drop_schema(self) -> BenchResult<()> {
        self.client.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name)).await?;
        Ok(())
    }
}

/// The nodes to publish to, and what keeps them running for the run.
struct Cluster {
    bases: Vec<String>,
    nodes: Vec<Spawned>,
    schema: Option<BenchSchema>,
}

impl Cluster {
    /// What the run's cost is read from: the nodes' processes, and the database or their data directories.
    fn meter(&self) -> Meter<'_> {
        let pids = self.nodes.iter().map(|node| node.child.id()).collect();
        match &self.schema {
            Some(schema) => Meter::new(pids, Some(&schema.client), Storage::Schema(schema.name.clone())),
            None => {
                let dirs = self.nodes.iter().map(|node| node.data_dir.path().to_owned()).collect();
                Meter::new(pids, None, Storage::Directories(dirs))
            }
        }
    }
}

async fn start_cluster(args: &Args) -> BenchResult<Cluster> {
    let schema = match &args.database_url {
        Some(url) => Some(BenchSchema::create(url).await?),
        None => None,
    };
    let url = schema.as_ref().map(|s| s.url.as_str());
    let mut bases = Vec::new();
    let mut nodes = Vec::new();
    // Spans are flushed often, so that few are still queued when a run's Herald is stopped.
    let otlp = args.otlp_url.as_deref().map(|url| [("HERALD_OTLP_ENDPOINT", url), ("OTEL_BSP_SCHEDULE_DELAY", "200")]);
    for node in 0..args.nodes.max(1) {
        let (base, spawned) = spawn_herald(url, node, otlp.as_ref().map_or(&[][..], |env| &env[..]))?;
        bases.push(base);
        nodes.push(spawned);
    }
    Ok(Cluster { bases, nodes, schema })
}

/// Creates the event type, an account and a webhook to the receiver; returns the account id.
/// The bench's account: its id, its live key and its webhook.
struct Prepared {
    account: String,
    client_id: String,
    client_secret: String,
    webhook: String,
}

async fn prepare(
    args: &Args,
    http: &reqwest::Client,
    base: &str,
    token: &str,
    receiver: &str,
) -> BenchResult<Prepared> {
    let put = http.put(format!("{base}/v1/event-types/charge.succeeded")).bearer_auth(token);
    put.json(&json!({"description": "A charge succeeded"})).send().await?.error_for_status()?;
    let account: Value = http
        .post(format!("{base}/v1/accounts"))
        .bearer_auth(token)
        .json(&json!({"name": "bench"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let client_id = account["client_id"].as_str().ok_or("no client_id")?;
    let client_secret = account["client_secret"].as_str().ok_or("no client_secret")?;
    let webhook: Value = http
        .post(format!("{base}/v1/notifications/webhooks"))
        .basic_auth(client_id, Some(client_secret))
        .json(&json!({"url": receiver, "event_types": [{"name": "*"}], "format": args.format, "signing": args.signing}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(Prepared {
        account: account["id"].as_str().ok_or("no account id")?.to_owned(),
        client_id: client_id.to_owned(),
        client_secret: client_secret.to_owned(),
        webhook: webhook["id"].as_str().ok_or("no webhook id")?.to_owned(),
    })
}

/// One merchant client: until `stop`, lists the webhook's deliveries and has a signature checked, in
/// turn; returns how many calls it made.
async fn merchant_client(
    http: reqwest::Client,
    base: String,
    prepared: Arc<Prepared>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> BenchResult<usize> {
    let list = format!("{base}/v1/notifications/webhooks/{}/deliveries?page_size=10", prepared.webhook);
    let verify = format!("{base}/v1/notifications/verify-webhook-signature");
    let check = json!({"webhook_id": prepared.webhook, "headers": {"webhook-id": "evt_x", "webhook-timestamp": "1", "webhook-signature": "v1,x"}, "body": "{}"});
    let mut calls = 0;
    while !stop.load(Ordering::Relaxed) {
        let request = match calls % 2 {
            0 => http.get(&list),
            _ => http.post(&verify).json(&check),
        };
        let response = request.basic_auth(&prepared.client_id, Some(&prepared.client_secret)).send().await?;
        if !response.status().is_success() {
            return Err(format!("a merchant call answered {}", response.status()).into());
        }
        response.bytes().await?;
        calls += 1;
    }
    Ok(calls)
}

async fn through_herald(
    args: &Args,
    http: &reqwest::Client,
    receiver: &str,
    arrivals: &Arc<receiver::Arrivals>,
    resource: &Value,
) -> BenchResult<Figures> {
    let (bases, token, cluster) = match (&args.url, &args.admin_token) {
        (Some(url), Some(token)) => (vec![url.clone()], token.clone(), None),
        (Some(_), None) => return Err("--url needs --admin-token".into()),
        (None, _) => {
            let cluster = start_cluster(args).await?;
            (cluster.bases.clone(), BENCH_TOKEN.to_owned(), Some(cluster))
        }
    };
    let prepared = Arc::new(prepare(args, http, &bases[0], &token, receiver).await?);
    let account = prepared.account.clone();
    let meter = cluster.as_ref().map(Cluster::meter);
    let metered = match &meter {
        Some(meter) => Some(meter.start().await?),
        None => None,
    };
    let body = bytes::Bytes::from(serde_json::to_vec(
        &json!({"account_id": account, "event_type": "charge.succeeded", "resource": resource}),
    )?);
    let next = Arc::new(AtomicUsize::new(0));
    let started: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::with_capacity(args.events)));
    let start = Instant::now();
    let mut publishers = Vec::new();
    for _ in 0..args.concurrency {
        let (http, urls, token, body, next, started, args) = (
            http.clone(),
            bases.iter().map(|base| format!("{base}/v1/events")).collect::<Vec<_>>(),
            token.clone(),
            body.clone(),
            next.clone(),
            started.clone(),
            args.clone(),
        );
        publishers.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= args.events {
                    return Ok::<_, Box<dyn std::error::Error + Send + Sync>>(());
                }
                pace(start, index, args.rate).await;
                let sent = Instant::now();
                let response = http
                    .post(&urls[index % urls.len()])
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
                if response.status() != 202 {
                    return Err(format!("publish answered {}", response.status()).into());
                }
                let accepted = response.bytes().await?;
                started.lock().unwrap().insert(event_id(&accepted)?, sent);
            }
        }));
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let merchants: Vec<_> = (0..args.merchant_clients)
        .map(|n| {
            tokio::spawn(merchant_client(http.clone(), bases[n % bases.len()].clone(), prepared.clone(), stop.clone()))
        })
        .collect();
    for publisher in publishers {
        publisher.await??;
    }
    let published_in = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut merchant_calls = 0;
    for merchant in merchants {
        merchant_calls += merchant.await??;
    }
    if !arrivals.wait_for(args.events, Duration::from_secs(300)).await {
        return Err(format!("only {} of {} events arrived", arrivals.unique(), args.events).into());
    }
    let first_arrivals = arrivals.take();
    let started = std::mem::take(&mut *started.lock().unwrap());
    let last_arrival = first_arrivals.values().max().copied().unwrap_or(start);
    let latencies = started
        .iter()
        .filter_map(|(id, sent)| first_arrivals.get(id).map(|arrived| arrived.saturating_duration_since(*sent)))
        .collect();
    if arrivals.requests() > args.events {
        println!("  note: {} requests for {} events", arrivals.requests(), args.events);
    }
    let cost = match (&meter, metered) {
        (Some(meter), Some(started)) => Some(meter.finish(started, args.events).await?),
        _ => None,
    };
    drop(meter);
    if let Some(Cluster { schema, nodes, .. }) = cluster {
        drop(nodes); // stop the nodes before their schema goes
        if let Some(schema) = schema {
            schema.drop_schema().await?;
        }
    }
    Ok(Figures {
        publish_per_s: args.events as f64 / published_in.as_secs_f64(),
        merchant_per_s: merchant_calls as f64 / published_in.as_secs_f64(),
        deliveries_per_s: args.events as f64 / last_arrival.duration_since(start).as_secs_f64(),
        latency: Latency::of(latencies),
        cost,
    })
}

/// The accepted event's id, read from the start of the body (`{"id":"evt_…"`) without a full parse.
fn event_id(accepted: &[u8]) -> BenchResult<String> {
    let text = std::str::from_utf8(accepted.get(..64).unwrap_or(accepted))?;
    let rest = text.strip_prefix("{\"id\":\"").ok_or("unexpected publish response")?;
    Ok(rest.split('"').next().ok_or("unexpected publish response")?.to_owned())
}
