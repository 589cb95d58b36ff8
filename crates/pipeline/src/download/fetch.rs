//! One HTTP download to a file: redirects followed by hand (each hop's host is checked
//! like the first), the body hashed while it is written, the size capped, and the whole
//! attempt repeated with a short backoff when the network or the server failed.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use reqwest::Url;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::address::{self, Target};
use super::cancel::{Outcome, pause, with_deadline};
use super::{DownloadError, DownloadPolicy};

/// Vendor download pages commonly redirect once or twice (to a CDN, to a signed URL).
const MAX_REDIRECTS: usize = 5;
/// Backoff before the second attempt; doubled for each further one, up to the cap.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// What was written to the file.
#[derive(Debug)]
pub(super) struct Fetched {
    pub sha256: String,
    pub size: u64,
}

/// Download `url` into `dest` (created or truncated), trying up to `policy.attempts` times.
pub(super) async fn download(
    shown: &str,
    url: &Url,
    dest: &Path,
    policy: &DownloadPolicy,
    cancel: &AtomicBool,
) -> Result<Fetched, DownloadError> {
    let attempts = policy.attempts.max(1);
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match attempt_once(shown, url, dest, policy, cancel).await {
            Ok(fetched) => return Ok(fetched),
            Err(e) if e.is_retryable() && attempt < attempts => {
                tracing::info!(url = shown, attempt, error = %e, "driver download failed, trying again");
                if !pause(backoff, cancel).await {
                    return Err(DownloadError::Cancelled {
                        url: shown.to_owned(),
                    });
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn attempt_once(
    shown: &str,
    url: &Url,
    dest: &Path,
    policy: &DownloadPolicy,
    cancel: &AtomicBool,
) -> Result<Fetched, DownloadError> {
    let mut current = url.clone();
    for _ in 0..=MAX_REDIRECTS {
        let target = address::resolve(shown, current, policy, cancel).await?;
        let response = send(shown, &target, policy, cancel).await?;
        let status = response.status();
        if status.is_redirection() {
            if let Some(next) = redirect_target(shown, &target.url, &response)? {
                current = next;
                continue;
            }
        }
        if !status.is_success() {
            return Err(DownloadError::Status {
                url: shown.to_owned(),
                status: status.as_u16(),
            });
        }
        return write_body(shown, response, dest, policy, cancel).await;
    }
    Err(DownloadError::TooManyRedirects {
        url: shown.to_owned(),
        hops: MAX_REDIRECTS,
    })
}

/// The next URL of a redirect, checked for scheme; `None` when there is no Location (a
/// 304 or 300), which is then reported as the status it is.
fn redirect_target(
    shown: &str,
    base: &Url,
    response: &reqwest::Response,
) -> Result<Option<Url>, DownloadError> {
    let Some(location) = response.headers().get(reqwest::header::LOCATION) else {
        return Ok(None);
    };
    let invalid = |reason: String| DownloadError::InvalidUrl {
        url: shown.to_owned(),
        reason,
    };
    let location = location
        .to_str()
        .map_err(|_| invalid("it redirects to a Location that is not text".into()))?;
    let next = base
        .join(location)
        .map_err(|e| invalid(format!("it redirects to {location:?}: {e}")))?;
    address::check_scheme(shown, &next)?;
    Ok(Some(next))
}

async fn send(
    shown: &str,
    target: &Target,
    policy: &DownloadPolicy,
    cancel: &AtomicBool,
) -> Result<reqwest::Response, DownloadError> {
    // reqwest's errors carry the URL, which may hold a password; ours names it already.
    let connection = |source: reqwest::Error| DownloadError::Connection {
        url: shown.to_owned(),
        source: source.without_url(),
    };
    // Redirects are followed above, where their host is checked; a proxy would make the
    // address check meaningless, so the system proxy settings are not used.
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(policy.timeout)
        .user_agent(concat!("WAIT/", env!("CARGO_PKG_VERSION")));
    if let Some((host, addrs)) = &target.pinned {
        builder = builder.resolve_to_addrs(host, addrs);
    }
    let client = builder.build().map_err(connection)?;
    let request = client.get(target.url.clone()).send();
    match with_deadline(request, policy.timeout, cancel).await {
        Outcome::Done(result) => result.map_err(connection),
        Outcome::TimedOut => Err(DownloadError::TimedOut {
            url: shown.to_owned(),
            after: policy.timeout,
        }),
        Outcome::Cancelled => Err(DownloadError::Cancelled {
            url: shown.to_owned(),
        }),
    }
}

async fn write_body(
    shown: &str,
    mut response: reqwest::Response,
    dest: &Path,
    policy: &DownloadPolicy,
    cancel: &AtomicBool,
) -> Result<Fetched, DownloadError> {
    let too_large = || DownloadError::TooLarge {
        url: shown.to_owned(),
        limit: policy.max_bytes,
    };
    let io = |source| DownloadError::Io {
        url: shown.to_owned(),
        path: dest.to_owned(),
        source,
    };
    if response
        .content_length()
        .is_some_and(|len| len > policy.max_bytes)
    {
        return Err(too_large());
    }
    let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    loop {
        // The timeout is per chunk: a slow but steady vendor server is fine, a stalled
        // one is not.
        let chunk = match with_deadline(response.chunk(), policy.timeout, cancel).await {
            Outcome::Done(Ok(Some(chunk))) => chunk,
            Outcome::Done(Ok(None)) => break,
            Outcome::Done(Err(source)) => {
                return Err(DownloadError::Connection {
                    url: shown.to_owned(),
                    source: source.without_url(),
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
        size += chunk.len() as u64;
        if size > policy.max_bytes {
            return Err(too_large());
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(io)?;
    }
    // The archive is renamed into the cache next; it must be on disk before that.
    file.flush().await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    Ok(Fetched {
        sha256: hex::encode(hasher.finalize()),
        size,
    })
}
