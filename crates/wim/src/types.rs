//! Plain data types of the public API.

use std::path::PathBuf;

use libc::c_int;

use crate::sys;

/// Compression used when writing a WIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Xpress,
    Lzx,
    Lzms,
}

impl Compression {
    /// The chunk sizes libwim accepts for this compression (powers of two), or
    /// `None` for no compression, where a chunk size means nothing.
    pub(crate) fn chunk_size_range(self) -> Option<(u32, u32)> {
        match self {
            Compression::None => None,
            Compression::Xpress => Some((1 << 12, 1 << 16)),
            Compression::Lzx => Some((1 << 15, 1 << 21)),
            Compression::Lzms => Some((1 << 15, 1 << 30)),
        }
    }

    pub(crate) fn to_raw(self) -> c_int {
        match self {
            Compression::None => sys::WIMLIB_COMPRESSION_TYPE_NONE,
            Compression::Xpress => sys::WIMLIB_COMPRESSION_TYPE_XPRESS,
            Compression::Lzx => sys::WIMLIB_COMPRESSION_TYPE_LZX,
            Compression::Lzms => sys::WIMLIB_COMPRESSION_TYPE_LZMS,
        }
    }

    /// libwim only knows these four types, so other values cannot occur; they are
    /// reported as `None` rather than panicking.
    pub(crate) fn from_raw(raw: c_int) -> Compression {
        match raw {
            sys::WIMLIB_COMPRESSION_TYPE_XPRESS => Compression::Xpress,
            sys::WIMLIB_COMPRESSION_TYPE_LZX => Compression::Lzx,
            sys::WIMLIB_COMPRESSION_TYPE_LZMS => Compression::Lzms,
            _ => Compression::None,
        }
    }
}

/// Which image(s) of a WIM an operation applies to. Image numbers are 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSelector {
    All,
    One(u32),
}

/// Header-level information about an open WIM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WimInfo {
    pub guid: [u8; 16],
    pub image_count: u32,
    pub boot_index: u32,
    pub compression: Compression,
    pub chunk_size: u32,
    pub part_number: u16,
    pub total_parts: u16,
    pub has_integrity_table: bool,
}

/// The Windows identity of one image, read from the WIM's XML.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageInfo {
    pub index: u32,
    pub name: Option<String>,
    pub description: Option<String>,
    pub display_name: Option<String>,
    pub flags: Option<String>,
    /// WINDOWS/ARCH: 0 x86, 9 x64, 12 arm64.
    pub arch: Option<u32>,
    pub product_name: Option<String>,
    pub edition_id: Option<String>,
    pub installation_type: Option<String>,
    /// (MAJOR, MINOR, BUILD, SPBUILD)
    pub version: Option<(u32, u32, u32, u32)>,
    pub languages: Vec<String>,
    pub default_language: Option<String>,
    pub total_bytes: Option<u64>,
    pub file_count: Option<u64>,
    pub dir_count: Option<u64>,
}

/// `FILE_ATTRIBUTE_DIRECTORY`, the bit of [`FileEntry::attributes`] that marks a directory.
pub const FILE_ATTRIBUTE_DIRECTORY: u32 = sys::WIMLIB_FILE_ATTRIBUTE_DIRECTORY;

/// One file or directory inside an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Path inside the image, '/'-separated, starting with '/'.
    pub path: String,
    pub size: u64,
    /// SHA-1 of the unnamed data stream (all zeros for directories / empty files).
    pub sha1: [u8; 20],
    /// FILE_ATTRIBUTE_* bits.
    pub attributes: u32,
    pub is_directory: bool,
}

/// One change to an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateCommand {
    /// Add a file or a directory tree from the host at `target` inside the image.
    Add { source: PathBuf, target: String },
    /// Delete a file or directory (recursively) inside the image.
    Delete { path: String },
    /// Rename / move inside the image.
    Rename { from: String, to: String },
}

/// Options for `Wim::write` / `Wim::overwrite` / `Wim::split`.
///
/// The default keeps the compression and chunk size, lets libwim pick the thread
/// count, writes no integrity table, does not recompress, writes no solid resources,
/// and makes `overwrite` rebuild the whole file (`rebuild: true`, the behaviour
/// `overwrite` always had). Settings made here stay on the handle for later writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// Compression of the output; `None` keeps the WIM's current setting (with
    /// `solid`, `None` means LZMS, as for an ESD).
    pub compression: Option<Compression>,
    /// 0 = libwim picks (one per core).
    pub threads: u32,
    pub check_integrity: bool,
    /// Recompress data even when it is already compressed in the source.
    pub recompress: bool,
    /// Write file data as solid resources (an ESD-style WIM when the compression is
    /// LZMS). Solid output cannot use `Compression::None`; `split` refuses it.
    pub solid: bool,
    /// Compression chunk size: a power of two in the range of the compression
    /// (XPRESS 2^12..=2^16, LZX 2^15..=2^21, LZMS 2^15..=2^30). With `solid` it is
    /// the solid chunk size, otherwise the chunk size of ordinary resources. `None`
    /// keeps the current setting (libwim's default unless changed before).
    pub chunk_size: Option<u32>,
    /// `overwrite` only: `true` writes a complete new file and renames it over the
    /// original; `false` appends new data in place and leaves space of deleted data
    /// unused (faster, but the file does not shrink). libwim may rebuild anyway when
    /// appending is impossible (e.g. a compression change).
    pub rebuild: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            compression: None,
            threads: 0,
            check_integrity: false,
            recompress: false,
            solid: false,
            chunk_size: None,
            rebuild: true,
        }
    }
}
