//! Conversions of Rust strings and paths into C strings for libwim.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{Result, WimError};

/// A host path as a C string (the raw bytes; libwim on Unix takes them as is).
pub(crate) fn path(p: &Path) -> Result<CString> {
    if p.as_os_str().is_empty() {
        return Err(WimError::InvalidArgument("empty path".to_owned()));
    }
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| WimError::InvalidArgument(format!("path {} contains a NUL byte", p.display())))
}

/// A string argument as a C string; `what` names the argument in the error.
pub(crate) fn text(s: &str, what: &str) -> Result<CString> {
    CString::new(s)
        .map_err(|_| WimError::InvalidArgument(format!("{what} {s:?} contains a NUL byte")))
}
