//! The version resource of a PE file (`.exe`): section table → `.rsrc` → RT_VERSION (16)
//! → `VS_VERSIONINFO` → `VS_FIXEDFILEINFO` and the `StringFileInfo` strings.
//!
//! Every offset read from the file is checked against the bytes at hand before use, and
//! walks are bounded (three directory levels, each block strictly advancing), so a damaged
//! or hostile file gives an error, never a panic or a loop. Only the headers and the
//! resource data are read, not the whole file, so large installers cost little.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde::Serialize;

use super::{SoftwareError, SoftwareProblem, err};

/// Largest resource data read.
pub const MAX_RSRC_BYTES: u64 = 32 * 1024 * 1024;
/// Headers must lie within this many bytes of the start.
const MAX_HEADERS: u64 = 64 * 1024;
/// Resource type of version information.
const RT_VERSION: u32 = 16;
/// Entries looked at in one resource directory.
const MAX_DIR_ENTRIES: usize = 4096;

/// What the version resource says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PeVersion {
    /// `x64`, `x86`, `arm64`, `arm` from the COFF header.
    pub machine: Option<&'static str>,
    /// From `VS_FIXEDFILEINFO`: `1.2.3.4`.
    pub fixed_file_version: Option<String>,
    pub fixed_product_version: Option<String>,
    /// From `StringFileInfo`.
    pub product_name: Option<String>,
    pub company_name: Option<String>,
    pub product_version: Option<String>,
    pub file_version: Option<String>,
    pub file_description: Option<String>,
    /// Whether the file had a version resource at all.
    pub has_version_resource: bool,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn bad(message: impl Into<String>) -> SoftwareProblem {
    SoftwareProblem::BadPe(message.into())
}

/// Where the resources are: file offset, size and RVA of the resource directory.
struct Layout {
    machine: Option<&'static str>,
    rsrc: Option<(u64, u32, u32)>,
}

/// Read the headers (`header` = the first bytes of a file of `file_len` bytes).
fn locate(header: &[u8], file_len: u64) -> Result<Layout, SoftwareProblem> {
    if header.get(..2) != Some(b"MZ".as_slice()) {
        return Err(SoftwareProblem::NotPe("no MZ signature".into()));
    }
    let pe = u32_at(header, 0x3C)
        .ok_or_else(|| SoftwareProblem::NotPe("DOS header is truncated".into()))?
        as usize;
    if header.get(pe..pe.saturating_add(4)) != Some(b"PE\0\0".as_slice()) {
        return Err(SoftwareProblem::NotPe(format!(
            "no PE signature at offset {pe:#x}"
        )));
    }
    let truncated = || bad("headers are truncated");
    let machine = match u16_at(header, pe + 4).ok_or_else(truncated)? {
        0x8664 => Some("x64"),
        0x014C => Some("x86"),
        0xAA64 => Some("arm64"),
        0x01C4 => Some("arm"),
        _ => None,
    };
    let sections = usize::from(u16_at(header, pe + 6).ok_or_else(truncated)?);
    let opt_size = usize::from(u16_at(header, pe + 20).ok_or_else(truncated)?);
    let opt = pe + 24;
    let (count_at, dirs_at) = match u16_at(header, opt).ok_or_else(truncated)? {
        0x10B => (opt + 92, opt + 96),
        0x20B => (opt + 108, opt + 112),
        magic => return Err(bad(format!("unknown optional header magic {magic:#x}"))),
    };
    let dir_count = u32_at(header, count_at).ok_or_else(truncated)?;
    let layout = Layout {
        machine,
        rsrc: None,
    };
    if dir_count < 3 || dirs_at + 24 > opt + opt_size {
        return Ok(layout);
    }
    let rva = u32_at(header, dirs_at + 16).ok_or_else(truncated)?;
    let size = u32_at(header, dirs_at + 20).ok_or_else(truncated)?;
    if rva == 0 || size == 0 {
        return Ok(layout);
    }
    let table = opt + opt_size;
    for i in 0..sections.min(96) {
        let s = table + i * 40;
        let vsize = u32_at(header, s + 8).ok_or_else(|| bad("section table is truncated"))?;
        let va = u32_at(header, s + 12).ok_or_else(|| bad("section table is truncated"))?;
        let raw_size = u32_at(header, s + 16).ok_or_else(|| bad("section table is truncated"))?;
        let raw = u32_at(header, s + 20).ok_or_else(|| bad("section table is truncated"))?;
        let span = u64::from(vsize.max(raw_size));
        if u64::from(rva) < u64::from(va) || u64::from(rva) >= u64::from(va) + span {
            continue;
        }
        let offset = u64::from(raw) + u64::from(rva - va);
        if offset + u64::from(size) > file_len {
            return Err(bad(format!(
                "resource directory ({size} bytes at file offset {offset:#x}) points outside the file ({file_len} bytes)"
            )));
        }
        if u64::from(size) > MAX_RSRC_BYTES {
            return Err(SoftwareProblem::TooLarge {
                size: u64::from(size),
                limit: MAX_RSRC_BYTES,
            });
        }
        return Ok(Layout {
            machine,
            rsrc: Some((offset, size, rva)),
        });
    }
    Err(bad(format!(
        "resource directory RVA {rva:#x} lies in no section"
    )))
}

