//! Stale work: what a crashed build left behind. A worker that dies mid-build leaves
//! its scratch folder (`<work_dir>/job-<id>-…`) and its unpublished output folder
//! (`8_Output/<customer>/.partial-<id>-<attempt>`). At start a worker removes every
//! such folder whose job is no longer being built by anyone: the job is gone,
//! finished, or its lease has expired. This is the Linux counterpart of cleaning up
//! stale DISM mount points.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use uuid::Uuid;
use wait_catalog::Repository;
use wait_store::{JobStatus, Store};

const SCRATCH_PREFIX: &str = "job-";
const PARTIAL_PREFIX: &str = ".partial-";

/// Remove stale scratch and partial output folders; returns what was removed. Errors
/// are logged, never fatal: a worker must start even on a messy disk.
pub(crate) async fn clean_stale_work(
    store: &Store,
    repo: &Repository,
    work_dir: &Path,
) -> Vec<PathBuf> {
    let mut candidates: Vec<(PathBuf, Uuid)> = Vec::new();
    candidates.extend(job_folders(work_dir, SCRATCH_PREFIX));
    if let Ok(customers) = std::fs::read_dir(repo.output_root()) {
        for c in customers.flatten() {
            if c.file_type().is_ok_and(|t| t.is_dir()) {
                candidates.extend(job_folders(&c.path(), PARTIAL_PREFIX));
            }
        }
    }
    let mut removed = Vec::new();
    for (path, job_id) in candidates {
        let live = match store.get_job(job_id).await {
            Ok(Some(job)) => {
                let building = matches!(
                    job.status,
                    JobStatus::ProcessingBuild | JobStatus::ProcessingValidation
                );
                building
                    && job
                        .lease_expires_at
                        .is_some_and(|t| t > OffsetDateTime::now_utc())
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "cannot tell whether this work is stale; left alone");
                true
            }
        };
        if live {
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {
                tracing::info!(%job_id, path = %path.display(), "removed stale work of a build that did not finish");
                removed.push(path);
            }
            Err(e) => {
                tracing::warn!(%job_id, path = %path.display(), error = %e, "could not remove stale work");
            }
        }
    }
    removed
}

/// Folders in `dir` named `<prefix><uuid>…`, with the job id parsed from the name.
fn job_folders(dir: &Path, prefix: &str) -> Vec<(PathBuf, Uuid)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name.strip_prefix(prefix)?.get(..36)?;
            Some((e.path(), Uuid::parse_str(id).ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_job_folders_are_candidates() {
        let dir = tempfile::tempdir().unwrap();
        let id = Uuid::now_v7();
        for name in [
            format!("job-{id}-abc"),
            "job-not-a-uuid".to_string(),
            "other".to_string(),
        ] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join(format!("job-{id}-file")), b"x").unwrap();
        let found = job_folders(dir.path(), SCRATCH_PREFIX);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, id);
    }
}
