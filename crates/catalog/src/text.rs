//! Turning the bytes of a Windows text file (INF, pkgProperties, manifests) into a string.
//!
//! Windows tools write text as UTF-16LE (usually with a byte order mark), UTF-8 (with or
//! without one) or the legacy "ANSI" code page, which on the machines that produce these
//! files is Windows-1252. The order of the checks below follows from that: a byte order
//! mark decides; then a NUL pattern typical of UTF-16LE; then valid UTF-8; and anything else
//! is read as Windows-1252, which maps every byte to some character and so never fails.

use serde::Serialize;

/// The encoding a text file was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16LeBom,
    Utf16BeBom,
    Windows1252,
}

/// Decode `bytes` as described in the module documentation. UTF-16 code units that do not
/// form characters (lone surrogates) become U+FFFD rather than an error: the parsers that
/// follow only care about ASCII syntax, and a replacement character in a description is
/// better than refusing the whole file.
pub(crate) fn decode(bytes: &[u8]) -> (String, TextEncoding) {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return (utf16(rest, u16::from_le_bytes), TextEncoding::Utf16LeBom);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return (utf16(rest, u16::from_be_bytes), TextEncoding::Utf16BeBom);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return match std::str::from_utf8(rest) {
            Ok(s) => (s.to_string(), TextEncoding::Utf8Bom),
            // A UTF-8 mark followed by invalid UTF-8: keep the text readable anyway.
            Err(_) => (
                String::from_utf8_lossy(rest).into_owned(),
                TextEncoding::Utf8Bom,
            ),
        };
    }
    if looks_like_utf16le(bytes) {
        return (utf16(bytes, u16::from_le_bytes), TextEncoding::Utf16Le);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), TextEncoding::Utf8),
        Err(_) => (windows_1252(bytes), TextEncoding::Windows1252),
    }
}

/// UTF-16LE without a byte order mark: text of these files is nearly all ASCII, so in
/// UTF-16LE every second byte is zero and the others are not. Look at the first 512
/// bytes and require that pattern for at least 90% of the code units.
fn looks_like_utf16le(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(512)];
    let units = sample.len() / 2;
    if units < 2 {
        return false;
    }
    let ascii_like = sample
        .chunks_exact(2)
        .filter(|pair| pair[0] != 0 && pair[1] == 0)
        .count();
    ascii_like * 10 >= units * 9
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    // An odd trailing byte cannot be part of a code unit; it is dropped.
    let units = bytes.chunks_exact(2).map(|p| unit([p[0], p[1]]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Windows-1252: like Latin-1 except 0x80–0x9F, which hold typographic characters. The
/// five bytes the code page leaves undefined map to the C1 control of the same value, as
/// browsers do.
fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}',
        '\u{017D}', '\u{008F}', '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}',
        '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}',
        '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// Where decoded text holds something no text file has: the 1-based line and the
/// character. NUL, and C0 controls other than tab, line feed, carriage return and form
/// feed, mark a binary file. Ctrl-Z (0x1A), the old end-of-file marker, is accepted only
/// as the very last character, which callers strip with [`strip_eof_marker`].
pub(crate) fn find_binary(text: &str) -> Option<(usize, char)> {
    let mut line = 1;
    for c in text.chars() {
        match c {
            '\n' => line += 1,
            '\t' | '\r' | '\u{0C}' => {}
            c if (c as u32) < 0x20 || c == '\u{7F}' => return Some((line, c)),
            _ => {}
        }
    }
    None
}

/// Drop a trailing Ctrl-Z end-of-file marker (and anything after it would be binary).
pub(crate) fn strip_eof_marker(text: &str) -> &str {
    text.strip_suffix('\u{1A}').unwrap_or(text)
}

/// The 1-based line of byte offset `offset` in `text` (clamped to the text).
pub(crate) fn line_of_offset(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_told_apart() {
        let (s, e) = decode(b"\xFF\xFEa\0b\0");
        assert_eq!((s.as_str(), e), ("ab", TextEncoding::Utf16LeBom));
        let (s, e) = decode(b"a\0b\0c\0");
        assert_eq!((s.as_str(), e), ("abc", TextEncoding::Utf16Le));
        let (s, e) = decode(b"\xEF\xBB\xBFx\xC3\xA9");
        assert_eq!((s.as_str(), e), ("x\u{e9}", TextEncoding::Utf8Bom));
        let (s, e) = decode(b"caf\xE9 \x80 \x96 \x93 \x81");
        assert_eq!(
            (s.as_str(), e),
            (
                "caf\u{e9} \u{20AC} \u{2013} \u{201C} \u{81}",
                TextEncoding::Windows1252
            )
        );
    }

    #[test]
    fn binary_is_found_with_its_line() {
        assert_eq!(find_binary("a\nb\0"), Some((2, '\0')));
        assert_eq!(find_binary("a\tb\r\n\u{0C}"), None);
        assert_eq!(strip_eof_marker("a\u{1A}"), "a");
    }
}
