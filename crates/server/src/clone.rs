//! Comparing a job's recorded inputs with the repository as it is now, so a clone can
//! say whether it would build from the same files.
//!
//! Blocking (it hashes files): call it from `spawn_blocking`. Hashes go through the
//! content-hash cache when one is configured, so an unchanged multi-GB base image is not
//! read again; the cache trusts an entry only while size, mtime and inode are unchanged,
//! so an edited file is always hashed afresh.

use std::path::{Path, PathBuf};

use serde::Serialize;
use wait_catalog::{HashCache, Repository};
use wait_store::Resource;

/// One recorded input whose file is no longer what the job used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InputChange {
    /// As recorded on the job: relative to the repository root, '/'-separated.
    pub path: String,
    pub recorded_sha256: String,
    /// None when the file is gone, unreadable, or its path would leave the repository
    /// (such a path is never read).
    pub current_sha256: Option<String>,
}

/// The outcome of comparing every recorded input, in the job's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputComparison {
    pub changed: Vec<InputChange>,
}

impl InputComparison {
    pub fn is_unchanged(&self) -> bool {
        self.changed.is_empty()
    }

    /// `"unchanged"` or `"changed"`, the API's words.
    pub fn verdict(&self) -> &'static str {
        if self.is_unchanged() {
            "unchanged"
        } else {
            "changed"
        }
    }
}

/// Hash every recorded input as it is now and list those whose sha256 differs.
/// `cache_file` is the shared content-hash cache; None hashes every file.
pub fn compare_inputs(
    repo: &Repository,
    resources: &[Resource],
    cache_file: Option<&Path>,
) -> InputComparison {
    let mut hasher = Hasher::new(cache_file);
    let mut comparison = InputComparison::default();
    for resource in resources {
        // A driver archive downloaded from the board's vendor is not a repository file:
        // the clone's build downloads it again (and says so if it changed).
        if resource.kind == "driver_download" {
            continue;
        }
        let current = current_sha256(repo, resource, &mut hasher);
        let same = current
            .as_deref()
            .is_some_and(|now| now.eq_ignore_ascii_case(&resource.sha256));
        if !same {
            comparison.changed.push(InputChange {
                path: resource.path.clone(),
                recorded_sha256: resource.sha256.clone(),
                current_sha256: current,
            });
        }
    }
    hasher.save();
    comparison
}

/// The file a recorded path names, if it stays inside the repository. The first
/// component must be one of the repository's top-level folders; the rest goes through
/// the same checks as every user-supplied path (no `..`, no absolute paths, no symlinks
/// out of the repository).
fn locate(repo: &Repository, recorded: &str) -> Option<PathBuf> {
    let (folder, rel) = recorded.split_once('/')?;
    match repo.resolve("resources", folder, rel) {
        Ok(path) => Some(path),
        Err(e) => {
            tracing::warn!(path = recorded, error = %e,
                "recorded input does not resolve inside the repository; not read");
            None
        }
    }
}

fn current_sha256(repo: &Repository, resource: &Resource, hasher: &mut Hasher) -> Option<String> {
    let path = locate(repo, &resource.path)?;
    // A folder or other non-file where the input was is a change, not something to hash.
    if !path.is_file() {
        return None;
    }
    match hasher.hash(&path) {
        Ok(sha256) => Some(sha256),
        Err(e) => {
            tracing::warn!(path = %resource.path, error = %e, "recorded input cannot be hashed");
            None
        }
    }
}

/// The cache when there is one, else plain hashing.
struct Hasher(Option<HashCache>);

impl Hasher {
    fn new(cache_file: Option<&Path>) -> Self {
        // Losing the cache only costs time, so an unreadable cache file means hashing
        // without its help, not a failed clone.
        Self(cache_file.map(|file| {
            HashCache::open(file).unwrap_or_else(|e| {
                tracing::warn!(file = %file.display(), error = %e,
                    "hash cache unreadable; hashing without it");
                HashCache::empty(file)
            })
        }))
    }

    fn hash(&mut self, path: &Path) -> wait_catalog::Result<String> {
        let hashed = match &mut self.0 {
            Some(cache) => cache.hash(path)?,
            None => wait_catalog::hash_file(path)?,
        };
        Ok(hashed.sha256)
    }

