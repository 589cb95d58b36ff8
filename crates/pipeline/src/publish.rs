//! Atomic publication of an output folder.
//!
//! A build writes into `8_Output/<customer>/.partial-<job>-<attempt>/`, on the same
//! filesystem as its final place. Publishing first claims the final name with `mkdir`
//! (which fails if another build took it) and then renames the finished folder over
//! that empty directory, which Linux does atomically. Readers therefore see either
//! nothing, an empty folder for an instant, or the complete output — never a half.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::PipelineError;

const PARTIAL_PREFIX: &str = ".partial-";

/// The private folder a job attempt builds in.
pub(crate) fn partial_dir(customer_dir: &Path, job_id: &str, attempt: i64) -> PathBuf {
    customer_dir.join(format!("{PARTIAL_PREFIX}{job_id}-{attempt}"))
}

/// Remove what earlier attempts of this job left behind (a crashed worker's folder).
pub(crate) fn remove_stale_partials(customer_dir: &Path, job_id: &str) -> Vec<PathBuf> {
    let prefix = format!("{PARTIAL_PREFIX}{job_id}-");
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(customer_dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(&prefix)
            && std::fs::remove_dir_all(entry.path()).is_ok()
        {
            removed.push(entry.path());
        }
    }
    removed
}

/// Move `partial` to `<customer_dir>/<name>` (or `<name>_2`, `_3`, … when taken).
/// Returns the final folder name.
pub(crate) fn publish(
    partial: &Path,
    customer_dir: &Path,
    name: &str,
) -> Result<String, PipelineError> {
    for n in 1..1000u32 {
        let candidate = if n == 1 {
            name.to_string()
        } else {
            format!("{name}_{n}")
        };
        let target = customer_dir.join(&candidate);
        match std::fs::create_dir(&target) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(PipelineError::io(&target, e)),
        }
        if let Err(e) = std::fs::rename(partial, &target) {
            let _ = std::fs::remove_dir(&target);
            return Err(PipelineError::io(&target, e));
        }
        sync_dir(customer_dir);
        return Ok(candidate);
    }
    Err(PipelineError::Permanent(format!(
        "{}: too many output folders named {name}",
        customer_dir.display()
    )))
}

/// Make the rename durable. Failure only weakens crash safety, so it is not an error.
fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_renames_and_avoids_taken_names() {
        let root = tempfile::tempdir().unwrap();
        let a = partial_dir(root.path(), "job", 1);
        std::fs::create_dir(&a).unwrap();
        std::fs::write(a.join("install.wim"), b"x").unwrap();
        assert_eq!(
            publish(&a, root.path(), "20250101_000000_B").unwrap(),
            "20250101_000000_B"
        );
        assert!(!a.exists());
        assert!(root.path().join("20250101_000000_B/install.wim").exists());

        let b = partial_dir(root.path(), "job2", 1);
        std::fs::create_dir(&b).unwrap();
        assert_eq!(
            publish(&b, root.path(), "20250101_000000_B").unwrap(),
            "20250101_000000_B_2"
        );
    }

    #[test]
    fn stale_partials_of_the_job_are_removed_only() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(partial_dir(root.path(), "j1", 1)).unwrap();
        std::fs::create_dir(partial_dir(root.path(), "j2", 1)).unwrap();
        assert_eq!(remove_stale_partials(root.path(), "j1").len(), 1);
        assert!(partial_dir(root.path(), "j2", 1).exists());
    }
}
