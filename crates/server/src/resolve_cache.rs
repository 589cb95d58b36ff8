//! Remembering successful `job_request::resolve` results, so `POST /api/job` does not
//! open the base image and parse every INF of the board's driver sets on each request.
//!
//! An entry is only used while the repository parts that resolution reads look exactly
//! as they did when the entry was made: a fingerprint of the size, modification time
//! and inode of every file and folder under those parts (the base image folder, the
//! board's driver folder and the `2_Drivers/` listing, the answer file, and the
//! component folders the request names). Adding, removing, replacing or rewriting any
//! of them changes the fingerprint, and the next request resolves afresh. The
//! fingerprint is taken before resolving, so a change made while resolving also
//! invalidates what that resolution stored.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use wait_catalog::Repository;
use wait_store::JobRequest;

/// Entries kept at most; the whole map is dropped when full (distinct requests are few:
/// boards × base images × options actually used).
const MAX_ENTRIES: usize = 512;
/// A walk that meets more entries than this is not cached: fingerprinting it would
/// cost about as much as resolving.
const MAX_WALK_ENTRIES: usize = 20_000;
/// Folders nested deeper than this (or symlink loops) are not cached either.
const MAX_DEPTH: usize = 16;

/// What resolution reads from a request, plus the repository root.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    root: PathBuf,
    motherboard_model: String,
    base_image: String,
    customer_name: String,
    image_index: String,
    driver_set: Option<String>,
    answer_file: Option<String>,
    create_iso: bool,
    langpacks: Vec<String>,
    updates: Vec<String>,
    software: Vec<String>,
}

impl Key {
    fn of(repo: &Repository, req: &JobRequest) -> Self {
        Key {
            root: repo.root().to_path_buf(),
            motherboard_model: req.motherboard_model.clone(),
            base_image: req.base_image.clone(),
            customer_name: req.customer_name.clone(),
            image_index: req.image_index.clone(),
            driver_set: req.driver_set.clone(),
            answer_file: req.answer_file.clone(),
            create_iso: req.create_iso,
            langpacks: req.langpacks.clone(),
            updates: req.updates.clone(),
            software: req.software.clone(),
        }
    }
}

/// A resolution that succeeded: the driver set it settled on.
#[derive(Debug, Clone)]
struct Entry {
    fingerprint: u64,
    driver_set: Option<String>,
}

static CACHE: LazyLock<Mutex<HashMap<Key, Entry>>> = LazyLock::new(Mutex::default);

/// A fingerprint taken before resolving; `store` it with the result if it succeeded.
#[derive(Debug)]
pub struct Pending {
    key: Box<Key>,
    fingerprint: Option<u64>,
}

/// The cached resolution of `req` if the repository is unchanged since it was made
/// (`Ok`), else what to store once resolving succeeded (`Err`). Blocking (file system).
pub fn lookup(repo: &Repository, req: &JobRequest) -> Result<JobRequest, Pending> {
    let key = Key::of(repo, req);
    let fingerprint = fingerprint(repo, req);
    if let Some(fp) = fingerprint {
        let hit = lock().get(&key).filter(|e| e.fingerprint == fp).cloned();
        if let Some(entry) = hit {
            let mut resolved = req.clone();
            resolved.driver_set = entry.driver_set;
            return Ok(resolved);
        }
    }
    Err(Pending {
        key: Box::new(key),
        fingerprint,
    })
}

