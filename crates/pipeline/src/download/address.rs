//! Which hosts a driver download may reach. A `scrape_url` is typed in by a user, and the
//! worker sits inside the build network next to the database and the cloud metadata
//! service, so every address a host name resolves to is checked before connecting, and
//! the connection is pinned to exactly those addresses (a second lookup could answer
//! differently).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::AtomicBool;

use reqwest::Url;

use super::cancel::{Outcome, with_deadline};
use super::{DownloadError, DownloadPolicy};

/// Where one request goes: the URL and, for a host name, the addresses it may connect to.
#[derive(Debug)]
pub(super) struct Target {
    pub url: Url,
    /// `(host name, addresses)`; `None` when the URL holds an IP address literal.
    pub pinned: Option<(String, Vec<SocketAddr>)>,
}

/// Parse a URL the caller gave (or a redirect pointed to) and refuse anything but http(s).
pub(super) fn parse_url(shown: &str, raw: &str) -> Result<Url, DownloadError> {
    let url = Url::parse(raw).map_err(|e| DownloadError::InvalidUrl {
        url: shown.to_owned(),
        reason: e.to_string(),
    })?;
    check_scheme(shown, &url)?;
    Ok(url)
}

pub(super) fn check_scheme(shown: &str, url: &Url) -> Result<(), DownloadError> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(DownloadError::UnsupportedScheme {
                url: shown.to_owned(),
                scheme: other.to_owned(),
            });
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(DownloadError::InvalidUrl {
            url: shown.to_owned(),
            reason: "it names no host".into(),
        });
    }
    Ok(())
}

/// The URL as it may appear in logs and errors: a password in it is replaced.
pub(super) fn redacted(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            // Only fails for URLs that cannot have credentials, which this one has.
            let _ = url.set_password(Some("redacted"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

/// Resolve the URL's host and check every address against the policy.
pub(super) async fn resolve(
    shown: &str,
    url: Url,
    policy: &DownloadPolicy,
    cancel: &AtomicBool,
) -> Result<Target, DownloadError> {
    let host = url.host_str().unwrap_or_default().to_owned();
    // url keeps the brackets of an IPv6 literal in host_str().
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        check_address(shown, &host, ip, policy)?;
        return Ok(Target { url, pinned: None });
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let lookup = tokio::net::lookup_host((host.as_str(), port));
    let addrs: Vec<SocketAddr> = match with_deadline(lookup, policy.timeout, cancel).await {
        Outcome::Done(Ok(addrs)) => addrs.collect(),
        Outcome::Done(Err(source)) => {
            return Err(DownloadError::Resolve {
                url: shown.to_owned(),
                source,
            });
        }
        Outcome::TimedOut => {
            return Err(DownloadError::TimedOut {
                url: shown.to_owned(),
                after: policy.timeout,
            });
        }
        Outcome::Cancelled => {
            return Err(DownloadError::Cancelled {
                url: shown.to_owned(),
            });
        }
    };
    if addrs.is_empty() {
        return Err(DownloadError::Resolve {
            url: shown.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{host} has no addresses"),
            ),
        });
    }
    for addr in &addrs {
        check_address(shown, &host, addr.ip(), policy)?;
    }
    Ok(Target {
        url,
        pinned: Some((host, addrs)),
    })
}

fn check_address(
    shown: &str,
    host: &str,
    ip: IpAddr,
    policy: &DownloadPolicy,
) -> Result<(), DownloadError> {
    if !policy.allow_private && is_internal(ip) {
        return Err(DownloadError::PrivateAddress {
            url: shown.to_owned(),
            host: host.to_owned(),
            addr: ip,
        });
    }
    Ok(())
}

/// Addresses that lead into this host or its network rather than to a vendor: loopback,
/// private, shared (carrier NAT), link-local (including the cloud metadata service),
/// unspecified, broadcast and multicast; IPv6 forms that embed such an IPv4 address count
/// as that address.
pub(super) fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        // 100.64.0.0/10, shared address space behind carrier NAT.
        || (a == 100 && (b & 0xc0) == 64)
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    let s = ip.segments();
    // 64:ff9b::/96, the NAT64 prefix: the last 32 bits are the IPv4 address reached.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return is_internal_v4(Ipv4Addr::new(a, b, c, d));
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 the old site-local.
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        let internal = [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fc00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ];
        for text in internal {
            let ip: IpAddr = text.parse().unwrap();
            assert!(is_internal(ip), "{text} should be internal");
        }
        let public = [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ];
        for text in public {
            let ip: IpAddr = text.parse().unwrap();
            assert!(!is_internal(ip), "{text} should be public");
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redacted("https://user:secret@vendor.example/d.zip"),
            "https://user:redacted@vendor.example/d.zip"
        );
        assert_eq!(
            redacted("https://vendor.example/d.zip"),
            "https://vendor.example/d.zip"
        );
        assert_eq!(redacted("not a url"), "not a url");
    }
}
