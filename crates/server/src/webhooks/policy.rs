//! Where webhooks may send: not to this host, the local network or other addresses that
//! reach inside the deployment, unless `WAIT_WEBHOOK_ALLOW_PRIVATE=true`. A webhook URL
//! is chosen by an API caller, and without this check the dispatcher would carry
//! requests to internal services for them.
//!
//! A host name is checked by resolving it; the HTTP client resolves through the same
//! check when it connects, so a name that changes its answer between the two lookups is
//! refused all the same.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;

/// Why an address is off limits, or None when it may be a webhook target.
pub fn restricted_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            // ::ffff:a.b.c.d reaches the IPv4 address
            Some(v4) => v4_kind(v4),
            None => v6_kind(v6),
        },
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if a == 100 && (64..128).contains(&b) {
        // 100.64.0.0/10, carrier-grade NAT: as internal as a private range
        Some("shared (carrier-grade NAT)")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() {
        Some("broadcast")
    } else if a == 0 {
        // 0.0.0.0/8 means "this host" to most stacks
        Some("unspecified")
    } else {
        None
    }
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_unique_local() {
        Some("unique-local")
    } else if ip.is_unicast_link_local() {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else {
        None
    }
}

/// A target the policy does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refused: {host} is {ip}, a {kind} address \
     (set WAIT_WEBHOOK_ALLOW_PRIVATE=true to allow such targets)"
)]
pub struct Refused {
    pub host: String,
    pub ip: IpAddr,
    pub kind: &'static str,
}

/// Why a target could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Not allowed; trying again will not help.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The name did not resolve (may be temporary).
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the URL has no host")]
    NoHost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboundPolicy {
    /// Allow every address (tests, or a deployment that needs internal receivers).
    pub allow_private: bool,
}

impl OutboundPolicy {
    pub fn check_ip(&self, host: &str, ip: IpAddr) -> Result<(), Refused> {
        if self.allow_private {
            return Ok(());
        }
        match restricted_kind(ip) {
            Some(kind) => Err(Refused {
                host: host.to_string(),
                ip,
                kind,
            }),
            None => Ok(()),
        }
    }

    /// Check a host that is an IP literal; names pass (they are checked when resolved).
    pub fn check_literal(&self, url: &Url) -> Result<(), Refused> {
        match literal_ip(url) {
            Some(ip) => self.check_ip(&ip.to_string(), ip),
            None => Ok(()),
        }
    }

    /// Resolve the URL's host and check every address it has.
    pub async fn check_target(&self, url: &Url) -> Result<(), TargetError> {
        self.check_literal(url)?;
        if self.allow_private {
            return Ok(());
        }
        if literal_ip(url).is_some() {
            return Ok(());
        }
        let Some(host) = url.host_str() else {
            return Err(TargetError::NoHost);
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs = resolve_checked(*self, host, port).await?;
        drop(addrs);
        Ok(())
    }
}

/// The host of `url` when it is an IP address (IPv6 hosts come in brackets).
fn literal_ip(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// Resolve `host` and refuse it when any of its addresses is restricted (a name that
/// points both outside and inside is not trusted for either).
async fn resolve_checked(
    policy: OutboundPolicy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, TargetError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| TargetError::Resolve {
            host: host.to_string(),
            source,
        })?
        .collect();
    for addr in &addrs {
        policy.check_ip(host, addr.ip())?;
    }
    Ok(addrs)
}

/// The HTTP client's resolver when private targets are not allowed: the same check at
/// connection time, on the addresses actually connected to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CheckedResolver(pub(crate) OutboundPolicy);

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        let host = name.as_str().to_string();
        Box::pin(async move {
            // port 0: the client puts in the URL's port
            let addrs = resolve_checked(policy, &host, 0).await?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_restricted_and_public_ones_are_not() {
        let cases: [(&str, Option<&str>); 16] = [
            ("127.0.0.1", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("192.168.1.1", Some("private")),
            ("100.64.0.1", Some("shared (carrier-grade NAT)")),
            ("169.254.169.254", Some("link-local")),
            ("224.0.0.1", Some("multicast")),
            ("255.255.255.255", Some("broadcast")),
            ("0.0.0.0", Some("unspecified")),
            ("::1", Some("loopback")),
            ("::", Some("unspecified")),
            ("fd00::1", Some("unique-local")),
            ("fe80::1", Some("link-local")),
            ("ff02::1", Some("multicast")),
            ("::ffff:10.0.0.1", Some("private")),
            ("93.184.216.34", None),
        ];
        for (ip, kind) in cases {
            let ip: IpAddr = ip.parse().expect("test address");
            assert_eq!(restricted_kind(ip), kind, "{ip}");
        }
        assert_eq!(
            restricted_kind("2606:4700::1111".parse().expect("v6")),
            None
        );
        assert_eq!(restricted_kind("172.32.0.1".parse().expect("v4")), None);
    }

    #[test]
    fn literal_hosts_are_checked_unless_private_targets_are_allowed() {
        let strict = OutboundPolicy::default();
        let open = OutboundPolicy {
            allow_private: true,
        };
        let private = Url::parse("http://[fd12::1]:8080/hook").expect("url");
        let refused = strict.check_literal(&private).expect_err("refused");
        assert_eq!(refused.kind, "unique-local");
        assert!(refused.to_string().contains("WAIT_WEBHOOK_ALLOW_PRIVATE"));
        assert!(open.check_literal(&private).is_ok());
        let named = Url::parse("https://hooks.example/x").expect("url");
        assert!(
            strict.check_literal(&named).is_ok(),
            "names are checked on use"
        );
    }
}