impl Pending {
    /// Remember a successful resolution under the fingerprint taken before it.
    pub fn store(self, resolved: &JobRequest) {
        let Some(fingerprint) = self.fingerprint else {
            return;
        };
        let mut cache = lock();
        if cache.len() >= MAX_ENTRIES && !cache.contains_key(&self.key) {
            cache.clear();
        }
        cache.insert(
            *self.key,
            Entry {
                fingerprint,
                driver_set: resolved.driver_set.clone(),
            },
        );
    }
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<Key, Entry>> {
    // A panic while holding the lock cannot leave the map half-written in a way that
    // matters (entries are whole values), so a poisoned lock is still usable.
    CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Hash of the state of everything `resolve` reads for `req`; None when it cannot be
/// taken cheaply (then nothing is cached).
fn fingerprint(repo: &Repository, req: &JobRequest) -> Option<u64> {
    let root = repo.root();
    let mut walk = Walk {
        hasher: DefaultHasher::new(),
        entries: 0,
    };
    walk.tree(&root.join("1_BaseImages"), 0)?;
    walk.one(&root.join("2_Drivers"));
    walk.tree(&root.join("2_Drivers").join(&req.motherboard_model), 0)?;
    if let Some(rel) = &req.answer_file {
        walk.one(&root.join("5_AnswerFiles").join(rel));
    }
    for (folder, names) in [
        ("3_LangPacks", &req.langpacks),
        ("4_Updates", &req.updates),
        ("6_Software", &req.software),
    ] {
        if !names.is_empty() {
            walk.tree(&root.join(folder), 0)?;
        }
    }
    Some(walk.hasher.finish())
}

struct Walk {
    hasher: DefaultHasher,
    entries: usize,
}

impl Walk {
    /// Fold one path's state (or its absence) into the hash; follows symlinks, since
    /// resolution reads what they point to.
    fn one(&mut self, path: &Path) -> Option<std::fs::Metadata> {
        path.hash(&mut self.hasher);
        match std::fs::metadata(path) {
            Ok(meta) => {
                (
                    meta.is_dir(),
                    meta.len(),
                    meta.ino(),
                    meta.dev(),
                    meta.mtime(),
                    meta.mtime_nsec(),
                    meta.ctime(),
                    meta.ctime_nsec(),
                )
                    .hash(&mut self.hasher);
                Some(meta)
            }
            Err(e) => {
                e.kind().hash(&mut self.hasher);
                None
            }
        }
    }

    /// `path` and everything below it, in a stable order. None when too big or deep.
    fn tree(&mut self, path: &Path, depth: usize) -> Option<()> {
        self.entries += 1;
        if self.entries > MAX_WALK_ENTRIES || depth > MAX_DEPTH {
            return None;
        }
        let Some(meta) = self.one(path) else {
            return Some(());
        };
        if !meta.is_dir() {
            return Some(());
        }
        let Ok(read) = std::fs::read_dir(path) else {
            // unreadable now: resolution will fail and store nothing; hash the fact
            true.hash(&mut self.hasher);
            return Some(());
        };
        let mut children: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children {
            self.tree(&child, depth + 1)?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> JobRequest {
        JobRequest {
            motherboard_model: "B1".to_string(),
            base_image: "a.wim".to_string(),
            customer_name: "default".to_string(),
            image_index: "1".to_string(),
            driver_set: None,
            langpacks: Vec::new(),
            updates: Vec::new(),
            software: Vec::new(),
            answer_file: None,
            product_key: None,
            key_variants: "nokey".to_string(),
            create_iso: false,
            compression: "lzx".to_string(),
            log_level: wait_store::LogLevel::Normal,
            options: wait_store::JobOptions::default(),
        }
    }

    #[test]
    fn an_entry_is_used_until_the_driver_folder_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init(dir.path()).expect("repo");
        let board = dir.path().join("2_Drivers/B1/WINDOWS11_X64");
        std::fs::create_dir_all(&board).expect("board");
        std::fs::write(board.join("a.inf"), "x").expect("inf");
        let req = request();

        let pending = lookup(&repo, &req).expect_err("nothing cached yet");
        let mut resolved = req.clone();
        resolved.driver_set = Some("WINDOWS11_X64".to_string());
        pending.store(&resolved);
        let hit = lookup(&repo, &req).expect("cached");
        assert_eq!(hit.driver_set.as_deref(), Some("WINDOWS11_X64"));

        // rewriting an INF in place (same folder listing) invalidates the entry
        std::fs::write(board.join("a.inf"), "changed contents").expect("inf");
        assert!(lookup(&repo, &req).is_err());
    }

    #[test]
    fn a_new_base_image_invalidates_the_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init(dir.path()).expect("repo");
        let mut req = request();
        req.motherboard_model = "B2".to_string();
        lookup(&repo, &req).expect_err("empty").store(&req);
        assert!(lookup(&repo, &req).is_ok());
        std::fs::write(dir.path().join("1_BaseImages/b.iso"), "iso").expect("iso");
        assert!(lookup(&repo, &req).is_err());
    }
}
