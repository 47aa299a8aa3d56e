//! The HTTP clients deliveries are made with.
//!
//! One pooled client serves every webhook; a webhook with a client certificate gets a client of its own
//! (the certificate is part of the TLS handshake, so of the connection), built once and kept until its
//! material changes. Every client resolves names through the guard, follows no redirects, bounds the
//! connection time and the whole exchange, and never takes a proxy from the environment. With an egress
//! proxy, each also has a twin for plain `http://` URLs that opens one connection per request (see
//! `egress.rs`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::destination::DestinationPolicy;
use super::endpoint_auth::TlsIdentity;
use super::resolve;
use crate::domain::WebhookId;

/// Resolves host names and keeps only the addresses the policy allows; the client connects to exactly
/// those, so a name cannot resolve to one address when checked and another when connected.
struct GuardedResolver(Arc<DestinationPolicy>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let allowed = resolve::allowed_addresses(&policy, name.as_str(), 0).await.map_err(|error| {
                let boxed: Box<dyn std::error::Error + Send + Sync> = match error {
                    resolve::ResolveError::Refused(refused) => Box::new(refused),
                    other => Box::new(other),
                };
                boxed
            })?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// What every client is built from.
pub struct Recipe {
    pub destinations: Arc<DestinationPolicy>,
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    /// The egress relay's address, when deliveries go through a proxy.
    pub relay: Option<SocketAddr>,
}

/// A client, and its twin for plain `http://` through the egress proxy.
#[derive(Clone)]
struct Pair {
    pooled: reqwest::Client,
    plain: Option<reqwest::Client>,
}

impl Pair {
    fn for_scheme(&self, scheme: &str) -> reqwest::Client {
        match (scheme, &self.plain) {
            ("http", Some(plain)) => plain.clone(),
            _ => self.pooled.clone(),
        }
    }
}

/// Why a webhook's client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("the client certificate could not be used: {0}")]
pub struct ClientError(String);

pub struct HttpClients {
    recipe: Recipe,
    shared: Pair,
    per_webhook: Mutex<HashMap<WebhookId, (u64, Pair)>>,
}

impl HttpClients {
    pub fn new(recipe: Recipe) -> reqwest::Result<Self> {
        let shared = pair(&recipe, None)?;
        Ok(Self { recipe, shared, per_webhook: Mutex::new(HashMap::new()) })
    }

    /// The shared client for a URL of `scheme` (token requests use it).
    pub fn shared_for(&self, scheme: &str) -> reqwest::Client {
        self.shared.for_scheme(scheme)
    }

    /// The client for a delivery to `webhook` at a URL of `scheme`, with the webhook's certificate if any.
    pub fn for_delivery(
        &self,
        webhook: &WebhookId,
        tls: Option<&TlsIdentity>,
        scheme: &str,
    ) -> Result<reqwest::Client, ClientError> {
        Ok(match tls {
            None => self.shared.for_scheme(scheme),
            Some(identity) => self.of_webhook(webhook, identity)?.for_scheme(scheme),
        })
    }

    fn of_webhook(&self, webhook: &WebhookId, identity: &TlsIdentity) -> Result<Pair, ClientError> {
        let fingerprint = identity.fingerprint();
        let mut clients = self.per_webhook.lock().expect("never poisoned");
        if let Some((kept, pair)) = clients.get(webhook)
            && *kept == fingerprint
        {
            return Ok(pair.clone());
        }
        let pair = pair(&self.recipe, Some(identity)).map_err(|e| ClientError(crate::error_chain::error_chain(&e)))?;
        clients.insert(webhook.clone(), (fingerprint, pair.clone()));
        Ok(pair)
    }
}

fn pair(recipe: &Recipe, tls: Option<&TlsIdentity>) -> reqwest::Result<Pair> {
    let pooled = builder(recipe, true, tls)?.build()?;
    let plain = match recipe.relay {
        Some(_) => Some(builder(recipe, false, tls)?.build()?),
        None => None,
    };
    Ok(Pair { pooled, plain })
}

fn builder(recipe: &Recipe, pooled: bool, tls: Option<&TlsIdentity>) -> reqwest::Result<reqwest::ClientBuilder> {
    let mut builder = reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver(recipe.destinations.clone())))
        .connect_timeout(recipe.connect_timeout)
        .timeout(recipe.total_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(60));
    if !pooled {
        builder = builder.pool_max_idle_per_host(0);
    }
    if let Some(identity) = tls {
        let pem = format!("{}\n{}", identity.certificate_pem, identity.key_pem);
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes())?);
        if let Some(ca) = &identity.ca_pem {
            // The receiver's certificate must chain to its CA, and to nothing else.
            builder = builder.tls_built_in_root_certs(false);
            for certificate in reqwest::Certificate::from_pem_bundle(ca.as_bytes())? {
                builder = builder.add_root_certificate(certificate);
            }
        }
    }
    // Never a proxy from the environment: it would look names up past the guard.
    Ok(match recipe.relay {
        Some(relay) => builder.proxy(reqwest::Proxy::all(format!("http://{relay}"))?),
        None => builder.no_proxy(),
    })
}
