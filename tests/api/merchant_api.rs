//! Every merchant operation and Herald's additions, through HTTP.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::{Merchant, Receiver, TestApp, eventually, spawn_app, spawn_app_with};

const WAIT: Duration = Duration::from_secs(10);

async fn get(app: &TestApp, merchant: &Merchant, path: &str) -> (u16, Value) {
    let response = app.merchant(merchant, Method::GET, path).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn send(app: &TestApp, merchant: &Merchant, method: Method, path: &str, body: Value) -> (u16, Value) {
    let response = app.merchant(merchant, method, path).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = BASE64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

fn verifies(secret: &str, received: &crate::support::Received) -> bool {
    let timestamp: i64 = received.header("webhook-timestamp").parse().unwrap();
    let expected = sign(secret, received.header("webhook-id"), timestamp, &received.body);
    received.header("webhook-signature").split(' ').any(|s| s == expected)
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_tokens_work_until_terminated_rolled_or_expired() {
    let app = spawn_app_with(|s| s.token_lifetime = Duration::from_millis(1500)).await;
    let merchant = app.create_account("Acme").await;
    let token_request = |client_id: &str, secret: &str| {
        app.http
            .post(app.url("/v1/oauth2/token"))
            .basic_auth(client_id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
    };
    let issued: Value =
        token_request(&merchant.client_id, &merchant.client_secret).await.unwrap().json().await.unwrap();
    assert_eq!(issued["token_type"], "Bearer");
    assert_eq!(issued["expires_in"], 1);
    let token = issued["access_token"].as_str().unwrap().to_owned();
    let with_token = |token: &str| app.http.get(app.url("/v1/notifications/webhooks")).bearer_auth(token).send();
    assert_eq!(with_token(&token).await.unwrap().status(), 200);
    assert_eq!(with_token("hat_forged").await.unwrap().status(), 401);
    assert_eq!(token_request(&merchant.client_id, "wrong").await.unwrap().status(), 401);
    let bad_grant = app
        .http
        .post(app.url("/v1/oauth2/token"))
        .basic_auth(&merchant.client_id, Some(&merchant.client_secret))
        .body("grant_type=password")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_grant.status(), 400);

    // Terminate revokes one token.
    let terminate = app
        .http
        .post(app.url("/v1/oauth2/token/terminate"))
        .basic_auth(&merchant.client_id, Some(&merchant.client_secret))
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(terminate.status(), 204);
    assert_eq!(with_token(&token).await.unwrap().status(), 401);

    // Expiry.
    let short: Value = token_request(&merchant.client_id, &merchant.client_secret).await.unwrap().json().await.unwrap();
    let short = short["access_token"].as_str().unwrap().to_owned();
    assert_eq!(with_token(&short).await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(with_token(&short).await.unwrap().status(), 401, "an expired token is refused");

    // A credential roll: the old secret and every token stop working; the new secret works.
    let live: Value = token_request(&merchant.client_id, &merchant.client_secret).await.unwrap().json().await.unwrap();
    let live = live["access_token"].as_str().unwrap().to_owned();
    let rolled =
        app.operator(Method::POST, &format!("/v1/accounts/{}/credentials/roll", merchant.id)).send().await.unwrap();
    assert_eq!(rolled.status(), 200);
    let rolled: Value = rolled.json().await.unwrap();
    let new_secret = rolled["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, merchant.client_secret);
    assert_eq!(with_token(&live).await.unwrap().status(), 401);
    assert_eq!(get(&app, &merchant, "/v1/notifications/webhooks").await.0, 401);
    let renewed = Merchant { client_secret: new_secret.into(), ..merchant };
    assert_eq!(get(&app, &renewed, "/v1/notifications/webhooks").await.0, 200);
    let missing = app
        .operator(Method::POST, "/v1/accounts/acct_01ARZ3NDEKTSV4RRFFQ69G5FAV/credentials/roll")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_is_seeded_and_listed_for_merchants() {
    let app = spawn_app_with(|s| s.seed_catalog = true).await;
    let merchant = app.create_account("Acme").await;
    let (status, body) = get(&app, &merchant, "/v1/notifications/webhooks-event-types").await;
    assert_eq!(status, 200);
    let types = body["event_types"].as_array().unwrap();
    let names: Vec<&str> = types.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for name in ["charge.dispute.closed", "subscription.canceled", "payment.failed", "PAYMENT.CAPTURE.COMPLETED"] {
        assert!(names.contains(&name), "{name} is seeded");
    }
    let capture = types.iter().find(|t| t["name"] == "PAYMENT.CAPTURE.COMPLETED").unwrap();
    assert_eq!(capture["status"], "ENABLED");
    assert_eq!(capture["resource_versions"], json!(["2.0"]));
    // The seeded sample is what a simulation sends.
    let receiver = Receiver::start().await;
    let webhook = app.create_webhook(&merchant, &receiver.url, &["charge.dispute.closed"]).await;
    let (status, _) = send(
        &app,
        &merchant,
        Method::POST,
        "/v1/notifications/simulate-event",
        json!({"webhook_id": webhook["id"], "event_type": "charge.dispute.closed"}),
    )
    .await;
    assert_eq!(status, 202);
    let arrived = receiver.wait_for(1, WAIT).await;
    let body = arrived[0].json();
    assert_eq!(body["resource"]["id"], "pdp_1E0twPDq739h3i0DnNbstJLw");
    assert_eq!(body["resource"]["status"], "lost");
    assert_eq!(body["simulated"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_is_updated_with_json_patch() {
    let app = spawn_app().await;
    for name in ["charge.succeeded", "charge.failed"] {
        app.put_event_type(name).await;
    }
    let merchant = app.create_account("Acme").await;
    let first = Receiver::start().await;
    let second = Receiver::start().await;
    let webhook = app.create_webhook(&merchant, &first.url, &["charge.succeeded"]).await;
    let other = app.create_webhook(&merchant, "http://127.0.0.1:9/other", &["*"]).await;
    let path = format!("/v1/notifications/webhooks/{}", webhook["id"].as_str().unwrap());
    let patch = |ops: Value| app.merchant(&merchant, Method::PATCH, &path).json(&ops).send();

    let updated: Value = patch(json!([
        {"op": "replace", "path": "/url", "value": second.url},
        {"op": "replace", "path": "/event_types", "value": [{"name": "charge.failed"}]},
        {"op": "replace", "path": "/description", "value": "the new endpoint"}
    ]))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(updated["url"], second.url.as_str());
    assert_eq!(updated["event_types"], json!([{"name": "charge.failed", "description": "charge.failed happened"}]));
    assert_eq!(updated["description"], "the new endpoint");
    let (_, subscriptions) = get(&app, &merchant, &format!("{path}/event-types")).await;
    assert_eq!(subscriptions["event_types"][0]["name"], "charge.failed");

    app.publish_ok(&merchant, "charge.succeeded", json!({"n": 1})).await;
    app.publish_ok(&merchant, "charge.failed", json!({"n": 2})).await;
    let arrived = second.wait_for(1, WAIT).await;
    assert_eq!(arrived[0].json()["event_type"], "charge.failed");

    // Disabled: new events make no deliveries for it, not even after it is enabled again.
    let disabled = patch(json!([{"op": "replace", "path": "/status", "value": "DISABLED"}])).await.unwrap();
    assert_eq!(disabled.status(), 200);
    assert!(
        app.store
            .list_deliveries(
                &herald::domain::WebhookId::parse(webhook["id"].as_str().unwrap()).unwrap(),
                None,
                herald::store::PageRequest { after: None, limit: 10 }
            )
            .await
            .unwrap()
            .len()
            == 1
    );
    app.publish_ok(&merchant, "charge.failed", json!({"n": 3})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(second.received().len(), 1, "a disabled webhook gets nothing");
    let enabled: Value =
        patch(json!([{"op": "replace", "path": "/status", "value": "ENABLED"}])).await.unwrap().json().await.unwrap();
    assert_eq!(enabled["status"], "ENABLED");
    assert_eq!(enabled["disabled_reason"], Value::Null);
    assert!(first.received().is_empty());

    // Bad patches are refused with details and change nothing.
    for (ops, status, issue) in [
        (json!([{"op": "add", "path": "/url", "value": "http://127.0.0.1:9/x"}]), 422, "UNSUPPORTED_PATCH_OPERATION"),
        (json!([{"op": "replace", "path": "/id", "value": "wh_x"}]), 422, "UNSUPPORTED_PATCH_PATH"),
        (json!([{"op": "replace", "path": "/status", "value": "PAUSED"}]), 422, "INVALID_PARAMETER_SYNTAX"),
        (json!([{"op": "replace", "path": "/url", "value": "ftp://x"}]), 422, "INVALID_URL"),
        (json!([{"op": "replace", "path": "/url", "value": other["url"]}]), 409, ""),
        (
            json!([{"op": "replace", "path": "/url", "value": "http://127.0.0.1:9/x", "colour": 1}]),
            400,
            "INVALID_PARAMETER",
        ),
        (json!([]), 422, "EMPTY_PATCH"),
        (
            json!([
                {"op": "replace", "path": "/url", "value": "ftp://x"},
                {"op": "replace", "path": "/url", "value": "http://127.0.0.1:9/y"}
            ]),
            422,
            "DUPLICATE_PATCH_PATH",
        ),
    ] {
        let response = patch(ops.clone()).await.unwrap();
        assert_eq!(response.status(), status, "{ops}");
        let body: Value = response.json().await.unwrap();
        if !issue.is_empty() {
            assert_eq!(body["details"][0]["issue"], issue, "{ops}");
        }
    }
    let (_, unchanged) = get(&app, &merchant, &path).await;
    assert_eq!(unchanged["url"], second.url.as_str());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(second.received().len(), 1, "an event published while disabled is not delivered later");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_listed_with_filters_and_pages() {
    let app = spawn_app().await;
    app.put_event_type("payment.created").await;
    app.put_event_type("payment.failed").await;
    let merchant = app.create_account("Acme").await;
    let other = app.create_account("Other").await;
    let mut published = Vec::new();
    for n in 0..7 {
        let event_type = if n % 2 == 0 { "payment.created" } else { "payment.failed" };
        published.push(app.publish_ok(&merchant, event_type, json!({"id": format!("PAY-{n}"), "n": n})).await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    app.publish_ok(&other, "payment.created", json!({"id": "PAY-X"})).await;

    // Three pages of three, newest first, following the links.
    let mut seen = Vec::new();
    let mut next = Some(app.url("/v1/notifications/webhooks-events?page_size=3"));
    let mut pages = 0;
    while let Some(url) = next {
        let page: Value = app
            .http
            .get(&url)
            .basic_auth(&merchant.client_id, Some(&merchant.client_secret))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
        assert_eq!(page["count"], page["events"].as_array().unwrap().len());
        seen.extend(page["events"].as_array().unwrap().iter().map(|e| e["resource"]["n"].as_i64().unwrap()));
        next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| l["href"].as_str().unwrap().to_owned());
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, [6, 5, 4, 3, 2, 1, 0]);

    let query = |q: String| {
        let app = &app;
        let merchant = &merchant;
        async move { get(app, merchant, &format!("/v1/notifications/webhooks-events?{q}")).await.1 }
    };
    let ns = |page: &Value| -> Vec<i64> {
        page["events"].as_array().unwrap().iter().map(|e| e["resource"]["n"].as_i64().unwrap()).collect()
    };
    let failed = query("event_type=payment.failed".into()).await;
    assert_eq!(ns(&failed), [5, 3, 1]);
    let by_transaction = query("transaction_id=PAY-4".into()).await;
    assert_eq!(ns(&by_transaction), [4]);
    let encode = |t: &Value| serde_urlencoded::to_string([("t", t.as_str().unwrap())]).unwrap()[2..].to_owned();
    let window = query(format!(
        "start_time={}&end_time={}",
        encode(&published[2]["create_time"]),
        encode(&published[4]["create_time"])
    ))
    .await;
    assert_eq!(ns(&window), [4, 3, 2]);
    let bad = app
        .merchant(&merchant, Method::GET, "/v1/notifications/webhooks-events?start_time=yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_goes_to_all_subscribed_or_to_the_listed_webhooks() {
    let app = spawn_app().await;
    app.put_event_type("invoice.updated").await;
    let merchant = app.create_account("Acme").await;
    let a = Receiver::start().await;
    let b = Receiver::start().await;
    app.create_webhook(&merchant, &a.url, &["*"]).await;
    let hook_b = app.create_webhook(&merchant, &b.url, &["invoice.updated"]).await;
    let event = app.publish_ok(&merchant, "invoice.updated", json!({"id": "in_1"})).await;
    a.wait_for(1, WAIT).await;
    b.wait_for(1, WAIT).await;
    let path = format!("/v1/notifications/webhooks-events/{}/resend", event["id"].as_str().unwrap());

    let (status, body) = send(&app, &merchant, Method::POST, &path, json!({"webhook_ids": [hook_b["id"]]})).await;
    assert_eq!(status, 202);
    assert_eq!(body["id"], event["id"]);
    let copies = b.wait_for(2, WAIT).await;
    assert_eq!(copies[1].header("webhook-id"), event["id"].as_str().unwrap());
    assert_eq!(copies[1].body, copies[0].body, "a resend sends the same bytes");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(a.received().len(), 1, "only the listed webhook got the resend");

    let everyone = app.merchant(&merchant, Method::POST, &path).send().await.unwrap();
    assert_eq!(everyone.status(), 202);
    a.wait_for(2, WAIT).await;
    b.wait_for(3, WAIT).await;
    let hook_id = herald::domain::WebhookId::parse(hook_b["id"].as_str().unwrap()).unwrap();
    let deliveries =
        app.store.list_deliveries(&hook_id, None, herald::store::PageRequest { after: None, limit: 10 }).await.unwrap();
    let triggers: Vec<_> = deliveries.iter().map(|d| d.trigger.as_str()).collect();
    assert_eq!(triggers, ["manual", "manual", "scheduled"]);

    let unknown =
        send(&app, &merchant, Method::POST, &path, json!({"webhook_ids": ["wh_01ARZ3NDEKTSV4RRFFQ69G5FAV"]})).await;
    assert_eq!(unknown.0, 404);
    assert_eq!(unknown.1["details"][0]["issue"], "WEBHOOK_NOT_FOUND");
    let missing = app
        .merchant(&merchant, Method::POST, "/v1/notifications/webhooks-events/evt_01ARZ3NDEKTSV4RRFFQ69G5FAV/resend")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_sends_the_sample_once_to_a_webhook_or_a_bare_url() {
    let app = spawn_app().await;
    let sample = json!({"id": "ch_sample", "amount": 100});
    let put = app
        .operator(Method::PUT, "/v1/event-types/charge.succeeded")
        .json(&json!({"description": "A charge succeeded", "sample": sample}))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    app.put_event_type("charge.failed").await; // no sample
    let merchant = app.create_account("Acme").await;
    let failing = Receiver::start_with_script(&[500, 500, 500]).await;
    let webhook = app.create_webhook(&merchant, &failing.url, &["*"]).await;
    let simulate = |body: Value| send(&app, &merchant, Method::POST, "/v1/notifications/simulate-event", body);

    let (status, event) = simulate(json!({"webhook_id": webhook["id"], "event_type": "charge.succeeded"})).await;
    assert_eq!(status, 202);
    assert_eq!(event["simulated"], true);
    assert_eq!(event["resource"], sample);
    let arrived = failing.wait_for(1, WAIT).await;
    assert!(verifies(webhook["secret"].as_str().unwrap(), &arrived[0]));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(failing.received().len(), 1, "a simulation is sent once, not retried");

    let bare = Receiver::start().await;
    let (status, event) = simulate(json!({"url": bare.url, "event_type": "charge.succeeded"})).await;
    assert_eq!(status, 202);
    let arrived = bare.wait_for(1, WAIT).await;
    assert_eq!(arrived[0].json()["id"], event["id"]);
    assert_eq!(arrived[0].json()["simulated"], true);
    assert_eq!(arrived[0].header("webhook-signature"), "", "no webhook, so no secret to sign with");

    let (_, listed) = get(&app, &merchant, "/v1/notifications/webhooks-events").await;
    assert_eq!(listed["count"], 0, "simulated events are not listed among real events");

    for (body, status) in [
        (json!({"event_type": "charge.succeeded"}), 422),
        (json!({"webhook_id": webhook["id"], "url": bare.url, "event_type": "charge.succeeded"}), 422),
        (json!({"url": "ftp://x", "event_type": "charge.succeeded"}), 422),
        (json!({"url": bare.url, "event_type": "charge.exploded"}), 422),
        (json!({"url": bare.url, "event_type": "charge.failed"}), 422),
        (json!({"webhook_id": "wh_01ARZ3NDEKTSV4RRFFQ69G5FAV", "event_type": "charge.succeeded"}), 404),
    ] {
        let (got, error) = simulate(body.clone()).await;
        assert_eq!(got, status, "{body} → {error}");
        assert!(!error["details"].as_array().map(Vec::is_empty).unwrap_or(true) || status == 404, "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_verified_by_the_postback_check() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let receiver = Receiver::start().await;
    let webhook = app.create_webhook(&merchant, &receiver.url, &["*"]).await;
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    let delivered = receiver.wait_for(1, WAIT).await.remove(0);
    let headers = |r: &crate::support::Received| {
        json!({"Webhook-Id": r.header("webhook-id"), "webhook-timestamp": r.header("webhook-timestamp"),
               "webhook-signature": r.header("webhook-signature")})
    };
    let verify = |body: Value| send(&app, &merchant, Method::POST, "/v1/notifications/verify-webhook-signature", body);
    let body = String::from_utf8(delivered.body.to_vec()).unwrap();

    let (status, answer) =
        verify(json!({"webhook_id": webhook["id"], "headers": headers(&delivered), "body": body})).await;
    assert_eq!(status, 200);
    assert_eq!(answer["verification_status"], "SUCCESS");
    let (_, tampered) = verify(
        json!({"webhook_id": webhook["id"], "headers": headers(&delivered), "body": body.replace("ch_1", "ch_2")}),
    )
    .await;
    assert_eq!(tampered["verification_status"], "FAILURE");
    let secret = webhook["secret"].as_str().unwrap();
    let stale_ts = now_secs() - 301;
    let stale = json!({"webhook-id": "evt_x", "webhook-timestamp": stale_ts.to_string(),
                       "webhook-signature": sign(secret, "evt_x", stale_ts, b"{}")});
    let (_, old) = verify(json!({"webhook_id": webhook["id"], "headers": stale, "body": "{}"})).await;
    assert_eq!(old["verification_status"], "FAILURE", "a timestamp over five minutes old fails");
    let fresh_ts = now_secs();
    let wrong_key = json!({"webhook-id": "evt_x", "webhook-timestamp": fresh_ts.to_string(),
                           "webhook-signature": sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "evt_x", fresh_ts, b"{}")});
    let (_, wrong) = verify(json!({"webhook_id": webhook["id"], "headers": wrong_key, "body": "{}"})).await;
    assert_eq!(wrong["verification_status"], "FAILURE");
    let (missing, _) = verify(json!({"webhook_id": webhook["id"]})).await;
    assert_eq!(missing, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_secret_and_the_previous_one_both_sign_during_the_grace_period() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let receiver = Receiver::start().await;
    let webhook = app.create_webhook(&merchant, &receiver.url, &["*"]).await;
    let path = format!("/v1/notifications/webhooks/{}", webhook["id"].as_str().unwrap());
    let old_secret = webhook["secret"].as_str().unwrap().to_owned();
    let (status, revealed) = get(&app, &merchant, &format!("{path}/secret")).await;
    assert_eq!(status, 200);
    assert_eq!(revealed, json!({"secret": old_secret, "previous": []}));

    let (status, rolled) =
        send(&app, &merchant, Method::POST, &format!("{path}/secret/roll"), json!({"expire_previous_in_seconds": 2}))
            .await;
    assert_eq!(status, 200);
    let new_secret = rolled["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);
    assert_eq!(rolled["previous"][0]["secret"], old_secret.as_str());

    app.publish_ok(&merchant, "charge.succeeded", json!({"n": 1})).await;
    let during = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(during.header("webhook-signature").split(' ').count(), 2);
    assert!(verifies(&old_secret, &during), "a receiver holding only the old secret verifies during the grace period");
    assert!(verifies(&new_secret, &during), "a receiver holding only the new secret verifies too");

    tokio::time::sleep(Duration::from_millis(2200)).await;
    app.publish_ok(&merchant, "charge.succeeded", json!({"n": 2})).await;
    let after = receiver.wait_for(2, WAIT).await.remove(1);
    assert!(verifies(&new_secret, &after));
    assert!(!verifies(&old_secret, &after), "after the grace period only the new secret signs");
    let (_, revealed) = get(&app, &merchant, &format!("{path}/secret")).await;
    assert_eq!(revealed, json!({"secret": new_secret, "previous": []}));

    let bad = send(
        &app,
        &merchant,
        Method::POST,
        &format!("{path}/secret/roll"),
        json!({"expire_previous_in_seconds": 604801}),
    )
    .await;
    assert_eq!(bad.0, 422);
    let no_body = app.merchant(&merchant, Method::POST, &format!("{path}/secret/roll")).send().await.unwrap();
    assert_eq!(no_body.status(), 200, "the body is optional (default grace: 24 h)");
    let (_, after_default) = get(&app, &merchant, &format!("{path}/secret")).await;
    assert_eq!(after_default["previous"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_listed_by_status_shown_with_attempts_and_recovered() {
    let app = spawn_app_with(|s| s.retry_schedule = "".parse().unwrap()).await;
    app.put_event_type("payment.failed").await;
    let merchant = app.create_account("Acme").await;
    let receiver = Receiver::start_with_script(&[200, 500, 503]).await;
    let webhook = app.create_webhook(&merchant, &receiver.url, &["*"]).await;
    let path = format!("/v1/notifications/webhooks/{}", webhook["id"].as_str().unwrap());
    let started = herald::domain::Timestamp::now().to_rfc3339();
    for n in 0..3 {
        app.publish_ok(&merchant, "payment.failed", json!({"n": n})).await;
        receiver.wait_for(n + 1, WAIT).await;
    }
    let list = |query: &'static str| {
        let (app, merchant, path) = (&app, &merchant, path.clone());
        async move { get(app, merchant, &format!("{path}/deliveries{query}")).await.1 }
    };
    let all = eventually(WAIT, || async {
        let all = list("").await;
        let done = all["deliveries"].as_array().unwrap().iter().all(|d| d["status"] != "pending");
        done.then_some(all)
    })
    .await;
    assert_eq!(all["deliveries"].as_array().unwrap().len(), 3);
    assert_eq!(list("?status=succeeded").await["deliveries"].as_array().unwrap().len(), 1);
    let failed = list("?status=failed").await;
    assert_eq!(failed["deliveries"].as_array().unwrap().len(), 2);
    assert_eq!(failed["deliveries"][0]["last_status_code"], 503, "newest first");
    assert_eq!(list("?status=pending").await["deliveries"], json!([]));
    let page = list("?page_size=2").await;
    assert_eq!(page["deliveries"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_string());
    assert_eq!(get(&app, &merchant, &format!("{path}/deliveries?status=lost")).await.0, 400);

    let delivery_id = failed["deliveries"][0]["id"].as_str().unwrap();
    let (status, detail) = get(&app, &merchant, &format!("{path}/deliveries/{delivery_id}")).await;
    assert_eq!(status, 200);
    let attempt = &detail["attempts"][0];
    assert_eq!(attempt["response"]["status"], 503);
    assert_eq!(attempt["error"]["code"], "unexpected_status");
    assert_eq!(attempt["trigger"], "scheduled");
    assert_eq!(attempt["request"]["url"], receiver.url.as_str());
    assert!(attempt["request"]["headers"]["webhook-signature"].as_str().unwrap().starts_with("v1,"));
    assert_eq!(
        serde_json::from_str::<Value>(attempt["request"]["body"].as_str().unwrap()).unwrap()["resource"]["n"],
        2
    );
    assert!(attempt["duration_ms"].is_u64());

    // Recover: the two failures get another attempt, which now succeeds.
    let (status, recovered) =
        send(&app, &merchant, Method::POST, &format!("{path}/recover"), json!({"since": started})).await;
    assert_eq!(status, 202);
    assert_eq!(recovered["requeued"], 2);
    receiver.wait_for(5, WAIT).await;
    let succeeded = eventually(WAIT, || async {
        let list = list("?status=succeeded").await;
        (list["deliveries"].as_array().unwrap().len() == 3).then_some(list)
    })
    .await;
    let recovered_id = succeeded["deliveries"][0]["id"].as_str().unwrap();
    let (_, detail) = get(&app, &merchant, &format!("{path}/deliveries/{recovered_id}")).await;
    let attempts = detail["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[1]["trigger"], "manual");
    let past = json!({"since": "2000-01-01T00:00:00Z", "until": "2000-01-02T00:00:00Z"});
    let (status, none) = send(&app, &merchant, Method::POST, &format!("{path}/recover"), past).await;
    assert_eq!((status, none["requeued"].clone()), (202, json!(0)));
    let inverted = json!({"since": "2999-01-01T00:00:00Z"});
    assert_eq!(send(&app, &merchant, Method::POST, &format!("{path}/recover"), inverted).await.0, 422);
    assert_eq!(send(&app, &merchant, Method::POST, &format!("{path}/recover"), json!({"since": "soon"})).await.0, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_resources_must_satisfy_the_types_schema() {
    let app = spawn_app().await;
    let schema = json!({"type": "object", "required": ["id", "amount"],
        "properties": {"id": {"type": "string"}, "amount": {"type": "integer", "minimum": 1}}});
    let put = app
        .operator(Method::PUT, "/v1/event-types/charge.succeeded")
        .json(&json!({"description": "x", "schema": schema}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let listed: Value = app.operator(Method::GET, "/v1/event-types").send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["event_types"][0]["schema"], schema);
    let bad_schema = app
        .operator(Method::PUT, "/v1/event-types/x.y")
        .json(&json!({"description": "x", "schema": {"type": 5}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_schema.status(), 422);
    let merchant = app.create_account("Acme").await;

    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1", "amount": 5})).await;
    let response = app.publish(&merchant, "charge.succeeded", json!({"id": 7, "amount": 0})).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["name"], "VALIDATION_ERROR");
    let mut fields: Vec<&str> =
        error["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, ["/resource/amount", "/resource/id"]);
    let batch = json!({"events": [
        {"account_id": merchant.id, "event_type": "charge.succeeded", "resource": {"id": "ch_2", "amount": 1}},
        {"account_id": merchant.id, "event_type": "charge.succeeded", "resource": {"amount": 1}}]});
    let response = app.operator(Method::POST, "/v1/events/batch").json(&batch).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["details"][0]["field"], "/events/1/resource");
    let (_, events) = get(&app, &merchant, "/v1/notifications/webhooks-events").await;
    assert_eq!(events["count"], 1, "only the valid single event was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_merchant_path_hides_other_accounts_objects() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let owner = app.create_account("Owner").await;
    let intruder = app.create_account("Intruder").await;
    let receiver = Receiver::start().await;
    let webhook = app.create_webhook(&owner, &receiver.url, &["*"]).await;
    let event = app.publish_ok(&owner, "charge.succeeded", json!({"id": "ch_1"})).await;
    receiver.wait_for(1, WAIT).await;
    let wh = webhook["id"].as_str().unwrap();
    let evt = event["id"].as_str().unwrap();
    let hook_id = herald::domain::WebhookId::parse(wh).unwrap();
    let delivery = eventually(WAIT, || async {
        app.store
            .list_deliveries(&hook_id, None, herald::store::PageRequest { after: None, limit: 1 })
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    let dlv = delivery.id.as_str();
    let paths: Vec<(Method, String, Value)> = vec![
        (Method::GET, format!("/v1/notifications/webhooks/{wh}"), Value::Null),
        (
            Method::PATCH,
            format!("/v1/notifications/webhooks/{wh}"),
            json!([{"op": "replace", "path": "/description", "value": "x"}]),
        ),
        (Method::DELETE, format!("/v1/notifications/webhooks/{wh}"), Value::Null),
        (Method::GET, format!("/v1/notifications/webhooks/{wh}/event-types"), Value::Null),
        (Method::GET, format!("/v1/notifications/webhooks/{wh}/secret"), Value::Null),
        (Method::POST, format!("/v1/notifications/webhooks/{wh}/secret/roll"), json!({})),
        (Method::GET, format!("/v1/notifications/webhooks/{wh}/deliveries"), Value::Null),
        (Method::GET, format!("/v1/notifications/webhooks/{wh}/deliveries/{dlv}"), Value::Null),
        (Method::POST, format!("/v1/notifications/webhooks/{wh}/recover"), json!({"since": "2000-01-01T00:00:00Z"})),
        (Method::GET, format!("/v1/notifications/webhooks-events/{evt}"), Value::Null),
        (Method::POST, format!("/v1/notifications/webhooks-events/{evt}/resend"), json!({})),
        (
            Method::POST,
            "/v1/notifications/simulate-event".into(),
            json!({"webhook_id": wh, "event_type": "charge.succeeded"}),
        ),
        (
            Method::POST,
            "/v1/notifications/verify-webhook-signature".into(),
            json!({"webhook_id": wh, "headers": {}, "body": ""}),
        ),
    ];
    for (method, path, body) in &paths {
        let request = app.merchant(&intruder, method.clone(), path);
        let request = if body.is_null() { request } else { request.json(body) };
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["name"], "RESOURCE_NOT_FOUND", "{method} {path}");
    }
    let (_, listed) = get(&app, &intruder, "/v1/notifications/webhooks-events").await;
    assert_eq!(listed["count"], 0);
    let (status, still) = get(&app, &owner, &format!("/v1/notifications/webhooks/{wh}")).await;
    assert_eq!((status, still["description"].clone()), (200, Value::Null), "nothing the intruder did changed it");
    assert_eq!(receiver.received().len(), 1, "no resend or simulation reached the owner's endpoint");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_covers_the_contract_and_the_reference_page_renders_it() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/v1/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let expected = [
        ("post", "/v1/accounts"),
        ("get", "/v1/accounts"),
        ("get", "/v1/accounts/{id}"),
        ("post", "/v1/accounts/{id}/credentials/roll"),
        ("put", "/v1/event-types/{name}"),
        ("get", "/v1/event-types"),
        ("post", "/v1/events"),
        ("post", "/v1/events/batch"),
        ("post", "/v1/oauth2/token"),
        ("get", "/v1/notifications/webhooks-event-types"),
        ("post", "/v1/notifications/webhooks"),
        ("get", "/v1/notifications/webhooks"),
        ("get", "/v1/notifications/webhooks/{id}"),
        ("patch", "/v1/notifications/webhooks/{id}"),
        ("delete", "/v1/notifications/webhooks/{id}"),
        ("get", "/v1/notifications/webhooks/{id}/event-types"),
        ("get", "/v1/notifications/webhooks-events"),
        ("get", "/v1/notifications/webhooks-events/{id}"),
        ("post", "/v1/notifications/webhooks-events/{id}/resend"),
        ("post", "/v1/notifications/simulate-event"),
        ("post", "/v1/notifications/verify-webhook-signature"),
        ("get", "/v1/notifications/webhooks/{id}/secret"),
        ("post", "/v1/notifications/webhooks/{id}/secret/roll"),
        ("get", "/v1/notifications/webhooks/{id}/deliveries"),
        ("get", "/v1/notifications/webhooks/{id}/deliveries/{delivery_id}"),
        ("post", "/v1/notifications/webhooks/{id}/recover"),
        ("get", "/healthz"),
        ("get", "/readyz"),
    ];
    for (method, path) in expected {
        let operation = &document["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is documented");
        let responses = operation["responses"].as_object().unwrap();
        assert!(responses.contains_key("422") && responses.contains_key("500"), "{method} {path} documents its errors");
    }
    assert!(document["components"]["schemas"]["ErrorBody"].is_object());
    let page = app.http.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let page = page.text().await.unwrap();
    assert!(page.contains("<code>/v1/notifications/webhooks/{id}/secret/roll</code>"));
    assert!(!page.contains("<script"), "the page works without JavaScript");
}

/// Create and PATCH check each field with the same function: the same bad value gets the same status and
/// code both ways (the pointer says where it was: `/url` in a create body, `/0/value` in a patch), and
/// neither writes anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_patch_refuse_the_same_bad_field_with_the_same_code() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let webhook = app.create_webhook(&merchant, "http://127.0.0.1:9/base", &["*"]).await;
    let path = format!("/v1/notifications/webhooks/{}", webhook["id"].as_str().unwrap());
    let (_, before) = get(&app, &merchant, &path).await;
    let cases = [
        ("url", json!("ftp://example.com/x"), 422, "INVALID_URL", ""),
        ("url", json!(5), 400, "INVALID_PARAMETER", ""),
        ("event_types", json!([]), 422, "MISSING_EVENT_TYPES", ""),
        ("event_types", json!([{"name": "no.such.type"}]), 422, "UNKNOWN_EVENT_TYPE", "/0/name"),
        ("event_types", json!([{"name": "*"}, {"name": "not a name"}]), 422, "INVALID_EVENT_TYPE", "/1/name"),
        ("event_types", json!("charge.succeeded"), 400, "INVALID_PARAMETER", ""),
        ("format", json!("xml"), 422, "UNSUPPORTED_FORMAT", ""),
        ("signing", json!("md5"), 422, "UNSUPPORTED_SIGNING", ""),
        ("signing", json!("rsa-sha256"), 422, "UNSUPPORTED_SIGNING", ""),
        ("api_version", json!("not a version!"), 422, "INVALID_API_VERSION", ""),
        ("description", json!("x".repeat(501)), 422, "DESCRIPTION_TOO_LONG", ""),
        ("description", json!(5), 400, "INVALID_PARAMETER", ""),
        ("rate_limit", json!(0), 422, "INVALID_PARAMETER_VALUE", ""),
        ("rate_limit", json!("fast"), 400, "INVALID_PARAMETER", ""),
        ("max_in_flight", json!(100_000), 422, "INVALID_PARAMETER_VALUE", ""),
        ("ordering", json!("lifo"), 422, "INVALID_PARAMETER_VALUE", ""),
        ("headers", json!({"Host": "example.com"}), 422, "INVALID_HEADER", ""),
        ("headers", json!({"X-Tenant": 5}), 400, "INVALID_PARAMETER", ""),
    ];
    for (field, value, status, code, within) in cases {
        let mut body = json!({"url": "http://127.0.0.1:9/new", "event_types": [{"name": "*"}]});
        body[field] = value.clone();
        let (created, refusal) = send(&app, &merchant, Method::POST, "/v1/notifications/webhooks", body).await;
        let patch = json!([{"op": "replace", "path": format!("/{field}"), "value": value}]);
        let (patched, patch_refusal) = send(&app, &merchant, Method::PATCH, &path, patch).await;
        let case = format!("{field} = {value}");
        assert_eq!((created, refusal["details"][0]["issue"].as_str()), (status, Some(code)), "create, {case}");
        assert_eq!((patched, patch_refusal["details"][0]["issue"].as_str()), (status, Some(code)), "patch, {case}");
        // Type errors name the field as serde reads it; the rest name the exact place.
        if status == 422 {
            assert_eq!(refusal["details"][0]["field"], format!("/{field}{within}"), "create, {case}");
            assert_eq!(patch_refusal["details"][0]["field"], format!("/0/value{within}"), "patch, {case}");
            assert_eq!(refusal["name"], patch_refusal["name"], "{case}");
        }
    }
    let (_, listed) = get(&app, &merchant, "/v1/notifications/webhooks").await;
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1, "no create wrote anything");
    let (_, after) = get(&app, &merchant, &path).await;
    assert_eq!(after, before, "no patch changed anything");
}
