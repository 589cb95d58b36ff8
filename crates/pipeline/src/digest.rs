//! The image content digest: one SHA-256 that names what an image holds, independent
//! of compression, WIM layout and timestamps.
//!
//! It hashes the sorted list of `path`, kind and data hash (the SHA-1 libwim keeps for
//! every stream) of every entry of the image, so it costs one metadata walk and no data
//! reads. Two builds from the same inputs give the same digest even when one used LZX
//! and the other XPRESS. The one file that differs by design between two builds
//! ([`BUILD_INFO_PATH`], which names the job) is left out.

use std::path::Path;

use sha2::{Digest, Sha256};
use wait_wim::Wim;

use crate::PipelineError;

/// Per-build identity file inside the image (job id, build time); not part of the
/// content digest so that a rebuild with the same inputs gives the same digest.
pub const BUILD_INFO_PATH: &str = "/WAIT/BuildInfo.json";

/// The content digest of image `index` of `wim`. Data added since the WIM was last
/// written has no hash yet, so call it on a written (re-opened) WIM.
pub fn content_digest(wim: &Wim<'_>, index: u32) -> Result<String, PipelineError> {
    let mut entries: Vec<(String, bool, [u8; 20])> = Vec::new();
    wim.for_each_file(index, "/", |f| {
        if f.path != BUILD_INFO_PATH {
            entries.push((f.path.clone(), f.is_directory, f.sha1));
        }
        true
    })
    .map_err(|e| PipelineError::wim("list the image for its content digest", e))?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    for (path, dir, sha1) in &entries {
        h.update(path.as_bytes());
        h.update(if *dir { b"\0d\0" } else { b"\0f\0" });
        h.update(hex::encode(sha1).as_bytes());
        h.update(b"\n");
    }
    Ok(hex::encode(h.finalize()))
}

/// The content digest of image `index` of the WIM file at `path`.
pub fn content_digest_of_file(path: &Path, index: u32) -> Result<String, PipelineError> {
    let wim =
        Wim::open(path).map_err(|e| PipelineError::wim(format!("open {}", path.display()), e))?;
    content_digest(&wim, index)
}
