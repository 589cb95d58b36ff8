//! Fetching a board's vendor driver archive (its `scrape_url`) into a cache before a build.
//!
//! A failure here never fails the build: the caller turns the error into a warning on the
//! job and builds with the repository's drivers. When a fresh download fails but an
//! earlier one for the same URL is complete in the cache, that copy is returned with
//! `from_cache: true` so the caller can say it may be stale. See decision 0010.

mod address;
mod cache;
mod cancel;
mod error;
mod extract;
mod fetch;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use error::DownloadError;

use extract::Kind;

/// Limits for one driver download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadPolicy {
    /// Longest wait for a name lookup, a connection, the response head, or the next piece
    /// of the body. Not a limit on the whole transfer, which may take longer.
    pub timeout: Duration,
    /// Largest archive accepted. Unpacking is capped at four times this.
    pub max_bytes: u64,
    /// Tries in all (at least one); only network errors and 5xx answers are tried again.
    pub attempts: u32,
    /// Allow loopback, private and link-local addresses (tests, or a vendor mirror inside
    /// the build network).
    pub allow_private: bool,
}

impl Default for DownloadPolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_bytes: 2 << 30,
            attempts: 2,
            allow_private: false,
        }
    }
}

/// A driver archive in the cache, unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverDownload {
    /// The URL as given (any password in it replaced).
    pub url: String,
    /// The downloaded zip.
    pub archive: PathBuf,
    /// The folder it was unpacked into; stage drivers from here.
    pub extracted: PathBuf,
    /// SHA-256 of the archive, lowercase hex.
    pub sha256: String,
    /// Size of the archive in bytes.
    pub size: u64,
    /// `.inf` files in the archive (always at least one).
    pub inf_count: usize,
    /// The fresh download failed and this is an earlier copy; it may be out of date.
    pub from_cache: bool,
    /// Why the fresh download failed, when `from_cache` is true.
    pub stale_reason: Option<String>,
}

/// Unpacked archives may be this many times the size of the download.
const EXTRACT_RATIO: u64 = 4;

/// Download `url` for motherboard `board` into `cache_dir/<board>/`, unpack it, and
/// count its INF files. On failure an earlier complete copy is returned instead, marked
/// `from_cache`; cancellation is never covered up that way.
pub async fn fetch_driver_archive(
    url: &str,
    board: &str,
    cache_dir: &Path,
    policy: &DownloadPolicy,
    cancel: &AtomicBool,
) -> Result<DriverDownload, DownloadError> {
    let shown = address::redacted(url);
    if let Err(e) = wait_catalog::validate_name("motherboard_model", board) {
        return Err(DownloadError::InvalidBoard {
            url: shown,
            board: board.to_owned(),
            reason: e.to_string(),
        });
    }
    let board_dir = cache_dir.join(board);
    let key = cache::key(url);
    match refresh(url, &shown, &board_dir, &key, policy, cancel).await {
        Ok(download) => Ok(download),
        Err(e @ DownloadError::Cancelled { .. }) => Err(e),
        Err(e) => match cache::load_current(&board_dir, &key, &shown) {
            Some(mut cached) => {
                tracing::warn!(url = %shown, error = %e, archive = %cached.archive.display(),
                    "driver download failed; using the cached copy");
                cached.from_cache = true;
                cached.stale_reason = Some(e.to_string());
                Ok(cached)
            }
            None => Err(e),
        },
    }
}

