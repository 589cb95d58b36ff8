//! Finding a UDF volume: volume recognition sequence, anchor, volume
//! descriptor sequence, partitions and the logical volume (ECMA-167 parts 2-3).

use crate::MediaError;

use super::super::bytes::{le16, le32, slice, u8_at};
use super::super::source::Source;
use super::name::dstring;
use super::tag::{self, tag_id, tag_location};

/// Block sizes tried for the anchor: optical media use 2048, disk images 512.
const BLOCK_SIZES: [u64; 4] = [2048, 512, 1024, 4096];
/// Bounds on the descriptor sequence, which is a handful of blocks in practice.
const MAX_VDS_BLOCKS: u64 = 256;
const MAX_VDS_POINTERS: usize = 8;
const MAX_PARTITION_MAPS: u32 = 64;

/// A logical block address: block `lbn` of partition map `part`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct LbAddr {
    pub(crate) part: u16,
    pub(crate) lbn: u32,
}

/// One partition map of the logical volume, resolved to where its blocks are.
#[derive(Debug)]
pub(crate) enum Map {
    /// Type 1 (and sparable, whose sparing only matters on rewritable discs):
    /// `len` blocks starting at absolute block `start`.
    Physical { number: u16, start: u64, len: u64 },
    /// UDF 2.50+ metadata partition: its blocks live where the metadata
    /// file's extents say, as (metadata block, absolute block, block count).
    Metadata { extents: Vec<(u64, u64, u64)> },
    /// A metadata map whose file is being read (only during setup).
    Pending { number: u16, file: u32, mirror: u32 },
}

#[derive(Debug)]
pub(crate) struct Volume {
    pub(crate) block: u64,
    pub(crate) maps: Vec<Map>,
    pub(crate) file_set: LbAddr,
    pub(crate) label: String,
    pub(crate) revision: u16,
}

/// Whether the volume recognition sequence announces a UDF (NSR) volume.
pub(crate) fn has_nsr(src: &mut Source) -> Result<bool, MediaError> {
    // Descriptors sit every 2048 bytes from byte 32768, mixed with ISO 9660's.
    for i in 0..64u64 {
        let off = 32768 + i * 2048;
        if off + 2048 > src.size {
            break;
        }
        let mut id = [0u8; 6];
        src.read_at(off, &mut id, "volume recognition sequence")?;
        match &id[1..6] {
            b"NSR02" | b"NSR03" => return Ok(true),
            b"CD001" | b"BEA01" | b"BOOT2" | b"CDW02" => {}
            // With 4096-byte blocks the descriptors are 4096 apart: skip gaps.
            [0, 0, 0, 0, 0] => {}
            // TEA01 ends the extended area; anything else means the sequence ended.
            _ => break,
        }
    }
    Ok(false)
}

impl Volume {
    pub(crate) fn find(src: &mut Source) -> Result<Self, MediaError> {
        let (block, anchor) = find_anchor(src)?;
        let main = (u64::from(le32(&anchor, 20)), u64::from(le32(&anchor, 16)));
        let reserve = (u64::from(le32(&anchor, 28)), u64::from(le32(&anchor, 24)));
        match Self::from_sequence(src, block, main) {
            Ok(v) => Ok(v),
            // The reserve copy exists for exactly this case.
            Err(first) => Self::from_sequence(src, block, reserve).map_err(|_| first),
        }
    }

