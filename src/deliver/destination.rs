//! Where deliveries may go: a pure classification of addresses, and the policy the sender enforces.
//!
//! Webhook URLs are chosen by strangers, so by default Herald refuses to deliver to addresses that reach
//! the operator's own network: loopback, private, link-local (which includes cloud metadata at
//! 169.254.169.254), carrier-grade NAT, multicast, unspecified, documentation, benchmarking and reserved
//! ranges, also when written as IPv4-mapped, IPv4-compatible, NAT64 or 6to4 IPv6. The operator may allow subnets (`HERALD_ALLOW_SUBNETS`); a sandbox
//! installation may go further and deliver *only* inside them. The check runs on the resolved address
//! at connect time (see `send.rs`), so DNS rebinding cannot slip past it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Why an address was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0} is a {1} address; allow its subnet to deliver there")]
    Internal(IpAddr, &'static str),
    #[error("{0} is outside the allowed subnets, and this installation delivers only inside them")]
    OutsideSandbox(IpAddr),
    #[error("{0} is not an address; this installation delivers only to addresses in its allowed subnets")]
    NameInSandbox(String),
    #[error("this installation delivers to https:// URLs only")]
    NotHttps,
}

/// The kind of range an address belongs to, or `None` for an ordinary public address.
pub fn internal_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    let kind = if ip.is_loopback() {
        "loopback"
    } else if ip.is_private() {
        "private"
    } else if ip.is_link_local() {
        "link-local"
    } else if a == 100 && (64..128).contains(&b) {
        "carrier-grade NAT"
    } else if ip.is_multicast() {
        "multicast"
    } else if ip.is_unspecified() || a == 0 {
        "unspecified"
    } else if ip.is_broadcast() || a >= 240 || is_special_v4(ip) {
        "reserved"
    } else {
        return None;
    };
    Some(kind)
}

/// IETF protocol assignments, documentation (TEST-NET-1/2/3) and benchmarking ranges: never a real
/// receiver, and on some networks routed somewhere internal.
fn is_special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    matches!((a, b, c), (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113)) || (a == 198 && (b & 0xfe) == 18)
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_kind(v4);
    }
    let segments = ip.segments();
    let octets = ip.octets();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits, and so does the deprecated
    // IPv4-compatible form (::a.b.c.d), which no public host uses.
    let embedded = Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]);
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_kind(embedded);
    }
    if segments[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some(v4_kind(embedded).unwrap_or("reserved (IPv4-compatible)"));
    }
    // 6to4 (2002::/16) carries one in bits 16 to 48.
    if segments[0] == 0x2002
        && let Some(kind) = v4_kind(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]))
    {
        return Some(kind);
    }
    let kind = if ip.is_loopback() {
        "loopback"
    } else if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_multicast() {
        "multicast"
    } else if segments[0] & 0xfe00 == 0xfc00 {
        "private (unique local)"
    } else if segments[0] & 0xffc0 == 0xfe80 {
        "link-local"
    } else if segments[0] & 0xffc0 == 0xfec0 {
        "private (site-local)"
    } else if segments[..4] == [0x100, 0, 0, 0] || segments[..2] == [0x2001, 0xdb8] {
        "reserved"
    } else if segments[..2] == [0x2001, 0] {
        "reserved (Teredo)"
    } else {
        return None;
    };
    Some(kind)
}

/// The operator's rules for delivery destinations.
#[derive(Clone, Debug, Default)]
pub struct DestinationPolicy {
    /// Subnets that may be reached although internal (tests use 127.0.0.0/8).
    pub allow: Vec<IpNet>,
    /// Deliver only inside `allow` (a sandbox that must never call out).
    pub only_allowed: bool,
    /// Refuse plain `http://` URLs.
    pub https_only: bool,
    /// Fixed answers for host names, consulted instead of DNS (as `/etc/hosts` is); the addresses still
    /// pass [`DestinationPolicy::check`]. Tests map made-up names to loopback with it.
    pub hosts: Vec<(String, IpAddr)>,
}

