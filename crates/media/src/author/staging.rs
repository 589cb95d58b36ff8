//! The staging view: the source tree minus some files, plus files taken from elsewhere.
//!
//! genisoimage builds this view itself (`-x` exclusions and `-graft-points`), so no
//! multi-GB file is copied. Tools without grafting (oscdimg) get a real directory made
//! of hard links (a copy only where a hard link is impossible, e.g. across file systems).

use std::path::{Path, PathBuf};

use super::error::AuthorError;

/// A host file placed at `target` (relative, '/'-separated) inside the ISO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Graft {
    pub target: String,
    pub source: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StagingPlan {
    /// Canonical source tree; its contents form the ISO root.
    pub root: PathBuf,
    /// Host paths under `root` left out.
    pub excludes: Vec<PathBuf>,
    pub grafts: Vec<Graft>,
}

impl StagingPlan {
    /// Build a real directory at `dest` (which must not exist yet) with the plan's
    /// content, hard-linking files. Returns how many files had to be copied instead.
    pub fn materialize(&self, dest: &Path) -> Result<usize, AuthorError> {
        let mut copied = 0;
        std::fs::create_dir(dest).map_err(|e| AuthorError::io(dest, e))?;
        let mut stack = vec![(self.root.clone(), dest.to_path_buf())];
        while let Some((from, to)) = stack.pop() {
            let entries = std::fs::read_dir(&from).map_err(|e| AuthorError::io(&from, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| AuthorError::io(&from, e))?;
                let path = entry.path();
                if self.excludes.contains(&path) {
                    continue;
                }
                let meta =
                    std::fs::symlink_metadata(&path).map_err(|e| AuthorError::io(&path, e))?;
                let target = to.join(entry.file_name());
                if meta.is_dir() {
                    std::fs::create_dir(&target).map_err(|e| AuthorError::io(&target, e))?;
                    stack.push((path, target));
                } else if meta.is_file() {
                    copied += usize::from(link_or_copy(&path, &target)?);
                }
                // Symbolic links and special files are left out, as genisoimage does.
            }
        }
        for graft in &self.grafts {
            let target = graft
                .target
                .split('/')
                .filter(|s| !s.is_empty())
                .fold(dest.to_path_buf(), |p, s| p.join(s));
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| AuthorError::io(parent, e))?;
            }
            copied += usize::from(link_or_copy(&graft.source, &target)?);
        }
        Ok(copied)
    }
}

/// Hard-link `from` at `to`; copy when linking is not possible. `true` = copied.
fn link_or_copy(from: &Path, to: &Path) -> Result<bool, AuthorError> {
    match std::fs::hard_link(from, to) {
        Ok(()) => Ok(false),
        Err(_) => {
            std::fs::copy(from, to).map_err(|e| AuthorError::io(from, e))?;
            Ok(true)
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[test]
    fn materialized_tree_links_files_and_applies_plan() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("tree");
        std::fs::create_dir_all(root.join("sources")).expect("mkdir");
        std::fs::write(root.join("setup.exe"), b"MZ").expect("write");
        std::fs::write(root.join("sources/install.esd"), b"old").expect("write");
        let new = dir.path().join("new.wim");
        std::fs::write(&new, b"new").expect("write");
        let plan = StagingPlan {
            root: root.clone(),
            excludes: vec![root.join("sources/install.esd")],
            grafts: vec![Graft {
                target: "sources/install.wim".to_owned(),
                source: new.clone(),
            }],
        };
        let stage = dir.path().join("stage");
        assert_eq!(plan.materialize(&stage).expect("materialize"), 0);
        assert!(!stage.join("sources/install.esd").exists());
        let linked = std::fs::metadata(stage.join("sources/install.wim")).expect("meta");
        let original = std::fs::metadata(&new).expect("meta");
        assert_eq!(linked.ino(), original.ino(), "hard link, not a copy");
        assert!(stage.join("setup.exe").is_file());
    }
}