    fn from_sequence(
        src: &mut Source,
        block: u64,
        (mut loc, mut len): (u64, u64),
    ) -> Result<Self, MediaError> {
        let mut partitions: Vec<(u16, u64, u64)> = Vec::new();
        let mut lvd: Option<Vec<u8>> = None;
        let mut pvd_label = String::new();
        let mut pointers = 0;
        let mut seen = 0u64;
        'seq: loop {
            let blocks = len / block;
            for i in 0..blocks {
                seen += 1;
                if seen > MAX_VDS_BLOCKS {
                    return Err(src.corrupt("UDF volume descriptor sequence too long"));
                }
                let lbn = loc.saturating_add(i);
                let off = lbn
                    .checked_mul(block)
                    .ok_or_else(|| src.corrupt("descriptor location overflows"))?;
                let d = src.read_vec(off, block, "UDF volume descriptor")?;
                match tag_id(&d) {
                    Some(tag::PRIMARY_VOLUME) => pvd_label = dstring(slice(&d, 24, 32)),
                    Some(tag::PARTITION) => partitions.push((
                        le16(&d, 22),
                        u64::from(le32(&d, 188)),
                        u64::from(le32(&d, 192)),
                    )),
                    Some(tag::LOGICAL_VOLUME) => lvd = Some(d),
                    Some(tag::POINTER) => {
                        pointers += 1;
                        if pointers > MAX_VDS_POINTERS {
                            return Err(src.corrupt("too many UDF volume descriptor pointers"));
                        }
                        len = u64::from(le32(&d, 20));
                        loc = u64::from(le32(&d, 24));
                        continue 'seq;
                    }
                    Some(tag::TERMINATING) | None => break 'seq,
                    Some(_) => {}
                }
            }
            break;
        }
        let lvd =
            lvd.ok_or_else(|| src.corrupt("UDF volume without a logical volume descriptor"))?;
        let lv_block = u64::from(le32(&lvd, 212));
        if lv_block != block {
            return Err(src.corrupt(format!(
                "UDF logical block size {lv_block} differs from the anchor's {block}"
            )));
        }
        let mut label = dstring(slice(&lvd, 84, 128));
        if label.is_empty() {
            label = pvd_label;
        }
        // The domain identifier suffix starts with the UDF revision (e.g. 0x0102).
        let revision = le16(&lvd, 216 + 24);
        let file_set = LbAddr {
            lbn: le32(&lvd, 252),
            part: le16(&lvd, 256),
        };

