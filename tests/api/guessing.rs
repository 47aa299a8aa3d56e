//! Guessing credentials costs time: after a few failures a client id, the admin token or an address is
//! answered 429 `RATE_LIMIT_REACHED` with `Retry-After`, the right credential works again once that wait
//! is over, and an unknown client id takes as long to refuse as a known one with a wrong secret.

use std::time::{Duration, Instant};

use herald::auth_throttle::ThrottleRules;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{TestApp, spawn_app_with};

async fn basic(app: &TestApp, client_id: &str, secret: &str) -> reqwest::Response {
    app.http.get(app.url("/v1/notifications/webhooks")).basic_auth(client_id, Some(secret)).send().await.unwrap()
}

async fn assert_throttled(response: reqwest::Response) -> u64 {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["name"], "RATE_LIMIT_REACHED", "{error}");
    assert_eq!(error["details"][0]["issue"], "TOO_MANY_FAILED_AUTHENTICATIONS");
    assert!((1..=2).contains(&wait), "Retry-After is the time until one more try: {wait}");
    wait
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guessed_secret_is_throttled_and_the_right_one_works_after_the_wait() {
    let rules = ThrottleRules { per_credential: 5, per_address: 0, window: Duration::from_secs(5) };
    let app = spawn_app_with(|settings| settings.auth_throttle = rules).await;
    let merchant = app.create_account("Acme").await;

    for n in 0..5 {
        assert_eq!(basic(&app, &merchant.client_id, "wrong").await.status(), 401, "guess {n} is only refused");
    }
    let wait = assert_throttled(basic(&app, &merchant.client_id, "wrong").await).await;
    assert_throttled(basic(&app, &merchant.client_id, &merchant.client_secret).await).await;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let again = basic(&app, &merchant.client_id, &merchant.client_secret).await;
    assert_eq!(again.status(), 200, "the right secret works once the wait is over");

    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert_eq!(counted(&metrics, "herald_auth_failures_total"), Some(5.0), "{metrics}");
    assert_eq!(counted(&metrics, "herald_auth_throttled_total{by=\"credential\"}"), Some(2.0), "{metrics}");
}

fn counted(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find(|l| l.starts_with(name)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_guessing_many_client_ids_is_throttled() {
    let rules = ThrottleRules { per_credential: 100, per_address: 6, window: Duration::from_secs(60) };
    let app = spawn_app_with(|settings| settings.auth_throttle = rules).await;
    for n in 0..6 {
        assert_eq!(basic(&app, &format!("unknown-{n}"), "guess").await.status(), 401);
    }
    let refused = basic(&app, "yet-another-id", "guess").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "a fresh client id from the same address");
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((9..=10).contains(&wait), "one failure back every 60 s / 6: {wait}");
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert_eq!(counted(&metrics, "herald_auth_throttled_total{by=\"address\"}"), Some(1.0), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_token_and_access_tokens_are_throttled_too() {
    let rules = ThrottleRules { per_credential: 3, per_address: 0, window: Duration::from_secs(3) };
    let app = spawn_app_with(|settings| settings.auth_throttle = rules).await;
    let operator = |token: &str| app.http.get(app.url("/v1/event-types")).bearer_auth(token).send();
    for _ in 0..3 {
        assert_eq!(operator("wrong").await.unwrap().status(), 401);
    }
    let wait = assert_throttled(operator("wrong").await.unwrap()).await;
    assert_throttled(operator(crate::support::ADMIN_TOKEN).await.unwrap()).await;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(operator(crate::support::ADMIN_TOKEN).await.unwrap().status(), 200);

    // Access tokens name no client: their failures count against the address.
    let rules = ThrottleRules { per_credential: 100, per_address: 3, window: Duration::from_secs(60) };
    let app = spawn_app_with(|settings| settings.auth_throttle = rules).await;
    let bearer = |token: &str| app.http.get(app.url("/v1/notifications/webhooks")).bearer_auth(token).send();
    for _ in 0..3 {
        assert_eq!(bearer("not-a-token").await.unwrap().status(), 401);
    }
    assert_eq!(bearer("not-a-token").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_client_id_takes_as_long_to_refuse_as_a_wrong_secret() {
    let off = ThrottleRules { per_credential: 0, per_address: 0, window: Duration::from_secs(60) };
    let app = spawn_app_with(|settings| settings.auth_throttle = off).await;
    let merchant = app.create_account("Acme").await;
    let request = |client_id: String| {
        app.http.request(Method::GET, app.url("/v1/notifications/webhooks")).basic_auth(client_id, Some("wrong"))
    };
    let (mut unknown, mut known) = (Vec::new(), Vec::new());
    for n in 0..400 {
        // Interleaved, so that the machine's drift weighs on both alike.
        let (client_id, samples) = match n % 2 {
            0 => (format!("AZunknownclient{n:05}"), &mut unknown),
            _ => (merchant.client_id.clone(), &mut known),
        };
        let started = Instant::now();
        let status = request(client_id).send().await.unwrap().status();
        samples.push(started.elapsed());
        assert_eq!(status, 401);
    }
    let median = |samples: &mut Vec<Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let (unknown, known) = (median(&mut unknown), median(&mut known));
    let ratio = unknown.as_secs_f64() / known.as_secs_f64();
    println!("median refusal: unknown client id {unknown:?}, known id with a wrong secret {known:?} ({ratio:.2}×)");
    assert!((0.8..1.25).contains(&ratio), "the two refusals must not be told apart by their time: {ratio:.2}×");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_requests_at_once_with_the_right_credential_are_never_throttled() {
    let rules = ThrottleRules { per_credential: 3, per_address: 3, window: Duration::from_secs(60) };
    let app = spawn_app_with(|settings| settings.auth_throttle = rules).await;
    let merchant = app.create_account("Acme").await;
    let requests = (0..50).map(|_| basic(&app, &merchant.client_id, &merchant.client_secret));
    let answers = futures_util::future::join_all(requests).await;
    assert!(answers.iter().all(|a| a.status() == 200), "{:?}", answers.iter().map(|a| a.status()).collect::<Vec<_>>());
}