/// The `i`-th entry of the resource directory at `dir`: (name or id, offset field).
fn dir_entries(rsrc: &[u8], dir: usize) -> Result<Vec<(u32, u32)>, SoftwareProblem> {
    let named = u16_at(rsrc, dir + 12).ok_or_else(|| bad("resource directory is truncated"))?;
    let ids = u16_at(rsrc, dir + 14).ok_or_else(|| bad("resource directory is truncated"))?;
    let count = (usize::from(named) + usize::from(ids)).min(MAX_DIR_ENTRIES);
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let at = dir + 16 + i * 8;
        let name = u32_at(rsrc, at).ok_or_else(|| bad("resource directory entry is truncated"))?;
        let data =
            u32_at(rsrc, at + 4).ok_or_else(|| bad("resource directory entry is truncated"))?;
        out.push((name, data));
    }
    Ok(out)
}

/// The bytes of the first RT_VERSION resource, if any. `base_rva` is the RVA of `rsrc`.
fn version_block(rsrc: &[u8], base_rva: u32) -> Result<Option<&[u8]>, SoftwareProblem> {
    const SUBDIR: u32 = 0x8000_0000;
    let types = dir_entries(rsrc, 0)?;
    let Some(&(_, ty)) = types.iter().find(|(name, _)| *name == RT_VERSION) else {
        return Ok(None);
    };
    if ty & SUBDIR == 0 {
        return Err(bad("RT_VERSION entry is not a directory"));
    }
    let names = dir_entries(rsrc, (ty & !SUBDIR) as usize)?;
    let Some(&(_, name)) = names.first() else {
        return Ok(None);
    };
    if name & SUBDIR == 0 {
        return Err(bad("version resource name entry is not a directory"));
    }
    let langs = dir_entries(rsrc, (name & !SUBDIR) as usize)?;
    let Some(&(_, data)) = langs.first() else {
        return Ok(None);
    };
    if data & SUBDIR != 0 {
        return Err(bad(
            "version resource language entry is a directory, not data",
        ));
    }
    let entry = data as usize;
    let rva = u32_at(rsrc, entry).ok_or_else(|| bad("resource data entry is outside .rsrc"))?;
    let size =
        u32_at(rsrc, entry + 4).ok_or_else(|| bad("resource data entry is outside .rsrc"))?;
    let start = rva
        .checked_sub(base_rva)
        .ok_or_else(|| bad(format!("version data RVA {rva:#x} is before .rsrc")))?
        as usize;
    let block = start
        .checked_add(size as usize)
        .and_then(|end| rsrc.get(start..end))
        .ok_or_else(|| {
            bad(format!(
                "version data ({size} bytes at RVA {rva:#x}) is outside .rsrc"
            ))
        })?;
    Ok(Some(block))
}

/// One `VS_VERSIONINFO`-style block: key, value bytes, children bytes.
struct Block<'a> {
    key: String,
    value: &'a [u8],
    text: bool,
    children: &'a [u8],
    /// Length including padding to the next block.
    advance: usize,
}

fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

fn block(b: &[u8]) -> Result<Block<'_>, SoftwareProblem> {
    let len = usize::from(u16_at(b, 0).ok_or_else(|| bad("version block is truncated"))?);
    let value_len = usize::from(u16_at(b, 2).ok_or_else(|| bad("version block is truncated"))?);
    let text = u16_at(b, 4).ok_or_else(|| bad("version block is truncated"))? == 1;
    if len < 6 || len > b.len() {
        return Err(bad(format!(
            "version block length {len} does not fit in {} bytes",
            b.len()
        )));
    }
    let b = &b[..len];
    let mut units = Vec::new();
    let mut at = 6;
    loop {
        let u = u16_at(b, at).ok_or_else(|| bad("version block key is not terminated"))?;
        at += 2;
        if u == 0 {
            break;
        }
        units.push(u);
    }
    let key = String::from_utf16_lossy(&units);
    let value_start = align4(at).min(len);
    let value_bytes = if text {
        value_len.saturating_mul(2)
    } else {
        value_len
    };
    let value_end = value_start.saturating_add(value_bytes).min(len);
    let children_start = align4(value_end).min(len);
    Ok(Block {
        key,
        value: &b[value_start..value_end],
        text,
        children: &b[children_start..],
        advance: align4(len),
    })
}

