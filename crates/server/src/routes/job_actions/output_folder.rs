//! The output folder a job record names, resolved strictly inside `8_Output/`.
//!
//! Workers write `output_dir`, but a record can be edited or restored from elsewhere, and
//! the folder tree can change under it. So the value must be exactly `<customer>/<folder>`
//! of plain names, neither folder may be a symlink, and the real path must lie inside the
//! real `8_Output/`; anything else is refused before a file is read or deleted.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use wait_catalog::Repository;

use crate::error::ApiError;

fn refused(output_dir: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "invalid_output_dir",
        format!(
            "the job's output_dir {output_dir:?} is not a folder inside 8_Output/; nothing was read or deleted"
        ),
    )
}

fn io_error(path: &Path, e: std::io::Error) -> ApiError {
    ApiError::internal(std::io::Error::new(
        e.kind(),
        format!("{}: {e}", path.display()),
    ))
}

/// The real path of the job's output folder; None when it does not exist (any more).
pub(crate) fn resolve(repo: &Repository, output_dir: &str) -> Result<Option<PathBuf>, ApiError> {
    let parts: Vec<&str> = output_dir.split('/').collect();
    let [customer, folder] = parts.as_slice() else {
        return Err(refused(output_dir));
    };
    for part in [customer, folder] {
        // Hidden names are writers' staging folders, never a published build.
        if wait_catalog::validate_name("output_dir", part).is_err() || part.starts_with('.') {
            return Err(refused(output_dir));
        }
    }
    let root = repo.output_root();
    let mut path = root.clone();
    for part in [customer, folder] {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() || !meta.is_dir() => {
                return Err(refused(output_dir));
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path, e)),
        }
    }
    // `8_Output` itself may be a link to another disk: compare real paths.
    let real_root = std::fs::canonicalize(&root).map_err(|e| io_error(&root, e))?;
    let real = std::fs::canonicalize(&path).map_err(|e| io_error(&path, e))?;
    if real.parent().and_then(Path::parent) != Some(real_root.as_path()) {
        return Err(refused(output_dir));
    }
    Ok(Some(real))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn only_two_plain_names_inside_8_output_resolve() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init(&dir.path().join("repo")).expect("init");
        let good = repo.output_root().join("ACME/20250101_000000_X13SAW");
        std::fs::create_dir_all(&good).expect("mkdir");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(outside.join("f")).expect("mkdir");
        std::os::unix::fs::symlink(&outside, repo.output_root().join("LINKED")).expect("link");
        std::os::unix::fs::symlink(&outside, repo.output_root().join("ACME/linked")).expect("link");
        std::fs::write(repo.output_root().join("ACME/file"), b"x").expect("file");

        let found = resolve(&repo, "ACME/20250101_000000_X13SAW").expect("resolves");
        assert_eq!(found, Some(std::fs::canonicalize(&good).expect("real")));
        assert_eq!(resolve(&repo, "ACME/gone").expect("resolves"), None);
        assert_eq!(resolve(&repo, "NOBODY/gone").expect("resolves"), None);

        for bad in [
            "../../outside",
            "../outside/f",
            "ACME",
            "ACME/20250101_000000_X13SAW/sub",
            "/etc/passwd",
            "ACME/..",
            "./ACME",
            "ACME/.staging",
            "ACME\\x",
            "",
            "LINKED/f",
            "ACME/linked",
            "ACME/file",
        ] {
            let e = resolve(&repo, bad).expect_err(bad);
            assert_eq!(
                (e.status(), e.code()),
                (StatusCode::CONFLICT, "invalid_output_dir"),
                "{bad}"
            );
        }
    }
}