impl DestinationPolicy {
    /// Whether a delivery may connect to `ip`.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        if self.allow.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        if self.only_allowed {
            return Err(Refusal::OutsideSandbox(ip));
        }
        match internal_kind(ip) {
            Some(kind) => Err(Refusal::Internal(ip, kind)),
            None => Ok(()),
        }
    }

    /// Whether a host name may be looked up at all. In a sandbox only `localhost` is, so that not even a
    /// DNS query leaves for a name a stranger chose.
    pub fn check_name(&self, name: &str) -> Result<(), Refusal> {
        if self.only_allowed && !name.eq_ignore_ascii_case("localhost") && self.fixed_addresses(name).is_empty() {
            return Err(Refusal::NameInSandbox(name.to_owned()));
        }
        Ok(())
    }

    /// Whether a URL's scheme may be used.
    pub fn check_scheme(&self, scheme: &str) -> Result<(), Refusal> {
        if self.https_only && !scheme.eq_ignore_ascii_case("https") {
            return Err(Refusal::NotHttps);
        }
        Ok(())
    }

    /// The fixed addresses of a name, if the hosts table has any.
    pub fn fixed_addresses(&self, name: &str) -> Vec<IpAddr> {
        self.hosts.iter().filter(|(host, _)| host.eq_ignore_ascii_case(name)).map(|(_, ip)| *ip).collect()
    }

    /// Parses `10.0.0.0/8, 127.0.0.0/8` (a bare address means just that address).
    pub fn parse_subnets(text: &str) -> Result<Vec<IpNet>, String> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("\"{part}\" is not a subnet such as 127.0.0.0/8"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn every_internal_range_is_recognised() {
        let cases = [
            ("127.0.0.1", Some("loopback")),
            ("127.255.255.254", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("172.31.255.255", Some("private")),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("100.64.0.1", Some("carrier-grade NAT")),
            ("100.127.255.255", Some("carrier-grade NAT")),
            ("224.0.0.1", Some("multicast")),
            ("0.0.0.0", Some("unspecified")),
            ("0.1.2.3", Some("unspecified")),
            ("255.255.255.255", Some("reserved")),
            ("240.0.0.1", Some("reserved")),
            ("192.0.0.8", Some("reserved")),
            ("192.0.2.1", Some("reserved")),
            ("198.18.0.1", Some("reserved")),
            ("198.19.255.255", Some("reserved")),
            ("198.51.100.7", Some("reserved")),
            ("203.0.113.9", Some("reserved")),
            ("198.20.0.1", None),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Some("reserved (Teredo)")),
            ("::1", Some("loopback")),
            ("::", Some("unspecified")),
            ("fc00::1", Some("private (unique local)")),
            ("fd12:3456::1", Some("private (unique local)")),
            ("fe80::1", Some("link-local")),
            ("ff02::1", Some("multicast")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.0.0.1", Some("private")),
            ("::ffff:169.254.169.254", Some("link-local")),
            ("64:ff9b::7f00:1", Some("loopback")),
            ("64:ff9b::a9fe:a9fe", Some("link-local")),
            ("::127.0.0.1", Some("loopback")),
            ("::8.8.8.8", Some("reserved (IPv4-compatible)")),
            ("2002:7f00:1::1", Some("loopback")),
            ("2002:a9fe:a9fe::1", Some("link-local")),
            ("fec0::1", Some("private (site-local)")),
            ("100::1", Some("reserved")),
            ("2001:db8::1", Some("reserved")),
            // Cloud metadata services: AWS and GCP (IPv4 and IPv6), Alibaba.
            ("fd00:ec2::254", Some("private (unique local)")),
            ("100.100.100.200", Some("carrier-grade NAT")),
            ("2002:808:808::1", None),
            ("8.8.8.8", None),
            ("172.32.0.1", None),
            ("100.128.0.1", None),
            ("2606:4700::1111", None),
            ("64:ff9b::808:808", None),
        ];
        for (address, expected) in cases {
            assert_eq!(internal_kind(ip(address)), expected, "{address}");
        }
    }

    #[test]
    fn allowed_subnets_open_internal_ranges_and_a_sandbox_closes_everything_else() {
        let allow = DestinationPolicy::parse_subnets("127.0.0.0/8, ::1").unwrap();
        let open = DestinationPolicy { allow: allow.clone(), ..Default::default() };
        assert!(open.check(ip("127.0.0.1")).is_ok());
        assert!(open.check(ip("::1")).is_ok());
        assert!(open.check(ip("8.8.8.8")).is_ok());
        assert_eq!(open.check(ip("10.0.0.1")), Err(Refusal::Internal(ip("10.0.0.1"), "private")));
        let sandbox = DestinationPolicy { allow, only_allowed: true, ..Default::default() };
        assert!(sandbox.check(ip("127.0.0.2")).is_ok());
        assert_eq!(sandbox.check(ip("8.8.8.8")), Err(Refusal::OutsideSandbox(ip("8.8.8.8"))));
        assert!(sandbox.check_name("localhost").is_ok());
        assert!(sandbox.check_name("example.com").is_err());
        assert!(DestinationPolicy::default().check(ip("127.0.0.1")).is_err());
        assert!(DestinationPolicy::parse_subnets("10.0.0.0/33").is_err());
    }

    #[test]
    fn fixed_hosts_answer_without_dns_and_https_only_refuses_plain_http() {
        let mapped = DestinationPolicy {
            only_allowed: true,
            hosts: vec![("merchant.test".into(), ip("127.0.0.1"))],
            ..Default::default()
        };
        assert_eq!(mapped.fixed_addresses("MERCHANT.test"), vec![ip("127.0.0.1")]);
        assert!(mapped.check_name("merchant.test").is_ok(), "a sandbox may use its own table");
        assert!(mapped.check(ip("127.0.0.1")).is_err(), "the mapped address is still checked");
        let https = DestinationPolicy { https_only: true, ..Default::default() };
        assert_eq!(https.check_scheme("http"), Err(Refusal::NotHttps));
        assert!(https.check_scheme("https").is_ok());
        assert!(DestinationPolicy::default().check_scheme("http").is_ok());
    }
}
