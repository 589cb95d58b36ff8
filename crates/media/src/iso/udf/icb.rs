//! File Entries and Extended File Entries (ECMA-167 4/14.9, 4/14.17) and
//! their allocation descriptors, turned into the pieces of a file's bytes.

use crate::MediaError;

use super::super::bytes::{le16, le32, le64, slice, u8_at};
use super::super::source::Source;
use super::super::tree::{MAX_PIECES, Piece, read_pieces};
use super::tag::{self, tag_id, tag_location};
use super::volume::{LbAddr, Volume};

/// Indirect entries and allocation extent descriptors chain; real media use
/// none or a few, so longer chains are treated as loops.
const MAX_INDIRECT: usize = 16;
const MAX_AD_BLOCKS: usize = 4096;

pub(crate) const FILE_TYPE_DIR: u8 = 4;

#[derive(Debug)]
pub(crate) struct Icb {
    pub(crate) file_type: u8,
    pub(crate) size: u64,
    pub(crate) pieces: Vec<Piece>,
}

/// Reads one descriptor block at `at`, checking its tag and location.
fn read_block(
    src: &mut Source,
    vol: &Volume,
    at: LbAddr,
    what: &str,
) -> Result<(u16, Vec<u8>), MediaError> {
    src.charge_block()?;
    let runs = vol.resolve(src, at, vol.block)?;
    let pieces: Vec<Piece> = runs
        .into_iter()
        .map(|(offset, len)| Piece::Disk { offset, len })
        .collect();
    let b = read_pieces(src, &pieces, what)?;
    let id = tag_id(&b)
        .ok_or_else(|| src.corrupt(format!("{what}: bad descriptor tag at block {}", at.lbn)))?;
    if tag_location(&b) != at.lbn {
        return Err(src.corrupt(format!(
            "{what}: descriptor at block {} says it belongs at {}",
            at.lbn,
            tag_location(&b)
        )));
    }
    Ok((id, b))
}

/// Reads the file entry at `at` (following indirect entries).
pub(crate) fn read_icb(
    src: &mut Source,
    vol: &Volume,
    mut at: LbAddr,
    what: &str,
) -> Result<Icb, MediaError> {
    for _ in 0..MAX_INDIRECT {
        let (id, b) = read_block(src, vol, at, what)?;
        let (size, ea_len, ad_len, ad_start) = match id {
            tag::FILE_ENTRY => (le64(&b, 56), le32(&b, 168), le32(&b, 172), 176usize),
            tag::EXT_FILE_ENTRY => (le64(&b, 56), le32(&b, 208), le32(&b, 212), 216usize),
            tag::INDIRECT => {
                at = LbAddr {
                    lbn: le32(&b, 40),
                    part: le16(&b, 44),
                };
                continue;
            }
            other => {
                return Err(src.corrupt(format!(
                    "{what}: expected a file entry, found descriptor {other}"
                )));
            }
        };
        let file_type = u8_at(&b, 16 + 11);
        let flags = le16(&b, 16 + 18);
        let ad_off = ad_start.saturating_add(ea_len as usize);
        let ad_end = ad_off.saturating_add(ad_len as usize);
        if ad_end > b.len() {
            return Err(src.corrupt(format!(
                "{what}: extended attributes ({ea_len}) and allocation descriptors ({ad_len}) overflow the file entry"
            )));
        }
        let area = slice(&b, ad_off, ad_len as usize).to_vec();
        let pieces = match flags & 7 {
            3 => {
                // Small files live inside the entry itself.
                let n = usize::try_from(size)
                    .ok()
                    .filter(|n| *n <= area.len())
                    .ok_or_else(|| {
                        src.corrupt(format!(
                            "{what}: embedded size {size} exceeds the {ad_len} bytes stored"
                        ))
                    })?;
                vec![Piece::Inline(area[..n].to_vec())]
            }
            kind @ (0 | 1) => data_pieces(src, vol, at.part, kind == 1, area, size, what)?,
            other => {
                return Err(src.corrupt(format!(
                    "{what}: allocation descriptor type {other} is not supported"
                )));
            }
        };
        return Ok(Icb {
            file_type,
            size,
            pieces,
        });
    }
    Err(src.corrupt(format!("{what}: more than {MAX_INDIRECT} indirect entries")))
}

/// Walks short (8-byte) or long (16-byte) allocation descriptors, following
/// continuation extents, until `size` bytes are covered.
fn data_pieces(
    src: &mut Source,
    vol: &Volume,
    icb_part: u16,
    long: bool,
    mut area: Vec<u8>,
    size: u64,
    what: &str,
) -> Result<Vec<Piece>, MediaError> {
    let step = if long { 16 } else { 8 };
    let mut pieces = Vec::new();
    let mut left = size;
    let mut chained = 0usize;
    'area: loop {
        let mut pos = 0usize;
        while left > 0 && pos + step <= area.len() {
            let d = slice(&area, pos, step);
            pos += step;
            let raw = le32(d, 0);
            let len = u64::from(raw & 0x3FFF_FFFF);
            if len == 0 {
                break 'area; // a zero length ends the list
            }
            let at = LbAddr {
                lbn: le32(d, 4),
                part: if long { le16(d, 8) } else { icb_part },
            };
            match raw >> 30 {
                3 => {
                    // The rest of the list continues in an allocation extent descriptor.
                    chained += 1;
                    if chained > MAX_AD_BLOCKS {
                        return Err(
                            src.corrupt(format!("{what}: allocation descriptor chain too long"))
                        );
                    }
                    let (id, b) = read_block(src, vol, at, what)?;
                    let n = le32(&b, 20) as usize;
                    if id != tag::ALLOC_EXTENT || 24usize.saturating_add(n) > b.len() {
                        return Err(
                            src.corrupt(format!("{what}: bad allocation extent descriptor"))
                        );
                    }
                    area = slice(&b, 24, n).to_vec();
                    continue 'area;
                }
                kind => {
                    let take = len.min(left);
                    left -= take;
                    if kind == 0 {
                        for (offset, len) in vol.resolve(src, at, take)? {
                            pieces.push(Piece::Disk { offset, len });
                        }
                    } else {
                        // Allocated or not, unrecorded extents read as zeros.
                        pieces.push(Piece::Zero { len: take });
                    }
                    if pieces.len() > MAX_PIECES {
                        return Err(src.corrupt(format!("{what}: more than {MAX_PIECES} extents")));
                    }
                }
            }
        }
        break;
    }
    if left > 0 {
        return Err(src.corrupt(format!(
            "{what}: extents cover {} of {size} bytes",
            size - left
        )));
    }
    Ok(merge(pieces))
}

/// Joins extents that follow each other on disk, so reads can be larger.
fn merge(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for p in pieces {
        if let (
            Some(Piece::Disk {
                offset: o1,
                len: l1,
            }),
            Piece::Disk { offset, len },
        ) = (out.last_mut(), &p)
        {
            if o1.checked_add(*l1) == Some(*offset) {
                *l1 += len;
                continue;
            }
        }
        out.push(p);
    }
    out
}
