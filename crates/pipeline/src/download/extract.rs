//! Unpacking a vendor's driver zip. The archive comes from outside, so every entry name is
//! checked before anything is written: nothing may land outside the destination, no link
//! or device is created, and the total written is capped so a small archive cannot fill
//! the disk.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::DownloadError;

/// More entries than any driver package has; stops archives built to exhaust inodes.
const MAX_ENTRIES: usize = 200_000;

/// What a type-sniff of the downloaded file found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Zip,
    /// An archive or installer format we recognise but do not unpack yet.
    Other(&'static str),
    /// Text starting with '<': a vendor's HTML page (a login or an error) served as 200.
    WebPage,
    Unknown,
}

/// Recognise the file by its first bytes; vendor URLs often end in `.php?id=…`.
pub(super) fn sniff(head: &[u8]) -> Kind {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"7z\xBC\xAF\x27\x1C", "7z"),
        (b"Rar!\x1A\x07", "rar"),
        (b"MSCF", "cab"),
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "msi"),
        (b"\x1F\x8B", "gz"),
        (b"MZ", "exe"),
    ];
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Kind::Zip;
    }
    if let Some((_, name)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Kind::Other(name);
    }
    let text = head.trim_ascii_start();
    if text.starts_with(b"<") {
        return Kind::WebPage;
    }
    Kind::Unknown
}

/// Unpack `archive` into the new directory `dest`, writing at most `max_total` bytes.
/// Returns the number of `.inf` files (any case).
pub(super) fn extract_zip(
    url: &str,
    archive: &Path,
    dest: &Path,
    max_total: u64,
    cancel: &AtomicBool,
) -> Result<usize, DownloadError> {
    let io = |path: &Path, source: std::io::Error| DownloadError::Io {
        url: url.to_owned(),
        path: path.to_owned(),
        source,
    };
    let bad_zip = |e: zip::result::ZipError| DownloadError::Archive {
        url: url.to_owned(),
        reason: e.to_string(),
    };
    let file = File::open(archive).map_err(|e| io(archive, e))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(bad_zip)?;
    if zip.len() > MAX_ENTRIES {
        return Err(DownloadError::Archive {
            url: url.to_owned(),
            reason: format!("it has {} entries, more than {MAX_ENTRIES}", zip.len()),
        });
    }
    std::fs::create_dir(dest).map_err(|e| io(dest, e))?;

    let mut written: u64 = 0;
    let mut infs = 0;
    for index in 0..zip.len() {
        if cancel.load(Ordering::Relaxed) {
            return Err(DownloadError::Cancelled {
                url: url.to_owned(),
            });
        }
        let mut entry = zip.by_index(index).map_err(bad_zip)?;
        let name = entry.name().to_owned();
        let refused_entry = |reason: &'static str| DownloadError::UnsafeEntry {
            url: url.to_owned(),
            entry: name.clone(),
            reason,
        };
        let rel = safe_relative_path(&name).map_err(refused_entry)?;
        if let Some(mode) = entry.unix_mode() {
            match mode & 0o170_000 {
                0 | 0o100_000 | 0o040_000 => {}
                0o120_000 => return Err(refused_entry("is a symbolic link")),
                _ => return Err(refused_entry("is a device, pipe or socket")),
            }
        }
        let path = dest.join(&rel);
        if name.ends_with('/') || name.ends_with('\\') {
            std::fs::create_dir_all(&path).map_err(|e| io(&path, e))?;
            continue;
        }
        if entry.size() > max_total - written {
            return Err(DownloadError::ExtractedTooLarge {
                url: url.to_owned(),
                limit: max_total,
            });
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => refused_entry("appears twice"),
                _ => io(&path, e),
            })?;
        let mut out = BufWriter::new(out);
        // The declared size can lie; count what the decompressor actually produces.
        let allowed = max_total - written;
        let copied = std::io::copy(&mut (&mut entry).take(allowed.saturating_add(1)), &mut out)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => {
                    DownloadError::Archive {
                        url: url.to_owned(),
                        reason: format!("entry {name:?}: {e}"),
                    }
                }
                _ => io(&path, e),
            })?;
        if copied > allowed {
            return Err(DownloadError::ExtractedTooLarge {
                url: url.to_owned(),
                limit: max_total,
            });
        }
        written += copied;
        out.flush().map_err(|e| io(&path, e))?;
        let is_inf = rel
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("inf"));
        if is_inf {
            infs += 1;
        }
    }
    Ok(infs)
}

/// The entry name as a relative path below the destination. Backslashes count as
/// separators (archives made on Windows use them), so `..\..\x` is caught as a climb.
fn safe_relative_path(name: &str) -> Result<PathBuf, &'static str> {
    if name.contains('\0') {
        return Err("contains a NUL byte");
    }
    let unified = name.replace('\\', "/");
    if unified.starts_with('/') {
        return Err("is an absolute path");
    }
    let mut rel = PathBuf::new();
    for part in unified.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("climbs out of the archive with '..'"),
            _ if part.contains(':') => return Err("names a drive or a stream with ':'"),
            _ if part.chars().any(char::is_control) => {
                return Err("contains a control character");
            }
            _ => rel.push(part),
        }
    }
    // Belt and braces: whatever was pushed must be plain names only.
    if rel.as_os_str().is_empty() {
        return Err("has an empty name");
    }
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err("is not a plain relative path");
    }
    Ok(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_are_checked() {
        let ok = [
            ("Chipset/heci.inf", "Chipset/heci.inf"),
            ("Chipset\\heci.inf", "Chipset/heci.inf"),
            ("./a//b/", "a/b"),
        ];
        for (name, want) in ok {
            assert_eq!(safe_relative_path(name), Ok(PathBuf::from(want)), "{name}");
        }
        let bad = [
            "../evil.inf",
            "a/../../evil.inf",
            "..\\evil.inf",
            "a\\..\\..\\evil.inf",
            "/etc/passwd",
            "\\\\server\\share\\x.inf",
            "\\evil.inf",
            "C:\\Windows\\evil.inf",
            "C:evil.inf",
            "file.inf:stream",
            "a\0b",
            "a/\u{1b}b",
            "",
            "./",
        ];
        for name in bad {
            assert!(
                safe_relative_path(name).is_err(),
                "{name:?} should be refused"
            );
        }
    }

    #[test]
    fn sniff_tells_formats_apart() {
        assert_eq!(sniff(b"PK\x03\x04rest"), Kind::Zip);
        assert_eq!(sniff(b"PK\x05\x06"), Kind::Zip);
        assert_eq!(sniff(b"7z\xBC\xAF\x27\x1Cxx"), Kind::Other("7z"));
        assert_eq!(sniff(b"MZ\x90\x00"), Kind::Other("exe"));
        assert_eq!(sniff(b"\n  <!DOCTYPE html>"), Kind::WebPage);
        assert_eq!(sniff(b"hello"), Kind::Unknown);
    }
}
