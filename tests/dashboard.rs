//! The dashboard, driven in a real headless Chromium (Debian's `chromium` and `chromium-driver`) against a
//! real `herald serve` process and a real receiver: sign in, create a webhook (after a refused attempt),
//! see published events under the right tab, read a delivery's exact body and status, resend it, reveal and
//! roll the secret, send a test event, switch to French, sign out, and find another account's pages 404.
//!
//! Runs when `chromedriver` is installed; under `CI=true` it must be. The screenshots of the webhook page
//! (desktop and phone widths) are written to `docs/screenshots/`.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use common::HeraldProcess;
use fantoccini::{Client, ClientBuilder, Locator};
use herald_signature::standard::{SigningSecret, verify_request};
use serde_json::{Value, json};

const TOKEN: &str = "dashboard-test-admin-token";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// What the receiver got: headers and body of each request.
type Arrivals = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver that answers 500 "nope" to resources marked `"outcome": "fail"` and 200 "ok" to the rest.
async fn start_receiver(arrivals: Arrivals) -> String {
    async fn receive(State(arrivals): State<Arrivals>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
        let fail = serde_json::from_slice::<Value>(&body).is_ok_and(|v| v["resource"]["outcome"] == "fail");
        arrivals.lock().unwrap().push((headers, body));
        if fail { (StatusCode::INTERNAL_SERVER_ERROR, "nope") } else { (StatusCode::OK, "ok") }
    }
    let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(arrivals);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/hook")
}

/// `chromedriver` on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The driver, or `None` (with a note) when it is not installed outside CI.
fn start_driver() -> Option<Driver> {
    let installed = std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
    if !installed {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true needs Chromium and ChromeDriver: apt-get install chromium chromium-driver"
        );
        eprintln!("skipping: {CHROMEDRIVER} or {CHROMIUM} is not installed");
        return None;
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(address).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on {address}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Driver { child, url: format!("http://{address}") })
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        "--window-size=1280,1000",
    ];
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": CHROMIUM, "args": args, "prefs": { "intl.accept_languages": "en-US,en" } }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(capabilities).connect(&driver.url).await.expect("a browser session")
}

async fn text(client: &Client, css: &str) -> String {
    client.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
}

async fn click(client: &Client, css: &str) {
    client.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
}

