//! Every answer names its request (`Request-Id: req_…`), an error's `debug_id` is the same id, and a
//! browser opening Herald's root lands in the dashboard.

use reqwest::Method;
use serde_json::Value;

use crate::support::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_names_its_request_and_an_error_quotes_the_same_id() {
    let app = spawn_app().await;
    let first = app.http.get(app.url("/healthz")).send().await.unwrap();
    let second = app.http.get(app.url("/healthz")).send().await.unwrap();
    let id = |response: &reqwest::Response| response.headers()["request-id"].to_str().unwrap().to_owned();
    let (first, second) = (id(&first), id(&second));
    assert!(first.starts_with("req_") && herald::domain::RequestId::parse(&first).is_ok(), "{first}");
    assert_ne!(first, second, "each request its own id");

    let missing = app.operator(Method::DELETE, "/v1/accounts").send().await.unwrap();
    assert_eq!(missing.status(), 405);
    let header = id(&missing);
    let error: Value = missing.json().await.unwrap();
    assert_eq!(error["debug_id"], header.as_str(), "the error quotes the request's id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_sends_a_browser_to_the_dashboard() {
    let app = spawn_app().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let root = http.get(app.url("/")).send().await.unwrap();
    assert_eq!(root.status(), 303);
    assert_eq!(root.headers()["location"], "/dashboard");
}
