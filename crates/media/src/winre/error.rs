//! The typed error of the WinRE report.

use std::path::PathBuf;

/// Why WinRE could not be inspected or recompressed. An image without `Winre.wim` is
/// not an error (the report says so).
#[derive(Debug, thiserror::Error)]
pub enum WinreError {
    /// libwim failed on the outer (install) WIM.
    #[error("install image {image}: {action}: {source}")]
    OuterWim {
        image: u32,
        action: &'static str,
        #[source]
        source: wait_wim::WimError,
    },
    /// `Winre.wim` exists but is not a readable WIM.
    #[error("{path} in image {image} is not a valid WIM: {source}")]
    InvalidWinre {
        /// Path inside the outer image.
        path: String,
        image: u32,
        #[source]
        source: wait_wim::WimError,
    },
    /// Rewriting `Winre.wim` with another compression failed.
    #[error("recompressing {path}: {source}")]
    Recompress {
        path: String,
        #[source]
        source: wait_wim::WimError,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
