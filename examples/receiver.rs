//! A webhook receiver for trying Herald out: it prints every delivery and whether its signature verifies.
//!
//! Run it with the secret Herald returned when the webhook was created:
//!     cargo run --example receiver -- 127.0.0.1:9000 whsec_…
//! It answers 200 to deliveries that verify and 400 to those that do not.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use herald_signature::standard::{SigningSecret, verify};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(address), Some(secret)) = (args.next(), args.next()) else {
        return Err("usage: receiver ADDRESS WHSEC_SECRET".into());
    };
    let secret = SigningSecret::parse(&secret)?;
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let secret = secret.clone();
        async move { receive(&secret, &headers, &body) }
    });
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("receiving on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

fn receive(secret: &SigningSecret, headers: &HeaderMap, body: &[u8]) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let checked =
        verify(secret, header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"), body, now);
    println!("{} {}", header("webhook-id"), String::from_utf8_lossy(body));
    match checked {
        Ok(()) => {
            println!("  signature verified");
            StatusCode::OK
        }
        Err(error) => {
            println!("  signature NOT verified: {error}");
            StatusCode::BAD_REQUEST
        }
    }
}
