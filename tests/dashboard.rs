//! The dashboard, driven in a real headless Chromium (Debian's `chromium` and `chromium-driver`) against a
//! real `herald serve` process and a real receiver: sign in, create a webhook (after a refused attempt),
//! see published events under the right tab, read a delivery's exact body and status, resend it, reveal and
//! roll the secret, send a test event, switch to French, sign out, and find another account's pages 404.
//!
//! The browser test is ignored unless asked for (`--include-ignored`, as CI does), and then Chromium must be
//! installed. The screenshots of the webhook page (desktop and phone widths) are written to
//! `target/tmp/screenshots/` on every run, and to `docs/screenshots/` (shown in the README) with
//! `HERALD_UPDATE_SCREENSHOTS=1`.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use common::{HeraldProcess, Requests, start_recording_receiver};
use fantoccini::{Client, ClientBuilder, Locator};
use herald_signature::standard::{SigningSecret, verify_request};
use serde_json::{Value, json};

const TOKEN: &str = "dashboard-test-admin-token";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Answers 500 "nope" to resources marked `"outcome": "fail"` and 200 "ok" to the rest.
fn fail_marked(body: &[u8]) -> (StatusCode, &'static str) {
    let fail = serde_json::from_slice::<Value>(body).is_ok_and(|v| v["resource"]["outcome"] == "fail");
    if fail { (StatusCode::INTERNAL_SERVER_ERROR, "nope") } else { (StatusCode::OK, "ok") }
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

/// The driver; the browser tests are ignored unless asked for, and then Chromium must be installed.
fn start_driver() -> Driver {
    let installed = std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
    assert!(installed, "{CHROMEDRIVER} and {CHROMIUM} are needed: apt-get install chromium chromium-driver");
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
    Driver { child, url: format!("http://{address}") }
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

/// Clicks something that loads a new page, and waits until the new page has loaded.
async fn navigate(client: &Client, css: &str) {
    client.execute("window.__before_click = true;", vec![]).await.unwrap();
    click(client, css).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = client
            .execute("return window.__before_click === undefined && document.readyState === 'complete';", vec![])
            .await;
        if matches!(state, Ok(Value::Bool(true))) {
            return;
        }
        assert!(Instant::now() < deadline, "clicking {css} did not load a page");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
    navigate(client, "#sign-in").await;
    client.wait().for_element(Locator::Css("#logout")).await.unwrap();
}

/// Where the screenshots go: the build's temporary directory (an artifact of every run), and also
/// `docs/screenshots/` (which the README shows) when `HERALD_UPDATE_SCREENSHOTS=1`.
fn screenshot_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")];
    if std::env::var("HERALD_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots"));
    }
    for dir in &dirs {
        std::fs::create_dir_all(dir).unwrap();
    }
    dirs
}

async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG image");
    for dir in screenshot_dirs() {
        std::fs::write(dir.join(name), &png).unwrap();
    }
}

