//! The client subcommands, run as separate processes against a real `herald serve`: `herald listen`
//! forwards every published event to a local receiver, signed so that it verifies, and loses none when it
//! is killed and restarted mid-stream or when the network to Herald drops for a while; `trigger`, `events tail`, `events resend` and `webhooks` do what
//! they say; every subcommand's `--help` has an example.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use common::{HeraldProcess, Requests, start_recording_receiver};
use herald_signature::standard::{SigningSecret, verify_request};
use serde_json::{Value, json};

const TOKEN: &str = "cli-client-test-token";

type Arrivals = Requests;

fn accept(_: &[u8]) -> (axum::http::StatusCode, &'static str) {
    (axum::http::StatusCode::OK, "ok")
}

static FAILED_ONCE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Fails the first request whose body says `fail-once`, then accepts everything.
fn fail_marked_once(body: &[u8]) -> (axum::http::StatusCode, &'static str) {
    let marked = body.windows(9).any(|w| w == b"fail-once");
    if marked && !FAILED_ONCE.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "not yet");
    }
    (axum::http::StatusCode::OK, "ok")
}

async fn start_receiver(arrivals: Arrivals) -> String {
    start_recording_receiver(arrivals, accept).await
}

/// A `herald` client process whose output lines arrive on a channel.
struct Client {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Client {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .env_remove("HERALD_ADMIN_TOKEN")
            .env("HOME", std::env::temp_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (sender, lines) = mpsc::channel();
        let stdout: ChildStdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next line that contains `text`, waiting at most `limit`.
    fn line_with(&self, text: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("no line with {text:?} within {limit:?}"),
            }
        }
    }

