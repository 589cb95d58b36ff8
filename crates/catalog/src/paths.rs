//! Turning user-supplied names and relative paths into paths inside the repository.
//!
//! Everything a request names (base image, answer file, board, …) goes through here, so a
//! request can never reach outside the repository, whether by `..`, an absolute or Windows
//! path, or a symlink planted inside the repository.

use std::path::{Path, PathBuf};

use crate::{CatalogError, FOLDERS, Result};

/// `folder` must be one of the eight top-level folders.
pub(crate) fn check_folder(folder: &str) -> Result<()> {
    if FOLDERS.contains(&folder) {
        Ok(())
    } else {
        Err(CatalogError::Invalid {
            field: "folder",
            message: format!(
                "{folder:?} is not a repository folder (expected one of {})",
                FOLDERS.join(", ")
            ),
        })
    }
}

/// Check that `value` is a single, plain path component (a board, customer or file name):
/// not empty, not `.`/`..`, without separators, NUL, control characters or a drive colon.
pub fn validate_name(field: &'static str, value: &str) -> Result<()> {
    let invalid = |message: &str| {
        Err(CatalogError::Invalid {
            field,
            message: format!("{value:?} {message}"),
        })
    };
    if value.trim().is_empty() {
        return invalid("is empty");
    }
    if value == "." || value == ".." {
        return Err(CatalogError::Escapes {
            field,
            path: value.to_string(),
        });
    }
    if value.contains('/') || value.contains('\\') {
        return invalid("must be a single name without '/' or '\\'");
    }
    if value.contains('\0') {
        return invalid("contains a NUL byte");
    }
    if value.chars().any(char::is_control) {
        return invalid("contains a control character");
    }
    if value.contains(':') {
        return invalid("contains ':'");
    }
    if value.len() > 255 {
        return invalid("is longer than 255 bytes");
    }
    Ok(())
}

/// Split a user path into its plain components, refusing anything that could point
/// elsewhere than below the folder it is resolved in.
pub(crate) fn components<'a>(field: &'static str, rel: &'a str) -> Result<Vec<&'a str>> {
    let invalid = |message: &str| {
        Err(CatalogError::Invalid {
            field,
            message: format!("{rel:?} {message}"),
        })
    };
    let escapes = || {
        Err(CatalogError::Escapes {
            field,
            path: rel.to_string(),
        })
    };
    if rel.trim().is_empty() {
        return invalid("is empty");
    }
    if rel.contains('\0') {
        return invalid("contains a NUL byte");
    }
    if rel.contains('\\') {
        return invalid("contains a backslash (use '/' between folders)");
    }
    if rel.starts_with('/') {
        return escapes();
    }
    let bytes = rel.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        // "C:", "C:/x", "C:x": a Windows drive, never a repository path.
        return escapes();
    }
    if rel.chars().any(char::is_control) {
        return invalid("contains a control character");
    }
    let mut parts = Vec::new();
    for part in rel.split('/') {
        match part {
            "" | "." => continue,
            ".." => return escapes(),
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return invalid("names no file or folder");
    }
    Ok(parts)
}

/// See [`crate::Repository::resolve`]. `root` is the canonical repository root.
pub(crate) fn resolve(
    root: &Path,
    field: &'static str,
    folder: &str,
    rel: &str,
) -> Result<PathBuf> {
    check_folder(folder)?;
    let parts = components(field, rel)?;
    let mut path = root.join(folder);
    check_link(root, field, rel, &path)?;
    let mut exists = true;
    for part in parts {
        path.push(part);
        if exists {
            exists = check_link(root, field, rel, &path)?;
        }
    }
    Ok(path)
}

/// If `path` is a symlink, make sure it lands inside `root`. Returns whether `path` exists
/// (once a prefix is missing, nothing below it can be a symlink).
fn check_link(root: &Path, field: &'static str, rel: &str, path: &Path) -> Result<bool> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Ok(false),
        Err(e) => return Err(CatalogError::io(path, e)),
    };
    if !meta.file_type().is_symlink() {
        return Ok(true);
    }
    match std::fs::canonicalize(path) {
        Ok(target) if target.starts_with(root) => Ok(true),
        Ok(_) => Err(CatalogError::Escapes {
            field,
            path: rel.to_string(),
        }),
        Err(_) => Err(CatalogError::Invalid {
            field,
            message: format!("{rel:?} goes through a symlink whose target does not exist"),
        }),
    }
}
