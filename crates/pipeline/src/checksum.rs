//! MD5 and SHA-256 of output files, computed in one read, and the checksum files that
//! `md5sum -c` / `sha256sum -c` accept.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
/// Files at least this big are hashed by two threads (one per algorithm) fed from one
/// read; smaller ones are not worth the threads.
const PARALLEL_FROM: u64 = 32 << 20;

/// Hash a file once for both digests. `on_bytes` sees the running byte count, so a
/// caller can report progress and stop early by returning `false`.
pub fn digest_file(
    path: &Path,
    on_bytes: impl FnMut(u64) -> bool,
) -> Result<FileDigests, PipelineError> {
    let (size, md5, sha256) = hash_twice::<Md5, Sha256>(path, on_bytes)?;
    Ok(FileDigests { size, md5, sha256 })
}

/// Size, SHA-1 (what libwim records per stream) and SHA-256 of a file staged into an
/// image, in one read.
pub(crate) fn staged_digest(path: &Path) -> Result<(u64, String, String), PipelineError> {
    hash_twice::<sha1::Sha1, Sha256>(path, |_| true)
}

/// [`staged_digest`] that ends with `Cancelled` once `cancel` is set (looked at after
/// every MiB read), for inputs that may be large (driver packages, installers).
pub(crate) fn staged_digest_until(
    path: &Path,
    cancel: &AtomicBool,
) -> Result<(u64, String, String), PipelineError> {
    if cancel.load(Ordering::Relaxed) {
        return Err(PipelineError::Cancelled);
    }
    hash_twice::<sha1::Sha1, Sha256>(path, |_| !cancel.load(Ordering::Relaxed))
}

/// Read `path` once and feed every chunk to two hash algorithms. Big files get one
/// thread per algorithm, so the slower hash sets the pace instead of the sum of both.
fn hash_twice<A, B>(
    path: &Path,
    mut on_bytes: impl FnMut(u64) -> bool,
) -> Result<(u64, String, String), PipelineError>
where
    A: Digest + Send,
    B: Digest + Send,
{
    let mut file = File::open(path).map_err(|e| PipelineError::io(path, e))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len < PARALLEL_FROM {
        let (mut a, mut b) = (A::new(), B::new());
        let mut buf = vec![0u8; CHUNK];
        let mut size = 0u64;
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| PipelineError::io(path, e))?;
            if n == 0 {
                break;
            }
            a.update(&buf[..n]);
            b.update(&buf[..n]);
            size += n as u64;
            if !on_bytes(size) {
                return Err(PipelineError::Cancelled);
            }
        }
        return Ok((size, hex::encode(a.finalize()), hex::encode(b.finalize())));
    }
    std::thread::scope(|s| {
        let (tx_a, rx_a) = std::sync::mpsc::sync_channel::<Arc<Vec<u8>>>(4);
        let (tx_b, rx_b) = std::sync::mpsc::sync_channel::<Arc<Vec<u8>>>(4);
        let ha = s.spawn(move || {
            let mut h = A::new();
            for chunk in rx_a {
                h.update(chunk.as_slice());
            }
            hex::encode(h.finalize())
        });
        let hb = s.spawn(move || {
            let mut h = B::new();
            for chunk in rx_b {
                h.update(chunk.as_slice());
            }
            hex::encode(h.finalize())
        });
        let mut size = 0u64;
        let read = loop {
            let mut buf = vec![0u8; CHUNK];
            let n = match file.read(&mut buf) {
                Ok(n) => n,
                Err(e) => break Err(PipelineError::io(path, e)),
            };
            if n == 0 {
                break Ok(());
            }
            buf.truncate(n);
            let chunk = Arc::new(buf);
            // A send fails only if a hasher thread is gone, which cannot happen before
            // its channel closes; the join below would report it.
            let _ = tx_a.send(Arc::clone(&chunk));
            let _ = tx_b.send(chunk);
            size += n as u64;
            if !on_bytes(size) {
                break Err(PipelineError::Cancelled);
            }
        };
        drop((tx_a, tx_b));
        let a = ha.join();
        let b = hb.join();
        read?;
        match (a, b) {
            (Ok(a), Ok(b)) => Ok((size, a, b)),
            _ => Err(PipelineError::Permanent(format!(
                "{}: a hashing thread failed",
                path.display()
            ))),
        }
    })
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
    fn big_files_hashed_in_parallel_match_md5sum_and_sha256sum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let mut data = vec![0u8; (PARALLEL_FROM + 12_345) as usize];
        let mut x: u32 = 7;
        for b in data.iter_mut() {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            *b = (x >> 16) as u8;
        }
        std::fs::write(&path, &data).unwrap();
        let tool = |program: &str| {
            let out = std::process::Command::new(program)
                .arg(&path)
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .next()
                .unwrap()
                .to_string()
        };
        let d = digest_file(&path, |_| true).unwrap();
        assert_eq!(d.size, data.len() as u64);
        assert_eq!(d.md5, tool("md5sum"));
        assert_eq!(d.sha256, tool("sha256sum"));
        let (_, sha1, sha256) = staged_digest(&path).unwrap();
        assert_eq!(sha1, tool("sha1sum"));
        assert_eq!(sha256, d.sha256);
        // Stopping early works on the parallel path too.
        assert!(matches!(
            digest_file(&path, |n| n < (4 << 20)),
            Err(PipelineError::Cancelled)
        ));
    }

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
    fn staged_digest_stops_when_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("driver.cab");
        std::fs::write(&path, vec![3u8; 3 * CHUNK]).unwrap();
        let flag = AtomicBool::new(false);
        assert_eq!(
            staged_digest_until(&path, &flag).unwrap(),
            staged_digest(&path).unwrap()
        );
        flag.store(true, Ordering::Relaxed);
        assert!(matches!(
            staged_digest_until(&path, &flag),
            Err(PipelineError::Cancelled)
        ));
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
