//! `herald-bench --dashboard-attempts N`: how long each dashboard page takes with a big attempt log.
//!
//! It starts a fresh Herald, publishes events in batches to a webhook whose receiver fails one request in
//! eight (with one quick retry, so some deliveries fail for good and some succeed on the second try) until
//! Herald has made N attempts, signs in as the merchant and as the operator, and requests every page
//! `runs × 10` times, printing the median and the worst of the server's own time (`Server-Timing`) and of
//! the whole request on loopback.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{BENCH_TOKEN, BenchResult, spawn_herald, stats::median};

/// Events per publish call.
const BATCH: usize = 500;
const PUBLISHERS: usize = 4;

async fn start_receiver() -> BenchResult<String> {
    let seen = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let seen = seen.clone();
            async move {
                if seen.fetch_add(1, Ordering::Relaxed).is_multiple_of(8) {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{address}/hook"))
}

/// The sum of `herald_delivery_attempts_total` over its labels.
async fn attempts_made(http: &reqwest::Client, base: &str) -> BenchResult<usize> {
    let text = http.get(format!("{base}/metrics")).send().await?.text().await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("herald_delivery_attempts_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as usize)
}

/// A signed-in dashboard session: its cookie.
async fn sign_in(http: &reqwest::Client, base: &str, path: &str, fields: &[(&str, &str)]) -> BenchResult<String> {
    let page = http.get(format!("{base}{path}")).send().await?;
    let login_cookie =
        page.headers().get("set-cookie").ok_or("no login cookie")?.to_str()?.split(';').next().unwrap_or("").to_owned();
    let html = page.text().await?;
    let start = html.find("name=\"csrf\" value=\"").ok_or("no csrf field")? + 19;
    let csrf = html[start..].split('"').next().unwrap_or_default().to_owned();
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let answer = http
        .post(format!("{base}{path}"))
        .header("cookie", login_cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&form)?)
        .send()
        .await?;
    let cookie = answer.headers().get("set-cookie").ok_or("the sign-in was refused")?.to_str()?;
    if answer.status() != StatusCode::SEE_OTHER || !cookie.starts_with("herald_session=") {
        return Err(format!("the sign-in at {path} was refused ({})", answer.status()).into());
    }
    Ok(cookie.split(';').next().unwrap_or_default().to_owned())
}

/// Times one page `times` times: (server ms, request ms) medians and worsts.
async fn time_page(http: &reqwest::Client, url: &str, cookie: &str, times: usize) -> BenchResult<[f64; 4]> {
    let (mut server, mut whole) = (Vec::new(), Vec::new());
    for _ in 0..times {
        let started = Instant::now();
        let response = http.get(url).header("cookie", cookie).send().await?;
        let status = response.status();
        let timing = response.headers().get("server-timing").and_then(|v| v.to_str().ok()).map(str::to_owned);
        response.bytes().await?;
        whole.push(started.elapsed().as_secs_f64() * 1000.0);
        if status != StatusCode::OK {
            return Err(format!("{url} answered {status}").into());
        }
        let dur = timing.and_then(|t| t.split("dur=").nth(1)?.parse::<f64>().ok()).ok_or("no Server-Timing")?;
        server.push(dur);
    }
    let worst = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    Ok([median(server.clone()), worst(&server), median(whole.clone()), worst(&whole)])
}

pub async fn run(target: usize, runs: usize) -> BenchResult<()> {
    let receiver = start_receiver().await?;
    let (base, _herald) = spawn_herald(None, 0, &[("HERALD_RETRY_SCHEDULE", "50ms")])?;
    // Redirects are not followed: a page that sends the visitor to sign in must count as a failure.
    let http = reqwest::Client::builder().tcp_nodelay(true).redirect(reqwest::redirect::Policy::none()).build()?;
    let put = http.put(format!("{base}/v1/event-types/charge.succeeded")).bearer_auth(BENCH_TOKEN);
    put.json(&json!({"description": "A charge succeeded"})).send().await?.error_for_status()?;
    let account: Value = http
        .post(format!("{base}/v1/accounts"))
        .bearer_auth(BENCH_TOKEN)
        .json(&json!({"name": "Dashboard bench"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let (client_id, client_secret) =
        (account["client_id"].as_str().unwrap_or_default(), account["client_secret"].as_str().unwrap_or_default());
    let webhook: Value = http
        .post(format!("{base}/v1/notifications/webhooks"))
        .basic_auth(client_id, Some(client_secret))
        .json(&json!({"url": receiver, "event_types": [{"name": "*"}]}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let webhook_id = webhook["id"].as_str().ok_or("no webhook id")?.to_owned();

    // Each event makes 1 attempt, or 2 when the first fails (one in eight): about 1.125 attempts each.
    let events = (target as f64 / 1.125).ceil() as usize;
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut publishers = Vec::new();
    for _ in 0..PUBLISHERS {
        let (http, base, next, account_id) = (http.clone(), base.clone(), next.clone(), account["id"].clone());
        publishers.push(tokio::spawn(async move {
            while next.fetch_add(BATCH, Ordering::Relaxed) < events {
                let batch: Vec<Value> = (0..BATCH)
                    .map(|n| json!({"account_id": account_id, "event_type": "charge.succeeded", "resource": {"object": "charge", "amount": 100 + n, "currency": "eur"}}))
                    .collect();
                let sent = http.post(format!("{base}/v1/events/batch")).bearer_auth(BENCH_TOKEN).json(&json!({"events": batch})).send().await;
                sent.map_err(|e| e.to_string())?.error_for_status().map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        }));
    }
    for publisher in publishers {
        publisher.await??;
    }
    loop {
        let made = attempts_made(&http, &base).await?;
        if made >= target {
            break;
        }
        if started.elapsed() > Duration::from_secs(1200) {
            return Err(format!("only {made} attempts after 20 minutes").into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Let the last retries finish, so the tabs hold their final counts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let made = attempts_made(&http, &base).await?;
    println!(
        "filled: {made} attempts of {} events in {:.0} s",
        events.div_ceil(BATCH) * BATCH,
        started.elapsed().as_secs_f64()
    );

    let merchant =
        sign_in(&http, &base, "/dashboard/login", &[("client_id", client_id), ("client_secret", client_secret)])
            .await?;
    let operator = sign_in(&http, &base, "/dashboard/operator/login", &[("admin_token", BENCH_TOKEN)]).await?;
    let deliveries: Value = http
        .get(format!("{base}/v1/notifications/webhooks/{webhook_id}/deliveries?page_size=100&status=failed"))
        .basic_auth(client_id, Some(client_secret))
        .send()
        .await?
        .json()
        .await?;
    let failed = deliveries["deliveries"][0].clone();
    let (delivery, event) =
        (failed["id"].as_str().unwrap_or_default(), failed["event_id"].as_str().unwrap_or_default());
    let middle: Value = http
        .get(format!("{base}/v1/notifications/webhooks/{webhook_id}/deliveries?page_size=100"))
        .basic_auth(client_id, Some(client_secret))
        .send()
        .await?
        .json()
        .await?;
    let cursor = middle["deliveries"][99]["id"].as_str().unwrap_or_default().to_owned();
    let details = format!("/dashboard/webhooks/{webhook_id}");
    let pages: Vec<(String, &str)> = vec![
        ("/dashboard/webhooks".into(), &merchant),
        (details.clone(), &merchant),
        (format!("{details}?tab=succeeded"), &merchant),
        (format!("{details}?tab=failed"), &merchant),
        (format!("{details}?tab=pending"), &merchant),
        (format!("{details}?tab=all&cursor={cursor}"), &merchant),
        (format!("{details}?tab=failed&delivery={delivery}"), &merchant),
        ("/dashboard/events".into(), &merchant),
        (format!("/dashboard/events/{event}"), &merchant),
        ("/dashboard/webhooks/new".into(), &merchant),
        ("/dashboard/operator/accounts".into(), &operator),
        ("/dashboard/operator/catalog".into(), &operator),
        ("/dashboard/operator/health".into(), &operator),
    ];
    println!("{:<70} {:>12} {:>12} {:>12} {:>12}", "page", "server p50", "server max", "request p50", "request max");
    let mut slowest: f64 = 0.0;
    for (path, cookie) in pages {
        let [server, server_max, whole, whole_max] =
            time_page(&http, &format!("{base}{path}"), cookie, runs.max(1) * 10).await?;
        slowest = slowest.max(server_max);
        let shown = if path.len() > 68 { format!("{}…", &path[..67]) } else { path.clone() };
        println!("{shown:<70} {server:>9.2} ms {server_max:>9.2} ms {whole:>9.2} ms {whole_max:>9.2} ms");
    }
    println!("slowest page, worst of all requests: {slowest:.2} ms server time (target: under 100 ms)");
    Ok(())
}
