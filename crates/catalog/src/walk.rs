//! A small recursive directory walk that never follows symlinks, so a scan cannot be led
//! outside the repository.

use std::path::{Path, PathBuf};

use crate::{CatalogError, Result};

/// A regular file found by [`files`].
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// Path relative to the walk's start, '/'-separated.
    pub rel: String,
    pub size: u64,
}

/// Every regular file under `dir`, recursively, sorted by relative path. A missing `dir`
/// yields an empty list; symlinks are skipped.
pub(crate) fn files(dir: &Path) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(CatalogError::io(dir, e)),
    }
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((current, prefix)) = pending.pop() {
        for entry in read_dir_sorted(&current)? {
            let Some(name) = entry.name.to_str() else {
                continue;
            };
            let rel = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}/{name}")
            };
            if entry.is_dir {
                pending.push((entry.path, rel));
            } else if entry.is_file {
                out.push(Found {
                    rel,
                    size: entry.size,
                });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// One directory entry (symlinks are reported as neither file nor directory).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub path: PathBuf,
    pub name: std::ffi::OsString,
    pub is_dir: bool,
    pub is_file: bool,
    pub size: u64,
}

/// The entries of `dir` sorted by name, without following symlinks.
pub(crate) fn read_dir_sorted(dir: &Path) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| CatalogError::io(dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| CatalogError::io(dir, e))?;
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|e| CatalogError::io(&path, e))?;
        out.push(Entry {
            name: entry.file_name(),
            is_dir: meta.is_dir(),
            is_file: meta.is_file(),
            size: meta.len(),
            path,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Sorted names of the subdirectories of `dir`. UTF-8 names only; symlinks and hidden
/// folders (leading '.', such as the staging folders fixtures write through) are skipped.
pub(crate) fn subdirs(dir: &Path) -> Result<Vec<String>> {
    Ok(read_dir_sorted(dir)?
        .into_iter()
        .filter(|e| e.is_dir)
        .filter_map(|e| e.name.into_string().ok())
        .filter(|name| !name.starts_with('.'))
        .collect())
}

/// Case-insensitive extension test on a '/'-separated or plain name.
pub(crate) fn has_extension(name: &str, ext: &str) -> bool {
    extension(name).is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// The text after the last '.' of the last component, if any.
pub(crate) fn extension(name: &str) -> Option<&str> {
    let file = name.rsplit('/').next().unwrap_or(name);
    let (stem, ext) = file.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        None
    } else {
        Some(ext)
    }
}
