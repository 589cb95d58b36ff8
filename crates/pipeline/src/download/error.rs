//! Why a driver download failed. Every message names the URL, because the caller turns
//! it into a warning on the job and the operator has to know which vendor link broke.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A driver archive could not be downloaded, checked or unpacked.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("the driver download URL {url:?} is not valid: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("the driver download URL {url} uses {scheme}:, but only http and https are allowed")]
    UnsupportedScheme { url: String, scheme: String },
    #[error(
        "the driver download from {url} was refused because {} a loopback, private or \
         link-local address",
        resolves_to(.host, .addr)
    )]
    PrivateAddress {
        url: String,
        host: String,
        addr: IpAddr,
    },
    #[error("the host of {url} could not be resolved: {source}")]
    Resolve {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the download of {url} failed: {}", network_reason(.source))]
    Connection {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} did not answer within {} seconds", after.as_secs_f64())]
    TimedOut { url: String, after: Duration },
    #[error("{url} answered HTTP {status}{}", reason_phrase(*.status))]
    Status { url: String, status: u16 },
    #[error("{url} redirected more than {hops} times")]
    TooManyRedirects { url: String, hops: usize },
    #[error("the driver archive at {url} is larger than the {} limit", bytes(*.limit))]
    TooLarge { url: String, limit: u64 },
    #[error("the download of {url} was cancelled")]
    Cancelled { url: String },
    #[error("the driver download of {url} could not be stored in {}: {source}", .path.display())]
    Io {
        url: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the motherboard name {board:?} cannot name a driver cache folder for {url}: {reason}")]
    InvalidBoard {
        url: String,
        board: String,
        reason: String,
    },
    #[error("not supported yet: {ext} driver archives (downloaded from {url})")]
    UnsupportedArchive { url: String, ext: String },
    #[error("{url} did not return a driver archive but {what}")]
    NotAnArchive { url: String, what: String },
    #[error("the driver archive from {url} is not a readable zip archive: {reason}")]
    Archive { url: String, reason: String },
    #[error(
        "the driver archive from {url} has an entry {entry:?} that must not be unpacked: it {reason}"
    )]
    UnsafeEntry {
        url: String,
        entry: String,
        reason: &'static str,
    },
    #[error("the driver archive from {url} unpacks to more than {}", bytes(*.limit))]
    ExtractedTooLarge { url: String, limit: u64 },
    #[error("no driver INF files in {url}")]
    NoInf { url: String },
}

impl DownloadError {
    /// The URL the failed download was for, as the caller gave it (any password removed).
    pub fn url(&self) -> &str {
        match self {
            Self::InvalidUrl { url, .. }
            | Self::UnsupportedScheme { url, .. }
            | Self::PrivateAddress { url, .. }
            | Self::Resolve { url, .. }
            | Self::Connection { url, .. }
            | Self::TimedOut { url, .. }
            | Self::Status { url, .. }
            | Self::TooManyRedirects { url, .. }
            | Self::TooLarge { url, .. }
            | Self::Cancelled { url }
            | Self::Io { url, .. }
            | Self::InvalidBoard { url, .. }
            | Self::UnsupportedArchive { url, .. }
            | Self::NotAnArchive { url, .. }
            | Self::Archive { url, .. }
            | Self::UnsafeEntry { url, .. }
            | Self::ExtractedTooLarge { url, .. }
            | Self::NoInf { url } => url,
        }
    }

    /// Whether another attempt may succeed: the network and a failing server can recover;
    /// a refused address, a 4xx answer, an oversized body or a bad archive cannot.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Self::Resolve { .. } | Self::TimedOut { .. } => true,
            Self::Connection { source, .. } => !source.is_builder(),
            Self::Status { status, .. } => (500..600).contains(status),
            _ => false,
        }
    }
}

fn resolves_to(host: &str, addr: &IpAddr) -> String {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        format!("{host} is")
    } else {
        format!("{host} resolves to {addr},")
    }
}

/// reqwest's own message is only "error sending request" and the like; what an operator
/// can act on (refused, reset, name unknown) is the innermost cause.
fn network_reason(error: &reqwest::Error) -> String {
    let mut innermost: &dyn std::error::Error = error;
    while let Some(cause) = innermost.source() {
        innermost = cause;
    }
    let cause = innermost.to_string();
    if error.is_connect() {
        format!("cannot connect ({cause})")
    } else if error.is_body() || error.is_decode() {
        format!("the connection broke off during the transfer ({cause})")
    } else {
        cause
    }
}

fn reason_phrase(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

/// Sizes in the unit an operator would write them in.
fn bytes(n: u64) -> String {
    const UNITS: &[(u64, &str)] = &[(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for &(size, unit) in UNITS {
        if n >= size {
            return if n % size == 0 {
                format!("{} {unit}", n / size)
            } else {
                format!("{:.1} {unit}", n as f64 / size as f64)
            };
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(bytes(2 << 30), "2 GiB");
        assert_eq!(bytes(65536), "64 KiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(10), "10 bytes");
    }

    #[test]
    fn status_names_the_reason() {
        let e = DownloadError::Status {
            url: "https://vendor.example/d.zip".into(),
            status: 500,
        };
        assert_eq!(
            e.to_string(),
            "https://vendor.example/d.zip answered HTTP 500 Internal Server Error"
        );
        assert!(e.is_retryable());
        let e = DownloadError::Status {
            url: "https://vendor.example/d.zip".into(),
            status: 404,
        };
        assert!(!e.is_retryable());
    }
}
