//! The egress proxy: every HTTP delivery goes through the operator's CONNECT proxy (here one the test
//! runs on loopback), which is asked for a tunnel to the address the guard checked, never to a name; a
//! destination the guard refuses is refused before the proxy is asked anything.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

/// A CONNECT proxy that notes the target of every tunnel it is asked for.
struct ConnectProxy {
    address: std::net::SocketAddr,
    asked: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let asked: Arc<Mutex<Vec<String>>> = Arc::default();
        let noted = asked.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let noted = noted.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && client.read(&mut byte).await.unwrap_or(0) == 1 {
                        head.push(byte[0]);
                    }
                    let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned();
                    noted.lock().unwrap().push(line.clone());
                    let target = line.strip_prefix("CONNECT ").and_then(|rest| rest.split(' ').next());
                    let Some(target) = target else { return };
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    };
                    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                });
            }
        });
        Self { address, asked }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn deliveries_go_through_the_proxy_to_checked_addresses_only() {
    let proxy = ConnectProxy::start().await;
    let proxy_url = format!("http://{}", proxy.address);
    let app = spawn_app_with(|settings| {
        settings.egress_proxy = Some(herald::deliver::egress::EgressProxy::parse(&proxy_url).unwrap());
        // A made-up name the guard maps to loopback, as /etc/hosts would.
        settings.destinations.hosts = vec![("merchant.test".into(), "127.0.0.1".parse().unwrap())];
    })
    .await;
    app.put_event_type("charge.succeeded").await;
    let merchant = app.create_account("Acme").await;
    let receiver = Receiver::start().await;
    let by_name = receiver.url.replace("127.0.0.1", "merchant.test");
    let hook = app.create_webhook(&merchant, &by_name, &["*"]).await;
    let event = app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_1"})).await;
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].json()["id"], event["id"]);
    assert_eq!(got[0].header("webhook-id"), event["id"].as_str().unwrap());
    let port = receiver.url.split(':').nth(2).unwrap().split('/').next().unwrap().to_owned();
    assert_eq!(
        proxy.asked(),
        [format!("CONNECT 127.0.0.1:{port} HTTP/1.1")],
        "a tunnel to the checked address, not the name"
    );

    // Refused by the guard (outside the allowed loopback): the attempt says so and the proxy hears nothing.
    let refused = app.create_webhook(&merchant, "http://10.0.0.1:9/hook", &["*"]).await;
    app.publish_ok(&merchant, "charge.succeeded", json!({"id": "ch_2"})).await;
    receiver.wait_for(2, Duration::from_secs(10)).await;
    let path = format!("/v1/notifications/webhooks/{}/deliveries", refused["id"].as_str().unwrap());
    let detail = eventually(Duration::from_secs(10), || async {
        let list = fetch_json(app.merchant(&merchant, Method::GET, &path)).await;
        let id = list["deliveries"][0]["id"].as_str()?.to_owned();
        let detail = fetch_json(app.merchant(&merchant, Method::GET, &format!("{path}/{id}"))).await;
        detail["attempts"].as_array().is_some_and(|a| !a.is_empty()).then_some(detail)
    })
    .await;
    assert_eq!(detail["attempts"][0]["error"]["code"], "destination_refused", "{detail}");
    assert_eq!(proxy.asked().len(), 2, "only the two deliveries to the receiver were tunnelled: {:?}", proxy.asked());
    assert!(proxy.asked().iter().all(|line| !line.contains("10.0.0.1")));
    assert_eq!(hook["url"], by_name.as_str());

    // HTTPS goes through a tunnel too, TLS end to end (here with a client certificate).
    let ca = crate::endpoint_auth::TestCa::new("Merchant CA");
    let (secure, seen) = crate::endpoint_auth::mtls_receiver(&ca).await;
    let (cert, key) = ca.issue(&["herald.client"], rcgen::ExtendedKeyUsagePurpose::ClientAuth);
    let tls = json!({"client_certificate_pem": cert.pem(), "client_key_pem": key.serialize_pem(), "ca_certificate_pem": ca.pem()});
    app.put_event_type("charge.refunded").await;
    app.create_webhook_with(&merchant, &secure, json!({"tls": tls, "event_types": [{"name": "charge.refunded"}]}))
        .await;
    for n in 0..3 {
        app.publish_ok(&merchant, "charge.refunded", json!({"n": n})).await;
    }
    eventually(Duration::from_secs(10), || async { (seen.lock().unwrap().len() >= 3).then_some(()) }).await;
    let port = secure.split(':').nth(2).unwrap().split('/').next().unwrap().to_owned();
    let tunnels = proxy.asked().iter().filter(|line| line.contains(&format!("127.0.0.1:{port}"))).count();
    assert!(tunnels >= 1, "the HTTPS receiver was reached through the proxy: {:?}", proxy.asked());
}