/// Whether the delivered request verifies with `secret` (the receiver's own check).
fn verifies(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let secret = SigningSecret::parse(secret).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    verify_request(&secret, |name| headers.get(name).and_then(|v| v.to_str().ok()), body, now).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and ChromeDriver: apt-get install chromium chromium-driver, run with --include-ignored"]
async fn a_merchant_works_through_the_webhook_page_in_a_real_browser() {
    let driver = start_driver();
    let data = tempfile::tempdir().unwrap();
    let herald = HeraldProcess::start(data.path(), TOKEN, &[], &[("HERALD_RETRY_SCHEDULE", "200ms")]);
    let base = herald.base.clone();
    let http = reqwest::Client::new();
    let arrivals: Requests = Arc::default();
    let receiver = start_recording_receiver(arrivals.clone(), fail_marked).await;
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
    navigate(&client, "#new-webhook").await;
    fill(&client, "#url", "ftp://not-a-webhook").await;
    fill(&client, "#description", "Orders service").await;
    navigate(&client, "#save-webhook").await;
    assert!(!text(&client, "#url-error").await.is_empty());
    let kept = client.find(Locator::Css("#url")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("ftp://not-a-webhook"));
    let kept = client.find(Locator::Css("#description")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("Orders service"));
    // No event type chosen either: that is named too, once the URL is right.
    fill(&client, "#url", &receiver).await;
    navigate(&client, "#save-webhook").await;
    assert!(!text(&client, "#event_types-error").await.is_empty());
    click(&client, "input[name=event_types][value='test.ping']").await;
    navigate(&client, "#save-webhook").await;
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
    navigate(&client, &format!("tr[data-event='{failed_event}'] a")).await;
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
    client.set_window_size(1280, 1400).await.unwrap();
    save_screenshot(&client, "webhook-details-desktop.png").await;
    client.set_window_size(390, 1800).await.unwrap();
    save_screenshot(&client, "webhook-details-phone.png").await;
    client.set_window_size(1280, 1000).await.unwrap();

    // Resend it: a new delivery of the same event appears and the receiver gets it again.
    let before = arrivals.lock().unwrap().len();
    navigate(&client, "#resend").await;
    assert!(!text(&client, "#notice").await.is_empty());
    reload_until(&client, &format!("{details}?tab=all"), &format!("tr[data-event='{failed_event}']"), 2).await;
    assert!(arrivals.lock().unwrap().len() > before);

    // Reveal the secret: it is the one deliveries are signed with.
    navigate(&client, "#reveal-secret").await;
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
    navigate(&client, "#roll-secret").await;
    assert_eq!(text(&client, ".previous-secret").await, secret);
    let rolled = text(&client, "#secret-value").await;
    assert!(rolled.starts_with("whsec_") && rolled != secret);

    // Send a test event: it arrives signed with both secrets, and shows in the list.
    client.find(Locator::Css("#test-event-type")).await.unwrap().select_by_value("test.ping").await.unwrap();
    let before = arrivals.lock().unwrap().len();
    navigate(&client, "#send-test-event").await;
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
    navigate(&client, &format!("tr[data-event='{failed_event}'] a")).await;
    assert_eq!(count(&client, "#sent-to tbody tr").await, 2);

    // Times are shown in the viewer's zone, the UTC value on hover.
    client.goto(&details).await.unwrap();
    let time = client.find(Locator::Css("#attempt-rows time")).await.unwrap();
    assert!(time.attr("title").await.unwrap().unwrap_or_default().ends_with(" UTC"));
    assert!(!time.text().await.unwrap().ends_with(" UTC"), "the script rewrote the text in local time");

    // Edit, disable and enable again.
    navigate(&client, "#edit-webhook").await;
    fill(&client, "#description", "Orders service, v2").await;
    navigate(&client, "#save-webhook").await;
    assert!(!text(&client, "#notice").await.is_empty());
    assert!(text(&client, "hgroup p").await.contains("Orders service, v2"));
    navigate(&client, "#disable-webhook").await;
    assert_eq!(text(&client, "#webhook-status").await, "Disabled");
    navigate(&client, "#enable-webhook").await;
    assert_eq!(text(&client, "#webhook-status").await, "Enabled");

    // French, from the switch on the page.
    client.goto(&details).await.unwrap();
    click(&client, ".lang-switch summary").await;
    navigate(&client, "a[data-lang='fr']").await;
    client.wait().for_element(Locator::Css("html[lang='fr']")).await.unwrap();
    assert_eq!(text(&client, "#attempts h2").await, "Tentatives");
    assert_eq!(text(&client, "a[data-tab='failed']").await, "Échecs");
    assert_eq!(text(&client, "#logout").await, "Se déconnecter");

    // Sign out; the pages need signing in again.
    navigate(&client, "#logout").await;
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

/// A browser-less visitor: keeps cookies by hand and does not follow redirects, to see them.
struct Visitor {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Visitor {
    fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, base: base.to_owned(), cookies: Vec::new() }
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String, Option<String>) {
        let response =
            self.http.get(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).send().await.unwrap();
        self.keep_cookies(&response);
        let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        (response.status(), response.text().await.unwrap(), location)
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, Option<String>) {
        let body = serde_urlencoded::to_string(form).unwrap();
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        (response.status(), response.text().await.unwrap(), location)
    }
}

/// The value of the first `name="csrf"` hidden field of a page.
fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").expect("the page has a form") + 19;
    page[start..].split('"').next().unwrap().to_owned()
}

