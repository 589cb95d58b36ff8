//! The typed error of ISO authoring.

use std::path::PathBuf;

use super::tools::ExternalTool;

/// Why authoring an ISO failed. Every variant names the file, field or tool involved.
#[derive(Debug, thiserror::Error)]
pub enum AuthorError {
    #[error("{tool} is not installed (looked on PATH); install it: {}", tool.install_hint())]
    MissingTool { tool: ExternalTool },

    #[error("invalid volume label {label:?}: {reason}")]
    InvalidLabel { label: String, reason: String },

    #[error("{what} {}: {reason}", path.display())]
    BadInput {
        /// Which input: "source media tree", "install image", "autounattend.xml", …
        what: &'static str,
        path: PathBuf,
        reason: String,
    },

    #[error(
        "boot file {relative} ({which}) is missing (looked in {})",
        show_paths(searched)
    )]
    MissingBootFile {
        /// "BIOS boot image" or "UEFI boot image".
        which: &'static str,
        /// Where it was expected, relative to the media root.
        relative: String,
        /// The directories it was looked for in, in order.
        searched: Vec<PathBuf>,
    },

    #[error("invalid option {field}: {reason}")]
    InvalidOption { field: &'static str, reason: String },

    #[error(
        "{} is {size} bytes; an ISO 9660 file system without UDF holds files below 4 GiB only",
        path.display()
    )]
    TooLargeForIso9660 { path: PathBuf, size: u64 },

    #[error("output {}: {reason}", path.display())]
    BadOutput { path: PathBuf, reason: String },

    #[error("{tool} failed ({status}): {message}")]
    ToolFailed {
        tool: ExternalTool,
        status: String,
        /// The tool's own last error lines (stderr, progress lines left out).
        message: String,
    },

    #[error("splitting {} into SWM parts: {source}", path.display())]
    Split {
        path: PathBuf,
        #[source]
        source: wait_wim::WimError,
    },

    #[error("authoring cancelled")]
    Cancelled,

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl AuthorError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AuthorError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn bad_input(
        what: &'static str,
        path: impl Into<PathBuf>,
        reason: impl Into<String>,
    ) -> Self {
        AuthorError::BadInput {
            what,
            path: path.into(),
            reason: reason.into(),
        }
    }
}

fn show_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
