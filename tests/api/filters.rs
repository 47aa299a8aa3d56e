//! Payload filters: a webhook gets only the events its CEL filter holds for, a PATCH changes or removes
//! the filter, and every kind of bad filter is a 422 that names it.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

async fn patch(app: &TestApp, merchant: &Merchant, id: &str, value: Value) -> reqwest::Response {
    let body = json!([{"op": "replace", "path": "/filter", "value": value}]);
    app.merchant(merchant, Method::PATCH, &format!("/v1/notifications/webhooks/{id}"))
        .header("content-type", "application/json-patch+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn only_the_events_a_filter_holds_for_reach_its_webhook() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let (filtered, everything) = (Receiver::start().await, Receiver::start().await);
    let filter = r#"resource.amount >= 10000 && resource.currency == "eur""#;
    let hook = app.create_webhook_with(&merchant, &filtered.url, json!({"filter": filter})).await;
    assert_eq!(hook["filter"], filter);
    app.create_webhook(&merchant, &everything.url, &["*"]).await;

    let big_eur =
        app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1", "amount": 20000, "currency": "eur"})).await;
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_2", "amount": 500, "currency": "eur"})).await;
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_3", "amount": 20000, "currency": "usd"})).await;
    everything.wait_for(3, Duration::from_secs(10)).await;
    let got = filtered.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(filtered.received().len(), 1, "only the big euro charge");
    assert_eq!(got[0].json()["id"], big_eur["id"]);

    // A new filter takes over; removing it sends every subscribed event again.
    let id = hook["id"].as_str().unwrap();
    let changed = patch(&app, &merchant, id, json!(r#"resource.currency in ["usd"]"#)).await;
    assert_eq!(changed.status(), 200);
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_4", "amount": 1, "currency": "usd"})).await;
    filtered.wait_for(2, Duration::from_secs(10)).await;
    let removed = patch(&app, &merchant, id, Value::Null).await;
    assert_eq!(removed.status(), 200, "null clears the filter");
    let removed: Value = removed.json().await.unwrap();
    assert!(removed["filter"].is_null() && removed["id"] == hook["id"]);
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_5", "amount": 1, "currency": "gbp"})).await;
    filtered.wait_for(3, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn every_kind_of_bad_filter_is_refused_by_name() {
    let app = spawn_app().await;
    let merchant = app.create_account("Acme").await;
    let nested = "resource.items.all(a, resource.items.all(b, a.qty > b.qty))";
    let long = format!("resource.amount > {}", "1".repeat(1100));
    let cases = [
        ("resource.amount >=", "INVALID_FILTER"),
        ("resource.(", "INVALID_FILTER"),
        ("", "INVALID_FILTER"),
        (nested, "FILTER_TOO_COMPLEX"),
        (long.as_str(), "FILTER_TOO_COMPLEX"),
    ];
    for (filter, code) in cases {
        let body = json!({"url": "http://127.0.0.1:9/hook", "event_types": [{"name": "*"}], "filter": filter});
        let response =
            app.merchant(&merchant, Method::POST, "/v1/notifications/webhooks").json(&body).send().await.unwrap();
        let status = response.status();
        let error: Value = response.json().await.unwrap();
        if filter.is_empty() {
            // An empty filter is no filter.
            assert_eq!(status, 201, "{error}");
            assert!(error["filter"].is_null());
            continue;
        }
        assert_eq!(status, 422, "{filter}: {error}");
        assert_eq!(error["details"][0]["field"], "/filter", "{error}");
        assert_eq!(error["details"][0]["issue"], code, "{filter}: {error}");
        assert!(!error["details"][0]["description"].as_str().unwrap().is_empty());
    }
    let hooks: Value = fetch_json(app.merchant(&merchant, Method::GET, "/v1/notifications/webhooks")).await;
    let id = hooks["webhooks"][0]["id"].as_str().unwrap().to_owned();
    let refused = patch(&app, &merchant, &id, json!("resource.amount >=")).await;
    assert_eq!(refused.status(), 422);
    let shown: Value =
        fetch_json(app.merchant(&merchant, Method::GET, &format!("/v1/notifications/webhooks/{id}"))).await;
    assert!(shown["filter"].is_null(), "a refused PATCH changes nothing");
    assert_eq!(patch(&app, &merchant, &id, json!(3)).await.status(), 400, "a filter is a string");
    // Any nullable field is cleared with null, as a filter is.
    let body = json!([{"op": "replace", "path": "/description", "value": "orders"}, {"op": "replace", "path": "/rate_limit", "value": 5}]);
    let path = format!("/v1/notifications/webhooks/{id}");
    let set = app
        .merchant(&merchant, Method::PATCH, &path)
        .header("content-type", "application/json-patch+json")
        .body(body.to_string());
    assert_eq!(status_of(set).await, 200);
    let body = json!([{"op": "replace", "path": "/description", "value": null}, {"op": "replace", "path": "/rate_limit", "value": null}]);
    let cleared = app
        .merchant(&merchant, Method::PATCH, &path)
        .header("content-type", "application/json-patch+json")
        .body(body.to_string());
    let cleared: Value = cleared.send().await.unwrap().json().await.unwrap();
    assert!(cleared["description"].is_null() && cleared["rate_limit"].is_null(), "{cleared}");
}

async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}
