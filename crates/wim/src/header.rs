//! Reading the fixed WIM header of a file directly (without libwim).
//!
//! Split sets and the stream reader need facts about files libwim has not opened
//! for us (or whose handles it keeps private): the part number, the set's GUID, and
//! the compression and chunk size of the part a resource lives in.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Result, WimError};
use crate::types::Compression;

const MAGIC: &[u8; 8] = b"MSWIM\0\0\0";
const PIPABLE_MAGIC: &[u8; 8] = b"WLPWM\0\0\0";

// Header flags (WIM_HDR_FLAG_*) that name the compression of ordinary resources.
const FLAG_COMPRESSION: u32 = 0x0000_0002;
const FLAG_COMPRESS_XPRESS: u32 = 0x0002_0000;
const FLAG_COMPRESS_LZX: u32 = 0x0004_0000;
const FLAG_COMPRESS_LZMS: u32 = 0x0008_0000;
// Old wimlib versions marked solid XPRESS WIMs this way.
const FLAG_COMPRESS_XPRESS_2: u32 = 0x0020_0000;

/// The parts of the on-disk header this crate uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub pipable: bool,
    pub compression: Compression,
    pub chunk_size: u32,
    pub guid: [u8; 16],
    pub part_number: u16,
    pub total_parts: u16,
}

fn corrupt(path: &Path, message: impl Into<String>) -> WimError {
    WimError::Corrupt {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Decode the first 48 bytes of a WIM file.
pub(crate) fn parse(path: &Path, b: &[u8; 48]) -> Result<Header> {
    let pipable = &b[..8] == PIPABLE_MAGIC;
    if !pipable && &b[..8] != MAGIC {
        return Err(WimError::NotAWim {
            path: path.to_path_buf(),
            message: "bad magic".to_owned(),
        });
    }
    let flags = u32_at(b, 16);
    let compression = if flags & FLAG_COMPRESSION == 0 {
        Compression::None
    } else if flags & FLAG_COMPRESS_LZMS != 0 {
        Compression::Lzms
    } else if flags & FLAG_COMPRESS_LZX != 0 {
        Compression::Lzx
    } else if flags & (FLAG_COMPRESS_XPRESS | FLAG_COMPRESS_XPRESS_2) != 0 {
        Compression::Xpress
    } else {
        return Err(corrupt(path, "compressed WIM without a compression type"));
    };
    let mut guid = [0u8; 16];
    guid.copy_from_slice(&b[24..40]);
    Ok(Header {
        pipable,
        compression,
        chunk_size: u32_at(b, 20),
        guid,
        part_number: u16_at(b, 40),
        total_parts: u16_at(b, 42),
    })
}

/// Read and decode the header of the WIM file at `path`.
pub(crate) fn read(path: &Path) -> Result<Header> {
    let mut file = File::open(path).map_err(|e| open_error(path, &e))?;
    let mut b = [0u8; 48];
    file.read_exact(&mut b)
        .map_err(|e| corrupt(path, format!("cannot read the header: {e}")))?;
    parse(path, &b)
}

/// `NotFound` for a missing file, `InvalidArgument` for other open failures.
pub(crate) fn open_error(path: &Path, e: &std::io::Error) -> WimError {
    if e.kind() == std::io::ErrorKind::NotFound {
        WimError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        WimError::InvalidArgument(format!("{}: {e}", path.display()))
    }
}

/// The file name libwim gives part `n` of a split set whose first part is `first`:
/// the number goes before the last extension ("install.swm" → "install2.swm"), or at
/// the end when there is none ("set" → "set2"). Part 1 is `first` itself.
pub(crate) fn part_path(first: &Path, n: u16) -> PathBuf {
    if n == 1 {
        return first.to_path_buf();
    }
    // OsString keeps names that are not UTF-8 intact.
    let mut name = first.file_stem().unwrap_or_default().to_os_string();
    name.push(n.to_string());
    if let Some(ext) = first.extension() {
        name.push(".");
        name.push(ext);
    }
    first.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_follow_libwim() {
        let p = Path::new("/a.b/install.swm");
        assert_eq!(part_path(p, 1), Path::new("/a.b/install.swm"));
        assert_eq!(part_path(p, 2), Path::new("/a.b/install2.swm"));
        assert_eq!(
            part_path(Path::new("x/install.x.swm"), 12),
            Path::new("x/install.x12.swm")
        );
        assert_eq!(part_path(Path::new("x/noext"), 3), Path::new("x/noext3"));
    }

    #[test]
    fn bad_magic_is_not_a_wim() {
        let b = [0u8; 48];
        assert!(matches!(
            parse(Path::new("x"), &b),
            Err(WimError::NotAWim { .. })
        ));
    }
}