    fn save(&mut self) {
        if let Some(cache) = &mut self.0 {
            if let Err(e) = cache.save() {
                tracing::warn!(file = %cache.file().display(), error = %e, "hash cache not saved");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        dir: tempfile::TempDir,
        repo: Repository,
        resources: Vec<Resource>,
    }

    fn record(repo: &Repository, kind: &str, rel: &str) -> Resource {
        let hashed = wait_catalog::hash_file(&repo.root().join(rel)).expect("hash fixture");
        Resource {
            kind: kind.into(),
            path: rel.into(),
            sha256: hashed.sha256,
            size: hashed.size,
        }
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init(&dir.path().join("repo")).expect("init repository");
        let root = repo.root().to_path_buf();
        std::fs::write(root.join("1_BaseImages/x.wim"), b"base image bytes").expect("write");
        let set = root.join("2_Drivers/B/WINDOWS11_X64/net");
        std::fs::create_dir_all(&set).expect("driver folder");
        std::fs::write(set.join("a.inf"), b"[Version]\r\n").expect("write");
        let resources = vec![
            record(&repo, "base_image", "1_BaseImages/x.wim"),
            record(&repo, "driver", "2_Drivers/B/WINDOWS11_X64/net/a.inf"),
        ];
        Fixture {
            dir,
            repo,
            resources,
        }
    }

    #[test]
    fn untouched_inputs_are_unchanged() {
        let f = fixture();
        let cmp = compare_inputs(&f.repo, &f.resources, None);
        assert!(cmp.is_unchanged(), "{cmp:?}");
        assert_eq!(cmp.verdict(), "unchanged");
    }

    #[test]
    fn an_edited_file_is_listed_with_both_hashes() {
        let f = fixture();
        let inf = f.repo.root().join("2_Drivers/B/WINDOWS11_X64/net/a.inf");
        std::fs::write(&inf, b"[Version]\r\nClass=Net\r\n").expect("edit");
        let now = wait_catalog::hash_file(&inf).expect("hash").sha256;
        let cmp = compare_inputs(&f.repo, &f.resources, None);
        assert_eq!(
            cmp.changed,
            vec![InputChange {
                path: "2_Drivers/B/WINDOWS11_X64/net/a.inf".into(),
                recorded_sha256: f.resources[1].sha256.clone(),
                current_sha256: Some(now),
            }]
        );
        assert_eq!(cmp.verdict(), "changed");
    }

    #[test]
    fn a_missing_or_replaced_input_has_no_current_hash() {
        let f = fixture();
        let base = f.repo.root().join("1_BaseImages/x.wim");
        std::fs::remove_file(&base).expect("delete");
        let cmp = compare_inputs(&f.repo, &f.resources, None);
        assert_eq!(cmp.changed.len(), 1);
        assert_eq!(cmp.changed[0].path, "1_BaseImages/x.wim");
        assert_eq!(cmp.changed[0].current_sha256, None);

        std::fs::create_dir(&base).expect("a folder where the file was");
        let cmp = compare_inputs(&f.repo, &f.resources, None);
        assert_eq!(cmp.changed[0].current_sha256, None);
    }

    #[test]
    fn paths_leaving_the_repository_are_changed_and_never_read() {
        let f = fixture();
        // A real file outside the repository with content the recorded hash matches:
        // if any of these paths were followed, the input would look unchanged.
        let outside = f.repo.root().parent().expect("parent").join("outside.wim");
        std::fs::write(&outside, b"base image bytes").expect("write");
        let sha = f.resources[0].sha256.clone();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, f.repo.root().join("1_BaseImages/link.wim"))
            .expect("symlink");
        let mut paths = vec![
            "1_BaseImages/../../outside.wim".to_string(),
            "../outside.wim".to_string(),
            outside.to_string_lossy().into_owned(),
            "1_BaseImages\\..\\..\\outside.wim".to_string(),
            "outside.wim".to_string(),
            "NotAFolder/../outside.wim".to_string(),
            "C:/outside.wim".to_string(),
            String::new(),
        ];
        if cfg!(unix) {
            paths.push("1_BaseImages/link.wim".to_string());
        }
        let resources: Vec<Resource> = paths
            .iter()
            .map(|p| Resource {
                kind: "base_image".into(),
                path: p.clone(),
                sha256: sha.clone(),
                size: 16,
            })
            .collect();
        let cmp = compare_inputs(&f.repo, &resources, None);
        let listed: Vec<&str> = cmp.changed.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(listed, paths.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(cmp.changed.iter().all(|c| c.current_sha256.is_none()));
    }

    /// Age the fixture files past the cache's racy window, so cached hashes are trusted.
    fn age(f: &Fixture) {
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for r in &f.resources {
            std::fs::File::options()
                .write(true)
                .open(f.repo.root().join(&r.path))
                .and_then(|file| file.set_modified(old))
                .expect("set mtime");
        }
    }

    #[test]
    fn trusted_cache_entries_spare_reading_the_file() {
        let f = fixture();
        age(&f);
        let cache_file = f.dir.path().join("cache/hashes.json");
        assert!(compare_inputs(&f.repo, &f.resources, Some(&cache_file)).is_unchanged());
        assert_eq!(
            HashCache::open(&cache_file).expect("open").stats().entries,
            2,
            "both inputs were remembered"
        );

        // Plant a different hash for the unchanged base image: only a comparison that
        // takes it from the cache instead of reading the file can report it.
        let planted = "0".repeat(64);
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&cache_file).expect("read")).expect("json");
        for entry in json["entries"].as_array_mut().expect("entries") {
            if entry["path"].as_str().is_some_and(|p| p.ends_with("x.wim")) {
                entry["sha256"] = planted.clone().into();
            }
        }
        std::fs::write(&cache_file, serde_json::to_vec(&json).expect("encode")).expect("write");
        let cmp = compare_inputs(&f.repo, &f.resources, Some(&cache_file));
        assert_eq!(cmp.changed.len(), 1, "{cmp:?}");
        assert_eq!(
            cmp.changed[0].current_sha256.as_deref(),
            Some(planted.as_str())
        );

        // A corrupt cache file costs time, never the comparison.
        std::fs::write(&cache_file, b"{not json").expect("corrupt");
        assert!(compare_inputs(&f.repo, &f.resources, Some(&cache_file)).is_unchanged());
    }

    #[test]
    fn an_edit_is_seen_through_a_warm_cache() {
        let f = fixture();
        age(&f);
        let cache_file = f.dir.path().join("hashes.json");
        assert!(compare_inputs(&f.repo, &f.resources, Some(&cache_file)).is_unchanged());
        // Same length, other bytes: only the new mtime tells the cache.
        let inf = f.repo.root().join("2_Drivers/B/WINDOWS11_X64/net/a.inf");
        std::fs::write(&inf, b"[VERSION]\r\n").expect("edit");
        let cmp = compare_inputs(&f.repo, &f.resources, Some(&cache_file));
        assert_eq!(cmp.changed.len(), 1, "{cmp:?}");
        assert_eq!(cmp.changed[0].path, f.resources[1].path);
    }
}