/// The text of the element with `id`, tags stripped.
fn element_text(page: &str, id: &str) -> String {
    let start = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}"));
    let start = start + page[start..].find('>').unwrap() + 1;
    let end = start + page[start..].find("</").unwrap();
    page[start..end].trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_pages_sessions_and_csrf_over_plain_http() {
    let data = tempfile::tempdir().unwrap();
    let herald = HeraldProcess::start(data.path(), TOKEN, &[], &[("HERALD_WEBHOOK_LIMIT", "30")]);
    let mut operator = Visitor::new(&herald.base);

    // The operator signs in with the admin token; a wrong token is refused on the page.
    let (status, _, location) = operator.get("/dashboard/operator/accounts").await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/dashboard/operator/login")));
    let (_, page, _) = operator.get("/dashboard/operator/login").await;
    let login_csrf = csrf_of(&page);
    let (status, page, _) =
        operator.post("/dashboard/operator/login", &[("csrf", &login_csrf), ("admin_token", "wrong")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"login-error\""));
    let login_csrf = csrf_of(&page);
    let (status, _, location) =
        operator.post("/dashboard/operator/login", &[("csrf", &login_csrf), ("admin_token", TOKEN)]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/dashboard/operator/accounts")));

    // A log-in form without the token its page set is refused.
    let mut stranger = Visitor::new(&herald.base);
    let (status, _, _) = stranger.post("/dashboard/operator/login", &[("csrf", "x"), ("admin_token", TOKEN)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Create an account: a blank name is refused next to the field; a good one shows its credentials once.
    let (_, page, _) = operator.get("/dashboard/operator/accounts").await;
    let csrf = csrf_of(&page);
    let (status, page, _) = operator.post("/dashboard/operator/accounts", &[("csrf", &csrf), ("name", "  ")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!element_text(&page, "name-error").is_empty());
    let (_, page, _) = operator.post("/dashboard/operator/accounts", &[("csrf", &csrf), ("name", "Kiosk")]).await;
    let client_id = element_text(&page, "shown-client-id");
    let client_secret = element_text(&page, "shown-client-secret");
    let (_, page, _) = operator.get("/dashboard/operator/accounts").await;
    assert!(page.contains(&client_id) && !page.contains(&client_secret), "the secret is shown once only");

    // Without the session's CSRF token, a signed-in operator's form is refused and nothing is created.
    let (status, _, _) = operator.post("/dashboard/operator/accounts", &[("name", "Forged")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = operator.post("/dashboard/operator/accounts", &[("csrf", "0"), ("name", "Forged")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!operator.get("/dashboard/operator/accounts").await.1.contains("Forged"));

    // The merchant signs in with those credentials; the session cookie is HttpOnly and SameSite.
    let mut merchant = Visitor::new(&herald.base);
    let (_, page, _) = merchant.get("/dashboard/login").await;
    let login_csrf = csrf_of(&page);
    let form = [("csrf", login_csrf.as_str()), ("client_id", &client_id), ("client_secret", &client_secret)];
    let response = merchant
        .http
        .post(format!("{}/dashboard/login", herald.base))
        .header("cookie", merchant.cookie_header())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    let set_cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    merchant.keep_cookies(&response);
    let (status, page, _) = merchant.get("/dashboard/webhooks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Kiosk"));

    // Rolling the account's credentials ends its dashboard sessions.
    let account_id = page_account_id(&operator.get("/dashboard/operator/accounts").await.1, &client_id);
    let (status, page, _) =
        operator.post(&format!("/dashboard/operator/accounts/{account_id}/roll"), &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::OK);
    let new_secret = element_text(&page, "shown-client-secret");
    assert_ne!(new_secret, client_secret);
    let (status, _, location) = merchant.get("/dashboard/webhooks").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().starts_with("/dashboard/login"));

    // Many webhooks are listed 25 to a page.
    for n in 0..26 {
        let created = merchant
            .http
            .post(format!("{}/v1/notifications/webhooks", herald.base))
            .basic_auth(&client_id, Some(&new_secret))
            .json(&json!({ "url": format!("http://127.0.0.1:9/hook/{n}"), "event_types": [{ "name": "*" }] }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    let (_, page, _) = merchant.get("/dashboard/login").await;
    let form = [("csrf", csrf_of(&page)), ("client_id", client_id.clone()), ("client_secret", new_secret.clone())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(merchant.post("/dashboard/login", &form).await.0, StatusCode::SEE_OTHER);
    let (_, first, _) = merchant.get("/dashboard/webhooks").await;
    assert_eq!(first.matches("data-webhook=").count(), 25);
    assert!(first.contains("/dashboard/webhooks?page=1"));
    let (_, second, _) = merchant.get("/dashboard/webhooks?page=1").await;
    assert_eq!(second.matches("data-webhook=").count(), 1);
    let (status, page, _) = merchant.get("/dashboard/webhooks?page=last").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("does not understand"), "a query that does not parse is a page too: {page}");

    // The catalog shows the seeded types with their samples; the health page shows the queue.
    let (_, page, _) = operator.get("/dashboard/operator/catalog").await;
    assert!(page.contains("id=\"type-charge.succeeded\"") && page.contains("Sample"));
    let (status, page, _) = operator.get("/dashboard/operator/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(element_text(&page, "queue-pending"), "0");
    assert_eq!(element_text(&page, "disabled-count"), "0");

    // Unknown dashboard paths are a 404 page, in the language asked for.
    let response = operator
        .http
        .get(format!("{}/dashboard/nowhere", herald.base))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("Hier ist nichts"));
}

/// The account id in the accounts table row that shows `client_id`.
fn page_account_id(page: &str, client_id: &str) -> String {
    let row_end = page.find(client_id).unwrap();
    let row_start = page[..row_end].rfind("data-account=\"").unwrap() + 14;
    page[row_start..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_fills_a_fresh_installation_with_deliveries_some_failing() {
    let data = tempfile::tempdir().unwrap();
    let herald = HeraldProcess::start(data.path(), TOKEN, &["--demo"], &[]);
    let printed = |label: &str| {
        let line = herald.printed.iter().find(|l| l.contains(label)).unwrap_or_else(|| panic!("no {label}"));
        line.split_whitespace().last().unwrap().to_owned()
    };
    let (client_id, client_secret) = (printed("client id"), printed("client secret"));
    let http = reqwest::Client::new();
    let get = |path: String| {
        let request = http.get(format!("{}{path}", herald.base)).basic_auth(&client_id, Some(&client_secret));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let webhooks = get("/v1/notifications/webhooks".into()).await;
    let ids: Vec<String> =
        webhooks["webhooks"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 2, "orders and billing");
    // The billing endpoint takes four of the catalog's types; the demo's first burst starts with them.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut codes = Vec::new();
        for id in &ids {
            let page = get(format!("/v1/notifications/webhooks/{id}/deliveries?page_size=100")).await;
            codes.push(
                page["deliveries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d["last_status_code"].clone())
                    .collect::<Vec<_>>(),
            );
        }
        let orders_failed = codes[0].iter().any(|c| c == 500);
        let orders_succeeded = codes[0].iter().any(|c| c == 200);
        let billing_delivered = codes[1].iter().any(|c| c == 200);
        if orders_failed && orders_succeeded && billing_delivered {
            break;
        }
        assert!(Instant::now() < deadline, "the demo did not get going: {codes:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The `data-issue` code and the text of the field error `id` on a page.
/// A merchant signed in over plain HTTP, and the CSRF token of its session's forms.
async fn signed_in(base: &str, client_id: &str, client_secret: &str) -> (Visitor, String) {
    let mut merchant = Visitor::new(base);
    let (_, page, _) = merchant.get("/dashboard/login").await;
    let login_csrf = csrf_of(&page);
    let form = [("csrf", login_csrf.as_str()), ("client_id", client_id), ("client_secret", client_secret)];
    assert_eq!(merchant.post("/dashboard/login", &form).await.0, StatusCode::SEE_OTHER);
    let csrf = csrf_of(&merchant.get("/dashboard/webhooks/new").await.1);
    (merchant, csrf)
}

fn field_error(page: &str, id: &str) -> (String, String) {
    let start = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} on the page"));
    let issue = page[start..].split("data-issue=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let text = element_text(page, id).replace("&quot;", "\"").replace("&#34;", "\"").replace("&#39;", "'");
    (issue, text)
}

/// The dashboard's form and the API call one operation: the same bad input gets the same code and the
/// same words, next to the form's field on the page and under the field's pointer in the API's answer,
/// and neither creates anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_and_the_api_refuse_a_webhook_with_the_same_field_and_code() {
    let data = tempfile::tempdir().unwrap();
    let herald = HeraldProcess::start(data.path(), TOKEN, &[], &[]);
    let http = reqwest::Client::new();
    let account = create_account(&http, &herald.base, "Forms").await;
    let (client_id, client_secret) = (account["client_id"].as_str().unwrap(), account["client_secret"].as_str());
    let api_create = |body: Value| {
        http.post(format!("{}/v1/notifications/webhooks", herald.base)).basic_auth(client_id, client_secret).json(&body)
    };
    let taken = "http://127.0.0.1:9/taken";
    let created = api_create(json!({ "url": taken, "event_types": [{ "name": "*" }] })).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    let (mut merchant, csrf) = signed_in(&herald.base, client_id, client_secret.unwrap()).await;

    let long = "x".repeat(501);
    // (form field, its value, the API body's field and value, the code both must give)
    let cases: [(&str, &str, Value, &str); 6] = [
        ("url", "ftp://example.com/x", json!({ "url": "ftp://example.com/x" }), "INVALID_URL"),
        ("url", taken, json!({ "url": taken }), "WEBHOOK_URL_ALREADY_EXISTS"),
        ("event_types", "", json!({ "event_types": [] }), "MISSING_EVENT_TYPES"),
        ("format", "xml", json!({ "format": "xml" }), "UNSUPPORTED_FORMAT"),
        ("description", &long, json!({ "description": long }), "DESCRIPTION_TOO_LONG"),
        ("filter", "resource.amount >=", json!({ "filter": "resource.amount >=" }), "INVALID_FILTER"),
    ];
    for (field, value, api_field, code) in cases {
        let mut posted = vec![("csrf", csrf.as_str()), ("url", "http://127.0.0.1:9/new"), ("event_types", "*")];
        posted.retain(|(name, _)| *name != field);
        if !value.is_empty() {
            posted.push((field, value));
        }
        let (status, page, _) = merchant.post("/dashboard/webhooks", &posted).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field} = {value}");
        let (issue, text) = field_error(&page, &format!("{field}-error"));

        let mut body = json!({ "url": "http://127.0.0.1:9/new", "event_types": [{ "name": "*" }] });
        for (name, value) in api_field.as_object().unwrap() {
            body[name] = value.clone();
        }
        let answer: Value = api_create(body).send().await.unwrap().json().await.unwrap();
        let detail = &answer["details"][0];
        assert_eq!(detail["field"], format!("/{field}"), "{field}");
        assert_eq!((issue.as_str(), text.as_str()), (code, detail["description"].as_str().unwrap()), "{field}");
        assert_eq!(detail["issue"], code, "{field}");
    }
    let listed: Value = http
        .get(format!("{}/v1/notifications/webhooks", herald.base))
        .basic_auth(client_id, client_secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1, "nothing refused was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_that_keep_failing_are_throttled_on_the_page() {
    let data = tempfile::tempdir().unwrap();
    let env = [("HERALD_AUTH_FAILURES", "3"), ("HERALD_AUTH_FAILURE_WINDOW", "3s")];
    let herald = HeraldProcess::start(data.path(), TOKEN, &[], &env);
    let mut operator = Visitor::new(&herald.base);
    let (_, mut page, _) = operator.get("/dashboard/operator/login").await;
    for n in 0..4 {
        let form = [("csrf", csrf_of(&page)), ("admin_token", "wrong".to_owned())];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, next, _) = operator.post("/dashboard/operator/login", &form).await;
        let expected = if n < 3 { StatusCode::OK } else { StatusCode::TOO_MANY_REQUESTS };
        assert_eq!(status, expected, "sign-in {n}");
        page = next;
    }
    assert!(element_text(&page, "login-error").contains("Try again in 1 s"), "{}", element_text(&page, "login-error"));
    // Even the right token waits its turn; then it signs in.
    let form = [("csrf", csrf_of(&page)), ("admin_token", TOKEN.to_owned())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(operator.post("/dashboard/operator/login", &form).await.0, StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (_, page, _) = operator.get("/dashboard/operator/login").await;
    let form = [("csrf", csrf_of(&page)), ("admin_token", TOKEN.to_owned())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, location) = operator.post("/dashboard/operator/login", &form).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/dashboard/operator/accounts")));
}

/// A seeded account: its live key's credentials and its webhook, with attempts `HISTORY` hours ago.
struct Seeded {
    client_id: String,
    client_secret: String,
    webhook_id: String,
}

/// (hours ago, 2xx attempts, failed attempts) of the seeded history.
const HISTORY: [(i64, u64, u64); 4] = [(1, 3, 1), (5, 2, 0), (30, 4, 2), (100, 1, 3)];

/// Writes an account, a webhook and a history of attempts over the past days straight into the store of
/// `data_dir`, as a Herald running for a week would have left them, before `herald serve` opens it.
async fn seed_history(data_dir: &std::path::Path, receiver: &str) -> Seeded {
    use herald::domain::model::*;
    use herald::domain::*;
    use herald::store::*;

    let keyring = herald::keyring::Keyring::load_or_create(None, data_dir).unwrap();
    let store = herald::store::sqlite::SqliteStore::open(data_dir).unwrap();
    let now = Timestamp::now();
    let (client_id, client_secret) = ("hcl_seeded".to_owned(), "hsk_seeded-secret-for-the-browser".to_owned());
    let account = Account {
        id: AccountId::generate(),
        name: "Seeded Shop".into(),
        client_id: client_id.clone(),
        created_at: now,
    };
    let key = NewApiKey::first(
        &account.id,
        &account.id,
        Mode::Live,
        client_id.clone(),
        keyring.hash_credential(&client_secret),
        now,
    );
    let id = account.id.clone();
    store
        .create_account(NewAccount { account, test_environment: AccountId::generate(), keys: vec![key] })
        .await
        .unwrap();
    let webhook = Webhook {
        id: WebhookId::generate(),
        account_id: id.clone(),
        url: WebhookUrl::parse(receiver).unwrap(),
        event_types: vec![herald::domain::event_type::Subscription::All],
        status: WebhookStatus::Enabled,
        format: DeliveryFormat::Standard,
        signing: SigningAlgorithm::HmacSha256,
        api_version: None,
        policy: Default::default(),
        description: Some("Seeded history".into()),
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    let sealed_secret = keyring.seal(&[7; 32]);
    store.create_webhook(NewWebhook { webhook: webhook.clone(), sealed_secret, limit: 10 }).await.unwrap();
    for (hours_ago, succeeded, failed) in HISTORY {
        let at = now.minus(Duration::from_secs(hours_ago as u64 * 3600));
        for (ok, count) in [(true, succeeded), (false, failed)] {
            for _ in 0..count {
                let event = Event {
                    id: EventId::generate_at(at),
                    account_id: id.clone(),
                    event_type: EventTypeName::parse("test.ping").unwrap(),
                    created_at: at,
                    body: Bytes::from_static(b"{\"id\":\"ping_seed\"}"),
                    resource_id: None,
                    simulated: false,
                    trace: None,
                };
                let lease = Lease { token: 7, until: now.plus(Duration::from_secs(60)) };
                let delivery = NewDelivery {
                    id: DeliveryId::generate(),
                    event_id: event.id.clone(),
                    webhook_id: webhook.id.clone(),
                    account_id: id.clone(),
                    trigger: Trigger::Scheduled,
                    next_attempt_at: at,
                    lease: Some(lease),
                    single_attempt: false,
                };
                let delivery_id = delivery.id.clone();
                let event_id = event.id.clone();
                store
                    .publish(PublishBatch { idempotency: None, events: vec![event], deliveries: vec![delivery] })
                    .await
                    .unwrap();
                let status = if ok { 200 } else { 500 };
                let attempt = Attempt {
                    id: AttemptId::generate_at(at),
                    delivery_id,
                    number: 1,
                    started_at: at,
                    duration_ms: 12,
                    trigger: Trigger::Scheduled,
                    request_url: receiver.into(),
                    request_headers: vec![],
                    response: Some(AttemptResponse {
                        status,
                        headers: vec![],
                        body: b"seeded".to_vec(),
                        truncated: false,
                    }),
                    error: None,
                    node: None,
                };
                let transition = if ok { DeliveryTransition::Succeeded } else { DeliveryTransition::Exhausted };
                let record = AttemptRecord {
                    attempt,
                    event_id,
                    status_code: Some(status),
                    lease_token: 7,
                    transition,
                    disable_webhook: None,
                    failing_limit: None,
                };
                store.record_attempt(record).await.unwrap();
            }
        }
    }
    drop(store);
    Seeded { client_id, client_secret, webhook_id: webhook.id.to_string() }
}

/// The totals a chart shows, and the sum of its bars.
async fn chart_counts(client: &Client, id: &str) -> ((u64, u64), (u64, u64)) {
    let figure = client.wait().for_element(Locator::Css(&format!("#{id}"))).await.unwrap();
    let number = |text: Option<String>| text.unwrap_or_default().parse::<u64>().unwrap();
    let totals =
        (number(figure.attr("data-succeeded").await.unwrap()), number(figure.attr("data-failed").await.unwrap()));
    let mut bars = (0, 0);
    for bar in client.find_all(Locator::Css(&format!("#{id} g.hour"))).await.unwrap() {
        bars.0 += number(bar.attr("data-succeeded").await.unwrap());
        bars.1 += number(bar.attr("data-failed").await.unwrap());
    }
    (totals, bars)
}

/// Screenshots of the page on view at desktop and phone widths.
async fn desktop_and_phone(client: &Client, name: &str) {
    client.set_window_size(1280, 1100).await.unwrap();
    save_screenshot(client, &format!("{name}-desktop.png")).await;
    client.set_window_size(390, 1500).await.unwrap();
    save_screenshot(client, &format!("{name}-phone.png")).await;
    client.set_window_size(1280, 1000).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and ChromeDriver: apt-get install chromium chromium-driver, run with --include-ignored"]
async fn a_merchant_uses_keys_logs_test_mode_and_charts_in_a_real_browser() {
    let driver = start_driver();
    let data = tempfile::tempdir().unwrap();
    let arrivals: Requests = Arc::default();
    let receiver = start_recording_receiver(arrivals.clone(), fail_marked).await;
    let seeded = seed_history(data.path(), &receiver).await;
    let herald = HeraldProcess::start(data.path(), TOKEN, &[], &[]);
    let base = herald.base.clone();
    let http = reqwest::Client::new();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;

    // Opening Herald's address lands a browser in the console (its sign-in, at first).
    client.goto(&base).await.unwrap();
    let landed = client.current_url().await.unwrap();
    assert_eq!(landed.path(), "/dashboard/login", "{landed}");
    let account = json!({ "client_id": seeded.client_id, "client_secret": seeded.client_secret });
    sign_in(&client, &base, &account).await;

    // The endpoint page draws the seeded week: the last day's hours, and the whole week.
    client.goto(&format!("{base}/dashboard/webhooks/{}", seeded.webhook_id)).await.unwrap();
    let in_day: (u64, u64) = HISTORY.iter().filter(|h| h.0 < 24).fold((0, 0), |t, h| (t.0 + h.1, t.1 + h.2));
    let in_week: (u64, u64) = HISTORY.iter().fold((0, 0), |t, h| (t.0 + h.1, t.1 + h.2));
    assert_eq!(chart_counts(&client, "chart-24h").await, (in_day, in_day));
    assert_eq!(chart_counts(&client, "chart-7d").await, (in_week, in_week));
    assert_eq!(count(&client, "#chart-24h g.hour").await, 2);
    assert_eq!(count(&client, "#chart-7d g.hour").await, 4);
    client.execute("document.getElementById('delivery-charts').scrollIntoView()", vec![]).await.unwrap();
    desktop_and_phone(&client, "endpoint-charts").await;

    // API keys: make a read-only key (its secret shown once), use it, roll it, revoke it.
    client.goto(&format!("{base}/dashboard/api-keys")).await.unwrap();
    assert_eq!(count(&client, "#api-keys tbody tr").await, 1);
    click(&client, "#new-key-form summary").await;
    fill(&client, "#key-name", "Reporting").await;
    client.find(Locator::Css("#key-scope")).await.unwrap().select_by_value("read_only").await.unwrap();
    navigate(&client, "#create-key").await;
    let (key_id, key_secret) = (text(&client, "#shown-client-id").await, text(&client, "#shown-client-secret").await);
    assert!(key_secret.starts_with("hsk_"), "{key_secret}");
    assert_eq!(count(&client, "#api-keys tbody tr").await, 2);
    assert_eq!(count(&client, "#api-keys tr[data-scope='read_only']").await, 1);
    let hooks = format!("{base}/v1/notifications/webhooks");
    let read = http.get(&hooks).basic_auth(&key_id, Some(&key_secret)).send().await.unwrap();
    assert_eq!(read.status(), 200);
    let write = json!({"url": receiver, "event_types": [{"name": "*"}]});
    let refused = http.post(&hooks).basic_auth(&key_id, Some(&key_secret)).json(&write).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    // And a create the full key gets wrong, whose bodies the log keeps.
    let bad = json!({"url": "ftp://orders.example/hook", "event_types": [{"name": "*"}]});
    let refused =
        http.post(&hooks).basic_auth(&seeded.client_id, Some(&seeded.client_secret)).json(&bad).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let refused_id = refused.headers()["request-id"].to_str().unwrap().to_owned();
    desktop_and_phone(&client, "api-keys").await;
    client.goto(&format!("{base}/dashboard/api-keys")).await.unwrap();
    let row = "#api-keys tr[data-scope='read_only']";
    reload_until(&client, &format!("{base}/dashboard/api-keys"), &format!("{row} .last-used time"), 1).await;
    click(&client, &format!("{row} details:nth-of-type(1) summary")).await;
    navigate(&client, &format!("{row} button[data-action='roll']")).await;
    let rolled = text(&client, "#shown-client-secret").await;
    assert_ne!(rolled, key_secret);
    assert_eq!(http.get(&hooks).basic_auth(&key_id, Some(&key_secret)).send().await.unwrap().status(), 401);
    assert_eq!(http.get(&hooks).basic_auth(&key_id, Some(&rolled)).send().await.unwrap().status(), 200);
    click(&client, &format!("{row} details:nth-of-type(2) summary")).await;
    navigate(&client, &format!("{row} button[data-action='revoke']")).await;
    assert!(!text(&client, "#notice").await.is_empty());
    assert_eq!(count(&client, "#api-keys tbody tr").await, 1);
    assert_eq!(http.get(&hooks).basic_auth(&key_id, Some(&rolled)).send().await.unwrap().status(), 401);

    // Logs: the refused write is there, found by its filters, and opens with its bodies laid out.
    let logs = format!("{base}/dashboard/logs?status=failed&method=POST&path=%2Fv1%2F");
    reload_until(&client, &logs, &format!("tr[data-request='{refused_id}']"), 1).await;
    assert_eq!(count(&client, "#logs tbody tr").await, 2, "the failed POSTs to the API: 403 and 422");
    desktop_and_phone(&client, "logs").await;
    client.goto(&logs).await.unwrap();
    navigate(&client, &format!("tr[data-request='{refused_id}'] a")).await;
    assert_eq!(text(&client, "#log-status").await, "422");
    assert!(count(&client, "#request-body li").await > 3, "the request body, pretty-printed");
    let asked: Value = serde_json::from_str(&text(&client, "#request-body").await).unwrap();
    assert_eq!(asked, bad);
    let answered: Value = serde_json::from_str(&text(&client, "#response-body").await).unwrap();
    assert_eq!(answered["debug_id"].as_str(), Some(refused_id.as_str()));
    desktop_and_phone(&client, "log-detail").await;
    // The dashboard's own changes are in the log too, and their forms' tokens are not.
    client.goto(&format!("{base}/dashboard/logs?method=POST&path=%2Fdashboard%2Fapi-keys")).await.unwrap();
    assert!(count(&client, "#logs tbody tr").await >= 3, "create, roll and revoke");

    // Test mode: a banner on every page, and none of the live objects.
    client.goto(&format!("{base}/dashboard/webhooks")).await.unwrap();
    assert_eq!(count(&client, "#test-banner").await, 0);
    assert_eq!(count(&client, &format!("[data-webhook='{}']", seeded.webhook_id)).await, 1);
    navigate(&client, "#test-mode").await;
    assert!(!text(&client, "#test-banner").await.is_empty());
    assert_eq!(
        client.find(Locator::Css("#test-mode")).await.unwrap().attr("aria-checked").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(count(&client, &format!("[data-webhook='{}']", seeded.webhook_id)).await, 0);
    assert!(!text(&client, "#empty-webhooks").await.is_empty());
    desktop_and_phone(&client, "test-mode").await;
    client.goto(&format!("{base}/dashboard/logs")).await.unwrap();
    assert!(!text(&client, "#test-banner").await.is_empty());
    assert_eq!(count(&client, &format!("tr[data-request='{refused_id}']")).await, 0, "live requests are not test ones");
    client.goto(&format!("{base}/dashboard/webhooks/{}", seeded.webhook_id)).await.unwrap();
    assert_eq!(count(&client, "#chart-24h").await, 0, "the live webhook is not found in test mode");
    // A key made in test mode is a test key, and the form that made it is in the test log.
    client.goto(&format!("{base}/dashboard/api-keys")).await.unwrap();
    click(&client, "#new-key-form summary").await;
    fill(&client, "#key-name", "Sandbox").await;
    client.find(Locator::Css("#key-mode")).await.unwrap().select_by_value("test").await.unwrap();
    navigate(&client, "#create-key").await;
    assert_eq!(count(&client, "#api-keys tr[data-mode='test']").await, 1);
    let test_logs = format!("{base}/dashboard/logs?method=POST&path=%2Fdashboard%2Fapi-keys");
    reload_until(&client, &test_logs, "#logs tbody tr", 1).await;
    client.goto(&format!("{base}/dashboard/webhooks")).await.unwrap();
    navigate(&client, "#test-mode").await;
    assert_eq!(count(&client, "#test-banner").await, 0);

    // The pages speak the viewer's language.
    client.goto(&format!("{base}/dashboard/lang/de?back=%2Fdashboard%2Flogs")).await.unwrap();
    assert_eq!(text(&client, "main h1").await, "Protokolle");
    client.goto(&format!("{base}/dashboard/lang/en?back=%2Fdashboard%2Fapi-keys")).await.unwrap();

    // The operator's health page draws every account's deliveries per hour.
    navigate(&client, "#logout").await;
    client.goto(&format!("{base}/dashboard/operator/login")).await.unwrap();
    fill(&client, "#admin_token", TOKEN).await;
    navigate(&client, "#sign-in").await;
    client.goto(&format!("{base}/dashboard/operator/health")).await.unwrap();
    assert_eq!(chart_counts(&client, "chart-7d").await, (in_week, in_week));
    assert_eq!(chart_counts(&client, "chart-24h").await, (in_day, in_day));
    desktop_and_phone(&client, "health-charts").await;
    client.close().await.unwrap();
}

/// A broker webhook made in the form: the endpoint page names the kind of destination and shows the URL
/// with its password hidden, the edit form shows it hidden too, and saving that form keeps the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_destination_is_shown_without_its_password() {
    let data = tempfile::tempdir().unwrap();
    let herald = HeraldProcess::start(data.path(), TOKEN, &[], &[]);
    let http = reqwest::Client::new();
    let account = create_account(&http, &herald.base, "Brokers").await;
    let (client_id, client_secret) =
        (account["client_id"].as_str().unwrap(), account["client_secret"].as_str().unwrap());
    let (mut merchant, csrf) = signed_in(&herald.base, client_id, client_secret).await;

    let url = "amqp://shop:hunter2@127.0.0.1:5672/%2f?exchange=payments&routing_key=paid";
    let posted = [("csrf", csrf.as_str()), ("url", url), ("event_types", "*")];
    let (status, _, location) = merchant.post("/dashboard/webhooks", &posted).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    let (_, page, _) = merchant.get(&location).await;
    let location = location.split('?').next().unwrap().to_owned();
    assert_eq!(element_text(&page, "webhook-destination"), "RabbitMQ exchange (AMQP)");
    assert!(
        element_text(&page, "webhook-url").contains("shop:***@127.0.0.1"),
        "{}",
        element_text(&page, "webhook-url")
    );
    assert!(!page.contains("hunter2"));

    let (_, edit, _) = merchant.get(&format!("{location}/edit")).await;
    assert!(edit.contains("shop:***@") && !edit.contains("hunter2"), "the edit form shows the URL as shown");
    let shown = url.replace("hunter2", "***");
    let saved = [("csrf", csrf.as_str()), ("url", shown.as_str()), ("event_types", "*")];
    let (status, page, _) = merchant.post(&format!("{location}/edit"), &saved).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the hidden password is kept: {page}");
    // A new webhook cannot say *** for a password it never had.
    let again = [("csrf", csrf.as_str()), ("url", shown.as_str()), ("event_types", "*")];
    let (status, page, _) = merchant.post("/dashboard/webhooks", &again).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_error(&page, "url-error").0, "INVALID_URL");

    // An HTTP endpoint with OAuth2 shows how Herald authenticates, never the secret.
    let oauth2 =
        json!({"token_url": "http://127.0.0.1:9/token", "client_id": "herald-prod", "client_secret": "t0ps3cret"});
    let body = json!({"url": "http://127.0.0.1:9/oauth", "event_types": [{"name": "*"}], "oauth2": oauth2});
    let created: Value = http
        .post(format!("{}/v1/notifications/webhooks", herald.base))
        .basic_auth(client_id, Some(client_secret))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, page, _) = merchant.get(&format!("/dashboard/webhooks/{}", created["id"].as_str().unwrap())).await;
    assert_eq!(element_text(&page, "webhook-destination"), "HTTP endpoint");
    let shown = page.split("id=\"webhook-authentication\">").nth(1).unwrap().split("</dd>").next().unwrap();
    assert!(shown.contains("OAuth2 client credentials") && shown.contains("herald-prod"), "{shown}");
    assert!(!page.contains("t0ps3cret"));
}
