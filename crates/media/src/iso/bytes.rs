//! Little helpers to read integers out of on-disk structures.
//!
//! They return 0 for offsets past the slice instead of panicking: every parser
//! checks a structure's minimum length before reading its fields, so a 0 here
//! can only come from a bug, never from hostile input turning into a panic.

pub(crate) fn u8_at(b: &[u8], off: usize) -> u8 {
    b.get(off).copied().unwrap_or(0)
}

pub(crate) fn le16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off.saturating_add(2)) {
        Some(&[a, c]) => u16::from_le_bytes([a, c]),
        _ => 0,
    }
}

pub(crate) fn le32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off.saturating_add(4)) {
        Some(&[a, c, d, e]) => u32::from_le_bytes([a, c, d, e]),
        _ => 0,
    }
}

pub(crate) fn le64(b: &[u8], off: usize) -> u64 {
    let lo = u64::from(le32(b, off));
    let hi = u64::from(le32(b, off.saturating_add(4)));
    lo | (hi << 32)
}

/// A sub-slice that is empty when the range does not fit.
pub(crate) fn slice(b: &[u8], off: usize, len: usize) -> &[u8] {
    b.get(off..off.saturating_add(len)).unwrap_or(&[])
}

/// Decodes big-endian UCS-2/UTF-16 (Joliet and UDF 16-bit names); unpaired
/// surrogates become U+FFFD rather than an error, as other readers do.
pub(crate) fn utf16be(b: &[u8]) -> String {
    let units = b.chunks_exact(2).map(|c| match c {
        &[hi, lo] => u16::from_be_bytes([hi, lo]),
        _ => 0,
    });
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// One byte per character (ISO-8859-1), the 8-bit form of UDF names.
pub(crate) fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}
