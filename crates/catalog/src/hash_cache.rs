//! A persistent cache of sha256 content hashes, so a 5 GB ISO is hashed once and not on
//! every scan.
//!
//! An entry is keyed by the file's path and trusted only while the file's size,
//! modification time (nanoseconds) and inode are all unchanged: an edit changes the
//! mtime (and usually the size), a replace-by-rename changes the inode.
//!
//! One more rule closes the "racy" gap: a file written within the file system's
//! timestamp granularity *after* it was hashed keeps the same mtime. An entry is therefore
//! only trusted when the file's mtime was at least [`RACY_WINDOW_NS`] older than the
//! moment it was hashed; a fresher file is hashed again (and becomes trusted once it has
//! aged). The window is generous because repositories live on network shares and FAT
//! media too, whose timestamps are coarse.
//!
//! The file is JSON, written atomically (temporary file + rename). Several processes
//! may share it: the last writer wins, which is fine for a cache. A corrupt or
//! unreadable file is logged and replaced by an empty cache, never an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{CatalogError, HashedFile, Result};

/// Entries whose mtime is closer than this to their hashing time are not trusted.
pub const RACY_WINDOW_NS: i128 = 2_000_000_000;

/// Version of the file format; another version is treated like a corrupt file.
const FORMAT: u32 = 1;

/// What identifies one version of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
    inode: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    path: String,
    size: u64,
    /// i128 does not survive every JSON reader; stored as a decimal string.
    mtime_ns: String,
    inode: u64,
    sha256: String,
    hashed_at_ns: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Cached {
    stamp: Stamp,
    sha256: String,
    hashed_at_ns: i128,
}

/// Hit and miss counts since the cache was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Entries currently held.
    pub entries: usize,
}

/// Why a cancellable hash ([`HashCache::hash_until`], [`hash_file_until`]) gave no
/// digest: the caller asked it to stop, or the file could not be read. Kept apart
/// from [`CatalogError`] so a stop is never mistaken for (or reported as) a bad file.
#[derive(Debug, thiserror::Error)]
pub enum HashStop {
    #[error("hashing was cancelled")]
    Cancelled,
    #[error(transparent)]
    Failed(#[from] CatalogError),
}

impl HashStop {
    /// For callers that never stop a hash: the failure, or (should a stop happen after
    /// all) an error naming the file rather than a panic.
    pub(crate) fn into_error(self, path: &Path) -> CatalogError {
        match self {
            HashStop::Failed(e) => e,
            HashStop::Cancelled => CatalogError::io(path, std::io::Error::other("hashing stopped")),
        }
    }
}

/// sha256 of `path` without the cache, stopping as soon as `cancel` is set (it is
/// looked at every MiB).
pub fn hash_file_until(
    path: &Path,
    cancel: &AtomicBool,
) -> std::result::Result<HashedFile, HashStop> {
    crate::hash::hash_file_until(path, cancel)
}

/// The cache; see the module documentation.
#[derive(Debug)]
pub struct HashCache {
    file: PathBuf,
    entries: HashMap<PathBuf, Cached>,
    hits: u64,
    misses: u64,
    dirty: bool,
}

fn now_ns() -> i128 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    match meta.modified() {
        Ok(t) => match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        },
        // No mtime on this platform: never equal to a real one, so never a stale hit.
        Err(_) => i128::MIN,
    }
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> u64 {
    0
}

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    Stamp {
        size: meta.len(),
        mtime_ns: mtime_ns(meta),
        inode: inode(meta),
    }
}

impl HashCache {
    /// An empty cache that will be saved to `file`.
    pub fn empty(file: &Path) -> HashCache {
        HashCache {
            file: file.to_path_buf(),
            entries: HashMap::new(),
            hits: 0,
            misses: 0,
            dirty: false,
        }
    }

