//! The walk under the repository root for a scan: every regular file with its
//! repository-relative path, plus the problems found on the way. Symlinks are never
//! followed into folders (no loops, no double counting); a symlink to a file inside the
//! repository counts as that file; one that leaves the repository or dangles is refused
//! and reported.

use std::path::{Path, PathBuf};

use crate::{CatalogError, Result};

/// Deeper than any real repository; stops pathological trees.
const MAX_DEPTH: usize = 48;

/// A file found by [`walk`].
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// Path components below the root (the first is the top-level folder).
    pub parts: Vec<String>,
    /// Absolute path (through the symlink, when the file is reached by one).
    pub abs: PathBuf,
    pub size: u64,
}

impl Item {
    /// Repository-relative, '/'-separated.
    pub fn rel(&self) -> String {
        self.parts.join("/")
    }
}

#[derive(Debug, Default)]
pub(crate) struct Tree {
    pub files: Vec<Item>,
    /// Every folder (as components), for token folders.
    pub dirs: Vec<Vec<String>>,
    /// "path: what is wrong", for the scan report.
    pub problems: Vec<String>,
}

/// Walk `root` (canonical). Only an unreadable root is an error.
pub(crate) fn walk(root: &Path) -> Result<Tree> {
    let mut tree = Tree::default();
    std::fs::read_dir(root).map_err(|e| CatalogError::io(root, e))?;
    let mut pending: Vec<(PathBuf, Vec<String>)> = vec![(root.to_path_buf(), Vec::new())];
    while let Some((dir, parts)) = pending.pop() {
        let shown = if parts.is_empty() {
            ".".to_string()
        } else {
            parts.join("/")
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                tree.problems
                    .push(format!("{shown}: cannot read the folder: {e}"));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    tree.problems
                        .push(format!("{shown}: cannot list the folder: {e}"));
                    continue;
                }
            };
            let raw_name = entry.file_name();
            let Some(name) = raw_name.to_str() else {
                tree.problems.push(format!(
                    "{shown}/{}: name is not UTF-8; skipped",
                    raw_name.to_string_lossy()
                ));
                continue;
            };
            // Hidden entries: staging folders of writers in progress, editor files.
            if name.starts_with('.') {
                continue;
            }
            let mut child = parts.clone();
            child.push(name.to_string());
            let rel = child.join("/");
            let path = entry.path();
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    tree.problems.push(format!("{rel}: {e}"));
                    continue;
                }
            };
            if meta.file_type().is_symlink() {
                link(root, &mut tree, child, path);
            } else if meta.is_dir() {
                if child.len() >= MAX_DEPTH {
                    tree.problems.push(format!(
                        "{rel}: folders nest deeper than {MAX_DEPTH}; not read"
                    ));
                    continue;
                }
                tree.dirs.push(child.clone());
                pending.push((path, child));
            } else if meta.is_file() {
                tree.files.push(Item {
                    parts: child,
                    abs: path,
                    size: meta.len(),
                });
            } else {
                tree.problems
                    .push(format!("{rel}: not a regular file or folder; skipped"));
            }
        }
    }
    tree.files.sort_by(|a, b| a.parts.cmp(&b.parts));
    tree.dirs.sort();
    tree.problems.sort();
    Ok(tree)
}

fn link(root: &Path, tree: &mut Tree, parts: Vec<String>, path: PathBuf) {
    let rel = parts.join("/");
    let target = match std::fs::canonicalize(&path) {
        Ok(t) => t,
        Err(_) => {
            tree.problems.push(format!(
                "{rel}: symlink whose target does not exist; refused"
            ));
            return;
        }
    };
    if !target.starts_with(root) {
        tree.problems.push(format!(
            "{rel}: symlink pointing outside the repository (to {}); refused",
            target.display()
        ));
        return;
    }
    match std::fs::metadata(&target) {
        Ok(m) if m.is_file() => tree.files.push(Item {
            parts,
            abs: path,
            size: m.len(),
        }),
        Ok(m) if m.is_dir() => tree.problems.push(format!(
            "{rel}: symlink to a folder inside the repository; not followed"
        )),
        Ok(_) => tree.problems.push(format!(
            "{rel}: symlink to something that is not a file; refused"
        )),
        Err(e) => tree.problems.push(format!("{rel}: {e}")),
    }
}
