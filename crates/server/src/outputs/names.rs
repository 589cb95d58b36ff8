//! Names that reach the file system from outside: `{customer}` and `{job}` from the URL
//! (axum has percent-decoded them once) and the file names a `manifest.json` gives.
//! Each must be one plain path component, and what it resolves to must lie where it
//! belongs once symlinks are followed, so no request can read outside `8_Output/`.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use super::OutputError;

/// Longest accepted name, in bytes (the usual file-system limit for one component).
const MAX_NAME_BYTES: usize = 255;

/// One plain path component: not empty, no separator (`/` or `\`), no NUL or other
/// control character, and no leading dot (which also rules out `.`, `..` and the
/// builds' hidden `.partial-…` folders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainName(String);

impl PlainName {
    /// `field` names the request part the value came from, for the error.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, OutputError> {
        let reason = if raw.is_empty() {
            "is empty"
        } else if raw.starts_with('.') {
            "must not start with a dot (no relative components or hidden folders)"
        } else if raw.contains(['/', '\\']) {
            "must be a single name without path separators"
        } else if raw.contains('\0') {
            "must not contain NUL"
        } else if raw.chars().any(char::is_control) {
            "must not contain control characters"
        } else if raw.len() > MAX_NAME_BYTES {
            "is longer than 255 bytes"
        } else {
            return Ok(PlainName(raw.to_string()));
        };
        Err(OutputError::BadName { field, reason })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PlainName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<Path> for PlainName {
    fn as_ref(&self) -> &Path {
        Path::new(&self.0)
    }
}

/// An output folder that exists, with its real (symlink-free) path exactly two levels
/// below the real `8_Output/`.
#[derive(Debug, Clone)]
pub struct OutputFolder {
    pub customer: PlainName,
    pub folder: PlainName,
    /// Canonical path of the folder.
    pub path: PathBuf,
}

impl OutputFolder {
    /// `<customer>/<folder>`, as the API shows output folders.
    pub fn display_path(&self) -> String {
        format!("{}/{}", self.customer, self.folder)
    }

    /// The real path of the regular file `name` directly inside this folder. `name`
    /// usually comes from the manifest, so it is checked like a request name; a link to
    /// anywhere else, a subfolder or a missing file is "not found".
    pub fn file(&self, name: &str) -> Result<PathBuf, OutputError> {
        let missing = || {
            OutputError::not_found(format!(
                "output {} has no file {name:?}",
                self.display_path()
            ))
        };
        let plain = PlainName::parse("file", name).map_err(|_| missing())?;
        let real = match std::fs::canonicalize(self.path.join(&plain)) {
            Ok(real) => real,
            Err(e) if is_absent(&e) => return Err(missing()),
            Err(e) => return Err(OutputError::io(self.path.join(&plain), e)),
        };
        if real.parent() != Some(self.path.as_path()) || !real.is_file() {
            return Err(missing());
        }
        Ok(real)
    }
}

/// Resolve `<output_root>/<customer>/<folder>`. Absent folders, and folders whose real
/// path is anywhere but two levels below the real output root (a link out, or a link
/// to a customer folder), are "not found".
pub fn resolve_folder(
    output_root: &Path,
    customer: &PlainName,
    folder: &PlainName,
) -> Result<OutputFolder, OutputError> {
    let missing = || OutputError::not_found(format!("no output {customer}/{folder}"));
    let root = match std::fs::canonicalize(output_root) {
        Ok(root) => root,
        Err(e) if is_absent(&e) => return Err(missing()),
        Err(e) => return Err(OutputError::io(output_root, e)),
    };
    let candidate = root.join(customer).join(folder);
    let real = match std::fs::canonicalize(&candidate) {
        Ok(real) => real,
        Err(e) if is_absent(&e) => return Err(missing()),
        Err(e) => return Err(OutputError::io(candidate, e)),
    };
    let depth_two = real.strip_prefix(&root).is_ok_and(|rel| {
        rel.components().count() == 2 && rel.components().all(|c| matches!(c, Component::Normal(_)))
    });
    if !depth_two || !real.is_dir() {
        if real != candidate {
            tracing::warn!(
                output = %candidate.display(),
                target = %real.display(),
                "refused an output folder that links elsewhere"
            );
        }
        return Err(missing());
    }
    Ok(OutputFolder {
        customer: customer.clone(),
        folder: folder.clone(),
        path: real,
    })
}

/// Errors that mean "there is nothing at this path" rather than a failing disk.
fn is_absent(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_accepted_and_everything_path_like_is_refused() {
        for ok in [
            "ACME",
            "20250101_120000_X13SAW",
            "a b",
            "x..y",
            "%2e%2e",
            "ü",
        ] {
            assert_eq!(PlainName::parse("customer", ok).unwrap().as_str(), ok);
        }
        let long = "a".repeat(256);
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            ".partial-1",
            "a/b",
            "/etc",
            "a\\b",
            "..\\x",
            "a\0b",
            "a\nb",
            &long,
        ] {
            let err = PlainName::parse("job", bad).unwrap_err();
            assert!(
                matches!(err, OutputError::BadName { field: "job", .. }),
                "{bad:?} gave {err:?}"
            );
        }
    }

    #[test]
    fn folders_resolve_inside_the_root_and_links_out_are_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("8_Output");
        std::fs::create_dir_all(root.join("ACME/out1")).unwrap();
        std::fs::write(root.join("ACME/out1/install.wim"), b"wim").unwrap();
        std::fs::create_dir_all(dir.path().join("secret")).unwrap();
        std::fs::write(dir.path().join("secret/passwd"), b"x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("ACME/out2")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("LINK")).unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("secret/passwd"),
            root.join("ACME/out1/leak"),
        )
        .unwrap();
        std::os::unix::fs::symlink(root.join("ACME"), root.join("ACME/up")).unwrap();

        let name = |s: &str| PlainName::parse("x", s).unwrap();
        let out = resolve_folder(&root, &name("ACME"), &name("out1")).unwrap();
        assert_eq!(out.display_path(), "ACME/out1");
        assert!(
            out.file("install.wim")
                .unwrap()
                .ends_with("ACME/out1/install.wim")
        );
        for file in ["leak", "missing.wim", "../out1/install.wim", ""] {
            assert!(
                matches!(out.file(file), Err(OutputError::NotFound { .. })),
                "{file:?}"
            );
        }
        for (customer, folder) in [
            ("ACME", "out2"),
            ("LINK", "secret"),
            ("ACME", "up"),
            ("NOPE", "x"),
        ] {
            assert!(
                matches!(
                    resolve_folder(&root, &name(customer), &name(folder)),
                    Err(OutputError::NotFound { .. })
                ),
                "{customer}/{folder}"
            );
        }
        // Plain files where folders are expected are absent, not I/O failures.
        std::fs::write(root.join("ACME/notes.txt"), b"x").unwrap();
        std::fs::write(root.join("FILE"), b"x").unwrap();
        for (customer, folder) in [("ACME", "notes.txt"), ("FILE", "x")] {
            assert!(
                matches!(
                    resolve_folder(&root, &name(customer), &name(folder)),
                    Err(OutputError::NotFound { .. })
                ),
                "{customer}/{folder}"
            );
        }
    }
}
