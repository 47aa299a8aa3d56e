//! The merchant's developer workspace: test and live mode kept apart, API keys with their scopes, rolls
//! and revocations, and the request log with its redacted bodies.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

async fn status(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}

async fn create_key(app: &TestApp, merchant: &Merchant, body: Value) -> Value {
    let response = app.merchant(merchant, Method::POST, "/v1/api-keys").json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn key_of(merchant: &Merchant, created: &Value) -> Merchant {
    merchant.with_key(created["client_id"].as_str().unwrap(), created["client_secret"].as_str().unwrap())
}

async fn token_of(app: &TestApp, merchant: &Merchant) -> String {
    let response = app
        .http
        .post(app.url("/v1/oauth2/token"))
        .basic_auth(&merchant.client_id, Some(&merchant.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn test_and_live_mode_never_meet() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let test = merchant.in_test_mode();
    let (live_receiver, test_receiver) = (Receiver::start().await, Receiver::start().await);
    let live_hook = app.create_webhook(&merchant, &live_receiver.url, &["*"]).await;
    let test_hook = app
        .create_webhook_with(&test, &test_receiver.url, json!({"format": "stripe", "api_version": "2024-06-20"}))
        .await;

    let live_event = app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_live"})).await;
    let body = json!({"account_id": merchant.id, "event_type": "charge.succeeded", "resource": {"id": "ch_test"}, "livemode": false});
    let published =
        app.operator(Method::POST, "/v1/events").header("Idempotency-Key", "order-7").json(&body).send().await.unwrap();
    assert_eq!(published.status(), 202);
    let publish_request = published.headers()["request-id"].to_str().unwrap().to_owned();
    let test_event: Value = published.json().await.unwrap();
    assert_eq!((live_event["livemode"].clone(), test_event["livemode"].clone()), (json!(true), json!(false)));

    let live_got = live_receiver.wait_for(1, Duration::from_secs(10)).await;
    let test_got = test_receiver.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(live_receiver.received().len(), 1, "the live webhook gets the live event only");
    assert_eq!(test_receiver.received().len(), 1, "the test webhook gets the test event only");
    assert_eq!(live_got[0].json()["id"], live_event["id"]);
    assert_eq!(live_got[0].json()["livemode"], true);
    let envelope = test_got[0].json();
    assert_eq!(envelope["id"], test_event["id"]);
    assert_eq!(envelope["livemode"], false, "a Stripe envelope says it is a test event");
    assert_eq!(envelope["request"], json!({"id": publish_request, "idempotency_key": "order-7"}));

    // The test environment is not an account of its own: a live event naming its id is refused, even
    // after test events warmed the node's copies.
    let account = herald::domain::AccountId::parse(&merchant.id).unwrap();
    let environment = app.store.environment(&account, herald::domain::Mode::Test).await.unwrap().unwrap();
    let posing = json!({"account_id": environment.as_str(), "event_type": "charge.succeeded", "resource": {"id": "x"}});
    let refused = app.operator(Method::POST, "/v1/events").json(&posing).send().await.unwrap();
    assert_eq!(refused.status(), 422);

    // Everything of one mode is not found through the other.
    let (live_id, test_id) = (live_hook["id"].as_str().unwrap(), test_hook["id"].as_str().unwrap());
    let (live_evt, test_evt) = (live_event["id"].as_str().unwrap(), test_event["id"].as_str().unwrap());
    for (who, webhook, event) in [(&merchant, test_id, test_evt), (&test, live_id, live_evt)] {
        for (method, path) in [
            (Method::GET, format!("/v1/notifications/webhooks/{webhook}")),
            (Method::PATCH, format!("/v1/notifications/webhooks/{webhook}")),
            (Method::GET, format!("/v1/notifications/webhooks/{webhook}/deliveries")),
            (Method::GET, format!("/v1/notifications/webhooks/{webhook}/secret")),
            (Method::POST, format!("/v1/notifications/webhooks/{webhook}/secret/roll")),
            (Method::DELETE, format!("/v1/notifications/webhooks/{webhook}")),
            (Method::GET, format!("/v1/notifications/webhooks-events/{event}")),
            (Method::POST, format!("/v1/notifications/webhooks-events/{event}/resend")),
        ] {
            let mut request = app.merchant(who, method.clone(), &path);
            if method == Method::PATCH {
                let patch = json!([{"op": "replace", "path": "/description", "value": "x"}]);
                request = request.header("content-type", "application/json-patch+json").body(patch.to_string());
            }
            assert_eq!(status(request).await, 404, "{method} {path} across modes");
        }
        let simulate = json!({"webhook_id": webhook, "event_type": "charge.succeeded"});
        let request = app.merchant(who, Method::POST, "/v1/notifications/simulate-event").json(&simulate);
        assert_eq!(status(request).await, 404, "a test event to the other mode's webhook");
    }
    let listed = |who: &Merchant| fetch_json(app.merchant(who, Method::GET, "/v1/notifications/webhooks"));
    assert_eq!(listed(&merchant).await["webhooks"].as_array().unwrap().len(), 1);
    assert_eq!(listed(&test).await["webhooks"][0]["id"], test_hook["id"]);
    let events = |who: &Merchant| fetch_json(app.merchant(who, Method::GET, "/v1/notifications/webhooks-events"));
    assert_eq!(events(&merchant).await["events"][0]["id"], live_event["id"]);
    assert_eq!(events(&test).await["events"].as_array().unwrap().len(), 1);

    // A listener made with a test key is a test object too.
    let listener: Value =
        fetch_json(app.merchant(&test, Method::POST, "/v1/notifications/listeners").json(&json!({}))).await;
    let path = format!("/v1/notifications/listeners/{}", listener["id"].as_str().unwrap());
    assert_eq!(status(app.merchant(&merchant, Method::GET, &path)).await, 404);
    assert_eq!(status(app.merchant(&test, Method::GET, &path)).await, 200);
}

#[tokio::test]
async fn a_read_only_key_reads_but_changes_nothing() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let receiver = Receiver::start().await;
    let webhook = app.create_webhook(&merchant, &receiver.url, &["*"]).await;
    let event = app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let created = create_key(&app, &merchant, json!({"name": "dashboards", "scope": "read_only"})).await;
    assert_eq!((created["scope"].as_str(), created["mode"].as_str()), (Some("read_only"), Some("live")));
    let reader = key_of(&merchant, &created);
    let token = token_of(&app, &reader).await;

    let id = webhook["id"].as_str().unwrap();
    let event_id = event["id"].as_str().unwrap();
    let key_id = created["id"].as_str().unwrap();
    for path in [
        "/v1/notifications/webhooks".to_owned(),
        format!("/v1/notifications/webhooks/{id}/deliveries"),
        "/v1/api-keys".into(),
        format!("/v1/notifications/webhooks-events/{event_id}"),
        "/v1/request-logs".into(),
    ] {
        assert_eq!(status(app.merchant(&reader, Method::GET, &path)).await, 200, "GET {path}");
        assert_eq!(status(app.http.get(app.url(&path)).bearer_auth(&token)).await, 200, "GET {path} with a token");
    }
    let writes = [
        (
            Method::POST,
            "/v1/notifications/webhooks".to_owned(),
            json!({"url": "http://127.0.0.1:9/x", "event_types": [{"name": "*"}]}),
        ),
        (
            Method::PATCH,
            format!("/v1/notifications/webhooks/{id}"),
            json!([{"op": "replace", "path": "/url", "value": "http://127.0.0.1:9/y"}]),
        ),
        (Method::DELETE, format!("/v1/notifications/webhooks/{id}"), Value::Null),
        (Method::POST, format!("/v1/notifications/webhooks-events/{event_id}/resend"), json!({})),
        (Method::POST, format!("/v1/notifications/webhooks/{id}/secret/roll"), json!({})),
        (Method::POST, "/v1/api-keys".to_owned(), json!({"name": "more"})),
        (Method::POST, format!("/v1/api-keys/{key_id}/roll"), json!({})),
        (Method::DELETE, format!("/v1/api-keys/{key_id}"), Value::Null),
        (
            Method::POST,
            "/v1/notifications/simulate-event".to_owned(),
            json!({"webhook_id": id, "event_type": "charge.succeeded"}),
        ),
    ];
    for (method, path, body) in writes {
        for bearer in [false, true] {
            let mut request = match bearer {
                false => app.merchant(&reader, method.clone(), &path),
                true => app.http.request(method.clone(), app.url(&path)).bearer_auth(&token),
            };
            if !body.is_null() {
                request = request.header("content-type", "application/json").body(body.to_string());
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 403, "{method} {path}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["name"], "NOT_AUTHORIZED");
        }
    }
    // Nothing changed: one webhook with its URL, one delivery, the key still there with its secret.
    let shown: Value =
        fetch_json(app.merchant(&merchant, Method::GET, &format!("/v1/notifications/webhooks/{id}"))).await;
    assert_eq!(shown["url"], webhook["url"]);
    let hooks: Value = fetch_json(app.merchant(&merchant, Method::GET, "/v1/notifications/webhooks")).await;
    assert_eq!(hooks["webhooks"].as_array().unwrap().len(), 1);
    let deliveries: Value =
        fetch_json(app.merchant(&merchant, Method::GET, &format!("/v1/notifications/webhooks/{id}/deliveries"))).await;
    assert_eq!(deliveries["deliveries"].as_array().unwrap().len(), 1, "no resend, no test event");
    assert_eq!(receiver.received().len(), 1);
    let keys: Value = fetch_json(app.merchant(&merchant, Method::GET, "/v1/api-keys")).await;
    assert_eq!(keys["api_keys"].as_array().unwrap().len(), 3, "the live and test keys and the reader");
    assert_eq!(status(app.merchant(&reader, Method::GET, "/v1/api-keys")).await, 200, "its secret still works");
    // Checking a signature writes nothing, so a read-only key may.
    let check = json!({"webhook_id": id, "headers": {}, "body": "{}"});
    let response = app.merchant(&reader, Method::POST, "/v1/notifications/verify-webhook-signature").json(&check);
    assert_eq!(status(response).await, 200);
}

#[tokio::test]
async fn revoked_and_rolled_keys_stop_working_with_their_tokens() {
    let app = spawn_app().await;
    let merchant = app.create_account("Acme").await;
    let hooks = "/v1/notifications/webhooks";

    let doomed = key_of(&merchant, &create_key(&app, &merchant, json!({"name": "old service"})).await);
    let doomed_token = token_of(&app, &doomed).await;
    let keys: Value = fetch_json(app.merchant(&merchant, Method::GET, "/v1/api-keys")).await;
    let doomed_id = keys["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["client_id"] == doomed.client_id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(status(app.merchant(&merchant, Method::DELETE, &format!("/v1/api-keys/{doomed_id}"))).await, 204);
    assert_eq!(status(app.merchant(&doomed, Method::GET, hooks)).await, 401, "a revoked key");
    assert_eq!(status(app.http.get(app.url(hooks)).bearer_auth(&doomed_token)).await, 401, "and its token");
    assert_eq!(status(app.merchant(&merchant, Method::GET, &format!("/v1/api-keys/{doomed_id}"))).await, 404);

    // A roll with a grace period: both secrets and the old token work until it ends, then only the new.
    let created = create_key(&app, &merchant, json!({"name": "billing"})).await;
    let key_id = created["id"].as_str().unwrap().to_owned();
    assert!(created["last_used_at"].is_null());
    let before = key_of(&merchant, &created);
    let token = token_of(&app, &before).await;
    let rolled: Value = fetch_json(
        app.merchant(&merchant, Method::POST, &format!("/v1/api-keys/{key_id}/roll"))
            .json(&json!({"expire_previous_in_seconds": 2})),
    )
    .await;
    assert_eq!(rolled["client_id"], created["client_id"], "a roll keeps the client id");
    let after = key_of(&merchant, &rolled);
    assert_ne!(after.client_secret, before.client_secret);
    for who in [&before, &after] {
        assert_eq!(status(app.merchant(who, Method::GET, hooks)).await, 200);
    }
    assert_eq!(status(app.http.get(app.url(hooks)).bearer_auth(&token)).await, 200, "during the grace period");
    // A token made with the rolled-away secret ends with it, not nine hours later.
    let late = app
        .http
        .post(app.url("/v1/oauth2/token"))
        .basic_auth(&before.client_id, Some(&before.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let late: Value = late.json().await.unwrap();
    assert!(late["expires_in"].as_u64().unwrap() <= 2, "{late}");
    let late_token = late["access_token"].as_str().unwrap().to_owned();
    // One key cannot end another key's token.
    let other = app
        .http
        .post(app.url("/v1/oauth2/token/terminate"))
        .basic_auth(&merchant.client_id, Some(&merchant.client_secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 204);
    assert_eq!(status(app.http.get(app.url(hooks)).bearer_auth(&token)).await, 200, "another key's token lives on");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(status(app.http.get(app.url(hooks)).bearer_auth(&late_token)).await, 401, "a late token");
    assert_eq!(status(app.merchant(&before, Method::GET, hooks)).await, 401, "the rolled-away secret");
    assert_eq!(status(app.http.get(app.url(hooks)).bearer_auth(&token)).await, 401, "its token");
    assert_eq!(status(app.merchant(&after, Method::GET, hooks)).await, 200);
    let now_rolled: Value =
        fetch_json(app.merchant(&merchant, Method::POST, &format!("/v1/api-keys/{key_id}/roll"))).await;
    assert_eq!(status(app.merchant(&after, Method::GET, hooks)).await, 401, "no grace period by default");
    let latest = key_of(&merchant, &now_rolled);
    assert_eq!(status(app.merchant(&latest, Method::GET, hooks)).await, 200);

    // Use moves last_used_at.
    let used = eventually(Duration::from_secs(5), || async {
        let shown: Value = fetch_json(app.merchant(&merchant, Method::GET, &format!("/v1/api-keys/{key_id}"))).await;
        shown["last_used_at"].as_str().map(str::to_owned)
    })
    .await;
    assert!(used.as_str() >= created["created_at"].as_str().unwrap(), "{used}");

    // A test key sees and makes test keys only; the operator's roll still renews the first live key.
    let test = merchant.in_test_mode();
    let response = app
        .merchant(&test, Method::POST, "/v1/api-keys")
        .json(&json!({"name": "x", "mode": "live"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let test_keys: Value = fetch_json(app.merchant(&test, Method::GET, "/v1/api-keys")).await;
    assert!(test_keys["api_keys"].as_array().unwrap().iter().all(|k| k["mode"] == "test"));
    let made = create_key(&app, &test, json!({"name": "ci"})).await;
    assert_eq!(made["mode"], "test");
    assert_eq!(status(app.merchant(&test, Method::GET, &format!("/v1/api-keys/{key_id}"))).await, 404, "a live key");
    let bad = app.merchant(&merchant, Method::POST, "/v1/api-keys").json(&json!({"name": " "})).send().await.unwrap();
    assert_eq!(bad.status(), 422);
    let renewed: Value =
        fetch_json(app.operator(Method::POST, &format!("/v1/accounts/{}/credentials/roll", merchant.id))).await;
    assert_eq!(renewed["client_id"].as_str(), Some(merchant.client_id.as_str()));
    assert_eq!(status(app.merchant(&merchant, Method::GET, hooks)).await, 401);
    let renewed = merchant.with_key(&merchant.client_id, renewed["client_secret"].as_str().unwrap());
    assert_eq!(status(app.merchant(&renewed, Method::GET, hooks)).await, 200);
}

/// The stored rows of the request log, every column as text.
async fn stored_logs(app: &TestApp) -> String {
    let sql = "SELECT * FROM request_logs";
    match app.database_url() {
        Some(url) => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let rows = client.query("SELECT t::text FROM request_logs t", &[]).await.unwrap();
            rows.iter().map(|row| row.get::<_, String>(0)).collect::<Vec<_>>().join("\n")
        }
        None => {
            let conn = rusqlite::Connection::open(app.data_dir().join("herald.db")).unwrap();
            let mut stmt = conn.prepare(sql).unwrap();
            let columns = stmt.column_count();
            let rows = stmt
                .query_map([], |row| {
                    let cells = (0..columns).map(|i| match row.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Text(text) => String::from_utf8_lossy(text).into_owned(),
                        other => format!("{other:?}"),
                    });
                    Ok(cells.collect::<Vec<_>>().join("|"))
                })
                .unwrap();
            rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
        }
    }
}

/// Everything the store holds, as far as it can be searched: the database files on SQLite; on
/// PostgreSQL the tables that hold credentials and the log.
async fn stored_everything(app: &TestApp) -> String {
    match app.database_url() {
        Some(url) => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let mut text = String::new();
            for table in ["request_logs", "api_keys", "oauth_tokens", "accounts", "webhook_secrets"] {
                for row in client.query(&format!("SELECT t::text FROM {table} t"), &[]).await.unwrap() {
                    text.push_str(&row.get::<_, String>(0));
                    text.push('\n');
                }
            }
            text
        }
        None => {
            let mut bytes = Vec::new();
            for name in ["herald.db", "herald.db-wal"] {
                bytes.extend(std::fs::read(app.data_dir().join(name)).unwrap_or_default());
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

async fn log_entry(app: &TestApp, merchant: &Merchant, id: &str) -> Value {
    eventually(Duration::from_secs(5), || async {
        let response = app.merchant(merchant, Method::GET, &format!("/v1/request-logs/{id}")).send().await.unwrap();
        match response.status().as_u16() {
            200 => Some(response.json::<Value>().await.unwrap()),
            _ => None,
        }
    })
    .await
}

#[tokio::test]
async fn the_request_log_keeps_what_was_asked_and_answered_without_secrets() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let other = app.create_account("Other").await;
    let receiver = Receiver::start().await;
    let mut secrets = vec![merchant.client_secret.clone(), merchant.test_client_secret.clone()];

    let refused = app
        .merchant(&merchant, Method::POST, "/v1/notifications/webhooks")
        .header("Idempotency-Key", "try-1")
        .json(&json!({"url": "ftp://example/x", "event_types": [{"name": "*"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let refused_id = refused.headers()["request-id"].to_str().unwrap().to_owned();
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["debug_id"].as_str(), Some(refused_id.as_str()), "the error names its request");

    let created = app
        .merchant(&merchant, Method::POST, "/v1/notifications/webhooks")
        .json(&json!({"url": receiver.url, "event_types": [{"name": "*"}], "headers": {"Authorization": "Bearer receiver-password-1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created_id = created.headers()["request-id"].to_str().unwrap().to_owned();
    let webhook: Value = created.json().await.unwrap();
    secrets.push(webhook["secret"].as_str().unwrap().into());
    // The merchant's own header for its receiver is the webhook's setting, but a secret in the log.
    secrets.push("receiver-password-1".into());
    let hook = webhook["id"].as_str().unwrap();
    let rolled: Value =
        fetch_json(app.merchant(&merchant, Method::POST, &format!("/v1/notifications/webhooks/{hook}/secret/roll")))
            .await;
    secrets.push(rolled["secret"].as_str().unwrap().into());
    let key = create_key(&app, &merchant, json!({"name": "worker"})).await;
    secrets.push(key["client_secret"].as_str().unwrap().into());
    let token = token_of(&app, &merchant).await;
    secrets.push(token.clone());
    let bearer = app.http.get(app.url("/v1/notifications/webhooks")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(bearer.status(), 200);
    let event = app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    let event_id = event["id"].as_str().unwrap();
    let resent = app
        .merchant(&merchant, Method::POST, &format!("/v1/notifications/webhooks-events/{event_id}/resend"))
        .send()
        .await
        .unwrap();
    assert_eq!(resent.status(), 202);
    let resend_id = resent.headers()["request-id"].to_str().unwrap().to_owned();

    let failed = log_entry(&app, &merchant, &refused_id).await;
    assert_eq!((failed["status"].as_u64(), failed["method"].as_str()), (Some(422), Some("POST")));
    assert_eq!(failed["path"], "/v1/notifications/webhooks");
    assert_eq!((failed["mode"].as_str(), failed["idempotency_key"].as_str()), (Some("live"), Some("try-1")));
    assert_eq!(failed["client_address"], "127.0.0.1");
    assert!(failed["duration_ms"].as_u64().is_some());
    let asked: Value = serde_json::from_str(failed["request_body"].as_str().unwrap()).unwrap();
    assert_eq!(asked["url"], "ftp://example/x");
    let answered: Value = serde_json::from_str(failed["response_body"].as_str().unwrap()).unwrap();
    assert_eq!(answered["debug_id"].as_str(), Some(refused_id.as_str()));
    let succeeded = log_entry(&app, &merchant, &created_id).await;
    assert_eq!(succeeded["status"], 201);
    let answered: Value = serde_json::from_str(succeeded["response_body"].as_str().unwrap()).unwrap();
    assert_eq!((answered["id"].as_str(), answered["secret"].as_str()), (Some(hook), Some("[redacted]")));
    let asked: Value = serde_json::from_str(succeeded["request_body"].as_str().unwrap()).unwrap();
    assert_eq!(asked["headers"]["Authorization"], "[redacted]");
    let resend = log_entry(&app, &merchant, &resend_id).await;
    assert_eq!(resend["event_id"].as_str(), Some(event_id), "the resend names its event");

    // Filters, and what the list leaves out.
    let list = |query: &str| fetch_json(app.merchant(&merchant, Method::GET, &format!("/v1/request-logs?{query}")));
    // (The reads that waited for the log above were 404s, and are in it too.)
    let failures = list("status=failed&method=POST").await;
    assert_eq!(
        failures["request_logs"].as_array().unwrap().iter().map(|l| l["id"].clone()).collect::<Vec<_>>(),
        vec![json!(refused_id)]
    );
    let posts = list("method=post&path=/v1/notifications/webhooks&page_size=100").await;
    assert!(posts["request_logs"].as_array().unwrap().iter().all(|l| l["method"] == "POST"));
    assert!(posts["request_logs"][0].get("request_body").is_none(), "bodies only in the single view");
    let touching = list(&format!("event_id={event_id}")).await;
    assert_eq!(touching["request_logs"][0]["id"].as_str(), Some(resend_id.as_str()));
    let paged = list("page_size=2").await;
    assert_eq!(paged["request_logs"].as_array().unwrap().len(), 2);
    let next = paged["next_cursor"].as_str().unwrap();
    assert!(
        list(&format!("page_size=2&cursor={next}")).await["request_logs"][0]["id"] != paged["request_logs"][0]["id"]
    );
    assert_eq!(status(app.merchant(&merchant, Method::GET, "/v1/request-logs?status=maybe")).await, 400);

    // Another account's or mode's logs are not there.
    for who in [&other, &merchant.in_test_mode()] {
        assert_eq!(status(app.merchant(who, Method::GET, &format!("/v1/request-logs/{created_id}"))).await, 404);
        let theirs: Value = fetch_json(app.merchant(who, Method::GET, "/v1/request-logs?page_size=100")).await;
        assert!(theirs["request_logs"].as_array().unwrap().iter().all(|l| l["id"] != created_id.as_str()));
    }

    // No secret of any kind is in the stored log; none that Herald made is stored anywhere in plain.
    let logs = stored_logs(&app).await;
    assert!(logs.contains(&created_id) && logs.contains("ftp://example/x"), "the search reads the stored log");
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret is in the request log: {secret}");
    }
    let everything = stored_everything(&app).await;
    assert!(everything.contains(&created_id));
    for secret in secrets.iter().filter(|s| !s.starts_with("receiver-")) {
        assert!(!everything.contains(secret.as_str()), "a secret is stored in plain: {secret}");
    }
}

#[tokio::test]
async fn with_the_log_off_nothing_is_recorded_but_keys_still_note_their_use() {
    let app = spawn_app_with(|settings| settings.request_logs = false).await;
    let merchant = app.create_account("Acme").await;
    let created = create_key(&app, &merchant, json!({"name": "quiet"})).await;
    let key = key_of(&merchant, &created);
    assert_eq!(status(app.merchant(&key, Method::GET, "/v1/notifications/webhooks")).await, 200);
    let path = format!("/v1/api-keys/{}", created["id"].as_str().unwrap());
    eventually(Duration::from_secs(5), || async {
        let shown: Value = fetch_json(app.merchant(&merchant, Method::GET, &path)).await;
        shown["last_used_at"].as_str().map(str::to_owned)
    })
    .await;
    let logs: Value = fetch_json(app.merchant(&merchant, Method::GET, "/v1/request-logs")).await;
    assert_eq!(logs["request_logs"], json!([]));
}
