//! The driver download cache, per board:
//!
//! ```text
//! <cache>/<board>/<key>.current          name of the entry now in use for the URL
//! <cache>/<board>/<key>-<sha256>/        one entry per archive content
//!     archive.zip  extracted/  download.json
//! <cache>/<board>/.part-*/               a download or extraction in progress
//! ```
//!
//! `<key>` is derived from the URL alone. An entry is built inside a `.part-` folder and
//! renamed into place whole, so an entry that exists is complete. Entries are named by
//! content and never rewritten, so a build still reading an older entry is not disturbed
//! by a refresh; the entry in use and the one before it are kept, older ones removed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::DriverDownload;

pub(super) const ARCHIVE_FILE: &str = "archive.zip";
pub(super) const EXTRACTED_DIR: &str = "extracted";
const META_FILE: &str = "download.json";
const POINTER_SUFFIX: &str = ".current";
pub(super) const PART_PREFIX: &str = ".part-";
/// A `.part-` folder this old belongs to a process that died; nobody downloads for a day.
const ABANDONED_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// What is recorded next to an entry, so it can be returned without re-reading it.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Meta {
    pub url: String,
    pub sha256: String,
    pub size: u64,
    pub inf_count: usize,
}

/// The cache key of a URL: a file-name-safe digest of it.
pub(super) fn key(url: &str) -> String {
    let digest = hex::encode(Sha256::digest(url.as_bytes()));
    digest[..24].to_owned()
}

/// The entry folder name for a URL key and archive content.
pub(super) fn entry_name(key: &str, sha256: &str) -> String {
    format!("{key}-{sha256}")
}

pub(super) fn write_meta(entry_dir: &Path, meta: &Meta) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(meta).map_err(std::io::Error::other)?;
    std::fs::write(entry_dir.join(META_FILE), text)
}

/// The complete entry `name` for `url`, if it exists and really is for that URL.
pub(super) fn load_entry(board_dir: &Path, name: &str, url: &str) -> Option<DriverDownload> {
    let dir = board_dir.join(name);
    let text = std::fs::read(dir.join(META_FILE)).ok()?;
    let meta: Meta = serde_json::from_slice(&text).ok()?;
    let archive = dir.join(ARCHIVE_FILE);
    let extracted = dir.join(EXTRACTED_DIR);
    if meta.url != url || !archive.is_file() || !extracted.is_dir() {
        return None;
    }
    Some(DriverDownload {
        url: meta.url,
        archive,
        extracted,
        sha256: meta.sha256,
        size: meta.size,
        inf_count: meta.inf_count,
        from_cache: false,
        stale_reason: None,
    })
}

/// The entry currently in use for `url`, if it is complete.
pub(super) fn load_current(board_dir: &Path, key: &str, url: &str) -> Option<DriverDownload> {
    let name = current_name(board_dir, key)?;
    load_entry(board_dir, &name, url)
}

fn current_name(board_dir: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(board_dir.join(format!("{key}{POINTER_SUFFIX}"))).ok()?;
    let name = text.trim();
    // The pointer only ever names a sibling entry of this key.
    (name.starts_with(key) && !name.contains('/')).then(|| name.to_owned())
}

/// Move a finished `.part-` folder into place as entry `name`. When another worker put
/// the same content there first, its copy is kept and ours dropped; a folder of that
/// name that is not a complete entry for `url` is replaced.
pub(super) fn commit(part: &Path, board_dir: &Path, name: &str, url: &str) -> std::io::Result<()> {
    let dest = board_dir.join(name);
    let first = match std::fs::rename(part, &dest) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    if !dest.is_dir() {
        return Err(first);
    }
    if load_entry(board_dir, name, url).is_some() {
        tracing::debug!(entry = %dest.display(), "driver cache entry already present");
        return std::fs::remove_dir_all(part);
    }
    std::fs::remove_dir_all(&dest)?;
    std::fs::rename(part, &dest)
}

/// Make `name` the entry in use for `key`, then remove entries older than the previous
/// one. Returns the pointer file on failure.
pub(super) fn set_current(
    board_dir: &Path,
    key: &str,
    name: &str,
) -> Result<(), (PathBuf, std::io::Error)> {
    let pointer = board_dir.join(format!("{key}{POINTER_SUFFIX}"));
    let previous = current_name(board_dir, key);
    // Written beside the pointer and renamed over it, so readers see the old name or the
    // new one, never a torn file; the temporary name is unique per call.
    let written = tempfile::Builder::new()
        .prefix(PART_PREFIX)
        .tempfile_in(board_dir)
        .and_then(|mut tmp| {
            tmp.write_all(format!("{name}\n").as_bytes())?;
            tmp.persist(&pointer).map_err(|e| e.error)?;
            Ok(())
        });
    written.map_err(|e| (pointer.clone(), e))?;
    prune(board_dir, key, &[Some(name), previous.as_deref()]);
    Ok(())
}

/// Remove this key's entries other than `keep`, and `.part-` leftovers of dead processes.
fn prune(board_dir: &Path, key: &str, keep: &[Option<&str>]) {
    let Ok(listing) = std::fs::read_dir(board_dir) else {
        return;
    };
    let entry_prefix = format!("{key}-");
    for item in listing.flatten() {
        let file_name = item.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let stale_entry = file_name.starts_with(&entry_prefix) && !keep.contains(&Some(file_name));
        let abandoned = file_name.starts_with(PART_PREFIX)
            && item
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age > ABANDONED_AFTER);
        if stale_entry || abandoned {
            let path = item.path();
            let is_dir = item.file_type().is_ok_and(|t| t.is_dir());
            let removed = if is_dir {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            if let Err(e) = removed {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove an old driver cache entry");
            }
        }
    }
}