    fn all_lines(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    fn signal(&mut self, signal: &str) {
        Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .env_remove("HERALD_ADMIN_TOKEN")
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status.success(), text(output.stdout), text(output.stderr))
}

fn verifies(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let secret = SigningSecret::parse(secret).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    verify_request(&secret, |name| headers.get(name).and_then(|v| v.to_str().ok()), body, now).is_ok()
}

fn event_ids(arrivals: &Arrivals) -> Vec<String> {
    arrivals.lock().unwrap().iter().map(|(h, _)| h["webhook-id"].to_str().unwrap().to_owned()).collect()
}

async fn wait_for_ids(arrivals: &Arrivals, wanted: &[String], limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let got = event_ids(arrivals);
        if wanted.iter().all(|id| got.contains(id)) {
            return;
        }
        let missing: Vec<_> = wanted.iter().filter(|id| !got.contains(id)).collect();
        assert!(Instant::now() < deadline, "never forwarded: {missing:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Setup {
    herald: HeraldProcess,
    http: reqwest::Client,
    account: Value,
    _data: tempfile::TempDir,
}

async fn setup() -> Setup {
    let data = tempfile::tempdir().unwrap();
    let herald = HeraldProcess::start(data.path(), TOKEN, &[], &[]);
    let http = reqwest::Client::new();
    let put = http.put(format!("{}/v1/event-types/test.ping", herald.base)).bearer_auth(TOKEN);
    let entry = json!({ "description": "A ping", "sample": { "id": "ping_sample", "note": "from the catalog" } });
    assert!(put.json(&entry).send().await.unwrap().status().is_success());
    let account = http
        .post(format!("{}/v1/accounts", herald.base))
        .bearer_auth(TOKEN)
        .json(&json!({ "name": "Listening shop" }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    Setup { herald, http, account, _data: data }
}

impl Setup {
    fn merchant_flags(&self) -> Vec<String> {
        let text = |k: &str| self.account[k].as_str().unwrap().to_owned();
        vec![
            "--url".into(),
            self.herald.base.clone(),
            "--client-id".into(),
            text("client_id"),
            "--client-secret".into(),
            text("client_secret"),
        ]
    }

    async fn publish(&self, n: usize) -> String {
        let published = self.publish_resource(json!({ "id": format!("ping_{n}") })).await;
        serde_json::from_slice::<Value>(&published).unwrap()["id"].as_str().unwrap().to_owned()
    }

    /// Publishes a `test.ping` with `resource`; returns the answer's bytes (the event as delivered).
    async fn publish_resource(&self, resource: Value) -> bytes::Bytes {
        let body = json!({ "account_id": self.account["id"], "event_type": "test.ping", "resource": resource });
        let answer = self
            .http
            .post(format!("{}/v1/events", self.herald.base))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 202);
        answer.bytes().await.unwrap()
    }

    /// `herald listen` forwarding to `receiver`, reaching Herald at `url`, with its state in `state`.
    fn listen_args(&self, receiver: &str, state: &std::path::Path, url: &str) -> Vec<String> {
        let mut args: Vec<String> =
            vec!["listen".into(), "--forward-to".into(), receiver.into(), "--state-file".into()];
        args.push(state.join("listen.json").display().to_string());
        args.extend(self.merchant_flags());
        let at = args.iter().position(|a| a == "--url").unwrap() + 1;
        args[at] = url.to_owned();
        args
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_forwards_every_event_signed_and_survives_a_kill_and_restart() {
    let setup = setup().await;
    let arrivals: Arrivals = Arc::default();
    let receiver = start_receiver(arrivals.clone()).await;
    let state = tempfile::tempdir().unwrap();
    let state_file = state.path().join("listen.json");
    let mut args: Vec<String> = vec![
        "listen".into(),
        "--forward-to".into(),
        receiver.clone(),
        "--state-file".into(),
        state_file.display().to_string(),
    ];
    args.extend(setup.merchant_flags());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let mut listen = Client::start(&args);
    let ready = listen.line_with("Ready!", Duration::from_secs(20));
    let secret = ready.split_whitespace().find(|w| w.starts_with("whsec_")).unwrap().to_owned();

    // Published through the API: each forwarded with a signature that verifies with the printed secret.
    let mut published = Vec::new();
    for n in 0..5 {
        published.push(setup.publish(n).await);
    }
    wait_for_ids(&arrivals, &published, Duration::from_secs(20)).await;
    for (headers, body) in arrivals.lock().unwrap().iter() {
        assert!(verifies(&secret, headers, body), "a forwarded event verifies");
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["id"], headers["webhook-id"].to_str().unwrap());
    }
    listen.line_with(&format!("--> test.ping [{}]", published[4]), Duration::from_secs(5));
    listen.line_with(&format!("<-- [200] POST {receiver}"), Duration::from_secs(5));

    // Killed (no clean-up at all) in the middle of a stream of events, then started again: nothing is lost.
    let publishing = {
        let setup_base = setup.herald.base.clone();
        let (http, account) = (setup.http.clone(), setup.account.clone());
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 100..130 {
                let body = json!({ "account_id": account["id"], "event_type": "test.ping", "resource": { "id": format!("ping_{n}") } });
                let answer =
                    http.post(format!("{setup_base}/v1/events")).bearer_auth(TOKEN).json(&body).send().await.unwrap();
                ids.push(answer.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            ids
        })
    };
    let before = event_ids(&arrivals).len();
    let deadline = Instant::now() + Duration::from_secs(20);
    while event_ids(&arrivals).len() < before + 5 {
        assert!(Instant::now() < deadline, "the stream did not get going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    listen.signal("-KILL");
    let _ = listen.child.wait();
    let forwarded_before_kill = event_ids(&arrivals).len() - before;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let restarted = Client::start(&args);
    let resumed = restarted.line_with("Resuming listener", Duration::from_secs(20));
    assert!(resumed.contains("after evt_"), "{resumed}");
    let second_batch = publishing.await.unwrap();
    wait_for_ids(&arrivals, &second_batch, Duration::from_secs(30)).await;
    assert!(forwarded_before_kill < second_batch.len(), "the kill happened mid-stream ({forwarded_before_kill})");
    for (headers, body) in arrivals.lock().unwrap().iter() {
        assert!(verifies(&secret, headers, body), "the restarted listener signs with the same secret");
    }

    // `herald trigger` publishes the catalog's sample for the account of the client id; listen forwards it.
    let mut trigger: Vec<String> = vec!["trigger".into(), "test.ping".into(), "--admin-token".into(), TOKEN.into()];
    trigger.extend(setup.merchant_flags());
    let (ok, out, err) = run(&trigger.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "{err}");
    let triggered = out.split('[').nth(1).unwrap().trim_end().trim_end_matches(']').to_owned();
    wait_for_ids(&arrivals, std::slice::from_ref(&triggered), Duration::from_secs(20)).await;
    let sample = arrivals.lock().unwrap().iter().find(|(h, _)| h["webhook-id"] == triggered.as_str()).cloned().unwrap();
    let event: Value = serde_json::from_slice(&sample.1).unwrap();
    assert_eq!(event["resource"]["note"], "from the catalog");

    // A clean stop deletes the listener.
    let mut restarted = restarted;
    restarted.signal("-TERM");
    let listener = restarted.line_with("deleted", Duration::from_secs(10));
    let id = listener.split_whitespace().find(|w| w.starts_with("lsn_")).unwrap().to_owned();
    let gone = setup
        .http
        .get(format!("{}/v1/notifications/listeners/{id}", setup.herald.base))
        .basic_auth(setup.account["client_id"].as_str().unwrap(), setup.account["client_secret"].as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    assert!(!state_file.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_reconnects_after_a_network_blip_and_loses_nothing() {
    let setup = setup().await;
    let arrivals: Arrivals = Arc::default();
    let receiver = start_receiver(arrivals.clone()).await;
    // The listener reaches Herald through a proxy that the test cuts and restores.
    let proxy = common::Proxy::start(setup.herald.base.trim_start_matches("http://").to_owned()).await;
    let state = tempfile::tempdir().unwrap();
    let args = setup.listen_args(&receiver, state.path(), &format!("http://{}", proxy.address));
    let listen = Client::start(&args.iter().map(String::as_str).collect::<Vec<_>>());
    listen.line_with("Ready!", Duration::from_secs(20));

    let mut published = vec![setup.publish(1).await];
    wait_for_ids(&arrivals, &published, Duration::from_secs(20)).await;
    proxy.cut();
    for n in 2..6 {
        published.push(setup.publish(n).await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(event_ids(&arrivals).len(), 1, "nothing gets through while the network is down");
    proxy.restore();
    wait_for_ids(&arrivals, &published, Duration::from_secs(20)).await;
    assert_eq!(event_ids(&arrivals).len(), published.len(), "each event once: the stream resumed after the last one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_tail_and_resend_from_the_command_line() {
    let setup = setup().await;
    let arrivals: Arrivals = Arc::default();
    let receiver = start_receiver(arrivals.clone()).await;
    let flags = setup.merchant_flags();
    let with =
        |head: &[&str]| -> Vec<String> { head.iter().map(|s| s.to_string()).chain(flags.iter().cloned()).collect() };
    let call = |args: Vec<String>| run(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let (ok, out, err) = call(with(&["webhooks", "create", &receiver, "--events", "test.ping", "--json"]));
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    let webhook = created["id"].as_str().unwrap().to_owned();
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let (ok, out, _) = call(with(&["webhooks", "list"]));
    assert!(ok && out.starts_with("ID") && out.contains(&webhook) && out.contains(&receiver), "{out}");
    let (ok, _, err) = call(with(&["webhooks", "create", "not a url"]));
    assert!(!ok && err.contains("422") && err.contains("url"), "a refusal names the field: {err}");

    let tail = Client::start(
        &with(&["events", "tail", "--json", "--interval-ms", "200"]).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    // Deliveries made after the command started are news; give the process a moment to start.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let event = setup.publish(1).await;
    let line = tail.line_with(&event, Duration::from_secs(15));
    let change: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(change["webhook_id"], webhook.as_str());

    let (ok, out, err) = call(with(&["events", "resend", &event, "--webhook", &webhook]));
    assert!(ok && out.contains("Resent"), "{err}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while event_ids(&arrivals).iter().filter(|id| **id == event).count() < 2 {
        assert!(Instant::now() < deadline, "the resend did not arrive");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let resent = tail.line_with(&event, Duration::from_secs(15));
    assert_ne!(resent, line, "tail shows the resend as a new delivery");

    let (ok, out, _) = call(with(&["webhooks", "delete", &webhook]));
    assert!(ok && out.contains(&webhook));
    let (_, out, _) = call(with(&["webhooks", "list", "--json"]));
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!([]));
    drop(tail.all_lines());
}

/// A burst of a thousand events between two looks of `events tail` (larger than a page of deliveries):
/// every delivery is shown succeeding, and none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_shows_every_delivery_of_a_burst_once() {
    let setup = setup().await;
    let arrivals: Arrivals = Arc::default();
    let receiver = start_receiver(arrivals.clone()).await;
    let flags = setup.merchant_flags();
    let with =
        |head: &[&str]| -> Vec<String> { head.iter().map(|s| s.to_string()).chain(flags.iter().cloned()).collect() };
    let (ok, _, err) = run(&with(&["webhooks", "create", &receiver]).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "{err}");
    let args = with(&["events", "tail", "--json", "--interval-ms", "1000"]);
    let tail = Client::start(&args.iter().map(String::as_str).collect::<Vec<_>>());
    tokio::time::sleep(Duration::from_millis(500)).await;

    let events: Vec<Value> = (0..1000)
        .map(|n| json!({"account_id": setup.account["id"], "event_type": "test.ping", "resource": {"n": n}}))
        .collect();
    let answer = setup
        .http
        .post(format!("{}/v1/events/batch", setup.herald.base))
        .bearer_auth(TOKEN)
        .json(&json!({ "events": events }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let published: Value = answer.json().await.unwrap();
    let published: HashSet<String> =
        published["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(published.len(), 1000);

    let mut succeeded: HashMap<String, usize> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while succeeded.len() < published.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = tail.lines.recv_timeout(left).unwrap_or_else(|_| panic!("{} deliveries shown", succeeded.len()));
        let change: Value = serde_json::from_str(&line).unwrap();
        if change["status"] == "succeeded" {
            *succeeded.entry(change["event_id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    std::thread::sleep(Duration::from_millis(1_500));
    for line in tail.all_lines() {
        let change: Value = serde_json::from_str(&line).unwrap();
        if change["status"] == "succeeded" {
            *succeeded.entry(change["event_id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    assert_eq!(succeeded.keys().cloned().collect::<HashSet<_>>(), published, "every delivery of the burst");
    assert!(succeeded.values().all(|&n| n == 1), "none shown succeeding twice");
}

#[test]
fn every_subcommand_says_how_to_use_it_with_an_example() {
    let commands: &[&[&str]] = &[
        &[],
        &["serve"],
        &["demo"],
        &["migrate"],
        &["verify"],
        &["listen"],
        &["trigger"],
        &["events", "tail"],
        &["events", "resend"],
        &["webhooks", "list"],
        &["webhooks", "create"],
        &["webhooks", "delete"],
        &["completions"],
    ];
    for command in commands {
        let mut args: Vec<&str> = command.to_vec();
        args.push("--help");
        let (ok, out, err) = run(&args);
        assert!(ok, "{command:?}: {err}");
        assert!(out.contains("Example"), "`herald {} --help` has no example:\n{out}", command.join(" "));
    }
    let (ok, out, _) = run(&["completions", "bash"]);
    assert!(ok && out.contains("herald") && out.contains("listen"));
}

/// The stream reaches the CLI in 3-byte pieces, so the event's multibyte characters are split across
/// reads; the handler fails the first forward. The handler still gets the exact bytes Herald published,
/// on the second try.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_keeps_split_characters_whole_and_tries_a_failed_forward_again() {
    let setup = setup().await;
    let arrivals: Arrivals = Arc::default();
    let receiver = start_recording_receiver(arrivals.clone(), fail_marked_once).await;
    let proxy = common::Proxy::start_trickling(setup.herald.base.trim_start_matches("http://").to_owned(), 3).await;
    let state = tempfile::tempdir().unwrap();
    let args = setup.listen_args(&receiver, state.path(), &format!("http://{}", proxy.address));
    let listen = Client::start(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let ready = listen.line_with("Ready!", Duration::from_secs(20));
    let secret = ready.split_whitespace().find(|w| w.starts_with("whsec_")).unwrap().to_owned();

    let note = "Grüße aus Zürich — 東京 €5 🎉 ".repeat(20);
    let published = setup.publish_resource(json!({ "id": "ping_utf8", "note": note, "marker": "fail-once" })).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while arrivals.lock().unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "the failed forward was not tried again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = arrivals.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "one failure, one success, nothing more");
    for (headers, forwarded) in &got {
        assert_eq!(forwarded, &published, "the exact bytes Herald published");
        assert!(verifies(&secret, headers, forwarded));
    }
    let event: Value = serde_json::from_slice(&got[1].1).unwrap();
    assert_eq!(event["resource"]["note"], note.as_str());
    listen.line_with(&format!("<-- [500] POST {receiver}"), Duration::from_secs(5));
    listen.line_with("trying again", Duration::from_secs(5));
    listen.line_with(&format!("<-- [200] POST {receiver}"), Duration::from_secs(5));
}
