//! Every delivery format, captured at a real receiver and verified with the libraries merchants use
//! (`scripts/verify_official.py`: standardwebhooks, svix, stripe, and cryptography for Ed25519). Those Python
//! packages are installed by `.ci/run`; the tests that need them are ignored unless asked for (`--include-ignored`).

use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Merchant, Received, Receiver, TestApp, fetch_json, spawn_app};

const WAIT: Duration = Duration::from_secs(10);

/// The official libraries are installed: these tests are ignored unless asked for, and then they must be.
fn require_libraries() {
    let probe = "import standardwebhooks, svix, stripe, cryptography";
    let available = Command::new("python3").args(["-c", probe]).status().is_ok_and(|s| s.success());
    assert!(
        available,
        "the official webhook libraries are needed: pip install standardwebhooks svix stripe cryptography"
    );
}

/// What the official libraries say of one delivery, as `{"<library>": bool, ...}`.
fn official(format: &str, key_field: &str, key: &str, headers: Value, body: &str) -> Value {
    checker(json!({"format": format, key_field: key, "headers": headers, "body": body}))
}

/// What an independent RSA implementation says of a PayPal delivery, given the certificate Herald served.
fn independent_paypal(certificate: &str, webhook_id: &str, headers: Value, body: &str) -> bool {
    let request = json!({"format": "paypal", "certificate": certificate, "webhook_id": webhook_id, "headers": headers, "body": body});
    checker(request)["cryptography"].as_bool().unwrap()
}

fn checker(request: Value) -> Value {
    let script = format!("{}/scripts/verify_official.py", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new("python3").arg(script).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), request.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the checker failed");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn headers_of(received: &Received, names: &[&str]) -> Value {
    let mut headers = serde_json::Map::new();
    for name in names {
        headers.insert(name.to_string(), json!(received.header(name)));
    }
    Value::Object(headers)
}

async fn roll(app: &TestApp, merchant: &Merchant, webhook: &Value, grace: u64) -> Value {
    let path = format!("/v1/notifications/webhooks/{}/secret/roll", webhook["id"].as_str().unwrap());
    let body = json!({"expire_previous_in_seconds": grace});
    app.merchant(merchant, Method::POST, &path).json(&body).send().await.unwrap().json().await.unwrap()
}

async fn verify_api(app: &TestApp, merchant: &Merchant, webhook: &Value, headers: Value, body: &str) -> String {
    let request = json!({"webhook_id": webhook["id"], "headers": headers, "body": body});
    let path = "/v1/notifications/verify-webhook-signature";
    let answer: Value =
        app.merchant(merchant, Method::POST, path).json(&request).send().await.unwrap().json().await.unwrap();
    answer["verification_status"].as_str().unwrap().to_owned()
}

