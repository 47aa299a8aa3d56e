//! Herald's data directory on a small filesystem of its own (a size-limited tmpfs this test mounts), filled
//! by publishing: every publish is answered 202 or 503 (never 500), every event answered 202 is delivered,
//! `/readyz` names the full disk, and once space is freed Herald accepts again without a restart. Once
//! with the reserve that keeps room for accepted deliveries, once with none (SQLite itself runs out).
//!
//! Mounting needs root (or CAP_SYS_ADMIN); without it the test says so and does nothing, except under
//! `CI=true`, where it fails.

mod common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Arrivals, HeraldProcess, set_up_tenant, start_slow_receiver, wait_until_all_arrived};
use serde_json::{Value, json};

const TOKEN: &str = "disk-full-test-token";
/// Room the test takes back at the end by deleting its filler file.
const FILLER_BYTES: usize = 6 << 20;

/// A tmpfs of `size` mounted on a fresh directory; unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(&path)
            .output();
        match mounted {
            Ok(output) if output.status.success() => Some(Self { path, _dir: dir }),
            Ok(output) => refuse(&String::from_utf8_lossy(&output.stderr)),
            Err(error) => refuse(&error.to_string()),
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn refuse(why: &str) -> Option<SmallDisk> {
    let message = format!("cannot mount a small tmpfs for the disk-full test ({}); it needs root", why.trim());
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("{message}");
    }
    eprintln!("SKIPPED: {message}");
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reserve_stops_intake_before_the_disk_is_full_and_intake_resumes_when_space_is_back() {
    fill_and_recover("4MiB").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_filled_to_the_last_byte_answers_503_loses_nothing_and_recovers() {
    fill_and_recover("0").await;
}

async fn fill_and_recover(reserve: &str) {
    let Some(disk) = SmallDisk::mount("24m") else { return };
    // Held back from the start, given back at the end: the space "freed" once the disk has filled.
    let filler = disk.path.join("filler");
    std::fs::write(&filler, vec![7u8; FILLER_BYTES]).unwrap();

    let arrivals: Arrivals = Arc::default();
    let receiver = start_slow_receiver(arrivals.clone(), 16, Duration::ZERO).await;
    let env = [
        ("HERALD_DISK_RESERVE", reserve),
        ("HERALD_DELIVERY_TIMEOUT", "1s"),
        ("HERALD_LEASE_DURATION", "4s"),
        ("HERALD_RETRY_SCHEDULE", "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s"),
    ];
    let herald = HeraldProcess::start(&disk.path, TOKEN, &[], &env);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let account = set_up_tenant(&http, &herald.base, TOKEN, "payment.created", &receiver).await.account_id;

    let accepted: Arc<Mutex<HashSet<String>>> = Arc::default();
    let refused = fill(&http, &herald.base, &account, &accepted).await;
    assert!(refused >= 10, "publishing until the disk is full ends in refusals ({refused})");
    let full = accepted.lock().unwrap().len();
    assert!(full > 20, "events were accepted before the disk filled ({full})");

    let ready = http.get(format!("{}/readyz", herald.base)).send().await.unwrap();
    assert_eq!(ready.status(), 503, "a node that cannot take new events is not ready");
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["details"][0]["issue"], "DISK_FULL", "/readyz says why: {body}");

    if reserve != "0" {
        // The reserve kept room for the attempts: what was accepted is delivered while the disk is full.
        let accepted = accepted.lock().unwrap().clone();
        wait_until_all_arrived(&arrivals, &accepted, Duration::from_secs(60)).await;
    }

    std::fs::remove_file(&filler).unwrap();
    wait_until_ready(&http, &herald.base, Duration::from_secs(15)).await;
    for n in 0..5 {
        let response = publish(&http, &herald.base, &account, n, 1_000).await;
        assert_eq!(response.status(), 202, "publishing works again once space is back, without a restart");
        let event: Value = response.json().await.unwrap();
        accepted.lock().unwrap().insert(event["id"].as_str().unwrap().to_owned());
    }
    let accepted = accepted.lock().unwrap().clone();
    wait_until_all_arrived(&arrivals, &accepted, Duration::from_secs(60)).await;
    drop(herald);
    drop(disk);
}

/// Publishes large events from four tasks until each has been refused a few times in a row; returns how
/// many refusals there were. Anything but 202 or 503 fails the test.
async fn fill(http: &reqwest::Client, base: &str, account: &str, accepted: &Arc<Mutex<HashSet<String>>>) -> usize {
    let deadline = Instant::now() + Duration::from_secs(90);
    let tasks = (0..4).map(|task| {
        let (http, base, account, accepted) = (http.clone(), base.to_owned(), account.to_owned(), accepted.clone());
        tokio::spawn(async move {
            let (mut refused, mut in_a_row) = (0, 0);
            let mut n = task * 1_000_000;
            while in_a_row < 5 {
                assert!(Instant::now() < deadline, "the disk never filled");
                n += 1;
                let response = publish(&http, &base, &account, n, 100_000).await;
                match response.status().as_u16() {
                    202 => {
                        let event: Value = response.json().await.unwrap();
                        accepted.lock().unwrap().insert(event["id"].as_str().unwrap().to_owned());
                        in_a_row = 0;
                    }
                    503 => {
                        assert_eq!(response.headers()["retry-after"], "1", "a 503 says when to come back");
                        let error: Value = response.json().await.unwrap();
                        assert_eq!(error["name"], "SERVICE_UNAVAILABLE", "{error}");
                        refused += 1;
                        in_a_row += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    other => panic!("a publish on a filling disk answered {other}: {}", response.text().await.unwrap()),
                }
            }
            refused
        })
    });
    let mut refused = 0;
    for task in tasks.collect::<Vec<_>>() {
        refused += task.await.unwrap();
    }
    refused
}

async fn publish(http: &reqwest::Client, base: &str, account: &str, n: usize, size: usize) -> reqwest::Response {
    let resource = json!({"n": n, "padding": "x".repeat(size)});
    let body = json!({"account_id": account, "event_type": "payment.created", "resource": resource});
    http.post(format!("{base}/v1/events")).bearer_auth(TOKEN).json(&body).send().await.unwrap()
}

async fn wait_until_ready(http: &reqwest::Client, base: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
        if ready.status() == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "still not ready after space was freed: {}", ready.text().await.unwrap());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
