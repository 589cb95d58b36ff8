//! The 16-byte descriptor tag that starts every UDF descriptor (ECMA-167 3/7.2).

use super::super::bytes::{le16, le32, u8_at};

pub(crate) const PRIMARY_VOLUME: u16 = 1;
pub(crate) const ANCHOR: u16 = 2;
pub(crate) const POINTER: u16 = 3;
pub(crate) const PARTITION: u16 = 5;
pub(crate) const LOGICAL_VOLUME: u16 = 6;
pub(crate) const TERMINATING: u16 = 8;
pub(crate) const FILE_SET: u16 = 256;
pub(crate) const FILE_ID: u16 = 257;
pub(crate) const ALLOC_EXTENT: u16 = 258;
pub(crate) const INDIRECT: u16 = 259;
pub(crate) const FILE_ENTRY: u16 = 261;
pub(crate) const EXT_FILE_ENTRY: u16 = 266;

/// Returns the tag identifier when the tag checksum is right.
///
/// The CRC over the descriptor body is deliberately not verified: the
/// checksum and the recorded location already reject garbage, some writers
/// get the CRC length wrong, and other readers (7-Zip, Linux) are lenient too.
pub(crate) fn tag_id(b: &[u8]) -> Option<u16> {
    if b.len() < 16 {
        return None;
    }
    let sum = b
        .iter()
        .take(16)
        .enumerate()
        .filter(|(i, _)| *i != 4)
        .fold(0u8, |acc, (_, v)| acc.wrapping_add(*v));
    (sum == u8_at(b, 4)).then(|| le16(b, 0))
}

/// The logical block the tag says it was written at.
pub(crate) fn tag_location(b: &[u8]) -> u32 {
    le32(b, 12)
}