const STANDARD_HEADERS: [&str; 3] = ["webhook-id", "webhook-timestamp", "webhook-signature"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python's webhook libraries: pip install standardwebhooks svix stripe cryptography, run with --include-ignored"]
async fn every_format_verifies_with_the_libraries_merchants_use() {
    require_libraries();
    let app = spawn_app().await;
    app.put_event_type("charge.dispute.closed").await;
    let merchant = app.create_account("Acme").await;
    let (hmac_rx, ed_rx, stripe_rx) = (Receiver::start().await, Receiver::start().await, Receiver::start().await);
    let hmac = app.create_webhook_with(&merchant, &hmac_rx.url, json!({})).await;
    let ed = app.create_webhook_with(&merchant, &ed_rx.url, json!({"signing": "ed25519"})).await;
    let stripe = app
        .create_webhook_with(&merchant, &stripe_rx.url, json!({"format": "stripe", "api_version": "2024-06-20"}))
        .await;
    assert_eq!(ed["signing"], "ed25519");
    assert!(ed["secret"].is_null() && ed["public_key"].as_str().unwrap().starts_with("whpk_"));
    assert_eq!(stripe["format"], "stripe");
    let (hmac_secret, public_key, stripe_secret) =
        (hmac["secret"].as_str().unwrap(), ed["public_key"].as_str().unwrap(), stripe["secret"].as_str().unwrap());

    let event = app.publish_ok(&merchant, "charge.dispute.closed", json!({"id": "pdp_1", "amount": 54000})).await;
    let text = |r: &Received| String::from_utf8(r.body.to_vec()).unwrap();

    // Standard Webhooks, HMAC: both official libraries accept it; tampering and a wrong secret fail.
    let delivered = hmac_rx.wait_for(1, WAIT).await.remove(0);
    let headers = headers_of(&delivered, &STANDARD_HEADERS);
    let ok = official("standard", "secret", hmac_secret, headers.clone(), &text(&delivered));
    assert_eq!(ok, json!({"standardwebhooks": true, "svix": true}));
    let tampered =
        official("standard", "secret", hmac_secret, headers.clone(), &text(&delivered).replace("54000", "54001"));
    assert_eq!(tampered, json!({"standardwebhooks": false, "svix": false}));
    let wrong =
        official("standard", "secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers.clone(), &text(&delivered));
    assert_eq!(wrong, json!({"standardwebhooks": false, "svix": false}));
    assert_eq!(verify_api(&app, &merchant, &hmac, headers, &text(&delivered)).await, "SUCCESS");

    // Standard Webhooks, Ed25519 (v1a): checked with the whpk_ public key.
    let delivered = ed_rx.wait_for(1, WAIT).await.remove(0);
    assert!(delivered.header("webhook-signature").starts_with("v1a,"));
    let headers = headers_of(&delivered, &STANDARD_HEADERS);
    assert_eq!(
        official("ed25519", "public_key", public_key, headers.clone(), &text(&delivered)),
        json!({"cryptography": true})
    );
    let other_key = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=";
    assert_eq!(
        official("ed25519", "public_key", other_key, headers.clone(), &text(&delivered)),
        json!({"cryptography": false})
    );
    let tampered = text(&delivered).replace("54000", "1");
    assert_eq!(
        official("ed25519", "public_key", public_key, headers.clone(), &tampered),
        json!({"cryptography": false})
    );
    assert_eq!(verify_api(&app, &merchant, &ed, headers.clone(), &text(&delivered)).await, "SUCCESS");
    assert_eq!(verify_api(&app, &merchant, &ed, headers, &tampered).await, "FAILURE");

    // Stripe: Stripe's own construct_event accepts the envelope and its signature.
    let delivered = stripe_rx.wait_for(1, WAIT).await.remove(0);
    let envelope = delivered.json();
    assert_eq!(envelope["id"], event["id"]);
    assert_eq!(envelope["object"], "event");
    assert_eq!(envelope["api_version"], "2024-06-20");
    assert_eq!(envelope["data"]["object"], json!({"id": "pdp_1", "amount": 54000}));
    let headers = headers_of(&delivered, &["stripe-signature"]);
    let ok = official("stripe", "secret", stripe_secret, headers.clone(), &text(&delivered));
    assert_eq!(ok, json!({"stripe": true, "type": "charge.dispute.closed", "object": "event"}));
    let tampered = text(&delivered).replace("54000", "54001");
    assert_eq!(official("stripe", "secret", stripe_secret, headers.clone(), &tampered), json!({"stripe": false}));
    assert_eq!(official("stripe", "secret", hmac_secret, headers.clone(), &text(&delivered)), json!({"stripe": false}));
    assert_eq!(verify_api(&app, &merchant, &stripe, headers.clone(), &text(&delivered)).await, "SUCCESS");
    assert_eq!(verify_api(&app, &merchant, &stripe, headers, &tampered).await, "FAILURE");
    // A stale Stripe signature (made with the right secret, 301 s ago) fails the postback check.
    let stale_t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 - 301;
    let stale = herald_signature::stripe::sign_header(&[stripe_secret], stale_t, delivered.body.as_ref());
    assert_eq!(
        verify_api(&app, &merchant, &stripe, json!({"Stripe-Signature": stale}), &text(&delivered)).await,
        "FAILURE"
    );

    // Rolling: during the grace period receivers holding either secret verify; afterwards only the new one.
    let new_hmac = roll(&app, &merchant, &hmac, 2).await["secret"].as_str().unwrap().to_owned();
    let new_stripe = roll(&app, &merchant, &stripe, 2).await["secret"].as_str().unwrap().to_owned();
    let new_public = roll(&app, &merchant, &ed, 2).await["public_key"].as_str().unwrap().to_owned();
    app.publish_ok(&merchant, "charge.dispute.closed", json!({"id": "pdp_2"})).await;
    let (h, e, s) = (
        hmac_rx.wait_for(2, WAIT).await.remove(1),
        ed_rx.wait_for(2, WAIT).await.remove(1),
        stripe_rx.wait_for(2, WAIT).await.remove(1),
    );
    for secret in [hmac_secret, new_hmac.as_str()] {
        let both = official("standard", "secret", secret, headers_of(&h, &STANDARD_HEADERS), &text(&h));
        assert_eq!(both, json!({"standardwebhooks": true, "svix": true}), "during the grace period");
    }
    for secret in [stripe_secret, new_stripe.as_str()] {
        assert_eq!(
            official("stripe", "secret", secret, headers_of(&s, &["stripe-signature"]), &text(&s))["stripe"],
            true
        );
    }
    for key in [public_key, new_public.as_str()] {
        assert_eq!(
            official("ed25519", "public_key", key, headers_of(&e, &STANDARD_HEADERS), &text(&e)),
            json!({"cryptography": true})
        );
    }
    tokio::time::sleep(Duration::from_millis(2300)).await;
    app.publish_ok(&merchant, "charge.dispute.closed", json!({"id": "pdp_3"})).await;
    let (h, e, s) = (
        hmac_rx.wait_for(3, WAIT).await.remove(2),
        ed_rx.wait_for(3, WAIT).await.remove(2),
        stripe_rx.wait_for(3, WAIT).await.remove(2),
    );
    let rolled_away = official("standard", "secret", hmac_secret, headers_of(&h, &STANDARD_HEADERS), &text(&h));
    assert_eq!(rolled_away, json!({"standardwebhooks": false, "svix": false}));
    assert_eq!(official("standard", "secret", &new_hmac, headers_of(&h, &STANDARD_HEADERS), &text(&h))["svix"], true);
    assert_eq!(
        official("stripe", "secret", stripe_secret, headers_of(&s, &["stripe-signature"]), &text(&s)),
        json!({"stripe": false})
    );
    assert_eq!(
        official("stripe", "secret", &new_stripe, headers_of(&s, &["stripe-signature"]), &text(&s))["stripe"],
        true
    );
    assert_eq!(
        official("ed25519", "public_key", public_key, headers_of(&e, &STANDARD_HEADERS), &text(&e)),
        json!({"cryptography": false})
    );
    assert_eq!(
        official("ed25519", "public_key", &new_public, headers_of(&e, &STANDARD_HEADERS), &text(&e)),
        json!({"cryptography": true})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn format_and_signing_are_set_by_patch_and_checked_together() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let receiver = Receiver::start().await;
    let webhook = app.create_webhook_with(&merchant, &receiver.url, json!({})).await;
    let path = format!("/v1/notifications/webhooks/{}", webhook["id"].as_str().unwrap());
    let patch = |ops: Value| app.merchant(&merchant, Method::PATCH, &path).json(&ops).send();

    let body = json!({"url": "http://127.0.0.1:9/x", "event_types": [{"name": "*"}], "format": "stripe", "signing": "ed25519"});
    let refused = app.merchant(&merchant, Method::POST, "/v1/notifications/webhooks").json(&body).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["details"][0]["issue"], "UNSUPPORTED_SIGNING");
    let response = patch(json!([{"op": "replace", "path": "/format", "value": "stripe"}, {"op": "replace", "path": "/signing", "value": "ed25519"}])).await.unwrap();
    assert_eq!(response.status(), 422, "stripe receivers cannot check Ed25519");

    let switched: Value =
        patch(json!([{"op": "replace", "path": "/signing", "value": "ed25519"}])).await.unwrap().json().await.unwrap();
    assert_eq!(switched["signing"], "ed25519");
    let public_key = switched["public_key"].as_str().unwrap().to_owned();
    let revealed: Value =
        app.merchant(&merchant, Method::GET, &format!("{path}/secret")).send().await.unwrap().json().await.unwrap();
    assert_eq!(revealed, json!({"public_key": public_key, "previous": []}), "the old HMAC secret stopped at once");

    let stripe: Value = patch(json!([{"op": "replace", "path": "/signing", "value": "hmac-sha256"}, {"op": "replace", "path": "/format", "value": "stripe"}, {"op": "replace", "path": "/api_version", "value": "2023-10-16"}])).await.unwrap().json().await.unwrap();
    assert_eq!((stripe["format"].as_str(), stripe["api_version"].as_str()), (Some("stripe"), Some("2023-10-16")));
    let secret = stripe["secret"].as_str().unwrap().to_owned();
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    let delivered = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(delivered.json()["api_version"], "2023-10-16");
    let t = delivered.header("stripe-signature");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    herald_signature::stripe::verify(&secret, t, &delivered.body, now).unwrap();
    let bad = patch(json!([{"op": "replace", "path": "/api_version", "value": "bad version!"}])).await.unwrap();
    assert_eq!(bad.status(), 422);
}

const PAYPAL_HEADERS: [&str; 5] = [
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
];

/// PayPal's postback check in PayPal's own request shape; `event` is put in as raw JSON text.
async fn verify_paypal_api(
    app: &TestApp,
    merchant: &Merchant,
    webhook_id: &str,
    headers: &Value,
    event: &str,
) -> String {
    let field = |name: &str| headers[format!("paypal-{name}")].clone();
    let mut fields = json!({
        "auth_algo": field("auth-algo"), "cert_url": field("cert-url"), "transmission_id": field("transmission-id"),
        "transmission_sig": field("transmission-sig"), "transmission_time": field("transmission-time"),
        "webhook_id": webhook_id,
    })
    .to_string();
    fields.pop();
    let request = format!(r#"{fields},"webhook_event":{event}}}"#);
    let path = "/v1/notifications/verify-webhook-signature";
    let response = app
        .merchant(merchant, Method::POST, path)
        .header("content-type", "application/json")
        .body(request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    answer["verification_status"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_deliveries_verify_with_the_served_certificate() {
    let app = spawn_app().await;
    app.put_event_type("charge.dispute.closed").await;
    let merchant = app.create_account("Acme").await;
    let receiver = Receiver::start().await;
    let webhook = app.create_webhook_with(&merchant, &receiver.url, json!({"format": "paypal"})).await;
    let webhook_id = webhook["id"].as_str().unwrap();
    assert_eq!((webhook["format"].as_str(), webhook["signing"].as_str()), (Some("paypal"), Some("rsa-sha256")));
    assert!(webhook["secret"].is_null() && webhook["public_key"].is_null());
    let cert_url = webhook["cert_url"].as_str().unwrap().to_owned();
    assert!(cert_url.starts_with(&app.url("/v1/notifications/certs/CERT-")), "{cert_url}");
    let revealed =
        fetch_json(app.merchant(&merchant, Method::GET, &format!("/v1/notifications/webhooks/{webhook_id}/secret")))
            .await;
    assert_eq!(revealed, json!({"cert_url": cert_url, "previous": []}));

    // The certificate is public, as PayPal's are; unknown ids are not found.
    let served = reqwest::get(&cert_url).await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "application/x-pem-file");
    let certificate = served.text().await.unwrap();
    assert!(certificate.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(reqwest::get(app.url("/v1/notifications/certs/CERT-0")).await.unwrap().status(), 404);
    let stored = app.store.get_meta("paypal_identity").await.unwrap().expect("the identity is stored");
    assert!(!String::from_utf8_lossy(&stored).contains("PRIVATE KEY"), "stored sealed");

    let event = app.publish_ok(&merchant, "charge.dispute.closed", json!({"id": "pdp_1", "amount": 54000})).await;
    let delivered = receiver.wait_for(1, WAIT).await.remove(0);
    let body = String::from_utf8(delivered.body.to_vec()).unwrap();
    assert_eq!(delivered.json(), event, "the body is the event object");
    let headers = headers_of(&delivered, &PAYPAL_HEADERS);
    assert_eq!(headers["paypal-auth-algo"], "SHA256withRSA");
    assert_eq!(headers["paypal-cert-url"], cert_url.as_str());
    assert_eq!(delivered.header("paypal-transmission-id").len(), 36, "a UUID");

    // The receiver's own check with this crate: the signed string names the receiving webhook.
    let signed_for = |webhook: &str, body: &str| {
        let (id, time) = (delivered.header("paypal-transmission-id"), delivered.header("paypal-transmission-time"));
        herald_signature::paypal::signed_string(id, time, webhook, body.as_bytes())
    };
    let signature = delivered.header("paypal-transmission-sig");
    let check = |signed: String| herald_signature::paypal::verify(certificate.as_bytes(), &signed, signature);
    assert!(check(signed_for(webhook_id, &body)).is_ok());
    assert!(check(signed_for(webhook_id, &body.replace("54000", "54001"))).is_err(), "tampered body");
    assert!(check(signed_for("WH-OTHER", &body)).is_err(), "another webhook's id");
    let paypal_cert = include_str!("../../crates/herald-signature/tests/vectors/paypal_testClientCert_master.crt");
    let wrong_cert =
        herald_signature::paypal::verify(paypal_cert.as_bytes(), &signed_for(webhook_id, &body), signature);
    assert!(wrong_cert.is_err(), "another sender's certificate");

    // The postback check, in PayPal's shape: the exact bytes, or the same event re-serialised, succeed.
    assert_eq!(verify_paypal_api(&app, &merchant, webhook_id, &headers, &body).await, "SUCCESS");
    let reserialised = serde_json::to_string_pretty(&delivered.json()).unwrap();
    assert_eq!(verify_paypal_api(&app, &merchant, webhook_id, &headers, &reserialised).await, "SUCCESS");
    let tampered = body.replace("54000", "54001");
    assert_eq!(verify_paypal_api(&app, &merchant, webhook_id, &headers, &tampered).await, "FAILURE");
    let mut forged = headers.clone();
    forged["paypal-transmission-time"] = json!("2020-01-01T00:00:00Z");
    assert_eq!(verify_paypal_api(&app, &merchant, webhook_id, &forged, &body).await, "FAILURE");
    let mut elsewhere = headers.clone();
    elsewhere["paypal-cert-url"] =
        json!("https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270");
    assert_eq!(verify_paypal_api(&app, &merchant, webhook_id, &elsewhere, &body).await, "FAILURE");
    // ... and in Herald's shape, with the captured headers and raw body.
    assert_eq!(verify_api(&app, &merchant, &webhook, headers.clone(), &body).await, "SUCCESS");
    assert_eq!(verify_api(&app, &merchant, &webhook, headers.clone(), &tampered).await, "FAILURE");
    // Another webhook of the merchant was not the receiver the transmission was signed for.
    let other =
        app.create_webhook_with(&merchant, &format!("{}/other", receiver.url), json!({"format": "paypal"})).await;
    assert_eq!(other["cert_url"], cert_url.as_str(), "one certificate per installation");
    assert_eq!(verify_paypal_api(&app, &merchant, other["id"].as_str().unwrap(), &headers, &body).await, "FAILURE");

    // No per-webhook secret to roll; switching format gets the format's own signing and a secret.
    let path = format!("/v1/notifications/webhooks/{webhook_id}");
    let roll = app.merchant(&merchant, Method::POST, &format!("{path}/secret/roll")).send().await.unwrap();
    assert_eq!(roll.status(), 422);
    let patch = json!([{"op": "replace", "path": "/format", "value": "standard"}]);
    let standard = fetch_json(app.merchant(&merchant, Method::PATCH, &path).json(&patch)).await;
    assert_eq!((standard["format"].as_str(), standard["signing"].as_str()), (Some("standard"), Some("hmac-sha256")));
    assert!(standard["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(verify_paypal_api(&app, &merchant, webhook_id, &headers, &body).await, "FAILURE", "no longer paypal");
}

/// An independent RSA implementation (Python's cryptography) agrees with the receiver's check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python's webhook libraries: pip install standardwebhooks svix stripe cryptography, run with --include-ignored"]
async fn paypal_deliveries_verify_with_an_independent_rsa_implementation() {
    require_libraries();
    let app = spawn_app().await;
    app.put_event_type("charge.dispute.closed").await;
    let merchant = app.create_account("Acme").await;
    let receiver = Receiver::start().await;
    let webhook = app.create_webhook_with(&merchant, &receiver.url, json!({"format": "paypal"})).await;
    let webhook_id = webhook["id"].as_str().unwrap();
    let certificate = reqwest::get(webhook["cert_url"].as_str().unwrap()).await.unwrap().text().await.unwrap();
    app.publish_ok(&merchant, "charge.dispute.closed", json!({"id": "pdp_1", "amount": 54000})).await;
    let delivered = receiver.wait_for(1, WAIT).await.remove(0);
    let body = String::from_utf8(delivered.body.to_vec()).unwrap();
    let headers = headers_of(&delivered, &PAYPAL_HEADERS);
    let paypal_cert = include_str!("../../crates/herald-signature/tests/vectors/paypal_testClientCert_master.crt");
    assert!(independent_paypal(&certificate, webhook_id, headers.clone(), &body));
    assert!(!independent_paypal(&certificate, webhook_id, headers.clone(), &body.replace("54000", "54001")));
    assert!(!independent_paypal(&certificate, "WH-OTHER", headers.clone(), &body));
    assert!(!independent_paypal(paypal_cert, webhook_id, headers, &body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_paypal_request_shape_is_checked_field_by_field() {
    let app = spawn_app().await;
    app.put_event_type("charge.dispute.closed").await;
    let merchant = app.create_account("Acme").await;
    let webhook = app.create_webhook_with(&merchant, "http://127.0.0.1:9/paypal", json!({"format": "paypal"})).await;
    let path = "/v1/notifications/verify-webhook-signature";
    let request = |body: Value| app.merchant(&merchant, Method::POST, path).json(&body);
    let send = |body: Value| request(body).send();
    let shape = json!({"webhook_id": webhook["id"], "webhook_event": {"id": "x"}, "auth_algo": "SHA256withRSA"});
    let missing = fetch_json(request(shape)).await;
    assert_eq!(missing["name"], "INVALID_REQUEST");
    assert_eq!(missing["details"][0]["field"], "/cert_url");
    let both =
        send(json!({"webhook_id": webhook["id"], "webhook_event": {}, "headers": {}, "body": ""})).await.unwrap();
    assert_eq!(both.status(), 400);
    let neither = send(json!({"webhook_id": webhook["id"]})).await.unwrap();
    assert_eq!(neither.status(), 400);
    let signing = json!({"url": "http://127.0.0.1:9/x", "event_types": [{"name": "*"}], "format": "paypal", "signing": "hmac-sha256"});
    let refused =
        app.merchant(&merchant, Method::POST, "/v1/notifications/webhooks").json(&signing).send().await.unwrap();
    assert_eq!(refused.status(), 422, "paypal is signed with the installation's RSA key only");
}
