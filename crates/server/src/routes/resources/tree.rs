//! Reading folders of the repository for the listings. Symlinks are never followed and
//! hidden entries (writers' staging folders, editor files) are skipped, so a listing
//! shows only what lies inside the repository; names that are not UTF-8 are skipped too,
//! since no request could name them.

use std::fs::FileType;
use std::path::Path;

use crate::error::ApiError;

/// Deeper than any tools folder needs; stops pathological trees.
const MAX_DEPTH: usize = 16;

fn read_error(dir: &Path, e: std::io::Error) -> ApiError {
    ApiError::internal(std::io::Error::new(
        e.kind(),
        format!("{}: {e}", dir.display()),
    ))
}

/// (name, file type, size) of each visible entry of `dir`, sorted by name; nothing when
/// `dir` does not exist.
fn entries(dir: &Path) -> Result<Vec<(String, FileType, u64)>, ApiError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_error(dir, e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| read_error(dir, e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        // DirEntry::metadata does not follow symlinks.
        let meta = entry.metadata().map_err(|e| read_error(dir, e))?;
        out.push((name, meta.file_type(), meta.len()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Names of the folders directly in `dir`.
pub(super) fn subdirs(dir: &Path) -> Result<Vec<String>, ApiError> {
    Ok(entries(dir)?
        .into_iter()
        .filter(|(_, kind, _)| kind.is_dir())
        .map(|(name, _, _)| name)
        .collect())
}

/// (name, size) of the regular files directly in `dir`.
pub(super) fn files(dir: &Path) -> Result<Vec<(String, u64)>, ApiError> {
    Ok(entries(dir)?
        .into_iter()
        .filter(|(_, kind, _)| kind.is_file())
        .map(|(name, _, size)| (name, size))
        .collect())
}

/// ('/'-separated path below `dir`, size) of every regular file under `dir`, sorted.
pub(super) fn files_below(dir: &Path) -> Result<Vec<(String, u64)>, ApiError> {
    let mut out = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new(), 0usize)];
    while let Some((current, prefix, depth)) = pending.pop() {
        for (name, kind, size) in entries(&current)? {
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            if kind.is_file() {
                out.push((rel, size));
            } else if kind.is_dir() && depth + 1 < MAX_DEPTH {
                pending.push((current.join(&name), rel, depth + 1));
            }
        }
    }
    out.sort();
    Ok(out)
}
