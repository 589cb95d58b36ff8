//! The typed error and the translation of wimlib error codes into it.

use std::ffi::CStr;
use std::path::{Path, PathBuf};

use libc::c_int;

use crate::sys;

/// Typed error. `Library` carries wimlib's own code and message.
#[derive(Debug, thiserror::Error)]
pub enum WimError {
    #[error("{path}: not a WIM file: {message}")]
    NotAWim { path: PathBuf, message: String },
    #[error("{path}: file not found")]
    NotFound { path: PathBuf },
    #[error("{path}: WIM is damaged or truncated: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("image {image} does not exist (the WIM has {count})")]
    NoSuchImage { image: u32, count: u32 },
    #[error("path {path:?} does not exist in the image")]
    PathNotInImage { path: String },
    #[error("invalid image property name {0:?}")]
    InvalidPropertyName(String),
    /// A part of a split WIM set that the operation needs is not available.
    #[error("split WIM part {part} is missing: {path}")]
    MissingPart { part: u16, path: PathBuf },
    /// The path inside the image exists but has no file data to read.
    #[error("path {path:?} in the image is a {kind}, not a regular file")]
    NotAFile { path: String, kind: &'static str },
    /// A valid input this crate cannot handle (yet).
    #[error("not supported yet: {0}")]
    Unsupported(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("operation aborted by progress callback")]
    Aborted,
    #[error("wimlib error {code}: {message}")]
    Library { code: i32, message: String },
}

pub type Result<T> = std::result::Result<T, WimError>;

/// wimlib's own description of an error code.
pub(crate) fn library_message(code: c_int) -> String {
    // SAFETY: wimlib_get_error_string accepts any int and returns either NULL or a
    // pointer to a static NUL-terminated string; it touches no other state.
    let ptr = unsafe { sys::wimlib_get_error_string(code) };
    if ptr.is_null() {
        return format!("unknown wimlib error {code}");
    }
    // SAFETY: non-null, NUL-terminated and static (see above).
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

/// What the caller knows about the failed call, used to fill in typed errors.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ErrorContext<'a> {
    /// The WIM file involved (the one opened, or the handle's backing file).
    pub wim_path: Option<&'a Path>,
    /// Set only for an open call: an OPEN failure on a missing file is `NotFound`.
    pub opening: bool,
    /// (image, image count) when the call was about one image.
    pub image: Option<(u32, u32)>,
    /// The path inside the image the call was about.
    pub image_path: Option<&'a str>,
}

impl ErrorContext<'_> {
    fn wim_path_buf(&self) -> PathBuf {
        self.wim_path
            .map_or_else(|| PathBuf::from("<in-memory WIM>"), Path::to_path_buf)
    }
}

/// Map a non-zero wimlib return code to a `WimError`.
pub(crate) fn from_code(code: c_int, ctx: &ErrorContext<'_>) -> WimError {
    let message = || library_message(code);
    match code {
        sys::WIMLIB_ERR_ABORTED_BY_PROGRESS => WimError::Aborted,
        sys::WIMLIB_ERR_OPEN if ctx.opening => match ctx.wim_path {
            Some(p) if matches!(std::fs::metadata(p), Err(e) if e.kind() == std::io::ErrorKind::NotFound) => {
                WimError::NotFound {
                    path: p.to_path_buf(),
                }
            }
            _ => WimError::Library {
                code,
                message: message(),
            },
        },
        sys::WIMLIB_ERR_NOT_A_WIM_FILE
        | sys::WIMLIB_ERR_INVALID_HEADER
        | sys::WIMLIB_ERR_UNKNOWN_VERSION => WimError::NotAWim {
            path: ctx.wim_path_buf(),
            message: message(),
        },
        sys::WIMLIB_ERR_READ
        | sys::WIMLIB_ERR_UNEXPECTED_END_OF_FILE
        | sys::WIMLIB_ERR_INVALID_LOOKUP_TABLE_ENTRY
        | sys::WIMLIB_ERR_INVALID_RESOURCE_HASH
        | sys::WIMLIB_ERR_DECOMPRESSION
        | sys::WIMLIB_ERR_INVALID_METADATA_RESOURCE
        | sys::WIMLIB_ERR_METADATA_NOT_FOUND
        | sys::WIMLIB_ERR_INTEGRITY
        | sys::WIMLIB_ERR_INVALID_INTEGRITY_TABLE
        | sys::WIMLIB_ERR_IMAGE_COUNT
        | sys::WIMLIB_ERR_XML
        | sys::WIMLIB_ERR_SPLIT_INVALID
        | sys::WIMLIB_ERR_WIM_IS_INCOMPLETE => WimError::Corrupt {
            path: ctx.wim_path_buf(),
            message: message(),
        },
        sys::WIMLIB_ERR_INVALID_IMAGE => {
            let (image, count) = ctx.image.unwrap_or((0, 0));
            WimError::NoSuchImage { image, count }
        }
        sys::WIMLIB_ERR_PATH_DOES_NOT_EXIST => WimError::PathNotInImage {
            path: ctx.image_path.unwrap_or_default().to_owned(),
        },
        _ => WimError::Library {
            code,
            message: message(),
        },
    }
}

/// `Ok(())` for 0, the mapped error otherwise.
pub(crate) fn check(code: c_int, ctx: &ErrorContext<'_>) -> Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(from_code(code, ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_typed_variants() {
        let ctx = ErrorContext {
            image: Some((3, 2)),
            image_path: Some("/x"),
            ..Default::default()
        };
        assert!(matches!(
            from_code(sys::WIMLIB_ERR_NOT_A_WIM_FILE, &ctx),
            WimError::NotAWim { .. }
        ));
        assert!(matches!(
            from_code(sys::WIMLIB_ERR_UNEXPECTED_END_OF_FILE, &ctx),
            WimError::Corrupt { .. }
        ));
        assert!(matches!(
            from_code(sys::WIMLIB_ERR_INVALID_IMAGE, &ctx),
            WimError::NoSuchImage { image: 3, count: 2 }
        ));
        assert!(
            matches!(from_code(sys::WIMLIB_ERR_PATH_DOES_NOT_EXIST, &ctx), WimError::PathNotInImage { path } if path == "/x")
        );
        assert!(matches!(
            from_code(sys::WIMLIB_ERR_ABORTED_BY_PROGRESS, &ctx),
            WimError::Aborted
        ));
        match from_code(39, &ctx) {
            WimError::Library { code, message } => {
                assert_eq!(code, 39);
                assert!(!message.is_empty());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
