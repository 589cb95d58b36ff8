//! Streaming one file's data out of a WIM without extracting anything.
//!
//! libwim tells where the file's blob lives (`wimlib_resource_entry`); the bytes are
//! then read from the WIM file with plain positioned reads and decompressed chunk by
//! chunk through libwim's public compression API. Layouts handled:
//!
//! * **Uncompressed resource**: the blob's bytes as they are, read in 1 MiB pieces.
//! * **Compressed (non-solid) resource**: a chunk table of `num_chunks - 1` offsets
//!   (4 bytes each, 8 when the blob is larger than 4 GiB), relative to the end of the
//!   table; chunk 0 starts right after it. Chunks have the WIM header's chunk size
//!   (the last may be shorter); a chunk stored with its full size is raw.
//! * **Solid resource**: a 16-byte header (u64 uncompressed size, u32 chunk size,
//!   u32 compression type), then `num_chunks` u32 *compressed sizes*, then the
//!   chunks. Many blobs share one solid resource; the blob is found at its offset in
//!   the uncompressed stream.
//!
//! Pipable WIMs (with chunk headers inline) are refused as `Unsupported`.
//!
//! **Memory** stays bounded: the chunk offsets (8 bytes per chunk of the resource,
//! e.g. 2 MiB for an 8 GiB LZX blob with 32 KiB chunks) plus one compressed and one
//! uncompressed chunk. Non-solid chunks are at most 2 MiB (LZX), but a solid chunk
//! is as large as the solid chunk size: 64 MiB by default for LZMS, so about
//! 128 MiB while reading an ESD, and at most 2 GiB for the largest (2^30) chunks.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

use crate::decompress::Decompressor;
use crate::error::{Result, WimError};
use crate::header;
use crate::sys;
use crate::types::Compression;

/// Size of the pieces an uncompressed resource is read in.
const RAW_PIECE: u64 = 1 << 20;
/// Largest chunk size libwim writes (LZMS); anything larger is refused.
const MAX_CHUNK: u64 = 1 << 30;
const SOLID_HEADER_LEN: u64 = 16;
/// SHA-1 of no bytes.
const EMPTY_SHA1: [u8; 20] = [
    0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b, 0x0d, 0x32, 0x55, 0xbf, 0xef, 0x95, 0x60, 0x18, 0x90,
    0xaf, 0xd8, 0x07, 0x09,
];

/// A reader for one file's data inside a WIM image, made by [`crate::Wim::open_file`].
///
/// It reads the WIM file on its own (it does not use or borrow the `Wim` handle
/// after opening), decompressing one chunk at a time; see the module documentation
/// of the memory bound. When the last byte has been decoded, its SHA-1 is compared
/// with the one recorded in the WIM: a mismatch is an `io::Error` of kind
/// `InvalidData`, returned before any byte of the final piece, and so is any damage
/// found on the way (a truncated WIM gives `UnexpectedEof`). After an error the
/// reader keeps failing.
#[derive(Debug)]
pub struct FileReader {
    file: Option<File>,
    wim_path: PathBuf,
    image_path: String,
    size: u64,
    layout: Layout,
    /// Blob bytes not yet decoded into `buf`.
    unfilled: u64,
    buf: Vec<u8>,
    pos: usize,
    hasher: Sha1,
    expected: [u8; 20],
    failed: bool,
}

#[derive(Debug)]
enum Layout {
    Empty,
    Raw { next: u64 },
    Chunked(Chunks),
}