async fn fill(client: &Client, css: &str, value: &str) {
    let field = client.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

async fn count(client: &Client, css: &str) -> usize {
    client.find_all(Locator::Css(css)).await.unwrap().len()
}

/// Reloads `url` until `css` matches `expected` elements (deliveries finish in the background).
async fn reload_until(client: &Client, url: &str, css: &str, expected: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        client.goto(url).await.unwrap();
        let found = count(client, css).await;
        if found == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{url}: {css} matched {found}, expected {expected}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn operator_post(http: &reqwest::Client, url: String, body: Value) -> Value {
    let response = http.post(url).bearer_auth(TOKEN).json(&body).send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn create_account(http: &reqwest::Client, base: &str, name: &str) -> Value {
    operator_post(http, format!("{base}/v1/accounts"), json!({ "name": name })).await
}

async fn sign_in(client: &Client, base: &str, account: &Value) {
    client.goto(&format!("{base}/dashboard/webhooks")).await.unwrap();
    client.wait().for_element(Locator::Css("#client_id")).await.unwrap();
    fill(client, "#client_id", account["client_id"].as_str().unwrap()).await;
    fill(client, "#client_secret", account["client_secret"].as_str().unwrap()).await;
    click(client, "#sign-in").await;
    client.wait().for_element(Locator::Css("#logout")).await.unwrap();
}

fn screenshots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether the delivered request verifies with `secret` (the receiver's own check).
fn verifies(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let secret = SigningSecret::parse(secret).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    verify_request(&secret, |name| headers.get(name).and_then(|v| v.to_str().ok()), body, now).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_works_through_the_webhook_page_in_a_real_browser() {
    let Some(driver) = start_driver() else { return };
    let data = tempfile::tempdir().unwrap();
    let herald = HeraldProcess::start(data.path(), TOKEN, &[], &[("HERALD_RETRY_SCHEDULE", "200ms")]);
    let base = herald.base.clone();
    let http = reqwest::Client::new();
    let arrivals: Arrivals = Arc::default();
    let receiver = start_receiver(arrivals.clone()).await;
    let put = http.put(format!("{base}/v1/event-types/test.ping")).bearer_auth(TOKEN);
    assert!(
        put.json(&json!({ "description": "A ping for tests", "sample": { "id": "ping_sample", "outcome": "ok" } }))
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let acme = create_account(&http, &base, "Acme Payments").await;
    let other = create_account(&http, &base, "Other Shop").await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;

    // Signing in lands on the empty webhooks list, which says what to do next.
    sign_in(&client, &base, &acme).await;
    assert!(text(&client, "#empty-webhooks").await.contains("Add one"));

    // A refused form names the problem next to the field and keeps what was typed.
    click(&client, "#new-webhook").await;
    fill(&client, "#url", "ftp://not-a-webhook").await;
    fill(&client, "#description", "Orders service").await;
    click(&client, "#save-webhook").await;
    assert!(!text(&client, "#url-error").await.is_empty());
    let kept = client.find(Locator::Css("#url")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("ftp://not-a-webhook"));
    let kept = client.find(Locator::Css("#description")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("Orders service"));
    // No event type chosen either: that is named too, once the URL is right.
    fill(&client, "#url", &receiver).await;
    click(&client, "#save-webhook").await;
    assert!(!text(&client, "#event_types-error").await.is_empty());
    click(&client, "input[name=event_types][value='test.ping']").await;
    click(&client, "#save-webhook").await;
    assert_eq!(text(&client, "#webhook-url").await, receiver);
    let page_url = client.current_url().await.unwrap().to_string();
    let webhook_id = page_url.split("/dashboard/webhooks/").nth(1).unwrap().split('?').next().unwrap().to_owned();

    // Three events through the API: two succeed, one fails every attempt.
    let mut published = Vec::new();
    for outcome in ["ok", "fail", "ok"] {
        let body = json!({ "account_id": acme["id"], "event_type": "test.ping", "resource": { "id": format!("ping_{outcome}"), "outcome": outcome } });
        published.push(operator_post(&http, format!("{base}/v1/events"), body).await);
    }
    let details = format!("{base}/dashboard/webhooks/{webhook_id}");
    reload_until(&client, &format!("{details}?tab=failed"), "#attempt-rows tbody tr", 1).await;
    reload_until(&client, &format!("{details}?tab=succeeded"), "#attempt-rows tbody tr", 2).await;
    reload_until(&client, &format!("{details}?tab=all"), "#attempt-rows tbody tr", 3).await;
    let failed_event = published[1]["id"].as_str().unwrap();

    // Open the failed one: the exact body, the status and the response.
    client.goto(&format!("{details}?tab=failed")).await.unwrap();
    click(&client, &format!("tr[data-event='{failed_event}'] a")).await;
    let shown = text(&client, "#request-body").await;
    let lines = count(&client, "#request-body li").await;
    assert!(lines > 5, "the body is pretty-printed, one numbered line each ({lines})");
    let is_failing = |body: &Bytes| serde_json::from_slice::<Value>(body).is_ok_and(|v| v["id"] == failed_event);
    let delivered = arrivals.lock().unwrap().iter().find(|(_, body)| is_failing(body)).cloned();
    let (_, delivered_body) = delivered.expect("the failing event reached the receiver");
    let shown: Value = serde_json::from_str(&shown).expect("the shown body is the JSON that was sent");
    assert_eq!(shown, serde_json::from_slice::<Value>(&delivered_body).unwrap());
    assert_eq!(text(&client, "#detail-http-status").await, "500");
    assert_eq!(text(&client, "#response-body").await, "nope");

    // Screenshots of the page with a delivery open, at desktop and phone widths.
    let dir = screenshots_dir();
    client.set_window_size(1280, 1400).await.unwrap();
    std::fs::write(dir.join("webhook-details-desktop.png"), client.screenshot().await.unwrap()).unwrap();
    client.set_window_size(390, 1800).await.unwrap();
    std::fs::write(dir.join("webhook-details-phone.png"), client.screenshot().await.unwrap()).unwrap();
    client.set_window_size(1280, 1000).await.unwrap();

    // Resend it: a new delivery of the same event appears and the receiver gets it again.
    let before = arrivals.lock().unwrap().len();
    click(&client, "#resend").await;
    assert!(!text(&client, "#notice").await.is_empty());
    reload_until(&client, &format!("{details}?tab=all"), &format!("tr[data-event='{failed_event}']"), 2).await;
    assert!(arrivals.lock().unwrap().len() > before);

    // Reveal the secret: it is the one deliveries are signed with.
    click(&client, "#reveal-secret").await;
    let secret = text(&client, "#secret-value").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let (headers, body) = arrivals.lock().unwrap().last().cloned().unwrap();
    assert!(verifies(&secret, &headers, &body), "the revealed secret verifies a real delivery");

    // Roll it with a grace period: a new secret, the old one still listed.
    client
        .find(Locator::XPath("//section[@id='signing-secret']//details/summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.find(Locator::Css("#grace-hours")).await.unwrap().select_by_value("1").await.unwrap();
    click(&client, "#roll-secret").await;
    assert_eq!(text(&client, ".previous-secret").await, secret);
    let rolled = text(&client, "#secret-value").await;
    assert!(rolled.starts_with("whsec_") && rolled != secret);

    // Send a test event: it arrives signed with both secrets, and shows in the list.
    client.find(Locator::Css("#test-event-type")).await.unwrap().select_by_value("test.ping").await.unwrap();
    let before = arrivals.lock().unwrap().len();
    click(&client, "#send-test-event").await;
    assert!(!text(&client, "#notice").await.is_empty());
    let deadline = Instant::now() + Duration::from_secs(10);
    while arrivals.lock().unwrap().len() == before {
        assert!(Instant::now() < deadline, "the test event did not arrive");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (headers, body) = arrivals.lock().unwrap().last().cloned().unwrap();
    assert!(verifies(&rolled, &headers, &body) && verifies(&secret, &headers, &body));
    reload_until(&client, &format!("{details}?tab=all"), "#attempt-rows tbody tr", 5).await;

    // The events list and one event's page with where it went.
    client.goto(&format!("{base}/dashboard/events")).await.unwrap();
    assert_eq!(count(&client, "#events tbody tr").await, 3, "simulated events are not listed");
    click(&client, &format!("tr[data-event='{failed_event}'] a")).await;
    assert_eq!(count(&client, "#sent-to tbody tr").await, 2);

    // French, from the switch on the page.
    client.goto(&details).await.unwrap();
    click(&client, ".lang-switch summary").await;
    click(&client, "a[data-lang='fr']").await;
    client.wait().for_element(Locator::Css("html[lang='fr']")).await.unwrap();
    assert_eq!(text(&client, "#attempts h2").await, "Tentatives");
    assert_eq!(text(&client, "a[data-tab='failed']").await, "Échecs");
    assert_eq!(text(&client, "#logout").await, "Se déconnecter");

    // Sign out; the pages need signing in again.
    click(&client, "#logout").await;
    client.wait().for_element(Locator::Css("#client_id")).await.unwrap();
    client.goto(&details).await.unwrap();
    client.wait().for_element(Locator::Css("#client_id")).await.unwrap();

    // Another account sees nothing of Acme's: its webhook and event pages are 404.
    sign_in(&client, &base, &other).await;
    client.goto(&details).await.unwrap();
    assert_eq!(text(&client, "main h1").await, "404");
    client.goto(&format!("{base}/dashboard/events/{failed_event}")).await.unwrap();
    assert_eq!(text(&client, "main h1").await, "404");
    client.close().await.unwrap();
}
