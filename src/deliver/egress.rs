//! Deliveries through the operator's forward proxy (`HERALD_EGRESS_PROXY`), so that receivers can
//! allow-list the proxy's addresses.
//!
//! A proxy asked to `CONNECT merchant.example:443` would look the name up itself, and the SSRF guard's
//! decision would no longer be what is reached. So the HTTP client does not talk to the proxy directly: it
//! talks to this relay on loopback, which looks the host up through the guard and asks the proxy for a
//! tunnel to the checked address (`CONNECT 203.0.113.7:443`), then splices the two connections. TLS stays
//! end to end between the client and the receiver, with the host name for SNI and the certificate.
//!
//! The client tunnels `https://` requests (`CONNECT`); a plain `http://` request comes in absolute form
//! (`POST http://host/path`) on a connection used for that one request, and is sent through a tunnel of
//! its own in origin form.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::destination::DestinationPolicy;
use super::resolve;

/// The longest request or response head the relay reads.
const MAX_HEAD: usize = 16 * 1024;

/// The header of the relay's own answers (a refusal, a proxy that would not open a tunnel), so that the
/// sender does not take them for the receiver's.
pub const REFUSAL_HEADER: &str = "x-herald-refusal";

/// The operator's proxy: where it is, and its credentials if its URL carries any.
#[derive(Clone)]
pub struct EgressProxy {
    address: String,
    authorization: Option<String>,
}

impl std::fmt::Debug for EgressProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EgressProxy({})", self.address)
    }
}

impl EgressProxy {
    /// Parses `http://[user:pass@]host:port`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let shown = crate::domain::webhook_url::hide_userinfo(text).unwrap_or_else(|| text.to_owned());
        let url = url::Url::parse(text).map_err(|e| format!("{shown} is not a URL: {e}"))?;
        if url.scheme() != "http" {
            return Err("the egress proxy is an http:// URL (an HTTP CONNECT proxy)".into());
        }
        let host = url.host_str().ok_or("the egress proxy URL has no host")?;
        let port = url.port_or_known_default().unwrap_or(80);
        let authorization = (!url.username().is_empty()).then(|| {
            let user = percent(url.username());
            let password = percent(url.password().unwrap_or_default());
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
        });
        Ok(Self { address: format!("{host}:{port}"), authorization })
    }
}

fn percent(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Starts the relay on a loopback port and returns its address, which the HTTP client uses as its proxy.
/// Runs on the current Tokio runtime.
pub fn start_relay(
    proxy: EgressProxy,
    destinations: Arc<DestinationPolicy>,
    connect_timeout: Duration,
) -> std::io::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let proxy = Arc::new(proxy);
    tokio::spawn(async move {
        let Ok(listener) = TcpListener::from_std(listener) else { return };
        while let Ok((client, _)) = listener.accept().await {
            let (proxy, destinations) = (proxy.clone(), destinations.clone());
            tokio::spawn(async move {
                if let Err(error) = relay(client, &proxy, &destinations, connect_timeout).await {
                    tracing::debug!(error = %error, "an egress tunnel ended with an error");
                }
            });
        }
    });
    Ok(address)
}

async fn relay(
    mut client: TcpStream,
    proxy: &EgressProxy,
    destinations: &DestinationPolicy,
    connect_timeout: Duration,
) -> std::io::Result<()> {
    let Ok(read) = tokio::time::timeout(connect_timeout, read_head(&mut client)).await else {
        return answer(&mut client, "408 Request Timeout", "no request head in time").await;
    };
    let (head, rest) = read?;
    let Some(request) = Request::parse(&head) else {
        return answer(&mut client, "400 Bad Request", "not a proxy request").await;
    };
    let addresses = match resolve::allowed_addresses(destinations, &request.host, request.port).await {
        Ok(addresses) => addresses,
        Err(refused) => return answer(&mut client, "403 Forbidden", &refused.to_string()).await,
    };
    let tunnel = tokio::time::timeout(connect_timeout, open_tunnel(proxy, addresses[0])).await;
    let mut upstream = match tunnel {
        Ok(Ok(upstream)) => upstream,
        Ok(Err(error)) => return answer(&mut client, "502 Bad Gateway", &error.to_string()).await,
        Err(_) => {
            return answer(&mut client, "504 Gateway Timeout", "the egress proxy did not open a tunnel in time").await;
        }
    };
    match request.origin_form {
        // CONNECT: the tunnel is the client's; what it sent after the head already belongs to it.
        None => client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?,
        Some(first_line) => {
            upstream.write_all(first_line.as_bytes()).await?;
            upstream.write_all(&head[head.iter().position(|b| *b == b'\n').map_or(0, |n| n + 1)..]).await?;
        }
    }
    upstream.write_all(&rest).await?;
    // Either side ending ends the tunnel: a client that gave up must not leave it open to a receiver that
    // never closes.
    let (mut from_client, mut to_client) = client.split();
    let (mut from_upstream, mut to_upstream) = upstream.split();
    tokio::select! {
        _ = tokio::io::copy(&mut from_client, &mut to_upstream) => {}
        _ = tokio::io::copy(&mut from_upstream, &mut to_client) => {}
    }
    Ok(())
}