#[derive(Debug)]
struct Chunks {
    decompressor: Option<Decompressor>,
    chunk_size: u64,
    /// Uncompressed size of the whole resource (the blob, or the solid stream).
    res_size: u64,
    /// File offset where chunk 0 begins.
    data_start: u64,
    /// End of each chunk, relative to `data_start`.
    ends: Vec<u64>,
    next: usize,
    /// Bytes at the start of the next decoded chunk that precede the blob.
    skip: usize,
    cbuf: Vec<u8>,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl FileReader {
    /// Uncompressed size of the file.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Decode the next piece of the blob into `buf`.
    fn fill(&mut self) -> io::Result<()> {
        let Some(file) = &self.file else {
            return Err(invalid("no data file".to_owned()));
        };
        self.pos = 0;
        match &mut self.layout {
            Layout::Empty => return Ok(()),
            Layout::Raw { next } => {
                let n = self.unfilled.min(RAW_PIECE) as usize;
                self.buf.resize(n, 0);
                file.read_exact_at(&mut self.buf, *next)?;
                *next += n as u64;
            }
            Layout::Chunked(c) => {
                let i = c.next;
                let Some(&end) = c.ends.get(i) else {
                    return Err(invalid(format!(
                        "{}: resource ends before the data of {}",
                        self.wim_path.display(),
                        self.image_path
                    )));
                };
                let start = if i == 0 { 0 } else { c.ends[i - 1] };
                let first_byte = i as u64 * c.chunk_size;
                let ulen = c.chunk_size.min(c.res_size - first_byte) as usize;
                let clen = (end - start) as usize;
                self.buf.resize(ulen, 0);
                if clen == ulen {
                    file.read_exact_at(&mut self.buf, c.data_start + start)?;
                } else {
                    c.cbuf.resize(clen, 0);
                    file.read_exact_at(&mut c.cbuf, c.data_start + start)?;
                    let ok = c
                        .decompressor
                        .as_mut()
                        .is_some_and(|d| d.decompress(&c.cbuf, &mut self.buf));
                    if !ok {
                        return Err(invalid(format!(
                            "{}: chunk {i} of the data of {} does not decompress",
                            self.wim_path.display(),
                            self.image_path
                        )));
                    }
                }
                c.next += 1;
                self.pos = c.skip.min(self.buf.len());
                c.skip = 0;
                let wanted = self.pos as u64 + self.unfilled;
                if (self.buf.len() as u64) > wanted {
                    self.buf.truncate(wanted as usize);
                }
            }
        }
        let piece = &self.buf[self.pos..];
        self.hasher.update(piece);
        self.unfilled -= piece.len() as u64;
        if self.unfilled == 0 {
            let got: [u8; 20] = self.hasher.finalize_reset().into();
            if got != self.expected {
                return Err(invalid(format!(
                    "{}: SHA-1 mismatch for {}",
                    self.wim_path.display(),
                    self.image_path
                )));
            }
        }
        Ok(())
    }
}

impl Read for FileReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(invalid(format!(
                "{}: reading {} failed earlier",
                self.wim_path.display(),
                self.image_path
            )));
        }
        if out.is_empty() {
            return Ok(0);
        }
        while self.pos >= self.buf.len() {
            if self.unfilled == 0 {
                return Ok(0);
            }
            if let Err(e) = self.fill() {
                self.failed = true;
                self.buf.clear();
                self.pos = 0;
                return Err(e);
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Everything `open` needs to know besides the resource entry.
pub(crate) struct Target<'a> {
    /// The WIM file (or split part) holding the blob.
    pub wim_file: &'a Path,
    /// The path inside the image, for messages.
    pub image_path: &'a str,
}

fn corrupt(path: &Path, message: String) -> WimError {
    WimError::Corrupt {
        path: path.to_path_buf(),
        message,
    }
}

fn read_at(file: &File, path: &Path, buf: &mut [u8], at: u64) -> Result<()> {
    file.read_exact_at(buf, at).map_err(|e| {
        corrupt(
            path,
            format!("cannot read {} bytes at {at}: {e}", buf.len()),
        )
    })
}

/// Build a reader for the blob described by `res`.
pub(crate) fn open(t: &Target<'_>, res: &sys::wimlib_resource_entry) -> Result<FileReader> {
    let size = res.uncompressed_size;
    let mut reader = FileReader {
        file: None,
        wim_path: t.wim_file.to_path_buf(),
        image_path: t.image_path.to_owned(),
        size,
        layout: Layout::Empty,
        unfilled: size,
        buf: Vec::new(),
        pos: 0,
        hasher: Sha1::new(),
        expected: res.sha1_hash,
        failed: false,
    };
    if size == 0 {
        // An empty stream has no blob (all-zero hash); a zero size with a real hash
        // would be a blob libwim could not describe, and must not read as empty.
        if res.sha1_hash != [0u8; 20] && res.sha1_hash != EMPTY_SHA1 {
            return Err(corrupt(
                t.wim_file,
                format!("no size recorded for the data of {}", t.image_path),
            ));
        }
        return Ok(reader);
    }
    let hdr = header::read(t.wim_file)?;
    if hdr.pipable {
        return Err(WimError::Unsupported(format!(
            "reading file data from the pipable WIM {}",
            t.wim_file.display()
        )));
    }
    let file = File::open(t.wim_file).map_err(|e| header::open_error(t.wim_file, &e))?;
    let file_len = file
        .metadata()
        .map_err(|e| corrupt(t.wim_file, e.to_string()))?
        .len();
    reader.layout = if res.flags & sys::RESOURCE_FLAG_PACKED != 0 {
        Layout::Chunked(solid_layout(&file, t.wim_file, file_len, res)?)
    } else if res.flags & sys::RESOURCE_FLAG_IS_COMPRESSED != 0 {
        Layout::Chunked(chunked_layout(&file, t.wim_file, file_len, &hdr, res)?)
    } else {
        let end = res.offset.checked_add(size);
        if end.is_none_or(|e| e > file_len) {
            return Err(corrupt(
                t.wim_file,
                format!(
                    "resource at {} of {size} bytes lies past the end of the file",
                    res.offset
                ),
            ));
        }
        Layout::Raw { next: res.offset }
    };
    reader.file = Some(file);
    Ok(reader)
}

fn check_chunk_size(path: &Path, chunk_size: u64) -> Result<()> {
    if !chunk_size.is_power_of_two() || chunk_size > MAX_CHUNK {
        return Err(WimError::Unsupported(format!(
            "chunk size {chunk_size} in {}",
            path.display()
        )));
    }
    Ok(())
}

fn decompressor_for(path: &Path, c: Compression, chunk_size: u64) -> Result<Decompressor> {
    Decompressor::new(c, chunk_size as usize).ok_or_else(|| {
        WimError::Unsupported(format!(
            "{c:?} chunks of {chunk_size} bytes in {}",
            path.display()
        ))
    })
}

/// Check that chunk ends grow, that no chunk is larger than its uncompressed size
/// and that the last one ends where the resource does.
fn check_ends(path: &Path, ends: &[u64], chunk_size: u64, res_size: u64, total: u64) -> Result<()> {
    let mut prev = 0u64;
    for (i, &end) in ends.iter().enumerate() {
        let ulen = chunk_size.min(res_size - i as u64 * chunk_size);
        if end < prev || end - prev > ulen || end == prev {
            return Err(corrupt(path, format!("bad chunk table entry {i}")));
        }
        prev = end;
    }
    if prev != total {
        return Err(corrupt(
            path,
            "chunk table does not match the resource size".to_owned(),
        ));
    }
    Ok(())
}

fn chunked_layout(
    file: &File,
    path: &Path,
    file_len: u64,
    hdr: &header::Header,
    res: &sys::wimlib_resource_entry,
) -> Result<Chunks> {
    if hdr.compression == Compression::None {
        return Err(corrupt(
            path,
            "compressed resource in an uncompressed WIM".to_owned(),
        ));
    }
    let chunk_size = u64::from(hdr.chunk_size);
    check_chunk_size(path, chunk_size)?;
    let usize_ = res.uncompressed_size;
    let csize = res.compressed_size;
    if res.offset.checked_add(csize).is_none_or(|e| e > file_len) {
        return Err(corrupt(
            path,
            format!("resource at {} lies past the end of the file", res.offset),
        ));
    }
    let num_chunks = usize_.div_ceil(chunk_size);
    let entry_len: u64 = if usize_ > u64::from(u32::MAX) { 8 } else { 4 };
    let table_len = (num_chunks - 1) * entry_len;
    if table_len >= csize {
        return Err(corrupt(
            path,
            "chunk table larger than its resource".to_owned(),
        ));
    }
    let mut table = vec![0u8; table_len as usize];
    read_at(file, path, &mut table, res.offset)?;
    let mut ends: Vec<u64> = table
        .chunks_exact(entry_len as usize)
        .map(|e| {
            let mut b = [0u8; 8];
            b[..e.len()].copy_from_slice(e);
            u64::from_le_bytes(b)
        })
        .collect();
    ends.push(csize - table_len);
    check_ends(path, &ends, chunk_size, usize_, csize - table_len)?;
    Ok(Chunks {
        decompressor: Some(decompressor_for(path, hdr.compression, chunk_size)?),
        chunk_size,
        res_size: usize_,
        data_start: res.offset + table_len,
        ends,
        next: 0,
        skip: 0,
        cbuf: Vec::new(),
    })
}

fn solid_layout(
    file: &File,
    path: &Path,
    file_len: u64,
    res: &sys::wimlib_resource_entry,
) -> Result<Chunks> {
    let raw_off = res.raw_resource_offset_in_wim;
    let raw_size = res.raw_resource_compressed_size;
    if raw_off.checked_add(raw_size).is_none_or(|e| e > file_len) || raw_size < SOLID_HEADER_LEN {
        return Err(corrupt(
            path,
            format!("solid resource at {raw_off} lies past the end of the file"),
        ));
    }
    let mut h = [0u8; SOLID_HEADER_LEN as usize];
    read_at(file, path, &mut h, raw_off)?;
    let mut u64b = [0u8; 8];
    u64b.copy_from_slice(&h[..8]);
    let res_size = u64::from_le_bytes(u64b);
    let chunk_size = u64::from(u32::from_le_bytes([h[8], h[9], h[10], h[11]]));
    let ctype = u32::from_le_bytes([h[12], h[13], h[14], h[15]]);
    let compression = match ctype {
        1 => Compression::Xpress,
        2 => Compression::Lzx,
        3 => Compression::Lzms,
        other => {
            return Err(WimError::Unsupported(format!(
                "solid resource with compression format {other} in {}",
                path.display()
            )));
        }
    };
    check_chunk_size(path, chunk_size)?;
    if res.raw_resource_uncompressed_size != 0 && res.raw_resource_uncompressed_size != res_size {
        return Err(corrupt(
            path,
            "solid resource header disagrees with the blob table".to_owned(),
        ));
    }
    let blob_end = res.offset.checked_add(res.uncompressed_size);
    if blob_end.is_none_or(|e| e > res_size) {
        return Err(corrupt(
            path,
            "blob lies outside its solid resource".to_owned(),
        ));
    }
    let num_chunks = res_size.div_ceil(chunk_size);
    let table_len = num_chunks * 4;
    if SOLID_HEADER_LEN + table_len > raw_size {
        return Err(corrupt(
            path,
            "solid chunk table larger than its resource".to_owned(),
        ));
    }
    let mut table = vec![0u8; table_len as usize];
    read_at(file, path, &mut table, raw_off + SOLID_HEADER_LEN)?;
    let mut total = 0u64;
    let ends: Vec<u64> = table
        .chunks_exact(4)
        .map(|e| {
            total += u64::from(u32::from_le_bytes([e[0], e[1], e[2], e[3]]));
            total
        })
        .collect();
    check_ends(
        path,
        &ends,
        chunk_size,
        res_size,
        raw_size - SOLID_HEADER_LEN - table_len,
    )?;
    let first = res.offset / chunk_size;
    Ok(Chunks {
        decompressor: Some(decompressor_for(path, compression, chunk_size)?),
        chunk_size,
        res_size,
        data_start: raw_off + SOLID_HEADER_LEN + table_len,
        ends,
        next: first as usize,
        skip: (res.offset % chunk_size) as usize,
        cbuf: Vec::new(),
    })
}