    /// Load the cache kept in `file`. A missing file gives an empty cache; so does a
    /// corrupt one (with a warning), because losing a cache only costs time. Only a
    /// `file` that exists but cannot be read at all (permissions, a folder) is an error.
    pub fn open(file: &Path) -> Result<HashCache> {
        let mut cache = HashCache::empty(file);
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(cache),
            Err(e) => return Err(CatalogError::io(file, e)),
        };
        let parsed: CacheFile = match serde_json::from_slice(&bytes) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e,
                    "hash cache is corrupt; starting with an empty cache");
                cache.dirty = true;
                return Ok(cache);
            }
        };
        if parsed.format != FORMAT {
            tracing::warn!(file = %file.display(), format = parsed.format,
                "hash cache has an unknown format; starting with an empty cache");
            cache.dirty = true;
            return Ok(cache);
        }
        let mut skipped = 0usize;
        for e in parsed.entries {
            let (Ok(mtime_ns), Ok(hashed_at_ns)) =
                (e.mtime_ns.parse::<i128>(), e.hashed_at_ns.parse::<i128>())
            else {
                skipped += 1;
                continue;
            };
            if e.sha256.len() != 64 || !e.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                skipped += 1;
                continue;
            }
            cache.entries.insert(
                PathBuf::from(e.path),
                Cached {
                    stamp: Stamp {
                        size: e.size,
                        mtime_ns,
                        inode: e.inode,
                    },
                    sha256: e.sha256.to_ascii_lowercase(),
                    hashed_at_ns,
                },
            );
        }
        if skipped > 0 {
            tracing::warn!(file = %file.display(), skipped, "hash cache: dropped malformed entries");
            cache.dirty = true;
        }
        Ok(cache)
    }

    /// The file this cache is saved to.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// sha256 of `path`, from the cache when the file is unchanged, else computed and
    /// remembered.
    pub fn hash(&mut self, path: &Path) -> Result<HashedFile> {
        let never = AtomicBool::new(false);
        self.hash_until(path, &never)
            .map_err(|stop| stop.into_error(path))
    }

    /// Like [`HashCache::hash`], but a miss stops with [`HashStop::Cancelled`] as soon
    /// as `cancel` is set (looked at every MiB), so a cold multi-GiB file does not hold
    /// up a cancelled build. A stopped hash leaves the cache as it was.
    pub fn hash_until(
        &mut self,
        path: &Path,
        cancel: &AtomicBool,
    ) -> std::result::Result<HashedFile, HashStop> {
        let before = std::fs::metadata(path).map_err(|e| CatalogError::io(path, e))?;
        let now = stamp(&before);
        if let Some(hit) = self.entries.get(path) {
            if hit.stamp == now && now.mtime_ns.saturating_add(RACY_WINDOW_NS) <= hit.hashed_at_ns {
                self.hits += 1;
                return Ok(HashedFile {
                    path: path.to_path_buf(),
                    sha256: hit.sha256.clone(),
                    size: now.size,
                });
            }
        }
        self.misses += 1;
        let started = now_ns();
        let hashed = crate::hash::hash_file_until(path, cancel)?;
        // Remember the hash only if the file did not change while it was read; otherwise
        // the digest may mix two versions and must not be trusted next time.
        let after = std::fs::metadata(path).map(|m| stamp(&m)).ok();
        if after == Some(now) && hashed.size == now.size {
            self.entries.insert(
                path.to_path_buf(),
                Cached {
                    stamp: now,
                    sha256: hashed.sha256.clone(),
                    hashed_at_ns: started,
                },
            );
            self.dirty = true;
        } else if self.entries.remove(path).is_some() {
            self.dirty = true;
        }
        Ok(hashed)
    }

    /// Forget entries whose file no longer exists; returns how many went.
    pub fn prune_missing(&mut self) -> usize {
        let before = self.entries.len();
        self.entries.retain(|path, _| path.is_file());
        let gone = before - self.entries.len();
        if gone > 0 {
            self.dirty = true;
        }
        gone
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits,
            misses: self.misses,
            entries: self.entries.len(),
        }
    }

    /// Write the cache (temporary file in the same folder, then rename over the old
    /// one, so readers see the old or the new file, never half of one). Nothing is
    /// written when nothing changed.
    pub fn save(&mut self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let dir = match self.file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| CatalogError::io(&dir, e))?;
        let mut entries: Vec<Entry> = self
            .entries
            .iter()
            // Paths that are not UTF-8 cannot be written to JSON; they are simply
            // hashed again next time.
            .filter_map(|(path, c)| {
                Some(Entry {
                    path: path.to_str()?.to_string(),
                    size: c.stamp.size,
                    mtime_ns: c.stamp.mtime_ns.to_string(),
                    inode: c.stamp.inode,
                    sha256: c.sha256.clone(),
                    hashed_at_ns: c.hashed_at_ns.to_string(),
                })
            })
            .collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let body = serde_json::to_vec(&CacheFile {
            format: FORMAT,
            entries,
        })
        .map_err(|e| CatalogError::io(&self.file, std::io::Error::other(e)))?;
        let mut temp = tempfile::Builder::new()
            .prefix(".hashes-")
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(|e| CatalogError::io(&dir, e))?;
        std::io::Write::write_all(&mut temp, &body)
            .map_err(|e| CatalogError::io(temp.path(), e))?;
        temp.persist(&self.file)
            .map_err(|e| CatalogError::io(&self.file, e.error))?;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// A file several reads long, with an mtime old enough to be trusted.
    fn aged_file(dir: &Path, len: usize) -> PathBuf {
        let path = dir.join("big.bin");
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&path, data).expect("write");
        let old = SystemTime::now() - std::time::Duration::from_secs(100);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(old))
            .expect("set mtime");
        path
    }

    #[test]
    fn a_set_flag_stops_hashing_and_caches_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = aged_file(dir.path(), 3 << 20);
        let mut cache = HashCache::empty(&dir.path().join("h.json"));
        let stop = AtomicBool::new(true);
        assert!(matches!(
            cache.hash_until(&path, &stop),
            Err(HashStop::Cancelled)
        ));
        assert!(matches!(
            hash_file_until(&path, &stop),
            Err(HashStop::Cancelled)
        ));
        assert_eq!(cache.stats().entries, 0, "a stopped hash is not remembered");

        stop.store(false, Ordering::Relaxed);
        let whole = cache.hash_until(&path, &stop).expect("hash");
        assert_eq!(whole.size, 3 << 20);
        assert_eq!(
            whole.sha256,
            crate::hash::hash_file(&path).expect("hash").sha256
        );
        assert_eq!(cache.stats().entries, 1);
        // The flag no longer matters for a hit.
        stop.store(true, Ordering::Relaxed);
        assert_eq!(
            cache.hash_until(&path, &stop).expect("hit").sha256,
            whole.sha256
        );
        assert_eq!(cache.stats().hits, 1);
    }

    #[test]
    fn a_missing_file_is_a_failure_not_a_stop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let never = AtomicBool::new(false);
        let gone = dir.path().join("gone.iso");
        let mut cache = HashCache::empty(&dir.path().join("h.json"));
        match cache.hash_until(&gone, &never) {
            Err(HashStop::Failed(CatalogError::Io { path, .. })) => assert_eq!(path, gone),
            other => panic!("expected an I/O failure naming the file, got {other:?}"),
        }
    }
}
