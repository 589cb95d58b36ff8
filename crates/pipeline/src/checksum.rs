//! MD5 and SHA-256 of output files, computed in one read, and the checksum files that
//! `md5sum -c` / `sha256sum -c` accept.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::PipelineError;

/// Both digests of one file, lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileDigests {
    pub size: u64,
    pub md5: String,
    pub sha256: String,
}

const CHUNK: usize = 1 << 20;

/// Hash a file once for both digests. `on_bytes` sees the running byte count, so a
/// caller can report progress and stop early by returning `false`.
pub fn digest_file(
    path: &Path,
    mut on_bytes: impl FnMut(u64) -> bool,
) -> Result<FileDigests, PipelineError> {
    let mut file = File::open(path).map_err(|e| PipelineError::io(path, e))?;
    let mut md5 = Md5::new();
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| PipelineError::io(path, e))?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
        sha.update(&buf[..n]);
        size += n as u64;
        if !on_bytes(size) {
            return Err(PipelineError::Cancelled);
        }
    }
    Ok(FileDigests {
        size,
        md5: hex::encode(md5.finalize()),
        sha256: hex::encode(sha.finalize()),
    })
}

/// Size, SHA-1 (what libwim records per stream) and SHA-256 of a file staged into an
/// image, in one read.
pub(crate) fn staged_digest(path: &Path) -> Result<(u64, String, String), PipelineError> {
    use sha1::Sha1;
    let mut file = File::open(path).map_err(|e| PipelineError::io(path, e))?;
    let mut s1 = Sha1::new();
    let mut s256 = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| PipelineError::io(path, e))?;
        if n == 0 {
            break;
        }
        s1.update(&buf[..n]);
        s256.update(&buf[..n]);
        size += n as u64;
    }
    Ok((
        size,
        hex::encode(s1.finalize()),
        hex::encode(s256.finalize()),
    ))
}

/// Write `checksum.md5` and `checksum.sha256` into `dir`, one `<hash> *<name>` line per
/// file (binary-mode marker, as the seed's format and `md5sum -c` expect).
pub fn write_checksum_files(
    dir: &Path,
    files: &[(String, FileDigests)],
) -> Result<(), PipelineError> {
    let mut md5_text = String::new();
    let mut sha_text = String::new();
    for (name, digests) in files {
        md5_text.push_str(&format!("{} *{}\n", digests.md5, name));
        sha_text.push_str(&format!("{} *{}\n", digests.sha256, name));
    }
    write_synced(&dir.join("checksum.md5"), md5_text.as_bytes())?;
    write_synced(&dir.join("checksum.sha256"), sha_text.as_bytes())
}

/// Parse a checksum file written by `write_checksum_files` (or by md5sum/sha256sum).
pub(crate) fn read_checksum_file(path: &Path) -> Result<Vec<(String, String)>, PipelineError> {
    let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((hash, rest)) = line.split_once(' ') else {
            return Err(PipelineError::Validation(format!(
                "{}: line {} is not '<hash> *<file>'",
                path.display(),
                n + 1
            )));
        };
        let name = rest.trim_start_matches([' ', '*']);
        out.push((name.to_string(), hash.to_ascii_lowercase()));
    }
    Ok(out)
}

/// Write a small file and flush it to disk before the folder is published.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), PipelineError> {
    let mut file = File::create(path).map_err(|e| PipelineError::io(path, e))?;
    file.write_all(bytes)
        .map_err(|e| PipelineError::io(path, e))?;
    file.sync_all().map_err(|e| PipelineError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        let d = digest_file(&path, |_| true).unwrap();
        assert_eq!(d.size, 3);
        assert_eq!(d.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn checksum_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("install.wim");
        std::fs::write(&path, vec![7u8; 3_000_000]).unwrap();
        let d = digest_file(&path, |_| true).unwrap();
        write_checksum_files(dir.path(), &[("install.wim".into(), d.clone())]).unwrap();
        let md5 = read_checksum_file(&dir.path().join("checksum.md5")).unwrap();
        assert_eq!(md5, vec![("install.wim".to_string(), d.md5)]);
        let status = std::process::Command::new("md5sum")
            .args(["-c", "--quiet", "checksum.md5"])
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[test]
    fn stopping_early_reports_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        std::fs::write(&path, vec![1u8; 3 * CHUNK]).unwrap();
        let err = digest_file(&path, |n| n < CHUNK as u64).unwrap_err();
        assert!(matches!(err, PipelineError::Cancelled));
    }

    #[test]
    fn malformed_checksum_line_is_a_validation_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checksum.md5");
        std::fs::write(&path, "nohashhere\n").unwrap();
        assert!(matches!(
            read_checksum_file(&path),
            Err(PipelineError::Validation(_))
        ));
    }
}
