//! Streaming content hashes.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{CatalogError, HashedFile, Result};

/// Read size for hashing: large enough to keep syscalls rare on multi-GiB images.
const BUFFER: usize = 1 << 20;

pub(crate) fn hash_file(path: &Path) -> Result<HashedFile> {
    let mut file = std::fs::File::open(path).map_err(|e| CatalogError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUFFER];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CatalogError::io(path, e)),
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
