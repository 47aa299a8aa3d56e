//! Endpoint authentication: OAuth2 client credentials (a token fetched once, reused, and fetched again
//! after a 401) and mutual TLS against loopback receivers that demand them, with a CA the test makes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(15);

/// Every attempt's error code (`none` for a success) and message.
async fn attempt_errors(app: &TestApp, merchant: &Merchant, webhook: &str) -> Vec<(String, String)> {
    let attempts = attempts_of(app, merchant, webhook).await;
    attempts.iter().map(|a| (error_code(a), a["error"]["message"].as_str().unwrap_or_default().to_owned())).collect()
}

/// A token endpoint: checks the client's credentials and the grant, and hands out `tok-1`, `tok-2`…
#[derive(Clone, Default)]
struct TokenServer {
    asked: Arc<Mutex<Vec<(String, String)>>>,
}

async fn issue(State(server): State<TokenServer>, headers: HeaderMap, body: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut asked = server.asked.lock().unwrap();
    asked.push((authorization.clone(), body.clone()));
    use base64::Engine as _;
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("herald:s3cret"));
    if authorization != expected || !body.contains("grant_type=client_credentials") {
        return (axum::http::StatusCode::UNAUTHORIZED, "bad client").into_response();
    }
    let token = format!("tok-{}", asked.len());
    axum::Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600})).into_response()
}

impl TokenServer {
    async fn start() -> (Self, String) {
        let server = Self::default();
        let app = axum::Router::new().route("/token", axum::routing::post(issue)).with_state(server.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (server, format!("http://{address}/token"))
    }
}

#[tokio::test]
async fn an_oauth2_token_is_fetched_once_reused_and_refreshed_after_a_401() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let (tokens, token_url) = TokenServer::start().await;
    // The fourth request is refused with 401, as a receiver that revoked the token would.
    let receiver = Receiver::start_with_script(&[200, 200, 200, 401]).await;
    let oauth2 = json!({"token_url": token_url, "client_id": "herald", "client_secret": "s3cret", "scope": "webhooks"});
    let hook = app.create_webhook_with(&merchant, &receiver.url, json!({"oauth2": oauth2})).await;
    assert_eq!(hook["oauth2"], json!({"token_url": token_url, "client_id": "herald", "scope": "webhooks"}));
    assert!(!hook.to_string().contains("s3cret"), "the client secret is never shown");

    for n in 1..=3 {
        app.publish_ok(&merchant, "charge.succeeded", json!({"n": n})).await;
        receiver.wait_for(n, WAIT).await;
    }
    let got = receiver.received();
    assert!(got.iter().all(|r| r.header("authorization") == "Bearer tok-1"), "one token for every delivery");
    assert_eq!(tokens.asked.lock().unwrap().len(), 1, "fetched once");
    let (_, form) = tokens.asked.lock().unwrap()[0].clone();
    assert!(form.contains("scope=webhooks"), "{form}");

    app.publish_ok(&merchant, "charge.succeeded", json!({"n": 4})).await;
    let got = receiver.wait_for(5, WAIT).await;
    assert_eq!(got[3].header("authorization"), "Bearer tok-1");
    assert_eq!(got[4].header("authorization"), "Bearer tok-2", "a new token after the 401, in the same attempt");
    assert_eq!(tokens.asked.lock().unwrap().len(), 2);
    let id = hook["id"].as_str().unwrap();
    let errors = eventually(WAIT, || async {
        let errors = attempt_errors(&app, &merchant, id).await;
        (errors.len() == 4).then_some(errors)
    })
    .await;
    assert!(errors.iter().all(|(code, _)| code == "none"), "{errors:?}");

    // A PATCH that leaves the secret out keeps it; a token URL that refuses the client fails the attempt.
    let patch =
        json!([{"op": "replace", "path": "/oauth2", "value": {"token_url": token_url, "client_id": "stranger"}}]);
    let changed = app
        .merchant(&merchant, Method::PATCH, &format!("/v1/notifications/webhooks/{id}"))
        .header("content-type", "application/json-patch+json")
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    // The kept secret never goes to another token URL.
    let elsewhere = json!([{"op": "replace", "path": "/oauth2", "value": {"token_url": "http://127.0.0.2:9/token", "client_id": "herald"}}]);
    let refused = app
        .merchant(&merchant, Method::PATCH, &format!("/v1/notifications/webhooks/{id}"))
        .header("content-type", "application/json-patch+json")
        .body(elsewhere.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    app.publish_ok(&merchant, "charge.succeeded", json!({"n": 5})).await;
    let failed = eventually(WAIT, || async {
        let errors = attempt_errors(&app, &merchant, id).await;
        errors.into_iter().find(|(code, _)| code != "none")
    })
    .await;
    assert_eq!(failed.0, "oauth2_token_failed");
    assert!(failed.1.contains("401"), "{failed:?}");
    assert_eq!(receiver.received().len(), 5, "nothing is sent without a token");
}

/// A certificate authority of the test's own.
pub struct TestCa {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::DigitalSignature];
        Self { issuer: rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap() }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate for `names` (and its key), for a server or a client.
    pub fn issue(&self, names: &[&str], usage: rcgen::ExtendedKeyUsagePurpose) -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.extended_key_usages = vec![usage];
        params.distinguished_name.push(rcgen::DnType::CommonName, names[0]);
        (params.signed_by(&key, &self.issuer).unwrap(), key)
    }
}

