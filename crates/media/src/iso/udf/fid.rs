//! File Identifier Descriptors: the records of a UDF directory (ECMA-167 4/14.4).

use crate::MediaError;

use super::super::bytes::{le16, le32, slice, u8_at};
use super::super::source::Source;
use super::name::cs0;
use super::tag::{self, tag_id};
use super::volume::LbAddr;

#[derive(Debug)]
pub(crate) struct Fid {
    pub(crate) name: String,
    pub(crate) icb: LbAddr,
}

/// Parses a directory's bytes, skipping the parent link and deleted entries.
pub(crate) fn parse(src: &Source, data: &[u8], dir: &str) -> Result<Vec<Fid>, MediaError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + 38 <= data.len() {
        let d = slice(data, pos, data.len() - pos);
        if tag_id(d) != Some(tag::FILE_ID) {
            return Err(src.corrupt(format!(
                "bad file identifier descriptor at byte {pos} of directory {dir:?}"
            )));
        }
        let chars = u8_at(d, 18);
        let name_len = usize::from(u8_at(d, 19));
        let icb = LbAddr {
            lbn: le32(d, 24),
            part: le16(d, 28),
        };
        let iu_len = usize::from(le16(d, 36));
        let used = 38 + iu_len + name_len;
        if used > d.len() {
            return Err(src.corrupt(format!(
                "file identifier at byte {pos} of directory {dir:?} runs past its end ({used} bytes)"
            )));
        }
        pos += used.div_ceil(4) * 4; // descriptors are padded to 4 bytes
        // Bit 2: deleted, bit 3: the parent directory link.
        if chars & 0x0C != 0 {
            continue;
        }
        let raw = slice(d, 38 + iu_len, name_len);
        let name = cs0(raw).ok_or_else(|| {
            src.corrupt(format!(
                "file identifier in directory {dir:?} has an unknown encoding"
            ))
        })?;
        out.push(Fid { name, icb });
    }
    Ok(out)
}
