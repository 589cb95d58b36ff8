//! Streaming content hashes.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use crate::hash_cache::HashStop;
use crate::{CatalogError, HashedFile, Result};

/// Read size for hashing: large enough to keep syscalls rare on multi-GiB images, small
/// enough that a cancel flag looked at once per read is seen within milliseconds.
const BUFFER: usize = 1 << 20;

pub(crate) fn hash_file(path: &Path) -> Result<HashedFile> {
    let never = AtomicBool::new(false);
    hash_file_until(path, &never).map_err(|stop| stop.into_error(path))
}

/// Hash `path`, giving up with [`HashStop::Cancelled`] as soon as `cancel` is set. The
/// flag is looked at before every read of [`BUFFER`] bytes, so a cancel on a cold
/// multi-GiB base image is noticed after at most one more MiB.
pub(crate) fn hash_file_until(
    path: &Path,
    cancel: &AtomicBool,
) -> std::result::Result<HashedFile, HashStop> {
    let mut file = std::fs::File::open(path).map_err(|e| CatalogError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUFFER];
    let mut size = 0u64;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(HashStop::Cancelled);
        }
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CatalogError::io(path, e).into()),
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok(HashedFile {
        path: path.to_path_buf(),
        sha256: hex::encode(hasher.finalize()),
        size,
    })
}