async fn refresh(
    url: &str,
    shown: &str,
    board_dir: &Path,
    key: &str,
    policy: &DownloadPolicy,
    cancel: &AtomicBool,
) -> Result<DriverDownload, DownloadError> {
    let cancelled = || DownloadError::Cancelled {
        url: shown.to_owned(),
    };
    let io = |path: &Path, source| DownloadError::Io {
        url: shown.to_owned(),
        path: path.to_owned(),
        source,
    };
    if cancel.load(Ordering::Relaxed) {
        return Err(cancelled());
    }
    let parsed = address::parse_url(shown, url)?;
    std::fs::create_dir_all(board_dir).map_err(|e| io(board_dir, e))?;
    // Removed on every early return (error or cancel) by TempDir's drop.
    let part = tempfile::Builder::new()
        .prefix(cache::PART_PREFIX)
        .tempdir_in(board_dir)
        .map_err(|e| io(board_dir, e))?;
    let archive = part.path().join(cache::ARCHIVE_FILE);
    let fetched = fetch::download(shown, &parsed, &archive, policy, cancel).await?;

    let name = cache::entry_name(key, &fetched.sha256);
    let inf_count = match cache::load_entry(board_dir, &name, shown) {
        // Same content as an entry we already unpacked: nothing to redo.
        Some(existing) if existing.sha256 == fetched.sha256 => existing.inf_count,
        _ => {
            let inf_count = unpack(shown, &parsed, &archive, part.path(), policy, cancel).await?;
            let meta = cache::Meta {
                url: shown.to_owned(),
                sha256: fetched.sha256.clone(),
                size: fetched.size,
                inf_count,
            };
            cache::write_meta(part.path(), &meta).map_err(|e| io(part.path(), e))?;
            let part_path = part.keep();
            cache::commit(&part_path, board_dir, &name, shown).map_err(|e| {
                let _ = std::fs::remove_dir_all(&part_path);
                io(&board_dir.join(&name), e)
            })?;
            inf_count
        }
    };
    cache::set_current(board_dir, key, &name).map_err(|(path, e)| io(&path, e))?;
    let entry = board_dir.join(&name);
    Ok(DriverDownload {
        url: shown.to_owned(),
        archive: entry.join(cache::ARCHIVE_FILE),
        extracted: entry.join(cache::EXTRACTED_DIR),
        sha256: fetched.sha256,
        size: fetched.size,
        inf_count,
        from_cache: false,
        stale_reason: None,
    })
}

/// Check the archive type and unpack a zip into `<part>/extracted`; the INF count.
async fn unpack(
    shown: &str,
    url: &reqwest::Url,
    archive: &Path,
    part: &Path,
    policy: &DownloadPolicy,
    cancel: &AtomicBool,
) -> Result<usize, DownloadError> {
    let head = read_head(archive).map_err(|e| DownloadError::Io {
        url: shown.to_owned(),
        path: archive.to_owned(),
        source: e,
    })?;
    let url_ext = url_extension(url);
    match extract::sniff(&head) {
        Kind::Zip => {}
        Kind::Other(ext) => {
            return Err(DownloadError::UnsupportedArchive {
                url: shown.to_owned(),
                ext: ext.to_owned(),
            });
        }
        Kind::WebPage => {
            return Err(DownloadError::NotAnArchive {
                url: shown.to_owned(),
                what: "a web page".into(),
            });
        }
        Kind::Unknown => {
            return Err(match url_ext {
                Some(ext) if ext != "zip" => DownloadError::UnsupportedArchive {
                    url: shown.to_owned(),
                    ext,
                },
                _ => DownloadError::NotAnArchive {
                    url: shown.to_owned(),
                    what: "a file of unknown type".into(),
                },
            });
        }
    }
    let limit = policy.max_bytes.saturating_mul(EXTRACT_RATIO);
    let (owned_url, from, to) = (
        shown.to_owned(),
        archive.to_owned(),
        part.join(cache::EXTRACTED_DIR),
    );
    let work = move |stop: &AtomicBool| extract::extract_zip(&owned_url, &from, &to, limit, stop);
    let inf_count = cancel::blocking(work, cancel)
        .await
        .map_err(|e| DownloadError::Io {
            url: shown.to_owned(),
            path: archive.to_owned(),
            source: e,
        })??;
    if inf_count == 0 {
        return Err(DownloadError::NoInf {
            url: shown.to_owned(),
        });
    }
    Ok(inf_count)
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::with_capacity(64);
    std::fs::File::open(path)?.take(64).read_to_end(&mut head)?;
    Ok(head)
}

/// The lowercase extension of the URL's last path segment, for naming unsupported types.
fn url_extension(url: &reqwest::Url) -> Option<String> {
    let last = url.path_segments()?.next_back()?;
    let (_, ext) = last.rsplit_once('.')?;
    let ok = !ext.is_empty() && ext.len() <= 8 && ext.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then(|| ext.to_ascii_lowercase())
}