        let table_len = le32(&lvd, 264) as usize;
        let count = le32(&lvd, 268);
        if count > MAX_PARTITION_MAPS || 440 + table_len > lvd.len() {
            return Err(src.corrupt(format!(
                "UDF partition map table ({count} maps, {table_len} bytes)"
            )));
        }
        let table = slice(&lvd, 440, table_len);
        let mut maps = Vec::new();
        let mut pos = 0usize;
        for _ in 0..count {
            let kind = u8_at(table, pos);
            let mlen = usize::from(u8_at(table, pos + 1));
            let m = slice(table, pos, mlen);
            if mlen < 6 || m.len() != mlen {
                return Err(src.corrupt("UDF partition map runs past its table"));
            }
            pos += mlen;
            let physical = |number: u16| -> Result<Map, MediaError> {
                let &(_, start, plen) =
                    partitions.iter().find(|p| p.0 == number).ok_or_else(|| {
                        src.corrupt(format!("UDF partition {number} has no descriptor"))
                    })?;
                let end = start.saturating_add(plen).saturating_mul(block);
                if end > src.size {
                    return Err(MediaError::Truncated {
                        path: src.name.clone(),
                        what: format!("UDF partition {number}"),
                        needed: end,
                        size: src.size,
                    });
                }
                Ok(Map::Physical {
                    number,
                    start,
                    len: plen,
                })
            };
            match (kind, mlen) {
                (1, 6) => maps.push(physical(le16(m, 4))?),
                (2, 64) => {
                    let ident = slice(m, 5, 23);
                    let number = le16(m, 38);
                    if ident.starts_with(b"*UDF Sparable Partition") {
                        maps.push(physical(number)?);
                    } else if ident.starts_with(b"*UDF Metadata Partition") {
                        // Checked now so a missing descriptor is reported early.
                        let _ = physical(number)?;
                        maps.push(Map::Pending {
                            number,
                            file: le32(m, 40),
                            mirror: le32(m, 44),
                        });
                    } else {
                        return Err(src.corrupt(format!(
                            "unsupported UDF partition map {:?}",
                            String::from_utf8_lossy(ident).trim_end_matches('\0')
                        )));
                    }
                }
                _ => {
                    return Err(
                        src.corrupt(format!("UDF partition map of type {kind}, length {mlen}"))
                    );
                }
            }
        }
        let mut vol = Volume {
            block,
            maps,
            file_set,
            label,
            revision,
        };
        vol.load_metadata(src)?;
        Ok(vol)
    }

    /// Reads the metadata file of each metadata map (or its mirror when the
    /// main copy is damaged) to learn where the metadata blocks are.
    fn load_metadata(&mut self, src: &mut Source) -> Result<(), MediaError> {
        for i in 0..self.maps.len() {
            let Some(&Map::Pending {
                number,
                file,
                mirror,
            }) = self.maps.get(i)
            else {
                continue;
            };
            // The metadata file lives in the type 1 map of the same partition.
            let physical = self
                .maps
                .iter()
                .position(|m| matches!(m, Map::Physical { number: n, .. } if *n == number))
                .ok_or_else(|| {
                    src.corrupt(format!("UDF metadata partition {number} has no type 1 map"))
                })?;
            let part =
                u16::try_from(physical).map_err(|_| src.corrupt("metadata partition map"))?;
            let mut result = self.metadata_extents(src, LbAddr { part, lbn: file });
            if result.is_err() {
                if let Ok(m) = self.metadata_extents(src, LbAddr { part, lbn: mirror }) {
                    result = Ok(m);
                }
            }
            self.maps[i] = Map::Metadata { extents: result? };
        }
        Ok(())
    }

    fn metadata_extents(
        &self,
        src: &mut Source,
        at: LbAddr,
    ) -> Result<Vec<(u64, u64, u64)>, MediaError> {
        let icb = super::icb::read_icb(src, self, at, "UDF metadata file")?;
        let mut extents = Vec::new();
        let mut meta_block = 0u64;
        for p in icb.pieces {
            match p {
                super::super::tree::Piece::Disk { offset, len } => {
                    let blocks = len.div_ceil(self.block);
                    extents.push((meta_block, offset / self.block, blocks));
                    meta_block += blocks;
                }
                super::super::tree::Piece::Zero { len } => meta_block += len.div_ceil(self.block),
                super::super::tree::Piece::Inline(_) => {
                    return Err(src.corrupt("UDF metadata file stored inline"));
                }
            }
        }
        Ok(extents)
    }

    /// Where `len` bytes starting at logical block `at` are, as absolute
    /// (byte offset, length) runs.
    pub(crate) fn resolve(
        &self,
        src: &Source,
        at: LbAddr,
        len: u64,
    ) -> Result<Vec<(u64, u64)>, MediaError> {
        let map = self.maps.get(usize::from(at.part)).ok_or_else(|| {
            src.corrupt(format!(
                "UDF partition reference {} does not exist",
                at.part
            ))
        })?;
        let blocks = len.div_ceil(self.block);
        match map {
            Map::Physical {
                start, len: plen, ..
            } => {
                if u64::from(at.lbn).saturating_add(blocks) > *plen {
                    return Err(src.corrupt(format!(
                        "UDF extent at block {} (+{blocks}) lies past the end of its partition ({plen} blocks)",
                        at.lbn
                    )));
                }
                Ok(vec![((start + u64::from(at.lbn)) * self.block, len)])
            }
            Map::Metadata { extents } => {
                let mut out = Vec::new();
                let mut block = u64::from(at.lbn);
                let mut left = len;
                while left > 0 {
                    // Extents are in metadata-block order: binary search.
                    let idx = extents.partition_point(|(m0, _, _)| *m0 <= block);
                    let &(m0, p0, n) = idx
                        .checked_sub(1)
                        .and_then(|i| extents.get(i))
                        .filter(|(m0, _, n)| block < m0 + n)
                        .ok_or_else(|| {
                            src.corrupt(format!("UDF metadata block {block} is not mapped"))
                        })?;
                    let run = ((m0 + n - block) * self.block).min(left);
                    out.push(((p0 + block - m0) * self.block, run));
                    left -= run;
                    block += run.div_ceil(self.block);
                }
                Ok(out)
            }
            Map::Pending { .. } => Err(src.corrupt("UDF metadata partition refers to itself")),
        }
    }
}

/// Looks for an anchor volume descriptor pointer at block 256, then N-256 and
/// N-1, for each plausible block size.
fn find_anchor(src: &mut Source) -> Result<(u64, Vec<u8>), MediaError> {
    for block in BLOCK_SIZES {
        let n = src.size / block;
        for lbn in [256, n.saturating_sub(256), n.saturating_sub(1)] {
            if lbn < 256 || (lbn + 1) * block > src.size {
                continue;
            }
            let d = src.read_vec(lbn * block, 512, "UDF anchor")?;
            if tag_id(&d) == Some(tag::ANCHOR) && u64::from(tag_location(&d)) == lbn {
                return Ok((block, d));
            }
        }
    }
    Err(src.corrupt("UDF recognition sequence present but no anchor volume descriptor found"))
}
