//! Installation media: reading ISO 9660/UDF images without mounting (`iso`), authoring
//! bootable BIOS + UEFI ISOs (`author`), and the WinRE report (`winre`).
//!
//! The build pipeline does not use ISO input or output yet; the API refuses such jobs
//! with a "not supported yet" error until it does.

pub mod iso;
pub use iso::{IsoImage, Prefer};

pub mod author;
pub mod winre;

/// Errors of the media crate.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("not supported yet: {0}")]
    NotSupported(&'static str),
    /// Reading or writing `path` failed at the operating-system level.
    #[error("{}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file has neither an ISO 9660 nor a UDF volume.
    #[error("{}: not an ISO 9660 or UDF image", path.display())]
    NotAnIso { path: std::path::PathBuf },
    /// The image ends before a structure it declares (volume cut short).
    #[error("{}: truncated image: {what} needs {needed} bytes but the file has {size}", path.display())]
    Truncated {
        path: std::path::PathBuf,
        what: String,
        needed: u64,
        size: u64,
    },
    /// A structure of the image is inconsistent or out of bounds.
    #[error("{}: corrupt image: {what}", path.display())]
    Corrupt {
        path: std::path::PathBuf,
        what: String,
    },
    /// `path` does not exist inside the image `iso`.
    #[error("{}: no entry {path:?} in the image", iso.display())]
    NotFound {
        iso: std::path::PathBuf,
        path: String,
    },
    /// `path` inside the image `iso` is a directory where a file was needed.
    #[error("{}: {path:?} is a directory", iso.display())]
    IsADirectory {
        iso: std::path::PathBuf,
        path: String,
    },
    /// The image has no `sources/install.wim`, `install.esd` or `install*.swm`.
    #[error("no install image in {}", iso.display())]
    NoInstallImage { iso: std::path::PathBuf },
}
