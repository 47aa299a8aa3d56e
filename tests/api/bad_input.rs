//! Every kind of bad input gets the right 4xx in PayPal's error shape, and nothing is written.

use std::time::Duration;

use herald::domain::WebhookId;
use herald::store::PageRequest;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Receiver, TestApp, spawn_app, spawn_app_with};

/// Checks the status and the error shape, and returns the body for more specific checks.
async fn expect_error(response: reqwest::Response, status: u16, name: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["name"], name, "{body}");
    assert!(!body["message"].as_str().unwrap().is_empty());
    assert!(!body["debug_id"].as_str().unwrap().is_empty());
    assert!(body["links"].is_array());
    let details = body["details"].as_array().expect("details is an array");
    assert!(!details.is_empty(), "every client error says what is wrong in details: {body}");
    assert!(
        details.iter().all(|d| d["issue"].is_string() && d["location"].is_string() && d["description"].is_string())
    );
    body
}

fn first_field(body: &Value) -> &str {
    body["details"][0]["field"].as_str().unwrap_or_default()
}

/// An app with one merchant, one event type and one webhook, to publish bad events against.
async fn ready() -> (TestApp, crate::support::Merchant, Receiver, WebhookId) {
    let app = spawn_app_with(|s| s.max_body_bytes = 4096).await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let receiver = Receiver::start().await;
    let webhook = app.create_webhook(&merchant, &receiver.url, &["*"]).await;
    (app, merchant, receiver, WebhookId::parse(webhook["id"].as_str().unwrap()).unwrap())
}