/// What the client asked the relay for.
struct Request {
    host: String,
    port: u16,
    /// For a plain-HTTP request, its first line in origin form; `None` for a `CONNECT`.
    origin_form: Option<String>,
}

impl Request {
    fn parse(head: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(head).ok()?;
        let line = text.lines().next()?;
        let mut parts = line.split(' ');
        let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
        if method.eq_ignore_ascii_case("CONNECT") {
            let (host, port) = target.rsplit_once(':')?;
            return Some(Self { host: host.to_owned(), port: port.parse().ok()?, origin_form: None });
        }
        let url = url::Url::parse(target).ok().filter(|url| url.scheme() == "http")?;
        let path = &url[url::Position::BeforePath..];
        Some(Self {
            host: url.host_str()?.to_owned(),
            port: url.port_or_known_default()?,
            origin_form: Some(format!("{method} {path} {version}\r\n")),
        })
    }
}

/// Asks the proxy for a tunnel to `to` (an address, so the proxy looks nothing up).
async fn open_tunnel(proxy: &EgressProxy, to: SocketAddr) -> std::io::Result<TcpStream> {
    let mut upstream = TcpStream::connect(&proxy.address).await?;
    upstream.set_nodelay(true)?;
    let mut request = format!("CONNECT {to} HTTP/1.1\r\nHost: {to}\r\n");
    if let Some(authorization) = &proxy.authorization {
        request.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
    }
    request.push_str("\r\n");
    upstream.write_all(request.as_bytes()).await?;
    let (head, rest) = read_head(&mut upstream).await?;
    let status = std::str::from_utf8(&head).ok().and_then(|text| text.split(' ').nth(1)).unwrap_or_default();
    if !status.starts_with('2') || !rest.is_empty() {
        let line = String::from_utf8_lossy(head.split(|b| *b == b'\r').next().unwrap_or_default()).into_owned();
        return Err(std::io::Error::other(format!("the egress proxy refused the tunnel to {to}: {line}")));
    }
    Ok(upstream)
}

/// Reads up to the end of a head (`\r\n\r\n`); returns the head and whatever came after it.
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed before the end of the head"));
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            return Ok((buffer, rest));
        }
        if buffer.len() > MAX_HEAD {
            return Err(std::io::Error::other("the head is too long"));
        }
    }
}

async fn answer<S: AsyncWrite + Unpin>(stream: &mut S, status: &str, why: &str) -> std::io::Result<()> {
    let reason = why.replace(['\r', '\n'], " ");
    let response =
        format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n{REFUSAL_HEADER}: {reason}\r\nConnection: close\r\n\r\n");
    stream.write_all(response.as_bytes()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_requests_parse_into_a_host_and_a_port() {
        let connect = Request::parse(b"CONNECT merchant.test:443 HTTP/1.1\r\nHost: merchant.test:443\r\n\r\n").unwrap();
        assert_eq!((connect.host.as_str(), connect.port, connect.origin_form), ("merchant.test", 443, None));
        let plain =
            Request::parse(b"POST http://127.0.0.1:8080/hooks?x=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\n\r\n").unwrap();
        assert_eq!((plain.host.as_str(), plain.port), ("127.0.0.1", 8080));
        assert_eq!(plain.origin_form.as_deref(), Some("POST /hooks?x=1 HTTP/1.1\r\n"));
        let bare = Request::parse(b"POST http://h.test HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!((bare.port, bare.origin_form.as_deref()), (80, Some("POST / HTTP/1.1\r\n")));
        assert!(Request::parse(b"GET /relative HTTP/1.1\r\n\r\n").is_none());
        assert!(Request::parse(b"CONNECT nohost HTTP/1.1\r\n\r\n").is_none());
    }

    #[test]
    fn the_proxy_url_gives_its_address_and_credentials() {
        let proxy = EgressProxy::parse("http://egress:s%40cret@proxy.internal:3128").unwrap();
        assert_eq!(proxy.address, "proxy.internal:3128");
        let expected = base64::engine::general_purpose::STANDARD.encode("egress:s@cret");
        assert_eq!(proxy.authorization, Some(format!("Basic {expected}")));
        assert!(EgressProxy::parse("https://proxy:443").is_err());
        assert_eq!(EgressProxy::parse("http://proxy").unwrap().address, "proxy:80");
    }
}