/// An HTTPS receiver on 127.0.0.1 that requires a client certificate issued by `ca`; it notes the
/// subject-bearing certificate of every request it serves.
pub async fn mtls_receiver(ca: &TestCa) -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (cert, key) = ca.issue(&["127.0.0.1"], rcgen::ExtendedKeyUsagePurpose::ServerAuth);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.issuer.der().clone()).unwrap();
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let noted = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, noted) = (acceptor.clone(), noted.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let client = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec());
                let service = hyper::service::service_fn(move |_request| {
                    noted.lock().unwrap().push(client.clone().unwrap_or_default());
                    async { Ok::<_, std::convert::Infallible>(hyper::Response::new(String::new())) }
                });
                let io = hyper_util::rt::TokioIo::new(tls);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    (format!("https://{address}/webhooks"), seen)
}

#[tokio::test]
async fn a_receiver_requiring_a_client_certificate_gets_it_and_a_wrong_ca_fails_clearly() {
    let app = spawn_app().await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let ca = TestCa::new("Merchant CA");
    let (url, seen) = mtls_receiver(&ca).await;
    let (client_cert, client_key) = ca.issue(&["herald.client"], rcgen::ExtendedKeyUsagePurpose::ClientAuth);
    let tls = json!({
        "client_certificate_pem": client_cert.pem(),
        "client_key_pem": client_key.serialize_pem(),
        "ca_certificate_pem": ca.pem(),
    });
    let hook = app.create_webhook_with(&merchant, &url, json!({"tls": tls})).await;
    assert_eq!(hook["tls"]["client_certificate_pem"], client_cert.pem());
    assert!(!hook.to_string().contains("PRIVATE KEY"), "the key is never shown");
    app.publish_ok(&merchant, "charge.succeeded", json!({"n": 1})).await;
    let presented = eventually(WAIT, || async { seen.lock().unwrap().first().cloned() }).await;
    assert_eq!(presented, client_cert.der().to_vec(), "the receiver got Herald's client certificate");

    // The same receiver checked against another CA: the handshake fails and the attempt says why.
    let other = TestCa::new("Another CA");
    let wrong = json!({
        "client_certificate_pem": client_cert.pem(),
        "client_key_pem": client_key.serialize_pem(),
        "ca_certificate_pem": other.pem(),
    });
    let mistaken = app.create_webhook_with(&merchant, &format!("{url}?wrong"), json!({"tls": wrong})).await;
    app.publish_ok(&merchant, "charge.succeeded", json!({"n": 2})).await;
    let id = mistaken["id"].as_str().unwrap();
    let errors = eventually(WAIT, || async {
        let errors = attempt_errors(&app, &merchant, id).await;
        (!errors.is_empty()).then_some(errors)
    })
    .await;
    assert_eq!(errors[0].0, "tls_failed", "{errors:?}");
    assert!(errors[0].1.to_lowercase().contains("certificate"), "{errors:?}");
    eventually(WAIT, || async { (seen.lock().unwrap().len() >= 2).then_some(()) }).await;

    // Bad material is refused when saved, by field and code.
    let (_, stranger_key) = other.issue(&["x"], rcgen::ExtendedKeyUsagePurpose::ClientAuth);
    let cases = [
        (json!({"client_certificate_pem": "nope", "client_key_pem": client_key.serialize_pem()}), "INVALID_TLS"),
        (
            json!({"client_certificate_pem": client_cert.pem(), "client_key_pem": stranger_key.serialize_pem()}),
            "INVALID_TLS",
        ),
        (json!({"client_certificate_pem": client_cert.pem()}), "MISSING_REQUIRED_PARAMETER"),
    ];
    for (tls, code) in cases {
        let body = json!({"url": format!("{url}?bad"), "event_types": [{"name": "*"}], "tls": tls});
        let response =
            app.merchant(&merchant, Method::POST, "/v1/notifications/webhooks").json(&body).send().await.unwrap();
        assert_eq!(response.status(), 422);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["details"][0]["issue"], code, "{error}");
        assert!(error["details"][0]["field"].as_str().unwrap().starts_with("/tls"), "{error}");
    }
    let broker = json!({"url": "redis://127.0.0.1/0?stream=s", "event_types": [{"name": "*"}], "tls": tls});
    let response =
        app.merchant(&merchant, Method::POST, "/v1/notifications/webhooks").json(&broker).send().await.unwrap();
    assert_eq!(response.status(), 422, "a broker URL takes no client certificate");
}
