//! Looks a destination's host up and keeps only the addresses the policy allows.
//!
//! Every kind of destination connects to exactly the addresses this returns, so a name cannot resolve to
//! one address when checked and to another when connected (DNS rebinding), and a literal address is
//! checked like a looked-up one.

use std::net::{IpAddr, SocketAddr};

use super::destination::{DestinationPolicy, Refusal};

/// Why a host gave no address to connect to.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("{0} has no address")]
    NoAddress(String),
    #[error("could not look up {0}: {1}")]
    Lookup(String, #[source] std::io::Error),
}

/// The allowed addresses of `host` (a name, or an address with or without IPv6 brackets), with `port`.
pub async fn allowed_addresses(
    policy: &DestinationPolicy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, ResolveError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let resolved: Vec<IpAddr> = if let Ok(ip) = bare.parse::<IpAddr>() {
        vec![ip]
    } else {
        policy.check_name(bare)?;
        let fixed = policy.fixed_addresses(bare);
        if fixed.is_empty() {
            let found =
                tokio::net::lookup_host((bare, port)).await.map_err(|e| ResolveError::Lookup(bare.to_owned(), e))?;
            found.map(|address| address.ip()).collect()
        } else {
            fixed
        }
    };
    let mut refusal = None;
    let allowed: Vec<SocketAddr> = resolved
        .into_iter()
        .filter(|ip| match policy.check(*ip) {
            Ok(()) => true,
            Err(refused) => {
                refusal.get_or_insert(refused);
                false
            }
        })
        .map(|ip| SocketAddr::new(ip, port))
        .collect();
    if allowed.is_empty() {
        return Err(match refusal {
            Some(refused) => ResolveError::Refused(refused),
            None => ResolveError::NoAddress(bare.to_owned()),
        });
    }
    Ok(allowed)
}
