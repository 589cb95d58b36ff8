//! Image property names: validation before they reach libwim, and turning the raw
//! property strings into an [`ImageInfo`].

use crate::error::{Result, WimError};
use crate::types::ImageInfo;

/// Check that `name` is a property path libwim can store and read back.
///
/// Accepted: one or more segments separated by single '/', each an XML name
/// (`[A-Za-z_][A-Za-z0-9_.-]*`) optionally followed by a 1-based index such as `[2]`.
/// Rejected: empty names, leading/trailing/double '/', spaces, NUL, any other
/// character, and indexes that are empty, zero, or have a leading zero.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let bad = || WimError::InvalidPropertyName(name.to_owned());
    if name.is_empty() {
        return Err(bad());
    }
    for segment in name.split('/') {
        if !valid_segment(segment) {
            return Err(bad());
        }
    }
    Ok(())
}

fn valid_segment(segment: &str) -> bool {
    let (base, index) = match segment.find('[') {
        Some(open) => {
            let Some(inner) = segment[open + 1..].strip_suffix(']') else {
                return false;
            };
            (&segment[..open], Some(inner))
        }
        None => (segment, None),
    };
    let mut chars = base.chars();
    let first_ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    let index_ok = match index {
        None => true,
        Some(digits) => {
            !digits.is_empty()
                && !digits.starts_with('0')
                && digits.chars().all(|c| c.is_ascii_digit())
        }
    };
    first_ok && rest_ok && index_ok
}

/// Check a property value: libwim takes a C string, so NUL is impossible.
pub(crate) fn validate_value(value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(WimError::InvalidArgument(
            "property value contains a NUL byte".to_owned(),
        ));
    }
    Ok(())
}

fn number<T: std::str::FromStr>(raw: Option<&str>) -> Option<T> {
    let s = raw?.trim();
    // wimlib writes decimal; accept a 0x prefix too, as some tools write hex.
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16)
            .ok()
            .and_then(|v| v.to_string().parse().ok());
    }
    s.parse().ok()
}

/// Build an [`ImageInfo`] from a property lookup (`get(name)` returns the raw value).
/// Languages are read as LANGUAGE, LANGUAGE[2], ... until one is missing.
pub(crate) fn image_info_from(
    index: u32,
    mut get: impl FnMut(&str) -> Option<String>,
) -> ImageInfo {
    let num_u32 = |v: Option<String>| number::<u32>(v.as_deref());
    let num_u64 = |v: Option<String>| number::<u64>(v.as_deref());

    let version = {
        let major = num_u32(get("WINDOWS/VERSION/MAJOR"));
        let minor = num_u32(get("WINDOWS/VERSION/MINOR"));
        let build = num_u32(get("WINDOWS/VERSION/BUILD"));
        let sp = get("WINDOWS/VERSION/SPBUILD");
        let sp = match sp {
            None => Some(0),
            Some(s) => number::<u32>(Some(&s)),
        };
        match (major, minor, build, sp) {
            (Some(a), Some(b), Some(c), Some(d)) => Some((a, b, c, d)),
            _ => None,
        }
    };

    let mut languages = Vec::new();
    // The list is tiny in practice; the bound only guards against a hostile XML.
    for i in 1..=1024u32 {
        let name = if i == 1 {
            "WINDOWS/LANGUAGES/LANGUAGE".to_owned()
        } else {
            format!("WINDOWS/LANGUAGES/LANGUAGE[{i}]")
        };
        match get(&name) {
            Some(lang) => languages.push(lang),
            None => break,
        }
    }

    ImageInfo {
        index,
        name: get("NAME"),
        description: get("DESCRIPTION"),
        display_name: get("DISPLAYNAME"),
        flags: get("FLAGS"),
        arch: num_u32(get("WINDOWS/ARCH")),
        product_name: get("WINDOWS/PRODUCTNAME"),
        edition_id: get("WINDOWS/EDITIONID"),
        installation_type: get("WINDOWS/INSTALLATIONTYPE"),
        version,
        languages,
        default_language: get("WINDOWS/LANGUAGES/DEFAULT"),
        total_bytes: num_u64(get("TOTALBYTES")),
        file_count: num_u64(get("FILECOUNT")),
        dir_count: num_u64(get("DIRCOUNT")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn good_names_are_accepted() {
        for n in [
            "NAME",
            "WINDOWS/ARCH",
            "WINDOWS/VERSION/BUILD",
            "WINDOWS/LANGUAGES/LANGUAGE[2]",
            "_a.b-c",
            "A[10]/B",
        ] {
            assert!(validate_name(n).is_ok(), "{n}");
        }
    }

    #[test]
    fn bad_names_are_rejected() {
        for n in [
            "", "/NAME", "NAME/", "A//B", "A B", "1ABC", "A<B", "NAME\0", "A[0]", "A[]", "A[01]",
            "A[2", "A]", "A[x]", "A[1]B", "-A", ".A", "Ä", " NAME",
        ] {
            assert!(
                matches!(validate_name(n), Err(WimError::InvalidPropertyName(_))),
                "{n:?}"
            );
        }
    }

    #[test]
    fn unparsable_numbers_become_none() {
        let props: HashMap<&str, &str> = [
            ("WINDOWS/ARCH", "x64"),
            ("TOTALBYTES", "12"),
            ("FILECOUNT", "-1"),
            ("WINDOWS/VERSION/MAJOR", "10"),
            ("WINDOWS/VERSION/MINOR", "0"),
            ("WINDOWS/VERSION/BUILD", "26100"),
            ("WINDOWS/LANGUAGES/LANGUAGE", "en-US"),
            ("WINDOWS/LANGUAGES/LANGUAGE[2]", "de-DE"),
        ]
        .into_iter()
        .collect();
        let info = image_info_from(1, |n| props.get(n).map(|s| (*s).to_owned()));
        assert_eq!(info.arch, None);
        assert_eq!(info.total_bytes, Some(12));
        assert_eq!(info.file_count, None);
        assert_eq!(info.version, Some((10, 0, 26100, 0)));
        assert_eq!(info.languages, vec!["en-US".to_owned(), "de-DE".to_owned()]);
    }
}
