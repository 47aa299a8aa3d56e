//! Clients that hold connections without finishing requests: idle connections, headers sent half-way,
//! bodies that stop or trickle. Real requests still answer promptly while they are open, the server closes each of
//! them within its timeout, and a connection beyond the cap waits until a place is free.

mod common;

use std::time::{Duration, Instant};

use common::HeraldProcess;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "hostile-clients-token";
const TIMEOUT: Duration = Duration::from_secs(2);

fn address(base: &str) -> String {
    base.trim_start_matches("http://").to_owned()
}

/// Opens `n` connections and writes `prefix` on each (nothing, half a request head, a head and half a body).
async fn open(base: &str, n: usize, prefix: &str) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let mut stream = TcpStream::connect(address(base)).await.unwrap();
        stream.write_all(prefix.as_bytes()).await.unwrap();
        streams.push(stream);
    }
    streams
}

/// How long after `since` the server closed `stream` (read to its end); `answer` is what it must have said
/// first (nothing to a client that never finished its head, 408 to one whose body stopped).
async fn closed_after(
    mut stream: TcpStream,
    since: Instant,
    limit: Duration,
    answer: &str,
) -> Result<Duration, String> {
    let mut buffer = [0u8; 4096];
    let mut answered = Vec::new();
    loop {
        match tokio::time::timeout_at((since + limit).into(), stream.read(&mut buffer)).await {
            Err(_) => return Err(format!("still open after {limit:?}")),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answered.extend_from_slice(&buffer[..n]),
        }
    }
    let answered = String::from_utf8_lossy(&answered);
    assert!(answered.starts_with(answer), "what a stalled client is told: {answered:?}, not {answer:?}");
    Ok(since.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_connections_are_closed_in_time_and_do_not_starve_real_requests() {
    let data_dir = tempfile::tempdir().unwrap();
    let env = [("HERALD_IDLE_TIMEOUT", "2s"), ("HERALD_BODY_TIMEOUT", "2s"), ("HERALD_MAX_CONNECTIONS", "200")];
    let herald = HeraldProcess::start(data_dir.path(), TOKEN, &[], &env);
    let opened = Instant::now();
    let mut stalled: Vec<_> = open(&herald.base, 60, "").await.into_iter().map(|s| (s, "")).collect();
    let half_head = open(&herald.base, 30, "POST /v1/events HTTP/1.1\r\nHost: herald\r\nContent-Ty").await;
    stalled.extend(half_head.into_iter().map(|s| (s, "")));
    let head = "POST /v1/events HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer hostile-clients-token\r\n\
                Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"account_id\": ";
    stalled.extend(open(&herald.base, 30, head).await.into_iter().map(|s| (s, "HTTP/1.1 408")));
    // And bodies trickled a byte every half second: the timeout is for the whole body, not between pieces.
    let mut tricklers = Vec::new();
    for stream in open(&herald.base, 10, head).await {
        let (mut reader, mut writer) = stream.into_split();
        let trickle = tokio::spawn(async move {
            while writer.write_all(b" ").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        tricklers.push(tokio::spawn(async move {
            let mut answered = Vec::new();
            let deadline = opened + TIMEOUT * 3;
            let mut buffer = [0u8; 1024];
            loop {
                match tokio::time::timeout_at(deadline.into(), reader.read(&mut buffer)).await {
                    Err(_) => panic!("a trickled body still open after {:?}", TIMEOUT * 3),
                    Ok(Ok(0)) | Ok(Err(_)) => break,
                    Ok(Ok(n)) => answered.extend_from_slice(&buffer[..n]),
                }
            }
            trickle.abort();
            assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 408"), "a trickler is told 408");
            opened.elapsed()
        }));
    }

    // While 120 connections hang, real callers are answered at once.
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    for _ in 0..20 {
        let started = Instant::now();
        let answer = http.get(format!("{}/v1/event-types", herald.base)).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        assert!(started.elapsed() < Duration::from_secs(1), "a real request took {:?}", started.elapsed());
    }

    let closings =
        stalled.into_iter().map(|(stream, answer)| tokio::spawn(closed_after(stream, opened, TIMEOUT * 3, answer)));
    let mut slowest = Duration::ZERO;
    for closing in closings.collect::<Vec<_>>() {
        let after = closing.await.unwrap().expect("the server closes a stalled connection");
        assert!(after >= TIMEOUT - Duration::from_millis(200), "closed before its timeout: {after:?}");
        slowest = slowest.max(after);
    }
    for trickler in tricklers {
        slowest = slowest.max(trickler.await.unwrap());
    }
    println!("the slowest stalled connection was closed {slowest:?} after it opened (timeouts {TIMEOUT:?})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_beyond_the_cap_waits_for_a_place() {
    let data_dir = tempfile::tempdir().unwrap();
    let env = [("HERALD_IDLE_TIMEOUT", "2s"), ("HERALD_MAX_CONNECTIONS", "8")];
    let herald = HeraldProcess::start(data_dir.path(), TOKEN, &[], &env);
    let held = open(&herald.base, 8, "").await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let answer = http.get(format!("{}/healthz", herald.base)).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1_200),
        "the ninth connection is served only once an idle one was closed (after {waited:?})"
    );
    drop(held);
}
