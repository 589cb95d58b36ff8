//! Volume label rules.
//!
//! The ISO 9660 volume identifier is a 32-byte field. The UDF volume identifier is a
//! 32-byte dstring, which leaves 30 characters (one byte for the encoding, one for the
//! length); genisoimage silently cuts a longer label there, and Windows shows the UDF
//! label, so with UDF the limit is 30. Characters are limited to what Windows media
//! labels use (`CCCOMA_X64FRE_EN-US_DV9`): ASCII letters, digits, `_`, `-` and `.`.
//! Anything else (spaces, quotes, non-ASCII) is refused rather than mangled.

use super::error::AuthorError;

/// Longest label an ISO 9660-only image can carry.
pub const MAX_LABEL_ISO9660: usize = 32;
/// Longest label when a UDF file system is written as well.
pub const MAX_LABEL_UDF: usize = 30;

/// Check `label` for an image with (`udf = true`) or without a UDF file system.
pub fn validate_label(label: &str, udf: bool) -> Result<(), AuthorError> {
    let invalid = |reason: String| AuthorError::InvalidLabel {
        label: label.to_owned(),
        reason,
    };
    if label.is_empty() {
        return Err(invalid("the label is empty".to_owned()));
    }
    let max = if udf {
        MAX_LABEL_UDF
    } else {
        MAX_LABEL_ISO9660
    };
    let count = label.chars().count();
    if count > max {
        let fs = if udf { "UDF" } else { "ISO 9660" };
        return Err(invalid(format!(
            "{count} characters; the {fs} volume label holds at most {max}"
        )));
    }
    if let Some(bad) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(invalid(format!(
            "character {bad:?} is not allowed (use A-Z, a-z, 0-9, '_', '-', '.')"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_style_labels_pass() {
        validate_label("CCCOMA_X64FRE_EN-US_DV9", true).expect("valid");
        validate_label("WIN11_24H2.X64", false).expect("valid");
        validate_label(&"A".repeat(30), true).expect("30 fits UDF");
        validate_label(&"A".repeat(32), false).expect("32 fits ISO 9660");
    }

    #[test]
    fn bad_labels_are_typed_errors() {
        for (label, udf) in [
            ("", true),
            (&*"A".repeat(31), true),
            (&*"A".repeat(33), false),
            ("HAS SPACE", true),
            ("QUOTE\"", true),
            ("ÜMLAUT", true),
        ] {
            match validate_label(label, udf) {
                Err(AuthorError::InvalidLabel { label: l, reason }) => {
                    assert_eq!(l, label);
                    assert!(!reason.is_empty());
                }
                other => panic!("{label:?}: expected InvalidLabel, got {other:?}"),
            }
        }
    }
}