/// The blocks packed in `b`, one after another.
fn children(mut b: &[u8]) -> Result<Vec<Block<'_>>, SoftwareProblem> {
    let mut out = Vec::new();
    while b.len() >= 6 {
        let blk = block(b)?;
        let advance = blk.advance.min(b.len());
        out.push(blk);
        b = &b[advance..];
    }
    Ok(out)
}

fn utf16_text(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16_lossy(&units)
        .trim_end_matches('\0')
        .trim()
        .to_string()
}

fn dotted(ms: u32, ls: u32) -> String {
    format!("{}.{}.{}.{}", ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF)
}

fn read_version(data: &[u8], out: &mut PeVersion) -> Result<(), SoftwareProblem> {
    let root = block(data)?;
    if root.key != "VS_VERSION_INFO" {
        return Err(bad(format!(
            "version resource key is {:?}, expected VS_VERSION_INFO",
            root.key
        )));
    }
    out.has_version_resource = true;
    let v = root.value;
    if v.len() >= 52 && u32_at(v, 0) == Some(0xFEEF_04BD) {
        let f = |i| u32_at(v, i).unwrap_or(0);
        out.fixed_file_version = Some(dotted(f(8), f(12)));
        out.fixed_product_version = Some(dotted(f(16), f(20)));
    }
    for info in children(root.children)? {
        if info.key != "StringFileInfo" {
            continue;
        }
        for table in children(info.children)? {
            for s in children(table.children)? {
                if !s.text {
                    continue;
                }
                let slot = match s.key.as_str() {
                    "ProductName" => &mut out.product_name,
                    "CompanyName" => &mut out.company_name,
                    "ProductVersion" => &mut out.product_version,
                    "FileVersion" => &mut out.file_version,
                    "FileDescription" => &mut out.file_description,
                    _ => continue,
                };
                let value = utf16_text(s.value);
                if slot.is_none() && !value.is_empty() {
                    *slot = Some(value);
                }
            }
        }
    }
    Ok(())
}

/// Parse the version resource of a whole PE file held in memory.
pub fn parse_pe_version(bytes: &[u8]) -> Result<PeVersion, SoftwareProblem> {
    let header = &bytes[..bytes.len().min(MAX_HEADERS as usize)];
    let layout = locate(header, bytes.len() as u64)?;
    let mut out = PeVersion {
        machine: layout.machine,
        ..PeVersion::default()
    };
    if let Some((offset, size, rva)) = layout.rsrc {
        let start = offset as usize;
        let rsrc = bytes
            .get(start..start + size as usize)
            .ok_or_else(|| bad("resource directory points outside the file"))?;
        if let Some(data) = version_block(rsrc, rva)? {
            read_version(data, &mut out)?;
        }
    }
    Ok(out)
}

/// Read an `.exe`'s version facts: only its headers and resource data are read.
pub(super) fn read_file(path: &Path, file: &str) -> Result<PeVersion, SoftwareError> {
    let io = |e: std::io::Error| err(file, None, SoftwareProblem::Io(e.to_string()));
    let mut handle = std::fs::File::open(path).map_err(io)?;
    let len = handle.metadata().map_err(io)?.len();
    let mut header = Vec::new();
    (&mut handle)
        .take(MAX_HEADERS)
        .read_to_end(&mut header)
        .map_err(io)?;
    let layout = locate(&header, len).map_err(|p| err(file, None, p))?;
    let mut out = PeVersion {
        machine: layout.machine,
        ..PeVersion::default()
    };
    if let Some((offset, size, rva)) = layout.rsrc {
        handle.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut rsrc = Vec::new();
        (&mut handle)
            .take(u64::from(size))
            .read_to_end(&mut rsrc)
            .map_err(io)?;
        let member = Some(".rsrc");
        if let Some(data) = version_block(&rsrc, rva).map_err(|p| err(file, member, p))? {
            read_version(data, &mut out).map_err(|p| err(file, member, p))?;
        }
    }
    Ok(out)
}
