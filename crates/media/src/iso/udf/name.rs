//! OSTA CS0 strings: a compression byte (8 = one byte per character,
//! 16 = big-endian UTF-16) followed by the characters.

use super::super::bytes::{latin1, utf16be};

/// Decodes a file identifier; `None` for an unknown compression id.
pub(crate) fn cs0(b: &[u8]) -> Option<String> {
    let (&id, rest) = b.split_first()?;
    match id {
        // 254 and 255 are the UDF 2.50+ forms used for deleted entries; they
        // encode characters the same way as 8 and 16.
        8 | 254 => Some(latin1(rest)),
        16 | 255 => Some(utf16be(rest)),
        _ => None,
    }
}

/// Decodes a fixed-size `dstring` field, whose last byte holds the used length.
pub(crate) fn dstring(field: &[u8]) -> String {
    let Some((&used, body)) = field.split_last() else {
        return String::new();
    };
    let used = usize::from(used).min(body.len());
    cs0(&body[..used])
        .unwrap_or_default()
        .trim_end_matches('\0')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::{cs0, dstring};

    #[test]
    fn cs0_forms() {
        assert_eq!(cs0(b"\x08abc").as_deref(), Some("abc"));
        assert_eq!(cs0(b"\x08\xe9").as_deref(), Some("é"));
        assert_eq!(cs0(b"\x10\x30\xd5\x00a").as_deref(), Some("フa"));
        assert_eq!(cs0(b"\x10\xd8\x00").as_deref(), Some("\u{fffd}"));
        assert_eq!(cs0(b"\x07abc"), None);
        assert_eq!(cs0(b""), None);
    }

    #[test]
    fn dstring_uses_the_length_byte() {
        let mut f = [0u8; 32];
        f[..4].copy_from_slice(b"\x08WIN");
        f[31] = 4;
        assert_eq!(dstring(&f), "WIN");
        f[31] = 200; // longer than the field: clamp, never panic
        assert_eq!(dstring(&f), "WIN");
        assert_eq!(dstring(&[]), "");
    }
}