async fn nothing_was_published(app: &TestApp, receiver: &Receiver, webhook: &WebhookId) {
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(receiver.received().is_empty(), "nothing delivered");
    let stored = app.store.list_deliveries(webhook, None, PageRequest { after: None, limit: 10 }).await.unwrap();
    assert!(stored.is_empty(), "nothing stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_publishes_are_refused_and_store_nothing() {
    let (app, merchant, receiver, webhook) = ready().await;
    let post = |body: String| {
        app.operator(Method::POST, "/v1/events").header("content-type", "application/json").body(body).send()
    };
    let id = &merchant.id;

    let malformed = expect_error(post("{\"account_id\":".into()).await.unwrap(), 400, "INVALID_REQUEST").await;
    assert_eq!(malformed["details"][0]["issue"], "MALFORMED_REQUEST_JSON");

    let wrong_type = json!({"account_id": id, "event_type": 42, "resource": {}}).to_string();
    let body = expect_error(post(wrong_type).await.unwrap(), 400, "INVALID_REQUEST").await;
    assert_eq!(first_field(&body), "/event_type");

    let missing = json!({"account_id": id, "event_type": "charge.succeeded"}).to_string();
    expect_error(post(missing).await.unwrap(), 400, "INVALID_REQUEST").await;

    let unknown_field =
        json!({"account_id": id, "event_type": "charge.succeeded", "resource": {}, "colour": 1}).to_string();
    expect_error(post(unknown_field).await.unwrap(), 400, "INVALID_REQUEST").await;

    let unknown_type = json!({"account_id": id, "event_type": "charge.exploded", "resource": {}}).to_string();
    let body = expect_error(post(unknown_type).await.unwrap(), 422, "UNKNOWN_EVENT_TYPE").await;
    assert_eq!(first_field(&body), "/event_type");

    let not_object = json!({"account_id": id, "event_type": "charge.succeeded", "resource": [1, 2]}).to_string();
    let body = expect_error(post(not_object).await.unwrap(), 422, "VALIDATION_ERROR").await;
    assert_eq!(first_field(&body), "/resource");

    let no_account =
        json!({"account_id": "acct_01ARZ3NDEKTSV4RRFFQ69G5FAV", "event_type": "charge.succeeded", "resource": {}});
    let body = expect_error(post(no_account.to_string()).await.unwrap(), 422, "VALIDATION_ERROR").await;
    assert_eq!(first_field(&body), "/account_id");

    let huge = json!({"account_id": id, "event_type": "charge.succeeded", "resource": {"pad": "x".repeat(5000)}});
    expect_error(post(huge.to_string()).await.unwrap(), 413, "PAYLOAD_TOO_LARGE").await;

    let text =
        app.operator(Method::POST, "/v1/events").header("content-type", "text/plain").body("{}").send().await.unwrap();
    expect_error(text, 415, "UNSUPPORTED_MEDIA_TYPE").await;

    // A batch is all or nothing: one bad event refuses the whole batch.
    let batch = json!({"events": [
        {"account_id": id, "event_type": "charge.succeeded", "resource": {"n": 1}},
        {"account_id": id, "event_type": "charge.exploded", "resource": {"n": 2}}
    ]});
    let response = app.operator(Method::POST, "/v1/events/batch").json(&batch).send().await.unwrap();
    let body = expect_error(response, 422, "UNKNOWN_EVENT_TYPE").await;
    assert_eq!(first_field(&body), "/events/1/event_type");
    let empty = app.operator(Method::POST, "/v1/events/batch").json(&json!({"events": []})).send().await.unwrap();
    expect_error(empty, 422, "VALIDATION_ERROR").await;

    nothing_was_published(&app, &receiver, &webhook).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_credentials_are_401() {
    let (app, merchant, receiver, webhook) = ready().await;
    let event = json!({"account_id": merchant.id, "event_type": "charge.succeeded", "resource": {}});

    let anonymous = app.http.post(app.url("/v1/events")).json(&event).send().await.unwrap();
    assert_eq!(anonymous.headers()["www-authenticate"], "Basic realm=\"Herald\"");
    expect_error(anonymous, 401, "AUTHENTICATION_FAILURE").await;
    let wrong = app.http.post(app.url("/v1/events")).bearer_auth("nope").json(&event).send().await.unwrap();
    expect_error(wrong, 401, "AUTHENTICATION_FAILURE").await;
    // A merchant cannot act as the operator.
    let as_merchant = app.merchant(&merchant, Method::POST, "/v1/events").json(&event).send().await.unwrap();
    expect_error(as_merchant, 401, "AUTHENTICATION_FAILURE").await;
    let accounts = app.http.get(app.url("/v1/accounts")).send().await.unwrap();
    expect_error(accounts, 401, "AUTHENTICATION_FAILURE").await;

    let no_auth = app.http.get(app.url("/v1/notifications/webhooks")).send().await.unwrap();
    expect_error(no_auth, 401, "AUTHENTICATION_FAILURE").await;
    let bad_secret = app
        .http
        .get(app.url("/v1/notifications/webhooks"))
        .basic_auth(&merchant.client_id, Some("hsk_wrong"))
        .send()
        .await
        .unwrap();
    expect_error(bad_secret, 401, "AUTHENTICATION_FAILURE").await;
    let unknown_client =
        app.http.get(app.url("/v1/notifications/webhooks")).basic_auth("hcl_x", Some("y")).send().await.unwrap();
    expect_error(unknown_client, 401, "AUTHENTICATION_FAILURE").await;
    let garbage =
        app.http.get(app.url("/v1/notifications/webhooks")).header("authorization", "Basic %%%").send().await.unwrap();
    expect_error(garbage, 401, "AUTHENTICATION_FAILURE").await;

    nothing_was_published(&app, &receiver, &webhook).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_accounts_objects_are_not_found() {
    let (app, merchant, receiver, webhook) = ready().await;
    let event = app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let intruder = app.create_account("Intruder").await;

    let event_path = format!("/v1/notifications/webhooks-events/{}", event["id"].as_str().unwrap());
    let webhook_path = format!("/v1/notifications/webhooks/{webhook}");
    for (method, path) in [(Method::GET, &event_path), (Method::GET, &webhook_path), (Method::DELETE, &webhook_path)] {
        let response = app.merchant(&intruder, method, path).send().await.unwrap();
        expect_error(response, 404, "RESOURCE_NOT_FOUND").await;
    }
    let listed: Value =
        app.merchant(&intruder, Method::GET, "/v1/notifications/webhooks").send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["webhooks"], json!([]));
    // The owner still has the webhook: the intruder's DELETE changed nothing.
    let owner = app.merchant(&merchant, Method::GET, &webhook_path).send().await.unwrap();
    assert_eq!(owner.status(), 200);
    let malformed =
        app.merchant(&merchant, Method::GET, "/v1/notifications/webhooks-events/evt_nope").send().await.unwrap();
    expect_error(malformed, 404, "RESOURCE_NOT_FOUND").await;
    let nowhere = app.operator(Method::GET, "/v1/nowhere").send().await.unwrap();
    expect_error(nowhere, 404, "RESOURCE_NOT_FOUND").await;
    let wrong_method = app.operator(Method::DELETE, "/v1/events").send().await.unwrap();
    expect_error(wrong_method, 405, "METHOD_NOT_SUPPORTED").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_webhooks_accounts_and_event_types_are_refused_and_store_nothing() {
    let app = spawn_app_with(|s| s.webhook_limit = 2).await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let create = |body: Value| app.merchant(&merchant, Method::POST, "/v1/notifications/webhooks").json(&body).send();

    for url in ["ftp://127.0.0.1/hook", "not a url", "https://user:pw@127.0.0.1/", "javascript:alert(1)"] {
        let response = create(json!({"url": url, "event_types": [{"name": "*"}]})).await.unwrap();
        let body = expect_error(response, 422, "VALIDATION_ERROR").await;
        assert_eq!(first_field(&body), "/url");
    }
    let unknown =
        create(json!({"url": "http://127.0.0.1:9/a", "event_types": [{"name": "charge.exploded"}]})).await.unwrap();
    let body = expect_error(unknown, 422, "UNKNOWN_EVENT_TYPE").await;
    assert_eq!(first_field(&body), "/event_types/0/name");
    let none = create(json!({"url": "http://127.0.0.1:9/a", "event_types": []})).await.unwrap();
    expect_error(none, 422, "VALIDATION_ERROR").await;
    let format =
        create(json!({"url": "http://127.0.0.1:9/a", "event_types": [{"name": "*"}], "format": "xml"})).await.unwrap();
    expect_error(format, 422, "VALIDATION_ERROR").await;
    let wrong_type = create(json!({"url": "http://127.0.0.1:9/a", "event_types": "*"})).await.unwrap();
    expect_error(wrong_type, 400, "INVALID_REQUEST").await;
    let listed: Value =
        app.merchant(&merchant, Method::GET, "/v1/notifications/webhooks").send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["webhooks"], json!([]), "no refused webhook was stored");

    // Limits: one webhook per URL, and at most the configured number per account.
    assert_eq!(
        create(json!({"url": "http://127.0.0.1:9/a", "event_types": [{"name": "*"}]})).await.unwrap().status(),
        201
    );
    let duplicate = create(json!({"url": "http://127.0.0.1:9/a", "event_types": [{"name": "*"}]})).await.unwrap();
    expect_error(duplicate, 409, "WEBHOOK_URL_ALREADY_EXISTS").await;
    assert_eq!(
        create(json!({"url": "http://127.0.0.1:9/b", "event_types": [{"name": "*"}]})).await.unwrap().status(),
        201
    );
    let third = create(json!({"url": "http://127.0.0.1:9/c", "event_types": [{"name": "*"}]})).await.unwrap();
    expect_error(third, 422, "WEBHOOK_NUMBER_LIMIT_EXCEEDED").await;
    let listed: Value =
        app.merchant(&merchant, Method::GET, "/v1/notifications/webhooks").send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 2);

    let blank = app.operator(Method::POST, "/v1/accounts").json(&json!({"name": "  "})).send().await.unwrap();
    expect_error(blank, 422, "VALIDATION_ERROR").await;
    let accounts: Value = app.operator(Method::GET, "/v1/accounts").send().await.unwrap().json().await.unwrap();
    assert_eq!(accounts["accounts"].as_array().unwrap().len(), 1);

    let bad_name = app
        .operator(Method::PUT, "/v1/event-types/bad%20name")
        .json(&json!({"description": "x"}))
        .send()
        .await
        .unwrap();
    expect_error(bad_name, 422, "VALIDATION_ERROR").await;
    let bad_sample = app
        .operator(Method::PUT, "/v1/event-types/x.y")
        .json(&json!({"description": "x", "sample": "not an object"}))
        .send()
        .await
        .unwrap();
    expect_error(bad_sample, 422, "VALIDATION_ERROR").await;
    let types: Value = app.operator(Method::GET, "/v1/event-types").send().await.unwrap().json().await.unwrap();
    assert_eq!(types["event_types"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_page_with_a_cursor() {
    let app = spawn_app().await;
    for n in 0..5 {
        app.create_account(&format!("Merchant {n}")).await;
    }
    let first: Value =
        app.operator(Method::GET, "/v1/accounts?page_size=2").send().await.unwrap().json().await.unwrap();
    assert_eq!(first["accounts"].as_array().unwrap().len(), 2);
    assert!(first["accounts"][0].get("client_secret").is_none(), "secrets are shown only at creation");
    let next = first["links"][0]["href"].as_str().unwrap();
    assert_eq!(first["links"][0]["rel"], "next");
    let second: Value =
        app.http.get(next).bearer_auth(crate::support::ADMIN_TOKEN).send().await.unwrap().json().await.unwrap();
    let third_cursor = second["next_cursor"].as_str().unwrap();
    let third: Value = app
        .operator(Method::GET, &format!("/v1/accounts?page_size=2&cursor={third_cursor}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(third["accounts"].as_array().unwrap().len(), 1);
    assert!(third.get("next_cursor").is_none());
    let names: Vec<&str> = [&first, &second, &third]
        .iter()
        .flat_map(|page| page["accounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()))
        .collect();
    assert_eq!(names, ["Merchant 0", "Merchant 1", "Merchant 2", "Merchant 3", "Merchant 4"]);
    let too_big = app.operator(Method::GET, "/v1/accounts?page_size=501").send().await.unwrap();
    expect_error(too_big, 400, "INVALID_REQUEST").await;
    let bad_cursor = app.operator(Method::GET, "/v1/accounts?cursor=%25%25").send().await.unwrap();
    expect_error(bad_cursor, 400, "INVALID_REQUEST").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_must_be_json_objects_not_arrays_of_field_values() {
    let app = spawn_app().await;
    let merchant = app.create_account("Acme").await;
    let webhook = app.create_webhook(&merchant, "http://127.0.0.1:9/hook", &["*"]).await;
    let roll = format!("/v1/notifications/webhooks/{}/secret/roll", webhook["id"].as_str().unwrap());
    for (path, body) in [("/v1/notifications/listeners", "[null, null]"), (roll.as_str(), "[86400]")] {
        let request = app.merchant(&merchant, Method::POST, path).header("content-type", "application/json");
        let body = expect_error(request.body(body).send().await.unwrap(), 400, "INVALID_REQUEST").await;
        assert_eq!(body["details"][0]["description"], "the body must be a JSON object");
    }
    let listeners = app.merchant(&merchant, Method::POST, "/v1/notifications/listeners");
    assert_eq!(listeners.json(&json!({})).send().await.unwrap().status(), 201, "an object is fine");
}
